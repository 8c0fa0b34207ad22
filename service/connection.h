// One connection object (/org/libvirt/Test, /org/libvirt/QEMU) and the
// objects below it. Nothing is registered per object: each object kind is one
// sd-bus fallback vtable whose find callback asks the driver whether the
// object exists, plus a node enumerator that lists children only when the
// kind's own prefix is introspected. The memory cost of the tree is the
// driver's own data.
#pragma once

#include <systemd/sd-bus.h>

#include <memory>
#include <string>
#include <vector>

#include "adaptors.h"
#include "authz.h"
#include "domain_console_adaptor.h"
#include "driver.h"
#include "events.h"
#include "object_adaptors.h"
#include "object_kind.h"
#include "workers.h"

namespace virtbus {

class Connection : public EventSink {
public:
    // With a dispatcher, method calls run on its workers and the driver may
    // report events from any thread; without, everything stays inline.
    Connection(sd_bus* bus, std::unique_ptr<Driver> driver, bus::Dispatcher* dispatcher = nullptr);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Registers every vtable, enumerator and filter. Call before the bus
    // name is requested, so clients never see a half-built tree.
    // org.virtbus.StorageVolTransfer.Progress of the volume `key`; from any
    // thread (the signal leaves from the bus thread).
    void volumeProgress(const std::string& key, const std::string& operation, uint64_t done, uint64_t total);
    void publish();

    // Every call from now on is checked through polkit (the system bus).
    void enableAuthorization(Polkit& polkit);

    Driver& driver() { return *driver_; }
    const std::string& path() const { return path_; }
    std::string domainPath(const std::string& uuid) const;
    std::string snapshotPath(const SnapshotRef& s) const;
    std::vector<bus::ObjectPath> snapshotPaths(const std::vector<SnapshotRef>& s) const;
    std::string networkPath(const std::string& uuid) const;
    std::string poolPath(const std::string& uuid) const;
    std::string volPath(const std::string& key) const;
    std::string interfacePath(const std::string& mac) const;
    std::string nodeDevicePath(const std::string& name) const;
    std::string secretPath(const std::string& uuid) const;
    std::string nwfilterPath(const std::string& uuid) const;

    // EventSink
    void domainLifecycle(const std::string& uuid, int32_t event, int32_t detail) override;
    void domainSignal(const std::string& uuid, const DomainSignal& signal) override;
    void networkLifecycle(const std::string& uuid, int32_t event) override;
    void storagePoolLifecycle(const std::string& uuid, int32_t event, int32_t detail) override;
    void storagePoolRefresh(const std::string& uuid) override;
    void nodeDeviceLifecycle(const std::string& name, int32_t event, int32_t detail) override;
    void secretLifecycle(const std::string& uuid, int32_t event, int32_t detail) override;
    void objectAdded(const ObjectId& id) override;
    void objectRemoved(const ObjectId& id) override;
    void propertiesChanged(const ObjectId& id, uint32_t props) override;

private:
    static int connectFilter(sd_bus_message* m, void* userdata, sd_bus_error*);
    void answerManagedObjects(sd_bus_message* m);
    static void appendManaged(sd_bus_message* reply, ObjectKind* kind, const std::vector<std::string>& paths,
        const std::vector<bool>& visible, const std::vector<bool>& readable);
    void addKind(ObjectKind kind);
    void publishObjectKinds();
    // Path and interface of an object of any kind.
    std::pair<std::string, const char*> locate(const ObjectId& id) const;

    sd_bus* bus_;
    std::unique_ptr<Driver> driver_;
    std::string path_;
    ConnectAdaptor connect_;
    DomainAdaptor domain_;
    SnapshotAdaptor snapshot_;
    DomainConsoleAdaptor console_;
    NetworkAdaptor network_;
    StoragePoolAdaptor pool_;
    StorageVolAdaptor vol_;
    StorageVolTransferAdaptor volTransfer_;
    InterfaceAdaptor iface_;
    NodeDeviceAdaptor nodedev_;
    SecretAdaptor secret_;
    NWFilterAdaptor nwfilter_;
    bus::Dispatcher* dispatcher_ = nullptr;
    std::unique_ptr<BusThreadSink> threadSink_;
    std::unique_ptr<ConnectionAuthorizer> authorizer_;
    std::vector<std::unique_ptr<ObjectKind>> kinds_;
    std::vector<std::unique_ptr<ObjectKind>> extensions_; // org.virtbus.* interfaces on a kind's objects
    std::vector<sd_bus_slot*> slots_;
};

} // namespace virtbus
