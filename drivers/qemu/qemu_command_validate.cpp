// What the QEMU driver refuses to start, checked before anything touches
// the host. Messages are libvirt's (qemu_validate.c, domain_conf.c,
// qemu_command.c) where libvirt has one, because clients match on them.
#include "qemu/qemu_command_priv.h"
#include "qemu/qemu_internal.h"

#include "qemu/qemu_caps.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

namespace virtbus::qemu {

using namespace detail;

namespace {

struct Check {
    const xml::DomainDef& def;
    const EmulatorCaps* caps;
    std::string emulator;
    bool q35 = false;
};

bool oneOf(const std::string& v, std::initializer_list<std::string_view> set)
{
    return std::find(set.begin(), set.end(), v) != set.end();
}

std::string q(const std::string& v) { return "'" + v + "'"; }

bool safeChars(const std::string& v, std::string_view extra)
{
    return std::all_of(v.begin(), v.end(),
        [&](char c) { return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos; });
}

void checkPlatform(Check& c)
{
    const auto& def = c.def;
    const std::string& e = c.emulator;
    if (def.type != "qemu" && def.type != "kvm")
        throw err::configUnsupported("Emulator " + q(e) + " does not support virt type " + q(def.type));
    if (def.os.type != "hvm")
        throw err::configUnsupported("Emulator " + q(e) + " does not support os type " + q(def.os.type));
    if (!def.os.arch.empty() && def.os.arch != guestArch(c.caps))
        throw err::configUnsupported("Emulator " + q(e) + " does not support arch " + q(def.os.arch));
    if (def.type == "kvm" && c.caps && !c.caps->kvm)
        throw err::configUnsupported("Emulator " + q(e) + " does not support virt type 'kvm'");
    MachineLookup m = lookupMachine(def.os.machine, c.caps);
    if (!m.known)
        throw err::configUnsupported("Emulator " + q(e) + " does not support machine type " + q(def.os.machine));
    if (!m.info)
        throw err::configUnsupported("machine type " + q(def.os.machine)
            + " is not supported by this driver (only i440fx and q35 machines are)");
    c.q35 = m.info->chipset == Chipset::Q35;

    if (def.memory == 0)
        throw err::xml("Memory size must be specified via <memory> or in the <numa> configuration");
    if (def.currentMemory > def.memory)
        throw err::invalidArg("cannot set memory higher than max memory");
    if (def.maxMemory && def.maxMemory->slots == 0)
        throw err::xml("both maximum memory size and memory slot count must be specified");
    if (def.maxMemory && def.maxMemory->kib < def.memory)
        throw err::xml("maximum memory size must be equal or greater than the actual memory size");

    const unsigned maxVcpus = def.vcpu.max;
    if (maxVcpus == 0 || def.vcpu.current == 0)
        throw err::configUnsupported("Domain requires at least 1 vCPU");
    if (maxVcpus > m.info->maxCpus)
        throw err::configUnsupported(
            "Maximum CPUs greater than specified machine type limit " + std::to_string(m.info->maxCpus));
    if (def.cpu.topology) {
        const auto& t = *def.cpu.topology;
        if (t.sockets * std::max(t.dies, 1u) * t.cores * t.threads != maxVcpus)
            throw err::configUnsupported("CPU topology doesn't match maximum vcpu count");
    }
    if (maxVcpus > 255)
        throw err::configUnsupported(c.q35 ? "more than 255 vCPUs require extended interrupt mode enabled on "
                                             "the iommu device"
                                           : "more than 255 vCPUs are only supported on q35-based machine types");

    if (def.onPoweroff == "rename-restart" || def.onReboot == "rename-restart" || def.onCrash == "rename-restart")
        throw err::configUnsupported("qemu driver doesn't support the 'rename-restart' action for "
                                     "'on_reboot'/'on_poweroff'/'on_crash'");
    if (def.onPoweroff == "preserve" || def.onReboot == "preserve")
        throw err::configUnsupported("qemu driver doesn't support the 'preserve' action for "
                                     "'on_reboot'/'on_poweroff'");
    if (def.onPoweroff == "restart" && def.onReboot == "destroy")
        throw err::configUnsupported("qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' "
                                     "set to 'reboot'");
}

void checkCpuClockOs(const Check& c)
{
    const auto& def = c.def;
    const auto& cpu = def.cpu;
    if (cpu.present) {
        if (!oneOf(cpu.mode, {"", "custom", "host-model", "host-passthrough", "maximum"}))
            throw err::configUnsupported("unsupported CPU mode " + q(cpu.mode));
        if (cpu.mode == "host-passthrough" && def.type != "kvm")
            throw err::configUnsupported("CPU mode 'host-passthrough' for " + guestArch(c.caps) + " " + def.type
                + " domain on " + guestArch(c.caps) + " host is not supported by hypervisor");
        if (!cpu.model.empty() && (cpu.mode.empty() || cpu.mode == "custom")) {
            bool known = !c.caps || c.caps->cpuModels.empty()
                || std::any_of(c.caps->cpuModels.begin(), c.caps->cpuModels.end(),
                    [&](const CpuModel& m) { return m.name == cpu.model; });
            if (!known || !safeChars(cpu.model, "._-"))
                throw err::configUnsupported("CPU model " + q(cpu.model) + " is not supported by hypervisor");
        }
        for (const auto& x : cpu.extra.children) {
            std::string name = rawElementName(x);
            if (name == "numa")
                throw err::configUnsupported("guest NUMA topology is not supported by this driver");
            if (name != "feature")
                continue;
            std::string f = rawAttr(x, "name"), policy = rawAttr(x, "policy");
            if (f.empty() || !safeChars(f, "._-"))
                throw err::xml("invalid CPU feature name " + q(f));
            if (!oneOf(policy, {"", "force", "require", "optional", "disable", "forbid"}))
                throw err::xml("Invalid CPU feature policy " + q(policy));
        }
    }

    if (!oneOf(def.clock.offset, {"utc", "localtime"}))
        throw err::configUnsupported("unsupported clock offset " + q(def.clock.offset));
    for (const auto& t : def.clock.timers) {
        if (t.name == "rtc" && !oneOf(t.tickpolicy, {"", "delay", "catchup"}))
            throw err::configUnsupported("unsupported rtc timer tickpolicy " + q(t.tickpolicy));
        if (t.name == "rtc" && !oneOf(t.track, {"", "guest", "wall", "realtime"}))
            throw err::configUnsupported("unsupported rtc timer track " + q(t.track));
        if (t.name == "pit" && !oneOf(t.tickpolicy, {"", "delay", "discard"}))
            throw err::configUnsupported("unsupported pit tickpolicy " + q(t.tickpolicy));
    }

    const auto& os = def.os;
    if (os.firmware == "efi" || (os.loader && os.loader->type == "pflash") || os.nvram)
        throw err::configUnsupported("UEFI firmware (pflash loader, nvram) is not supported by this driver");
    for (const std::string* p : {&os.kernel, &os.initrd, &os.dtb})
        if (!p->empty() && !p->starts_with('/'))
            throw err::invalidArg("path " + q(*p) + " of the direct kernel boot must be absolute");
    if (os.loader && !os.loader->path.empty() && !os.loader->path.starts_with('/'))
        throw err::invalidArg("loader path " + q(os.loader->path) + " must be absolute");
}

void checkDriveAddress(const xml::DiskDef& d, const std::string& bus, const DriveAddr& a, const Check& c)
{
    if (bus == "ide") {
        if (a.controller != 0)
            throw err::internal("Only 1 IDE controller is supported");
        if (a.target != 0)
            throw err::configUnsupported("target must be 0 for ide controller");
        if (a.bus > 1 || a.unit > 1)
            throw err::configUnsupported("ide disk " + q(d.targetDev) + " needs bus and unit 0 or 1");
    } else if (bus == "sata") {
        if (a.bus != 0)
            throw err::configUnsupported("bus must be 0 for sata controller");
        if (a.target != 0)
            throw err::configUnsupported("target must be 0 for sata controller");
        if (a.unit > 5)
            throw err::configUnsupported("sata disk " + q(d.targetDev) + " needs a unit from 0 to 5");
    } else if (bus == "scsi") {
        if (a.bus != 0)
            throw err::internal("SCSI controller only supports 1 bus");
        if (scsiModel(c.def, a.controller) == "lsilogic") {
            if (a.target != 0)
                throw err::configUnsupported("target must be 0 for controller model 'lsilogic'");
            if (a.unit > 6)
                throw err::configUnsupported("scsi disk " + q(d.targetDev) + " needs a unit from 0 to 6");
        } else if (a.target > 255 || a.unit > 16383) {
            throw err::configUnsupported("scsi disk " + q(d.targetDev) + " has an address out of range");
        }
    } else if (bus == "fdc") {
        if (a.controller != 0)
            throw err::internal("Only 1 fdc controller is supported");
        if (a.bus != 0)
            throw err::internal("Only 1 fdc bus is supported");
        if (a.target != 0)
            throw err::configUnsupported("target must be 0 for controller fdc");
        if (a.unit > 1)
            throw err::configUnsupported("floppy " + q(d.targetDev) + " needs unit 0 or 1");
    }
}

void checkDisk(const xml::DiskDef& d, const Check& c)
{
    const std::string bus = diskBus(d);
    const std::string& dev = d.targetDev;
    if (d.type == "network" || d.type == "dir" || d.type == "nvme" || d.type == "vhostuser")
        throw err::configUnsupported("disk type " + q(d.type) + " of disk " + q(dev)
            + " is not supported by this driver (only 'file', 'block' and 'volume' are)");
    if (!oneOf(d.type, {"file", "block", "volume"}))
        throw err::configUnsupported("unsupported disk type " + q(d.type));
    if (d.type == "volume" && d.hasSource && (d.pool.empty() || d.volume.empty()))
        throw err::xml("missing storage pool or volume name for disk " + q(dev));
    if (d.device == "lun")
        throw err::configUnsupported("disk device='lun' is not supported for bus=" + q(bus));
    if (!oneOf(bus, {"virtio", "sata", "ide", "scsi", "usb", "fdc"}))
        throw err::configUnsupported("unsupported disk bus " + q(bus) + " for disk " + q(dev));
    if (!diskIndex(dev))
        throw err::configUnsupported("invalid disk target " + q(dev));
    if (!d.driverName.empty() && d.driverName != "qemu")
        throw err::configUnsupported("unsupported driver name " + q(d.driverName) + " for disk " + q(dev));
    if (!oneOf(d.driverType, {"", "raw", "qcow2", "qcow", "qed", "vmdk", "vpc", "vdi", "vhdx"}))
        throw err::configUnsupported("unsupported disk format " + q(d.driverType) + " for disk " + q(dev));
    if (!oneOf(d.driverCache, {"", "default", "none", "writethrough", "writeback", "directsync", "unsafe"}))
        throw err::xml("unknown disk cache mode " + q(d.driverCache));
    if (!oneOf(d.driverIo, {"", "default", "native", "threads", "io_uring"}))
        throw err::xml("unknown disk io mode " + q(d.driverIo));
    if (d.driverIo == "native" && !oneOf(d.driverCache, {"none", "directsync"}))
        throw err::configUnsupported("io='native' needs either no disk cache or directsync cache mode");

    if (d.hasSource && !d.path.empty() && !d.path.starts_with('/'))
        throw err::invalidArg("disk source path " + q(d.path) + " must be absolute");
    // A volume disk gets its path when the guest starts (resolveVolumes).
    bool empty = !d.hasSource || (d.type == "volume" ? d.volume.empty() : d.path.empty());
    if (empty && d.device == "disk")
        throw err::configUnsupported("disk " + q(dev) + " has no source; only cdrom and floppy may be empty");
    if (empty && bus == "usb")
        throw err::configUnsupported("usb disk " + q(dev) + " must have a source");
    if (d.device == "cdrom" && bus == "virtio")
        throw err::configUnsupported("disk type of " + q(dev) + " does not support ejectable media");
    if (d.readonly && d.device == "disk" && bus == "ide")
        throw err::configUnsupported("readonly ide disks are not supported");
    if (d.readonly && d.device == "disk" && bus == "sata")
        throw err::configUnsupported("readonly sata disks are not supported");
    if (bus == "ide" && c.q35)
        throw err::configUnsupported("IDE controllers are unsupported for this QEMU binary or machine type");
    if (bus == "fdc" && c.q35)
        throw err::configUnsupported("floppy disks are only supported on i440fx-based machine types");
    if (!d.serial.empty() && !safeChars(d.serial, "-_ .+"))
        throw err::internal("driver serial " + q(d.serial) + " contains unsafe characters");

    std::string at = addressType(d.info);
    if (!at.empty()) {
        if (bus == "virtio" && at != "pci")
            throw err::configUnsupported("virtio disk cannot have an address of type " + q(at));
        if (bus == "usb" && at != "usb")
            throw err::internal("unexpected address type for usb disk");
        if (bus != "virtio" && bus != "usb" && at != "drive")
            throw err::internal("unexpected address type for " + bus + " disk");
    }
    if (auto a = effectiveDriveAddress(d, c.def))
        checkDriveAddress(d, bus, *a, c);
}

void checkDisks(const Check& c)
{
    std::map<std::string, const xml::DiskDef*> targets;
    std::map<std::pair<std::string, std::tuple<unsigned, unsigned, unsigned, unsigned>>, std::string> drives;
    for (const auto& d : c.def.devices.disks) {
        checkDisk(d, c);
        auto [it, fresh] = targets.emplace(d.targetDev, &d);
        if (!fresh) {
            auto src = [](const xml::DiskDef& x) { return x.path.empty() ? std::string("<null>") : x.path; };
            throw err::xml("target " + q(d.targetDev) + " duplicated for disk sources " + q(src(*it->second)) + " and "
                + q(src(d)));
        }
        if (auto a = effectiveDriveAddress(d, c.def)) {
            // ide, sata and scsi controllers are distinct even at equal indexes.
            auto key = std::pair {diskBus(d), std::tuple {a->controller, a->bus, a->target, a->unit}};
            if (!drives.emplace(key, d.targetDev).second)
                throw err::xml("Found duplicate drive address for disk with target name " + q(d.targetDev)
                    + " controller='" + std::to_string(a->controller) + "' bus='" + std::to_string(a->bus)
                    + "' target='" + std::to_string(a->target) + "' unit='" + std::to_string(a->unit) + "'");
        }
    }
}

void checkControllers(const Check& c)
{
    std::set<std::pair<std::string, unsigned>> seen;
    for (const auto& ctl : c.def.devices.controllers) {
        const unsigned idx = ctl.index.value_or(0);
        const std::string& m = ctl.model;
        if (!seen.insert({ctl.type, idx}).second)
            throw err::xml("Multiple " + q(ctl.type) + " controllers with index '" + std::to_string(idx) + "'");
        if (ctl.type == "pci") {
            std::string root = c.q35 ? "pcie-root" : "pci-root";
            if (idx == 0 && !m.empty() && m != root)
                throw err::xml("The PCI controller with index='0' must be model='" + root
                    + "' for this machine type, but model='" + m + "' was found instead");
            if (idx > 0 && !(c.q35 && m == "pcie-root-port"))
                throw err::configUnsupported("PCI controller model " + q(m) + " with index '" + std::to_string(idx)
                    + "' is not supported by this driver");
        } else if (ctl.type == "usb") {
            if (!oneOf(m, {"", "piix3-uhci", "piix4-uhci", "qemu-xhci", "nec-xhci", "none"}))
                throw err::configUnsupported("USB controller model " + q(m) + " is not supported by this driver");
            if (idx != 0)
                throw err::configUnsupported("only one USB controller is supported by this driver");
        } else if (ctl.type == "scsi") {
            if (!oneOf(m, {"", "lsilogic", "virtio-scsi"}))
                throw err::configUnsupported("Unsupported controller model: " + m);
        } else if (ctl.type == "ide") {
            if (c.q35)
                throw err::configUnsupported("IDE controllers are unsupported for this QEMU binary or machine type");
            if (idx != 0)
                throw err::configUnsupported("Only a single IDE controller is supported for this machine type");
        } else if (ctl.type == "fdc") {
            if (c.q35 || idx != 0)
                throw err::configUnsupported("floppy disks are only supported on i440fx-based machine types");
        } else if (ctl.type != "sata" && ctl.type != "virtio-serial") {
            throw err::configUnsupported("controller type " + q(ctl.type) + " is not supported by this driver");
        }
        std::string qdev = controllerDeviceName(ctl, c.q35);
        if (!qdev.empty() && !capsHasDevice(c.caps, qdev))
            throw err::configUnsupported("controller " + q(ctl.type) + " model " + q(m.empty() ? qdev : m)
                + " is not supported by this QEMU binary");
    }
}

void checkNetsAndGraphics(const Check& c)
{
    const auto& dev = c.def.devices;
    for (const auto& n : dev.interfaces) {
        if (!oneOf(n.type, {"bridge", "network", "user", "ethernet"}))
            throw err::configUnsupported(
                "unsupported interface type " + q(n.type) + " (only bridge, network, user and ethernet are)");
        if (n.type == "bridge" && n.sourceBridge.empty())
            throw err::xml("No <source> 'bridge' attribute specified with <interface type='bridge'/>");
        if (n.type == "network" && n.sourceNetwork.empty())
            throw err::xml("No <source> 'network' attribute specified with <interface type='network'/>");
        if (!oneOf(n.model, {"", "virtio", "e1000", "e1000e", "rtl8139"}) || !capsHasDevice(c.caps, netDeviceName(n)))
            throw err::configUnsupported("unsupported interface model " + q(n.model));
    }
    unsigned vnc = 0;
    for (const auto& g : dev.graphics) {
        if (g.type != "vnc")
            throw err::configUnsupported("unsupported graphics type " + q(g.type) + " (only vnc is)");
        if (++vnc > 1)
            throw err::configUnsupported("only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) "
                                         "is supported");
        bool autoport = g.autoport.value_or(false) || !g.port || *g.port == -1;
        if (!autoport && (*g.port < 5900 || *g.port > 65535))
            throw err::configUnsupported("vnc port must be in range [5900,65535]");
        for (const auto& l : g.listens) {
            if (!oneOf(l.type, {"", "address", "socket", "none"}))
                throw err::configUnsupported("vnc listen type " + q(l.type) + " is not supported by this driver");
            if (l.type == "socket" && !l.socket.empty() && !l.socket.starts_with('/'))
                throw err::invalidArg("vnc socket path " + q(l.socket) + " must be absolute");
        }
    }
    for (size_t i = 0; i < dev.videos.size(); ++i) {
        const auto& v = dev.videos[i];
        if (v.model == "none")
            continue;
        std::string qdev = videoDeviceName(v, i == 0);
        if (qdev.empty() || !capsHasDevice(c.caps, qdev))
            throw err::configUnsupported("domain configuration does not support video model " + q(v.model));
        if (v.model != "qxl" && v.model != "virtio") {
            if (i != 0)
                throw err::configUnsupported("video type " + q(v.model) + " is only valid as primary video device");
            if (v.heads.value_or(1) != 1)
                throw err::configUnsupported("video type " + q(v.model) + " doesn't support multiple 'heads'");
        }
        if (v.model == "vga" && v.vram && *v.vram < 1024)
            throw err::configUnsupported("value for 'vram' must be at least 1 MiB (1024 KiB)");
    }
}

// `generatedPath`: a unix socket the driver names when the XML does not
// (virtio channels, as libvirt does for the guest agent).
void checkChardevSource(const xml::ChardevDef& ch, bool generatedPath = false)
{
    const std::string& t = ch.type;
    if (t == "spicevmc" || t == "spiceport")
        throw err::configUnsupported("chardev " + q(t) + " not supported without spice graphics");
    if (!oneOf(t, {"pty", "file", "unix", "tcp", "udp", "null", "pipe", "dev"}))
        throw err::configUnsupported("chardev type " + q(t) + " is not supported by this driver");
    chardevLog(ch); // a relative log path throws
    const xml::ChardevSource* s = ch.sources.empty() ? nullptr : &ch.sources[0];
    if (oneOf(t, {"file", "unix", "pipe", "dev"})) {
        if ((!s || s->path.empty()) && !(generatedPath && t == "unix"))
            throw err::xml("Missing source path attribute for char device");
        if (s && !s->path.empty() && !s->path.starts_with('/'))
            throw err::invalidArg("char device path " + q(s->path) + " must be absolute");
    }
    if (t == "tcp" || t == "udp") {
        if (t == "tcp" && (!s || s->host.empty()))
            throw err::xml("Missing source host attribute for char device");
        if (!s || s->service.empty())
            throw err::xml("Missing source service attribute for char device");
        for (const auto& src : ch.sources) {
            char* end = nullptr;
            long port = src.service.empty() ? 0 : std::strtol(src.service.c_str(), &end, 10);
            if (!src.service.empty() && (*end || port < 0 || port > 65535))
                throw err::xml("invalid port " + q(src.service) + " for char device");
        }
    }
}

void checkChardevs(const Check& c)
{
    const auto& dev = c.def.devices;
    for (const auto& s : dev.serials) {
        checkChardevSource(s);
        if (!oneOf(s.targetType, {"", "isa-serial"}))
            throw err::configUnsupported("unsupported serial target type " + q(s.targetType));
        if (s.targetPort.value_or(0) > 3)
            throw err::configUnsupported(
                "ISA serial port " + std::to_string(*s.targetPort) + " is out of range (0 to 3)");
    }
    for (const auto& p : dev.parallels) {
        checkChardevSource(p);
        if (p.targetPort.value_or(0) > 2)
            throw err::configUnsupported(
                "ISA parallel port " + std::to_string(*p.targetPort) + " is out of range (0 to 2)");
    }
    for (const auto& con : dev.consoles) {
        if (!oneOf(con.targetType, {"", "serial", "virtio"}))
            throw err::configUnsupported("unsupported console target type " + con.targetType);
        // A serial console is a second view of serial0, which has the source.
        if (con.targetType == "virtio" || dev.serials.empty())
            checkChardevSource(con);
    }
    for (const auto& ch : dev.channels) {
        if (ch.targetType == "guestfwd")
            throw err::configUnsupported("guestfwd channels are not supported by this driver");
        if (ch.targetType != "virtio")
            throw err::configUnsupported("unsupported channel target type " + q(ch.targetType));
        checkChardevSource(ch, true);
    }
}

void checkHostdevs(const Check& c)
{
    auto number = [](const std::string& v, unsigned max) {
        char* end = nullptr;
        unsigned long n = v.empty() ? 0 : std::strtoul(v.c_str(), &end, 0);
        return !v.empty() && !*end && v.front() != '-' && n <= max;
    };
    for (const auto& h : c.def.devices.hostdevs) {
        if (h.mode == "capabilities")
            throw err::configUnsupported("hostdev mode 'capabilities' is not supported in " + c.def.type);
        if (h.type != "pci" && h.type != "usb")
            throw err::configUnsupported("hostdev type " + q(h.type) + " is not supported by this driver");
        if (h.type == "pci"
            && !(number(h.pciDomain.empty() ? "0" : h.pciDomain, 0xffff) && number(h.pciBus, 0xff)
                && number(h.pciSlot, 0x1f) && number(h.pciFunction.empty() ? "0" : h.pciFunction, 7)))
            throw err::xml("PCI host device source address is missing or invalid");
        if (h.type == "usb") {
            bool byId = !h.usbVendor.empty() || !h.usbProduct.empty();
            bool byAddr = !h.usbBus.empty() || !h.usbDevice.empty();
            if (byId && !(number(h.usbVendor, 0xffff) && number(h.usbProduct, 0xffff)))
                throw err::xml("usb host device needs both a vendor and a product id");
            if (byAddr && !(number(h.usbBus, 0xffff) && number(h.usbDevice, 0xffff)))
                throw err::xml("usb host device needs both a bus and a device number");
            if (!byId && !byAddr)
                throw err::xml("usb host device source needs a vendor/product or a bus/device");
        }
    }
}

void checkOthers(const Check& c)
{
    const auto& dev = c.def.devices;
    if (dev.memballoon && !oneOf(dev.memballoon->model, {"virtio", "none"}))
        throw err::configUnsupported(
            "Memory balloon device type " + q(dev.memballoon->model) + " is not supported by this version of qemu");
    for (const auto& r : dev.rngs) {
        if (r.model != "virtio")
            throw err::configUnsupported("domain configuration does not support rng model " + q(r.model));
        if (!oneOf(r.backendModel, {"random", "builtin"}))
            throw err::configUnsupported("rng backend " + q(r.backendModel) + " is not supported by this driver");
        if (!r.backendPath.empty() && !r.backendPath.starts_with('/'))
            throw err::invalidArg("rng backend path " + q(r.backendPath) + " must be absolute");
    }
    for (const auto& w : dev.watchdogs) {
        if (!oneOf(w.model, {"i6300esb", "ib700", "itco"}))
            throw err::configUnsupported("unsupported watchdog model " + q(w.model));
        if (w.model == "ib700" && c.q35)
            throw err::configUnsupported("ib700 model of watchdog cannot be used with this machine type");
        if (w.model == "itco" && !c.q35)
            throw err::configUnsupported("itco model of watchdog is only part of q35 machine");
        if (w.model != "i6300esb" && !w.info.address.empty())
            throw err::configUnsupported(w.model + " model of watchdog does not support configuring the address");
        if (w.action != dev.watchdogs[0].action)
            throw err::configUnsupported("watchdogs with different actions are not supported with this QEMU binary");
        if (w.action == "dump")
            throw err::configUnsupported("watchdog action 'dump' is not supported by this driver");
        if (!oneOf(w.action, {"", "reset", "shutdown", "poweroff", "pause", "none", "inject-nmi"}))
            throw err::xml("unknown watchdog action " + q(w.action));
    }
    for (const auto& s : dev.sounds)
        if (soundDeviceName(s).empty())
            throw err::configUnsupported("sound model " + q(s.model) + " is not supported by this driver");
    for (const auto& i : dev.inputs) {
        std::string bus = inputBus(i);
        if (!oneOf(i.type, {"mouse", "keyboard", "tablet"}))
            throw err::configUnsupported("input type " + q(i.type) + " is not supported by this driver");
        if (bus == "ps2" && i.type == "tablet")
            throw err::xml("ps2 bus does not support tablet input device");
        if (!oneOf(bus, {"ps2", "usb", "virtio"}))
            throw err::configUnsupported("input bus " + q(bus) + " is not supported by this driver");
    }
    auto refuse = [](bool any, const char* element) {
        if (any)
            throw err::configUnsupported(std::string("<") + element + "> devices are not supported by this driver");
    };
    refuse(!dev.filesystems.empty(), "filesystem");
    refuse(!dev.tpms.empty(), "tpm");
    refuse(!dev.redirdevs.empty(), "redirdev");
    for (const auto& o : dev.others)
        refuse(o.name != "audio", o.name.c_str()); // <audio> only matters with sound backends we do not use
}

void checkBootAndAddresses(const Check& c)
{
    const auto& dev = c.def.devices;
    std::set<unsigned> orders;
    std::set<std::string> aliases;
    std::set<unsigned> buses {0};
    for (const auto& ctl : dev.controllers)
        if (ctl.type == "pci")
            buses.insert(ctl.index.value_or(0));
    std::map<std::tuple<unsigned, unsigned, unsigned>, bool> pci;
    forEachInfo(dev, [&](const xml::DeviceInfo& info) {
        if (info.bootOrder) {
            if (!c.def.os.bootDevs.empty())
                throw err::xml("per-device boot elements cannot be used together with os/boot elements");
            if (!orders.insert(*info.bootOrder).second)
                throw err::xml("boot order '" + std::to_string(*info.bootOrder) + "' used for more than one device");
        }
        if (info.alias.starts_with("ua-")) {
            if (!safeChars(info.alias, "_-"))
                throw err::xml("user alias " + q(info.alias) + " may only contain letters, digits, '_' and '-'");
            if (!aliases.insert(info.alias).second)
                throw err::xml("non unique alias detected: " + info.alias);
        }
        auto a = pciAddress(info);
        if (!a)
            return;
        char buf[96];
        if (a->domain != 0) {
            std::snprintf(buf, sizeof buf, "Invalid PCI address domain='0x%x', must be 0x0", a->domain);
            throw err::xml(buf);
        }
        if (a->slot > 31) {
            std::snprintf(buf, sizeof buf, "Invalid PCI address slot='0x%x', must be <= 0x1F", a->slot);
            throw err::xml(buf);
        }
        if (a->function > 7) {
            std::snprintf(buf, sizeof buf, "Invalid PCI address function=0x%x, must be <= 7", a->function);
            throw err::xml(buf);
        }
        if (!buses.count(a->bus))
            throw err::xml("Invalid PCI address " + pciString(*a) + ". Only PCI buses up to "
                + std::to_string(*buses.rbegin()) + " are available");
        if (!pci.emplace(std::tuple {a->bus, a->slot, a->function}, true).second)
            throw err::xml("Attempted double use of PCI Address " + pciString(*a));
    });

    bool usbDevices
        = std::any_of(dev.inputs.begin(), dev.inputs.end(), [](const xml::InputDef& i) { return inputBus(i) == "usb"; })
        || std::any_of(dev.disks.begin(), dev.disks.end(), [](const xml::DiskDef& d) { return diskBus(d) == "usb"; })
        || std::any_of(
            dev.hostdevs.begin(), dev.hostdevs.end(), [](const xml::HostdevDef& h) { return h.type == "usb"; });
    bool usbOff = std::any_of(dev.controllers.begin(), dev.controllers.end(),
        [](const xml::ControllerDef& ctl) { return ctl.type == "usb" && ctl.model == "none"; });
    if (usbDevices && usbOff)
        throw err::configUnsupported("USB is disabled for this domain, but USB devices are present in the domain XML");
}

} // namespace

void validateDefinition(const xml::DomainDef& def, const EmulatorCaps* caps)
{
    Check c {def, caps, emulatorPath(def, caps)};
    checkPlatform(c);
    checkCpuClockOs(c);
    checkControllers(c);
    checkDisks(c);
    checkNetsAndGraphics(c);
    checkChardevs(c);
    checkHostdevs(c);
    checkOthers(c);
    checkBootAndAddresses(c);
}

} // namespace virtbus::qemu
