// Every operation a driver does not override fails as libvirt does for a
// driver without it: "this function is not supported by the connection
// driver: virX".
#include "driver.h"

#include <initializer_list>

namespace virtbus {

NetworkDriver& Driver::networks()
{
    static NetworkDriver none;
    return attachedNetworks_ ? *attachedNetworks_ : none;
}

StorageDriver& Driver::storage()
{
    static StorageDriver none;
    return attachedStorage_ ? *attachedStorage_ : none;
}

InterfaceDriver& Driver::interfaces()
{
    static InterfaceDriver none;
    return attachedInterfaces_ ? *attachedInterfaces_ : none;
}

NodeDeviceDriver& Driver::nodeDevices()
{
    static NodeDeviceDriver none;
    return attachedNodeDevices_ ? *attachedNodeDevices_ : none;
}

SecretDriver& Driver::secrets()
{
    static SecretDriver none;
    return attachedSecrets_ ? *attachedSecrets_ : none;
}

void Driver::startAttached()
{
    for (SubDriver* d : std::initializer_list<SubDriver*> {attachedSecrets_.get(), attachedNodeDevices_.get(),
             attachedInterfaces_.get(), attachedNetworks_.get(), attachedStorage_.get()})
        if (d)
            d->start();
}

NWFilterDriver& Driver::nwfilters()
{
    static NWFilterDriver none;
    return none;
}

uint64_t Driver::version() { throw err::notSupported("virConnectGetVersion"); }

uint64_t Driver::libVersion() { throw err::notSupported("virConnectGetLibVersion"); }

std::string Driver::hostname() { throw err::notSupported("virConnectGetHostname"); }

std::string Driver::capabilities() { throw err::notSupported("virConnectGetCapabilities"); }

std::string Driver::domainCapabilities(
    const std::string&, const std::string&, const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virConnectGetDomainCapabilities");
}

std::string Driver::sysinfo(uint32_t) { throw err::notSupported("virConnectGetSysinfo"); }

std::vector<std::string> Driver::cpuModelNames(const std::string&, uint32_t)
{
    throw err::notSupported("virConnectGetCPUModelNames");
}

std::string Driver::baselineCPU(const std::vector<std::string>&, uint32_t)
{
    throw err::notSupported("virConnectBaselineCPU");
}

int32_t Driver::compareCPU(const std::string&, uint32_t) { throw err::notSupported("virConnectCompareCPU"); }

std::vector<bool> Driver::nodeCPUMap(uint32_t) { throw err::notSupported("virNodeGetCPUMap"); }

std::vector<std::pair<std::string, uint64_t>> Driver::nodeCPUStats(int32_t, uint32_t)
{
    throw err::notSupported("virNodeGetCPUStats");
}

std::vector<std::pair<std::string, uint64_t>> Driver::nodeMemoryStats(int32_t, uint32_t)
{
    throw err::notSupported("virNodeGetMemoryStats");
}

uint64_t Driver::nodeFreeMemory() { throw err::notSupported("virNodeGetFreeMemory"); }

TypedParams Driver::nodeMemoryParameters(uint32_t) { throw err::notSupported("virNodeGetMemoryParameters"); }

void Driver::nodeSetMemoryParameters(const TypedParams&, uint32_t)
{
    throw err::notSupported("virNodeSetMemoryParameters");
}

std::tuple<std::string, std::string> Driver::nodeSecurityModel() { throw err::notSupported("virNodeGetSecurityModel"); }

std::vector<std::pair<DomainRef, TypedParams>> Driver::allDomainStats(uint32_t, uint32_t)
{
    throw err::notSupported("virConnectGetAllDomainStats");
}

std::vector<DomainRef> Driver::listDomains(uint32_t) { throw err::notSupported("virConnectListAllDomains"); }

DomainRef Driver::domainLookupByID(int32_t) { throw err::notSupported("virDomainLookupByID"); }

DomainRef Driver::domainLookupByName(const std::string&) { throw err::notSupported("virDomainLookupByName"); }

DomainRef Driver::domainLookupByUUID(const std::string&) { throw err::notSupported("virDomainLookupByUUID"); }

bool Driver::domainExists(const std::string&) { return false; }

DomainSummary Driver::domainSummary(const std::string&) { throw err::notSupported("virDomainGetInfo"); }

DomainRef Driver::domainCreateXML(const std::string&, uint32_t) { throw err::notSupported("virDomainCreateXML"); }

DomainRef Driver::domainDefineXML(const std::string&, uint32_t) { throw err::notSupported("virDomainDefineXMLFlags"); }

void Driver::domainRestore(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainRestoreFlags");
}

void Driver::domainSaveImageDefineXML(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSaveImageDefineXML");
}

std::string Driver::domainSaveImageGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSaveImageGetXMLDesc");
}

void Driver::domainSetAutostart(const std::string&, bool) { throw err::notSupported("virDomainSetAutostart"); }

void Driver::domainCreate(const std::string&, uint32_t) { throw err::notSupported("virDomainCreateWithFlags"); }

void Driver::domainDestroy(const std::string&, uint32_t) { throw err::notSupported("virDomainDestroyFlags"); }

void Driver::domainShutdown(const std::string&, uint32_t) { throw err::notSupported("virDomainShutdownFlags"); }

void Driver::domainReboot(const std::string&, uint32_t) { throw err::notSupported("virDomainReboot"); }

void Driver::domainReset(const std::string&, uint32_t) { throw err::notSupported("virDomainReset"); }

void Driver::domainSuspend(const std::string&) { throw err::notSupported("virDomainSuspend"); }

void Driver::domainResume(const std::string&) { throw err::notSupported("virDomainResume"); }

void Driver::domainPMWakeup(const std::string&, uint32_t) { throw err::notSupported("virDomainPMWakeup"); }

void Driver::domainUndefine(const std::string&, uint32_t) { throw err::notSupported("virDomainUndefineFlags"); }

void Driver::domainRename(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainRename");
}

std::string Driver::domainGetXMLDesc(const std::string&, uint32_t) { throw err::notSupported("virDomainGetXMLDesc"); }

std::tuple<int32_t, int32_t> Driver::domainGetState(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetState");
}

std::tuple<uint32_t, uint32_t, uint64_t> Driver::domainGetControlInfo(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetControlInfo");
}

TypedParams Driver::domainGetStats(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainListGetStats");
}

std::string Driver::domainGetHostname(const std::string&, uint32_t) { throw err::notSupported("virDomainGetHostname"); }

std::tuple<uint64_t, uint32_t> Driver::domainGetTime(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetTime");
}

void Driver::domainSetTime(const std::string&, uint64_t, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainSetTime");
}

void Driver::domainSave(const std::string&, const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSaveFlags");
}

void Driver::domainManagedSave(const std::string&, uint32_t) { throw err::notSupported("virDomainManagedSave"); }

bool Driver::domainHasManagedSaveImage(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainHasManagedSaveImage");
}

void Driver::domainManagedSaveRemove(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainManagedSaveRemove");
}

void Driver::domainCoreDump(const std::string&, const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainCoreDumpWithFormat");
}

void Driver::domainSetMemory(const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainSetMemoryFlags");
}

void Driver::domainSetMemoryStatsPeriod(const std::string&, int32_t, uint32_t)
{
    throw err::notSupported("virDomainSetMemoryStatsPeriod");
}

std::vector<std::pair<int32_t, uint64_t>> Driver::domainMemoryStats(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainMemoryStats");
}

TypedParams Driver::domainGetMemoryParameters(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetMemoryParameters");
}

void Driver::domainSetMemoryParameters(const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetMemoryParameters");
}

TypedParams Driver::domainGetBlkioParameters(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetBlkioParameters");
}

void Driver::domainSetBlkioParameters(const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetBlkioParameters");
}

TypedParams Driver::domainGetNumaParameters(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetNumaParameters");
}

void Driver::domainSetNumaParameters(const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetNumaParameters");
}

TypedParams Driver::domainGetPerfEvents(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetPerfEvents");
}

void Driver::domainSetPerfEvents(const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetPerfEvents");
}

TypedParams Driver::domainGetSchedulerParameters(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetSchedulerParametersFlags");
}

void Driver::domainSetSchedulerParameters(const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetSchedulerParametersFlags");
}

uint32_t Driver::domainGetVcpus(const std::string&, uint32_t) { throw err::notSupported("virDomainGetVcpusFlags"); }

void Driver::domainSetVcpus(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainSetVcpusFlags");
}

std::vector<std::vector<bool>> Driver::domainGetVcpuPinInfo(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetVcpuPinInfo");
}

void Driver::domainPinVcpu(const std::string&, uint32_t, const std::vector<bool>&, uint32_t)
{
    throw err::notSupported("virDomainPinVcpuFlags");
}

std::vector<bool> Driver::domainGetEmulatorPinInfo(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetEmulatorPinInfo");
}

void Driver::domainPinEmulator(const std::string&, const std::vector<bool>&, uint32_t)
{
    throw err::notSupported("virDomainPinEmulator");
}

std::vector<std::tuple<uint32_t, std::vector<bool>>> Driver::domainGetIOThreadInfo(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetIOThreadInfo");
}

void Driver::domainAddIOThread(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainAddIOThread");
}

void Driver::domainDelIOThread(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainDelIOThread");
}

void Driver::domainPinIOThread(const std::string&, uint32_t, const std::vector<bool>&, uint32_t)
{
    throw err::notSupported("virDomainPinIOThread");
}

TypedParams Driver::domainGetGuestVcpus(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetGuestVcpus");
}

void Driver::domainSetGuestVcpus(const std::string&, const std::vector<bool>&, int32_t, uint32_t)
{
    throw err::notSupported("virDomainSetGuestVcpus");
}

void Driver::domainAttachDevice(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainAttachDeviceFlags");
}

void Driver::domainDetachDevice(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainDetachDeviceFlags");
}

void Driver::domainUpdateDevice(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainUpdateDeviceFlags");
}

std::string Driver::domainGetMetadata(const std::string&, int32_t, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetMetadata");
}

void Driver::domainSetMetadata(
    const std::string&, int32_t, const std::string&, const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSetMetadata");
}

TypedParams Driver::domainGetBlockIoTune(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetBlockIoTune");
}

void Driver::domainSetBlockIoTune(const std::string&, const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetBlockIoTune");
}

TypedParams Driver::domainGetInterfaceParameters(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetInterfaceParameters");
}

void Driver::domainSetInterfaceParameters(const std::string&, const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainSetInterfaceParameters");
}

std::vector<std::tuple<std::string, int32_t>> Driver::domainGetDiskErrors(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetDiskErrors");
}

std::vector<uint8_t> Driver::domainBlockPeek(const std::string&, const std::string&, uint64_t, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainBlockPeek");
}

std::vector<uint8_t> Driver::domainMemoryPeek(const std::string&, uint64_t, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainMemoryPeek");
}

void Driver::domainBlockResize(const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainBlockResize");
}

void Driver::domainBlockPull(const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainBlockPull");
}

void Driver::domainBlockRebase(const std::string&, const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainBlockRebase");
}

void Driver::domainBlockCommit(
    const std::string&, const std::string&, const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainBlockCommit");
}

void Driver::domainBlockCopy(const std::string&, const std::string&, const std::string&, const TypedParams&, uint32_t)
{
    throw err::notSupported("virDomainBlockCopy");
}

void Driver::domainBlockJobAbort(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainBlockJobAbort");
}

void Driver::domainBlockJobSetSpeed(const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainBlockJobSetSpeed");
}

int Driver::domainOpenGraphicsFD(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainOpenGraphicsFD");
}

BlockJobInfo Driver::domainGetBlockJobInfo(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetBlockJobInfo");
}

void Driver::domainSetBlockThreshold(const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainSetBlockThreshold");
}

std::vector<IfaceAddrs> Driver::domainInterfaceAddresses(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainInterfaceAddresses");
}

std::vector<FsInfo> Driver::domainGetFSInfo(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetFSInfo");
}

uint32_t Driver::domainFSFreeze(const std::string&, const std::vector<std::string>&, uint32_t)
{
    throw err::notSupported("virDomainFSFreeze");
}

uint32_t Driver::domainFSThaw(const std::string&, const std::vector<std::string>&, uint32_t)
{
    throw err::notSupported("virDomainFSThaw");
}

void Driver::domainFSTrim(const std::string&, const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virDomainFSTrim");
}

std::vector<std::tuple<std::string, bool>> Driver::domainGetSecurityLabelList(const std::string&)
{
    throw err::notSupported("virDomainGetSecurityLabelList");
}

void Driver::domainInjectNMI(const std::string&, uint32_t) { throw err::notSupported("virDomainInjectNMI"); }

void Driver::domainSendKey(const std::string&, uint32_t, uint32_t, const std::vector<uint32_t>&, uint32_t)
{
    throw err::notSupported("virDomainSendKey");
}

int Driver::domainOpenConsole(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainOpenConsole");
}

std::pair<std::string, int> Driver::domainScreenshot(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainScreenshot");
}

void Driver::domainSendProcessSignal(const std::string&, int64_t, uint32_t, uint32_t)
{
    throw err::notSupported("virDomainSendProcessSignal");
}

void Driver::domainSetUserPassword(const std::string&, const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSetUserPassword");
}

JobInfo Driver::domainGetJobInfo(const std::string&) { throw err::notSupported("virDomainGetJobInfo"); }

std::tuple<int32_t, TypedParams> Driver::domainGetJobStats(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainGetJobStats");
}

void Driver::domainAbortJob(const std::string&) { throw err::notSupported("virDomainAbortJob"); }

std::vector<SnapshotRef> Driver::domainListSnapshots(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainListAllSnapshots");
}

SnapshotRef Driver::domainSnapshotCreateXML(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSnapshotCreateXML");
}

SnapshotRef Driver::domainSnapshotLookupByName(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSnapshotLookupByName");
}

SnapshotRef Driver::domainSnapshotCurrent(const std::string&, uint32_t)
{
    throw err::notSupported("virDomainSnapshotCurrent");
}

bool Driver::snapshotExists(const std::string&, const std::string&) { return false; }

void Driver::snapshotDelete(const SnapshotRef&, uint32_t) { throw err::notSupported("virDomainSnapshotDelete"); }

SnapshotRef Driver::snapshotGetParent(const SnapshotRef&, uint32_t)
{
    throw err::notSupported("virDomainSnapshotGetParent");
}

std::string Driver::snapshotGetXMLDesc(const SnapshotRef&, uint32_t)
{
    throw err::notSupported("virDomainSnapshotGetXMLDesc");
}

bool Driver::snapshotIsCurrent(const SnapshotRef&, uint32_t) { throw err::notSupported("virDomainSnapshotIsCurrent"); }

std::vector<SnapshotRef> Driver::snapshotListChildren(const SnapshotRef&, uint32_t)
{
    throw err::notSupported("virDomainSnapshotListAllChildren");
}

void Driver::snapshotRevert(const SnapshotRef&, uint32_t) { throw err::notSupported("virDomainRevertToSnapshot"); }

DomainRef Driver::domainCreateXMLWithFiles(const std::string&, const std::vector<int>&, uint32_t)
{
    throw err::notSupported("virDomainCreateXMLWithFiles");
}

void Driver::domainCreateWithFiles(const std::string&, const std::vector<int>&, uint32_t)
{
    throw err::notSupported("virDomainCreateWithFiles");
}

bool matchesListFlags(uint32_t flags, const DomainListFacts& f)
{
    auto pair = [&](uint32_t a, uint32_t b, bool isA) {
        uint32_t g = flags & (a | b);
        return g == 0 || g == (a | b) || (g == a && isA) || (g == b && !isA);
    };
    if (!pair(1, 2, f.active) || !pair(4, 8, f.persistent) || !pair(256, 512, f.managedSave)
        || !pair(1024, 2048, f.autostart) || !pair(4096, 8192, f.hasSnapshot) || !pair(16384, 32768, f.hasCheckpoint))
        return false;
    constexpr int kRunning = 1, kPaused = 3, kShutoff = 5;
    if (uint32_t states = flags & (16 | 32 | 64 | 128))
        return ((states & 16) && f.state == kRunning) || ((states & 32) && f.state == kPaused)
            || ((states & 64) && f.state == kShutoff)
            || ((states & 128) && f.state != kRunning && f.state != kPaused && f.state != kShutoff);
    return true;
}

} // namespace virtbus
