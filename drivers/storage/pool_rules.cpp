#include "storage/pool_rules.h"

#include "xml/xml_util.h"

#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

namespace virtbus::storage {

namespace {

enum : uint32_t {
    kListInactive = 1u << 0,
    kListActive = 1u << 1,
    kListPersistent = 1u << 2,
    kListTransient = 1u << 3,
    kListAutostart = 1u << 4,
    kListNoAutostart = 1u << 5,
};

// The per-type flags, from VIR_CONNECT_LIST_STORAGE_POOLS_DIR (1 << 6) on,
// in libvirt's order. sheepdog (1 << 15) is gone from libvirt 9.0's pool
// types but its flag is still accepted; it matches nothing.
constexpr std::pair<const char*, uint32_t> kTypeFlags[] = {
    {"dir", 1u << 6},
    {"fs", 1u << 7},
    {"netfs", 1u << 8},
    {"logical", 1u << 9},
    {"disk", 1u << 10},
    {"iscsi", 1u << 11},
    {"scsi", 1u << 12},
    {"mpath", 1u << 13},
    {"rbd", 1u << 14},
    {"sheepdog", 1u << 15},
    {"gluster", 1u << 16},
    {"zfs", 1u << 17},
    {"vstorage", 1u << 18},
    {"iscsi-direct", 1u << 19},
};
constexpr uint32_t kListTypes = kPoolListAll & ~((1u << 6) - 1);

bool isOneOf(const std::string& s, std::initializer_list<std::string_view> list)
{
    for (auto v : list)
        if (s == v)
            return true;
    return false;
}

// virStoragePoolSourceMatchSingleHost.
bool sameSingleHost(const xml::StoragePoolSourceDef& pool, const xml::StoragePoolSourceDef& def)
{
    if (pool.hosts.empty() || def.hosts.empty())
        return false;
    if (pool.hosts.size() != 1 && def.hosts.size() != 1)
        return false;
    if (def.hosts[0].port && pool.hosts[0].port != def.hosts[0].port)
        return false;
    return pool.hosts[0].name == def.hosts[0].name;
}

// virStoragePoolSourceFindDuplicateDevices: any source device in common.
bool shareDevice(const xml::StoragePoolSourceDef& a, const xml::StoragePoolSourceDef& b)
{
    for (const auto& da : a.devices)
        for (const auto& db : b.devices)
            if (da.path == db.path)
                return true;
    return false;
}

// Attributes of the first element named `child` (or of the root when
// `child` is empty) in a raw element the model keeps verbatim.
std::optional<xml::XmlAttrs> rawAttrs(const std::string& raw, std::string_view child = {})
{
    if (raw.empty())
        return std::nullopt;
    xml::XmlDoc doc = xml::parseDocument(raw, "(storage_source)");
    const xmlNode* n = xmlDocGetRootElement(doc.get());
    if (!child.empty()) {
        const xmlNode* found = nullptr;
        for (const xmlNode* c : xml::elementChildren(n))
            if (xml::elemName(c) == child && !found)
                found = c;
        n = found;
    }
    if (!n)
        return std::nullopt;
    return xml::otherAttrs(n, {});
}

std::string attrIn(const std::optional<xml::XmlAttrs>& attrs, std::string_view name)
{
    if (attrs)
        for (const auto& [k, v] : *attrs)
            if (k == name)
                return v;
    return {};
}

// virStorageSourceISCSIMatch: the same initiator IQN (or none on both).
bool sameInitiator(const xml::StoragePoolSourceDef& a, const xml::StoragePoolSourceDef& b)
{
    return attrIn(rawAttrs(a.initiator, "iqn"), "name") == attrIn(rawAttrs(b.initiator, "iqn"), "name");
}

// virSCSIHostGetNumber: "scsi_host5" or "host5" -> 5.
std::optional<std::string> scsiHostNumber(std::string name)
{
    if (name.rfind("scsi_", 0) == 0)
        name.erase(0, 5);
    if (name.rfind("host", 0) != 0 || name.size() == 4)
        return std::nullopt;
    name.erase(0, 4);
    for (char c : name)
        if (c < '0' || c > '9')
            return std::nullopt;
    return name;
}

// virStoragePoolObjSourceMatchTypeISCSI for scsi pools. Matches that need
// the host's sysfs (a parent PCI address, or an fc_host against a
// scsi_host) are not made, as libvirt's lookups fail without it.
bool sameAdapter(const xml::StoragePoolSourceDef& a, const xml::StoragePoolSourceDef& b)
{
    auto pa = rawAttrs(a.adapter), pb = rawAttrs(b.adapter);
    std::string ta = attrIn(pa, "type"), tb = attrIn(pb, "type");
    if (ta == "fc_host" && tb == "fc_host")
        return attrIn(pa, "wwnn") == attrIn(pb, "wwnn") && attrIn(pa, "wwpn") == attrIn(pb, "wwpn");
    if (ta == "scsi_host" && tb == "scsi_host") {
        auto na = scsiHostNumber(attrIn(pa, "name")), nb = scsiHostNumber(attrIn(pb, "name"));
        return na && nb && *na == *nb;
    }
    return false;
}

} // namespace

bool matchesPoolListFlags(uint32_t flags, const std::string& type, bool active, bool persistent, bool autostart)
{
    auto pick = [flags](uint32_t yes, uint32_t no, bool value) {
        if (!(flags & (yes | no)))
            return true;
        return (value && (flags & yes)) || (!value && (flags & no));
    };
    if (!pick(kListActive, kListInactive, active) || !pick(kListPersistent, kListTransient, persistent)
        || !pick(kListAutostart, kListNoAutostart, autostart))
        return false;
    if (!(flags & kListTypes))
        return true;
    for (const auto& [name, bit] : kTypeFlags)
        if ((flags & bit) && type == name)
            return true;
    return false;
}

// Whether `def` would use the storage an existing pool uses.
bool sourceConflict(const xml::StoragePoolDef& pool, const xml::StoragePoolDef& def)
{
    const auto& t = pool.type;
    if (isOneOf(t, {"dir", "gluster", "netfs"})) {
        if (def.type != t)
            return false;
        if (t == "dir")
            return pool.targetPath == def.targetPath;
        if (t == "gluster")
            return pool.source.name == def.source.name && pool.source.dir == def.source.dir
                && sameSingleHost(pool.source, def.source);
        return pool.source.dir == def.source.dir && sameSingleHost(pool.source, def.source);
    }
    if (t == "scsi")
        return def.type == t && sameAdapter(pool.source, def.source);
    if (isOneOf(t, {"iscsi", "fs", "logical", "disk", "zfs"})) {
        if (!isOneOf(def.type, {"iscsi", "fs", "logical", "disk", "zfs"}))
            return false;
        if (t == "iscsi")
            return def.type == "iscsi" && shareDevice(pool.source, def.source)
                && sameInitiator(pool.source, def.source);
        return def.type != "iscsi" && shareDevice(pool.source, def.source);
    }
    if (t == "mpath") // only one multipath pool per host
        return def.type == t;
    if (t == "vstorage")
        return def.type == t && pool.source.name == def.source.name;
    return false; // rbd, iscsi-direct
}

} // namespace virtbus::storage
