#include "object_adaptors.h"

#include "connection.h"
#include "paths.h"

namespace virtbus {

namespace {
// The find callback already checked the object; a path that does not decode
// here can only be a race with its removal.
template <class Err>
std::string keyOr(std::optional<std::string> k, Err&& fail)
{
    if (!k)
        throw fail();
    return *k;
}
} // namespace

// ---- Network ----
std::string NetworkAdaptor::key(const char* p) const
{
    return keyOr(paths::uuidOfChild(c_.path(), "network", p),
        [] { return makeError(ErrCode::NoNetwork, ErrDomain::Network, "no network with matching path"); });
}
NetworkDriver& NetworkAdaptor::drv() const { return c_.driver().networks(); }

void NetworkAdaptor::Create(bus::Reply<>& r)
{
    drv().networkCreate(key(r.path()));
    r.ok();
}
void NetworkAdaptor::Destroy(bus::Reply<>& r)
{
    drv().networkDestroy(key(r.path()));
    r.ok();
}
void NetworkAdaptor::GetDHCPLeases(bus::Reply<std::vector<DhcpLease>>& r, std::string mac, uint32_t flags)
{
    r.ok(drv().networkGetDHCPLeases(key(r.path()), mac, flags));
}
void NetworkAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().networkGetXMLDesc(key(r.path()), flags));
}
void NetworkAdaptor::Undefine(bus::Reply<>& r)
{
    drv().networkUndefine(key(r.path()));
    r.ok();
}
void NetworkAdaptor::Update(
    bus::Reply<>& r, uint32_t command, uint32_t section, int32_t parentIndex, std::string xml, uint32_t flags)
{
    drv().networkUpdate(key(r.path()), command, section, parentIndex, xml, flags);
    r.ok();
}
bool NetworkAdaptor::getActive(const char* p) { return drv().networkSummary(key(p)).active; }
bool NetworkAdaptor::getAutostart(const char* p) { return drv().networkSummary(key(p)).autostart; }
void NetworkAdaptor::setAutostart(const char* p, bool v) { drv().networkSetAutostart(key(p), v); }
std::string NetworkAdaptor::getName(const char* p) { return drv().networkSummary(key(p)).name; }
bool NetworkAdaptor::getPersistent(const char* p) { return drv().networkSummary(key(p)).persistent; }
std::string NetworkAdaptor::getUUID(const char* p) { return drv().networkSummary(key(p)).uuid; }

// ---- StoragePool ----
std::string StoragePoolAdaptor::key(const char* p) const
{
    return keyOr(paths::uuidOfChild(c_.path(), "storagepool", p),
        [] { return makeError(ErrCode::NoStoragePool, ErrDomain::Storage, "no storage pool with matching path"); });
}
StorageDriver& StoragePoolAdaptor::drv() const { return c_.driver().storage(); }

void StoragePoolAdaptor::Build(bus::Reply<>& r, uint32_t flags)
{
    drv().poolBuild(key(r.path()), flags);
    r.ok();
}
void StoragePoolAdaptor::Create(bus::Reply<>& r, uint32_t flags)
{
    drv().poolCreate(key(r.path()), flags);
    r.ok();
}
void StoragePoolAdaptor::Delete(bus::Reply<>& r, uint32_t flags)
{
    drv().poolDelete(key(r.path()), flags);
    r.ok();
}
void StoragePoolAdaptor::Destroy(bus::Reply<>& r)
{
    drv().poolDestroy(key(r.path()));
    r.ok();
}
void StoragePoolAdaptor::GetInfo(bus::Reply<PoolInfo>& r) { r.ok(drv().poolGetInfo(key(r.path()))); }
void StoragePoolAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().poolGetXMLDesc(key(r.path()), flags));
}
void StoragePoolAdaptor::ListStorageVolumes(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    std::vector<bus::ObjectPath> out;
    for (const auto& v : drv().poolListVolumes(key(r.path()), flags))
        out.push_back({c_.volPath(v.key)});
    r.ok(out);
}
void StoragePoolAdaptor::Refresh(bus::Reply<>& r, uint32_t flags)
{
    drv().poolRefresh(key(r.path()), flags);
    r.ok();
}
void StoragePoolAdaptor::StorageVolCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.volPath(drv().volCreateXML(key(r.path()), xml, flags).key)});
}
void StoragePoolAdaptor::StorageVolCreateXMLFrom(
    bus::Reply<bus::ObjectPath>& r, std::string xml, std::string srcKey, uint32_t flags)
{
    r.ok({c_.volPath(drv().volCreateXMLFrom(key(r.path()), xml, srcKey, flags).key)});
}
void StoragePoolAdaptor::StorageVolLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.volPath(drv().volLookupByName(key(r.path()), name).key)});
}
void StoragePoolAdaptor::Undefine(bus::Reply<>& r)
{
    drv().poolUndefine(key(r.path()));
    r.ok();
}
bool StoragePoolAdaptor::getActive(const char* p) { return drv().poolSummary(key(p)).active; }
bool StoragePoolAdaptor::getAutostart(const char* p) { return drv().poolSummary(key(p)).autostart; }
void StoragePoolAdaptor::setAutostart(const char* p, bool v) { drv().poolSetAutostart(key(p), v); }
std::string StoragePoolAdaptor::getName(const char* p) { return drv().poolSummary(key(p)).name; }
bool StoragePoolAdaptor::getPersistent(const char* p) { return drv().poolSummary(key(p)).persistent; }
std::string StoragePoolAdaptor::getUUID(const char* p) { return drv().poolSummary(key(p)).uuid; }

// ---- StorageVol ----
std::string StorageVolAdaptor::key(const char* p) const
{
    return keyOr(paths::keyOfChild(c_.path(), "storagevol", p),
        [] { return makeError(ErrCode::NoStorageVol, ErrDomain::Storage, "no storage vol with matching path"); });
}
StorageDriver& StorageVolAdaptor::drv() const { return c_.driver().storage(); }

void StorageVolAdaptor::Delete(bus::Reply<>& r, uint32_t flags)
{
    drv().volDelete(key(r.path()), flags);
    r.ok();
}
void StorageVolAdaptor::GetInfo(bus::Reply<VolInfo>& r, uint32_t flags)
{
    r.ok(drv().volGetInfo(key(r.path()), flags));
}
void StorageVolAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().volGetXMLDesc(key(r.path()), flags));
}
void StorageVolAdaptor::Resize(bus::Reply<>& r, uint64_t capacity, uint32_t flags)
{
    drv().volResize(key(r.path()), capacity, flags);
    r.ok();
}
void StorageVolAdaptor::Wipe(bus::Reply<>& r, uint32_t pattern, uint32_t flags)
{
    drv().volWipe(key(r.path()), pattern, flags);
    r.ok();
}
std::string StorageVolTransferAdaptor::key(const char* p) const
{
    return keyOr(paths::keyOfChild(c_.path(), "storagevol", p),
        [] { return makeError(ErrCode::NoStorageVol, ErrDomain::Storage, "no storage vol with matching path"); });
}
void StorageVolTransferAdaptor::Upload(
    bus::Reply<>& r, bus::UnixFd fd, uint64_t offset, uint64_t length, uint32_t flags)
{
    c_.driver().storage().volUpload(key(r.path()), fd.fd, offset, length, flags);
    r.ok();
}
void StorageVolTransferAdaptor::Download(
    bus::Reply<>& r, bus::UnixFd fd, uint64_t offset, uint64_t length, uint32_t flags)
{
    c_.driver().storage().volDownload(key(r.path()), fd.fd, offset, length, flags);
    r.ok();
}
std::string StorageVolAdaptor::getName(const char* p) { return drv().volLookupByKey(key(p)).name; }
std::string StorageVolAdaptor::getKey(const char* p) { return drv().volLookupByKey(key(p)).key; }
std::string StorageVolAdaptor::getPath(const char* p) { return drv().volLookupByKey(key(p)).path; }

// ---- Interface ----
std::string InterfaceAdaptor::key(const char* p) const
{
    return keyOr(paths::keyOfChild(c_.path(), "interface", p),
        [] { return makeError(ErrCode::NoInterface, ErrDomain::Interface, "no interface with matching path"); });
}
InterfaceDriver& InterfaceAdaptor::drv() const { return c_.driver().interfaces(); }

void InterfaceAdaptor::Create(bus::Reply<>& r, uint32_t flags)
{
    drv().ifaceCreate(key(r.path()), flags);
    r.ok();
}
void InterfaceAdaptor::Destroy(bus::Reply<>& r, uint32_t flags)
{
    drv().ifaceDestroy(key(r.path()), flags);
    r.ok();
}
void InterfaceAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().ifaceGetXMLDesc(key(r.path()), flags));
}
void InterfaceAdaptor::Undefine(bus::Reply<>& r)
{
    drv().ifaceUndefine(key(r.path()));
    r.ok();
}
bool InterfaceAdaptor::getActive(const char* p) { return drv().ifaceSummary(key(p)).active; }
std::string InterfaceAdaptor::getMAC(const char* p) { return drv().ifaceSummary(key(p)).mac; }
std::string InterfaceAdaptor::getName(const char* p) { return drv().ifaceSummary(key(p)).name; }

// ---- NodeDevice ----
std::string NodeDeviceAdaptor::key(const char* p) const
{
    return keyOr(paths::keyOfChild(c_.path(), "nodedev", p),
        [] { return makeError(ErrCode::NoNodeDevice, ErrDomain::NodeDev, "no node device with matching path"); });
}
NodeDeviceDriver& NodeDeviceAdaptor::drv() const { return c_.driver().nodeDevices(); }

void NodeDeviceAdaptor::Destroy(bus::Reply<>& r)
{
    drv().nodeDeviceDestroy(key(r.path()));
    r.ok();
}
void NodeDeviceAdaptor::Detach(bus::Reply<>& r, std::string driverName, uint32_t flags)
{
    drv().nodeDeviceDetach(key(r.path()), driverName, flags);
    r.ok();
}
void NodeDeviceAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().nodeDeviceGetXMLDesc(key(r.path()), flags));
}
void NodeDeviceAdaptor::ListCaps(bus::Reply<std::vector<std::string>>& r)
{
    r.ok(drv().nodeDeviceListCaps(key(r.path())));
}
void NodeDeviceAdaptor::ReAttach(bus::Reply<>& r)
{
    drv().nodeDeviceReAttach(key(r.path()));
    r.ok();
}
void NodeDeviceAdaptor::Reset(bus::Reply<>& r)
{
    drv().nodeDeviceReset(key(r.path()));
    r.ok();
}
std::string NodeDeviceAdaptor::getName(const char* p) { return drv().nodeDeviceSummary(key(p)).name; }
std::string NodeDeviceAdaptor::getParent(const char* p) { return drv().nodeDeviceSummary(key(p)).parent; }

// ---- Secret ----
std::string SecretAdaptor::key(const char* p) const
{
    return keyOr(paths::uuidOfChild(c_.path(), "secret", p),
        [] { return makeError(ErrCode::NoSecret, ErrDomain::Secret, "no secret with matching path"); });
}
SecretDriver& SecretAdaptor::drv() const { return c_.driver().secrets(); }

void SecretAdaptor::GetValue(bus::Reply<std::vector<uint8_t>>& r, uint32_t flags)
{
    r.ok(drv().secretGetValue(key(r.path()), flags));
}
void SecretAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().secretGetXMLDesc(key(r.path()), flags));
}
void SecretAdaptor::SetValue(bus::Reply<>& r, std::vector<uint8_t> value, uint32_t flags)
{
    drv().secretSetValue(key(r.path()), value, flags);
    r.ok();
}
void SecretAdaptor::Undefine(bus::Reply<>& r)
{
    drv().secretUndefine(key(r.path()));
    r.ok();
}
std::string SecretAdaptor::getUUID(const char* p) { return drv().secretSummary(key(p)).uuid; }
std::string SecretAdaptor::getUsageID(const char* p) { return drv().secretSummary(key(p)).usageID; }
int32_t SecretAdaptor::getUsageType(const char* p) { return drv().secretSummary(key(p)).usageType; }

// ---- NWFilter ----
std::string NWFilterAdaptor::key(const char* p) const
{
    return keyOr(paths::uuidOfChild(c_.path(), "nwfilter", p),
        [] { return makeError(ErrCode::NoNwfilter, ErrDomain::Nwfilter, "no nwfilter with matching path"); });
}
NWFilterDriver& NWFilterAdaptor::drv() const { return c_.driver().nwfilters(); }

void NWFilterAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(drv().nwfilterGetXMLDesc(key(r.path()), flags));
}
void NWFilterAdaptor::Undefine(bus::Reply<>& r)
{
    drv().nwfilterUndefine(key(r.path()));
    r.ok();
}
std::string NWFilterAdaptor::getName(const char* p) { return drv().nwfilterLookupByUUID(key(p)).name; }
std::string NWFilterAdaptor::getUUID(const char* p) { return drv().nwfilterLookupByUUID(key(p)).uuid; }

} // namespace virtbus
