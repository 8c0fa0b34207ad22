// Every call a connection's sub-driver does not implement fails as libvirt
// fails for a driver table without it.
#include "object_drivers.h"

namespace virtbus {

std::vector<NetworkRef> NetworkDriver::listNetworks(uint32_t)
{
    throw err::notSupported("virConnectListAllNetworks");
}

NetworkRef NetworkDriver::networkLookupByName(const std::string&)
{
    throw err::notSupported("virNetworkLookupByName");
}

NetworkRef NetworkDriver::networkLookupByUUID(const std::string&)
{
    throw err::notSupported("virNetworkLookupByUUID");
}

bool NetworkDriver::networkExists(const std::string&)
{
    return false;
}

NetworkSummary NetworkDriver::networkSummary(const std::string&)
{
    throw err::notSupported("virNetworkGetName");
}

NetworkRef NetworkDriver::networkCreateXML(const std::string&)
{
    throw err::notSupported("virNetworkCreateXML");
}

NetworkRef NetworkDriver::networkDefineXML(const std::string&)
{
    throw err::notSupported("virNetworkDefineXML");
}

void NetworkDriver::networkCreate(const std::string&)
{
    throw err::notSupported("virNetworkCreate");
}

void NetworkDriver::networkDestroy(const std::string&)
{
    throw err::notSupported("virNetworkDestroy");
}

void NetworkDriver::networkUndefine(const std::string&)
{
    throw err::notSupported("virNetworkUndefine");
}

void NetworkDriver::networkSetAutostart(const std::string&, bool)
{
    throw err::notSupported("virNetworkSetAutostart");
}

std::string NetworkDriver::networkGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virNetworkGetXMLDesc");
}

void NetworkDriver::networkUpdate(const std::string&, uint32_t, uint32_t, int32_t, const std::string&, uint32_t)
{
    throw err::notSupported("virNetworkUpdate");
}

std::vector<DhcpLease> NetworkDriver::networkGetDHCPLeases(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virNetworkGetDHCPLeases");
}

std::vector<PoolRef> StorageDriver::listStoragePools(uint32_t)
{
    throw err::notSupported("virConnectListAllStoragePools");
}

PoolRef StorageDriver::poolLookupByName(const std::string&)
{
    throw err::notSupported("virStoragePoolLookupByName");
}

PoolRef StorageDriver::poolLookupByUUID(const std::string&)
{
    throw err::notSupported("virStoragePoolLookupByUUID");
}

bool StorageDriver::poolExists(const std::string&)
{
    return false;
}

PoolSummary StorageDriver::poolSummary(const std::string&)
{
    throw err::notSupported("virStoragePoolGetName");
}

PoolRef StorageDriver::poolCreateXML(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolCreateXML");
}

PoolRef StorageDriver::poolDefineXML(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolDefineXML");
}

void StorageDriver::poolBuild(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolBuild");
}

void StorageDriver::poolCreate(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolCreate");
}

void StorageDriver::poolDelete(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolDelete");
}

void StorageDriver::poolDestroy(const std::string&)
{
    throw err::notSupported("virStoragePoolDestroy");
}

void StorageDriver::poolUndefine(const std::string&)
{
    throw err::notSupported("virStoragePoolUndefine");
}

void StorageDriver::poolRefresh(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolRefresh");
}

void StorageDriver::poolSetAutostart(const std::string&, bool)
{
    throw err::notSupported("virStoragePoolSetAutostart");
}

PoolInfo StorageDriver::poolGetInfo(const std::string&)
{
    throw err::notSupported("virStoragePoolGetInfo");
}

std::string StorageDriver::poolGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolGetXMLDesc");
}

std::vector<VolRef> StorageDriver::poolListVolumes(const std::string&, uint32_t)
{
    throw err::notSupported("virStoragePoolListAllVolumes");
}

std::string StorageDriver::findStoragePoolSources(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virConnectFindStoragePoolSources");
}

VolRef StorageDriver::volCreateXML(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virStorageVolCreateXML");
}

VolRef StorageDriver::volCreateXMLFrom(const std::string&, const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virStorageVolCreateXMLFrom");
}

VolRef StorageDriver::volLookupByName(const std::string&, const std::string&)
{
    throw err::notSupported("virStorageVolLookupByName");
}

VolRef StorageDriver::volLookupByKey(const std::string&)
{
    throw err::notSupported("virStorageVolLookupByKey");
}

VolRef StorageDriver::volLookupByPath(const std::string&)
{
    throw err::notSupported("virStorageVolLookupByPath");
}

bool StorageDriver::volExists(const std::string&)
{
    return false;
}

void StorageDriver::volDelete(const std::string&, uint32_t)
{
    throw err::notSupported("virStorageVolDelete");
}

VolInfo StorageDriver::volGetInfo(const std::string&, uint32_t)
{
    throw err::notSupported("virStorageVolGetInfoFlags");
}

std::string StorageDriver::volGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virStorageVolGetXMLDesc");
}

void StorageDriver::volResize(const std::string&, uint64_t, uint32_t)
{
    throw err::notSupported("virStorageVolResize");
}

void StorageDriver::volWipe(const std::string&, uint32_t, uint32_t)
{
    throw err::notSupported("virStorageVolWipePattern");
}

void StorageDriver::volUpload(const std::string&, int, uint64_t, uint64_t, uint32_t)
{
    throw err::notSupported("virStorageVolUpload");
}

void StorageDriver::volDownload(const std::string&, int, uint64_t, uint64_t, uint32_t)
{
    throw err::notSupported("virStorageVolDownload");
}

std::vector<IfaceRef> InterfaceDriver::listInterfaces(uint32_t)
{
    throw err::notSupported("virConnectListAllInterfaces");
}

IfaceRef InterfaceDriver::ifaceLookupByName(const std::string&)
{
    throw err::notSupported("virInterfaceLookupByName");
}

IfaceRef InterfaceDriver::ifaceLookupByMAC(const std::string&)
{
    throw err::notSupported("virInterfaceLookupByMACString");
}

bool InterfaceDriver::ifaceExists(const std::string&)
{
    return false;
}

IfaceSummary InterfaceDriver::ifaceSummary(const std::string&)
{
    throw err::notSupported("virInterfaceGetName");
}

IfaceRef InterfaceDriver::ifaceDefineXML(const std::string&, uint32_t)
{
    throw err::notSupported("virInterfaceDefineXML");
}

void InterfaceDriver::ifaceCreate(const std::string&, uint32_t)
{
    throw err::notSupported("virInterfaceCreate");
}

void InterfaceDriver::ifaceDestroy(const std::string&, uint32_t)
{
    throw err::notSupported("virInterfaceDestroy");
}

void InterfaceDriver::ifaceUndefine(const std::string&)
{
    throw err::notSupported("virInterfaceUndefine");
}

std::string InterfaceDriver::ifaceGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virInterfaceGetXMLDesc");
}

void InterfaceDriver::changeBegin(uint32_t)
{
    throw err::notSupported("virInterfaceChangeBegin");
}

void InterfaceDriver::changeCommit(uint32_t)
{
    throw err::notSupported("virInterfaceChangeCommit");
}

void InterfaceDriver::changeRollback(uint32_t)
{
    throw err::notSupported("virInterfaceChangeRollback");
}

std::vector<std::string> NodeDeviceDriver::listNodeDevices(uint32_t)
{
    throw err::notSupported("virConnectListAllNodeDevices");
}

std::string NodeDeviceDriver::nodeDeviceLookupByName(const std::string&)
{
    throw err::notSupported("virNodeDeviceLookupByName");
}

std::string NodeDeviceDriver::nodeDeviceLookupSCSIHostByWWN(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virNodeDeviceLookupSCSIHostByWWN");
}

bool NodeDeviceDriver::nodeDeviceExists(const std::string&)
{
    return false;
}

NodeDeviceSummary NodeDeviceDriver::nodeDeviceSummary(const std::string&)
{
    throw err::notSupported("virNodeDeviceGetName");
}

std::string NodeDeviceDriver::nodeDeviceCreateXML(const std::string&, uint32_t)
{
    throw err::notSupported("virNodeDeviceCreateXML");
}

void NodeDeviceDriver::nodeDeviceDestroy(const std::string&)
{
    throw err::notSupported("virNodeDeviceDestroy");
}

void NodeDeviceDriver::nodeDeviceDetach(const std::string&, const std::string&, uint32_t)
{
    throw err::notSupported("virNodeDeviceDetachFlags");
}

void NodeDeviceDriver::nodeDeviceReAttach(const std::string&)
{
    throw err::notSupported("virNodeDeviceReAttach");
}

void NodeDeviceDriver::nodeDeviceReset(const std::string&)
{
    throw err::notSupported("virNodeDeviceReset");
}

std::string NodeDeviceDriver::nodeDeviceGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virNodeDeviceGetXMLDesc");
}

std::vector<std::string> NodeDeviceDriver::nodeDeviceListCaps(const std::string&)
{
    throw err::notSupported("virNodeDeviceListCaps");
}

std::vector<std::string> SecretDriver::listSecrets(uint32_t)
{
    throw err::notSupported("virConnectListAllSecrets");
}

std::string SecretDriver::secretLookupByUUID(const std::string&)
{
    throw err::notSupported("virSecretLookupByUUID");
}

std::string SecretDriver::secretLookupByUsage(int32_t, const std::string&)
{
    throw err::notSupported("virSecretLookupByUsage");
}

bool SecretDriver::secretExists(const std::string&)
{
    return false;
}

SecretSummary SecretDriver::secretSummary(const std::string&)
{
    throw err::notSupported("virSecretGetUUID");
}

std::string SecretDriver::secretDefineXML(const std::string&, uint32_t)
{
    throw err::notSupported("virSecretDefineXML");
}

std::vector<uint8_t> SecretDriver::secretGetValue(const std::string&, uint32_t)
{
    throw err::notSupported("virSecretGetValue");
}

void SecretDriver::secretSetValue(const std::string&, const std::vector<uint8_t>&, uint32_t)
{
    throw err::notSupported("virSecretSetValue");
}

std::string SecretDriver::secretGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virSecretGetXMLDesc");
}

void SecretDriver::secretUndefine(const std::string&)
{
    throw err::notSupported("virSecretUndefine");
}

std::vector<NWFilterRef> NWFilterDriver::listNWFilters(uint32_t)
{
    throw err::notSupported("virConnectListAllNWFilters");
}

NWFilterRef NWFilterDriver::nwfilterLookupByName(const std::string&)
{
    throw err::notSupported("virNWFilterLookupByName");
}

NWFilterRef NWFilterDriver::nwfilterLookupByUUID(const std::string&)
{
    throw err::notSupported("virNWFilterLookupByUUID");
}

bool NWFilterDriver::nwfilterExists(const std::string&)
{
    return false;
}

NWFilterRef NWFilterDriver::nwfilterDefineXML(const std::string&)
{
    throw err::notSupported("virNWFilterDefineXML");
}

std::string NWFilterDriver::nwfilterGetXMLDesc(const std::string&, uint32_t)
{
    throw err::notSupported("virNWFilterGetXMLDesc");
}

void NWFilterDriver::nwfilterUndefine(const std::string&)
{
    throw err::notSupported("virNWFilterUndefine");
}

} // namespace virtbus
