// The domain XML model shared by every driver. It parses libvirt's
// <domain> documents into plain structures and formats them back; it knows
// no hypervisor. Whatever it does not model explicitly (unknown elements,
// unknown attributes of modeled elements) is kept verbatim in a Preserved
// record next to the modeled fields, so a parse/format round trip never
// loses data a client gave us.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace virtbus::xml {

// Attributes in document order (name may carry a namespace prefix).
using Attrs = std::vector<std::pair<std::string, std::string>>;

// What the model does not name on one element: its other attributes and its
// other child elements as standalone XML strings (namespace declarations
// included), in document order. Formatting writes them back after the
// modeled children.
struct Preserved {
    Attrs attrs;
    std::vector<std::string> children;
    bool empty() const { return attrs.empty() && children.empty(); }
    bool operator==(const Preserved&) const = default;
};

// libvirt's virDomainDeviceInfo: what every device may carry.
struct DeviceInfo {
    std::string alias;               // <alias name=.../>
    std::string address;             // raw <address .../> element, "" if none
    std::optional<unsigned> bootOrder; // <boot order='N'/>
    std::string bootLoadparm;        // <boot loadparm=.../>
    bool operator==(const DeviceInfo&) const = default;
};

struct DiskSourceHost {
    std::string name, port, transport, socket;
    bool operator==(const DiskSourceHost&) const = default;
};

struct DiskDef {
    std::string type = "file";   // file, block, network, volume, dir, nvme, vhostuser
    std::string device = "disk"; // disk, cdrom, floppy, lun
    // <driver>
    std::string driverName, driverType, driverCache, driverIo;
    Preserved driverExtra;
    // <source>; `path` is its file= (file), dev= (block) or dir= (dir)
    bool hasSource = false;
    std::string path;
    std::string pool, volume, volumeMode;     // type='volume'
    std::string protocol, sourceName;         // type='network'
    std::vector<DiskSourceHost> hosts;
    Preserved sourceExtra;
    // <target>
    std::string targetDev, targetBus;
    Preserved targetExtra;
    bool readonly = false;
    bool shareable = false;
    std::string serial;
    std::string backingStore;     // raw <backingStore> element, "" if none
    std::vector<std::pair<std::string, std::string>> iotune; // <iotune> children
    DeviceInfo info;
    Preserved extra;
    bool operator==(const DiskDef&) const = default;
};

struct ControllerDef {
    std::string type;             // ide, fdc, scsi, sata, usb, pci, virtio-serial, ...
    std::optional<unsigned> index; // filled by parseDomainXML when absent
    std::string model;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const ControllerDef&) const = default;
};

struct FilesystemDef {
    std::string type = "mount";   // mount, block, file, template, ram, bind, volume
    std::string accessmode;
    std::string driverType;
    Preserved driverExtra;
    // value of <source>'s dir= (mount/bind), dev= (block), file= (file),
    // name= (template), usage= (ram) or volume= (volume)
    std::string source;
    Preserved sourceExtra;
    std::string target;           // <target dir=.../>
    bool readonly = false;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const FilesystemDef&) const = default;
};

struct InterfaceDef {
    std::string type = "network"; // network, bridge, user, direct, ethernet, ...
    std::string mac;              // canonical lowercase, "" until assigned
    Preserved macExtra;           // other <mac> attributes
    std::string sourceNetwork, sourceBridge, sourceDev, sourceMode, sourcePortgroup;
    Preserved sourceExtra;
    std::string model;            // <model type=.../>
    std::string targetDev;        // <target dev=.../>
    Preserved targetExtra;
    std::string linkState;        // <link state='up|down'/>
    DeviceInfo info;
    Preserved extra;
    bool operator==(const InterfaceDef&) const = default;
};

struct InputDef {
    std::string type;             // mouse, tablet, keyboard, passthrough, evdev
    std::string bus;              // ps2, usb, virtio, xen, ""
    DeviceInfo info;
    Preserved extra;
    bool operator==(const InputDef&) const = default;
};

struct GraphicsListen {
    std::string type;             // address, network, socket, none
    std::string address, network, socket;
    Preserved extra;
    bool operator==(const GraphicsListen&) const = default;
};

struct GraphicsDef {
    std::string type;             // vnc, spice, sdl, rdp, desktop, egl-headless, dbus
    std::optional<int> port;
    std::optional<int> tlsPort;
    std::optional<bool> autoport;
    std::string listen;           // the listen= attribute
    std::string passwd;           // written only with FormatOptions::secure
    std::string keymap;
    std::vector<GraphicsListen> listens;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const GraphicsDef&) const = default;
};

struct VideoDef {
    std::string model;            // <model type=.../>: vga, cirrus, qxl, virtio, none, ...
    std::optional<unsigned> vram; // KiB
    std::optional<unsigned> heads;
    bool primary = false;
    Preserved modelExtra;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const VideoDef&) const = default;
};

enum class ChardevKind { Serial, Parallel, Console, Channel };

struct ChardevSource {
    std::string mode;             // bind, connect
    std::string path, host, service;
    Preserved extra;
    bool operator==(const ChardevSource&) const = default;
};

struct ChardevDef {
    ChardevKind kind = ChardevKind::Serial;
    std::string type = "pty";     // pty, file, unix, tcp, udp, dev, pipe, stdio, vc, null, spicevmc, ...
    std::vector<ChardevSource> sources; // udp has two
    std::string protocol;         // <protocol type=.../> (tcp)
    std::string targetType;       // isa-serial, virtio, serial, guestfwd, ...
    std::optional<unsigned> targetPort;
    std::string targetName;       // virtio channel name
    Preserved targetExtra;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const ChardevDef&) const = default;
};

struct HostdevDef {
    std::string mode = "subsystem"; // subsystem, capabilities
    std::string type;             // pci, usb, scsi, scsi_host, mdev
    std::optional<bool> managed;
    // pci: <source><address domain bus slot function/></source>
    std::string pciDomain, pciBus, pciSlot, pciFunction;
    // usb: <source><vendor id/><product id/><address bus device/></source>
    std::string usbVendor, usbProduct, usbBus, usbDevice;
    Preserved sourceExtra;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const HostdevDef&) const = default;
};

struct MemballoonDef {
    std::string model = "virtio"; // virtio, xen, none, ...
    std::optional<unsigned> statsPeriod; // seconds, <stats period=.../>
    DeviceInfo info;
    Preserved extra;
    bool operator==(const MemballoonDef&) const = default;
};

struct RngDef {
    std::string model = "virtio";
    std::string backendModel;     // random, egd, builtin
    std::string backendPath;      // text of <backend model='random'>
    Preserved backendExtra;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const RngDef&) const = default;
};

struct WatchdogDef {
    std::string model;            // i6300esb, ib700, diag288, itco
    std::string action;           // reset, shutdown, poweroff, pause, none, dump, inject-nmi
    DeviceInfo info;
    Preserved extra;
    bool operator==(const WatchdogDef&) const = default;
};

struct SoundDef {
    std::string model;            // ich6, ich9, ac97, es1370, sb16, pcspk, usb, ...
    DeviceInfo info;
    Preserved extra;
    bool operator==(const SoundDef&) const = default;
};

struct TpmDef {
    std::string model;            // tpm-tis, tpm-crb, ...
    std::string backendType;      // passthrough, emulator, external
    std::string backendVersion;
    std::string backendDevicePath; // passthrough's <device path=.../>
    Preserved backendExtra;
    DeviceInfo info;
    Preserved extra;
    bool operator==(const TpmDef&) const = default;
};

struct RedirdevDef {
    std::string bus = "usb";
    std::string type;             // spicevmc, tcp, ...
    DeviceInfo info;
    Preserved extra;              // <source>, <protocol>, ...
    bool operator==(const RedirdevDef&) const = default;
};

// A device element the model does not know (<smartcard>, <panic>, ...).
struct RawDeviceDef {
    std::string name;             // element name
    std::string xml;
    bool operator==(const RawDeviceDef&) const = default;
};

using DeviceDef = std::variant<DiskDef, ControllerDef, FilesystemDef, InterfaceDef,
    InputDef, GraphicsDef, VideoDef, ChardevDef, HostdevDef, MemballoonDef, RngDef,
    WatchdogDef, SoundDef, TpmDef, RedirdevDef, RawDeviceDef>;

struct DevicesDef {
    std::string emulator;
    std::vector<DiskDef> disks;
    std::vector<ControllerDef> controllers;
    std::vector<FilesystemDef> filesystems;
    std::vector<InterfaceDef> interfaces;
    std::vector<InputDef> inputs;
    std::vector<GraphicsDef> graphics;
    std::vector<VideoDef> videos;
    std::vector<ChardevDef> serials, parallels, consoles, channels;
    std::vector<HostdevDef> hostdevs;
    std::optional<MemballoonDef> memballoon;
    std::vector<RngDef> rngs;
    std::vector<WatchdogDef> watchdogs;
    std::vector<SoundDef> sounds;
    std::vector<TpmDef> tpms;
    std::vector<RedirdevDef> redirdevs;
    std::vector<RawDeviceDef> others; // in libvirt's order of device kinds
    bool operator==(const DevicesDef&) const = default;
};

struct MaxMemoryDef {
    uint64_t kib = 0;
    unsigned slots = 0;
    bool operator==(const MaxMemoryDef&) const = default;
};

struct VcpuDef {
    unsigned max = 1;
    unsigned current = 1;         // == max unless <vcpu current=...>
    std::string placement = "static"; // static, auto
    std::string cpuset;
    bool operator==(const VcpuDef&) const = default;
};

struct VcpuPin {
    unsigned vcpu = 0;
    std::string cpuset;
    bool operator==(const VcpuPin&) const = default;
};

struct CputuneDef {
    std::optional<uint64_t> shares;
    std::optional<uint64_t> period;
    std::optional<int64_t> quota;
    std::vector<VcpuPin> vcpupins;
    std::string emulatorpin;      // cpuset of <emulatorpin>, "" if none
    Preserved extra;
    bool empty() const;
    bool operator==(const CputuneDef&) const = default;
};

struct CpuTopology {
    unsigned sockets = 1, dies = 0, cores = 1, threads = 1; // dies 0: not given
    bool operator==(const CpuTopology&) const = default;
};

struct CpuDef {
    bool present = false;
    std::string mode;             // custom, host-model, host-passthrough, maximum
    std::string match;            // minimum, exact, strict
    std::string check;            // none, partial, full
    std::string model;            // text of <model>
    std::string modelFallback;    // <model fallback=...>
    Preserved modelExtra;         // other <model> attributes (vendor_id=)
    std::optional<CpuTopology> topology;
    Preserved extra;              // <feature>, <numa>, <cache>, <vendor>, ...
    bool operator==(const CpuDef&) const = default;
};

struct LoaderDef {
    std::string path;
    std::string readonly, secure, type; // yes/no, yes/no, rom/pflash
    Preserved extra;
    bool operator==(const LoaderDef&) const = default;
};

struct NvramDef {
    std::string path;
    std::string templ;            // template=
    Preserved extra;
    bool operator==(const NvramDef&) const = default;
};

struct OsDef {
    std::string type;             // hvm, linux, xen, exe
    std::string arch, machine;
    std::string firmware;         // <os firmware='efi|bios'>
    std::vector<std::string> bootDevs; // hd, cdrom, fd, network, in order
    std::optional<bool> bootmenu;
    std::optional<unsigned> bootmenuTimeout; // ms
    std::string kernel, initrd, cmdline, dtb, init;
    std::optional<LoaderDef> loader;
    std::optional<NvramDef> nvram;
    Preserved typeExtra;          // other <type> attributes
    Preserved extra;
    bool operator==(const OsDef&) const = default;
};

// One child of <features>; `raw` holds the whole element when it has
// attributes or children (<hyperv>, <kvm>, <smm state=...>), else "".
struct FeatureDef {
    std::string name;
    std::string raw;
    bool operator==(const FeatureDef&) const = default;
};

struct TimerDef {
    std::string name;             // rtc, pit, hpet, kvmclock, hypervclock, tsc, ...
    std::string present;          // yes, no, ""
    std::string tickpolicy, track;
    Preserved extra;
    bool operator==(const TimerDef&) const = default;
};

struct ClockDef {
    std::string offset = "utc";   // utc, localtime, timezone, variable, absolute
    std::vector<TimerDef> timers;
    Preserved extra;              // adjustment=, timezone=, basis=, ...
    bool operator==(const ClockDef&) const = default;
};

struct PmDef {
    std::optional<bool> suspendToMem, suspendToDisk;
    bool operator==(const PmDef&) const = default;
};

struct DomainDef {
    std::string type;             // test, qemu, kvm, ...
    std::string name;
    std::string uuid;             // canonical lowercase
    std::string title;
    std::string description;
    std::map<std::string, std::string> metadata; // namespace URI -> element XML
    std::optional<MaxMemoryDef> maxMemory;
    uint64_t memory = 0;          // KiB
    std::string memoryDumpCore;   // <memory dumpCore='on|off'>
    uint64_t currentMemory = 0;   // KiB, <= memory
    VcpuDef vcpu;
    unsigned iothreads = 0;
    CputuneDef cputune;
    CpuDef cpu;
    OsDef os;
    std::vector<FeatureDef> features;
    ClockDef clock;
    std::string onPoweroff = "destroy", onReboot = "restart", onCrash = "destroy";
    PmDef pm;
    DevicesDef devices;
    std::vector<std::string> seclabels; // raw <seclabel> elements
    std::string resource;         // raw <resource>, "" if none
    Preserved extra;              // other top-level elements (in libvirt's order) and
                                  // <domain> attributes
    bool hasFeature(std::string_view name) const;
    bool operator==(const DomainDef&) const = default;
};

struct FormatOptions {
    int id = -1;                  // >= 0: a running domain, written as id='N'
    bool inactive = false;        // leave out runtime-only state
    bool secure = false;          // include passwords
    bool migratable = false;      // leave out runtime-only state for migration
};

enum DomainParseFlags : unsigned {
    // Also validate against libvirt's domain.rng (VIR_DOMAIN_DEFINE_VALIDATE);
    // failures raise ErrCode::XmlInvalidSchema.
    PARSE_VALIDATE = 1u << 0,
    // Drop runtime-only state: aliases not starting with "ua-" and graphics
    // ports chosen by autoport, as libvirt does when defining.
    PARSE_INACTIVE = 1u << 1,
};

DomainDef parseDomainXML(std::string_view xml, unsigned flags = 0);
std::string formatDomainXML(const DomainDef& def, const FormatOptions& opts = {});

// Hotplug: one device element (<disk>, <interface>, ...).
DeviceDef parseDeviceXML(std::string_view xml, unsigned flags = 0);
std::string formatDeviceXML(const DeviceDef& dev, const FormatOptions& opts = {});

// Device lists. A device matches another of its kind by target dev (disks),
// MAC (interfaces, when the pattern has one), type and index (controllers),
// type (graphics), source (hostdevs) or else formatted XML, leaving out
// <alias> and <address> when the pattern has none.
// addDevice rejects a disk target or MAC already in use (OperationInvalid);
// the others fail with OperationFailed when nothing matches.
std::optional<DeviceDef> findDevice(const DomainDef& def, const DeviceDef& match);
void addDevice(DomainDef& def, DeviceDef dev);
DeviceDef removeDevice(DomainDef& def, const DeviceDef& match);
void replaceDevice(DomainDef& def, DeviceDef dev); // update in place

// Identifiers.
bool isValidUUID(std::string_view uuid);          // canonical or undashed, any case
std::string normalizeUUID(std::string_view uuid); // -> canonical lowercase; throws InvalidArg
std::string generateUUID();                       // random v4
bool isValidMAC(std::string_view mac);
std::string normalizeMAC(std::string_view mac);   // -> lowercase; throws InvalidArg
std::string generateMAC();                        // 52:54:00:xx:xx:xx
void assignMissingMACs(DomainDef& def);

// "<n>" with libvirt's unit suffixes (b, bytes, KB, k, KiB, MB, M, MiB, ...,
// case-insensitive; empty = KiB) -> KiB, rounded up. Throws XmlError naming
// `what` on a bad value or unit.
uint64_t parseMemoryKiB(std::string_view value, std::string_view unit, std::string_view what);

} // namespace virtbus::xml
