// Device aliases and addresses, chosen once before QEMU starts and written
// into the live definition (libvirt's qemuDomainAssignAddresses and
// qemuAssignDeviceAliases), so that the argv, the live XML and later
// hotplug all agree on where every device sits.
#include "qemu/qemu_command_priv.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <tuple>

namespace virtbus::qemu {

using namespace detail;

namespace {

xml::ControllerDef* findController(xml::DomainDef& def, std::string_view type, unsigned index)
{
    for (auto& c : def.devices.controllers)
        if (c.type == type && c.index == index)
            return &c;
    return nullptr;
}

void ensureController(xml::DomainDef& def, const std::string& type, unsigned index, const std::string& model)
{
    if (xml::ControllerDef* c = findController(def, type, index)) {
        if (c->model.empty())
            c->model = model;
        return;
    }
    xml::ControllerDef c;
    c.type = type;
    c.index = index;
    c.model = model;
    def.devices.controllers.push_back(std::move(c));
}

void numberPorts(std::vector<xml::ChardevDef>& list)
{
    std::set<unsigned> used;
    for (const auto& c : list)
        if (c.targetPort)
            used.insert(*c.targetPort);
    unsigned next = 0;
    for (auto& c : list) {
        if (c.targetPort)
            continue;
        while (used.count(next))
            ++next;
        c.targetPort = next;
        used.insert(next);
    }
}

// The devices libvirt's post-parse adds for x86 QEMU guests, and the
// defaults it writes into the ones given.
void addImplicitDevices(xml::DomainDef& def, bool q35)
{
    auto& dev = def.devices;
    for (auto& d : dev.disks)
        d.targetBus = diskBus(d);
    for (auto& n : dev.interfaces)
        if (n.model.empty())
            n.model = kDefaultNetModel;
    for (auto& i : dev.inputs)
        i.bus = inputBus(i);

    // A serial-typed first console is libvirt's second view of serial0.
    if (!dev.consoles.empty() && (dev.consoles[0].targetType.empty() || dev.consoles[0].targetType == "serial")) {
        auto& con = dev.consoles[0];
        con.targetType = "serial";
        con.targetPort = 0;
        if (dev.serials.empty()) {
            xml::ChardevDef s = con;
            s.kind = xml::ChardevKind::Serial;
            s.targetType = "isa-serial";
            s.info = {};
            dev.serials.push_back(std::move(s));
        }
    }
    for (auto& s : dev.serials)
        if (s.targetType.empty())
            s.targetType = "isa-serial";
    numberPorts(dev.serials);
    numberPorts(dev.parallels);

    ensureController(def, "pci", 0, q35 ? "pcie-root" : "pci-root");
    ensureController(def, "usb", 0, defaultUsbModel(q35 ? Chipset::Q35 : Chipset::I440fx));
    ensureController(def, q35 ? "sata" : "ide", 0, "");
    for (const auto& d : dev.disks)
        if (auto a = effectiveDriveAddress(d, def))
            ensureController(def, d.targetBus, a->controller, d.targetBus == "scsi" ? kDefaultScsiModel : "");
    for (auto& c : dev.controllers)
        if (c.type == "scsi" && c.model.empty())
            c.model = kDefaultScsiModel;
    if (hasVirtioSerialUser(def))
        ensureController(def, "virtio-serial", 0, "");

    if (!dev.memballoon)
        dev.memballoon = xml::MemballoonDef{};
    if (!dev.graphics.empty() && dev.videos.empty()) {
        xml::VideoDef v;
        v.model = kDefaultVideoModel;
        dev.videos.push_back(std::move(v));
    }
    for (const char* type : {"mouse", "keyboard"}) {
        bool have = std::any_of(dev.inputs.begin(), dev.inputs.end(),
                                [&](const xml::InputDef& i) { return i.type == type && i.bus == "ps2"; });
        if (!have) {
            xml::InputDef i;
            i.type = type;
            i.bus = "ps2";
            dev.inputs.push_back(std::move(i));
        }
    }
}

void setAlias(xml::DeviceInfo& info, std::string alias)
{
    if (!info.alias.starts_with("ua-"))
        info.alias = std::move(alias);
}

std::string controllerAlias(const xml::ControllerDef& c, bool q35)
{
    unsigned idx = c.index.value_or(0);
    if (c.type == "pci")
        return c.model == "pcie-root" ? "pcie.0" : "pci." + std::to_string(idx);
    if (idx == 0 && ((c.type == "ide" && !q35) || (c.type == "sata" && q35)))
        return "ide"; // the chipset's own controller, so named by QEMU
    if (c.type == "usb" && idx == 0)
        return "usb";
    return c.type + std::to_string(idx);
}

std::string diskAlias(const xml::DiskDef& d, const xml::DomainDef& def)
{
    if (auto a = driveAddress(d.info)) {
        auto n = [](unsigned v) { return std::to_string(v); };
        if (d.targetBus == "scsi" && scsiModel(def, a->controller) != "lsilogic")
            return "scsi" + n(a->controller) + "-" + n(a->bus) + "-" + n(a->target) + "-" + n(a->unit);
        return d.targetBus + n(a->controller) + "-" + n(a->bus) + "-" + n(a->unit);
    }
    return d.targetBus + "-disk" + std::to_string(diskIndex(d.targetDev).value_or(0));
}

void assignAliases(xml::DomainDef& def, bool q35)
{
    auto& dev = def.devices;
    auto numbered = [](auto& list, const std::string& prefix) {
        for (size_t i = 0; i < list.size(); ++i)
            setAlias(list[i].info, prefix + std::to_string(i));
    };
    for (auto& d : dev.disks)
        setAlias(d.info, diskAlias(d, def));
    for (auto& c : dev.controllers)
        setAlias(c.info, controllerAlias(c, q35));
    numbered(dev.filesystems, "fs");
    numbered(dev.interfaces, "net");
    numbered(dev.inputs, "input");
    numbered(dev.videos, "video");
    numbered(dev.serials, "serial");
    numbered(dev.parallels, "parallel");
    numbered(dev.channels, "channel");
    numbered(dev.consoles, "console");
    if (!dev.consoles.empty() && dev.consoles[0].targetType == "serial")
        setAlias(dev.consoles[0].info, "serial0");
    numbered(dev.hostdevs, "hostdev");
    numbered(dev.rngs, "rng");
    numbered(dev.watchdogs, "watchdog");
    numbered(dev.sounds, "sound");
    numbered(dev.tpms, "tpm");
    numbered(dev.redirdevs, "redir");
    if (dev.memballoon)
        setAlias(dev.memballoon->info, "balloon0");
}

// Which (bus, slot, function) are taken, on which buses.
class PciSlots {
public:
    explicit PciSlots(std::set<unsigned> buses) : buses_(std::move(buses)) {}

    void reserve(const PciAddr& a)
    {
        if (a.domain != 0 || !buses_.count(a.bus))
            throw err::xml("Invalid PCI address " + pciString(a) + ". Only PCI buses up to " +
                           std::to_string(buses_.empty() ? 0 : *buses_.rbegin()) + " are available");
        if (!used_.insert({a.bus, a.slot, a.function}).second)
            throw err::xml("Attempted double use of PCI Address " + pciString(a));
    }
    bool slotFree(unsigned bus, unsigned slot) const
    {
        auto it = used_.lower_bound({bus, slot, 0});
        return it == used_.end() || std::get<0>(*it) != bus || std::get<1>(*it) != slot;
    }
    // The first wholly free slot of `bus` from `first` on.
    PciAddr take(unsigned bus, unsigned first, unsigned last = 31)
    {
        for (unsigned s = first; s <= last; ++s) {
            if (slotFree(bus, s)) {
                PciAddr a{0, bus, s, 0, false};
                reserve(a);
                return a;
            }
        }
        throw err::internal("No more available PCI slots");
    }

private:
    std::set<unsigned> buses_;
    std::set<std::tuple<unsigned, unsigned, unsigned>> used_;
};

// A device that wants a PCI slot: its info and QEMU type.
struct PciUser {
    xml::DeviceInfo* info;
    std::string type;
};

// In libvirt's order (qemuDomainAssignDevicePCISlots), primary video last
// among the fixed ones because it has its own reserved slot.
std::vector<PciUser> pciUsers(xml::DomainDef& def, bool q35)
{
    auto& dev = def.devices;
    std::vector<PciUser> out;
    auto add = [&](xml::DeviceInfo& info, std::string type) {
        if (!type.empty())
            out.push_back({&info, std::move(type)});
    };
    for (auto& n : dev.interfaces)
        add(n.info, netDeviceName(n));
    for (auto& s : dev.sounds)
        add(s.info, soundDeviceName(s));
    for (auto& c : dev.controllers)
        if (c.type != "pci")
            add(c.info, controllerDeviceName(c, q35));
    for (auto& d : dev.disks)
        if (d.targetBus == "virtio")
            add(d.info, "virtio-blk-pci");
    for (auto& h : dev.hostdevs)
        if (h.mode == "subsystem" && h.type == "pci")
            add(h.info, "vfio-pci");
    if (dev.memballoon && dev.memballoon->model == "virtio")
        add(dev.memballoon->info, "virtio-balloon-pci");
    for (auto& r : dev.rngs)
        if (r.model == "virtio")
            add(r.info, "virtio-rng-pci");
    for (auto& w : dev.watchdogs)
        if (w.model == "i6300esb")
            add(w.info, "i6300esb");
    for (size_t i = 0; i < dev.videos.size(); ++i)
        add(dev.videos[i].info, videoDeviceName(dev.videos[i], i == 0));
    for (auto& in : dev.inputs)
        if (in.bus == "virtio")
            add(in.info, inputDeviceName(in));
    return out;
}

void addRootPortDetails(xml::ControllerDef& c, const PciAddr& a)
{
    auto hasChild = [&](std::string_view name) {
        return std::any_of(c.extra.children.begin(), c.extra.children.end(),
                           [&](const std::string& x) { return rawElementName(x) == name; });
    };
    if (!hasChild("model"))
        c.extra.children.push_back("<model name='pcie-root-port'/>");
    if (!hasChild("target")) {
        char port[16];
        std::snprintf(port, sizeof port, "0x%x", (a.slot << 3) | a.function);
        c.extra.children.push_back("<target chassis='" + std::to_string(c.index.value_or(0)) + "' port='" +
                                   port + "'/>");
    }
}

// q35: one pcie-root-port per PCIe endpoint that still needs a slot,
// beyond the free ports the user already gave.
void addRootPorts(xml::DomainDef& def)
{
    auto& ctls = def.devices.controllers;
    const xml::DeviceInfo* primary = def.devices.videos.empty() ? nullptr : &def.devices.videos[0].info;
    std::set<unsigned> occupied;
    size_t endpoints = 0;
    for (const auto& u : pciUsers(def, true)) {
        if (auto a = pciAddress(*u.info); a && a->slot == 0)
            occupied.insert(a->bus);
        else if (u.info->address.empty() && u.info != primary && isPcieEndpoint(u.type))
            ++endpoints;
    }
    size_t freePorts = 0;
    unsigned nextIndex = 1;
    for (const auto& c : ctls) {
        if (c.type != "pci")
            continue;
        nextIndex = std::max(nextIndex, c.index.value_or(0) + 1);
        if (c.model == "pcie-root-port" && !occupied.count(c.index.value_or(0)))
            ++freePorts;
    }
    for (; freePorts < endpoints; ++freePorts, ++nextIndex) {
        xml::ControllerDef c;
        c.type = "pci";
        c.index = nextIndex;
        c.model = "pcie-root-port";
        ctls.push_back(std::move(c));
    }
}

void assignPciAddresses(xml::DomainDef& def, bool q35)
{
    if (q35)
        addRootPorts(def);
    auto& ctls = def.devices.controllers;
    std::set<unsigned> buses;
    std::vector<xml::ControllerDef*> rootPorts;
    for (auto& c : ctls) {
        if (c.type != "pci")
            continue;
        buses.insert(c.index.value_or(0));
        if (c.model == "pcie-root-port")
            rootPorts.push_back(&c);
    }
    PciSlots slots(buses);

    // The chipset's own functions come first, then what the user pinned.
    // i440fx: PIIX3 ISA, IDE and PM on slot 1 (function 2 is the USB
    // controller's when it is a piix3-uhci); q35: the ICH9 functions.
    slots.reserve({0, 0, 0, 0, false});
    for (unsigned f = 0; f < 8; ++f)
        if (q35 || f != 2)
            slots.reserve({0, 0, q35 ? 0x1fu : 1u, f, false});
    for (auto& c : ctls) {
        if (c.index != 0u)
            continue;
        if (!q35 && c.type == "ide")
            c.info.address = formatPci({0, 0, 1, 1, false});
        else if (q35 && c.type == "sata")
            c.info.address = formatPci({0, 0, 0x1f, 2, false});
        else if (!q35 && c.type == "usb" && c.model == "piix3-uhci" && c.info.address.empty())
            c.info.address = formatPci({0, 0, 1, 2, false});
    }
    std::vector<PciUser> users = pciUsers(def, q35);
    for (const auto& u : users)
        if (auto a = pciAddress(*u.info))
            slots.reserve(*a);
    for (auto* p : rootPorts)
        if (auto a = pciAddress(p->info))
            slots.reserve(*a);

    // The primary video has its own slot: 2 on i440fx (kept free for a
    // later video when there is none), 1 on q35.
    const unsigned videoSlot = q35 ? 1 : 2;
    xml::VideoDef* primary = def.devices.videos.empty() ? nullptr : &def.devices.videos[0];
    bool primaryWants = primary && primary->info.address.empty() && !videoDeviceName(*primary, true).empty();
    if ((primaryWants || (!q35 && !primary)) && slots.slotFree(0, videoSlot)) {
        slots.reserve({0, 0, videoSlot, 0, false});
        if (primaryWants)
            primary->info.address = formatPci({0, 0, videoSlot, 0, false});
    }

    // Root ports without an address go eight to a slot of pcie.0.
    std::vector<xml::ControllerDef*> unplaced;
    for (auto* p : rootPorts)
        if (p->info.address.empty())
            unplaced.push_back(p);
    for (size_t k = 0; k < unplaced.size(); k += 8) {
        PciAddr first = slots.take(0, 1);
        size_t group = std::min<size_t>(8, unplaced.size() - k);
        for (size_t f = 0; f < group; ++f) {
            PciAddr a{0, 0, first.slot, static_cast<unsigned>(f), f == 0 && group > 1};
            if (f > 0)
                slots.reserve(a);
            unplaced[k + f]->info.address = formatPci(a);
        }
    }
    std::vector<unsigned> portBuses;
    for (auto* p : rootPorts) {
        addRootPortDetails(*p, *pciAddress(p->info));
        portBuses.push_back(p->index.value_or(0));
    }
    std::sort(portBuses.begin(), portBuses.end());

    for (auto& u : users) {
        if (!u.info->address.empty())
            continue;
        std::optional<PciAddr> a;
        if (q35 && isPcieEndpoint(u.type))
            for (unsigned b : portBuses)
                if (!a && slots.slotFree(b, 0))
                    a = slots.take(b, 0, 0);
        if (!a)
            a = slots.take(0, 1);
        u.info->address = formatPci(*a);
    }
}

void assignDriveAddresses(xml::DomainDef& def)
{
    for (auto& d : def.devices.disks)
        if (d.info.address.empty())
            if (auto a = effectiveDriveAddress(d, def))
                d.info.address = formatDrive(*a);
}

void assignUsbAddresses(xml::DomainDef& def)
{
    unsigned ports = usbPorts(usbModel(def));
    if (const xml::ControllerDef* usb = findController(def, "usb", 0))
        for (const auto& [k, v] : usb->extra.attrs)
            if (k == "ports" && ports) // xhci: ports='N' sets p2 and p3
                ports = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    std::set<unsigned> used;
    std::vector<xml::DeviceInfo*> wanting;
    auto consider = [&](xml::DeviceInfo& info) {
        if (auto a = usbAddress(info)) {
            if (a->port && !used.insert(a->port).second)
                throw err::xml("Attempted double use of USB port " + std::to_string(a->port));
        } else if (info.address.empty()) {
            wanting.push_back(&info);
        }
    };
    auto& dev = def.devices;
    for (auto& i : dev.inputs)
        if (i.bus == "usb")
            consider(i.info);
    for (auto& d : dev.disks)
        if (d.targetBus == "usb")
            consider(d.info);
    for (auto& h : dev.hostdevs)
        if (h.type == "usb")
            consider(h.info);
    for (xml::DeviceInfo* info : wanting) {
        unsigned p = 1;
        while (p <= ports && used.count(p))
            ++p;
        if (p > ports)
            throw err::configUnsupported("No free USB ports");
        used.insert(p);
        info->address = formatUsb({0, 0, p});
    }
}

void assignVirtioSerialAddresses(xml::DomainDef& def)
{
    constexpr unsigned kMaxPorts = 31; // QEMU's virtio-serial default max_ports
    std::set<unsigned> used;
    auto& dev = def.devices;
    auto isVirtio = [](const xml::ChardevDef& c) { return c.targetType == "virtio"; };
    for (auto* list : {&dev.consoles, &dev.channels})
        for (const auto& c : *list)
            if (auto a = serialPortAddress(c.info); a && isVirtio(c) && !used.insert(a->port).second)
                throw err::xml("virtio serial port " + std::to_string(a->port) + " is already in use");
    // Port 0 is the console port of the virtio spec; channels start at 1.
    for (auto [list, first] : {std::pair{&dev.consoles, 0u}, {&dev.channels, 1u}}) {
        for (auto& c : *list) {
            if (!isVirtio(c) || !c.info.address.empty())
                continue;
            unsigned p = first;
            while (p < kMaxPorts && used.count(p))
                ++p;
            if (p >= kMaxPorts)
                throw err::configUnsupported("Unable to find a free virtio-serial port");
            used.insert(p);
            c.info.address = formatVirtioSerial({0, 0, p});
        }
    }
}

} // namespace

std::string channelSocketPath(const xml::DomainDef& def, const xml::ChardevDef& channel, const std::string& dir)
{
    std::string file = def.name + "." + (channel.targetName.empty() ? channel.info.alias : channel.targetName);
    std::replace(file.begin(), file.end(), '/', '_');
    return dir + "/" + file;
}

void assignChannelPaths(xml::DomainDef& def, const std::string& dir)
{
    for (auto& ch : def.devices.channels) {
        if (ch.type != "unix")
            continue;
        if (ch.sources.empty())
            ch.sources.emplace_back();
        xml::ChardevSource& s = ch.sources[0];
        if (!s.path.empty())
            continue;
        s.path = channelSocketPath(def, ch, dir);
        if (s.mode.empty())
            s.mode = "bind";
    }
}

void assignAddresses(xml::DomainDef& def, const EmulatorCaps* caps)
{
    MachineInfo m = machineOf(def, caps);
    def.os.machine = m.name;
    if (def.os.arch.empty())
        def.os.arch = guestArch(caps);
    const bool q35 = m.chipset == Chipset::Q35;
    addImplicitDevices(def, q35);
    assignDriveAddresses(def);
    assignPciAddresses(def, q35); // may add root ports, which need aliases too
    assignAliases(def, q35);
    assignUsbAddresses(def);
    assignVirtioSerialAddresses(def);
}

} // namespace virtbus::qemu
