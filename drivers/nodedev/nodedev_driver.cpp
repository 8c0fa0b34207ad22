#include "nodedev/nodedev_driver.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <systemd/sd-device.h>
#include <unistd.h>
#include <variant>

namespace virtbus {

namespace {

// virConnectListAllNodeDeviceFlags: bit i selects capability kCapFilter[i].
constexpr std::array<std::string_view, 22> kCapFilter = {
    "system",
    "pci",
    "usb_device",
    "usb",
    "net",
    "scsi_host",
    "scsi_target",
    "scsi",
    "storage",
    "fc_host",
    "vports",
    "scsi_generic",
    "drm",
    "mdev_types",
    "mdev",
    "ccw",
    "css",
    "vdpa",
    "ap_card",
    "ap_queue",
    "ap_matrix",
    "vpd",
};
constexpr uint32_t kCapMask = (1u << kCapFilter.size()) - 1;
constexpr uint32_t kListInactive = 1u << 30, kListActive = 1u << 31;
constexpr uint32_t kXmlInactive = 1u << 0; // VIR_NODE_DEVICE_XML_INACTIVE

constexpr std::string_view kSubsystems[] = {"pci", "usb", "net", "scsi", "block", "drm", "mdev"};

// Names are echoed in errors; cap what we echo.
std::string echo(const std::string& s) { return s.size() > 256 ? s.substr(0, 256) : s; }

uint32_t capBits(const xml::NodeDeviceDef& def)
{
    uint32_t bits = 0;
    for (const std::string& name : xml::nodeDeviceCapNames(def)) {
        auto it = std::find(kCapFilter.begin(), kCapFilter.end(), name);
        if (it != kCapFilter.end())
            bits |= 1u << (it - kCapFilter.begin());
    }
    return bits;
}

std::string udevProperty(const std::string& syspath, const char* key)
{
    sd_device* d = nullptr;
    if (sd_device_new_from_syspath(&d, syspath.c_str()) < 0)
        return {};
    const char* v = nullptr;
    std::string out;
    if (sd_device_get_property_value(d, key, &v) >= 0 && v)
        out = v;
    sd_device_unref(d);
    return out;
}

std::vector<std::string> udevDevlinks(const std::string& syspath)
{
    std::vector<std::string> out;
    sd_device* d = nullptr;
    if (sd_device_new_from_syspath(&d, syspath.c_str()) < 0)
        return out;
    for (const char* l = sd_device_get_devlink_first(d); l; l = sd_device_get_devlink_next(d))
        out.push_back(l);
    sd_device_unref(d);
    std::sort(out.begin(), out.end());
    return out;
}

// udev's database and monitor are usable: udevd runs, and in our network
// namespace (its broadcasts do not cross namespaces, and it knows nothing
// of another namespace's interfaces).
bool udevUsable()
{
    if (access("/run/udev/control", F_OK) != 0)
        return false;
    char self[64] = {}, init[64] = {};
    if (readlink("/proc/self/ns/net", self, sizeof self - 1) < 0
        || readlink("/proc/1/ns/net", init, sizeof init - 1) < 0)
        return true; // cannot tell: trust udev
    return strcmp(self, init) == 0;
}

} // namespace

NodeDevDriver::NodeDevDriver(NodeDevOptions opts) :
    opts_(std::move(opts)), fs_(opts_.sysfsRoot), pci_(fs_, opts_.mounts, opts_.swaps)
{
    // udev's database describes the host's /sys only.
    if (opts_.useUdev && fs_.root() == "/sys" && udevUsable()) {
        udev_.property = udevProperty;
        udev_.devlinks = udevDevlinks;
    }
    // With a monitor, start() scans once events flow (the service calls
    // it before any client can); without one this is the only scan.
    if (!opts_.monitor)
        enumerate();
}

NodeDevDriver::~NodeDevDriver()
{
    if (monitor_)
        monitor_->stop();
}

nodedev::BuildContext NodeDevDriver::context() const
{
    return {fs_, udev_.property ? &udev_ : nullptr, &pciIds_, fs_.root() == "/sys"};
}

void NodeDevDriver::start()
{
    if (opts_.monitor) {
        monitor_ = std::make_unique<nodedev::UeventMonitor>([this](const nodedev::Uevent& ev) { handleUevent(ev); });
        if (!monitor_->start(udev_.property != nullptr))
            monitor_.reset(); // no hotplug events; the tree stays as enumerated
    }
    // Only now that events flow: whatever changes from here on is either in
    // this scan or in an event still to come.
    enumerate();
}

const char* NodeDevDriver::eventSource() const { return monitor_ ? monitor_->source() : "none"; }

void NodeDevDriver::enumerate()
{
    // Events that arrive during the scan wait for it: applied to the map it
    // is about to replace, they would be lost.
    {
        std::lock_guard lock(mu_);
        scanning_ = true;
    }
    auto ctx = context();
    std::map<std::string, Entry> devs;
    std::map<std::string, std::string> bySyspath;
    Entry computer {nodedev::describeComputer(ctx), 0};
    computer.capBits = capBits(computer.def);
    devs.emplace("computer", std::move(computer));
    for (const auto& path : nodedev::candidateDevices(fs_)) {
        auto def = nodedev::describeDevice(ctx, path);
        if (!def || devs.count(def->name))
            continue;
        bySyspath.emplace(path, def->name);
        uint32_t bits = capBits(*def);
        std::string name = def->name;
        devs.emplace(std::move(name), Entry {std::move(*def), bits});
    }
    std::vector<nodedev::Uevent> pending;
    {
        std::lock_guard lock(mu_);
        devs_ = std::move(devs);
        bySyspath_ = std::move(bySyspath);
        for (auto& [name, e] : devs_)
            if (name != "computer")
                e.def.parent = parentOf(e.def.path);
        scanning_ = false;
        pending.swap(pending_);
    }
    for (const auto& ev : pending)
        handleUevent(ev);
}

std::string NodeDevDriver::parentOf(const std::string& syspath) const
{
    // libvirt's udevSetParent: the closest ancestor that is a node device.
    std::string p = nodedev::Sysfs::dirname(syspath);
    while (p.size() > fs_.root().size()) {
        if (auto it = bySyspath_.find(p); it != bySyspath_.end())
            return it->second;
        p = nodedev::Sysfs::dirname(p);
    }
    return "computer";
}

const NodeDevDriver::Entry& NodeDevDriver::byName(const std::string& name) const
{
    auto it = devs_.find(name);
    if (it == devs_.end())
        throw makeError(
            ErrCode::NoNodeDevice, ErrDomain::NodeDev, "no node device with matching name '" + echo(name) + "'");
    return it->second;
}

// ---- hotplug ----

void NodeDevDriver::rescan()
{
    std::set<std::string> before;
    {
        std::lock_guard lock(mu_);
        for (const auto& [name, e] : devs_)
            before.insert(name);
    }
    enumerate();
    std::vector<std::string> added, removed;
    {
        std::lock_guard lock(mu_);
        for (const auto& [name, e] : devs_)
            if (!before.count(name))
                added.push_back(name);
        for (const auto& name : before)
            if (!devs_.count(name))
                removed.push_back(name);
    }
    if (EventSink* s = sink()) {
        for (const auto& n : removed) {
            s->objectRemoved({ObjectType::NodeDevice, n, {}});
            s->nodeDeviceLifecycle(n, ev::NodeDevDeleted, 0);
        }
        for (const auto& n : added) {
            s->objectAdded({ObjectType::NodeDevice, n, {}});
            s->nodeDeviceLifecycle(n, ev::NodeDevCreated, 0);
        }
    }
}

void NodeDevDriver::handleUevent(const nodedev::Uevent& ev)
{
    if (ev.action == "overflow") {
        rescan();
        return;
    }
    if (!ev.subsystem.empty()
        && std::find(std::begin(kSubsystems), std::end(kSubsystems), ev.subsystem) == std::end(kSubsystems))
        return;
    // Kernel paths never hold ".."; one that does is not trusted.
    if (ev.devpath.find("/../") != std::string::npos || ev.devpath.rfind("/devices/", 0) != 0)
        return;
    {
        std::lock_guard lock(mu_);
        if (scanning_) {
            // A burst during the scan (1,000 veths) must not grow without
            // bound: past the cap the scan has seen most of it anyway.
            if (pending_.size() < 100000)
                pending_.push_back(ev);
            return;
        }
    }
    std::string syspath = fs_.root() + ev.devpath;
    std::optional<xml::NodeDeviceDef> def;
    if (ev.action != "remove")
        def = nodedev::describeDevice(context(), syspath);

    std::vector<std::string> removed, added, updated;
    {
        std::lock_guard lock(mu_);
        auto drop = [&](const std::string& path) {
            auto it = bySyspath_.find(path);
            if (it == bySyspath_.end())
                return;
            removed.push_back(it->second);
            devs_.erase(it->second);
            bySyspath_.erase(it);
        };
        if (ev.action == "remove") {
            drop(syspath);
        } else {
            if (ev.action == "move" && !ev.devpathOld.empty())
                drop(fs_.root() + ev.devpathOld);
            if (def) {
                // A new name at the same path (a NIC's MAC changed): the old
                // device is gone and a new one appeared, as for libvirt.
                if (auto it = bySyspath_.find(syspath); it != bySyspath_.end() && it->second != def->name)
                    drop(syspath);
                auto cur = devs_.find(def->name);
                if (cur != devs_.end() && cur->second.def.path != syspath)
                    return; // a name clash with another path: keep the first
                def->parent = parentOf(syspath);
                uint32_t bits = capBits(*def);
                if (cur == devs_.end()) {
                    added.push_back(def->name);
                    bySyspath_[syspath] = def->name;
                    std::string name = def->name;
                    devs_.emplace(std::move(name), Entry {std::move(*def), bits});
                } else if (!(cur->second.def == *def)) {
                    updated.push_back(def->name);
                    cur->second = Entry {std::move(*def), bits};
                }
            }
        }
    }
    if (onUpdate_)
        for (const auto& n : updated)
            onUpdate_(n);
    EventSink* s = sink();
    if (!s)
        return;
    for (const auto& n : removed) {
        s->objectRemoved({ObjectType::NodeDevice, n, {}});
        s->nodeDeviceLifecycle(n, ev::NodeDevDeleted, 0);
    }
    for (const auto& n : added) {
        s->objectAdded({ObjectType::NodeDevice, n, {}});
        s->nodeDeviceLifecycle(n, ev::NodeDevCreated, 0);
    }
}

// ---- listings and lookups ----

std::vector<std::string> NodeDevDriver::listNodeDevices(uint32_t flags)
{
    checkFlags(flags, kCapMask | kListActive | kListInactive, "nodeConnectListAllNodeDevices");
    // Every device here exists on the host: active, never inactive.
    if ((flags & (kListActive | kListInactive)) == kListInactive)
        return {};
    uint32_t want = flags & kCapMask;
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    out.reserve(devs_.size());
    for (const auto& [name, e] : devs_)
        if (!want || (e.capBits & want))
            out.push_back(name);
    return out;
}

std::string NodeDevDriver::nodeDeviceLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    return byName(name).def.name;
}

std::string NodeDevDriver::nodeDeviceLookupSCSIHostByWWN(
    const std::string& wwnn, const std::string& wwpn, uint32_t flags)
{
    checkFlags(flags, 0, "nodeDeviceLookupSCSIHostByWWN");
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : devs_)
        for (const auto& cap : e.def.caps)
            if (const auto* h = std::get_if<xml::NodeDevScsiHostCap>(&cap.data); h && h->fcHost)
                if (h->fcHost->wwnn == wwnn && h->fcHost->wwpn == wwpn)
                    return name;
    throw makeError(ErrCode::NoNodeDevice, ErrDomain::NodeDev,
        "no node device with matching wwnn '" + echo(wwnn) + "' and wwpn '" + echo(wwpn) + "'");
}

bool NodeDevDriver::nodeDeviceExists(const std::string& name)
{
    std::lock_guard lock(mu_);
    return devs_.count(name) != 0;
}

NodeDeviceSummary NodeDevDriver::nodeDeviceSummary(const std::string& name)
{
    std::lock_guard lock(mu_);
    const Entry& e = byName(name);
    return {e.def.name, e.def.parent};
}

std::string NodeDevDriver::nodeDeviceGetXMLDesc(const std::string& name, uint32_t flags)
{
    xml::NodeDeviceDef def;
    {
        std::lock_guard lock(mu_);
        def = byName(name).def;
    }
    checkFlags(flags, kXmlInactive, "nodeDeviceGetXMLDesc");
    if (flags & kXmlInactive)
        throw makeError(
            ErrCode::OperationInvalid, ErrDomain::NodeDev, "node device '" + echo(name) + "' is not persistent");
    // As libvirt does, the volatile parts (driver, link state, SR-IOV) are
    // read again; the identity and parent stay the cached ones.
    if (name != "computer")
        if (auto fresh = nodedev::describeDevice(context(), def.path); fresh && fresh->name == def.name) {
            fresh->parent = def.parent;
            def = std::move(*fresh);
        }
    return xml::formatNodeDeviceXML(def);
}

std::vector<std::string> NodeDevDriver::nodeDeviceListCaps(const std::string& name)
{
    std::lock_guard lock(mu_);
    return xml::nodeDeviceCapNames(byName(name).def);
}

} // namespace virtbus
