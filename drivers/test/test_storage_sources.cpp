// What a storage pool's source is: the conflicts libvirt refuses between
// pools (virStoragePoolObjSourceFindDuplicate) and the canned answers of
// FindStoragePoolSources.
#include "test/test_storage_internal.h"

#include "xml/xml_util.h"

#include <initializer_list>
#include <optional>
#include <string_view>

namespace virtbus {

namespace {

VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }
VirtError storageErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Storage, detail); }

// testConnectFindStoragePoolSources' canned answers.
constexpr const char* kLogicalSources = "<sources>\n"
                                        "  <source>\n"
                                        "    <device path='/dev/sda20'/>\n"
                                        "    <name>testvg1</name>\n"
                                        "    <format type='lvm2'/>\n"
                                        "  </source>\n"
                                        "  <source>\n"
                                        "    <device path='/dev/sda21'/>\n"
                                        "    <name>testvg2</name>\n"
                                        "    <format type='lvm2'/>\n"
                                        "  </source>\n"
                                        "</sources>\n";

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

namespace teststorage {

std::string echo(const std::string& s)
{
    constexpr size_t kMaxEcho = 1024;
    return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s;
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

} // namespace teststorage

using namespace teststorage;

std::string TestStorageDriver::findStoragePoolSources(
    const std::string& type, const std::string& srcSpec, uint32_t flags)
{
    checkFlags(flags, 0, "testConnectFindStoragePoolSources");
    // libvirt's test driver tests the type number for zero instead of
    // for -1, so "dir" (0) is the type it calls unknown, while an unknown
    // type gets through to the checks below.
    if (type == "dir")
        throw testErr(ErrCode::InternalError, "unknown storage pool type dir");
    std::optional<xml::StoragePoolSourceDef> source;
    if (!srcSpec.empty()) {
        // libvirt 9.0 still knows the sheepdog type (it only lost the
        // backend); the model does not, so its source spec goes unread.
        if (xml::isStoragePoolType(type))
            source = xml::parseStoragePoolSourceXML(srcSpec, type);
        else if (type != "sheepdog") // virStoragePoolOptionsForPoolType(-1)
            throw storageErr(ErrCode::InternalError, "missing backend for pool type -1");
    }
    if (type == "logical")
        return kLogicalSources;
    if (type == "netfs") {
        // libvirt reads the first host without checking there is one (and
        // crashes when there is none); this reports the missing host. The
        // name is escaped, unlike libvirt, so the answer stays well-formed.
        if (!source || source->hosts.empty() || source->hosts[0].name.empty())
            throw testErr(ErrCode::InvalidArg, "hostname must be specified for netfs sources");
        return "<sources>\n"
               "  <source>\n"
               "    <host name='"
            + xml::escapeAttr(source->hosts[0].name)
            + "'/>\n"
              "    <dir path='/testshare'/>\n"
              "    <format type='nfs'/>\n"
              "  </source>\n"
              "</sources>\n";
    }
    throw testErr(ErrCode::NoSupport, "pool type '" + echo(type) + "' does not support source discovery");
}

} // namespace virtbus
