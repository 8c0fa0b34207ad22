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
