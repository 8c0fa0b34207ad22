// The records of HostStorageDriver, shared by its sources. Not an API.
#pragma once

#include "storage/storage_backend.h"
#include "storage/storage_driver.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace virtbus {

struct HostStorageDriver::Vol {
    xml::StorageVolDef def; // key == targetPath
    Pool* pool = nullptr; // outlives the volume: a pool with volume jobs cannot go
    int jobs = 0; // wipe, resize, clone source, transfer running on it
    VolRef ref(const std::string& poolUuid) const { return {def.key, def.name, def.targetPath, poolUuid}; }
};

struct HostStorageDriver::Pool {
    xml::StoragePoolDef def; // in force (the running one while active)
    std::optional<xml::StoragePoolDef> newDef; // given while running: in force from the next start
    std::unique_ptr<storage::Backend> backend;
    bool active = false, persistent = false, autostart = false;
    bool gone = false; // dropped from the tables while an operation waited for opMu
    storage::PoolSpace space;
    std::map<std::string, std::unique_ptr<Vol>> vols; // by name: listings come out sorted
    std::set<std::string> creating; // names of volumes being made
    int jobs = 0; // volume jobs running without opMu
    std::mutex opMu; // serialises pool-level operations

    PoolRef ref() const { return {def.uuid, def.name}; }
    // The prop:: bits of the properties that are true, to tell which ones
    // a call flipped.
    uint32_t shown() const
    {
        return (active ? prop::Active : 0u) | (persistent ? prop::Persistent : 0u)
            | (persistent && autostart ? prop::Autostart : 0u);
    }
    const xml::StoragePoolDef& inactiveDef() const { return newDef ? *newDef : def; }
};

// A volume held for a job: counted in the volume's and its pool's jobs
// for as long as this lives, with copies of both definitions to work on.
class HostStorageDriver::VolJob {
public:
    // mu_ held by the caller.
    VolJob(HostStorageDriver& d, Vol& v) : d_(d), vol_(&v), pool(v.pool->def), vol(v.def), backend(*v.pool->backend)
    {
        ++v.jobs;
        ++v.pool->jobs;
    }
    ~VolJob()
    {
        std::lock_guard lock(d_.mu_);
        --vol_->jobs;
        --vol_->pool->jobs;
    }
    VolJob(const VolJob&) = delete;
    VolJob& operator=(const VolJob&) = delete;
    Vol& record() { return *vol_; } // mu_ held

    HostStorageDriver& d_;
    Vol* vol_;
    xml::StoragePoolDef pool;
    xml::StorageVolDef vol;
    storage::Backend& backend;
};

namespace storage {

VirtError storageErr(ErrCode code, std::string_view detail);
// Caller-supplied names are echoed in errors; a huge one is cut.
std::string echo(const std::string& s);
void requireActive(const HostStorageDriver::Pool& p);
void requireNoJobs(const HostStorageDriver::Pool& p);
// libvirt's wiping algorithms (virStorageVolWipeAlgorithm), on the file or
// device at `path`, over its first `length` bytes (storage_wipe.cpp).
void wipeVolume(const std::string& path, uint32_t algorithm, uint64_t length);
inline constexpr uint32_t kWipeAlgLast = 10;

} // namespace storage

} // namespace virtbus
