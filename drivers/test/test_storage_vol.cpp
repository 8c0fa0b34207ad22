// The test connection's storage volumes. They exist only on paper: a
// volume is its definition, named by the pool's target path and its name,
// and the pool's allocation follows the volumes' allocations.
#include "test/test_storage_internal.h"

#include <string_view>
#include <utility>

namespace virtbus {

using namespace teststorage;

namespace {

VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }

// virStorageVolType.
enum : int32_t { kVolFile = 0, kVolBlock = 1, kVolNetwork = 3 };

// testStorageVolumeTypeForPool: what GetInfo reports, whatever <volume
// type> the definition says.
int32_t volumeTypeForPool(const std::string& poolType)
{
    for (std::string_view t : {"dir", "fs", "netfs", "vstorage"})
        if (poolType == t)
            return kVolFile;
    for (std::string_view t : {"sheepdog", "iscsi-direct", "gluster", "rbd"})
        if (poolType == t)
            return kVolNetwork;
    return kVolBlock; // logical, disk, mpath, iscsi, scsi, zfs
}

} // namespace

// ---- tables ----

TestStorageDriver::Vol& TestStorageDriver::volByKey(const std::string& key)
{
    // Volumes of a stopped pool are kept but cannot be reached, as
    // libvirt's lookups search running pools only.
    auto it = byKey_.find(key);
    if (it == byKey_.end() || !it->second->pool->active)
        throw testErr(ErrCode::NoStorageVol, "no storage vol with matching key '" + echo(key) + "'");
    return *it->second;
}

VolRef TestStorageDriver::addVol(Pool& p, std::unique_ptr<Vol> v)
{
    xml::StorageVolDef& def = v->def;
    uint64_t allocation = def.allocation.value_or(def.capacity);
    def.allocation = allocation;
    // The test driver compares against the pool's own numbers, with
    // libvirt's unsigned arithmetic.
    if (p.def.allocation + allocation > p.def.capacity)
        throw testErr(ErrCode::InternalError, "Not enough free space in pool for volume '" + def.name + "'");
    // Key and path are "<pool target>/<name>" whatever the definition
    // says. Pools without a local target (rbd, gluster, iscsi-direct) get
    // what libvirt's printf makes of the missing target.
    std::string path = (p.def.targetPath.empty() ? std::string("(null)") : p.def.targetPath) + "/" + def.name;
    // Two pools may share a target path; libvirt would then hand out one
    // key for two volumes. Object paths are made from keys, so refuse.
    if (auto it = byKey_.find(path); it != byKey_.end())
        throw makeError(ErrCode::StorageVolExist, ErrDomain::Storage,
            "key '" + path + "' already belongs to a volume of storage pool '" + it->second->pool->name() + "'");
    def.targetPath = path;
    def.key = path;
    // The test driver's volumes are files unless their definition says
    // otherwise, whatever the pool (GetInfo reports the pool's kind).
    if (def.type.empty())
        def.type = "file";
    v->pool = &p;
    Vol* vol = v.get();
    p.vols.emplace(def.name, std::move(v));
    byKey_.emplace(vol->key(), vol);
    p.def.allocation += allocation;
    p.def.available = p.def.capacity - p.def.allocation;
    return vol->ref();
}

// ---- creation and deletion ----

VolRef TestStorageDriver::volCreateXML(const std::string& poolUuid, const std::string& xml, uint32_t flags)
{
    VolRef ref;
    {
        std::lock_guard lock(mu_);
        Pool& p = poolByUuid(poolUuid);
        checkFlags(flags, 0, "testStorageVolCreateXML");
        requireActive(p);
        auto v = std::make_unique<Vol>();
        v->def = xml::parseStorageVolXML(xml, p.def.type);
        if (p.vols.count(v->def.name))
            throw testErr(ErrCode::OperationFailed, "storage vol already exists");
        ref = addVol(p, std::move(v));
    }
    if (EventSink* s = sink())
        s->objectAdded({ObjectType::StorageVol, ref.key, {}});
    return ref;
}

VolRef TestStorageDriver::volCreateXMLFrom(
    const std::string& poolUuid, const std::string& xml, const std::string& srcKey, uint32_t flags)
{
    VolRef ref;
    {
        std::lock_guard lock(mu_);
        Pool& p = poolByUuid(poolUuid);
        // libvirt-dbus looks the source volume up by key before the call.
        const std::string srcName = volByKey(srcKey).def.name;
        checkFlags(flags, 0, "testStorageVolCreateXMLFrom");
        requireActive(p);
        auto v = std::make_unique<Vol>();
        v->def = xml::parseStorageVolXML(xml, p.def.type);
        if (p.vols.count(v->def.name))
            throw testErr(ErrCode::OperationFailed, "storage vol already exists");
        // libvirt's test driver looks the source up by name in the target
        // pool, and copies nothing from it: the clone is its own definition.
        if (!p.vols.count(srcName))
            throw testErr(ErrCode::NoStorageVol, "no storage vol with matching name '" + srcName + "'");
        ref = addVol(p, std::move(v));
    }
    if (EventSink* s = sink())
        s->objectAdded({ObjectType::StorageVol, ref.key, {}});
    return ref;
}

void TestStorageDriver::volDelete(const std::string& key, uint32_t flags)
{
    std::string gone;
    {
        std::lock_guard lock(mu_);
        Vol& v = volByKey(key);
        checkFlags(flags, 0, "testStorageVolDelete");
        Pool& p = *v.pool;
        p.def.allocation -= v.allocation();
        p.def.available = p.def.capacity - p.def.allocation;
        gone = v.key();
        byKey_.erase(gone);
        p.vols.erase(std::string(v.def.name)); // destroys v: erase by a copy of the name
    }
    if (EventSink* s = sink())
        s->objectRemoved({ObjectType::StorageVol, gone, {}});
}

// ---- lookups ----

VolRef TestStorageDriver::volLookupByName(const std::string& poolUuid, const std::string& name)
{
    std::lock_guard lock(mu_);
    const Pool& p = poolByUuid(poolUuid);
    requireActive(p);
    auto it = p.vols.find(name);
    if (it == p.vols.end())
        throw testErr(ErrCode::NoStorageVol, "no storage vol with matching name '" + echo(name) + "'");
    return it->second->ref();
}

VolRef TestStorageDriver::volLookupByKey(const std::string& key)
{
    std::lock_guard lock(mu_);
    return volByKey(key).ref();
}

VolRef TestStorageDriver::volLookupByPath(const std::string& path)
{
    // A test volume's path is its key.
    std::lock_guard lock(mu_);
    auto it = byKey_.find(path);
    if (it == byKey_.end() || !it->second->pool->active || it->second->def.targetPath != path)
        throw testErr(ErrCode::NoStorageVol, "no storage vol with matching path '" + echo(path) + "'");
    return it->second->ref();
}

bool TestStorageDriver::volExists(const std::string& key)
{
    std::lock_guard lock(mu_);
    auto it = byKey_.find(key);
    return it != byKey_.end() && it->second->pool->active;
}

// ---- information ----

VolInfo TestStorageDriver::volGetInfo(const std::string& key, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Vol& v = volByKey(key);
    checkFlags(flags, 0, "testStorageVolGetInfo");
    return {volumeTypeForPool(v.pool->def.type), v.def.capacity, v.allocation()};
}

std::string TestStorageDriver::volGetXMLDesc(const std::string& key, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Vol& v = volByKey(key);
    checkFlags(flags, 0, "testStorageVolGetXMLDesc");
    return xml::formatStorageVolXML(v.def, v.pool->def.type);
}

} // namespace virtbus
