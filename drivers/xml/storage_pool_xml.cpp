// <pool>, <source> and <sources>: virStoragePoolDefParseXML's checks and
// virStoragePoolDefFormat's layout, driven by the per-type table in
// storage_common.cpp.
#include "xml/byte_size.h"
#include "xml/open_close_pair.h"
#include "xml/storage_internal.h"

#include <set>

namespace virtbus::xml {

namespace {

using namespace storagedetail;

VirtError storageConfig(std::string_view detail) { return storageError(ErrCode::ConfigUnsupported, detail); }

// virFileSanitizePath: no repeated or trailing slashes, except that a
// leading "//" means something to POSIX and stays.
std::string sanitizePath(std::string_view path)
{
    std::string out;
    size_t i = 0;
    if (path.size() > 2 && path[0] == '/' && path[1] == '/' && path[2] != '/') {
        out = "//";
        i = 2;
    }
    for (; i < path.size(); ++i) {
        if (path[i] == '/' && !out.empty() && out.back() == '/')
            continue;
        out += path[i];
    }
    while (out.size() > 1 && out.back() == '/')
        out.pop_back();
    return out;
}

std::string yesNoAttr(const xmlNode* n, const char* name)
{
    std::string v = attrOr(n, name);
    if (!v.empty() && v != "yes" && v != "no")
        throw storageConfig("invalid " + std::string(name) + " setting '" + v + "'");
    return v;
}

StoragePoolSourceDevice parseDevice(const xmlNode* n)
{
    StoragePoolSourceDevice d;
    auto path = attr(n, "path");
    if (!path)
        throw storageXml("missing storage pool source device path");
    d.path = *path;
    d.partSeparator = yesNoAttr(n, "part_separator");
    for (const xmlNode* c : elementChildren(n)) {
        if (elemName(c) != "freeExtent")
            continue;
        d.freeExtents.push_back(
            {parseU64(attrOr(c, "start"), "<freeExtent start>"), parseU64(attrOr(c, "end"), "<freeExtent end>")});
    }
    return d;
}

StoragePoolSourceDef parseSource(const PoolTypeInfo& info, const xmlNode* n)
{
    StoragePoolSourceDef src;
    src.extra.attrs = otherAttrs(n, {});
    std::set<std::string> seen;
    std::string format;
    bool haveFormat = false;
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        static const std::set<std::string> singles
            = {"dir", "adapter", "name", "format", "auth", "initiator", "protocol", "vendor", "product"};
        if (singles.count(name) && !seen.insert(name).second)
            throw storageXml("duplicate <" + name + "> element in pool <source>");
        if (name == "host") {
            StoragePoolSourceHost h;
            auto hostName = attr(c, "name");
            if (!hostName)
                throw storageXml("missing storage pool host name");
            h.name = *hostName;
            if (auto port = attr(c, "port")) {
                try {
                    h.port = parseUInt(*port, "<host port>");
                } catch (const VirtError&) {
                    throw storageXml("Invalid port number: " + *port);
                }
                if (h.port > 65535)
                    throw storageXml("Invalid port number: " + *port);
            }
            src.hosts.push_back(std::move(h));
        } else if (name == "device") {
            src.devices.push_back(parseDevice(c));
        } else if (name == "dir") {
            src.dir = sanitizePath(attrOr(c, "path"));
        } else if (name == "adapter") {
            if (attrOr(c, "type").empty() && attrOr(c, "name").empty())
                throw storageXml("missing storage pool source adapter type");
            src.adapter = rawXml(c);
        } else if (name == "name") {
            src.name = textOf(c);
        } else if (name == "format") {
            format = attrOr(c, "type");
            haveFormat = true;
        } else if (name == "auth") {
            if (attrOr(c, "type").empty())
                throw storageConfig("storage pool missing auth type");
            src.auth = rawXml(c);
        } else if (name == "initiator") {
            src.initiator = rawXml(c);
        } else if (name == "protocol") {
            std::string ver = attrOr(c, "ver");
            try {
                src.protocolVer = parseUInt(ver, "<protocol ver>");
            } catch (const VirtError&) {
                throw storageXml("storage pool protocol ver '" + ver + "' is malformed");
            }
        } else if (name == "vendor") {
            src.vendor = attrOr(c, "name");
        } else if (name == "product") {
            src.product = attrOr(c, "name");
        } else {
            src.extra.children.push_back(rawXml(c));
        }
    }
    if (info.type == "rbd" && src.name.empty())
        throw storageXml("element 'name' is mandatory for RBD pool");
    if (info.poolFormats) {
        src.format = haveFormat ? format : std::string(info.poolFormats->defaultFormat);
        if (!info.poolFormats->accepts(src.format))
            throw storageConfig("unknown pool format type " + src.format);
    }
    if (src.protocolVer && src.format != "nfs" && src.format != "auto")
        throw storageConfig("storage pool protocol ver unsupported for pool type '" + src.format + "'");
    // In gluster a missing directory is the volume's root.
    if (info.type == "gluster" && src.dir.empty())
        src.dir = "/";
    return src;
}

void checkAbsolute(const std::string& path)
{
    if (path.empty() || path.front() != '/')
        throw storageXml("storage pool target path '" + path + "' must be absolute");
}

void parseTarget(const PoolTypeInfo& info, const xmlNode* target, StoragePoolDef& def)
{
    std::string given;
    if (target) {
        if (const xmlNode* p = singleChild(target, "path")) {
            given = textOf(p);
            checkAbsolute(given);
        }
        if (const xmlNode* perms = singleChild(target, "permissions"))
            def.targetPerms = parsePerms(perms);
    }
    // Volume groups and ZFS pools live where their tools put them.
    if (info.type == "logical")
        def.targetPath = "/dev/" + def.source.name;
    else if (info.type == "zfs")
        def.targetPath = "/dev/zvol/" + def.source.name;
    else if (given.empty())
        throw storageXml("missing storage pool target path");
    else
        def.targetPath = given;
    def.targetPath = sanitizePath(def.targetPath);
}

void checkRequiredSource(const PoolTypeInfo& info, StoragePoolDef& def)
{
    StoragePoolSourceDef& src = def.source;
    if ((info.flags & SRC_HOST) && src.hosts.empty())
        throw storageXml("missing storage pool source host name");
    if ((info.flags & SRC_DIR) && src.dir.empty())
        throw storageXml("missing storage pool source path");
    if ((info.flags & SRC_NAME) && src.name.empty())
        src.name = def.name; // the source name defaults to the pool's
    if ((info.flags & SRC_ADAPTER) && src.adapter.empty())
        throw storageXml("missing storage pool source adapter");
    // Where a device is all a type's source has, or the iSCSI target
    // must be named, there is nothing to use without one.
    if ((info.flags == SRC_DEVICE || info.type == "iscsi") && src.devices.empty())
        throw storageXml("missing storage pool source device name");
    if (info.type == "iscsi-direct" && src.initiator.empty())
        throw storageConfig("missing initiator IQN");
}

void formatSource(XmlWriter& out, const PoolTypeInfo& info, const StoragePoolSourceDef& src)
{
    writeOpenClosePair(out, "source", [&](XmlWriter& w) {
        w.attrs(src.extra.attrs);
        if (info.flags & SRC_HOST) {
            for (const auto& h : src.hosts) {
                w.open("host").attr("name", h.name);
                if (h.port)
                    w.attr("port", std::to_string(h.port));
                w.close();
            }
        }
        if (info.flags & SRC_DEVICE) {
            for (const auto& d : src.devices) {
                w.open("device").attr("path", d.path).attrIf("part_separator", d.partSeparator);
                for (const auto& e : d.freeExtents)
                    w.open("freeExtent")
                        .attr("start", std::to_string(e.start))
                        .attr("end", std::to_string(e.end))
                        .close();
                w.close();
            }
        }
        if ((info.flags & SRC_DIR) && !src.dir.empty())
            w.open("dir").attr("path", src.dir).close();
        if (info.flags & SRC_ADAPTER)
            w.raw(src.adapter);
        if (info.flags & SRC_NAME)
            w.leafIf("name", src.name);
        if (info.flags & SRC_INITIATOR)
            w.raw(src.initiator);
        if (info.poolFormats && !src.format.empty())
            w.open("format").attr("type", src.format).close();
        w.raw(src.auth);
        if (src.protocolVer)
            w.open("protocol").attr("ver", std::to_string(src.protocolVer)).close();
        if (!src.vendor.empty())
            w.open("vendor").attr("name", src.vendor).close();
        if (!src.product.empty())
            w.open("product").attr("name", src.product).close();
        w.raws(src.extra.children);
    });
}

const PoolTypeInfo& typeInfoOrThrow(std::string_view type)
{
    const PoolTypeInfo* info = poolTypeInfo(type);
    if (!info)
        throw storageConfig("unknown storage pool type " + std::string(type));
    return *info;
}

} // namespace

StoragePoolDef parseStoragePoolXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, STORAGE_POOL_PARSE_VALIDATE, "parseStoragePoolXML");
    XmlDoc doc = parseDocument(xml, "(storage_pool_definition)");
    const xmlNode* root = rootElement(doc, "pool");
    if (flags & STORAGE_POOL_PARSE_VALIDATE)
        validateSchema(doc, "storagepool.rng");

    StoragePoolDef def;
    auto type = attr(root, "type");
    if (!type)
        throw storageXml("storage pool missing type attribute");
    const PoolTypeInfo& info = typeInfoOrThrow(*type);
    def.type = *type;
    def.extra.attrs = otherAttrs(root, {"type"});

    const xmlNode* target = nullptr;
    bool haveSource = false;
    std::set<std::string> seen;
    for (const xmlNode* c : elementChildren(root)) {
        std::string name = elemName(c);
        bool known = true;
        if (name == "name") {
            def.name = textOf(c);
        } else if (name == "uuid") {
            std::string u = textOf(c);
            if (!isValidUUID(u))
                throw storageXml("malformed uuid element '" + u + "'");
            def.uuid = normalizeUUID(u);
        } else if (name == "capacity" || name == "allocation" || name == "available") {
            uint64_t& slot = name == "capacity" ? def.capacity : name == "allocation" ? def.allocation : def.available;
            slot = parseByteSize(textOf(c), attrOr(c, "unit"), "<" + name + ">");
        } else if (name == "source") {
            def.source = parseSource(info, c);
            haveSource = true;
        } else if (name == "target") {
            target = c;
        } else if (name == "features") {
            def.features = rawXml(c);
        } else if (name == "refresh") {
            def.refresh = rawXml(c);
        } else {
            known = false;
            def.extra.children.push_back(rawXml(c));
        }
        if (known && !seen.insert(name).second)
            throw storageXml("duplicate <" + name + "> element in <pool>");
    }
    if (!haveSource && info.poolFormats)
        def.source.format = info.poolFormats->defaultFormat;

    if (def.name.empty() && (info.flags & SRC_NAME))
        def.name = def.source.name;
    if (def.name.empty())
        throw storageXml("missing pool source name element");
    if (def.name.find('/') != std::string::npos)
        throw storageXml("name " + def.name + " cannot contain '/'");
    if (def.uuid.empty())
        def.uuid = generateUUID();
    checkRequiredSource(info, def);
    if (!(info.flags & SRC_NETWORK))
        parseTarget(info, target, def);
    return def;
}

std::string formatStoragePoolXML(const StoragePoolDef& def)
{
    const PoolTypeInfo& info = typeInfoOrThrow(def.type);
    XmlWriter w;
    w.open("pool").attr("type", def.type);
    w.attrs(def.extra.attrs);
    w.leaf("name", def.name);
    w.leaf("uuid", def.uuid);
    w.open("capacity").attr("unit", "bytes").text(std::to_string(def.capacity)).close();
    w.open("allocation").attr("unit", "bytes").text(std::to_string(def.allocation)).close();
    w.open("available").attr("unit", "bytes").text(std::to_string(def.available)).close();
    w.raw(def.features);
    formatSource(w, info, def.source);
    // Network pools have no local target.
    if (!(info.flags & SRC_NETWORK)) {
        w.open("target");
        w.leafIf("path", def.targetPath);
        formatPerms(w, def.targetPerms);
        w.close();
    }
    w.raw(def.refresh);
    w.raws(def.extra.children);
    w.close();
    return w.take();
}

StoragePoolSourceDef parseStoragePoolSourceXML(std::string_view xml, std::string_view poolType)
{
    const PoolTypeInfo& info = typeInfoOrThrow(poolType);
    XmlDoc doc = parseDocument(xml, "(storage_source_specification)");
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root || elemName(root) != "source")
        throw storageXml("root element was not source");
    return parseSource(info, root);
}

std::string formatStoragePoolSourcesXML(std::string_view poolType, const std::vector<StoragePoolSourceDef>& sources)
{
    const PoolTypeInfo& info = typeInfoOrThrow(poolType);
    XmlWriter w;
    writeOpenClosePair(w, "sources", [&](XmlWriter& list) {
        for (const auto& src : sources)
            formatSource(list, info, src);
    });
    return w.take();
}

} // namespace virtbus::xml
