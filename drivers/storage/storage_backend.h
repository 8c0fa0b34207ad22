// One contract per pool type, as libvirt's virStorageBackend: the driver
// (storage_driver.cpp) keeps the pools, their state, persistence, locking
// and events; a backend only touches the host. Backends run on a worker
// thread with no driver lock held, so they may take as long as the disk
// does. Every operation a type lacks fails with libvirt's wording.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "xml/storage_pool_xml.h"
#include "xml/storage_vol_xml.h"

namespace virtbus::storage {

// Sizes in bytes, as virStoragePoolInfo reports them.
struct PoolSpace {
    uint64_t capacity = 0, allocation = 0, available = 0;
};

// VIR_FROM_STORAGE errors, as every part of the storage driver raises them.
VirtError storageErr(ErrCode code, std::string_view detail);

// libvirt's flag values the backends look at.
namespace flags {
// virStoragePoolBuildFlags
inline constexpr uint32_t BuildRepair = 1, BuildResize = 2, BuildNoOverwrite = 4, BuildOverwrite = 8;
// virStoragePoolDeleteFlags
inline constexpr uint32_t DeleteZeroed = 1;
// virStorageVolCreateFlags
inline constexpr uint32_t VolPreallocMetadata = 1, VolReflink = 2, VolValidate = 4;
// virStorageVolResizeFlags
inline constexpr uint32_t ResizeAllocate = 1, ResizeDelta = 2, ResizeShrink = 4;
} // namespace flags

class Backend {
public:
    virtual ~Backend() = default;

    // Type-specific checks of a definition, before it is accepted.
    virtual void check(const xml::StoragePoolDef& /*def*/) const { }
    // Whether a pool recorded as running is still up (daemon restart): a
    // mounted file system, an existing directory.
    virtual bool stillActive(const xml::StoragePoolDef& def) const = 0;
    virtual void build(const xml::StoragePoolDef& def, uint32_t flags);
    virtual void start(const xml::StoragePoolDef& def) = 0;
    virtual void stop(const xml::StoragePoolDef& /*def*/) { }
    virtual void remove(const xml::StoragePoolDef& def, uint32_t flags); // virStoragePoolDelete
    // Finds every volume and the pool's sizes.
    virtual PoolSpace refresh(const xml::StoragePoolDef& def, std::vector<xml::StorageVolDef>& vols) = 0;
    virtual std::string findSources(const std::string& srcSpec, uint32_t flags);

    // Where a volume named `name` lives; also its key.
    virtual std::string volPath(const xml::StoragePoolDef& def, const std::string& name) const;
    // Creates `vol` (name, path and key already set). On failure nothing
    // of it is left behind.
    virtual void createVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol, uint32_t flags);
    // Creates `vol` with the content of `src` (any pool's volume).
    virtual void createVolFrom(
        const xml::StoragePoolDef& def, xml::StorageVolDef& vol, const xml::StorageVolDef& src, uint32_t flags);
    virtual void deleteVol(const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint32_t flags);
    virtual void resizeVol(
        const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint64_t capacity, uint32_t flags);
    // Reads the volume's current facts (format, sizes, backing store) back.
    virtual void refreshVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol) = 0;
};

// The backend of `type`, or nullptr when virtbus has none.
std::unique_ptr<Backend> makeBackend(const std::string& type);
// The types makeBackend knows, for the capabilities document.
const std::vector<std::string>& supportedPoolTypes();

} // namespace virtbus::storage
