// Pool lifecycle: define, create, build, start, stop, delete, undefine,
// refresh, autostart. Each takes the pool's opMu for its whole length and
// mu_ only to read or change the tables, so disk work never holds up a
// lookup.
#include "storage/storage_internal.h"

#include "fileutil.h"

#include <malloc.h>
#include <unistd.h>

#include <cerrno>

namespace virtbus {

using namespace storage;

namespace {

// virStoragePoolCreateFlags.
constexpr uint32_t kCreateWithBuild = 1, kCreateBuildOverwrite = 2, kCreateBuildNoOverwrite = 4;
constexpr uint32_t kDefineValidate = 1; // VIR_STORAGE_POOL_DEFINE_VALIDATE

void exclusive(uint32_t flags, uint32_t a, const char* an, uint32_t b, const char* bn)
{
    if ((flags & a) && (flags & b))
        throw err::invalidArg(std::string("Flags '") + an + "' and '" + bn + "' are mutually exclusive");
}

xml::StoragePoolDef parseWithBackend(const std::string& text, bool validate)
{
    xml::StoragePoolDef def = xml::parseStoragePoolXML(text, validate ? xml::STORAGE_POOL_PARSE_VALIDATE : 0u);
    auto backend = makeBackend(def.type);
    if (!backend)
        throw storageErr(ErrCode::InternalError, "missing backend for pool type '" + def.type + "'");
    backend->check(def);
    return def;
}

} // namespace

// Locks that an operation holds: the pool's opMu, and the pool itself
// alive even if another call drops it from the tables meanwhile.
struct PoolOp {
    std::shared_ptr<HostStorageDriver::Pool> pool;
    std::unique_lock<std::mutex> lock;
};

void HostStorageDriver::refreshPool(const std::shared_ptr<Pool>& p)
{
    std::vector<xml::StorageVolDef> found;
    PoolSpace space;
    try {
        space = p->backend->refresh(p->def, found);
    } catch (const VirtError&) {
        stopPool(p);
        throw;
    }
    std::vector<ObjectId> added, removed;
    {
        std::lock_guard lock(mu_);
        applyRefresh(*p, std::move(found), space, added, removed);
    }
    deliver(added, removed, {});
    // A refresh of a big pool frees as much as it allocates, in the arena
    // of whichever worker ran it: hand it back rather than keep it per
    // thread (10,000 volumes: ~18 MB kept per refresh otherwise).
    ::malloc_trim(0);
}

void HostStorageDriver::startPool(const std::shared_ptr<Pool>& p, uint32_t buildFlags, bool build, bool announce)
{
    uint32_t before;
    {
        std::lock_guard lock(mu_);
        if (p->active)
            throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p->def.name + "' is already active");
        if (p->newDef) {
            p->def = std::move(*p->newDef);
            p->newDef.reset();
        }
        before = announce ? ~0u : p->shown();
    }
    if (build)
        p->backend->build(p->def, buildFlags);
    p->backend->start(p->def);
    std::vector<xml::StorageVolDef> found;
    PoolSpace space;
    try {
        space = p->backend->refresh(p->def, found);
        saveState(*p);
    } catch (const VirtError&) {
        p->backend->stop(p->def);
        throw;
    }
    std::vector<ObjectId> added, removed;
    uint32_t after;
    {
        std::lock_guard lock(mu_);
        p->active = true;
        applyRefresh(*p, std::move(found), space, added, removed);
        after = p->shown();
    }
    ObjectId id {ObjectType::StoragePool, p->def.uuid, {}};
    if (EventSink* s = sink()) {
        if (before == ~0u)
            s->objectAdded(id);
        deliver(added, removed, {{id, before == ~0u ? 0 : before ^ after}});
        s->storagePoolLifecycle(p->def.uuid, ev::PoolStarted, 0);
    }
}

void HostStorageDriver::stopPool(const std::shared_ptr<Pool>& p)
{
    p->backend->stop(p->def);
    ::unlink((cfg_.stateDir + "/" + p->def.name + ".xml").c_str());
    std::vector<ObjectId> removed;
    std::string uuid = p->def.uuid;
    bool transient;
    uint32_t before, after;
    {
        std::lock_guard lock(mu_);
        before = p->shown();
        for (const auto& [name, v] : p->vols) {
            byKey_.erase(v->def.key);
            removed.push_back({ObjectType::StorageVol, v->def.key, {}});
        }
        p->vols.clear();
        p->active = false;
        p->def.capacity = p->def.allocation = p->def.available = 0;
        transient = !p->persistent;
        if (transient)
            dropPool(*p);
        else if (p->newDef) {
            p->def = std::move(*p->newDef);
            p->newDef.reset();
        }
        after = p->shown();
    }
    ObjectId id {ObjectType::StoragePool, uuid, {}};
    deliver({}, removed, {});
    if (EventSink* s = sink()) {
        if (transient)
            s->objectRemoved(id);
        else
            s->propertiesChanged(id, before ^ after);
        s->storagePoolLifecycle(uuid, ev::PoolStopped, 0);
    }
    ::malloc_trim(0); // the volumes' records of a big pool: give them back
}

PoolRef HostStorageDriver::poolDefineXML(const std::string& text, uint32_t flags)
{
    checkFlags(flags, kDefineValidate, "storagePoolDefineXML");
    xml::StoragePoolDef def = parseWithBackend(text, flags & kDefineValidate);
    PoolRef ref;
    uint32_t before, after;
    {
        std::lock_guard lock(mu_);
        auto old = byUuid_.find(def.uuid);
        before = old == byUuid_.end() ? ~0u : old->second->shown();
        bool wasPersistent = old != byUuid_.end() && old->second->persistent;
        auto prevDef = old == byUuid_.end() ? std::nullopt : std::optional(old->second->inactiveDef());
        auto p = addPool(std::move(def), false);
        p->persistent = true;
        try {
            saveConfig(*p);
        } catch (const VirtError&) {
            if (before == ~0u)
                dropPool(*p);
            else {
                p->persistent = wasPersistent;
                (p->active ? p->newDef : p->def) = *prevDef;
                if (p->active && !wasPersistent)
                    p->newDef.reset();
            }
            throw;
        }
        ref = p->ref();
        after = p->shown();
    }
    ObjectId id {ObjectType::StoragePool, ref.uuid, {}};
    if (EventSink* s = sink()) {
        if (before == ~0u)
            s->objectAdded(id);
        else if (before != after)
            s->propertiesChanged(id, before ^ after);
        s->storagePoolLifecycle(ref.uuid, ev::PoolDefined, 0);
    }
    return ref;
}

PoolRef HostStorageDriver::poolCreateXML(const std::string& text, uint32_t flags)
{
    checkFlags(flags, kCreateWithBuild | kCreateBuildOverwrite | kCreateBuildNoOverwrite, "storagePoolCreateXML");
    exclusive(flags, kCreateBuildOverwrite, "VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE", kCreateBuildNoOverwrite,
        "VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE");
    xml::StoragePoolDef def = parseWithBackend(text, false);
    std::shared_ptr<Pool> p;
    bool isNew;
    {
        std::lock_guard lock(mu_);
        isNew = byUuid_.count(def.uuid) == 0;
        p = addPool(std::move(def), true);
    }
    std::unique_lock op(p->opMu);
    uint32_t build = (flags & kCreateBuildOverwrite) ? flags::BuildOverwrite
        : (flags & kCreateBuildNoOverwrite)          ? flags::BuildNoOverwrite
                                                     : 0;
    try {
        // The pool is an object once it runs: announced by startPool.
        if (isNew) {
            std::lock_guard lock(mu_);
            p->persistent = false;
        }
        startPool(p, build, flags != 0, isNew);
    } catch (const VirtError&) {
        std::lock_guard lock(mu_);
        if (isNew && !p->gone)
            dropPool(*p);
        throw;
    }
    return p->ref();
}

void HostStorageDriver::poolCreate(const std::string& uuid, uint32_t flags)
{
    std::shared_ptr<Pool> p;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(uuid);
    }
    checkFlags(flags, kCreateWithBuild | kCreateBuildOverwrite | kCreateBuildNoOverwrite, "storagePoolCreate");
    exclusive(flags, kCreateBuildOverwrite, "VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE", kCreateBuildNoOverwrite,
        "VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE");
    std::unique_lock op(p->opMu);
    if (p->gone)
        throw storageErr(ErrCode::NoStoragePool, "no storage pool with matching uuid '" + uuid + "'");
    uint32_t build = (flags & kCreateBuildOverwrite) ? flags::BuildOverwrite
        : (flags & kCreateBuildNoOverwrite)          ? flags::BuildNoOverwrite
                                                     : 0;
    startPool(p, build, flags != 0, false);
}

void HostStorageDriver::poolBuild(const std::string& uuid, uint32_t flags)
{
    std::shared_ptr<Pool> p;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(uuid);
    }
    checkFlags(flags, flags::BuildRepair | flags::BuildResize | flags::BuildNoOverwrite | flags::BuildOverwrite,
        "storagePoolBuild");
    exclusive(flags, flags::BuildOverwrite, "VIR_STORAGE_POOL_BUILD_OVERWRITE", flags::BuildNoOverwrite,
        "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE");
    std::unique_lock op(p->opMu);
    xml::StoragePoolDef def;
    {
        std::lock_guard lock(mu_);
        if (p->active)
            throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p->def.name + "' is already active");
        def = p->inactiveDef();
    }
    p->backend->build(def, flags);
    if (EventSink* s = sink())
        s->storagePoolLifecycle(def.uuid, ev::PoolCreated, 0);
}

void HostStorageDriver::poolDestroy(const std::string& uuid)
{
    std::shared_ptr<Pool> p;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(uuid);
    }
    std::unique_lock op(p->opMu);
    {
        std::lock_guard lock(mu_);
        requireActive(*p);
        requireNoJobs(*p);
    }
    stopPool(p);
}

void HostStorageDriver::poolDelete(const std::string& uuid, uint32_t flags)
{
    std::shared_ptr<Pool> p;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(uuid);
    }
    checkFlags(flags, flags::DeleteZeroed, "storagePoolDelete");
    std::unique_lock op(p->opMu);
    xml::StoragePoolDef def;
    {
        std::lock_guard lock(mu_);
        if (p->active)
            throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p->def.name + "' is still active");
        requireNoJobs(*p);
        def = p->def;
    }
    p->backend->remove(def, flags);
    if (EventSink* s = sink())
        s->storagePoolLifecycle(def.uuid, ev::PoolDeleted, 0);
}

void HostStorageDriver::poolUndefine(const std::string& uuid)
{
    std::shared_ptr<Pool> p;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(uuid);
    }
    std::unique_lock op(p->opMu);
    std::string name;
    {
        std::lock_guard lock(mu_);
        if (p->active)
            throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p->def.name + "' is still active");
        requireNoJobs(*p);
        if (!p->persistent)
            throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p->def.name + "' is not persistent");
        name = p->def.name;
        if (::unlink((cfg_.configDir + "/" + name + ".xml").c_str()) != 0 && errno != ENOENT)
            throw systemError(ErrDomain::Storage, "cannot remove config of pool '" + name + "'", errno);
        ::unlink((cfg_.autostartDir + "/" + name + ".xml").c_str());
        dropPool(*p);
    }
    if (EventSink* s = sink()) {
        s->objectRemoved({ObjectType::StoragePool, p->def.uuid, {}});
        s->storagePoolLifecycle(p->def.uuid, ev::PoolUndefined, 0);
    }
}

void HostStorageDriver::poolRefresh(const std::string& uuid, uint32_t flags)
{
    std::shared_ptr<Pool> p;
    {
        std::lock_guard lock(mu_);
        p = poolByUuid(uuid);
    }
    checkFlags(flags, 0, "storagePoolRefresh");
    std::unique_lock op(p->opMu);
    {
        std::lock_guard lock(mu_);
        requireActive(*p);
        requireNoJobs(*p);
    }
    refreshPool(p);
    if (EventSink* s = sink())
        s->storagePoolRefresh(p->def.uuid);
}

void HostStorageDriver::poolSetAutostart(const std::string& uuid, bool autostart)
{
    uint32_t before, after;
    std::string id;
    {
        std::lock_guard lock(mu_);
        auto p = poolByUuid(uuid);
        if (!p->persistent)
            throw storageErr(ErrCode::InternalError, "cannot set autostart for transient pool");
        std::string link = cfg_.autostartDir + "/" + p->def.name + ".xml";
        std::string target = cfg_.configDir + "/" + p->def.name + ".xml";
        if (autostart && !p->autostart && ::symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST)
            throw systemError(ErrDomain::Storage, "Failed to create symlink '" + link + "' to '" + target + "'", errno);
        if (!autostart && p->autostart && ::unlink(link.c_str()) != 0 && errno != ENOENT)
            throw systemError(ErrDomain::Storage, "Failed to delete symlink '" + link + "'", errno);
        before = p->shown();
        p->autostart = autostart;
        after = p->shown();
        id = p->def.uuid;
    }
    deliver({}, {}, {{{ObjectType::StoragePool, id, {}}, before ^ after}});
}

} // namespace virtbus

namespace virtbus {

std::string HostStorageDriver::findStoragePoolSources(
    const std::string& type, const std::string& srcSpec, uint32_t flags)
{
    auto backend = makeBackend(type);
    if (!backend) {
        if (!xml::isStoragePoolType(type))
            throw storage::storageErr(ErrCode::InternalError, "unknown storage pool type " + storage::echo(type));
        throw storage::storageErr(ErrCode::NoSupport, "pool type '" + type + "' does not support source discovery");
    }
    try {
        return backend->findSources(srcSpec, flags);
    } catch (const VirtError& e) {
        if (e.code() == ErrCode::NoSupport && std::string(e.what()).find("source discovery") != std::string::npos)
            throw storage::storageErr(ErrCode::NoSupport, "pool type '" + type + "' does not support source discovery");
        throw;
    }
}

} // namespace virtbus
