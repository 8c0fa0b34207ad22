// The storage pools and volumes of libvirt's "test:///default" connection:
// the `default-pool` directory pool at start, then whatever clients define.
// Behaviour, checks, error texts and events follow libvirt 9.0's test
// driver (checked against the real library with virsh), quirks included:
// every pool claims 100 GiB, volumes outlive a pool's Destroy, a
// definition given to a running pool never comes into force, and Build
// and Delete only report their events.
//
// The world is rebuilt by the constructor and nothing persists. One mutex
// guards all state; events are delivered after it is released, so an
// EventSink may call straight back into the driver.
#pragma once

#include "object_drivers.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace virtbus {

namespace xml {
struct StoragePoolDef;
}
class TreeEvents;

class TestStorageDriver : public StorageDriver {
public:
    TestStorageDriver();
    ~TestStorageDriver() override;
    TestStorageDriver(const TestStorageDriver&) = delete;
    TestStorageDriver& operator=(const TestStorageDriver&) = delete;

    // ---- pools (test_storage.cpp) ----
    std::vector<PoolRef> listStoragePools(uint32_t flags) override;
    PoolRef poolLookupByName(const std::string& name) override;
    PoolRef poolLookupByUUID(const std::string& uuid) override;
    bool poolExists(const std::string& uuid) override;
    PoolSummary poolSummary(const std::string& uuid) override;
    PoolRef poolCreateXML(const std::string& xml, uint32_t flags) override;
    PoolRef poolDefineXML(const std::string& xml, uint32_t flags) override;
    void poolBuild(const std::string& uuid, uint32_t flags) override;
    void poolCreate(const std::string& uuid, uint32_t flags) override;
    void poolDelete(const std::string& uuid, uint32_t flags) override;
    void poolDestroy(const std::string& uuid) override;
    void poolUndefine(const std::string& uuid) override;
    void poolRefresh(const std::string& uuid, uint32_t flags) override;
    void poolSetAutostart(const std::string& uuid, bool autostart) override;
    PoolInfo poolGetInfo(const std::string& uuid) override;
    std::string poolGetXMLDesc(const std::string& uuid, uint32_t flags) override;
    std::vector<VolRef> poolListVolumes(const std::string& uuid, uint32_t flags) override;
    std::string findStoragePoolSources(const std::string& type, const std::string& srcSpec, uint32_t flags) override;

    // ---- volumes (test_storage_vol.cpp) ----
    VolRef volCreateXML(const std::string& poolUuid, const std::string& xml, uint32_t flags) override;
    VolRef volCreateXMLFrom(
        const std::string& poolUuid, const std::string& xml, const std::string& srcKey, uint32_t flags) override;
    VolRef volLookupByName(const std::string& poolUuid, const std::string& name) override;
    VolRef volLookupByKey(const std::string& key) override;
    VolRef volLookupByPath(const std::string& path) override;
    bool volExists(const std::string& key) override;
    void volDelete(const std::string& key, uint32_t flags) override;
    // libvirt's test driver has storageVolGetInfo but no
    // storageVolGetInfoFlags; this answers as the former (flags must be 0).
    VolInfo volGetInfo(const std::string& key, uint32_t flags) override;
    std::string volGetXMLDesc(const std::string& key, uint32_t flags) override;
    // volResize and volWipe stay with the base: libvirt's test driver has
    // neither storageVolResize nor storageVolWipe(Pattern).

private:
    // Defined in test_storage_internal.h, shared by the two sources.
    struct Pool;
    struct Vol;

    // Lookups that raise libvirt's errors.
    Pool& poolByUuid(const std::string& uuid);
    Pool& poolByName(const std::string& name);
    // The state checks of testStoragePoolObjFindActiveByName and
    // FindInactiveByName.
    static void requireActive(const Pool& p);
    static void requireInactive(const Pool& p);
    // A volume of a running pool, by key (what libvirt-dbus looks up
    // before every volume call).
    Vol& volByKey(const std::string& key);

    // virStoragePoolObjListAdd: source conflicts, duplicate names and
    // UUIDs, then a new pool or a replaced definition.
    Pool& addPool(xml::StoragePoolDef&& def, bool checkLive);
    void removePool(Pool& p);
    void setDef(Pool& p, xml::StoragePoolDef&& def);
    // Volumes are objects only while their pool runs: when a pool starts
    // they appear, when it stops they go.
    static void volumesShown(const Pool& p, bool shown, TreeEvents& tree);
    // Names the volume after the pool, checks space and key, and adds it.
    VolRef addVol(Pool& p, std::unique_ptr<Vol> v);

    void emitLifecycle(const std::string& uuid, int32_t event);
    void emitRefresh(const std::string& uuid);

    std::mutex mu_;
    std::unordered_map<std::string, std::unique_ptr<Pool>> byUuid_; // canonical UUID -> pool
    std::map<std::string, Pool*> byName_; // sorted: listings come out by name
    std::unordered_map<std::string, Vol*> byKey_; // every volume of every pool, by key
    // Directory pools by target path: the one source conflict that can
    // involve thousands of pools, kept out of the linear search.
    std::unordered_map<std::string, Pool*> dirByTarget_;
};

} // namespace virtbus
