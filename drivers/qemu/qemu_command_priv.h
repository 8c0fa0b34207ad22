// Shared by qemu_command*.cpp and qemu_address.cpp: machine knowledge, the
// address forms libvirt writes into <address/>, and QEMU's quoting rules.
// Not part of the driver's API.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "error.h"
#include "qemu/qemu_command.h"

namespace virtbus::qemu::detail {

enum class Chipset { I440fx, Q35 };

struct MachineInfo {
    std::string name; // canonical ("pc-i440fx-7.2")
    Chipset chipset = Chipset::I440fx;
    unsigned maxCpus = 255;
};

// The machine `def` asks for (alias, full name, or "" for the default),
// through `caps` when given, else through QEMU 7.2's x86_64 table. `known`
// without `info`: a machine the emulator has but the driver does not run
// (microvm, isapc, none).
struct MachineLookup {
    std::optional<MachineInfo> info;
    bool known = false;
};
MachineLookup lookupMachine(const std::string& machine, const EmulatorCaps* caps);
// lookupMachine that must succeed (after validation).
MachineInfo machineOf(const xml::DomainDef& def, const EmulatorCaps* caps);
bool isQ35(const xml::DomainDef& def);

std::string emulatorPath(const xml::DomainDef& def, const EmulatorCaps* caps);
std::string guestArch(const EmulatorCaps* caps);
// Empty device list in caps means "not probed": everything is present.
bool capsHasDevice(const EmulatorCaps* caps, const std::string& type);

// Attributes of one raw element such as <address type='pci' .../>.
using RawAttrs = std::map<std::string, std::string, std::less<>>;
RawAttrs rawAttrs(std::string_view element);
std::string rawElementName(std::string_view element);
std::string addressType(const xml::DeviceInfo& info);

struct PciAddr {
    unsigned domain = 0, bus = 0, slot = 0, function = 0;
    bool multifunction = false;
    bool operator<(const PciAddr& o) const
    {
        return std::tie(domain, bus, slot, function) < std::tie(o.domain, o.bus, o.slot, o.function);
    }
    bool sameFunction(const PciAddr& o) const
    {
        return domain == o.domain && bus == o.bus && slot == o.slot && function == o.function;
    }
};
struct DriveAddr {
    unsigned controller = 0, bus = 0, target = 0, unit = 0;
    bool operator==(const DriveAddr&) const = default;
};
struct PortAddr { // usb (bus = controller index) and virtio-serial
    unsigned controller = 0, bus = 0, port = 0;
};

// Parse the stored address; nullopt when the device has none of that
// type. Malformed numbers raise XmlError like libvirt's parser.
std::optional<PciAddr> pciAddress(const xml::DeviceInfo& info);
std::optional<DriveAddr> driveAddress(const xml::DeviceInfo& info);
std::optional<PortAddr> usbAddress(const xml::DeviceInfo& info);
std::optional<PortAddr> serialPortAddress(const xml::DeviceInfo& info);

std::string formatPci(const PciAddr& a);
std::string formatDrive(const DriveAddr& a);
std::string formatUsb(const PortAddr& a);
std::string formatVirtioSerial(const PortAddr& a);
std::string pciString(const PciAddr& a); // 0000:00:03.0, as in libvirt's messages
// addr=0x3 / addr=0x1.0x2
std::string qemuAddr(const PciAddr& a);

// libvirt's virDiskNameToIndex: "vda" -> 0, "hdc" -> 2, "sdaa" -> 26.
std::optional<unsigned> diskIndex(const std::string& targetDev);
// The bus a disk is on: its target bus, else libvirt's default from the
// target name and device.
std::string diskBus(const xml::DiskDef& d);
// The drive address libvirt gives a disk on ide/sata/scsi/fdc: its own,
// else derived from the target name.
std::optional<DriveAddr> effectiveDriveAddress(const xml::DiskDef& d, const xml::DomainDef& def);
// SCSI controller model for `index` ("lsilogic" when not set).
std::string scsiModel(const xml::DomainDef& def, unsigned index);
// Model of usb controller index 0 ("" when there is none).
std::string usbModel(const xml::DomainDef& def);
std::string defaultUsbModel(Chipset c);
unsigned usbPorts(const std::string& model);
inline constexpr const char* kDefaultNetModel = "rtl8139";
inline constexpr const char* kDefaultScsiModel = "lsilogic";
inline constexpr const char* kDefaultVideoModel = "cirrus";

// What kind of PCI slot a device wants on q35: a root port (PCIe endpoint)
// or pcie.0 directly (conventional PCI devices, integrated there).
bool isPcieEndpoint(std::string_view qemuDevice);

// QEMU device types for the model's devices ("" when the device has no
// -device of its own: ps2 inputs, builtin controllers, model none).
std::string netDeviceName(const xml::InterfaceDef& n);
std::string videoDeviceName(const xml::VideoDef& v, bool primary);
std::string controllerDeviceName(const xml::ControllerDef& c, bool q35);
std::string soundDeviceName(const xml::SoundDef& s);
std::string inputDeviceName(const xml::InputDef& i);
// An input's bus, libvirt's default for x86 when not given.
std::string inputBus(const xml::InputDef& i);
// Controllers QEMU builds into the machine (no -device, fixed address).
bool isBuiltinController(const xml::ControllerDef& c, bool q35);

// A JSON string literal, quotes included.
std::string jsonString(std::string_view value);

// Value of attribute `name` on the feature / timer / ... element `raw`.
std::string rawAttr(std::string_view element, std::string_view name);

// QEMU option quoting: ',' doubles in key=value lists.
std::string escapeOpt(std::string_view value);

// Building blocks of buildCommandLine (qemu_command.cpp), the devices
// part living in qemu_command_devices.cpp.
using Argv = std::vector<std::string>;
using BootIndexes = std::map<const xml::DeviceInfo*, unsigned>;
void appendDeviceArgs(Argv& argv, const xml::DomainDef& def, const CommandContext& ctx, const BootIndexes& boot,
                      bool q35);
// One device's options as the command line has them, for hotplug (the
// same text then goes to QMP): a disk's "-blockdev" storage and format
// nodes ("<node>-storage", "<node>-format"; none for an empty drive) and
// its "-device"; an interface's "-netdev" (tap: fd=`tapFd`) and "-device".
Argv diskArgv(const xml::DomainDef& def, const xml::DiskDef& d, const std::string& node, bool q35);
std::vector<std::string> diskBlockdevs(const xml::DiskDef& d, const std::string& node); // JSON
Argv netArgv(const xml::DomainDef& def, const xml::InterfaceDef& n, const std::string& tapFd, bool q35);

// "key=value" lists for -device, -chardev, -netdev, ...: values are
// escaped, the leading driver name is ours and never needs it.
class Opts {
public:
    explicit Opts(std::string head) : s_(std::move(head)) {}
    Opts& add(std::string_view key, std::string_view value)
    {
        s_ += (s_.empty() ? "" : ",");
        s_.append(key).append("=").append(escapeOpt(value));
        return *this;
    }
    Opts& add(std::string_view key, unsigned value) { return add(key, std::to_string(value)); }
    Opts& addIf(std::string_view key, std::string_view value) { return value.empty() ? *this : add(key, value); }
    const std::string& str() const { return s_; }

private:
    std::string s_;
};

// Every device's info, for the checks that span device kinds.
template <typename F>
void forEachInfo(const xml::DevicesDef& dev, F f)
{
    auto all = [&](const auto& list) {
        for (const auto& d : list)
            f(d.info);
    };
    all(dev.disks);
    all(dev.controllers);
    all(dev.filesystems);
    all(dev.interfaces);
    all(dev.inputs);
    all(dev.graphics);
    all(dev.videos);
    all(dev.serials);
    all(dev.parallels);
    all(dev.channels);
    all(dev.consoles);
    all(dev.hostdevs);
    all(dev.rngs);
    all(dev.watchdogs);
    all(dev.sounds);
    all(dev.tpms);
    all(dev.redirdevs);
    if (dev.memballoon)
        f(dev.memballoon->info);
}

// A virtio channel or console needs a virtio-serial controller.
bool hasVirtioSerialUser(const xml::DomainDef& def);

} // namespace virtbus::qemu::detail
