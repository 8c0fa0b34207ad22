// Connect members for networks, storage, host interfaces, node devices,
// secrets and network filters: each asks the connection's sub-driver and
// turns the keys it answers into object paths.
#include "adaptors.h"
#include "connection.h"

namespace virtbus {

namespace {
template <class Refs, class ToPath>
std::vector<bus::ObjectPath> pathsOf(const Refs& refs, ToPath&& toPath)
{
    std::vector<bus::ObjectPath> out;
    out.reserve(refs.size());
    for (const auto& r : refs)
        out.push_back({toPath(r)});
    return out;
}
} // namespace

void ConnectAdaptor::FindStoragePoolSources(bus::Reply<std::string>& r, std::string type, std::string srcSpec,
                                            uint32_t flags)
{
    r.ok(c_.driver().storage().findStoragePoolSources(type, srcSpec, flags));
}

void ConnectAdaptor::InterfaceChangeBegin(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().interfaces().changeBegin(flags);
    r.ok();
}

void ConnectAdaptor::InterfaceChangeCommit(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().interfaces().changeCommit(flags);
    r.ok();
}

void ConnectAdaptor::InterfaceChangeRollback(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().interfaces().changeRollback(flags);
    r.ok();
}

void ConnectAdaptor::InterfaceDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.interfacePath(c_.driver().interfaces().ifaceDefineXML(xml, flags).mac)});
}

void ConnectAdaptor::InterfaceLookupByMAC(bus::Reply<bus::ObjectPath>& r, std::string mac)
{
    r.ok({c_.interfacePath(c_.driver().interfaces().ifaceLookupByMAC(mac).mac)});
}

void ConnectAdaptor::InterfaceLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.interfacePath(c_.driver().interfaces().ifaceLookupByName(name).mac)});
}

void ConnectAdaptor::ListInterfaces(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(pathsOf(c_.driver().interfaces().listInterfaces(flags),
                 [this](const IfaceRef& i) { return c_.interfacePath(i.mac); }));
}

void ConnectAdaptor::ListNetworks(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(pathsOf(c_.driver().networks().listNetworks(flags),
                 [this](const NetworkRef& n) { return c_.networkPath(n.uuid); }));
}

void ConnectAdaptor::ListNodeDevices(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(pathsOf(c_.driver().nodeDevices().listNodeDevices(flags),
                 [this](const std::string& n) { return c_.nodeDevicePath(n); }));
}

void ConnectAdaptor::ListNWFilters(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(pathsOf(c_.driver().nwfilters().listNWFilters(flags),
                 [this](const NWFilterRef& n) { return c_.nwfilterPath(n.uuid); }));
}

void ConnectAdaptor::ListSecrets(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(pathsOf(c_.driver().secrets().listSecrets(flags),
                 [this](const std::string& uuid) { return c_.secretPath(uuid); }));
}

void ConnectAdaptor::ListStoragePools(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(pathsOf(c_.driver().storage().listStoragePools(flags),
                 [this](const PoolRef& p) { return c_.poolPath(p.uuid); }));
}

void ConnectAdaptor::NetworkCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml)
{
    r.ok({c_.networkPath(c_.driver().networks().networkCreateXML(xml).uuid)});
}

void ConnectAdaptor::NetworkDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml)
{
    r.ok({c_.networkPath(c_.driver().networks().networkDefineXML(xml).uuid)});
}

void ConnectAdaptor::NetworkLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.networkPath(c_.driver().networks().networkLookupByName(name).uuid)});
}

void ConnectAdaptor::NetworkLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid)
{
    r.ok({c_.networkPath(c_.driver().networks().networkLookupByUUID(uuid).uuid)});
}

void ConnectAdaptor::NodeDeviceCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.nodeDevicePath(c_.driver().nodeDevices().nodeDeviceCreateXML(xml, flags))});
}

void ConnectAdaptor::NodeDeviceLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.nodeDevicePath(c_.driver().nodeDevices().nodeDeviceLookupByName(name))});
}

void ConnectAdaptor::NodeDeviceLookupSCSIHostByWWN(bus::Reply<bus::ObjectPath>& r, std::string wwnn, std::string wwpn,
                                                   uint32_t flags)
{
    r.ok({c_.nodeDevicePath(c_.driver().nodeDevices().nodeDeviceLookupSCSIHostByWWN(wwnn, wwpn, flags))});
}

void ConnectAdaptor::NWFilterDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml)
{
    r.ok({c_.nwfilterPath(c_.driver().nwfilters().nwfilterDefineXML(xml).uuid)});
}

void ConnectAdaptor::NWFilterLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.nwfilterPath(c_.driver().nwfilters().nwfilterLookupByName(name).uuid)});
}

void ConnectAdaptor::NWFilterLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid)
{
    r.ok({c_.nwfilterPath(c_.driver().nwfilters().nwfilterLookupByUUID(uuid).uuid)});
}

void ConnectAdaptor::SecretDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.secretPath(c_.driver().secrets().secretDefineXML(xml, flags))});
}

void ConnectAdaptor::SecretLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid)
{
    r.ok({c_.secretPath(c_.driver().secrets().secretLookupByUUID(uuid))});
}

void ConnectAdaptor::SecretLookupByUsage(bus::Reply<bus::ObjectPath>& r, int32_t usageType, std::string usageID)
{
    r.ok({c_.secretPath(c_.driver().secrets().secretLookupByUsage(usageType, usageID))});
}

void ConnectAdaptor::StoragePoolCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.poolPath(c_.driver().storage().poolCreateXML(xml, flags).uuid)});
}

void ConnectAdaptor::StoragePoolDefineXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags)
{
    r.ok({c_.poolPath(c_.driver().storage().poolDefineXML(xml, flags).uuid)});
}

void ConnectAdaptor::StoragePoolLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name)
{
    r.ok({c_.poolPath(c_.driver().storage().poolLookupByName(name).uuid)});
}

void ConnectAdaptor::StoragePoolLookupByUUID(bus::Reply<bus::ObjectPath>& r, std::string uuid)
{
    r.ok({c_.poolPath(c_.driver().storage().poolLookupByUUID(uuid).uuid)});
}

void ConnectAdaptor::StorageVolLookupByKey(bus::Reply<bus::ObjectPath>& r, std::string key)
{
    r.ok({c_.volPath(c_.driver().storage().volLookupByKey(key).key)});
}

void ConnectAdaptor::StorageVolLookupByPath(bus::Reply<bus::ObjectPath>& r, std::string path)
{
    r.ok({c_.volPath(c_.driver().storage().volLookupByPath(path).key)});
}

} // namespace virtbus
