// The test connection's storage pools: the tables, listings, lookups and
// every pool-level call. Volumes live in test_storage_vol.cpp, source
// conflicts and FindStoragePoolSources in test_storage_sources.cpp.
#include "test/test_storage_internal.h"

#include "storage/pool_rules.h"
#include "xml/domain_xml.h" // isValidUUID, normalizeUUID

#include <utility>

namespace virtbus {

using namespace teststorage;

namespace {

// virStoragePoolState.
enum : int32_t { kStateInactive = 0, kStateRunning = 2 };

// VIR_STORAGE_POOL_DEFINE_VALIDATE.
constexpr uint32_t kDefineValidate = 1u << 0;

// The pool libvirt's test driver starts with (defaultConnXML).
constexpr const char* kDefaultPoolXML = "<pool type='dir'>"
                                        "  <name>default-pool</name>"
                                        "  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>"
                                        "  <target>"
                                        "    <path>/default-pool</path>"
                                        "  </target>"
                                        "</pool>";

// Errors raised by test_driver.c carry VIR_FROM_TEST, those of the shared
// pool object code (virstorageobj.c) VIR_FROM_STORAGE.
VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }
VirtError storageErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Storage, detail); }

// testStoragePoolObjSetDefaults: every pool claims the same capacity,
// whatever volumes it holds.
void setDefaults(xml::StoragePoolDef& def)
{
    def.capacity = kPoolCapacity;
    def.allocation = 0;
    def.available = kPoolCapacity;
}

} // namespace

TestStorageDriver::TestStorageDriver()
{
    // testParseStorage: a persistent pool with the default sizes, active.
    Pool& p = addPool(xml::parseStoragePoolXML(kDefaultPoolXML), false);
    setDefaults(p.def);
    p.persistent = true;
    p.active = true;
}

TestStorageDriver::~TestStorageDriver() = default;

// ---- tables ----
//
// Calls on one pool find it first and check flags after: libvirt-dbus
// looks the pool up by UUID before calling into libvirt, so a missing pool
// is reported before a bad flag.

TestStorageDriver::Pool& TestStorageDriver::poolByUuid(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end() && xml::isValidUUID(uuid))
        it = byUuid_.find(xml::normalizeUUID(uuid));
    if (it == byUuid_.end())
        throw testErr(ErrCode::NoStoragePool, "no storage pool with matching uuid '" + echo(uuid) + "'");
    return *it->second;
}

TestStorageDriver::Pool& TestStorageDriver::poolByName(const std::string& name)
{
    auto it = byName_.find(name);
    if (it == byName_.end())
        throw testErr(ErrCode::NoStoragePool, "no storage pool with matching name '" + echo(name) + "'");
    return *it->second;
}

void TestStorageDriver::requireActive(const Pool& p)
{
    if (!p.active)
        throw testErr(ErrCode::OperationInvalid, "storage pool '" + p.name() + "' is not active");
}

void TestStorageDriver::requireInactive(const Pool& p)
{
    if (p.active)
        throw testErr(ErrCode::OperationInvalid, "storage pool '" + p.name() + "' is active");
}

TestStorageDriver::Pool& TestStorageDriver::addPool(xml::StoragePoolDef&& def, bool checkLive)
{
    // A directory pool can only conflict with another directory pool, by
    // target path; every other type is checked against each pool.
    const Pool* conflict = nullptr;
    if (def.type == "dir") {
        if (auto it = dirByTarget_.find(def.targetPath); it != dirByTarget_.end())
            conflict = it->second;
    } else {
        for (const auto& [name, other] : byName_) {
            if (name != def.name && storage::sourceConflict(other->def, def)) {
                conflict = other;
                break;
            }
        }
    }
    if (conflict && conflict->name() != def.name)
        throw storageErr(ErrCode::OperationFailed, "Storage source conflict with pool: '" + conflict->name() + "'");
    if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
        Pool& p = *it->second;
        if (p.name() != def.name)
            throw storageErr(
                ErrCode::OperationFailed, "pool '" + p.name() + "' is already defined with uuid " + p.uuid());
        if (checkLive && p.active)
            throw storageErr(ErrCode::OperationInvalid, "pool is already active as '" + p.name() + "'");
        // virStoragePoolObjAssignDef: a running pool parks the definition
        // in newDef, which the test driver never uses; a stopped one takes
        // it at once.
        if (!p.active)
            setDef(p, std::move(def));
        return p;
    }
    if (auto it = byName_.find(def.name); it != byName_.end())
        throw storageErr(
            ErrCode::OperationFailed, "pool '" + def.name + "' already exists with uuid " + it->second->uuid());
    auto owned = std::make_unique<Pool>();
    Pool* p = owned.get();
    setDef(*p, std::move(def));
    byName_.emplace(p->name(), p);
    byUuid_.emplace(p->uuid(), std::move(owned));
    return *p;
}

void TestStorageDriver::setDef(Pool& p, xml::StoragePoolDef&& def)
{
    if (p.def.type == "dir")
        dirByTarget_.erase(p.def.targetPath);
    p.def = std::move(def);
    if (p.def.type == "dir")
        dirByTarget_[p.def.targetPath] = &p;
}

void TestStorageDriver::volumesShown(const Pool& p, bool shown, TreeEvents& tree)
{
    for (const auto& [name, v] : p.vols) {
        if (shown)
            tree.added(ObjectType::StorageVol, v->key());
        else
            tree.removed(ObjectType::StorageVol, v->key());
    }
}

void TestStorageDriver::removePool(Pool& p)
{
    for (const auto& [name, v] : p.vols)
        byKey_.erase(v->key());
    if (p.def.type == "dir")
        dirByTarget_.erase(p.def.targetPath);
    byName_.erase(p.name());
    byUuid_.erase(std::string(p.uuid())); // destroys p: erase by a copy of the key
}

void TestStorageDriver::emitLifecycle(const std::string& uuid, int32_t event)
{
    // libvirt's test driver gives every storage pool event detail 0.
    if (EventSink* s = sink())
        s->storagePoolLifecycle(uuid, event, 0);
}

void TestStorageDriver::emitRefresh(const std::string& uuid)
{
    if (EventSink* s = sink())
        s->storagePoolRefresh(uuid);
}

// ---- listings and lookups ----

std::vector<PoolRef> TestStorageDriver::listStoragePools(uint32_t flags)
{
    checkFlags(flags, storage::kPoolListAll, "testConnectListAllStoragePools");
    std::lock_guard lock(mu_);
    std::vector<PoolRef> out;
    out.reserve(byName_.size());
    for (const auto& [name, p] : byName_) {
        if (storage::matchesPoolListFlags(flags, p->def.type, p->active, p->persistent, p->persistent && p->autostart))
            out.push_back(p->ref());
    }
    return out;
}

PoolRef TestStorageDriver::poolLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    return poolByName(name).ref();
}

PoolRef TestStorageDriver::poolLookupByUUID(const std::string& uuid)
{
    // virStoragePoolLookupByUUIDString parses the text before the driver
    // sees it; its virReportInvalidArg message has no "invalid argument"
    // prefix.
    if (!xml::isValidUUID(uuid))
        throw VirtError(
            ErrCode::InvalidArg, ErrDomain::None, "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID");
    std::string canonical = xml::normalizeUUID(uuid);
    std::lock_guard lock(mu_);
    auto it = byUuid_.find(canonical);
    if (it == byUuid_.end())
        throw testErr(ErrCode::NoStoragePool, "no storage pool with matching uuid '" + canonical + "'");
    return it->second->ref();
}

bool TestStorageDriver::poolExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return byUuid_.count(uuid) != 0;
}

PoolSummary TestStorageDriver::poolSummary(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    const Pool& p = poolByUuid(uuid);
    PoolSummary s;
    s.uuid = p.uuid();
    s.name = p.name();
    s.active = p.active;
    s.persistent = p.persistent;
    // testStoragePoolGetAutostart: a pool without a config file never
    // autostarts.
    s.autostart = p.persistent && p.autostart;
    return s;
}

// ---- lifecycle ----

PoolRef TestStorageDriver::poolCreateXML(const std::string& xml, uint32_t flags)
{
    checkFlags(flags, 0, "testStoragePoolCreateXML");
    xml::StoragePoolDef def = xml::parseStoragePoolXML(xml);
    PoolRef ref;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        auto old = byUuid_.find(def.uuid);
        uint32_t before = old == byUuid_.end() ? TreeEvents::kNew : old->second->shown();
        Pool& p = addPool(std::move(def), true);
        // libvirt's test driver also fakes a vHBA node device (scsi_host12)
        // for a pool with an fc_host adapter, and removes it on Destroy.
        // Node devices belong to another driver this one cannot reach, so
        // only the pool itself is created here.
        setDefaults(p.def);
        // Transient, even when it took over a stopped persistent pool: the
        // test driver drops the config file, so Destroy will remove it.
        p.persistent = false;
        p.active = true;
        ref = p.ref();
        tree.addedOrFlipped(ObjectType::StoragePool, ref.uuid, before, p.shown());
        volumesShown(p, true, tree);
    }
    tree.deliver(sink());
    emitLifecycle(ref.uuid, ev::PoolStarted);
    return ref;
}

PoolRef TestStorageDriver::poolDefineXML(const std::string& xml, uint32_t flags)
{
    checkFlags(flags, kDefineValidate, "testStoragePoolDefineXML");
    xml::StoragePoolDef def
        = xml::parseStoragePoolXML(xml, (flags & kDefineValidate) ? unsigned(xml::STORAGE_POOL_PARSE_VALIDATE) : 0u);
    setDefaults(def);
    PoolRef ref;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        auto old = byUuid_.find(def.uuid);
        uint32_t before = old == byUuid_.end() ? TreeEvents::kNew : old->second->shown();
        Pool& p = addPool(std::move(def), false);
        // As libvirt's test driver does, this resets the sizes of the
        // definition in force, even a running pool's with volumes in it.
        setDefaults(p.def);
        p.persistent = true;
        ref = p.ref();
        tree.addedOrFlipped(ObjectType::StoragePool, ref.uuid, before, p.shown());
    }
    tree.deliver(sink());
    emitLifecycle(ref.uuid, ev::PoolDefined);
    return ref;
}

void TestStorageDriver::poolBuild(const std::string& uuid, uint32_t flags)
{
    std::string id;
    {
        std::lock_guard lock(mu_);
        const Pool& p = poolByUuid(uuid);
        checkFlags(flags, 0, "testStoragePoolBuild");
        requireInactive(p);
        id = p.uuid();
    }
    // Nothing to build in the test world; only the event tells.
    emitLifecycle(id, ev::PoolCreated);
}

void TestStorageDriver::poolCreate(const std::string& uuid, uint32_t flags)
{
    std::string id;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Pool& p = poolByUuid(uuid);
        checkFlags(flags, 0, "testStoragePoolCreate");
        requireInactive(p);
        uint32_t before = p.shown();
        p.active = true;
        id = p.uuid();
        tree.addedOrFlipped(ObjectType::StoragePool, id, before, p.shown());
        volumesShown(p, true, tree);
    }
    tree.deliver(sink());
    emitLifecycle(id, ev::PoolStarted);
}

void TestStorageDriver::poolDelete(const std::string& uuid, uint32_t flags)
{
    std::string id;
    {
        std::lock_guard lock(mu_);
        const Pool& p = poolByUuid(uuid);
        checkFlags(flags, 0, "testStoragePoolDelete");
        requireInactive(p);
        id = p.uuid();
    }
    // The pool, its definition and its volumes stay; only the event tells.
    emitLifecycle(id, ev::PoolDeleted);
}

void TestStorageDriver::poolDestroy(const std::string& uuid)
{
    std::string id;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Pool& p = poolByUuid(uuid);
        requireActive(p);
        // Volumes stay with a stopped pool (unreachable until it starts
        // again); a transient pool goes with them.
        uint32_t before = p.shown();
        p.active = false;
        id = p.uuid();
        volumesShown(p, false, tree);
        if (!p.persistent) {
            removePool(p);
            tree.removed(ObjectType::StoragePool, id);
        } else {
            tree.addedOrFlipped(ObjectType::StoragePool, id, before, p.shown());
        }
    }
    tree.deliver(sink());
    emitLifecycle(id, ev::PoolStopped);
}

void TestStorageDriver::poolUndefine(const std::string& uuid)
{
    std::string id;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Pool& p = poolByUuid(uuid);
        requireInactive(p);
        id = p.uuid();
        removePool(p); // its volumes stopped being objects when it stopped
        tree.removed(ObjectType::StoragePool, id);
    }
    tree.deliver(sink());
    emitLifecycle(id, ev::PoolUndefined);
}

void TestStorageDriver::poolRefresh(const std::string& uuid, uint32_t flags)
{
    std::string id;
    {
        std::lock_guard lock(mu_);
        const Pool& p = poolByUuid(uuid);
        checkFlags(flags, 0, "testStoragePoolRefresh");
        requireActive(p);
        id = p.uuid();
    }
    // virStoragePoolEventRefreshNew: the pool's own Refresh signal, no
    // lifecycle event.
    emitRefresh(id);
}

void TestStorageDriver::poolSetAutostart(const std::string& uuid, bool autostart)
{
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Pool& p = poolByUuid(uuid);
        if (!p.persistent)
            throw testErr(ErrCode::InvalidArg, "pool has no config file");
        uint32_t before = p.shown();
        p.autostart = autostart;
        tree.addedOrFlipped(ObjectType::StoragePool, p.uuid(), before, p.shown());
    }
    tree.deliver(sink());
}

PoolInfo TestStorageDriver::poolGetInfo(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    const Pool& p = poolByUuid(uuid);
    return {p.active ? kStateRunning : kStateInactive, p.def.capacity, p.def.allocation, p.def.available};
}

std::string TestStorageDriver::poolGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Pool& p = poolByUuid(uuid);
    // testStoragePoolGetXMLDesc accepts no flags, not even
    // VIR_STORAGE_XML_INACTIVE.
    checkFlags(flags, 0, "testStoragePoolGetXMLDesc");
    return xml::formatStoragePoolXML(p.def);
}

std::vector<VolRef> TestStorageDriver::poolListVolumes(const std::string& uuid, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Pool& p = poolByUuid(uuid);
    checkFlags(flags, 0, "testStoragePoolListAllVolumes");
    if (!p.active)
        throw testErr(ErrCode::OperationInvalid, "storage pool is not active");
    std::vector<VolRef> out;
    out.reserve(p.vols.size());
    for (const auto& [name, v] : p.vols)
        out.push_back(v->ref());
    return out;
}

} // namespace virtbus
