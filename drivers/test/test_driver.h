// libvirt's "test:///default" hypervisor: a world of fake domains that
// applications test against. Behaviour, flag checks, error texts and events
// follow libvirt 9.0's src/test/test_driver.c (checked against the real
// library), so a client cannot tell this driver from libvirt's.
//
// The world is rebuilt by the constructor and nothing persists. One mutex
// guards all state; events are collected while it is held and delivered
// after it is released, so an EventSink may call straight back into the
// driver.
#pragma once

#include "driver.h"
#include "test/test_network.h"
#include "test/test_interface.h"
#include "test/test_nodedev.h"
#include "test/test_storage.h"

#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace virtbus {

namespace xml {
struct DomainDef;
} // namespace xml

namespace testdrv {
struct TestDomain;
struct DomainProps;
struct Defs;
class Events;
} // namespace testdrv

class TestDriver : public Driver {
public:
    // libvirt's version number format (major * 1,000,000 + minor * 1,000 +
    // micro): virtbus answers as libvirt 9.0.0, whose test driver it mirrors.
    static constexpr uint64_t kLibVersion = 9000000;

    TestDriver();
    ~TestDriver() override;
    TestDriver(const TestDriver&) = delete;
    TestDriver& operator=(const TestDriver&) = delete;

    // The test world's other objects, each in its own driver as in libvirt.
    NetworkDriver& networks() override { return networks_; }
    StorageDriver& storage() override { return storage_; }
    InterfaceDriver& interfaces() override { return interfaces_; }
    NodeDeviceDriver& nodeDevices() override { return nodeDevices_; }

    // ---- connection and node (test_driver.cpp, test_world.cpp) ----
    std::string name() const override { return "Test"; }
    std::string uri() const override { return "test:///default"; }
    uint64_t version() override { return 2; }
    uint64_t libVersion() override { return kLibVersion; }
    std::string hostname() override;
    bool encrypted() override { return false; }
    bool secure() override { return false; }
    std::string capabilities() override;
    std::string sysinfo(uint32_t flags) override;
    std::vector<std::string> cpuModelNames(const std::string& arch, uint32_t flags) override;
    std::string baselineCPU(const std::vector<std::string>& xmlCPUs, uint32_t flags) override;
    std::vector<bool> nodeCPUMap(uint32_t flags) override;
    std::vector<std::pair<std::string, uint64_t>> nodeCPUStats(int32_t cpuNum, uint32_t flags) override;
    uint64_t nodeFreeMemory() override;
    std::tuple<std::string, std::string> nodeSecurityModel() override;
    std::vector<std::pair<DomainRef, TypedParams>> allDomainStats(uint32_t stats, uint32_t flags) override;

    // ---- lookups and listings (test_driver.cpp) ----
    std::vector<DomainRef> listDomains(uint32_t flags) override;
    DomainRef domainLookupByID(int32_t id) override;
    DomainRef domainLookupByName(const std::string& name) override;
    DomainRef domainLookupByUUID(const std::string& uuid) override;
    bool domainExists(const std::string& uuid) override;
    DomainSummary domainSummary(const std::string& uuid) override;

    // ---- lifecycle (test_lifecycle.cpp) ----
    DomainRef domainCreateXML(const std::string& xml, uint32_t flags) override;
    // libvirt's test driver starts the guest as usual and ignores the files.
    DomainRef domainCreateXMLWithFiles(const std::string& xml, const std::vector<int>&, uint32_t flags) override
    {
        return domainCreateXML(xml, flags);
    }
    DomainRef domainDefineXML(const std::string& xml, uint32_t flags) override;
    void domainSetAutostart(const std::string& uuid, bool autostart) override;
    void domainCreate(const std::string& uuid, uint32_t flags) override;
    void domainCreateWithFiles(const std::string& uuid, const std::vector<int>&, uint32_t flags) override
    {
        domainCreate(uuid, flags);
    }
    void domainDestroy(const std::string& uuid, uint32_t flags) override;
    void domainShutdown(const std::string& uuid, uint32_t flags) override;
    void domainReboot(const std::string& uuid, uint32_t flags) override;
    void domainReset(const std::string& uuid, uint32_t flags) override;
    void domainSuspend(const std::string& uuid) override;
    void domainResume(const std::string& uuid) override;
    void domainUndefine(const std::string& uuid, uint32_t flags) override;
    void domainRename(const std::string& uuid, const std::string& name, uint32_t flags) override;
    std::string domainGetXMLDesc(const std::string& uuid, uint32_t flags) override;
    std::tuple<int32_t, int32_t> domainGetState(const std::string& uuid, uint32_t flags) override;
    std::tuple<uint32_t, uint32_t, uint64_t> domainGetControlInfo(const std::string& uuid, uint32_t flags) override;

    // ---- save images and dumps (test_save.cpp) ----
    void domainSave(const std::string& uuid, const std::string& to, const std::string& xml, uint32_t flags) override;
    void domainRestore(const std::string& from, const std::string& xml, uint32_t flags) override;
    void domainSaveImageDefineXML(const std::string& file, const std::string& xml, uint32_t flags) override;
    std::string domainSaveImageGetXMLDesc(const std::string& file, uint32_t flags) override;
    void domainManagedSave(const std::string& uuid, uint32_t flags) override;
    bool domainHasManagedSaveImage(const std::string& uuid, uint32_t flags) override;
    void domainManagedSaveRemove(const std::string& uuid, uint32_t flags) override;
    void domainCoreDump(const std::string& uuid, const std::string& to, uint32_t format, uint32_t flags) override;

    // ---- memory, vCPUs, pinning, I/O threads (test_tuning.cpp) ----
    void domainSetMemory(const std::string& uuid, uint64_t kib, uint32_t flags) override;
    void domainSetMemoryStatsPeriod(const std::string& uuid, int32_t period, uint32_t flags) override;
    std::vector<std::pair<int32_t, uint64_t>> domainMemoryStats(const std::string& uuid, uint32_t flags) override;
    uint32_t domainGetVcpus(const std::string& uuid, uint32_t flags) override;
    void domainSetVcpus(const std::string& uuid, uint32_t count, uint32_t flags) override;
    std::vector<std::vector<bool>> domainGetVcpuPinInfo(const std::string& uuid, uint32_t flags) override;
    void domainPinVcpu(const std::string& uuid, uint32_t vcpu, const std::vector<bool>& map, uint32_t flags) override;
    std::vector<bool> domainGetEmulatorPinInfo(const std::string& uuid, uint32_t flags) override;
    void domainPinEmulator(const std::string& uuid, const std::vector<bool>& map, uint32_t flags) override;
    std::vector<std::tuple<uint32_t, std::vector<bool>>> domainGetIOThreadInfo(const std::string& uuid,
                                                                               uint32_t flags) override;
    void domainAddIOThread(const std::string& uuid, uint32_t id, uint32_t flags) override;
    void domainDelIOThread(const std::string& uuid, uint32_t id, uint32_t flags) override;
    void domainPinIOThread(const std::string& uuid, uint32_t id, const std::vector<bool>& map,
                           uint32_t flags) override;

    // ---- tunables and metadata (test_params.cpp, test_throttle.cpp, test_metadata.cpp) ----
    TypedParams domainGetMemoryParameters(const std::string& uuid, uint32_t flags) override;
    void domainSetMemoryParameters(const std::string& uuid, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetBlkioParameters(const std::string& uuid, uint32_t flags) override;
    void domainSetBlkioParameters(const std::string& uuid, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetNumaParameters(const std::string& uuid, uint32_t flags) override;
    void domainSetNumaParameters(const std::string& uuid, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetPerfEvents(const std::string& uuid, uint32_t flags) override;
    void domainSetPerfEvents(const std::string& uuid, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetSchedulerParameters(const std::string& uuid, uint32_t flags) override;
    void domainSetSchedulerParameters(const std::string& uuid, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetBlockIoTune(const std::string& uuid, const std::string& disk, uint32_t flags) override;
    void domainSetBlockIoTune(const std::string& uuid, const std::string& disk, const TypedParams& p,
                              uint32_t flags) override;
    TypedParams domainGetInterfaceParameters(const std::string& uuid, const std::string& dev,
                                             uint32_t flags) override;
    void domainSetInterfaceParameters(const std::string& uuid, const std::string& dev, const TypedParams& p,
                                      uint32_t flags) override;
    std::string domainGetMetadata(const std::string& uuid, int32_t type, const std::string& uri,
                                  uint32_t flags) override;
    void domainSetMetadata(const std::string& uuid, int32_t type, const std::string& metadata,
                           const std::string& key, const std::string& uri, uint32_t flags) override;

    // ---- what the guest would answer (test_guest.cpp) ----
    TypedParams domainGetStats(const std::string& uuid, uint32_t stats, uint32_t flags) override;
    std::string domainGetHostname(const std::string& uuid, uint32_t flags) override;
    std::tuple<uint64_t, uint32_t> domainGetTime(const std::string& uuid, uint32_t flags) override;
    void domainSetTime(const std::string& uuid, uint64_t seconds, uint32_t nseconds, uint32_t flags) override;
    std::vector<std::tuple<std::string, int32_t>> domainGetDiskErrors(const std::string& uuid,
                                                                     uint32_t flags) override;
    std::vector<uint8_t> domainMemoryPeek(const std::string& uuid, uint64_t offset, uint64_t size,
                                          uint32_t flags) override;
    std::vector<IfaceAddrs> domainInterfaceAddresses(const std::string& uuid, uint32_t source,
                                                     uint32_t flags) override;
    std::vector<FsInfo> domainGetFSInfo(const std::string& uuid, uint32_t flags) override;
    uint32_t domainFSFreeze(const std::string& uuid, const std::vector<std::string>& mounts, uint32_t flags) override;
    uint32_t domainFSThaw(const std::string& uuid, const std::vector<std::string>& mounts, uint32_t flags) override;
    void domainFSTrim(const std::string& uuid, const std::string& mount, uint64_t minimum, uint32_t flags) override;
    void domainInjectNMI(const std::string& uuid, uint32_t flags) override;
    void domainSendKey(const std::string& uuid, uint32_t codeset, uint32_t holdtime,
                       const std::vector<uint32_t>& keycodes, uint32_t flags) override;
    void domainSendProcessSignal(const std::string& uuid, int64_t pid, uint32_t sig, uint32_t flags) override;
    void domainSetUserPassword(const std::string& uuid, const std::string& user, const std::string& password,
                               uint32_t flags) override;

    // ---- snapshots (test_snapshot.cpp) ----
    std::vector<SnapshotRef> domainListSnapshots(const std::string& uuid, uint32_t flags) override;
    SnapshotRef domainSnapshotCreateXML(const std::string& uuid, const std::string& xml, uint32_t flags) override;
    SnapshotRef domainSnapshotLookupByName(const std::string& uuid, const std::string& name, uint32_t flags) override;
    SnapshotRef domainSnapshotCurrent(const std::string& uuid, uint32_t flags) override;
    bool snapshotExists(const std::string& uuid, const std::string& name) override;
    void snapshotDelete(const SnapshotRef& s, uint32_t flags) override;
    SnapshotRef snapshotGetParent(const SnapshotRef& s, uint32_t flags) override;
    std::string snapshotGetXMLDesc(const SnapshotRef& s, uint32_t flags) override;
    bool snapshotIsCurrent(const SnapshotRef& s, uint32_t flags) override;
    std::vector<SnapshotRef> snapshotListChildren(const SnapshotRef& s, uint32_t flags) override;
    void snapshotRevert(const SnapshotRef& s, uint32_t flags) override;

protected:
    // First address and prefix of a network's DHCP range (or its own
    // address), used to invent guest interface addresses. Asks networks();
    // while no network driver is attached, answers for the world's
    // `default` network.
    struct NetAddress {
        std::string address;
        unsigned prefix = 0;
        bool ipv6 = false;
    };
    virtual NetAddress networkFirstAddress(const std::string& network);

private:
    TestNetworkDriver networks_;
    TestStorageDriver storage_;
    TestInterfaceDriver interfaces_;
    TestNodeDeviceDriver nodeDevices_;

    using Events = testdrv::Events;
    using TestDomain = testdrv::TestDomain;

    void buildWorld();
    void flush(Events& events);

    // Lookups under mu_; failures raise libvirt's "Domain not found".
    TestDomain& dom(const std::string& uuid);
    TestDomain* findByName(const std::string& name);
    DomainRef refOf(const TestDomain& d) const;

    // virDomainObjListAdd: the one place domains enter the maps. `live`
    // starts the definition as a running domain's transient config. Leaves
    // the properties of a domain that already existed as they were.
    struct AddResult {
        TestDomain* dom;
        bool hadConfig; // a persistent config was replaced (DEFINED_UPDATED)
    };
    AddResult addDomain(xml::DomainDef def, bool live, Events& ev);
    // The one place domains leave the maps, with their snapshots.
    void removeDomain(TestDomain& d, Events& ev);
    void rename(TestDomain& d, const std::string& name);
    // PropertiesChanged for what a call changed of the domain `before`
    // describes, unless the call removed it.
    void noteChanges(Events& ev, const testdrv::DomainProps& before);

    // Running-state transitions shared by many calls.
    void startDomain(TestDomain& d, int reason);
    void stopDomain(TestDomain& d, int reason);
    // Stops `d` and, if it is transient, forgets it; `d` is gone afterwards
    // in that case.
    void stopAndReap(TestDomain& d, int reason, Events& ev);

    // testDomainGetStats's worker for one domain (mu_ held).
    TypedParams statsOf(const TestDomain& d, uint32_t stats) const;

    std::mutex mu_;
    std::unordered_map<std::string, std::unique_ptr<TestDomain>> byUuid_;
    std::map<std::string, TestDomain*> byName_; // sorted: listings come out by name
    std::unordered_map<int, TestDomain*> byId_;
    int nextId_ = 1;
    uint64_t snapshotSeq_ = 0; // creation order of snapshots, for stable child order
};

} // namespace virtbus
