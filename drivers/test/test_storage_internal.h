// What the storage sources of the test driver share: the pool and volume
// records and libvirt's constants. Not part of any driver's API.
#pragma once

#include "tree_events.h"
#include "test/test_storage.h"
#include "xml/storage_pool_xml.h"
#include "xml/storage_vol_xml.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace virtbus {

// A volume. Its key and path are fixed when it is created, from the pool's
// target at that time, and never recomputed.
struct TestStorageDriver::Vol {
    xml::StorageVolDef def; // allocation always set
    Pool* pool = nullptr;

    const std::string& key() const { return def.key; }
    uint64_t allocation() const { return def.allocation.value_or(def.capacity); }
    VolRef ref() const;
};

// A pool (virStoragePoolObj). Only the definition in force is kept: the
// test driver parks a definition given to a running pool in newDef, but
// never reads it back, so no client can tell it was there.
struct TestStorageDriver::Pool {
    xml::StoragePoolDef def;
    bool active = false;
    // libvirt's test driver calls a pool persistent when it has a config
    // file name (even an empty one): DefineXML gives it one, CreateXML
    // takes it away.
    bool persistent = false;
    bool autostart = false;
    std::map<std::string, std::unique_ptr<Vol>> vols; // by name, so listings are sorted

    const std::string& uuid() const { return def.uuid; }
    const std::string& name() const { return def.name; }
    PoolRef ref() const { return {def.uuid, def.name}; }
    // The properties a call can change (Name and UUID are const), as
    // prop:: bits of those that are true: the bits a call flips are the
    // ones PropertiesChanged names. A pool without a config file never
    // autostarts (testStoragePoolGetAutostart).
    uint32_t shown() const
    {
        return (active ? prop::Active : 0u) | (persistent ? prop::Persistent : 0u)
            | (persistent && autostart ? prop::Autostart : 0u);
    }
};

inline VolRef TestStorageDriver::Vol::ref() const { return {def.key, def.name, def.targetPath, pool->uuid()}; }

namespace teststorage {

// Every test pool claims 100 GiB (defaultPoolCap) with nothing allocated
// until volumes are created.
inline constexpr uint64_t kPoolCapacity = 100ULL * 1024 * 1024 * 1024;

// Caller-supplied names and keys are echoed in errors; cap what we echo so
// a huge argument cannot make a huge reply.
std::string echo(const std::string& s);

} // namespace teststorage

} // namespace virtbus
