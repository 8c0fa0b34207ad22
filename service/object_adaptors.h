// Thin adaptors of the non-domain objects: path -> key, call the
// connection's sub-driver, encode the answer.
#pragma once

#include <string>

#include "glue_Interface.h"
#include "glue_NWFilter.h"
#include "glue_Network.h"
#include "glue_NodeDevice.h"
#include "glue_Secret.h"
#include "glue_StoragePool.h"
#include "glue_StorageVol.h"
#include "glue_StorageVolTransfer.h"
#include "object_drivers.h"

namespace virtbus {

class Connection;

class NetworkAdaptor : public glue::NetworkServer {
public:
    explicit NetworkAdaptor(Connection& c) : c_(c) { }
    void Create(bus::Reply<>& r) override;
    void Destroy(bus::Reply<>& r) override;
    void GetDHCPLeases(bus::Reply<std::vector<DhcpLease>>& r, std::string mac, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void Undefine(bus::Reply<>& r) override;
    void Update(bus::Reply<>& r, uint32_t command, uint32_t section, int32_t parentIndex, std::string xml,
        uint32_t flags) override;
    bool getActive(const char* path) override;
    bool getAutostart(const char* path) override;
    void setAutostart(const char* path, bool value) override;
    std::string getName(const char* path) override;
    bool getPersistent(const char* path) override;
    std::string getUUID(const char* path) override;

private:
    std::string key(const char* path) const;
    NetworkDriver& drv() const;
    Connection& c_;
};

class StoragePoolAdaptor : public glue::StoragePoolServer {
public:
    explicit StoragePoolAdaptor(Connection& c) : c_(c) { }
    void Build(bus::Reply<>& r, uint32_t flags) override;
    void Create(bus::Reply<>& r, uint32_t flags) override;
    void Delete(bus::Reply<>& r, uint32_t flags) override;
    void Destroy(bus::Reply<>& r) override;
    void GetInfo(bus::Reply<PoolInfo>& r) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void ListStorageVolumes(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags) override;
    void Refresh(bus::Reply<>& r, uint32_t flags) override;
    void StorageVolCreateXML(bus::Reply<bus::ObjectPath>& r, std::string xml, uint32_t flags) override;
    void StorageVolCreateXMLFrom(
        bus::Reply<bus::ObjectPath>& r, std::string xml, std::string key, uint32_t flags) override;
    void StorageVolLookupByName(bus::Reply<bus::ObjectPath>& r, std::string name) override;
    void Undefine(bus::Reply<>& r) override;
    bool getActive(const char* path) override;
    bool getAutostart(const char* path) override;
    void setAutostart(const char* path, bool value) override;
    std::string getName(const char* path) override;
    bool getPersistent(const char* path) override;
    std::string getUUID(const char* path) override;

private:
    std::string key(const char* path) const;
    StorageDriver& drv() const;
    Connection& c_;
};

class StorageVolAdaptor : public glue::StorageVolServer {
public:
    explicit StorageVolAdaptor(Connection& c) : c_(c) { }
    void Delete(bus::Reply<>& r, uint32_t flags) override;
    void GetInfo(bus::Reply<VolInfo>& r, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void Resize(bus::Reply<>& r, uint64_t capacity, uint32_t flags) override;
    void Wipe(bus::Reply<>& r, uint32_t pattern, uint32_t flags) override;
    std::string getName(const char* path) override;
    std::string getKey(const char* path) override;
    std::string getPath(const char* path) override;

private:
    std::string key(const char* path) const;
    StorageDriver& drv() const;
    Connection& c_;
};

// org.virtbus.StorageVolTransfer, virtbus's extension on every volume.
class StorageVolTransferAdaptor : public glue::StorageVolTransferServer {
public:
    explicit StorageVolTransferAdaptor(Connection& c) : c_(c) { }
    void Upload(bus::Reply<>& r, bus::UnixFd fd, uint64_t offset, uint64_t length, uint32_t flags) override;
    void Download(bus::Reply<>& r, bus::UnixFd fd, uint64_t offset, uint64_t length, uint32_t flags) override;

private:
    std::string key(const char* path) const;
    Connection& c_;
};

class InterfaceAdaptor : public glue::InterfaceServer {
public:
    explicit InterfaceAdaptor(Connection& c) : c_(c) { }
    void Create(bus::Reply<>& r, uint32_t flags) override;
    void Destroy(bus::Reply<>& r, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void Undefine(bus::Reply<>& r) override;
    bool getActive(const char* path) override;
    std::string getMAC(const char* path) override;
    std::string getName(const char* path) override;

private:
    std::string key(const char* path) const;
    InterfaceDriver& drv() const;
    Connection& c_;
};

class NodeDeviceAdaptor : public glue::NodeDeviceServer {
public:
    explicit NodeDeviceAdaptor(Connection& c) : c_(c) { }
    void Destroy(bus::Reply<>& r) override;
    void Detach(bus::Reply<>& r, std::string driverName, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void ListCaps(bus::Reply<std::vector<std::string>>& r) override;
    void ReAttach(bus::Reply<>& r) override;
    void Reset(bus::Reply<>& r) override;
    std::string getName(const char* path) override;
    std::string getParent(const char* path) override;

private:
    std::string key(const char* path) const;
    NodeDeviceDriver& drv() const;
    Connection& c_;
};

class SecretAdaptor : public glue::SecretServer {
public:
    explicit SecretAdaptor(Connection& c) : c_(c) { }
    void GetValue(bus::Reply<std::vector<uint8_t>>& r, uint32_t flags) override;
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void SetValue(bus::Reply<>& r, std::vector<uint8_t> value, uint32_t flags) override;
    void Undefine(bus::Reply<>& r) override;
    std::string getUUID(const char* path) override;
    std::string getUsageID(const char* path) override;
    int32_t getUsageType(const char* path) override;

private:
    std::string key(const char* path) const;
    SecretDriver& drv() const;
    Connection& c_;
};

class NWFilterAdaptor : public glue::NWFilterServer {
public:
    explicit NWFilterAdaptor(Connection& c) : c_(c) { }
    void GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags) override;
    void Undefine(bus::Reply<>& r) override;
    std::string getName(const char* path) override;
    std::string getUUID(const char* path) override;

private:
    std::string key(const char* path) const;
    NWFilterDriver& drv() const;
    Connection& c_;
};

} // namespace virtbus
