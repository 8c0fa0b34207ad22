// Volume calls. Disk work (create, clone, wipe, resize, delete, probing)
// runs with no driver lock held: the volume and its pool are held by a
// VolJob, which keeps the pool from stopping and the volume from going.
#include "storage/storage_internal.h"

#include "fileutil.h"

#include "storage/storage_file.h"

#include <climits>
#include <cstdlib>
#include <initializer_list>

namespace virtbus {

using namespace storage;

namespace {

constexpr uint32_t kGetPhysical = 1; // VIR_STORAGE_VOL_GET_PHYSICAL
constexpr uint32_t kDeleteZeroed = 1, kDeleteWithSnapshots = 2;

int32_t volTypeNumber(const std::string& type)
{
    if (type == "block")
        return 1;
    if (type == "dir")
        return 2;
    if (type == "network")
        return 3;
    if (type == "netdir")
        return 4;
    if (type == "ploop")
        return 5;
    return 0;
}

VirtError inUseByGuest(const std::string& name)
{
    return storageErr(ErrCode::OperationInvalid, "storage volume '" + name + "' is in use by a running domain");
}

} // namespace

// ---- lookups ----

VolRef HostStorageDriver::volLookupByName(const std::string& poolUuid, const std::string& name)
{
    std::lock_guard lock(mu_);
    auto p = poolByUuid(poolUuid);
    requireActive(*p);
    auto it = p->vols.find(name);
    if (it == p->vols.end())
        throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching name '" + echo(name) + "'");
    return it->second->ref(p->def.uuid);
}

VolRef HostStorageDriver::volLookupByKey(const std::string& key)
{
    std::lock_guard lock(mu_);
    Vol& v = volByKey(key);
    return v.ref(v.pool->def.uuid);
}

VolRef HostStorageDriver::volLookupByPath(const std::string& path)
{
    char buf[PATH_MAX];
    std::string canonical = ::realpath(path.c_str(), buf) ? std::string(buf) : path;
    std::lock_guard lock(mu_);
    for (const std::string* k : std::initializer_list<const std::string*> {&path, &canonical})
        if (auto it = byKey_.find(*k); it != byKey_.end())
            return it->second->ref(it->second->pool->def.uuid);
    for (const auto& [key, v] : byKey_) {
        char vb[PATH_MAX];
        if (::realpath(v->def.targetPath.c_str(), vb) && canonical == vb)
            return v->ref(v->pool->def.uuid);
    }
    if (canonical != path)
        throw storageErr(
            ErrCode::NoStorageVol, "no storage vol with matching path '" + echo(path) + "' (" + echo(canonical) + ")");
    throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching path '" + echo(path) + "'");
}

bool HostStorageDriver::volExists(const std::string& key)
{
    std::lock_guard lock(mu_);
    return byKey_.count(key) != 0;
}

// ---- create ----

VolRef HostStorageDriver::volCreateXML(const std::string& poolUuid, const std::string& text, uint32_t flags)
{
    return volCreateXMLFrom(poolUuid, text, {}, flags);
}

VolRef HostStorageDriver::volCreateXMLFrom(
    const std::string& poolUuid, const std::string& text, const std::string& srcKey, uint32_t flags)
{
    bool clone = !srcKey.empty();
    checkFlags(flags, flags::VolPreallocMetadata | flags::VolValidate | (clone ? flags::VolReflink : 0),
        clone ? "storageVolCreateXMLFrom" : "storageVolCreateXML");
    std::shared_ptr<Pool> p;
    std::string poolType;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(poolUuid);
        requireActive(*p);
        poolType = p->def.type;
    }
    unsigned parse = (flags & flags::VolValidate) ? xml::STORAGE_VOL_PARSE_VALIDATE : 0u;
    if (!clone)
        parse |= xml::STORAGE_VOL_PARSE_OPT_CAPACITY;
    xml::StorageVolDef vol = xml::parseStorageVolXML(text, poolType, parse);
    checkVolumeName(vol.name);
    xml::StoragePoolDef pdef;
    std::unique_ptr<VolJob> source;
    {
        std::lock_guard lock(mu_);
        if (p->gone || !p->active)
            throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p->def.name + "' is not active");
        if (p->vols.count(vol.name) || p->creating.count(vol.name))
            throw makeError(ErrCode::StorageVolExist, ErrDomain::Storage, "'" + vol.name + "'");
        vol.targetPath = vol.key = p->backend->volPath(p->def, vol.name);
        if (clone) {
            auto it = byKey_.find(srcKey);
            if (it == byKey_.end())
                throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching key " + echo(srcKey));
            source = std::make_unique<VolJob>(*this, *it->second);
            vol.capacity = std::max(vol.capacity, source->vol.capacity);
        }
        // A volume that must be allocated now has to fit: raw files are
        // allocated up to <allocation> (all of it when absent).
        bool raw = vol.format.empty() || vol.format == "raw";
        uint64_t need = raw ? std::min(vol.allocation.value_or(vol.capacity), vol.capacity) : 0;
        if (need > p->def.available)
            throw storageErr(ErrCode::OperationFailed,
                "Not enough space left in storage pool '" + p->def.name + "' for volume '" + vol.name + "'");
        p->creating.insert(vol.name);
        ++p->jobs;
        pdef = p->def;
    }
    // The name reserved; a disk pool renames the volume after the
    // partition the kernel made.
    const std::string reserved = vol.name;
    auto release = [&] {
        std::lock_guard lock(mu_);
        p->creating.erase(reserved);
        --p->jobs;
    };
    try {
        // A clone runs in qemu-img: its start and end are what is known,
        // reported on the source (the new volume is no object yet).
        ProgressThrottle report(progress_, srcKey, "clone");
        if (clone)
            report(0, source->vol.physical);
        if (clone)
            p->backend->createVolFrom(pdef, vol, source->vol, flags);
        else if (!createEncrypted(pdef.type, vol, flags))
            p->backend->createVol(pdef, vol, flags);
        if (clone)
            report(source->vol.physical, source->vol.physical);
        p->backend->refreshVol(pdef, vol);
    } catch (...) {
        release();
        throw;
    }
    source.reset();
    VolRef ref;
    {
        std::lock_guard lock(mu_);
        p->creating.erase(reserved);
        --p->jobs;
        auto v = std::make_unique<Vol>();
        v->def = std::move(vol);
        v->pool = p.get();
        uint64_t used = v->def.allocation.value_or(0);
        p->def.allocation += used;
        p->def.available -= std::min(used, p->def.available);
        ref = v->ref(p->def.uuid);
        byKey_[v->def.key] = v.get();
        p->vols[v->def.name] = std::move(v);
    }
    if (EventSink* s = sink())
        s->objectAdded({ObjectType::StorageVol, ref.key, {}});
    return ref;
}

// ---- one volume ----

std::unique_ptr<HostStorageDriver::VolJob> HostStorageDriver::holdForChange(const std::string& key)
{
    std::string path;
    {
        std::lock_guard lock(mu_);
        path = volByKey(key).def.targetPath;
    }
    // Asked without mu_: the QEMU driver takes its own lock to answer.
    if (inUse_ && inUse_(path))
        throw inUseByGuest(key);
    std::lock_guard lock(mu_);
    Vol& v = volByKey(key);
    if (v.jobs > 0)
        throw storageErr(ErrCode::OperationInvalid, "volume '" + v.def.name + "' is still in use.");
    return std::make_unique<VolJob>(*this, v);
}

void HostStorageDriver::volDelete(const std::string& key, uint32_t flags)
{
    checkFlags(flags, kDeleteZeroed | kDeleteWithSnapshots, "storageVolDelete");
    std::unique_ptr<VolJob> job = holdForChange(key);
    // Internal snapshots live inside the image, so WITH_SNAPSHOTS removes
    // them with it; ZEROED overwrites the data before the file goes.
    if (flags & kDeleteZeroed)
        wipeVolume(job->vol.targetPath, 0, job->vol.physical);
    job->backend.deleteVol(job->pool, job->vol, 0);
    Pool* pool = job->vol_->pool;
    job.reset();
    {
        std::lock_guard lock(mu_);
        auto it = byKey_.find(key);
        if (it != byKey_.end()) {
            uint64_t used = it->second->def.allocation.value_or(0);
            pool->def.allocation -= std::min(used, pool->def.allocation);
            pool->def.available += used;
            pool->vols.erase(it->second->def.name);
            byKey_.erase(it);
        }
    }
    if (EventSink* s = sink())
        s->objectRemoved({ObjectType::StorageVol, key, {}});
}

// Re-reads a volume's facts from disk, outside the lock, and keeps them.
xml::StorageVolDef HostStorageDriver::probed(const std::string& key, std::string* poolType)
{
    std::unique_ptr<VolJob> job;
    {
        std::lock_guard lock(mu_);
        job = std::make_unique<VolJob>(*this, volByKey(key));
        if (poolType)
            *poolType = job->pool.type;
    }
    job->backend.refreshVol(job->pool, job->vol);
    std::lock_guard lock(mu_);
    job->record().def = job->vol;
    return job->vol;
}

VolInfo HostStorageDriver::volGetInfo(const std::string& key, uint32_t flags)
{
    checkFlags(flags, kGetPhysical, "storageVolGetInfoFlags");
    xml::StorageVolDef v = probed(key, nullptr);
    uint64_t alloc = (flags & kGetPhysical) ? v.physical : v.allocation.value_or(v.capacity);
    return {volTypeNumber(v.type), v.capacity, alloc};
}

std::string HostStorageDriver::volGetXMLDesc(const std::string& key, uint32_t flags)
{
    checkFlags(flags, 0, "storageVolGetXMLDesc");
    std::string poolType;
    xml::StorageVolDef v = probed(key, &poolType);
    return xml::formatStorageVolXML(v, poolType);
}

void HostStorageDriver::volResize(const std::string& key, uint64_t capacity, uint32_t flags)
{
    checkFlags(flags, flags::ResizeAllocate | flags::ResizeDelta | flags::ResizeShrink, "storageVolResize");
    xml::StorageVolDef cur = probed(key, nullptr);
    uint64_t target = capacity;
    if (flags & flags::ResizeDelta)
        target
            = (flags & flags::ResizeShrink) ? cur.capacity - std::min(capacity, cur.capacity) : cur.capacity + capacity;
    uint64_t alloc = cur.allocation.value_or(cur.capacity);
    if (target < alloc && cur.format == "raw" && alloc >= cur.capacity)
        throw err::invalidArg("can't shrink capacity below existing allocation");
    if (target < cur.capacity && !(flags & flags::ResizeShrink))
        throw err::invalidArg("Can't shrink capacity below current capacity unless shrink flag explicitly specified");
    if (target < cur.capacity && inUse_ && inUse_(cur.targetPath))
        throw inUseByGuest(key);
    std::unique_ptr<VolJob> job;
    {
        std::lock_guard lock(mu_);
        Vol& v = volByKey(key);
        uint64_t delta = (flags & flags::ResizeAllocate) && target > alloc ? target - alloc : 0;
        if (delta > v.pool->def.available)
            throw storageErr(ErrCode::OperationFailed, "Not enough space left in storage pool");
        job = std::make_unique<VolJob>(*this, v);
    }
    job->backend.resizeVol(job->pool, job->vol, target, flags & ~(flags::ResizeDelta | flags::ResizeShrink));
    job->backend.refreshVol(job->pool, job->vol);
    std::lock_guard lock(mu_);
    job->record().def = job->vol;
}

void HostStorageDriver::volWipe(const std::string& key, uint32_t pattern, uint32_t flags)
{
    checkFlags(flags, 0, "storageVolWipePattern");
    if (pattern >= kWipeAlgLast)
        throw err::invalidArg("wiping algorithm " + std::to_string(pattern) + " not supported");
    std::unique_ptr<VolJob> job = holdForChange(key);
    if (job->vol.type == "dir")
        throw storageErr(ErrCode::OperationUnsupported, "cannot wipe a directory volume");
    job->backend.refreshVol(job->pool, job->vol);
    ProgressThrottle report(progress_, key, "wipe");
    wipeVolume(job->vol.targetPath, pattern, job->vol.physical, std::ref(report));
    job->backend.refreshVol(job->pool, job->vol);
    std::lock_guard lock(mu_);
    job->record().def = job->vol;
}

} // namespace virtbus
