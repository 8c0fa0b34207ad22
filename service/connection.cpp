#include "connection.h"

#include <cstdlib>
#include <cstring>

#include "log.h"
#include "paths.h"
#include "property_gate.h"

namespace virtbus {

namespace {

template <class... T>
struct Overloaded : T... {
    using T::operator()...;
};
template <class... T>
Overloaded(T...) -> Overloaded<T...>;

} // namespace

Connection::Connection(sd_bus* bus, std::unique_ptr<Driver> driver, bus::Dispatcher* dispatcher) :
    bus_(sd_bus_ref(bus)),
    driver_(std::move(driver)),
    path_(std::string(paths::Root) + "/" + driver_->name()),
    connect_(*this),
    domain_(*this),
    snapshot_(*this),
    console_(*this),
    network_(*this),
    pool_(*this),
    vol_(*this),
    volTransfer_(*this),
    iface_(*this),
    nodedev_(*this),
    secret_(*this),
    nwfilter_(*this)
{
    EventSink* sink = this;
    dispatcher_ = dispatcher;
    if (dispatcher) {
        threadSink_ = std::make_unique<BusThreadSink>(*dispatcher, *this);
        sink = threadSink_.get();
        for (bus::PropertySource* s : std::initializer_list<bus::PropertySource*> {&connect_, &domain_, &snapshot_, &console_,
                 &network_, &pool_, &vol_, &volTransfer_, &iface_, &nodedev_, &secret_, &nwfilter_})
            s->setDispatcher(dispatcher);
    }
    driver_->setEventSink(sink);
    driver_->networks().setEventSink(sink);
    driver_->storage().setEventSink(sink);
    driver_->interfaces().setEventSink(sink);
    driver_->nodeDevices().setEventSink(sink);
    driver_->secrets().setEventSink(sink);
    driver_->nwfilters().setEventSink(sink);
}

Connection::~Connection()
{
    for (auto* s : slots_)
        sd_bus_slot_unref(s);
    for (bus::PropertySource* s : std::initializer_list<bus::PropertySource*> {&connect_, &domain_, &snapshot_, &console_,
             &network_, &pool_, &vol_, &volTransfer_, &iface_, &nodedev_, &secret_, &nwfilter_})
        s->setAuthorizer(nullptr);
    // The driver goes first: its threads may still report events, through
    // sinks that must outlive them.
    driver_.reset();
    sd_bus_unref(bus_);
}

void Connection::addKind(ObjectKind kind)
{
    kinds_.push_back(std::make_unique<ObjectKind>(std::move(kind)));
    registerKind(bus_, *kinds_.back(), slots_);
}

// Property access on the connection (see property_gate.h) and
// ObjectManager.GetManagedObjects (standard single variants), answered here
// because sd-bus's own version knows neither our prefix-only enumerators
// nor who may see what.
int Connection::connectFilter(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    auto* self = static_cast<Connection*>(userdata);
    if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")) {
        self->answerManagedObjects(m);
        return 1;
    }
    return gateProperties(m, self->connect_, glue::ConnectServer::interfaceName);
}

void Connection::enableAuthorization(Polkit& polkit)
{
    authorizer_ = std::make_unique<ConnectionAuthorizer>(polkit, *this);
    for (bus::PropertySource* s : std::initializer_list<bus::PropertySource*> {&connect_, &domain_, &snapshot_, &console_,
             &network_, &pool_, &vol_, &volTransfer_, &iface_, &nodedev_, &secret_, &nwfilter_})
        s->setAuthorizer(authorizer_.get());
}

// With an authorizer, the caller sees the objects it may getattr, and of
// each the properties it may read, like ListDomains + GetAll would show.
void Connection::answerManagedObjects(sd_bus_message* m)
{
    struct Listed {
        ObjectKind* kind;
        std::vector<std::string> paths;
        std::vector<bool> visible, readable;
    };
    auto listed = std::make_shared<std::vector<Listed>>();
    for (const auto& kind : kinds_) {
        try {
            listed->push_back({kind.get(), kind->list(), {}, {}});
        } catch (const VirtError&) {
            // a driver without this kind has no such objects
        }
    }
    auto send = [this, listed](sd_bus_message* call) {
        sd_bus_message* reply = nullptr;
        if (sd_bus_message_new_method_return(call, &reply) < 0)
            return;
        try {
            bus::check(sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}"), "open");
            for (const auto& l : *listed)
                appendManaged(reply, l.kind, l.paths, l.visible, l.readable);
            bus::check(sd_bus_message_close_container(reply), "close");
            sd_bus_send(nullptr, reply, nullptr);
        } catch (...) {
            bus::replyException(call, std::current_exception());
        }
        sd_bus_message_unref(reply);
    };
    if (!authorizer_) {
        send(m);
        return;
    }
    sd_bus_message_ref(m);
    auto left = std::make_shared<size_t>(listed->size() * 2 + 1);
    auto step = [m, left, send] {
        if (--*left == 0) {
            send(m);
            sd_bus_message_unref(m);
        }
    };
    for (auto& l : *listed) {
        authorizer_->checkPaths(m, l.kind->aclObject, "getattr", l.paths, [&l, step](std::vector<bool> ok) {
            l.visible = std::move(ok);
            step();
        });
        authorizer_->checkPaths(m, l.kind->aclObject, "read", l.paths, [&l, step](std::vector<bool> ok) {
            l.readable = std::move(ok);
            step();
        });
    }
    step();
}

void Connection::appendManaged(sd_bus_message* reply, ObjectKind* kind, const std::vector<std::string>& paths,
    const std::vector<bool>& visible, const std::vector<bool>& readable)
{
    bool checked = !visible.empty() || !readable.empty();
    for (size_t i = 0; i < paths.size(); ++i) {
        if (checked && !visible[i])
            continue;
        // Properties need at most getattr and read (permissions.table).
        bool canRead = !checked || readable[i];
        bus::PropertyFilter only = [kind, canRead](const char* name) {
            for (const auto& c : kind->properties->propertyChecks(name, false))
                if (std::strcmp(c.permission, "getattr") != 0 && !(canRead && std::strcmp(c.permission, "read") == 0))
                    return false;
            return true;
        };
        const char* p = paths[i].c_str();
        bus::check(sd_bus_message_open_container(reply, 'e', "oa{sa{sv}}"), "open entry");
        bus::check(sd_bus_message_append_basic(reply, 'o', p), "append path");
        bus::check(sd_bus_message_open_container(reply, 'a', "{sa{sv}}"), "open interfaces");
        bus::check(sd_bus_message_open_container(reply, 'e', "sa{sv}"), "open interface");
        bus::check(sd_bus_message_append_basic(reply, 's', kind->interface), "append interface");
        bus::check(sd_bus_message_open_container(reply, 'a', "{sv}"), "open properties");
        kind->properties->appendAllProperties(reply, p, false, checked ? &only : nullptr);
        for (int j = 0; j < 4; ++j)
            bus::check(sd_bus_message_close_container(reply), "close");
    }
}

void Connection::publish()
{
    sd_bus_slot* s = nullptr;
    int r = sd_bus_add_object_vtable(bus_, &s, path_.c_str(), glue::ConnectServer::interfaceName,
        glue::ConnectServer::vtable(), static_cast<glue::ConnectServer*>(&connect_));
    if (r < 0)
        throw std::runtime_error(std::string("cannot register Connect: ") + strerror(-r));
    slots_.push_back(s);
    r = sd_bus_add_object(bus_, &s, path_.c_str(), connectFilter, this);
    if (r < 0)
        throw std::runtime_error(std::string("cannot register Connect filter: ") + strerror(-r));
    slots_.push_back(s);
    r = sd_bus_add_object_manager(bus_, &s, path_.c_str());
    if (r < 0)
        throw std::runtime_error(std::string("cannot register ObjectManager: ") + strerror(-r));
    slots_.push_back(s);

    Driver* d = driver_.get();
    std::string conn = path_;
    addKind({path_ + "/domain", glue::DomainServer::interfaceName, "domain", glue::DomainServer::vtable(),
        static_cast<glue::DomainServer*>(&domain_), &domain_,
        [d, conn](std::string_view p) {
            auto uuid = paths::domainUuid(conn, p);
            return uuid && d->domainExists(*uuid);
        },
        [this, d] {
            std::vector<std::string> out;
            for (const auto& dom : d->listDomains(0))
                out.push_back(domainPath(dom.uuid));
            return out;
        }});
    // The console extension on every domain: same objects, same lookup.
    extensions_.push_back(std::make_unique<ObjectKind>(ObjectKind {path_ + "/domain",
        glue::DomainConsoleServer::interfaceName, "domain", glue::DomainConsoleServer::vtable(),
        static_cast<glue::DomainConsoleServer*>(&console_), &console_,
        [d, conn](std::string_view p) {
            auto uuid = paths::domainUuid(conn, p);
            return uuid && d->domainExists(*uuid);
        },
        {}}));
    registerExtension(bus_, *extensions_.back(), slots_);
    addKind({path_ + "/domainsnapshot", glue::DomainSnapshotServer::interfaceName, "domain",
        glue::DomainSnapshotServer::vtable(), static_cast<glue::DomainSnapshotServer*>(&snapshot_), &snapshot_,
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
        }});
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
    addKind({path_ + "/network", glue::NetworkServer::interfaceName, "network", glue::NetworkServer::vtable(),
        static_cast<glue::NetworkServer*>(&network_), &network_,
        uuidKind("network", [d](const std::string& k) { return d->networks().networkExists(k); }), [this, d] {
            return listOrNone([&] {
                std::vector<std::string> out;
                for (const auto& n : d->networks().listNetworks(0))
                    out.push_back(networkPath(n.uuid));
                return out;
            });
        }});
    addKind({path_ + "/storagepool", glue::StoragePoolServer::interfaceName, "storage-pool",
        glue::StoragePoolServer::vtable(), static_cast<glue::StoragePoolServer*>(&pool_), &pool_,
        uuidKind("storagepool", [d](const std::string& k) { return d->storage().poolExists(k); }), [this, d] {
            return listOrNone([&] {
                std::vector<std::string> out;
                for (const auto& p : d->storage().listStoragePools(0))
                    out.push_back(poolPath(p.uuid));
                return out;
            });
        }});
    addKind({path_ + "/storagevol", glue::StorageVolServer::interfaceName, "storage-vol",
        glue::StorageVolServer::vtable(), static_cast<glue::StorageVolServer*>(&vol_), &vol_,
        keyKind("storagevol", [d](const std::string& k) { return d->storage().volExists(k); }), [this, d] {
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
        }});
    // The extension interface on every volume: same objects, same lookup.
    extensions_.push_back(std::make_unique<ObjectKind>(ObjectKind {path_ + "/storagevol",
        glue::StorageVolTransferServer::interfaceName, "storage-vol", glue::StorageVolTransferServer::vtable(),
        static_cast<glue::StorageVolTransferServer*>(&volTransfer_), &volTransfer_,
        keyKind("storagevol", [d](const std::string& k) { return d->storage().volExists(k); }), {}}));
    registerExtension(bus_, *extensions_.back(), slots_);
    addKind({path_ + "/interface", glue::InterfaceServer::interfaceName, "interface", glue::InterfaceServer::vtable(),
        static_cast<glue::InterfaceServer*>(&iface_), &iface_,
        keyKind("interface", [d](const std::string& k) { return d->interfaces().ifaceExists(k); }), [this, d] {
            return listOrNone([&] {
                std::vector<std::string> out;
                for (const auto& i : d->interfaces().listInterfaces(0))
                    out.push_back(interfacePath(i.mac));
                return out;
            });
        }});
    addKind({path_ + "/nodedev", glue::NodeDeviceServer::interfaceName, "node-device", glue::NodeDeviceServer::vtable(),
        static_cast<glue::NodeDeviceServer*>(&nodedev_), &nodedev_,
        keyKind("nodedev", [d](const std::string& k) { return d->nodeDevices().nodeDeviceExists(k); }), [this, d] {
            return listOrNone([&] {
                std::vector<std::string> out;
                for (const auto& n : d->nodeDevices().listNodeDevices(0))
                    out.push_back(nodeDevicePath(n));
                return out;
            });
        }});
    addKind({path_ + "/secret", glue::SecretServer::interfaceName, "secret", glue::SecretServer::vtable(),
        static_cast<glue::SecretServer*>(&secret_), &secret_,
        uuidKind("secret", [d](const std::string& k) { return d->secrets().secretExists(k); }), [this, d] {
            return listOrNone([&] {
                std::vector<std::string> out;
                for (const auto& u : d->secrets().listSecrets(0))
                    out.push_back(secretPath(u));
                return out;
            });
        }});
    addKind({path_ + "/nwfilter", glue::NWFilterServer::interfaceName, "nwfilter", glue::NWFilterServer::vtable(),
        static_cast<glue::NWFilterServer*>(&nwfilter_), &nwfilter_,
        uuidKind("nwfilter", [d](const std::string& k) { return d->nwfilters().nwfilterExists(k); }), [this, d] {
            return listOrNone([&] {
                std::vector<std::string> out;
                for (const auto& n : d->nwfilters().listNWFilters(0))
                    out.push_back(nwfilterPath(n.uuid));
                return out;
            });
        }});
}

void Connection::volumeProgress(const std::string& key, const std::string& operation, uint64_t done, uint64_t total)
{
    auto emit = [this, key, operation, done, total] {
        std::string p = volPath(key);
        int r = glue::emitStorageVolTransferProgress(bus_, p.c_str(), operation, done, total);
        if (r < 0)
            logDebug("cannot emit Progress for %s: %s", p.c_str(), strerror(-r));
    };
    if (dispatcher_)
        dispatcher_->toBus(std::move(emit));
    else
        emit();
}

std::pair<std::string, const char*> Connection::locate(const ObjectId& id) const
{
    switch (id.type) {
    case ObjectType::Domain: return {domainPath(id.key), glue::DomainServer::interfaceName};
    case ObjectType::DomainSnapshot: return {snapshotPath({id.key, id.sub}), glue::DomainSnapshotServer::interfaceName};
    case ObjectType::Network: return {networkPath(id.key), glue::NetworkServer::interfaceName};
    case ObjectType::StoragePool: return {poolPath(id.key), glue::StoragePoolServer::interfaceName};
    case ObjectType::StorageVol: return {volPath(id.key), glue::StorageVolServer::interfaceName};
    case ObjectType::Interface: return {interfacePath(id.key), glue::InterfaceServer::interfaceName};
    case ObjectType::NodeDevice: return {nodeDevicePath(id.key), glue::NodeDeviceServer::interfaceName};
    case ObjectType::Secret: return {secretPath(id.key), glue::SecretServer::interfaceName};
    case ObjectType::NWFilter: return {nwfilterPath(id.key), glue::NWFilterServer::interfaceName};
    }
    return {};
}

// sd-bus builds InterfacesAdded from the vtable, calling the find callback
// and the getters, so the object must be complete before this is called.
void Connection::objectAdded(const ObjectId& id)
{
    auto [p, iface] = locate(id);
    int r = sd_bus_emit_interfaces_added(bus_, p.c_str(), iface, nullptr);
    if (r < 0)
        logWarning("cannot emit InterfacesAdded for %s: %s", p.c_str(), strerror(-r));
}

void Connection::objectRemoved(const ObjectId& id)
{
    auto [p, iface] = locate(id);
    int r = sd_bus_emit_interfaces_removed(bus_, p.c_str(), iface, nullptr);
    if (r < 0)
        logWarning("cannot emit InterfacesRemoved for %s: %s", p.c_str(), strerror(-r));
}

void Connection::propertiesChanged(const ObjectId& id, uint32_t props)
{
    static constexpr std::pair<uint32_t, const char*> names[] = {
        {prop::Active, "Active"},
        {prop::Id, "Id"},
        {prop::Persistent, "Persistent"},
        {prop::Autostart, "Autostart"},
        {prop::Name, "Name"},
        {prop::Updated, "Updated"},
        {prop::OSType, "OSType"},
        {prop::SchedulerType, "SchedulerType"},
    };
    auto [p, iface] = locate(id);
    std::vector<char*> list;
    for (const auto& [bit, name] : names)
        if (props & bit)
            list.push_back(const_cast<char*>(name));
    if (list.empty())
        return;
    list.push_back(nullptr);
    int r = sd_bus_emit_properties_changed_strv(bus_, p.c_str(), iface, list.data());
    if (r < 0)
        logWarning("cannot emit PropertiesChanged for %s: %s", p.c_str(), strerror(-r));
}

void Connection::networkLifecycle(const std::string& uuid, int32_t event)
{
    int r = glue::emitConnectNetworkEvent(bus_, path_.c_str(), bus::ObjectPath {networkPath(uuid)}, event);
    if (r < 0)
        logWarning("cannot emit NetworkEvent: %s", strerror(-r));
}

void Connection::storagePoolLifecycle(const std::string& uuid, int32_t event, int32_t detail)
{
    int r = glue::emitConnectStoragePoolEvent(bus_, path_.c_str(), bus::ObjectPath {poolPath(uuid)}, event, detail);
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
    int r
        = glue::emitConnectNodeDeviceEvent(bus_, path_.c_str(), bus::ObjectPath {nodeDevicePath(name)}, event, detail);
    if (r < 0)
        logWarning("cannot emit NodeDeviceEvent: %s", strerror(-r));
}

void Connection::secretLifecycle(const std::string& uuid, int32_t event, int32_t detail)
{
    int r = glue::emitConnectSecretEvent(bus_, path_.c_str(), bus::ObjectPath {secretPath(uuid)}, event, detail);
    if (r < 0)
        logWarning("cannot emit SecretEvent: %s", strerror(-r));
}

void Connection::domainLifecycle(const std::string& uuid, int32_t event, int32_t detail)
{
    int r = glue::emitConnectDomainEvent(bus_, path_.c_str(), bus::ObjectPath {domainPath(uuid)}, event, detail);
    if (r < 0)
        logWarning("cannot emit DomainEvent: %s", strerror(-r));
}

void Connection::domainSignal(const std::string& uuid, const DomainSignal& signal)
{
    std::string p = domainPath(uuid);
    const char* dp = p.c_str();
    int r = std::visit(
        Overloaded {
            [&](const sig::BalloonChange& s) { return glue::emitDomainBalloonChange(bus_, dp, s.actual); },
            [&](const sig::DeviceAdded& s) { return glue::emitDomainDeviceAdded(bus_, dp, s.device); },
            [&](const sig::DeviceRemoved& s) { return glue::emitDomainDeviceRemoved(bus_, dp, s.device); },
            [&](const sig::DeviceRemovalFailed& s) { return glue::emitDomainDeviceRemovalFailed(bus_, dp, s.device); },
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
