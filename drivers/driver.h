// The contract every driver implements. Drivers know nothing of D-Bus: they
// take and return plain C++ values, identify objects by stable keys (domain
// UUID, snapshot name), raise VirtError, and report changes to an EventSink.
// Every operation defaults to libvirt's "this function is not supported by
// the connection driver: virX" error, so a driver overrides exactly what it
// really does, and the rest fails the way libvirt fails.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "error.h"
#include "events.h"
#include "object_drivers.h"
#include "typed_params.h"

namespace virtbus {

// What a listing or lookup returns: enough to build a path and to filter.
struct DomainRef {
    std::string uuid;
    std::string name;
};

// What the Domain object's properties show.
struct DomainSummary {
    std::string uuid;
    std::string name;
    int id = -1; // -1 while inactive; the D-Bus Id property shows it as uint
    bool active = false;
    bool persistent = false;
    bool autostart = false;
    bool updated = false;
    std::string osType;
    std::string schedulerType;
    int schedulerParams = 0;
};

// What virConnectListAllDomains's filter flags look at, for one domain.
struct DomainListFacts {
    bool active = false, persistent = false, managedSave = false, autostart = false;
    bool hasSnapshot = false, hasCheckpoint = false;
    int state = 0; // virDomainState
};
// Whether a domain passes VIR_CONNECT_LIST_DOMAINS_* `flags`: within each
// pair (ACTIVE/INACTIVE, ...) neither or both bits mean "either".
bool matchesListFlags(uint32_t flags, const DomainListFacts& f);

struct SnapshotRef {
    std::string domainUuid;
    std::string name;
};

// libvirt's virDomainJobInfo as the D-Bus struct (ittttttttttt).
using JobInfo = std::tuple<int32_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
    uint64_t, uint64_t, uint64_t>;
// (ittt): block job type, bandwidth, cur, end.
using BlockJobInfo = std::tuple<int32_t, uint64_t, uint64_t, uint64_t>;
// Interface address record: name, hwaddr, [(type, addr, prefix)].
using IfaceAddrs = std::tuple<std::string, std::string, std::vector<std::tuple<int32_t, std::string, uint32_t>>>;
using FsInfo = std::tuple<std::string, std::string, std::string, std::vector<std::string>>;

class Driver {
public:
    virtual ~Driver() = default;

    // The sink lives as long as the driver; drivers call it synchronously
    // after each change is complete.
    void setEventSink(EventSink* sink) { sink_ = sink; }

    // Called once, after the event sink is set and before clients can call:
    // a driver with state outside the daemon (running guests) finds it
    // again here.
    virtual void start() { }

    // The drivers of the connection's other objects. The defaults answer
    // every call with libvirt's not-supported error.
    virtual NetworkDriver& networks();
    virtual StorageDriver& storage();
    virtual InterfaceDriver& interfaces();
    virtual NodeDeviceDriver& nodeDevices();
    virtual SecretDriver& secrets();
    virtual NWFilterDriver& nwfilters();
    // Gives a driver without sub-drivers of its own the host's (secrets,
    // storage, networks, ... on the QEMU connection). Before the connection
    // is built: the connection hands them their event sink.
    void attach(std::unique_ptr<NetworkDriver> d) { attachedNetworks_ = std::move(d); }
    void attach(std::unique_ptr<StorageDriver> d) { attachedStorage_ = std::move(d); }
    void attach(std::unique_ptr<InterfaceDriver> d) { attachedInterfaces_ = std::move(d); }
    void attach(std::unique_ptr<NodeDeviceDriver> d) { attachedNodeDevices_ = std::move(d); }
    void attach(std::unique_ptr<SecretDriver> d) { attachedSecrets_ = std::move(d); }
    // After start(): starts the attached sub-drivers, secrets first (the
    // others may need them), networks before storage (a netfs pool may
    // mount over one).
    void startAttached();

    // ---- connection ----
    virtual std::string name() const = 0; // "Test", "QEMU": the path element and connect_driver
    virtual std::string uri() const = 0;
    virtual uint64_t version();
    virtual uint64_t libVersion();
    virtual std::string hostname();
    virtual bool encrypted() { return false; }
    virtual bool secure() { return true; }
    virtual std::string capabilities();
    virtual std::string domainCapabilities(const std::string& emulator, const std::string& arch,
        const std::string& machine, const std::string& virttype, uint32_t flags);
    virtual std::string sysinfo(uint32_t flags);
    virtual std::vector<std::string> cpuModelNames(const std::string& arch, uint32_t flags);
    virtual std::string baselineCPU(const std::vector<std::string>& xmlCPUs, uint32_t flags);
    virtual int32_t compareCPU(const std::string& xml, uint32_t flags);
    virtual std::vector<bool> nodeCPUMap(uint32_t flags);
    virtual std::vector<std::pair<std::string, uint64_t>> nodeCPUStats(int32_t cpuNum, uint32_t flags);
    virtual std::vector<std::pair<std::string, uint64_t>> nodeMemoryStats(int32_t cellNum, uint32_t flags);
    virtual uint64_t nodeFreeMemory();
    virtual TypedParams nodeMemoryParameters(uint32_t flags);
    virtual void nodeSetMemoryParameters(const TypedParams& params, uint32_t flags);
    virtual std::tuple<std::string, std::string> nodeSecurityModel();
    // (stats records per domain) for GetAllDomainStats, one pass over domains.
    virtual std::vector<std::pair<DomainRef, TypedParams>> allDomainStats(uint32_t stats, uint32_t flags);

    // ---- domains: lookups and listings ----
    virtual std::vector<DomainRef> listDomains(uint32_t flags);
    virtual DomainRef domainLookupByID(int32_t id);
    virtual DomainRef domainLookupByName(const std::string& name);
    virtual DomainRef domainLookupByUUID(const std::string& uuid);
    // Cheap existence check for the object tree's find callback.
    virtual bool domainExists(const std::string& uuid);
    virtual DomainSummary domainSummary(const std::string& uuid);

    virtual DomainRef domainCreateXML(const std::string& xml, uint32_t flags);
    virtual DomainRef domainDefineXML(const std::string& xml, uint32_t flags);
    // The fds are borrowed for the duration of the call.
    virtual DomainRef domainCreateXMLWithFiles(const std::string& xml, const std::vector<int>& fds, uint32_t flags);
    virtual void domainRestore(const std::string& from, const std::string& xml, uint32_t flags);
    virtual void domainSaveImageDefineXML(const std::string& file, const std::string& xml, uint32_t flags);
    virtual std::string domainSaveImageGetXMLDesc(const std::string& file, uint32_t flags);

    // ---- one domain (uuid) ----
    virtual void domainSetAutostart(const std::string& uuid, bool autostart);
    virtual void domainCreate(const std::string& uuid, uint32_t flags);
    virtual void domainCreateWithFiles(const std::string& uuid, const std::vector<int>& fds, uint32_t flags);
    virtual void domainDestroy(const std::string& uuid, uint32_t flags);
    virtual void domainShutdown(const std::string& uuid, uint32_t flags);
    virtual void domainReboot(const std::string& uuid, uint32_t flags);
    virtual void domainReset(const std::string& uuid, uint32_t flags);
    virtual void domainSuspend(const std::string& uuid);
    virtual void domainResume(const std::string& uuid);
    virtual void domainPMWakeup(const std::string& uuid, uint32_t flags);
    virtual void domainUndefine(const std::string& uuid, uint32_t flags);
    virtual void domainRename(const std::string& uuid, const std::string& name, uint32_t flags);
    virtual std::string domainGetXMLDesc(const std::string& uuid, uint32_t flags);
    virtual std::tuple<int32_t, int32_t> domainGetState(const std::string& uuid, uint32_t flags);
    virtual std::tuple<uint32_t, uint32_t, uint64_t> domainGetControlInfo(const std::string& uuid, uint32_t flags);
    virtual TypedParams domainGetStats(const std::string& uuid, uint32_t stats, uint32_t flags);
    virtual std::string domainGetHostname(const std::string& uuid, uint32_t flags);
    virtual std::tuple<uint64_t, uint32_t> domainGetTime(const std::string& uuid, uint32_t flags);
    virtual void domainSetTime(const std::string& uuid, uint64_t seconds, uint32_t nseconds, uint32_t flags);

    virtual void domainSave(const std::string& uuid, const std::string& to, const std::string& xml, uint32_t flags);
    virtual void domainManagedSave(const std::string& uuid, uint32_t flags);
    virtual bool domainHasManagedSaveImage(const std::string& uuid, uint32_t flags);
    virtual void domainManagedSaveRemove(const std::string& uuid, uint32_t flags);
    virtual void domainCoreDump(const std::string& uuid, const std::string& to, uint32_t format, uint32_t flags);

    virtual void domainSetMemory(const std::string& uuid, uint64_t kib, uint32_t flags);
    virtual void domainSetMemoryStatsPeriod(const std::string& uuid, int32_t period, uint32_t flags);
    virtual std::vector<std::pair<int32_t, uint64_t>> domainMemoryStats(const std::string& uuid, uint32_t flags);
    virtual TypedParams domainGetMemoryParameters(const std::string& uuid, uint32_t flags);
    virtual void domainSetMemoryParameters(const std::string& uuid, const TypedParams& p, uint32_t flags);
    virtual TypedParams domainGetBlkioParameters(const std::string& uuid, uint32_t flags);
    virtual void domainSetBlkioParameters(const std::string& uuid, const TypedParams& p, uint32_t flags);
    virtual TypedParams domainGetNumaParameters(const std::string& uuid, uint32_t flags);
    virtual void domainSetNumaParameters(const std::string& uuid, const TypedParams& p, uint32_t flags);
    virtual TypedParams domainGetPerfEvents(const std::string& uuid, uint32_t flags);
    virtual void domainSetPerfEvents(const std::string& uuid, const TypedParams& p, uint32_t flags);
    virtual TypedParams domainGetSchedulerParameters(const std::string& uuid, uint32_t flags);
    virtual void domainSetSchedulerParameters(const std::string& uuid, const TypedParams& p, uint32_t flags);

    virtual uint32_t domainGetVcpus(const std::string& uuid, uint32_t flags);
    virtual void domainSetVcpus(const std::string& uuid, uint32_t count, uint32_t flags);
    virtual std::vector<std::vector<bool>> domainGetVcpuPinInfo(const std::string& uuid, uint32_t flags);
    virtual void domainPinVcpu(const std::string& uuid, uint32_t vcpu, const std::vector<bool>& map, uint32_t flags);
    virtual std::vector<bool> domainGetEmulatorPinInfo(const std::string& uuid, uint32_t flags);
    virtual void domainPinEmulator(const std::string& uuid, const std::vector<bool>& map, uint32_t flags);
    virtual std::vector<std::tuple<uint32_t, std::vector<bool>>> domainGetIOThreadInfo(
        const std::string& uuid, uint32_t flags);
    virtual void domainAddIOThread(const std::string& uuid, uint32_t id, uint32_t flags);
    virtual void domainDelIOThread(const std::string& uuid, uint32_t id, uint32_t flags);
    virtual void domainPinIOThread(const std::string& uuid, uint32_t id, const std::vector<bool>& map, uint32_t flags);
    virtual TypedParams domainGetGuestVcpus(const std::string& uuid, uint32_t flags);
    virtual void domainSetGuestVcpus(
        const std::string& uuid, const std::vector<bool>& map, int32_t state, uint32_t flags);

    virtual void domainAttachDevice(const std::string& uuid, const std::string& xml, uint32_t flags);
    virtual void domainDetachDevice(const std::string& uuid, const std::string& xml, uint32_t flags);
    virtual void domainUpdateDevice(const std::string& uuid, const std::string& xml, uint32_t flags);

    virtual std::string domainGetMetadata(
        const std::string& uuid, int32_t type, const std::string& uri, uint32_t flags);
    virtual void domainSetMetadata(const std::string& uuid, int32_t type, const std::string& metadata,
        const std::string& key, const std::string& uri, uint32_t flags);

    virtual TypedParams domainGetBlockIoTune(const std::string& uuid, const std::string& disk, uint32_t flags);
    virtual void domainSetBlockIoTune(
        const std::string& uuid, const std::string& disk, const TypedParams& p, uint32_t flags);
    virtual TypedParams domainGetInterfaceParameters(const std::string& uuid, const std::string& dev, uint32_t flags);
    virtual void domainSetInterfaceParameters(
        const std::string& uuid, const std::string& dev, const TypedParams& p, uint32_t flags);
    virtual std::vector<std::tuple<std::string, int32_t>> domainGetDiskErrors(const std::string& uuid, uint32_t flags);
    virtual std::vector<uint8_t> domainBlockPeek(
        const std::string& uuid, const std::string& disk, uint64_t offset, uint64_t size, uint32_t flags);
    virtual std::vector<uint8_t> domainMemoryPeek(
        const std::string& uuid, uint64_t offset, uint64_t size, uint32_t flags);
    virtual void domainBlockResize(const std::string& uuid, const std::string& disk, uint64_t size, uint32_t flags);
    virtual BlockJobInfo domainGetBlockJobInfo(const std::string& uuid, const std::string& disk, uint32_t flags);
    // Block jobs. bandwidth as given (MiB/s, or bytes/s with the BANDWIDTH_BYTES
    // flag of each call); an empty base/top means libvirt's NULL.
    virtual void domainBlockPull(const std::string& uuid, const std::string& disk, uint64_t bandwidth, uint32_t flags);
    virtual void domainBlockRebase(
        const std::string& uuid, const std::string& disk, const std::string& base, uint64_t bandwidth, uint32_t flags);
    virtual void domainBlockCommit(const std::string& uuid, const std::string& disk, const std::string& base,
        const std::string& top, uint64_t bandwidth, uint32_t flags);
    virtual void domainBlockCopy(const std::string& uuid, const std::string& disk, const std::string& destxml,
        const TypedParams& params, uint32_t flags);
    virtual void domainBlockJobAbort(const std::string& uuid, const std::string& disk, uint32_t flags);
    virtual void domainBlockJobSetSpeed(
        const std::string& uuid, const std::string& disk, uint64_t bandwidth, uint32_t flags);
    virtual void domainSetBlockThreshold(
        const std::string& uuid, const std::string& dev, uint64_t threshold, uint32_t flags);
    virtual std::vector<IfaceAddrs> domainInterfaceAddresses(const std::string& uuid, uint32_t source, uint32_t flags);
    virtual std::vector<FsInfo> domainGetFSInfo(const std::string& uuid, uint32_t flags);
    virtual uint32_t domainFSFreeze(const std::string& uuid, const std::vector<std::string>& mounts, uint32_t flags);
    virtual uint32_t domainFSThaw(const std::string& uuid, const std::vector<std::string>& mounts, uint32_t flags);
    virtual void domainFSTrim(const std::string& uuid, const std::string& mount, uint64_t minimum, uint32_t flags);
    virtual std::vector<std::tuple<std::string, bool>> domainGetSecurityLabelList(const std::string& uuid);
    virtual void domainInjectNMI(const std::string& uuid, uint32_t flags);
    // A new connection to graphics device `idx`; the caller owns the fd.
    virtual int domainOpenGraphicsFD(const std::string& uuid, uint32_t idx, uint32_t flags);
    virtual void domainSendKey(const std::string& uuid, uint32_t codeset, uint32_t holdtime,
        const std::vector<uint32_t>& keycodes, uint32_t flags);
    // virtbus's org.virtbus.DomainConsole: a connected fd to the guest's
    // console/serial/channel `devname` ("" the first console), flags
    // virDomainConsoleFlags; and a screenshot of `screen` as (mime type, fd
    // of a file holding the image). The caller owns the fds.
    virtual int domainOpenConsole(const std::string& uuid, const std::string& devname, uint32_t flags);
    virtual std::pair<std::string, int> domainScreenshot(const std::string& uuid, uint32_t screen, uint32_t flags);
    virtual void domainSendProcessSignal(const std::string& uuid, int64_t pid, uint32_t sig, uint32_t flags);
    virtual void domainSetUserPassword(
        const std::string& uuid, const std::string& user, const std::string& password, uint32_t flags);
    virtual JobInfo domainGetJobInfo(const std::string& uuid);
    virtual std::tuple<int32_t, TypedParams> domainGetJobStats(const std::string& uuid, uint32_t flags);
    virtual void domainAbortJob(const std::string& uuid);

    // ---- snapshots (domain uuid + snapshot name) ----
    virtual std::vector<SnapshotRef> domainListSnapshots(const std::string& uuid, uint32_t flags);
    virtual SnapshotRef domainSnapshotCreateXML(const std::string& uuid, const std::string& xml, uint32_t flags);
    virtual SnapshotRef domainSnapshotLookupByName(const std::string& uuid, const std::string& name, uint32_t flags);
    virtual SnapshotRef domainSnapshotCurrent(const std::string& uuid, uint32_t flags);
    virtual bool snapshotExists(const std::string& uuid, const std::string& name);
    virtual void snapshotDelete(const SnapshotRef& s, uint32_t flags);
    virtual SnapshotRef snapshotGetParent(const SnapshotRef& s, uint32_t flags);
    virtual std::string snapshotGetXMLDesc(const SnapshotRef& s, uint32_t flags);
    virtual bool snapshotIsCurrent(const SnapshotRef& s, uint32_t flags);
    virtual std::vector<SnapshotRef> snapshotListChildren(const SnapshotRef& s, uint32_t flags);
    virtual void snapshotRevert(const SnapshotRef& s, uint32_t flags);

protected:
    EventSink* sink() { return sink_; }

private:
    EventSink* sink_ = nullptr;
    // Destroyed in reverse: storage and networks before the secrets they use.
    std::unique_ptr<SecretDriver> attachedSecrets_;
    std::unique_ptr<NodeDeviceDriver> attachedNodeDevices_;
    std::unique_ptr<InterfaceDriver> attachedInterfaces_;
    std::unique_ptr<NetworkDriver> attachedNetworks_;
    std::unique_ptr<StorageDriver> attachedStorage_;
};

} // namespace virtbus
