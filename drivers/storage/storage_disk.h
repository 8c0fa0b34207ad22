// disk pools: a block device with a partition table; each partition is a
// volume. Partition tables are read and written with sfdisk.
#pragma once

#include "storage/storage_backend.h"

namespace virtbus::storage {

class DiskBackend : public Backend {
public:
    void check(const xml::StoragePoolDef& def) const override;
    bool stillActive(const xml::StoragePoolDef& def) const override;
    void build(const xml::StoragePoolDef& def, uint32_t flags) override;
    void start(const xml::StoragePoolDef& def) override;
    void remove(const xml::StoragePoolDef& def, uint32_t flags) override;
    PoolSpace refresh(const xml::StoragePoolDef& def, std::vector<xml::StorageVolDef>& vols) override;
    std::string findSources(const std::string& srcSpec, uint32_t flags) override;
    // The kernel names partitions: a new volume is the next one.
    std::string volPath(const xml::StoragePoolDef& def, const std::string& name) const override;
    void createVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol, uint32_t flags) override;
    void deleteVol(const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint32_t flags) override;
    void refreshVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol) override;
};

} // namespace virtbus::storage
