// <volume> <-> StorageVolDef: virStorageVolDefParseXML's checks and
// virStorageVolDefFormat's layout.
#include "xml/storage_vol_xml.h"

#include "xml/byte_size.h"
#include "xml/open_close_pair.h"
#include "xml/storage_internal.h"

#include <algorithm>
#include <set>

namespace virtbus::xml {

namespace {

using namespace storagedetail;

const PoolTypeInfo& poolInfo(std::string_view poolType)
{
    const PoolTypeInfo* info = poolTypeInfo(poolType);
    if (!info)
        throw storageError(ErrCode::ConfigUnsupported, "unknown storage pool type " + std::string(poolType));
    return *info;
}

void checkName(const std::string& name)
{
    if (name.empty())
        throw storageXml("missing volume name element");
    // Directory pools make the name a file name in the pool directory; it
    // must not escape to another directory.
    if (name.find('/') != std::string::npos)
        throw storageError(ErrCode::OperationInvalid, "volume name '" + name + "' cannot contain '/'");
    if (name == "." || name == "..")
        throw storageError(ErrCode::OperationInvalid, "volume name '" + name + "' is not allowed");
}

// The format element of a target or backing store, read with the pool's
// volume formats; pools without any ignore it, as libvirt does.
std::string parseFormat(const PoolTypeInfo& info, const xmlNode* parent)
{
    if (!info.volFormats)
        return {};
    const xmlNode* f = singleChild(parent, "format");
    if (!f)
        return std::string(info.volFormats->defaultFormat);
    std::string type = attrOr(f, "type");
    if (!info.volFormats->accepts(type))
        throw storageError(ErrCode::ConfigUnsupported, "unknown volume format type " + type);
    return type;
}

// libvirt accepts "<major>.<minor>" qcow2 compatibility levels.
void checkCompat(const std::string& compat)
{
    size_t dot = compat.find('.');
    auto digits
        = [](std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; };
    if (dot == std::string::npos || !digits(std::string_view(compat).substr(0, dot))
        || !digits(std::string_view(compat).substr(dot + 1)))
        throw storageXml("forbidden compat option: " + compat);
}

void parseTarget(const PoolTypeInfo& info, const xmlNode* n, StorageVolDef& def)
{
    def.targetExtra.attrs = otherAttrs(n, {});
    std::set<std::string> seen;
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        bool known = true;
        if (name == "path") {
            def.targetPath = textOf(c);
        } else if (name == "format") {
            def.format = parseFormat(info, n);
        } else if (name == "permissions") {
            def.perms = parsePerms(c);
        } else if (name == "timestamps") {
            def.timestamps = rawXml(c);
        } else if (name == "encryption") {
            if (attrOr(c, "format").empty())
                throw storageXml("missing encryption format in volume <target>");
            def.encryption = rawXml(c);
        } else if (name == "compat") {
            def.compat = textOf(c);
            checkCompat(def.compat);
        } else if (name == "nocow") {
            def.nocow = true;
        } else if (name == "clusterSize") {
            def.clusterSize = parseByteSize(textOf(c), attrOr(c, "unit"), "<clusterSize>");
        } else if (name == "features") {
            std::vector<std::string> features;
            for (const xmlNode* f : elementChildren(c)) {
                std::string fn = elemName(f);
                if (fn != "lazy_refcounts" && fn != "extended_l2")
                    throw storageError(ErrCode::ConfigUnsupported, "unsupported feature " + fn);
                if (std::find(features.begin(), features.end(), fn) == features.end())
                    features.push_back(fn);
            }
            def.features = std::move(features);
        } else {
            known = false;
            def.targetExtra.children.push_back(rawXml(c));
        }
        if (known && !seen.insert(name).second)
            throw storageXml("duplicate <" + name + "> element in volume <target>");
    }
    if (!seen.count("format"))
        def.format = parseFormat(info, n);
    // qcow2 features need the 1.1 format.
    if (def.features && def.compat.empty())
        def.compat = "1.1";
}

std::optional<StorageVolBackingStoreDef> parseBackingStore(const PoolTypeInfo& info, const xmlNode* n)
{
    StorageVolBackingStoreDef b;
    if (const xmlNode* p = singleChild(n, "path"))
        b.path = textOf(p);
    if (b.path.empty())
        return std::nullopt; // libvirt ignores a backing store without a path
    b.format = parseFormat(info, n);
    if (const xmlNode* perms = singleChild(n, "permissions"))
        b.perms = parsePerms(perms);
    if (const xmlNode* t = singleChild(n, "timestamps"))
        b.timestamps = rawXml(t);
    return b;
}

void sizeElement(XmlWriter& w, const char* name, uint64_t bytes, const char* unit = "bytes")
{
    w.open(name).attr("unit", unit).text(std::to_string(bytes)).close();
}

} // namespace

StorageVolDef parseStorageVolXML(std::string_view xml, std::string_view poolType, unsigned flags)
{
    checkFlags(flags, STORAGE_VOL_PARSE_NO_CAPACITY | STORAGE_VOL_PARSE_OPT_CAPACITY | STORAGE_VOL_PARSE_VALIDATE,
        "parseStorageVolXML");
    const PoolTypeInfo& info = poolInfo(poolType);
    XmlDoc doc = parseDocument(xml, "(storage_volume_definition)");
    const xmlNode* root = rootElement(doc, "volume");
    if (flags & STORAGE_VOL_PARSE_VALIDATE)
        validateSchema(doc, "storagevol.rng");

    StorageVolDef def;
    if (auto type = attr(root, "type")) {
        static constexpr std::string_view types[] = {"file", "block", "dir", "network", "netdir", "ploop"};
        if (std::find(std::begin(types), std::end(types), *type) == std::end(types))
            throw storageError(ErrCode::ConfigUnsupported, "unknown volume type '" + *type + "'");
        def.type = *type;
    }
    def.extra.attrs = otherAttrs(root, {"type"});

    bool haveCapacity = false;
    std::set<std::string> seen;
    for (const xmlNode* c : elementChildren(root)) {
        std::string name = elemName(c);
        bool known = true;
        if (name == "name") {
            def.name = textOf(c);
        } else if (name == "key") {
            def.key = textOf(c);
        } else if (name == "source") {
            if (!elementChildren(c).empty())
                def.source = rawXml(c);
        } else if (name == "capacity") {
            def.capacity = parseByteSize(textOf(c), attrOr(c, "unit"), "<capacity>");
            haveCapacity = true;
        } else if (name == "allocation") {
            def.allocation = parseByteSize(textOf(c), attrOr(c, "unit"), "<allocation>");
        } else if (name == "physical") {
            def.physical = parseByteSize(textOf(c), attrOr(c, "unit"), "<physical>");
        } else if (name == "target") {
            parseTarget(info, c, def);
        } else if (name == "backingStore") {
            def.backingStore = parseBackingStore(info, c);
        } else {
            known = false;
            def.extra.children.push_back(rawXml(c));
        }
        if (known && !seen.insert(name).second)
            throw storageXml("duplicate <" + name + "> element in <volume>");
    }
    checkName(def.name);
    if (!seen.count("target") && info.volFormats)
        def.format = info.volFormats->defaultFormat;
    bool capacityOptional
        = (flags & STORAGE_VOL_PARSE_NO_CAPACITY) || ((flags & STORAGE_VOL_PARSE_OPT_CAPACITY) && def.backingStore);
    if (!haveCapacity && !capacityOptional)
        throw storageXml("missing capacity element");
    return def;
}

std::string formatStorageVolXML(const StorageVolDef& def, std::string_view poolType)
{
    const PoolTypeInfo& info = poolInfo(poolType);
    XmlWriter w;
    w.open("volume").attr("type", def.type.empty() ? info.volumeType : def.type);
    w.attrs(def.extra.attrs);
    w.leaf("name", def.name);
    w.leafIf("key", def.key);
    w.raw(def.source);
    sizeElement(w, "capacity", def.capacity);
    sizeElement(w, "allocation", def.allocation.value_or(def.capacity));
    if (def.physical)
        sizeElement(w, "physical", def.physical);

    // libvirt writes <target> even when it is empty.
    writeOpenClosePair(w, "target", [&](XmlWriter& t) {
        t.attrs(def.targetExtra.attrs);
        t.leafIf("path", def.targetPath);
        if (info.volFormats && !def.format.empty())
            t.open("format").attr("type", def.format).close();
        formatPerms(t, def.perms);
        t.raw(def.timestamps);
        t.raw(def.encryption);
        t.leafIf("compat", def.compat);
        if (def.nocow)
            t.open("nocow").close();
        if (def.clusterSize)
            sizeElement(t, "clusterSize", def.clusterSize, "B");
        if (def.features) {
            t.open("features");
            for (const auto& f : *def.features)
                t.open(f).close();
            t.close();
        }
        t.raws(def.targetExtra.children);
    });

    if (def.backingStore) {
        const StorageVolBackingStoreDef& b = *def.backingStore;
        w.open("backingStore");
        w.leaf("path", b.path);
        if (info.volFormats && !b.format.empty())
            w.open("format").attr("type", b.format).close();
        formatPerms(w, b.perms);
        w.raw(b.timestamps);
        w.close();
    }
    w.raws(def.extra.children);
    w.close();
    return w.take();
}

} // namespace virtbus::xml
