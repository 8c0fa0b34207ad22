#include "connection.h"

#include <cstdlib>
#include <cstring>

#include "log.h"
#include "paths.h"

namespace virtbus {

namespace {

template <class... T>
struct Overloaded : T... {
    using T::operator()...;
};
template <class... T>
Overloaded(T...) -> Overloaded<T...>;

} // namespace

Connection::Connection(sd_bus* bus, std::unique_ptr<Driver> driver)
    : bus_(sd_bus_ref(bus)),
      driver_(std::move(driver)),
      path_(std::string(paths::Root) + "/" + driver_->name()),
      connect_(*this),
      domain_(*this),
      snapshot_(*this),
      network_(*this),
      pool_(*this),
      vol_(*this),
      iface_(*this),
      nodedev_(*this),
      secret_(*this),
      nwfilter_(*this)
{
    driver_->setEventSink(this);
    driver_->networks().setEventSink(this);
    driver_->storage().setEventSink(this);
    driver_->interfaces().setEventSink(this);
    driver_->nodeDevices().setEventSink(this);
    driver_->secrets().setEventSink(this);
    driver_->nwfilters().setEventSink(this);
}

Connection::~Connection()
{
    for (auto* s : slots_)
        sd_bus_slot_unref(s);
    driver_->setEventSink(nullptr);
    driver_->networks().setEventSink(nullptr);
    driver_->storage().setEventSink(nullptr);
    driver_->interfaces().setEventSink(nullptr);
    driver_->nodeDevices().setEventSink(nullptr);
    driver_->secrets().setEventSink(nullptr);
    driver_->nwfilters().setEventSink(nullptr);
    sd_bus_unref(bus_);
}

void Connection::addKind(ObjectKind kind)
{
    kinds_.push_back(std::make_unique<ObjectKind>(std::move(kind)));
    registerKind(bus_, *kinds_.back(), slots_);
}

int Connection::connectGetAll(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "GetAll"))
        return 0;
    const char* iface = nullptr;
    int r = sd_bus_message_read_basic(m, 's', &iface);
    bool ours = r > 0 && iface && std::strcmp(iface, glue::ConnectServer::interfaceName) == 0;
    sd_bus_message_rewind(m, true);
    if (!ours)
        return 0;
    auto* self = static_cast<Connection*>(userdata);
    return answerGetAll(m, [self](sd_bus_message* reply) {
        self->connect_.appendAllProperties(reply, self->path_.c_str(), true);
    });
}

void Connection::publish()
{
    sd_bus_slot* s = nullptr;
    int r = sd_bus_add_object_vtable(bus_, &s, path_.c_str(), glue::ConnectServer::interfaceName,
                                     glue::ConnectServer::vtable(), static_cast<glue::ConnectServer*>(&connect_));
    if (r < 0)
        throw std::runtime_error(std::string("cannot register Connect: ") + strerror(-r));
    slots_.push_back(s);
    r = sd_bus_add_object(bus_, &s, path_.c_str(), connectGetAll, this);
    if (r < 0)
        throw std::runtime_error(std::string("cannot register Connect GetAll: ") + strerror(-r));
    slots_.push_back(s);

    Driver* d = driver_.get();
    std::string conn = path_;
    addKind({path_ + "/domain", glue::DomainServer::interfaceName, glue::DomainServer::vtable(),
             static_cast<glue::DomainServer*>(&domain_),
             [d, conn](std::string_view p) {
                 auto uuid = paths::domainUuid(conn, p);
                 return uuid && d->domainExists(*uuid);
             },
             [this, d] {
                 std::vector<std::string> out;
                 for (const auto& dom : d->listDomains(0))
                     out.push_back(domainPath(dom.uuid));
                 return out;
             },
             [this](sd_bus_message* reply, const char* p) { domain_.appendAllProperties(reply, p, true); }});
    addKind({path_ + "/domainsnapshot", glue::DomainSnapshotServer::interfaceName,
             glue::DomainSnapshotServer::vtable(), static_cast<glue::DomainSnapshotServer*>(&snapshot_),
             [d, conn](std::string_view p) {
                 auto key = paths::snapshotKey(conn, p);
                 return key && d->snapshotExists(key->uuid, key->name);
             },
             [this, d] {
                 std::vector<std::string> out;
                 for (const auto& dom : d->listDomains(0)) {
                     try {
                         for (const auto& snap : d->domainListSnapshots(dom.uuid, 0))
                             out.push_back(snapshotPath(snap));
                     } catch (const VirtError&) {
                         // A driver without snapshots has no snapshot objects.
                     }
                 }
                 return out;
             },
             {}});
    publishObjectKinds();
    logInfo("published %s (%s)", path_.c_str(), driver_->uri().c_str());
}

std::string Connection::domainPath(const std::string& uuid) const { return paths::domain(path_, uuid); }

std::string Connection::snapshotPath(const SnapshotRef& s) const
{
    return paths::snapshot(path_, s.domainUuid, s.name);
}

std::vector<bus::ObjectPath> Connection::snapshotPaths(const std::vector<SnapshotRef>& refs) const
{
    std::vector<bus::ObjectPath> out;
    out.reserve(refs.size());
    for (const auto& s : refs)
        out.push_back({snapshotPath(s)});
    return out;
}

std::string Connection::networkPath(const std::string& uuid) const { return paths::uuidChild(path_, "network", uuid); }
std::string Connection::poolPath(const std::string& uuid) const { return paths::uuidChild(path_, "storagepool", uuid); }
std::string Connection::volPath(const std::string& key) const { return paths::encodedChild(path_, "storagevol", key); }
std::string Connection::interfacePath(const std::string& mac) const
{
    return paths::encodedChild(path_, "interface", mac);
}
std::string Connection::nodeDevicePath(const std::string& name) const
{
    return paths::encodedChild(path_, "nodedev", name);
}
std::string Connection::secretPath(const std::string& uuid) const { return paths::uuidChild(path_, "secret", uuid); }
std::string Connection::nwfilterPath(const std::string& uuid) const
{
    return paths::uuidChild(path_, "nwfilter", uuid);
}

namespace {
// Listing for an enumerator: a driver that does not support the kind simply
// has no objects of it.
template <class Fn>
std::vector<std::string> listOrNone(Fn&& fn)
{
    try {
        return fn();
    } catch (const VirtError&) {
        return {};
    }
}
} // namespace

void Connection::publishObjectKinds()
{
    Driver* d = driver_.get();
    std::string conn = path_;
    auto uuidKind = [conn](const char* kind, auto exists) {
        return [conn, kind, exists](std::string_view p) {
            auto k = paths::uuidOfChild(conn, kind, p);
            return k && exists(*k);
        };
    };
    auto keyKind = [conn](const char* kind, auto exists) {
        return [conn, kind, exists](std::string_view p) {
            auto k = paths::keyOfChild(conn, kind, p);
            return k && exists(*k);
        };
    };
    addKind({path_ + "/network", glue::NetworkServer::interfaceName, glue::NetworkServer::vtable(),
             static_cast<glue::NetworkServer*>(&network_),
             uuidKind("network", [d](const std::string& k) { return d->networks().networkExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& n : d->networks().listNetworks(0))
                         out.push_back(networkPath(n.uuid));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { network_.appendAllProperties(m, p, true); }});
    addKind({path_ + "/storagepool", glue::StoragePoolServer::interfaceName, glue::StoragePoolServer::vtable(),
             static_cast<glue::StoragePoolServer*>(&pool_),
             uuidKind("storagepool", [d](const std::string& k) { return d->storage().poolExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& p : d->storage().listStoragePools(0))
                         out.push_back(poolPath(p.uuid));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { pool_.appendAllProperties(m, p, true); }});
    addKind({path_ + "/storagevol", glue::StorageVolServer::interfaceName, glue::StorageVolServer::vtable(),
             static_cast<glue::StorageVolServer*>(&vol_),
             keyKind("storagevol", [d](const std::string& k) { return d->storage().volExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& p : d->storage().listStoragePools(0))
                         for (const auto& v : listOrNone([&] {
                                  std::vector<std::string> keys;
                                  for (const auto& vol : d->storage().poolListVolumes(p.uuid, 0))
                                      keys.push_back(vol.key);
                                  return keys;
                              }))
                             out.push_back(volPath(v));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { vol_.appendAllProperties(m, p, true); }});
    addKind({path_ + "/interface", glue::InterfaceServer::interfaceName, glue::InterfaceServer::vtable(),
             static_cast<glue::InterfaceServer*>(&iface_),
             keyKind("interface", [d](const std::string& k) { return d->interfaces().ifaceExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& i : d->interfaces().listInterfaces(0))
                         out.push_back(interfacePath(i.mac));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { iface_.appendAllProperties(m, p, true); }});
    addKind({path_ + "/nodedev", glue::NodeDeviceServer::interfaceName, glue::NodeDeviceServer::vtable(),
             static_cast<glue::NodeDeviceServer*>(&nodedev_),
             keyKind("nodedev", [d](const std::string& k) { return d->nodeDevices().nodeDeviceExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& n : d->nodeDevices().listNodeDevices(0))
                         out.push_back(nodeDevicePath(n));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { nodedev_.appendAllProperties(m, p, true); }});
    addKind({path_ + "/secret", glue::SecretServer::interfaceName, glue::SecretServer::vtable(),
             static_cast<glue::SecretServer*>(&secret_),
             uuidKind("secret", [d](const std::string& k) { return d->secrets().secretExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& u : d->secrets().listSecrets(0))
                         out.push_back(secretPath(u));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { secret_.appendAllProperties(m, p, true); }});
    addKind({path_ + "/nwfilter", glue::NWFilterServer::interfaceName, glue::NWFilterServer::vtable(),
             static_cast<glue::NWFilterServer*>(&nwfilter_),
             uuidKind("nwfilter", [d](const std::string& k) { return d->nwfilters().nwfilterExists(k); }),
             [this, d] {
                 return listOrNone([&] {
                     std::vector<std::string> out;
                     for (const auto& n : d->nwfilters().listNWFilters(0))
                         out.push_back(nwfilterPath(n.uuid));
                     return out;
                 });
             },
             [this](sd_bus_message* m, const char* p) { nwfilter_.appendAllProperties(m, p, true); }});
}

void Connection::networkLifecycle(const std::string& uuid, int32_t event)
{
    int r = glue::emitConnectNetworkEvent(bus_, path_.c_str(), bus::ObjectPath{networkPath(uuid)}, event);
    if (r < 0)
        logWarning("cannot emit NetworkEvent: %s", strerror(-r));
}

void Connection::storagePoolLifecycle(const std::string& uuid, int32_t event, int32_t detail)
{
    int r = glue::emitConnectStoragePoolEvent(bus_, path_.c_str(), bus::ObjectPath{poolPath(uuid)}, event, detail);
    if (r < 0)
        logWarning("cannot emit StoragePoolEvent: %s", strerror(-r));
}

void Connection::storagePoolRefresh(const std::string& uuid)
{
    int r = glue::emitStoragePoolRefresh(bus_, poolPath(uuid).c_str());
    if (r < 0)
        logWarning("cannot emit Refresh: %s", strerror(-r));
}

void Connection::nodeDeviceLifecycle(const std::string& name, int32_t event, int32_t detail)
{
    int r = glue::emitConnectNodeDeviceEvent(bus_, path_.c_str(), bus::ObjectPath{nodeDevicePath(name)}, event,
                                             detail);
    if (r < 0)
        logWarning("cannot emit NodeDeviceEvent: %s", strerror(-r));
}

void Connection::secretLifecycle(const std::string& uuid, int32_t event, int32_t detail)
{
    int r = glue::emitConnectSecretEvent(bus_, path_.c_str(), bus::ObjectPath{secretPath(uuid)}, event, detail);
    if (r < 0)
        logWarning("cannot emit SecretEvent: %s", strerror(-r));
}

void Connection::domainLifecycle(const std::string& uuid, int32_t event, int32_t detail)
{
    int r = glue::emitConnectDomainEvent(bus_, path_.c_str(), bus::ObjectPath{domainPath(uuid)}, event, detail);
    if (r < 0)
        logWarning("cannot emit DomainEvent: %s", strerror(-r));
}

void Connection::domainSignal(const std::string& uuid, const DomainSignal& signal)
{
    std::string p = domainPath(uuid);
    const char* dp = p.c_str();
    int r = std::visit(
        Overloaded{
            [&](const sig::BalloonChange& s) { return glue::emitDomainBalloonChange(bus_, dp, s.actual); },
            [&](const sig::DeviceAdded& s) { return glue::emitDomainDeviceAdded(bus_, dp, s.device); },
            [&](const sig::DeviceRemoved& s) { return glue::emitDomainDeviceRemoved(bus_, dp, s.device); },
            [&](const sig::DeviceRemovalFailed& s) {
                return glue::emitDomainDeviceRemovalFailed(bus_, dp, s.device);
            },
            [&](const sig::MetadataChange& s) { return glue::emitDomainMetadataChange(bus_, dp, s.type, s.nsuri); },
            [&](const sig::Reboot&) { return glue::emitDomainReboot(bus_, dp); },
            [&](const sig::RTCChange& s) { return glue::emitDomainRTCChange(bus_, dp, s.utcoffset); },
            [&](const sig::TrayChange& s) { return glue::emitDomainTrayChange(bus_, dp, s.device, s.reason); },
            [&](const sig::DiskChange& s) {
                return glue::emitDomainDiskChange(bus_, dp, s.oldSrcPath, s.newSrcPath, s.device, s.reason);
            },
            [&](const sig::Watchdog& s) { return glue::emitDomainWatchdog(bus_, dp, s.action); },
            [&](const sig::IOError& s) {
                return glue::emitDomainIOError(bus_, dp, s.srcPath, s.device, s.action, s.reason);
            },
            [&](const sig::JobCompleted& s) { return glue::emitDomainJobCompleted(bus_, dp, s.params); },
            [&](const sig::Tunable& s) { return glue::emitDomainTunable(bus_, dp, s.params); },
            [&](const sig::BlockJob& s) { return glue::emitDomainBlockJob(bus_, dp, s.disk, s.type, s.status); },
            [&](const sig::PMSuspend& s) { return glue::emitDomainPMSuspend(bus_, dp, s.reason); },
            [&](const sig::PMWakeup& s) { return glue::emitDomainPMWakeup(bus_, dp, s.reason); },
        },
        signal);
    if (r < 0)
        logWarning("cannot emit domain signal: %s", strerror(-r));
}

} // namespace virtbus
