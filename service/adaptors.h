// Thin adaptors: decode the object from the path, call the driver, encode
// the answer. No XML, no hypervisor knowledge, no waiting here.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "driver.h"
#include "glue_Connect.h"
#include "glue_Domain.h"
#include "glue_DomainSnapshot.h"

namespace virtbus {

class Connection;

class ConnectAdaptor : public glue::ConnectServer {
public:
    explicit ConnectAdaptor(Connection& c) : c_(c) { }

    void BaselineCPU(bus::Reply<std::string>& r, std::vector<std::string> xmlCPUs, uint32_t flags) override;
    void CompareCPU(bus::Reply<int32_t>& r, std::string xml, uint32_t flags) override;
    void DomainCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void DomainDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml) override;
    void DomainCreateXMLWithFiles(
        bus::Reply<bus::ObjectPath>& r, std::string xml, std::vector<bus::UnixFd> files, uint32_t flags) override;
    void DomainLookupByID(bus::Reply<bus::ObjectPath>& r, int32_t id) override;
    void DomainLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void DomainLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid) override;
    void DomainRestore(bus::Reply<>& r, std::string from, std::string xml, uint32_t flags) override;
    void DomainSaveImageDefineXML(bus::Reply<>& r, std::string file, std::string xml, uint32_t flags) override;
    void DomainSaveImageGetXMLDesc(bus::Reply<std::string>& r, std::string file, uint32_t flags) override;
    void GetAllDomainStats(
        bus::Reply<std::vector<std::tuple<std::string, TypedParams>>>& r, uint32_t stats, uint32_t flags) override;
    void GetCapabilities(bus::Reply<std::string>& r) override;
    void GetCPUModelNames(bus::Reply<std::vector<std::string>>& r, std::string arch, uint32_t flags) override;
    void GetDomainCapabilities(bus::Reply<std::string>& r, std::string emulatorbin, std::string arch,
        std::string machine, std::string virttype, uint32_t flags) override;
    void GetSysinfo(bus::Reply<std::string>& r, uint32_t flags) override;
    void ListDomains(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void NodeGetCPUMap(bus::Reply<std::vector<bool>>& r, uint32_t flags) override;
    void NodeGetCPUStats(bus::Reply<bus::Dict<std::string, uint64_t>>& r, int32_t cpuNum, uint32_t flags) override;
    void NodeGetFreeMemory(bus::Reply<uint64_t>& r) override;
    void NodeGetMemoryParameters(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void NodeGetMemoryStats(bus::Reply<bus::Dict<std::string, uint64_t>>& r, int32_t cellNum, uint32_t flags) override;
    void NodeGetSecurityModel(bus::Reply<std::tuple<std::string, std::string>>& r) override;
    void NodeSetMemoryParameters(bus::Reply<>& r, TypedParams params, uint32_t flags) override;

    // Objects of the connection's other drivers (connect_objects.cpp).
    void FindStoragePoolSources(
        bus::Reply<std::string>& r, std::string type, std::string srcSpec, uint32_t flags) override;
    void InterfaceChangeBegin(bus::Reply<>& r, uint32_t flags) override;
    void InterfaceChangeCommit(bus::Reply<>& r, uint32_t flags) override;
    void InterfaceChangeRollback(bus::Reply<>& r, uint32_t flags) override;
    void InterfaceDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void InterfaceLookupByMAC(bus::Reply<bus::ObjectPath>& r, std::string mac) override;
    void InterfaceLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void ListInterfaces(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void ListNetworks(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void ListNodeDevices(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void ListNWFilters(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void ListSecrets(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void ListStoragePools(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void NetworkCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml) override;
    void NetworkDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml) override;
    void NetworkLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void NetworkLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid) override;
    void NodeDeviceCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void NodeDeviceLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void NodeDeviceLookupSCSIHostByWWN(
        bus::Reply<bus::ObjectPath>& r, std::string wwnn, std::string wwpn, uint32_t flags) override;
    void NWFilterDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml) override;
    void NWFilterLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void NWFilterLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid) override;
    void SecretDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void SecretLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid) override;
    void SecretLookupByUsage(bus::Reply<bus::ObjectPath>& r, int32_t usageType, std::string usageID) override;
    void StoragePoolCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void StoragePoolDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void StoragePoolLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void StoragePoolLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid) override;
    void StorageVolLookupByKey(bus::Reply<bus::ObjectPath>& r, std::string key) override;
    void StorageVolLookupByPath(bus::Reply<bus::ObjectPath>& r, std::string path) override;

    bool getEncrypted(const char*) override;
    std::string getHostname(const char*) override;
    uint64_t getLibVersion(const char*) override;
    bool getSecure(const char*) override;
    uint64_t getVersion(const char*) override;

private:
    Connection& c_;
};

class DomainAdaptor : public glue::DomainServer {
public:
    explicit DomainAdaptor(Connection& c) : c_(c) { }

    // Members forwarded to the driver; the rest keep the generated
    // not-supported answer.
    void AbortJob(bus::Reply<>& r) override;
    void AddIOThread(bus::Reply<>& r, uint32_t iothreadId, uint32_t flags) override;
    void AttachDevice(bus::Reply<>& r, std::string xml, uint32_t flags) override;
    void BlockPeek(
        bus::Reply<std::vector<uint8_t>>& r, std::string disk, uint64_t offset, uint64_t size, uint32_t flags) override;
    void BlockCommit(bus::Reply<>& r, std::string disk, std::string base, std::string top, uint64_t bandwidth,
        uint32_t flags) override;
    void BlockCopy(bus::Reply<>& r, std::string disk, std::string destxml, TypedParams params, uint32_t flags) override;
    void BlockJobAbort(bus::Reply<>& r, std::string disk, uint32_t flags) override;
    void BlockJobSetSpeed(bus::Reply<>& r, std::string disk, uint64_t bandwidth, uint32_t flags) override;
    void BlockPull(bus::Reply<>& r, std::string disk, uint64_t bandwidth, uint32_t flags) override;
    void BlockRebase(bus::Reply<>& r, std::string disk, std::string base, uint64_t bandwidth, uint32_t flags) override;
    void BlockResize(bus::Reply<>& r, std::string disk, uint64_t size, uint32_t flags) override;
    void CoreDump(bus::Reply<>& r, std::string to, uint32_t dumpformat, uint32_t flags) override;
    void Create(bus::Reply<>& r, uint32_t flags) override;
    void CreateWithFiles(bus::Reply<>& r, std::vector<bus::UnixFd> files, uint32_t flags) override;
    void DelIOThread(bus::Reply<>& r, uint32_t iothreadId, uint32_t flags) override;
    void Destroy(bus::Reply<>& r, uint32_t flags) override;
    void DetachDevice(bus::Reply<>& r, std::string xml, uint32_t flags) override;
    void FSFreeze(bus::Reply<uint32_t>& r, std::vector<std::string> mountpoints, uint32_t flags) override;
    void FSThaw(bus::Reply<uint32_t>& r, std::vector<std::string> mountpoints, uint32_t flags) override;
    void FSTrim(bus::Reply<>& r, std::string mountpoint, uint64_t minimum, uint32_t flags) override;
    void GetBlockIOParameters(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void GetBlockIOTune(bus::Reply<TypedParams>& r, std::string disk, uint32_t flags) override;
    void GetBlockJobInfo(
        bus::Reply<std::tuple<int32_t, uint64_t, uint64_t, uint64_t>>& r, std::string disk, uint32_t flags) override;
    void GetControlInfo(bus::Reply<std::tuple<uint32_t, uint32_t, uint64_t>>& r, uint32_t flags) override;
    void GetDiskErrors(bus::Reply<std::vector<std::tuple<std::string, int32_t>>>& r, uint32_t flags) override;
    void GetEmulatorPinInfo(bus::Reply<std::vector<bool>>& r, uint32_t flags) override;
    void GetFSInfo(
        bus::Reply<std::vector<std::tuple<std::string, std::string, std::string, std::vector<std::string>>>>& r,
        uint32_t flags) override;
    void GetGuestVcpus(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void GetHostname(bus::Reply<std::string>& r, uint32_t flags) override;
    void GetInterfaceParameters(bus::Reply<TypedParams>& r, std::string device, uint32_t flags) override;
    void GetIOThreadInfo(bus::Reply<std::vector<std::tuple<uint32_t, std::vector<bool>>>>& r, uint32_t flags) override;
    void GetJobInfo(bus::Reply<std::tuple<int32_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
            uint64_t, uint64_t, uint64_t, uint64_t>>& r) override;
    void GetJobStats(bus::Reply<std::tuple<int32_t, TypedParams>>& r, uint32_t flags) override;
    void GetMemoryParameters(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void GetMetadata(bus::Reply<std::string>& r, int32_t type, std::string uri, uint32_t flags) override;
    void GetNumaParameters(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void GetPerfEvents(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void GetSchedulerParameters(bus::Reply<TypedParams>& r, uint32_t flags) override;
    void GetSecurityLabelList(bus::Reply<std::vector<std::tuple<std::string, bool>>>& r) override;
    void GetState(bus::Reply<std::tuple<int32_t, int32_t>>& r, uint32_t flags) override;
    void GetStats(bus::Reply<TypedParams>& r, uint32_t stats, uint32_t flags) override;
    void GetTime(bus::Reply<std::tuple<uint64_t, uint32_t>>& r, uint32_t flags) override;
    void GetVcpuPinInfo(bus::Reply<std::vector<std::vector<bool>>>& r, uint32_t flags) override;
    void GetVcpus(bus::Reply<uint32_t>& r, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void HasManagedSaveImage(bus::Reply<bool>& r, uint32_t flags) override;
    void InjectNMI(bus::Reply<>& r, uint32_t flags) override;
    void OpenGraphicsFD(bus::Reply<bus::UnixFd>& r, uint32_t idx, uint32_t flags) override;
    void InterfaceAddresses(
        bus::Reply<std::vector<
            std::tuple<std::string, std::string, std::vector<std::tuple<int32_t, std::string, uint32_t>>>>>& r,
        uint32_t source, uint32_t flags) override;
    void ManagedSave(bus::Reply<>& r, uint32_t flags) override;
    void ManagedSaveRemove(bus::Reply<>& r, uint32_t flags) override;
    void MemoryPeek(bus::Reply<std::vector<uint8_t>>& r, uint64_t offset, uint64_t size, uint32_t flags) override;
    void MemoryStats(bus::Reply<bus::Dict<int32_t, uint64_t>>& r, uint32_t flags) override;
    void PinEmulator(bus::Reply<>& r, std::vector<bool> cpumap, uint32_t flags) override;
    void PinIOThread(bus::Reply<>& r, uint32_t iothreadId, std::vector<bool> cpumap, uint32_t flags) override;
    void PinVcpu(bus::Reply<>& r, uint32_t vcpu, std::vector<bool> cpumap, uint32_t flags) override;
    void PMWakeup(bus::Reply<>& r, uint32_t flags) override;
    void Reboot(bus::Reply<>& r, uint32_t flags) override;
    void Rename(bus::Reply<>& r, std::string name, uint32_t flags) override;
    void Reset(bus::Reply<>& r, uint32_t flags) override;
    void Resume(bus::Reply<>& r) override;
    void Save(bus::Reply<>& r, std::string to, std::string xml, uint32_t flags) override;
    void SendKey(
        bus::Reply<>& r, uint32_t codeset, uint32_t holdtime, std::vector<uint32_t> keycodes, uint32_t flags) override;
    void SendProcessSignal(bus::Reply<>& r, int64_t pidValue, uint32_t sigNum, uint32_t flags) override;
    void SetBlockIOParameters(bus::Reply<>& r, TypedParams params, uint32_t flags) override;
    void SetBlockIOTune(bus::Reply<>& r, std::string disk, TypedParams params, uint32_t flags) override;
    void SetBlockThreshold(bus::Reply<>& r, std::string dev, uint64_t threshold, uint32_t flags) override;
    void SetGuestVcpus(bus::Reply<>& r, std::vector<bool> vcpumap, int32_t state, uint32_t flags) override;
    void SetInterfaceParameters(bus::Reply<>& r, std::string device, TypedParams params, uint32_t flags) override;
    void SetMemory(bus::Reply<>& r, uint64_t memory, uint32_t flags) override;
    void SetMemoryParameters(bus::Reply<>& r, TypedParams params, uint32_t flags) override;
    void SetMemoryStatsPeriod(bus::Reply<>& r, int32_t period, uint32_t flags) override;
    void SetMetadata(
        bus::Reply<>& r, int32_t type, std::string metadata, std::string key, std::string uri, uint32_t flags) override;
    void SetNumaParameters(bus::Reply<>& r, TypedParams params, uint32_t flags) override;
    void SetPerfEvents(bus::Reply<>& r, TypedParams params, uint32_t flags) override;
    void SetSchedulerParameters(bus::Reply<>& r, TypedParams params, uint32_t flags) override;
    void SetUserPassword(bus::Reply<>& r, std::string user, std::string password, uint32_t flags) override;
    void SetTime(bus::Reply<>& r, uint64_t seconds, uint32_t nseconds, uint32_t flags) override;
    void SetVcpus(bus::Reply<>& r, uint32_t vcpus, uint32_t flags) override;
    void Shutdown(bus::Reply<>& r, uint32_t flags) override;
    void Suspend(bus::Reply<>& r) override;
    void Undefine(bus::Reply<>& r, uint32_t flags) override;
    void UpdateDevice(bus::Reply<>& r, std::string xml, uint32_t flags) override;
    void ListDomainSnapshots(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void SnapshotCurrent(bus::Reply<bus::ObjectPath>& r, uint32_t flags) override;
    void SnapshotCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void SnapshotLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name, uint32_t flags) override;

    bool getActive(const char* path) override;
    bool getAutostart(const char* path) override;
    void setAutostart(const char* path, bool value) override;
    uint32_t getId(const char* path) override;
    std::string getName(const char* path) override;
    std::string getOSType(const char* path) override;
    bool getPersistent(const char* path) override;
    std::tuple<std::string, int32_t> getSchedulerType(const char* path) override;
    bool getUpdated(const char* path) override;
    std::string getUUID(const char* path) override;

    void beginBatch(const char* path) override;
    void endBatch() override { batch_.reset(); }

private:
    std::string uuid(const char* path) const;
    // The domain's summary: the batch's copy while appendAllProperties runs.
    const DomainSummary& summary(const char* path);
    Connection& c_;
    std::optional<std::pair<std::string, DomainSummary>> batch_;
    DomainSummary single_;
};

class SnapshotAdaptor : public glue::DomainSnapshotServer {
public:
    explicit SnapshotAdaptor(Connection& c) : c_(c) { }

    void Delete(bus::Reply<>& r, uint32_t flags) override;
    void GetParent(bus::Reply<bus::ObjectPath>& r, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void IsCurrent(bus::Reply<bool>& r, uint32_t flags) override;
    void ListChildren(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void Revert(bus::Reply<>& r, uint32_t flags) override;

private:
    SnapshotRef ref(const char* path) const;
    Connection& c_;
};

} // namespace virtbus
