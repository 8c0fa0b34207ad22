#include "adaptors.h"
#include "connection.h"
#include "fileutil.h"
#include "paths.h"

namespace virtbus {

std::string DomainAdaptor::uuid(const char* path) const
{
    auto u = paths::domainUuid(c_.path(), path);
    if (!u)
        throw err::noDomain(std::string("no domain with matching path '") + path + "'");
    return *u;
}

void DomainAdaptor::AbortJob(bus::Reply<>& r)
{
    c_.driver().domainAbortJob(uuid(r.path()));
    r.ok();
}

void DomainAdaptor::AddIOThread(bus::Reply<>& r, uint32_t iothreadId, uint32_t flags)
{
    c_.driver().domainAddIOThread(uuid(r.path()), iothreadId, flags);
    r.ok();
}

void DomainAdaptor::AttachDevice(bus::Reply<>& r, std::string xml, uint32_t flags)
{
    c_.driver().domainAttachDevice(uuid(r.path()), xml, flags);
    r.ok();
}

void DomainAdaptor::BlockPeek(
    bus::Reply<std::vector<uint8_t>>& r, std::string disk, uint64_t offset, uint64_t size, uint32_t flags)
{
    r.ok(c_.driver().domainBlockPeek(uuid(r.path()), disk, offset, size, flags));
}

void DomainAdaptor::BlockCommit(
    bus::Reply<>& r, std::string disk, std::string base, std::string top, uint64_t bandwidth, uint32_t flags)
{
    c_.driver().domainBlockCommit(uuid(r.path()), disk, base, top, bandwidth, flags);
    r.ok();
}

void DomainAdaptor::BlockCopy(
    bus::Reply<>& r, std::string disk, std::string destxml, TypedParams params, uint32_t flags)
{
    c_.driver().domainBlockCopy(uuid(r.path()), disk, destxml, params, flags);
    r.ok();
}

void DomainAdaptor::BlockJobAbort(bus::Reply<>& r, std::string disk, uint32_t flags)
{
    c_.driver().domainBlockJobAbort(uuid(r.path()), disk, flags);
    r.ok();
}

void DomainAdaptor::BlockJobSetSpeed(bus::Reply<>& r, std::string disk, uint64_t bandwidth, uint32_t flags)
{
    c_.driver().domainBlockJobSetSpeed(uuid(r.path()), disk, bandwidth, flags);
    r.ok();
}

void DomainAdaptor::BlockPull(bus::Reply<>& r, std::string disk, uint64_t bandwidth, uint32_t flags)
{
    c_.driver().domainBlockPull(uuid(r.path()), disk, bandwidth, flags);
    r.ok();
}

void DomainAdaptor::BlockRebase(bus::Reply<>& r, std::string disk, std::string base, uint64_t bandwidth, uint32_t flags)
{
    c_.driver().domainBlockRebase(uuid(r.path()), disk, base, bandwidth, flags);
    r.ok();
}

void DomainAdaptor::BlockResize(bus::Reply<>& r, std::string disk, uint64_t size, uint32_t flags)
{
    c_.driver().domainBlockResize(uuid(r.path()), disk, size, flags);
    r.ok();
}

void DomainAdaptor::CoreDump(bus::Reply<>& r, std::string to, uint32_t dumpformat, uint32_t flags)
{
    c_.driver().domainCoreDump(uuid(r.path()), to, dumpformat, flags);
    r.ok();
}

void DomainAdaptor::Create(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainCreate(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::CreateWithFiles(bus::Reply<>& r, std::vector<bus::UnixFd> files, uint32_t flags)
{
    std::vector<int> fds;
    for (const auto& f : files)
        fds.push_back(f.fd);
    c_.driver().domainCreateWithFiles(uuid(r.path()), fds, flags);
    r.ok();
}

void DomainAdaptor::DelIOThread(bus::Reply<>& r, uint32_t iothreadId, uint32_t flags)
{
    c_.driver().domainDelIOThread(uuid(r.path()), iothreadId, flags);
    r.ok();
}

void DomainAdaptor::Destroy(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainDestroy(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::DetachDevice(bus::Reply<>& r, std::string xml, uint32_t flags)
{
    c_.driver().domainDetachDevice(uuid(r.path()), xml, flags);
    r.ok();
}

void DomainAdaptor::FSFreeze(bus::Reply<uint32_t>& r, std::vector<std::string> mountpoints, uint32_t flags)
{
    r.ok(c_.driver().domainFSFreeze(uuid(r.path()), mountpoints, flags));
}

void DomainAdaptor::FSThaw(bus::Reply<uint32_t>& r, std::vector<std::string> mountpoints, uint32_t flags)
{
    r.ok(c_.driver().domainFSThaw(uuid(r.path()), mountpoints, flags));
}

void DomainAdaptor::FSTrim(bus::Reply<>& r, std::string mountpoint, uint64_t minimum, uint32_t flags)
{
    c_.driver().domainFSTrim(uuid(r.path()), mountpoint, minimum, flags);
    r.ok();
}

void DomainAdaptor::GetBlockIOParameters(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetBlkioParameters(uuid(r.path()), flags));
}

void DomainAdaptor::GetBlockIOTune(bus::Reply<TypedParams>& r, std::string disk, uint32_t flags)
{
    r.ok(c_.driver().domainGetBlockIoTune(uuid(r.path()), disk, flags));
}

void DomainAdaptor::GetBlockJobInfo(
    bus::Reply<std::tuple<int32_t, uint64_t, uint64_t, uint64_t>>& r, std::string disk, uint32_t flags)
{
    r.ok(c_.driver().domainGetBlockJobInfo(uuid(r.path()), disk, flags));
}

void DomainAdaptor::GetControlInfo(bus::Reply<std::tuple<uint32_t, uint32_t, uint64_t>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetControlInfo(uuid(r.path()), flags));
}

void DomainAdaptor::GetDiskErrors(bus::Reply<std::vector<std::tuple<std::string, int32_t>>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetDiskErrors(uuid(r.path()), flags));
}

void DomainAdaptor::GetEmulatorPinInfo(bus::Reply<std::vector<bool>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetEmulatorPinInfo(uuid(r.path()), flags));
}

void DomainAdaptor::GetFSInfo(
    bus::Reply<std::vector<std::tuple<std::string, std::string, std::string, std::vector<std::string>>>>& r,
    uint32_t flags)
{
    r.ok(c_.driver().domainGetFSInfo(uuid(r.path()), flags));
}

void DomainAdaptor::GetGuestVcpus(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetGuestVcpus(uuid(r.path()), flags));
}

void DomainAdaptor::GetHostname(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetHostname(uuid(r.path()), flags));
}

void DomainAdaptor::GetInterfaceParameters(bus::Reply<TypedParams>& r, std::string device, uint32_t flags)
{
    r.ok(c_.driver().domainGetInterfaceParameters(uuid(r.path()), device, flags));
}

void DomainAdaptor::GetIOThreadInfo(bus::Reply<std::vector<std::tuple<uint32_t, std::vector<bool>>>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetIOThreadInfo(uuid(r.path()), flags));
}

void DomainAdaptor::GetJobInfo(bus::Reply<std::tuple<int32_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
        uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t>>& r)
{
    r.ok(c_.driver().domainGetJobInfo(uuid(r.path())));
}

void DomainAdaptor::GetJobStats(bus::Reply<std::tuple<int32_t, TypedParams>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetJobStats(uuid(r.path()), flags));
}

void DomainAdaptor::GetMemoryParameters(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetMemoryParameters(uuid(r.path()), flags));
}

void DomainAdaptor::GetMetadata(bus::Reply<std::string>& r, int32_t type, std::string uri, uint32_t flags)
{
    r.ok(c_.driver().domainGetMetadata(uuid(r.path()), type, uri, flags));
}

void DomainAdaptor::GetNumaParameters(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetNumaParameters(uuid(r.path()), flags));
}

void DomainAdaptor::GetPerfEvents(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetPerfEvents(uuid(r.path()), flags));
}

void DomainAdaptor::GetSchedulerParameters(bus::Reply<TypedParams>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetSchedulerParameters(uuid(r.path()), flags));
}

void DomainAdaptor::GetSecurityLabelList(bus::Reply<std::vector<std::tuple<std::string, bool>>>& r)
{
    r.ok(c_.driver().domainGetSecurityLabelList(uuid(r.path())));
}

void DomainAdaptor::GetState(bus::Reply<std::tuple<int32_t, int32_t>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetState(uuid(r.path()), flags));
}

void DomainAdaptor::GetStats(bus::Reply<TypedParams>& r, uint32_t stats, uint32_t flags)
{
    r.ok(c_.driver().domainGetStats(uuid(r.path()), stats, flags));
}

void DomainAdaptor::GetTime(bus::Reply<std::tuple<uint64_t, uint32_t>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetTime(uuid(r.path()), flags));
}

void DomainAdaptor::GetVcpuPinInfo(bus::Reply<std::vector<std::vector<bool>>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetVcpuPinInfo(uuid(r.path()), flags));
}

void DomainAdaptor::GetVcpus(bus::Reply<uint32_t>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetVcpus(uuid(r.path()), flags));
}

void DomainAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(c_.driver().domainGetXMLDesc(uuid(r.path()), flags));
}

void DomainAdaptor::HasManagedSaveImage(bus::Reply<bool>& r, uint32_t flags)
{
    r.ok(c_.driver().domainHasManagedSaveImage(uuid(r.path()), flags));
}

void DomainAdaptor::InjectNMI(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainInjectNMI(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::OpenGraphicsFD(bus::Reply<bus::UnixFd>& r, uint32_t idx, uint32_t flags)
{
    // The reply may be written later on the bus thread: it owns the fd.
    r.ok(bus::UnixFd::owned(c_.driver().domainOpenGraphicsFD(uuid(r.path()), idx, flags)));
}

void DomainAdaptor::InterfaceAddresses(
    bus::Reply<
        std::vector<std::tuple<std::string, std::string, std::vector<std::tuple<int32_t, std::string, uint32_t>>>>>& r,
    uint32_t source, uint32_t flags)
{
    r.ok(c_.driver().domainInterfaceAddresses(uuid(r.path()), source, flags));
}

void DomainAdaptor::ManagedSave(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainManagedSave(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::ManagedSaveRemove(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainManagedSaveRemove(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::MemoryPeek(bus::Reply<std::vector<uint8_t>>& r, uint64_t offset, uint64_t size, uint32_t flags)
{
    r.ok(c_.driver().domainMemoryPeek(uuid(r.path()), offset, size, flags));
}

void DomainAdaptor::MemoryStats(bus::Reply<bus::Dict<int32_t, uint64_t>>& r, uint32_t flags)
{
    r.ok(c_.driver().domainMemoryStats(uuid(r.path()), flags));
}

void DomainAdaptor::PinEmulator(bus::Reply<>& r, std::vector<bool> cpumap, uint32_t flags)
{
    c_.driver().domainPinEmulator(uuid(r.path()), cpumap, flags);
    r.ok();
}

void DomainAdaptor::PinIOThread(bus::Reply<>& r, uint32_t iothreadId, std::vector<bool> cpumap, uint32_t flags)
{
    c_.driver().domainPinIOThread(uuid(r.path()), iothreadId, cpumap, flags);
    r.ok();
}

void DomainAdaptor::PinVcpu(bus::Reply<>& r, uint32_t vcpu, std::vector<bool> cpumap, uint32_t flags)
{
    c_.driver().domainPinVcpu(uuid(r.path()), vcpu, cpumap, flags);
    r.ok();
}

void DomainAdaptor::PMWakeup(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainPMWakeup(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::Reboot(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainReboot(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::Rename(bus::Reply<>& r, std::string name, uint32_t flags)
{
    c_.driver().domainRename(uuid(r.path()), name, flags);
    r.ok();
}

void DomainAdaptor::Reset(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainReset(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::Resume(bus::Reply<>& r)
{
    c_.driver().domainResume(uuid(r.path()));
    r.ok();
}

void DomainAdaptor::Save(bus::Reply<>& r, std::string to, std::string xml, uint32_t flags)
{
    c_.driver().domainSave(uuid(r.path()), to, xml, flags);
    r.ok();
}

void DomainAdaptor::SendKey(
    bus::Reply<>& r, uint32_t codeset, uint32_t holdtime, std::vector<uint32_t> keycodes, uint32_t flags)
{
    c_.driver().domainSendKey(uuid(r.path()), codeset, holdtime, keycodes, flags);
    r.ok();
}

void DomainAdaptor::SendProcessSignal(bus::Reply<>& r, int64_t pidValue, uint32_t sigNum, uint32_t flags)
{
    c_.driver().domainSendProcessSignal(uuid(r.path()), pidValue, sigNum, flags);
    r.ok();
}

void DomainAdaptor::SetBlockIOParameters(bus::Reply<>& r, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetBlkioParameters(uuid(r.path()), params, flags);
    r.ok();
}

void DomainAdaptor::SetBlockIOTune(bus::Reply<>& r, std::string disk, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetBlockIoTune(uuid(r.path()), disk, params, flags);
    r.ok();
}

void DomainAdaptor::SetBlockThreshold(bus::Reply<>& r, std::string dev, uint64_t threshold, uint32_t flags)
{
    c_.driver().domainSetBlockThreshold(uuid(r.path()), dev, threshold, flags);
    r.ok();
}

void DomainAdaptor::SetGuestVcpus(bus::Reply<>& r, std::vector<bool> vcpumap, int32_t state, uint32_t flags)
{
    c_.driver().domainSetGuestVcpus(uuid(r.path()), vcpumap, state, flags);
    r.ok();
}

void DomainAdaptor::SetInterfaceParameters(bus::Reply<>& r, std::string device, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetInterfaceParameters(uuid(r.path()), device, params, flags);
    r.ok();
}

void DomainAdaptor::SetMemory(bus::Reply<>& r, uint64_t memory, uint32_t flags)
{
    c_.driver().domainSetMemory(uuid(r.path()), memory, flags);
    r.ok();
}

void DomainAdaptor::SetMemoryParameters(bus::Reply<>& r, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetMemoryParameters(uuid(r.path()), params, flags);
    r.ok();
}

void DomainAdaptor::SetMemoryStatsPeriod(bus::Reply<>& r, int32_t period, uint32_t flags)
{
    c_.driver().domainSetMemoryStatsPeriod(uuid(r.path()), period, flags);
    r.ok();
}

void DomainAdaptor::SetMetadata(
    bus::Reply<>& r, int32_t type, std::string metadata, std::string key, std::string uri, uint32_t flags)
{
    c_.driver().domainSetMetadata(uuid(r.path()), type, metadata, key, uri, flags);
    r.ok();
}

void DomainAdaptor::SetNumaParameters(bus::Reply<>& r, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetNumaParameters(uuid(r.path()), params, flags);
    r.ok();
}

void DomainAdaptor::SetPerfEvents(bus::Reply<>& r, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetPerfEvents(uuid(r.path()), params, flags);
    r.ok();
}

void DomainAdaptor::SetSchedulerParameters(bus::Reply<>& r, TypedParams params, uint32_t flags)
{
    c_.driver().domainSetSchedulerParameters(uuid(r.path()), params, flags);
    r.ok();
}

void DomainAdaptor::SetUserPassword(bus::Reply<>& r, std::string user, std::string password, uint32_t flags)
{
    c_.driver().domainSetUserPassword(uuid(r.path()), user, password, flags);
    r.ok();
}

void DomainAdaptor::SetTime(bus::Reply<>& r, uint64_t seconds, uint32_t nseconds, uint32_t flags)
{
    c_.driver().domainSetTime(uuid(r.path()), seconds, nseconds, flags);
    r.ok();
}

void DomainAdaptor::SetVcpus(bus::Reply<>& r, uint32_t vcpus, uint32_t flags)
{
    c_.driver().domainSetVcpus(uuid(r.path()), vcpus, flags);
    r.ok();
}

void DomainAdaptor::Shutdown(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainShutdown(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::Suspend(bus::Reply<>& r)
{
    c_.driver().domainSuspend(uuid(r.path()));
    r.ok();
}

void DomainAdaptor::Undefine(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().domainUndefine(uuid(r.path()), flags);
    r.ok();
}

void DomainAdaptor::UpdateDevice(bus::Reply<>& r, std::string xml, uint32_t flags)
{
    c_.driver().domainUpdateDevice(uuid(r.path()), xml, flags);
    r.ok();
}

void DomainAdaptor::ListDomainSnapshots(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(c_.snapshotPaths(c_.driver().domainListSnapshots(uuid(r.path()), flags)));
}

void DomainAdaptor::SnapshotCurrent(bus::Reply<bus::ObjectPath>& r, uint32_t flags)
{
    r.ok({c_.snapshotPath(c_.driver().domainSnapshotCurrent(uuid(r.path()), flags))});
}

void DomainAdaptor::SnapshotCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.snapshotPath(c_.driver().domainSnapshotCreateXML(uuid(r.path()), xml, flags))});
}

void DomainAdaptor::SnapshotLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name, uint32_t flags)
{
    r.ok({c_.snapshotPath(c_.driver().domainSnapshotLookupByName(uuid(r.path()), name, flags))});
}

void DomainAdaptor::beginBatch(const char* path)
{
    batch_.reset();
    try {
        batch_.emplace(path, c_.driver().domainSummary(uuid(path)));
    } catch (const VirtError&) {
        // each getter fails on its own, as without a batch
    }
}

const DomainSummary& DomainAdaptor::summary(const char* path)
{
    if (batch_ && batch_->first == path)
        return batch_->second;
    single_ = c_.driver().domainSummary(uuid(path)); // getters run on the bus thread only
    return single_;
}

bool DomainAdaptor::getActive(const char* path) { return summary(path).active; }
bool DomainAdaptor::getAutostart(const char* path) { return summary(path).autostart; }
void DomainAdaptor::setAutostart(const char* path, bool value) { c_.driver().domainSetAutostart(uuid(path), value); }

// virDomainGetID answers (unsigned)-1 for an inactive domain, and
// libvirt-dbus passes that through.
uint32_t DomainAdaptor::getId(const char* path) { return static_cast<uint32_t>(summary(path).id); }

std::string DomainAdaptor::getName(const char* path) { return summary(path).name; }
std::string DomainAdaptor::getOSType(const char* path) { return summary(path).osType; }
bool DomainAdaptor::getPersistent(const char* path) { return summary(path).persistent; }

std::tuple<std::string, int32_t> DomainAdaptor::getSchedulerType(const char* path)
{
    const auto& s = summary(path);
    return {s.schedulerType, s.schedulerParams};
}

bool DomainAdaptor::getUpdated(const char* path) { return summary(path).updated; }
std::string DomainAdaptor::getUUID(const char* path) { return summary(path).uuid; }

} // namespace virtbus
