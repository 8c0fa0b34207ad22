// The storage driver's tables: where definitions and state live, loading
// them at start, lookups, listings and the events every operation ends
// with. Pool operations are in storage_pool_ops.cpp, volumes in
// storage_vol_ops.cpp.
#include "storage/storage_internal.h"

#include "fileutil.h"
#include "storage/pool_rules.h"
#include "xml/domain_xml.h" // isValidUUID, normalizeUUID

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace virtbus {

namespace storage {

VirtError storageErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Storage, detail); }

std::string echo(const std::string& s)
{
    constexpr size_t kMaxEcho = 1024;
    return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s;
}

void requireActive(const HostStorageDriver::Pool& p)
{
    if (!p.active)
        throw storageErr(ErrCode::OperationInvalid, "storage pool '" + p.def.name + "' is not active");
}

void requireNoJobs(const HostStorageDriver::Pool& p)
{
    if (p.jobs > 0)
        throw storageErr(ErrCode::OperationInvalid, "pool '" + p.def.name + "' has asynchronous jobs running.");
}

} // namespace storage

using namespace storage;

namespace {

std::string envOr(const char* name, const std::string& fallback)
{
    const char* v = getenv(name);
    return v && *v ? v : fallback;
}

// The <name>.xml files of a directory.
std::vector<std::string> xmlFiles(const std::string& dir)
{
    std::vector<std::string> out;
    DIR* d = opendir(dir.c_str());
    if (!d)
        return out;
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 4 && n.compare(n.size() - 4, 4, ".xml") == 0 && n[0] != '.')
            out.push_back(n.substr(0, n.size() - 4));
    }
    closedir(d);
    return out;
}

} // namespace

StorageConfig StorageConfig::beside(const std::string& configParent, const std::string& stateParent)
{
    StorageConfig c;
    c.configDir = envOr("VIRTBUS_STORAGE_CONFIG_DIR", configParent + "/storage");
    c.autostartDir = envOr("VIRTBUS_STORAGE_AUTOSTART_DIR", c.configDir + "/autostart");
    std::string state = stateParent + "/storage";
    // One directory for both (a test's layout): state files go below.
    c.stateDir = envOr("VIRTBUS_STORAGE_STATE_DIR", state == c.configDir ? state + "/state" : state);
    return c;
}

HostStorageDriver::HostStorageDriver(StorageConfig cfg) : cfg_(std::move(cfg))
{
    for (const auto* dir : {&cfg_.configDir, &cfg_.autostartDir, &cfg_.stateDir})
        makeDirs(*dir, 0700, ErrDomain::Storage);
    loadAll();
}

HostStorageDriver::~HostStorageDriver() = default;

// Persistent pools from the config directory, then what was running from
// the state directory: a pool still up (its directory there, its file
// system mounted) is running again, with its volumes found afresh;
// anything else is forgotten as stopped.
void HostStorageDriver::loadAll()
{
    auto load = [](const std::string& file) -> std::optional<xml::StoragePoolDef> {
        auto text = readFile(file);
        if (!text)
            return std::nullopt;
        try {
            return xml::parseStoragePoolXML(*text);
        } catch (const VirtError&) {
            return std::nullopt; // a broken file must not keep the daemon down
        }
    };
    std::lock_guard lock(mu_);
    for (const auto& name : xmlFiles(cfg_.configDir)) {
        auto def = load(cfg_.configDir + "/" + name + ".xml");
        if (!def || def->name != name || byUuid_.count(def->uuid) || byName_.count(name))
            continue;
        auto backend = makeBackend(def->type);
        if (!backend)
            continue;
        auto p = std::make_shared<Pool>();
        p->def = std::move(*def);
        p->backend = std::move(backend);
        p->persistent = true;
        p->autostart = ::access((cfg_.autostartDir + "/" + name + ".xml").c_str(), F_OK) == 0;
        byName_[name] = p.get();
        byUuid_[p->def.uuid] = std::move(p);
    }
    for (const auto& name : xmlFiles(cfg_.stateDir)) {
        std::string file = cfg_.stateDir + "/" + name + ".xml";
        auto def = load(file);
        std::shared_ptr<Pool> p;
        if (def && def->name == name) {
            if (auto it = byUuid_.find(def->uuid); it != byUuid_.end())
                p = it->second;
            else if (!byName_.count(name) && makeBackend(def->type)) {
                p = std::make_shared<Pool>();
                p->backend = makeBackend(def->type);
                p->def = *def;
                byName_[name] = p.get();
                byUuid_[def->uuid] = p;
            }
        }
        if (!p || p->def.name != name || !p->backend->stillActive(*def)) {
            ::unlink(file.c_str());
            if (p && !p->persistent)
                dropPool(*p);
            continue;
        }
        if (p->persistent && !(p->def == *def))
            p->newDef = std::move(p->def);
        p->def = std::move(*def);
        p->active = true;
        std::vector<ObjectId> added, removed;
        try {
            std::vector<xml::StorageVolDef> found;
            PoolSpace space = p->backend->refresh(p->def, found); // no client yet to wait for mu_
            applyRefresh(*p, std::move(found), space, added, removed);
        } catch (const VirtError&) {
            // Up but unreadable: kept running, as libvirt keeps a pool it
            // cannot refresh at startup; a Refresh will report why.
        }
    }
}

// Autostart: libvirt starts every autostarted pool that is not running,
// and carries on past one that fails.
void HostStorageDriver::start()
{
    std::vector<std::string> todo;
    {
        std::lock_guard lock(mu_);
        for (const auto& [uuid, p] : byUuid_)
            if (p->persistent && p->autostart && !p->active)
                todo.push_back(uuid);
    }
    for (const auto& uuid : todo) {
        try {
            poolCreate(uuid, 0);
        } catch (const VirtError&) {
            // Left stopped; GetInfo and Create tell the administrator why.
        }
    }
}

// ---- persistence ----

void HostStorageDriver::saveConfig(const Pool& p)
{
    const auto& def = p.inactiveDef();
    writeFileAtomic(cfg_.configDir + "/" + def.name + ".xml", xml::formatStoragePoolXML(def),
        "cannot save config of pool '" + def.name + "'", ErrDomain::Storage);
}

void HostStorageDriver::saveState(const Pool& p)
{
    writeFileAtomic(cfg_.stateDir + "/" + p.def.name + ".xml", xml::formatStoragePoolXML(p.def),
        "cannot save state of pool '" + p.def.name + "'", ErrDomain::Storage);
}

// ---- tables ----

std::shared_ptr<HostStorageDriver::Pool> HostStorageDriver::poolByUuid(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end() && xml::isValidUUID(uuid))
        it = byUuid_.find(xml::normalizeUUID(uuid));
    if (it == byUuid_.end())
        throw storageErr(ErrCode::NoStoragePool, "no storage pool with matching uuid '" + echo(uuid) + "'");
    return it->second;
}

std::shared_ptr<HostStorageDriver::Pool> HostStorageDriver::poolByName(const std::string& name)
{
    auto it = byName_.find(name);
    if (it == byName_.end())
        throw storageErr(ErrCode::NoStoragePool, "no storage pool with matching name '" + echo(name) + "'");
    return byUuid_.at(it->second->def.uuid);
}

HostStorageDriver::Vol& HostStorageDriver::volByKey(const std::string& key)
{
    auto it = byKey_.find(key);
    if (it == byKey_.end())
        throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching key " + echo(key));
    return *it->second;
}

std::shared_ptr<HostStorageDriver::Pool> HostStorageDriver::addPool(xml::StoragePoolDef&& def, bool forStart)
{
    for (const auto& [name, other] : byName_)
        if (name != def.name && sourceConflict(other->def, def))
            throw storageErr(ErrCode::OperationFailed, "Storage source conflict with pool: '" + name + "'");
    if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
        auto p = it->second;
        if (p->def.name != def.name)
            throw storageErr(
                ErrCode::OperationFailed, "pool '" + p->def.name + "' is already defined with uuid " + p->def.uuid);
        if (forStart && p->active)
            throw storageErr(ErrCode::OperationInvalid, "pool is already active as '" + p->def.name + "'");
        if (def.type != p->def.type)
            p->backend = makeBackend(def.type);
        // A running pool keeps its definition until it stops.
        if (p->active)
            p->newDef = std::move(def);
        else
            p->def = std::move(def);
        return p;
    }
    if (auto it = byName_.find(def.name); it != byName_.end())
        throw storageErr(
            ErrCode::OperationFailed, "pool '" + def.name + "' already exists with uuid " + it->second->def.uuid);
    auto p = std::make_shared<Pool>();
    p->backend = makeBackend(def.type);
    p->def = std::move(def);
    byName_[p->def.name] = p.get();
    byUuid_[p->def.uuid] = p;
    return p;
}

void HostStorageDriver::dropPool(const Pool& p)
{
    for (const auto& [name, v] : p.vols)
        byKey_.erase(v->def.key);
    byName_.erase(p.def.name);
    auto keep = byUuid_[p.def.uuid]; // p stays alive until this returns
    keep->gone = true;
    byUuid_.erase(p.def.uuid);
}

void HostStorageDriver::applyRefresh(Pool& p, std::vector<xml::StorageVolDef>&& found, const PoolSpace& space,
    std::vector<ObjectId>& added, std::vector<ObjectId>& removed)
{
    std::map<std::string, std::unique_ptr<Vol>> vols;
    for (auto& def : found) {
        auto old = p.vols.find(def.name);
        if (old != p.vols.end() && old->second->def.key == def.key) {
            old->second->def = std::move(def);
            vols.emplace(old->first, std::move(old->second));
            p.vols.erase(old);
            continue;
        }
        auto v = std::make_unique<Vol>();
        v->def = std::move(def);
        v->pool = &p;
        byKey_[v->def.key] = v.get();
        added.push_back({ObjectType::StorageVol, v->def.key, {}});
        vols.emplace(v->def.name, std::move(v));
    }
    for (auto& [name, v] : p.vols) {
        if (v->jobs > 0) { // a job still holds it: it stays until the job ends
            vols.emplace(name, std::move(v));
            continue;
        }
        byKey_.erase(v->def.key);
        removed.push_back({ObjectType::StorageVol, v->def.key, {}});
    }
    p.vols = std::move(vols);
    p.def.capacity = space.capacity;
    p.def.allocation = space.allocation;
    p.def.available = space.available;
}

void HostStorageDriver::deliver(const std::vector<ObjectId>& added, const std::vector<ObjectId>& removed,
    const std::vector<std::pair<ObjectId, uint32_t>>& changed)
{
    EventSink* s = sink();
    if (!s)
        return;
    for (const auto& id : removed)
        s->objectRemoved(id);
    for (const auto& id : added)
        s->objectAdded(id);
    for (const auto& [id, props] : changed)
        if (props)
            s->propertiesChanged(id, props);
}

// ---- listings and lookups ----

std::vector<PoolRef> HostStorageDriver::listStoragePools(uint32_t flags)
{
    checkFlags(flags, kPoolListAll, "storageConnectListAllStoragePools");
    std::lock_guard lock(mu_);
    std::vector<PoolRef> out;
    out.reserve(byName_.size());
    for (const auto& [name, p] : byName_)
        if (matchesPoolListFlags(flags, p->def.type, p->active, p->persistent, p->persistent && p->autostart))
            out.push_back(p->ref());
    return out;
}

PoolRef HostStorageDriver::poolLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    return poolByName(name)->ref();
}

PoolRef HostStorageDriver::poolLookupByUUID(const std::string& uuid)
{
    if (!xml::isValidUUID(uuid))
        throw VirtError(
            ErrCode::InvalidArg, ErrDomain::None, "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID");
    std::lock_guard lock(mu_);
    return poolByUuid(xml::normalizeUUID(uuid))->ref();
}

bool HostStorageDriver::poolExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return byUuid_.count(uuid) != 0;
}

PoolSummary HostStorageDriver::poolSummary(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    auto p = poolByUuid(uuid);
    PoolSummary s;
    s.uuid = p->def.uuid;
    s.name = p->def.name;
    s.active = p->active;
    s.persistent = p->persistent;
    s.autostart = p->persistent && p->autostart;
    return s;
}

PoolInfo HostStorageDriver::poolGetInfo(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    auto p = poolByUuid(uuid);
    constexpr int32_t kInactive = 0, kRunning = 2;
    return {p->active ? kRunning : kInactive, p->def.capacity, p->def.allocation, p->def.available};
}

std::string HostStorageDriver::poolGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    constexpr uint32_t kInactiveXML = 1; // VIR_STORAGE_XML_INACTIVE
    std::lock_guard lock(mu_);
    auto p = poolByUuid(uuid);
    checkFlags(flags, kInactiveXML, "storagePoolGetXMLDesc");
    return xml::formatStoragePoolXML((flags & kInactiveXML) ? p->inactiveDef() : p->def);
}

std::vector<VolRef> HostStorageDriver::poolListVolumes(const std::string& uuid, uint32_t flags)
{
    std::lock_guard lock(mu_);
    auto p = poolByUuid(uuid);
    checkFlags(flags, 0, "storagePoolListAllVolumes");
    requireActive(*p);
    std::vector<VolRef> out;
    out.reserve(p->vols.size());
    for (const auto& [name, v] : p->vols)
        out.push_back(v->ref(p->def.uuid));
    return out;
}

} // namespace virtbus
