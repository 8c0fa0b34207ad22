// libvirt's storage pool documents as plain structures: <pool>, the
// <source> and <sources> documents of FindStoragePoolSources, and
// <storagepoolCapabilities>. One structure serves every pool type; which
// parts of <source> a type uses, requires and writes back follows
// libvirt's per-type table (virStoragePoolTypeInfo). Elements the model
// does not interpret (adapter, auth, initiator, features, namespaced
// mount/config options, unknown elements) are kept verbatim.
#pragma once

#include "xml/domain_xml.h" // Preserved

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::xml {

// <permissions> of a pool target or a volume.
struct StoragePermsDef {
    std::optional<unsigned> mode; // permission bits, <= 0777
    std::optional<int64_t> owner, group; // libvirt's -1 reads as unset
    std::string label;
    bool empty() const { return !mode && !owner && !group && label.empty(); }
    bool operator==(const StoragePermsDef&) const = default;
};

struct StoragePoolSourceHost {
    std::string name;
    unsigned port = 0; // 0: not given
    bool operator==(const StoragePoolSourceHost&) const = default;
};

struct StoragePoolFreeExtent {
    uint64_t start = 0, end = 0;
    bool operator==(const StoragePoolFreeExtent&) const = default;
};

struct StoragePoolSourceDevice {
    std::string path;
    std::string partSeparator; // yes, no, ""
    std::vector<StoragePoolFreeExtent> freeExtents;
    bool operator==(const StoragePoolSourceDevice&) const = default;
};

struct StoragePoolSourceDef {
    std::vector<StoragePoolSourceHost> hosts;
    std::vector<StoragePoolSourceDevice> devices;
    std::string dir;
    std::string adapter; // raw <adapter>, "" if none
    std::string name;
    std::string format; // <format type=...>; the type's default when absent
    std::string auth; // raw <auth>
    std::string initiator; // raw <initiator>
    unsigned protocolVer = 0; // <protocol ver=...> (netfs), 0: not given
    std::string vendor, product;
    Preserved extra;
    bool operator==(const StoragePoolSourceDef&) const = default;
};

struct StoragePoolDef {
    // dir, fs, netfs, logical, disk, iscsi, iscsi-direct, scsi, mpath, rbd,
    // gluster, zfs, vstorage
    std::string type;
    std::string name;
    std::string uuid; // canonical lowercase
    uint64_t capacity = 0, allocation = 0, available = 0; // bytes
    StoragePoolSourceDef source;
    // Target directory or device directory; derived from the source name
    // for logical (/dev/NAME) and zfs (/dev/zvol/NAME) pools, absent for
    // network pools (rbd, gluster, iscsi-direct).
    std::string targetPath;
    StoragePermsDef targetPerms;
    std::string features; // raw <features>
    std::string refresh; // raw <refresh>
    Preserved extra; // fs:mount_opts, rbd:config_opts, unknown content
    bool operator==(const StoragePoolDef&) const = default;
};

enum StoragePoolParseFlags : unsigned {
    // Also validate against libvirt's storagepool.rng
    // (VIR_STORAGE_POOL_DEFINE_VALIDATE); failures raise XmlInvalidSchema.
    STORAGE_POOL_PARSE_VALIDATE = 1u << 0,
};

// Raises VirtError with libvirt's code and wording: unknown type, missing
// name, '/' in the name, malformed uuid, a relative target path, the
// source parts the type requires. A missing <uuid> gets a random one.
StoragePoolDef parseStoragePoolXML(std::string_view xml, unsigned flags = 0);
std::string formatStoragePoolXML(const StoragePoolDef& def);

// The <source> argument of FindStoragePoolSources, read for `poolType`.
StoragePoolSourceDef parseStoragePoolSourceXML(std::string_view xml, std::string_view poolType);
// FindStoragePoolSources' answer: <sources> with one <source> each.
std::string formatStoragePoolSourcesXML(std::string_view poolType, const std::vector<StoragePoolSourceDef>& sources);

// Every pool type the model knows, in libvirt's order.
const std::vector<std::string>& storagePoolTypes();
bool isStoragePoolType(std::string_view type);
// <storagepoolCapabilities>: every known type, supported='yes' for those
// in `supported`, with the pool and volume formats each type accepts.
std::string formatStoragePoolCapabilitiesXML(const std::vector<std::string>& supported);

} // namespace virtbus::xml
