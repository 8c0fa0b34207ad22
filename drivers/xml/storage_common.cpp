// libvirt's storage pool type table, <permissions>, and the capabilities
// document that publishes the table.
#include "xml/storage_internal.h"

#include "xml/open_close_pair.h"

#include <algorithm>
#include <charconv>

namespace virtbus::xml::storagedetail {

bool FormatEnum::accepts(std::string_view f) const
{
    return f != refused && std::find(values.begin(), values.end(), f) != values.end();
}

namespace {

// virStorageFileFormat; "none" is only a placeholder for "not probed".
const FormatEnum kFileFormats {"raw",
    {"none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "cow", "qcow", "qcow2",
        "qed", "vmdk"},
    "none"};
const FormatEnum kFsFormats {"auto",
    {"auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat", "hfs+", "xfs", "ocfs2", "vmfs"},
    {}};
const FormatEnum kNetfsFormats {"auto", {"auto", "nfs", "glusterfs", "cifs"}, {}};
const FormatEnum kDiskFormats {"unknown", {"unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2"}, {}};
const FormatEnum kLogicalFormats {"lvm2", {"unknown", "lvm2"}, {}};
const FormatEnum kPartitionFormats {
    "none", {"none", "linux", "fat16", "fat32", "linux-swap", "linux-lvm", "linux-raid", "extended"}, {}};

} // namespace

const std::vector<PoolTypeInfo>& poolTypeTable()
{
    static const std::vector<PoolTypeInfo> table = {
        {"dir", 0, nullptr, &kFileFormats, true, "file"},
        {"fs", SRC_DEVICE, &kFsFormats, &kFileFormats, true, "file"},
        {"netfs", SRC_HOST | SRC_DIR, &kNetfsFormats, &kFileFormats, true, "file"},
        {"logical", SRC_NAME | SRC_DEVICE, &kLogicalFormats, nullptr, false, "block"},
        {"disk", SRC_DEVICE, &kDiskFormats, &kPartitionFormats, true, "block"},
        {"iscsi", SRC_HOST | SRC_DEVICE | SRC_INITIATOR, nullptr, nullptr, false, "block"},
        {"iscsi-direct", SRC_HOST | SRC_DEVICE | SRC_NETWORK | SRC_INITIATOR, nullptr, nullptr, false, "network"},
        {"scsi", SRC_ADAPTER, nullptr, nullptr, false, "block"},
        {"mpath", 0, nullptr, nullptr, false, "block"},
        // libvirt accepts every file format for RBD volumes but lists none.
        {"rbd", SRC_HOST | SRC_NETWORK | SRC_NAME, nullptr, &kFileFormats, false, "network"},
        {"gluster", SRC_HOST | SRC_NETWORK | SRC_NAME | SRC_DIR, nullptr, &kFileFormats, true, "file"},
        {"zfs", SRC_NAME | SRC_DEVICE, nullptr, nullptr, false, "block"},
        {"vstorage", SRC_NAME, nullptr, &kFileFormats, true, "file"},
    };
    return table;
}

const PoolTypeInfo* poolTypeInfo(std::string_view type)
{
    for (const auto& info : poolTypeTable())
        if (info.type == type)
            return &info;
    return nullptr;
}

VirtError storageError(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Storage, detail); }

const xmlNode* singleChild(const xmlNode* n, std::string_view name)
{
    const xmlNode* found = nullptr;
    for (const xmlNode* c : elementChildren(n)) {
        if (elemName(c) != name)
            continue;
        if (found)
            throw storageXml("duplicate <" + std::string(name) + "> element in <" + elemName(n) + ">");
        found = c;
    }
    return found;
}

StoragePermsDef parsePerms(const xmlNode* n)
{
    StoragePermsDef p;
    if (const xmlNode* m = singleChild(n, "mode")) {
        std::string text = textOf(m);
        unsigned mode = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || mode > 0777)
            throw storageXml("malformed octal mode '" + text + "' in <permissions>");
        p.mode = mode;
    }
    // libvirt once wrote -1 for "unset" and still reads it that way.
    auto id = [&](const char* name) -> std::optional<int64_t> {
        const xmlNode* c = singleChild(n, name);
        if (!c)
            return std::nullopt;
        std::string text = textOf(c);
        int64_t v = 0;
        bool ok = true;
        try {
            v = parseI64(text, name);
        } catch (const VirtError&) {
            ok = false;
        }
        if (!ok || v < -1 || v > int64_t {UINT32_MAX} - 1)
            throw storageXml("malformed " + std::string(name) + " element '" + text + "'");
        return v == -1 ? std::nullopt : std::optional<int64_t>(v);
    };
    p.owner = id("owner");
    p.group = id("group");
    if (const xmlNode* l = singleChild(n, "label"))
        p.label = textOf(l);
    return p;
}

void formatPerms(XmlWriter& w, const StoragePermsDef& p)
{
    if (p.empty())
        return;
    w.open("permissions");
    if (p.mode) {
        char buf[16];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *p.mode, 8);
        (void)ec;
        w.leaf("mode", "0" + std::string(buf, end));
    }
    if (p.owner)
        w.leaf("owner", std::to_string(*p.owner));
    if (p.group)
        w.leaf("group", std::to_string(*p.group));
    w.leafIf("label", p.label);
    w.close();
}

} // namespace virtbus::xml::storagedetail

namespace virtbus::xml {

using namespace storagedetail;

const std::vector<std::string>& storagePoolTypes()
{
    static const std::vector<std::string> types = [] {
        std::vector<std::string> out;
        for (const auto& info : poolTypeTable())
            out.emplace_back(info.type);
        return out;
    }();
    return types;
}

bool isStoragePoolType(std::string_view type) { return poolTypeInfo(type) != nullptr; }

namespace {

void formatOptions(XmlWriter& w, const char* element, const char* enumName, const FormatEnum& formats, bool listValues)
{
    w.open(element);
    w.open("defaultFormat").attr("type", formats.defaultFormat).close();
    writeOpenClosePair(w, "enum", [&](XmlWriter& e) {
        e.attr("name", enumName);
        if (listValues)
            for (auto v : formats.values)
                e.leaf("value", v);
    });
    w.close();
}

} // namespace

std::string formatStoragePoolCapabilitiesXML(const std::vector<std::string>& supported)
{
    XmlWriter w;
    writeOpenClosePair(w, "storagepoolCapabilities", [&](XmlWriter& caps) {
        for (const auto& info : poolTypeTable()) {
            bool yes = std::find(supported.begin(), supported.end(), info.type) != supported.end();
            writeOpenClosePair(caps, "pool", [&](XmlWriter& pool) {
                pool.attr("type", info.type).attr("supported", yes ? "yes" : "no");
                if (info.poolFormats)
                    formatOptions(pool, "poolOptions", "sourceFormatType", *info.poolFormats, true);
                if (info.volFormats)
                    formatOptions(pool, "volOptions", "targetFormatType", *info.volFormats, info.listVolFormats);
            });
        }
    });
    return w.take();
}

} // namespace virtbus::xml
