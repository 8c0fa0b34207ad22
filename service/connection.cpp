#include "connection.h"

#include <cstdlib>
#include <cstring>

#include "error_map.h"
#include "log.h"
#include "paths.h"

namespace virtbus {

namespace {

// sd-bus takes ownership of enumerator results and frees them with free().
char** toStrv(const std::vector<std::string>& v)
{
    auto** out = static_cast<char**>(calloc(v.size() + 1, sizeof(char*)));
    if (!out)
        return nullptr;
    for (size_t i = 0; i < v.size(); ++i) {
        out[i] = strdup(v[i].c_str());
        if (!out[i]) {
            for (size_t j = 0; j < i; ++j)
                free(out[j]);
            free(out);
            return nullptr;
        }
    }
    return out;
}

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
      domainPrefix_(path_ + "/domain"),
      snapshotPrefix_(path_ + "/domainsnapshot"),
      connect_(*this),
      domain_(*this),
      snapshot_(*this)
{
    driver_->setEventSink(this);
}

Connection::~Connection()
{
    for (auto* s : slots_)
        sd_bus_slot_unref(s);
    driver_->setEventSink(nullptr);
    sd_bus_unref(bus_);
}

void Connection::addSlot(int r, sd_bus_slot* slot, const char* what)
{
    if (r < 0)
        throw std::runtime_error(std::string("cannot register ") + what + ": " + strerror(-r));
    slots_.push_back(slot);
}

void Connection::publish()
{
    sd_bus_slot* s = nullptr;
    auto* connect = static_cast<glue::ConnectServer*>(&connect_);
    addSlot(sd_bus_add_object_vtable(bus_, &s, path_.c_str(), glue::ConnectServer::interfaceName,
                                     glue::ConnectServer::vtable(), connect),
            s, "Connect vtable");
    addSlot(sd_bus_add_object(bus_, &s, path_.c_str(), propertiesFilter, this), s, "Connect properties");

    addSlot(sd_bus_add_fallback_vtable(bus_, &s, domainPrefix_.c_str(), glue::DomainServer::interfaceName,
                                       glue::DomainServer::vtable(), findDomain, this),
            s, "Domain vtable");
    addSlot(sd_bus_add_node_enumerator(bus_, &s, domainPrefix_.c_str(), enumerateDomains, this), s,
            "Domain enumerator");
    addSlot(sd_bus_add_fallback(bus_, &s, domainPrefix_.c_str(), propertiesFilter, this), s, "Domain properties");

    addSlot(sd_bus_add_fallback_vtable(bus_, &s, snapshotPrefix_.c_str(), glue::DomainSnapshotServer::interfaceName,
                                       glue::DomainSnapshotServer::vtable(), findSnapshot, this),
            s, "DomainSnapshot vtable");
    addSlot(sd_bus_add_node_enumerator(bus_, &s, snapshotPrefix_.c_str(), enumerateSnapshots, this), s,
            "DomainSnapshot enumerator");
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

int Connection::findDomain(sd_bus*, const char* path, const char*, void* userdata, void** found, sd_bus_error*)
{
    auto* self = static_cast<Connection*>(userdata);
    auto uuid = paths::domainUuid(self->path_, path);
    if (!uuid || !self->driver_->domainExists(*uuid))
        return 0;
    *found = static_cast<glue::DomainServer*>(&self->domain_);
    return 1;
}

int Connection::findSnapshot(sd_bus*, const char* path, const char*, void* userdata, void** found, sd_bus_error*)
{
    auto* self = static_cast<Connection*>(userdata);
    auto key = paths::snapshotKey(self->path_, path);
    if (!key || !self->driver_->snapshotExists(key->uuid, key->name))
        return 0;
    *found = static_cast<glue::DomainSnapshotServer*>(&self->snapshot_);
    return 1;
}

// Answers only for the kind's own prefix: sd-bus asks every enumerator
// above an introspected path, and listing all domains for the introspection
// of one domain would make each Introspect cost O(number of domains).
int Connection::enumerateDomains(sd_bus*, const char* prefix, void* userdata, char*** nodes, sd_bus_error* error)
{
    auto* self = static_cast<Connection*>(userdata);
    std::vector<std::string> out;
    if (self->domainPrefix_ == prefix) {
        try {
            for (const auto& d : self->driver_->listDomains(0))
                out.push_back(self->domainPath(d.uuid));
        } catch (...) {
            return setBusError(error, std::current_exception());
        }
    }
    *nodes = toStrv(out);
    return *nodes ? 1 : -ENOMEM;
}

int Connection::enumerateSnapshots(sd_bus*, const char* prefix, void* userdata, char*** nodes, sd_bus_error* error)
{
    auto* self = static_cast<Connection*>(userdata);
    std::vector<std::string> out;
    if (self->snapshotPrefix_ == prefix) {
        try {
            for (const auto& d : self->driver_->listDomains(0))
                for (const auto& s : self->driver_->domainListSnapshots(d.uuid, 0))
                    out.push_back(self->snapshotPath(s));
        } catch (const VirtError&) {
            // A driver without snapshots simply has no snapshot objects.
        } catch (...) {
            return setBusError(error, std::current_exception());
        }
    }
    *nodes = toStrv(out);
    return *nodes ? 1 : -ENOMEM;
}

// libvirt-dbus answers Properties.GetAll with every value wrapped twice
// (a variant holding a variant) and leaves out properties whose getter
// fails; sd-bus's built-in GetAll does neither, so GetAll on our interfaces
// is answered here, before sd-bus's own handling. Get and Set stay with
// sd-bus and use the same generated getters.
int Connection::propertiesFilter(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "GetAll"))
        return 0;
    auto* self = static_cast<Connection*>(userdata);
    const char* iface = nullptr;
    if (sd_bus_message_read(m, "s", &iface) < 0 || !iface) {
        sd_bus_message_rewind(m, true);
        return 0;
    }
    std::string wanted = iface;
    sd_bus_message_rewind(m, true);
    const char* path = sd_bus_message_get_path(m);

    auto answer = [&](auto* server) {
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
            return r;
        try {
            bus::check(sd_bus_message_open_container(reply, 'a', "{sv}"), "open a{sv}");
            server->appendAllProperties(reply, path, true);
            bus::check(sd_bus_message_close_container(reply), "close a{sv}");
            r = sd_bus_send(nullptr, reply, nullptr);
        } catch (...) {
            bus::replyException(m, std::current_exception());
            r = 1;
        }
        sd_bus_message_unref(reply);
        return r < 0 ? r : 1;
    };

    if (self->path_ == path) {
        if (wanted != glue::ConnectServer::interfaceName)
            return 0;
        return answer(static_cast<glue::ConnectServer*>(&self->connect_));
    }
    if (wanted != glue::DomainServer::interfaceName)
        return 0;
    auto uuid = paths::domainUuid(self->path_, path);
    if (!uuid || !self->driver_->domainExists(*uuid))
        return 0;
    return answer(static_cast<glue::DomainServer*>(&self->domain_));
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
