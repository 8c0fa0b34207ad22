// Helpers for argv generation and address assignment: machine lookup,
// the <address/> forms libvirt writes, disk naming and QEMU quoting.
#include "qemu/qemu_command_priv.h"

#include "qemu/qemu_caps.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace virtbus::qemu::detail {

namespace {

// Machine versions QEMU 7.2 provides for x86_64 (used without caps).
bool knownVersion(int major, int minor, bool q35)
{
    static const int maxMinor[] = {-1, 7, 12, 1, 2, 2, 2, 2};
    if (major < 1 || major > 7 || minor < 0 || minor > maxMinor[major])
        return false;
    if (major == 1)
        return !q35 && minor >= 4;
    if (q35 && major == 2)
        return minor >= 4;
    return true;
}

std::optional<MachineInfo> builtinMachine(const std::string& name)
{
    if (name.empty() || name == "pc")
        return MachineInfo{"pc-i440fx-7.2", Chipset::I440fx, 255};
    if (name == "q35")
        return MachineInfo{"pc-q35-7.2", Chipset::Q35, 288};
    for (bool q35 : {false, true}) {
        std::string prefix = q35 ? "pc-q35-" : "pc-i440fx-";
        if (!name.starts_with(prefix))
            continue;
        int major = 0, minor = 0, used = 0;
        std::string rest = name.substr(prefix.size());
        if (std::sscanf(rest.c_str(), "%d.%d%n", &major, &minor, &used) == 2 &&
            static_cast<size_t>(used) == rest.size() && knownVersion(major, minor, q35))
            return MachineInfo{name, q35 ? Chipset::Q35 : Chipset::I440fx, q35 ? 288u : 255u};
    }
    return std::nullopt;
}

std::optional<unsigned> parseNum(const RawAttrs& a, const char* key, const char* what)
{
    auto it = a.find(key);
    if (it == a.end() || it->second.empty())
        return std::nullopt;
    const std::string& v = it->second;
    char* end = nullptr;
    errno = 0;
    unsigned long n = std::strtoul(v.c_str(), &end, 0);
    if (errno || *end || v.front() == '-' || n > 0xffffffffUL)
        throw err::xml("Cannot parse <address> '" + std::string(key) + "' attribute" +
                       (what[0] ? std::string(" for ") + what : std::string()));
    return static_cast<unsigned>(n);
}

std::string hex(unsigned v, int width)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*x", width, v);
    return buf;
}

} // namespace

MachineLookup lookupMachine(const std::string& machine, const EmulatorCaps* caps)
{
    MachineLookup r;
    if (!caps) {
        r.info = builtinMachine(machine);
        r.known = r.info.has_value() || machine == "isapc" || machine == "microvm" ||
                  machine == "none" || machine == "x-remote";
        return r;
    }
    const MachineType* found = nullptr;
    for (const auto& m : caps->machines)
        if ((machine.empty() && m.isDefault) || (!machine.empty() && (m.name == machine || m.alias == machine)))
            found = found ? found : &m;
    if (!found && machine.empty()) // no default advertised: libvirt falls back to pc
        return lookupMachine("pc", caps);
    if (!found)
        return r;
    r.known = true;
    if (found->name.starts_with("pc-i440fx-") || found->name.starts_with("pc-q35-")) {
        bool q35 = found->name.starts_with("pc-q35-");
        r.info = MachineInfo{found->name, q35 ? Chipset::Q35 : Chipset::I440fx, found->maxCpus};
    }
    return r;
}

MachineInfo machineOf(const xml::DomainDef& def, const EmulatorCaps* caps)
{
    MachineLookup m = lookupMachine(def.os.machine, caps);
    if (!m.info)
        throw err::configUnsupported("Emulator '" + emulatorPath(def, caps) +
                                     "' does not support machine type '" + def.os.machine + "'");
    return *m.info;
}

bool isQ35(const xml::DomainDef& def)
{
    return def.os.machine == "q35" || def.os.machine.starts_with("pc-q35-");
}

std::string emulatorPath(const xml::DomainDef& def, const EmulatorCaps* caps)
{
    if (!def.devices.emulator.empty())
        return def.devices.emulator;
    if (caps && !caps->path.empty())
        return caps->path;
    return "/usr/bin/qemu-system-x86_64";
}

std::string guestArch(const EmulatorCaps* caps)
{
    return caps && !caps->arch.empty() ? caps->arch : "x86_64";
}

bool capsHasDevice(const EmulatorCaps* caps, const std::string& type)
{
    if (!caps || caps->deviceTypes.empty())
        return true;
    return std::find(caps->deviceTypes.begin(), caps->deviceTypes.end(), type) != caps->deviceTypes.end();
}

std::string rawElementName(std::string_view e)
{
    size_t i = e.find('<');
    if (i == std::string_view::npos)
        return {};
    size_t j = e.find_first_of(" \t\r\n/>", i + 1);
    return std::string(e.substr(i + 1, j == std::string_view::npos ? std::string_view::npos : j - i - 1));
}

RawAttrs rawAttrs(std::string_view e)
{
    // Only the start tag: attributes of children do not count.
    RawAttrs out;
    size_t i = e.find('<');
    if (i == std::string_view::npos)
        return out;
    i = e.find_first_of(" \t\r\n/>", i + 1);
    while (i < e.size()) {
        while (i < e.size() && std::isspace(static_cast<unsigned char>(e[i])))
            ++i;
        if (i >= e.size() || e[i] == '/' || e[i] == '>')
            break;
        size_t eq = e.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= e.size())
            break;
        std::string name(e.substr(i, eq - i));
        char q = e[eq + 1];
        size_t end = e.find(q, eq + 2);
        if ((q != '\'' && q != '"') || end == std::string_view::npos)
            break;
        std::string value(e.substr(eq + 2, end - eq - 2));
        // Stored elements come from our writer: only these entities occur.
        for (auto [ent, ch] : {std::pair{"&apos;", "'"}, {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"},
                               {"&amp;", "&"}})
            for (size_t p = 0; (p = value.find(ent, p)) != std::string::npos; p += 1)
                value.replace(p, std::string_view(ent).size(), ch);
        out[name] = value;
        i = end + 1;
    }
    return out;
}

std::string rawAttr(std::string_view element, std::string_view name)
{
    RawAttrs a = rawAttrs(element);
    auto it = a.find(name);
    return it == a.end() ? std::string() : it->second;
}

std::string addressType(const xml::DeviceInfo& info)
{
    return info.address.empty() ? std::string() : rawAttr(info.address, "type");
}

std::optional<PciAddr> pciAddress(const xml::DeviceInfo& info)
{
    if (addressType(info) != "pci")
        return std::nullopt;
    RawAttrs a = rawAttrs(info.address);
    PciAddr p;
    p.domain = parseNum(a, "domain", "").value_or(0);
    p.bus = parseNum(a, "bus", "").value_or(0);
    p.slot = parseNum(a, "slot", "").value_or(0);
    p.function = parseNum(a, "function", "").value_or(0);
    p.multifunction = a.count("multifunction") && a["multifunction"] == "on";
    return p;
}

std::optional<DriveAddr> driveAddress(const xml::DeviceInfo& info)
{
    if (addressType(info) != "drive")
        return std::nullopt;
    RawAttrs a = rawAttrs(info.address);
    return DriveAddr{parseNum(a, "controller", "").value_or(0), parseNum(a, "bus", "").value_or(0),
                     parseNum(a, "target", "").value_or(0), parseNum(a, "unit", "").value_or(0)};
}

std::optional<PortAddr> usbAddress(const xml::DeviceInfo& info)
{
    if (addressType(info) != "usb")
        return std::nullopt;
    RawAttrs a = rawAttrs(info.address);
    return PortAddr{0, parseNum(a, "bus", "").value_or(0), parseNum(a, "port", "").value_or(0)};
}

std::optional<PortAddr> serialPortAddress(const xml::DeviceInfo& info)
{
    if (addressType(info) != "virtio-serial")
        return std::nullopt;
    RawAttrs a = rawAttrs(info.address);
    return PortAddr{parseNum(a, "controller", "").value_or(0), parseNum(a, "bus", "").value_or(0),
                    parseNum(a, "port", "").value_or(0)};
}

std::string formatPci(const PciAddr& a)
{
    std::string s = "<address type='pci' domain='" + hex(a.domain, 4) + "' bus='" + hex(a.bus, 2) +
                    "' slot='" + hex(a.slot, 2) + "' function='" + hex(a.function, 1) + "'";
    if (a.multifunction)
        s += " multifunction='on'";
    return s + "/>";
}

std::string formatDrive(const DriveAddr& a)
{
    return "<address type='drive' controller='" + std::to_string(a.controller) + "' bus='" +
           std::to_string(a.bus) + "' target='" + std::to_string(a.target) + "' unit='" +
           std::to_string(a.unit) + "'/>";
}

std::string formatUsb(const PortAddr& a)
{
    return "<address type='usb' bus='" + std::to_string(a.bus) + "' port='" + std::to_string(a.port) + "'/>";
}

std::string formatVirtioSerial(const PortAddr& a)
{
    return "<address type='virtio-serial' controller='" + std::to_string(a.controller) + "' bus='" +
           std::to_string(a.bus) + "' port='" + std::to_string(a.port) + "'/>";
}

std::string pciString(const PciAddr& a)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", a.domain, a.bus, a.slot, a.function);
    return buf;
}

std::string qemuAddr(const PciAddr& a)
{
    char buf[32];
    if (a.function)
        std::snprintf(buf, sizeof buf, "0x%x.0x%x", a.slot, a.function);
    else
        std::snprintf(buf, sizeof buf, "0x%x", a.slot);
    return buf;
}

std::optional<unsigned> diskIndex(const std::string& dev)
{
    static const char* prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
    for (const char* p : prefixes) {
        if (!dev.starts_with(p))
            continue;
        std::string rest = dev.substr(std::string_view(p).size());
        if (rest.empty() || rest.size() > 4)
            return std::nullopt;
        unsigned idx = 0;
        for (char c : rest) {
            if (c < 'a' || c > 'z')
                return std::nullopt;
            idx = idx * 26 + static_cast<unsigned>(c - 'a' + 1);
        }
        return idx - 1;
    }
    return std::nullopt;
}

std::string diskBus(const xml::DiskDef& d)
{
    if (!d.targetBus.empty())
        return d.targetBus;
    if (d.device == "floppy" || d.targetDev.starts_with("fd"))
        return "fdc";
    if (d.targetDev.starts_with("hd"))
        return "ide";
    if (d.targetDev.starts_with("sd"))
        return "scsi";
    if (d.targetDev.starts_with("vd"))
        return "virtio";
    if (d.targetDev.starts_with("xvd"))
        return "xen";
    if (d.targetDev.starts_with("ubd"))
        return "uml";
    return "ide";
}

std::string scsiModel(const xml::DomainDef& def, unsigned index)
{
    for (const auto& c : def.devices.controllers)
        if (c.type == "scsi" && c.index == index && !c.model.empty())
            return c.model;
    return kDefaultScsiModel;
}

std::optional<DriveAddr> effectiveDriveAddress(const xml::DiskDef& d, const xml::DomainDef& def)
{
    std::string bus = diskBus(d);
    if (bus != "ide" && bus != "sata" && bus != "scsi" && bus != "fdc")
        return std::nullopt;
    if (auto given = driveAddress(d.info))
        return given;
    auto idx = diskIndex(d.targetDev);
    if (!idx)
        return std::nullopt;
    unsigned i = *idx;
    if (bus == "ide")
        return DriveAddr{i / 4, (i % 4) / 2, 0, i % 2};
    if (bus == "sata")
        return DriveAddr{i / 6, 0, 0, i % 6};
    if (bus == "fdc")
        return DriveAddr{i / 2, 0, 0, i % 2};
    // The LSI controller has 7 targets (the 8th is itself); virtio-scsi's
    // units are LUNs and plenty.
    unsigned perController = scsiModel(def, 0) == "lsilogic" ? 7 : 16384;
    return DriveAddr{i / perController, 0, 0, i % perController};
}

std::string usbModel(const xml::DomainDef& def)
{
    for (const auto& c : def.devices.controllers)
        if (c.type == "usb" && c.index == 0u)
            return c.model.empty() ? defaultUsbModel(isQ35(def) ? Chipset::Q35 : Chipset::I440fx) : c.model;
    return {};
}

std::string defaultUsbModel(Chipset c)
{
    return c == Chipset::Q35 ? "qemu-xhci" : "piix3-uhci";
}

unsigned usbPorts(const std::string& model)
{
    if (model == "piix3-uhci" || model == "piix4-uhci")
        return 2;
    if (model == "qemu-xhci" || model == "nec-xhci")
        return 4;
    return 0;
}

bool isPcieEndpoint(std::string_view dev)
{
    return dev.starts_with("virtio-") || dev == "e1000e" || dev == "qemu-xhci" || dev == "nec-usb-xhci" ||
           dev == "vfio-pci" || dev == "ich9-intel-hda";
}

std::string netDeviceName(const xml::InterfaceDef& n)
{
    const std::string& m = n.model.empty() ? std::string(kDefaultNetModel) : n.model;
    if (m == "virtio")
        return "virtio-net-pci";
    return m; // e1000, e1000e, rtl8139: QEMU's names are libvirt's
}

std::string videoDeviceName(const xml::VideoDef& v, bool primary)
{
    if (v.model == "vga")
        return primary ? "VGA" : "secondary-vga";
    if (v.model == "cirrus")
        return "cirrus-vga";
    if (v.model == "qxl")
        return primary ? "qxl-vga" : "qxl";
    if (v.model == "virtio")
        return primary ? "virtio-vga" : "virtio-gpu-pci";
    if (v.model == "bochs")
        return "bochs-display";
    return {};
}

bool isBuiltinController(const xml::ControllerDef& c, bool q35)
{
    if (c.type == "pci" && c.index == 0u)
        return true;
    if (c.type == "ide" && c.index == 0u && !q35)
        return true;
    if (c.type == "sata" && c.index == 0u && q35)
        return true;
    return c.type == "fdc";
}

std::string controllerDeviceName(const xml::ControllerDef& c, bool q35)
{
    if (isBuiltinController(c, q35))
        return {};
    if (c.type == "usb") {
        const std::string m = c.model.empty() ? defaultUsbModel(q35 ? Chipset::Q35 : Chipset::I440fx) : c.model;
        if (m == "piix3-uhci")
            return "piix3-usb-uhci";
        if (m == "piix4-uhci")
            return "piix4-usb-uhci";
        if (m == "nec-xhci")
            return "nec-usb-xhci";
        return m == "none" ? std::string() : m;
    }
    if (c.type == "scsi")
        return c.model == "virtio-scsi" ? "virtio-scsi-pci" : "lsi";
    if (c.type == "sata")
        return "ahci";
    if (c.type == "virtio-serial")
        return "virtio-serial-pci";
    if (c.type == "pci" && c.model == "pcie-root-port")
        return "pcie-root-port";
    return {};
}

std::string soundDeviceName(const xml::SoundDef& s)
{
    if (s.model == "ich6")
        return "intel-hda";
    if (s.model == "ich9")
        return "ich9-intel-hda";
    if (s.model == "ac97")
        return "AC97";
    return {};
}

std::string inputDeviceName(const xml::InputDef& i)
{
    static const std::map<std::string, std::string> usb{
        {"tablet", "usb-tablet"}, {"mouse", "usb-mouse"}, {"keyboard", "usb-kbd"}};
    static const std::map<std::string, std::string> virtio{
        {"tablet", "virtio-tablet-pci"}, {"mouse", "virtio-mouse-pci"}, {"keyboard", "virtio-keyboard-pci"}};
    const std::string bus = inputBus(i);
    const auto& table = bus == "usb" ? usb : virtio;
    if (bus != "usb" && bus != "virtio")
        return {};
    auto it = table.find(i.type);
    return it == table.end() ? std::string() : it->second;
}

std::string inputBus(const xml::InputDef& i)
{
    if (!i.bus.empty())
        return i.bus;
    return i.type == "tablet" ? "usb" : "ps2";
}

std::string escapeOpt(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        out += c;
        if (c == ',')
            out += ',';
    }
    return out;
}

std::string jsonString(std::string_view v)
{
    std::string out = "\"";
    for (unsigned char c : v) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

bool hasVirtioSerialUser(const xml::DomainDef& def)
{
    for (const auto& c : def.devices.channels)
        if (c.targetType == "virtio")
            return true;
    for (const auto& c : def.devices.consoles)
        if (c.targetType == "virtio")
            return true;
    return false;
}

} // namespace virtbus::qemu::detail
