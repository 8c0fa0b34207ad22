// Rules every storage driver applies to its pools, as libvirt's shared pool
// object code (virstorageobj.c) does: which pools a listing's flags select,
// and which definitions would use storage another pool already uses.
#pragma once

#include <cstdint>
#include <string>

#include "xml/storage_pool_xml.h"

namespace virtbus::storage {

// virConnectListAllStoragePools' filter: within each pair of flags
// (ACTIVE/INACTIVE, ...) neither or both mean "either"; type flags select
// any of the types given.
bool matchesPoolListFlags(uint32_t flags, const std::string& type, bool active, bool persistent, bool autostart);
// Every flag virConnectListAllStoragePools knows.
inline constexpr uint32_t kPoolListAll = (1u << 20) - 1;

// virStoragePoolObjSourceFindDuplicate's test for one existing pool:
// whether `def` would use the storage `pool` uses.
bool sourceConflict(const xml::StoragePoolDef& pool, const xml::StoragePoolDef& def);

} // namespace virtbus::storage
