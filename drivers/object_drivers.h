// The contracts of the drivers behind a connection's non-domain objects,
// one per libvirt driver table (virNetworkDriver, virStorageDriver, ...). A
// connection's hypervisor Driver hands out one of each; the base classes
// answer every call with libvirt's not-supported error, so a connection
// without, say, a secret driver fails exactly as libvirt does.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "error.h"
#include "events.h"
#include "typed_params.h"

namespace virtbus {

// Common plumbing: the event sink, set by the service.
class SubDriver {
public:
    virtual ~SubDriver() = default;
    void setEventSink(EventSink* sink) { sink_ = sink; }
    // Called once, after the event sink is set and before clients call:
    // autostart, and finding live state (mounts, bridges) again.
    virtual void start() {}

protected:
    EventSink* sink() { return sink_; }

private:
    EventSink* sink_ = nullptr;
};

// ---- networks (key: UUID) ----
struct NetworkRef {
    std::string uuid;
    std::string name;
};
struct NetworkSummary {
    std::string uuid, name, bridge;
    bool active = false, persistent = false, autostart = false;
};
// (iface, expirytime, type, mac, iaid, ipaddr, prefix, hostname, clientid)
using DhcpLease = std::tuple<std::string, int64_t, int32_t, std::string, std::string, std::string, uint32_t,
                             std::string, std::string>;

class NetworkDriver : public SubDriver {
public:
    virtual std::vector<NetworkRef> listNetworks(uint32_t flags);
    virtual NetworkRef networkLookupByName(const std::string& name);
    virtual NetworkRef networkLookupByUUID(const std::string& uuid);
    virtual bool networkExists(const std::string& uuid);
    virtual NetworkSummary networkSummary(const std::string& uuid);
    virtual NetworkRef networkCreateXML(const std::string& xml);
    virtual NetworkRef networkDefineXML(const std::string& xml);
    virtual void networkCreate(const std::string& uuid);
    virtual void networkDestroy(const std::string& uuid);
    virtual void networkUndefine(const std::string& uuid);
    virtual void networkSetAutostart(const std::string& uuid, bool autostart);
    virtual std::string networkGetXMLDesc(const std::string& uuid, uint32_t flags);
    virtual void networkUpdate(const std::string& uuid, uint32_t command, uint32_t section, int32_t parentIndex,
                               const std::string& xml, uint32_t flags);
    virtual std::vector<DhcpLease> networkGetDHCPLeases(const std::string& uuid, const std::string& mac,
                                                        uint32_t flags);
};

// ---- storage pools (key: UUID) and volumes (key: volume key) ----
struct PoolRef {
    std::string uuid;
    std::string name;
};
struct PoolSummary {
    std::string uuid, name;
    bool active = false, persistent = false, autostart = false;
};
struct VolRef {
    std::string key;
    std::string name;
    std::string path;
    std::string poolUuid;
};
using PoolInfo = std::tuple<int32_t, uint64_t, uint64_t, uint64_t>; // state, capacity, allocation, available
using VolInfo = std::tuple<int32_t, uint64_t, uint64_t>;            // type, capacity, allocation

class StorageDriver : public SubDriver {
public:
    virtual std::vector<PoolRef> listStoragePools(uint32_t flags);
    virtual PoolRef poolLookupByName(const std::string& name);
    virtual PoolRef poolLookupByUUID(const std::string& uuid);
    virtual bool poolExists(const std::string& uuid);
    virtual PoolSummary poolSummary(const std::string& uuid);
    virtual PoolRef poolCreateXML(const std::string& xml, uint32_t flags);
    virtual PoolRef poolDefineXML(const std::string& xml, uint32_t flags);
    virtual void poolBuild(const std::string& uuid, uint32_t flags);
    virtual void poolCreate(const std::string& uuid, uint32_t flags);
    virtual void poolDelete(const std::string& uuid, uint32_t flags);
    virtual void poolDestroy(const std::string& uuid);
    virtual void poolUndefine(const std::string& uuid);
    virtual void poolRefresh(const std::string& uuid, uint32_t flags);
    virtual void poolSetAutostart(const std::string& uuid, bool autostart);
    virtual PoolInfo poolGetInfo(const std::string& uuid);
    virtual std::string poolGetXMLDesc(const std::string& uuid, uint32_t flags);
    virtual std::vector<VolRef> poolListVolumes(const std::string& uuid, uint32_t flags);
    virtual std::string findStoragePoolSources(const std::string& type, const std::string& srcSpec, uint32_t flags);

    virtual VolRef volCreateXML(const std::string& poolUuid, const std::string& xml, uint32_t flags);
    virtual VolRef volCreateXMLFrom(const std::string& poolUuid, const std::string& xml, const std::string& srcKey,
                                    uint32_t flags);
    virtual VolRef volLookupByName(const std::string& poolUuid, const std::string& name);
    virtual VolRef volLookupByKey(const std::string& key);
    virtual VolRef volLookupByPath(const std::string& path);
    virtual bool volExists(const std::string& key);
    virtual void volDelete(const std::string& key, uint32_t flags);
    virtual VolInfo volGetInfo(const std::string& key, uint32_t flags);
    virtual std::string volGetXMLDesc(const std::string& key, uint32_t flags);
    virtual void volResize(const std::string& key, uint64_t capacity, uint32_t flags);
    virtual void volWipe(const std::string& key, uint32_t pattern, uint32_t flags);
    // Beyond libvirt-dbus (virStorageVolUpload/Download without a stream):
    // copies between the caller's fd (borrowed for the call) and the
    // volume, from `offset`, `length` bytes (0: to the end).
    virtual void volUpload(const std::string& key, int fd, uint64_t offset, uint64_t length, uint32_t flags);
    virtual void volDownload(const std::string& key, int fd, uint64_t offset, uint64_t length, uint32_t flags);
};

// ---- host interfaces (key: MAC, as libvirt-dbus paths use it) ----
struct IfaceRef {
    std::string name;
    std::string mac;
};
struct IfaceSummary {
    std::string name, mac;
    bool active = false;
};

class InterfaceDriver : public SubDriver {
public:
    virtual std::vector<IfaceRef> listInterfaces(uint32_t flags);
    virtual IfaceRef ifaceLookupByName(const std::string& name);
    virtual IfaceRef ifaceLookupByMAC(const std::string& mac);
    virtual bool ifaceExists(const std::string& mac);
    virtual IfaceSummary ifaceSummary(const std::string& mac);
    virtual IfaceRef ifaceDefineXML(const std::string& xml, uint32_t flags);
    virtual void ifaceCreate(const std::string& mac, uint32_t flags);
    virtual void ifaceDestroy(const std::string& mac, uint32_t flags);
    virtual void ifaceUndefine(const std::string& mac);
    virtual std::string ifaceGetXMLDesc(const std::string& mac, uint32_t flags);
    virtual void changeBegin(uint32_t flags);
    virtual void changeCommit(uint32_t flags);
    virtual void changeRollback(uint32_t flags);
};

// ---- node devices (key: name) ----
struct NodeDeviceSummary {
    std::string name, parent;
};

class NodeDeviceDriver : public SubDriver {
public:
    virtual std::vector<std::string> listNodeDevices(uint32_t flags);
    virtual std::string nodeDeviceLookupByName(const std::string& name);
    virtual std::string nodeDeviceLookupSCSIHostByWWN(const std::string& wwnn, const std::string& wwpn,
                                                      uint32_t flags);
    virtual bool nodeDeviceExists(const std::string& name);
    virtual NodeDeviceSummary nodeDeviceSummary(const std::string& name);
    virtual std::string nodeDeviceCreateXML(const std::string& xml, uint32_t flags);
    virtual void nodeDeviceDestroy(const std::string& name);
    virtual void nodeDeviceDetach(const std::string& name, const std::string& driverName, uint32_t flags);
    virtual void nodeDeviceReAttach(const std::string& name);
    virtual void nodeDeviceReset(const std::string& name);
    virtual std::string nodeDeviceGetXMLDesc(const std::string& name, uint32_t flags);
    virtual std::vector<std::string> nodeDeviceListCaps(const std::string& name);
};

// ---- secrets (key: UUID) ----
struct SecretSummary {
    std::string uuid, usageID;
    int32_t usageType = 0;
};

class SecretDriver : public SubDriver {
public:
    virtual std::vector<std::string> listSecrets(uint32_t flags);
    virtual std::string secretLookupByUUID(const std::string& uuid);
    virtual std::string secretLookupByUsage(int32_t usageType, const std::string& usageID);
    virtual bool secretExists(const std::string& uuid);
    virtual SecretSummary secretSummary(const std::string& uuid);
    virtual std::string secretDefineXML(const std::string& xml, uint32_t flags);
    virtual std::vector<uint8_t> secretGetValue(const std::string& uuid, uint32_t flags);
    virtual void secretSetValue(const std::string& uuid, const std::vector<uint8_t>& value, uint32_t flags);
    virtual std::string secretGetXMLDesc(const std::string& uuid, uint32_t flags);
    virtual void secretUndefine(const std::string& uuid);
};

// ---- network filters (key: UUID) ----
struct NWFilterRef {
    std::string uuid;
    std::string name;
};

class NWFilterDriver : public SubDriver {
public:
    virtual std::vector<NWFilterRef> listNWFilters(uint32_t flags);
    virtual NWFilterRef nwfilterLookupByName(const std::string& name);
    virtual NWFilterRef nwfilterLookupByUUID(const std::string& uuid);
    virtual bool nwfilterExists(const std::string& uuid);
    virtual NWFilterRef nwfilterDefineXML(const std::string& xml);
    virtual std::string nwfilterGetXMLDesc(const std::string& uuid, uint32_t flags);
    virtual void nwfilterUndefine(const std::string& uuid);
};

} // namespace virtbus
