// What the pool and volume formats share: libvirt's per-pool-type table
// (which <source> parts a type uses, its pool and volume formats),
// <permissions> and the storage error domain. Not part of the drivers' API.
#pragma once

#include "xml/storage_pool_xml.h"
#include "xml/xml_util.h"

#include <string_view>
#include <vector>

namespace virtbus::xml::storagedetail {

// virStoragePoolOptions flags: what a pool type's <source> holds.
enum SourceFlag : unsigned {
    SRC_HOST = 1u << 0,
    SRC_DEVICE = 1u << 1,
    SRC_DIR = 1u << 2,
    SRC_ADAPTER = 1u << 3,
    SRC_NAME = 1u << 4,
    SRC_INITIATOR = 1u << 5,
    SRC_NETWORK = 1u << 6, // no local target
};

struct FormatEnum {
    std::string_view defaultFormat;
    std::vector<std::string_view> values; // as capabilities list them
    std::string_view refused; // listed, yet not accepted in a definition
    bool accepts(std::string_view f) const;
};

struct PoolTypeInfo {
    std::string_view type;
    unsigned flags;
    const FormatEnum* poolFormats; // <source><format>, nullptr if none
    const FormatEnum* volFormats; // <target><format> of volumes, nullptr if none
    bool listVolFormats; // capabilities list the volume formats
    std::string_view volumeType; // <volume type> when a volume names none
};

const std::vector<PoolTypeInfo>& poolTypeTable();
// nullptr for an unknown type.
const PoolTypeInfo* poolTypeInfo(std::string_view type);

// Errors of the storage formats carry libvirt's VIR_FROM_STORAGE domain.
VirtError storageError(ErrCode code, std::string_view detail);
inline VirtError storageXml(std::string_view detail) { return storageError(ErrCode::XmlError, detail); }

StoragePermsDef parsePerms(const xmlNode* n);
void formatPerms(XmlWriter& w, const StoragePermsDef& perms);

// The one child of `n` named `name`; XmlError naming both when repeated.
const xmlNode* singleChild(const xmlNode* n, std::string_view name);

} // namespace virtbus::xml::storagedetail
