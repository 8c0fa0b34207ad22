// AttachDevice / DetachDevice / UpdateDevice: libvirt's split between the
// persistent definition (AFFECT_CONFIG, changed on a copy and saved only
// when everything else worked) and the running guest (AFFECT_LIVE, QMP
// in qemu_hotplug_devices.cpp), and the wait for QEMU's DEVICE_DELETED.
#include <unistd.h>

#include "domain_common.h"
#include "fileutil.h"
#include "qemu/qemu_caps.h"
#include "qemu/qemu_command.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"
#include "qemu/qmp.h"

namespace virtbus {

using namespace std::chrono_literals;
using domain::kAffectConfig;
using domain::kAffectLive;

namespace {

constexpr uint32_t kModifyForce = 4; // VIR_DOMAIN_DEVICE_MODIFY_FORCE
// libvirt waits this long for the guest to release a device (x86).
constexpr auto kUnplugWait = 5s;

const std::string* aliasOf(const xml::DeviceDef& dev)
{
    return std::visit(
        [](const auto& x) -> const std::string* {
            if constexpr (requires { x.info.alias; })
                return &x.info.alias;
            else
                return nullptr;
        },
        dev);
}

const char* kindName(const xml::DeviceDef& dev)
{
    static const char* names[] = {"disk", "controller", "filesystem", "interface", "input", "graphics", "video",
        "chardev", "hostdev", "memballoon", "rng", "watchdog", "sound", "tpm", "redirdev", "device"};
    if (auto* ch = std::get_if<xml::ChardevDef>(&dev)) {
        switch (ch->kind) {
        case xml::ChardevKind::Serial: return "serial";
        case xml::ChardevKind::Parallel: return "parallel";
        case xml::ChardevKind::Console: return "console";
        case xml::ChardevKind::Channel: return "channel";
        }
    }
    return dev.index() < std::size(names) ? names[dev.index()] : "device";
}

// The running device `match` names. Channels match by kind, type and
// target as in libvirt (a pty's path is QEMU's choice, not the caller's).
std::optional<xml::DeviceDef> findLive(const xml::DomainDef& live, const xml::DeviceDef& match)
{
    if (auto* ch = std::get_if<xml::ChardevDef>(&match)) {
        for (const auto* list : {&live.devices.channels, &live.devices.serials, &live.devices.consoles})
            for (const auto& c : *list)
                if (c.kind == ch->kind && c.type == ch->type && c.targetName == ch->targetName
                    && (ch->targetType.empty() || c.targetType == ch->targetType)
                    && (!ch->targetPort || c.targetPort == ch->targetPort)
                    && (ch->info.alias.empty() || c.info.alias == ch->info.alias))
                    return xml::DeviceDef(c);
        return std::nullopt;
    }
    return xml::findDevice(live, match);
}

// What the persistent definition may hold: the same checks as DefineXML
// (the device must be one this driver can start).
void validateConfig(const xml::DomainDef& def) { qemu::validateDefinition(def, nullptr); }

} // namespace

void QemuDriver::domainAttachDevice(const std::string& uuid, const std::string& xmlText, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainAttachDeviceFlags");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::optional<xml::DomainDef> config;
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        if (flags & kAffectConfig)
            config = *d->def;
    }
    if (config) {
        xml::addDevice(*config, xml::parseDeviceXML(xmlText, xml::PARSE_INACTIVE));
        xml::assignMissingMACs(*config);
        validateConfig(*config);
    }
    if (flags & kAffectLive)
        attachLive(d, xml::parseDeviceXML(xmlText));
    if (config) {
        std::lock_guard lock(mu_);
        saveConfig(*config);
        *d->def = std::move(*config);
    }
}

void QemuDriver::domainDetachDevice(const std::string& uuid, const std::string& xmlText, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainDetachDeviceFlags");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::optional<xml::DomainDef> config;
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        if (flags & kAffectConfig)
            config = *d->def;
    }
    if (config)
        xml::removeDevice(*config, xml::parseDeviceXML(xmlText, xml::PARSE_INACTIVE));
    if (flags & kAffectLive)
        detachLive(d, xml::parseDeviceXML(xmlText));
    if (config) {
        std::lock_guard lock(mu_);
        saveConfig(*config);
        *d->def = std::move(*config);
    }
}

void QemuDriver::domainUpdateDevice(const std::string& uuid, const std::string& xmlText, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kModifyForce, "qemuDomainUpdateDeviceFlags");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::optional<xml::DomainDef> config;
    {
        std::lock_guard lock(mu_);
        uint32_t affect = flags & (kAffectLive | kAffectConfig);
        domain::updateImpact(affect, d->active(), d->persistent);
        flags = (flags & kModifyForce) | affect;
        if (flags & kAffectConfig)
            config = *d->def;
    }
    if (config) {
        xml::DeviceDef dev = xml::parseDeviceXML(xmlText, xml::PARSE_INACTIVE);
        if (!std::holds_alternative<xml::DiskDef>(dev) && !std::holds_alternative<xml::InterfaceDef>(dev)
            && !std::holds_alternative<xml::GraphicsDef>(dev))
            throw err::configUnsupported(
                "persistent update of device '" + std::string(kindName(dev)) + "' is not supported");
        xml::replaceDevice(*config, std::move(dev));
        validateConfig(*config);
    }
    if (flags & kAffectLive)
        updateLive(d, xml::parseDeviceXML(xmlText), flags & kModifyForce);
    if (config) {
        std::lock_guard lock(mu_);
        saveConfig(*config);
        *d->def = std::move(*config);
    }
}

// ---- detaching: device_del and the guest's answer ----

void QemuDriver::detachLive(const DomPtr& d, const xml::DeviceDef& match)
{
    std::shared_ptr<qemu::Monitor> mon;
    std::string alias;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        auto found = findLive(*d->live, match);
        if (!found) {
            if (auto* disk = std::get_if<xml::DiskDef>(&match))
                throw err::operationFailed("disk " + disk->targetDev + " not found");
            if (auto* net = std::get_if<xml::InterfaceDef>(&match); net && !net->mac.empty())
                throw err::operationFailed("no device matching MAC address " + net->mac + " found");
            throw err::operationFailed("matching device not found");
        }
        if (auto* disk = std::get_if<xml::DiskDef>(&*found)) {
            const std::string& bus = disk->targetBus;
            if (bus != "virtio" && bus != "scsi" && bus != "usb")
                throw makeError(
                    ErrCode::OperationUnsupported, ErrDomain::Qemu, "disk bus '" + bus + "' cannot be hotunplugged.");
        } else if (auto* ch = std::get_if<xml::ChardevDef>(&*found)) {
            if (ch->targetType != "virtio")
                throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                    "detach of a " + std::string(kindName(*found)) + " of target type '" + ch->targetType
                        + "' is not supported (QEMU cannot unplug it)");
        } else if (!std::holds_alternative<xml::InterfaceDef>(*found)) {
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                "live detach of device '" + std::string(kindName(*found)) + "' is not supported");
        }
        const std::string* a = aliasOf(*found);
        alias = a ? *a : std::string();
        if (alias.empty())
            throw err::internal("the device to detach has no alias");
        if (!d->unplugAlias.empty())
            throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu,
                "unplug of device '" + d->unplugAlias + "' is still in progress");
        d->unplugAlias = alias;
        d->unplugResult = 0;
        mon = d->mon;
    }
    try {
        bool disk = std::holds_alternative<xml::DiskDef>(match);
        std::string node = disk ? qemu::hotplugDiskNode(*mon, alias) : std::string();
        if (disk) {
            std::lock_guard lock(mu_);
            d->unplugNodes[alias] = node;
        }
        mon->execute("device_del", qemu::json::Object {{"id", alias}});
    } catch (const qemu::QmpError& e) {
        std::lock_guard lock(mu_);
        d->unplugAlias.clear();
        throw makeError(
            ErrCode::OperationFailed, ErrDomain::Qemu, "unplug of device '" + alias + "' failed: " + e.desc);
    }
    int result;
    {
        std::unique_lock lock(mu_);
        d->unplugCv.wait_for(lock, kUnplugWait, [&] { return d->unplugResult != 0 || !d->active(); });
        result = d->unplugResult;
        // A late DEVICE_DELETED is handled by the event itself from now on.
        d->unplugAlias.clear();
    }
    if (result == 2)
        throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu, "unplug of device was rejected by the guest");
    if (result == 1)
        finishUnplug(d, alias);
    // Otherwise libvirt's behaviour: the request is sent, the guest still
    // holds the device; DEVICE_DELETED finishes the removal later.
}

void QemuDriver::hotplugEventLocked(const DomPtr& d, const std::string& event, const qemu::json::Value& data)
{
    std::string dev = data.str("device");
    if (event == "DEVICE_TRAY_MOVED") {
        std::string id = data.str("id");
        bool open = data.boolean("tray-open", false);
        if (d->live)
            for (auto& disk : d->live->devices.disks)
                if (!id.empty() && disk.info.alias == id) {
                    emitSignal(*d, sig::TrayChange {id, open ? 0 : 1});
                    return;
                }
        return;
    }
    if (dev.empty())
        return; // a backend (".../virtio-backend"), not a device of ours
    if (event == "DEVICE_UNPLUG_GUEST_ERROR") {
        if (d->unplugAlias == dev) {
            d->unplugResult = 2;
            d->unplugCv.notify_all();
        }
        emitSignal(*d, sig::DeviceRemovalFailed {dev});
        return;
    }
    if (event != "DEVICE_DELETED")
        return;
    if (d->unplugAlias == dev) {
        d->unplugResult = 1;
        d->unplugCv.notify_all();
        return;
    }
    bool ours = false;
    if (d->live) {
        xml::DomainDef& live = *d->live;
        for (const auto& disk : live.devices.disks)
            ours = ours || disk.info.alias == dev;
        for (const auto& n : live.devices.interfaces)
            ours = ours || n.info.alias == dev;
        for (const auto& c : live.devices.channels)
            ours = ours || c.info.alias == dev;
    }
    if (!ours) {
        emitSignal(*d, sig::DeviceRemoved {dev});
        return;
    }
    // The guest let go after the detach call gave up waiting (or on its
    // own): QMP cleanup must not run on the loop thread.
    std::weak_ptr<Dom> w = d;
    background([this, w, dev] {
        if (auto dd = w.lock())
            finishUnplug(dd, dev);
    });
}

void QemuDriver::grantHotplug(const DomPtr& d, const xml::DomainDef& only)
{
    const qemu::QemuUser user = qemu::resolveQemuUser(cfg_.user, cfg_.group);
    if (!user.switches())
        return;
    std::vector<qemu::HostPath> paths = qemu::hostPaths(only);
    for (const auto& disk : only.devices.disks)
        if (disk.hasSource && (disk.type == "file" || disk.type == "block"))
            for (auto& backing : qemu::backingChain(disk.path, disk.driverType))
                paths.push_back({backing, false, false});
    std::vector<qemu::HostChange> plan, all;
    std::string name;
    {
        std::lock_guard lock(mu_);
        std::vector<qemu::HostChange> held;
        for (const auto& [uuid, other] : byUuid_)
            held.insert(held.end(), other->host.begin(), other->host.end());
        plan = qemu::planOwnership(paths, user, held);
        d->host.insert(d->host.end(), plan.begin(), plan.end());
        all = d->host;
        name = d->name();
    }
    // Recorded before the chown, as at start: a crash in between leaves a
    // record the next virtbusd undoes.
    writeFileAtomic(cfg_.stateDir + "/" + name + ".host", qemu::formatHostChanges(all),
        "cannot save the host changes of domain '" + name + "'", ErrDomain::Qemu);
    qemu::applyOwnership(plan, user);
}

} // namespace virtbus
