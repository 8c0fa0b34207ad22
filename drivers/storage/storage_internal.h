// The records of HostStorageDriver, shared by its sources. Not an API.
#pragma once

#include "storage/storage_backend.h"
#include "storage/storage_driver.h"

#include <chrono>
#include <functional>
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

// Caller-supplied names are echoed in errors; a huge one is cut.
std::string echo(const std::string& s);
void requireActive(const HostStorageDriver::Pool& p);
void requireNoJobs(const HostStorageDriver::Pool& p);
// libvirt's wiping algorithms (virStorageVolWipeAlgorithm), on the file or
// device at `path`, over its first `length` bytes (storage_wipe.cpp).
// `progress` (may be empty) gets (bytes done, bytes in all passes).
using ByteProgress = std::function<void(uint64_t done, uint64_t total)>;
void wipeVolume(const std::string& path, uint32_t algorithm, uint64_t length, const ByteProgress& progress = {});
// Rate-limits a job's progress reports: every 250 ms, and the last one.
class ProgressThrottle {
public:
    ProgressThrottle(const HostStorageDriver::ProgressFn& fn, std::string key, std::string op) :
        fn_(fn), key_(std::move(key)), op_(std::move(op))
    { }
    void operator()(uint64_t done, uint64_t total)
    {
        if (!fn_)
            return;
        auto now = std::chrono::steady_clock::now();
        if (done < total && now - last_ < std::chrono::milliseconds(250))
            return;
        last_ = now;
        fn_(key_, op_, done, total);
    }

private:
    const HostStorageDriver::ProgressFn& fn_;
    std::string key_, op_;
    std::chrono::steady_clock::time_point last_ {};
};
inline constexpr uint32_t kWipeAlgLast = 10;

} // namespace storage

} // namespace virtbus
