// libvirt's <volume> document as a plain structure. How a volume's
// <target><format> reads and which <volume type> it gets by default depend
// on the pool holding it, so parsing and formatting take the pool type.
#pragma once

#include "xml/storage_pool_xml.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::xml {

struct StorageVolBackingStoreDef {
    std::string path;
    std::string format; // the pool's default volume format when absent
    StoragePermsDef perms;
    std::string timestamps; // raw <timestamps>
    bool operator==(const StorageVolBackingStoreDef&) const = default;
};

struct StorageVolDef {
    std::string name;
    std::string key;
    std::string type; // file, block, dir, network, netdir, ploop; "" = the pool's kind
    std::string source; // raw <source> listing devices and extents, "" if empty
    uint64_t capacity = 0; // bytes
    std::optional<uint64_t> allocation; // bytes; absent: as much as capacity
    uint64_t physical = 0; // bytes, 0: unknown
    // <target>
    std::string targetPath;
    std::string format; // raw, qcow2, ... (pools with volume formats only)
    StoragePermsDef perms;
    std::string timestamps; // raw <timestamps>
    std::string encryption; // raw <encryption>
    std::string compat; // qcow2 compatibility level ("1.1")
    bool nocow = false;
    uint64_t clusterSize = 0; // bytes, 0: not given
    // <features>: lazy_refcounts, extended_l2; an empty list is <features/>.
    std::optional<std::vector<std::string>> features;
    Preserved targetExtra;
    std::optional<StorageVolBackingStoreDef> backingStore;
    Preserved extra;
    bool operator==(const StorageVolDef&) const = default;
};

enum StorageVolParseFlags : unsigned {
    // libvirt's VIR_VOL_XML_PARSE_*: capacity may be missing (a resize or
    // upload), or missing when a backing store gives it.
    STORAGE_VOL_PARSE_NO_CAPACITY = 1u << 0,
    STORAGE_VOL_PARSE_OPT_CAPACITY = 1u << 1,
    // Also validate against libvirt's storagevol.rng.
    STORAGE_VOL_PARSE_VALIDATE = 1u << 2,
};

// Raises VirtError with libvirt's code and wording: a missing name or
// capacity, a name with '/' or equal to "." or "..", an unknown type,
// format or unit, a malformed size or permission.
StorageVolDef parseStorageVolXML(std::string_view xml, std::string_view poolType, unsigned flags = 0);
std::string formatStorageVolXML(const StorageVolDef& def, std::string_view poolType);

} // namespace virtbus::xml
