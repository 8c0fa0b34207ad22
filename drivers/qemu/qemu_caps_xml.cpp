// libvirt's <capabilities> and <domainCapabilities> documents, built from
// the probed EmulatorCaps and the host. Every claim is something the probed
// binary has (a device type it lists, a CPU model it reports), because
// clients such as virt-manager offer exactly what these documents say.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "error.h"
#include "qemu/qemu_caps.h"
#include "qemu/qemu_caps_host.h"
#include "xml/xml_util.h"

namespace virtbus::qemu {

namespace fs = std::filesystem;
using xml::XmlWriter;

namespace {

// libvirt's arch names (basictypes.rng) that QEMU has system emulators for.
const std::set<std::string>& knownArchs()
{
    static const std::set<std::string> archs = {"aarch64", "alpha", "armv6l", "armv7l", "i686", "m68k", "microblaze",
        "microblazeel", "mips", "mipsel", "mips64", "mips64el", "ppc", "ppc64", "ppc64le", "riscv32", "riscv64",
        "s390x", "sh4", "sh4eb", "sparc", "sparc64", "x86_64", "xtensa", "xtensaeb"};
    return archs;
}

unsigned wordsize(const std::string& arch)
{
    static const std::set<std::string> wide
        = {"aarch64", "alpha", "mips64", "mips64el", "ppc64", "ppc64le", "riscv64", "s390x", "sparc64", "x86_64"};
    return wide.count(arch) ? 64 : 32;
}

bool isX86(const std::string& arch) { return arch == "x86_64" || arch == "i686"; }

std::string archFromBinaryName(const std::string& binary)
{
    std::string name = fs::path(binary).filename().string();
    const std::string prefix = "qemu-system-";
    if (name.rfind(prefix, 0) != 0)
        return {};
    std::string a = name.substr(prefix.size());
    if (a == "i386")
        return "i686";
    if (a == "arm")
        return "armv7l";
    return a;
}

void writeEnum(XmlWriter& w, const char* name, const std::vector<std::string>& values)
{
    w.open("enum").attr("name", name);
    for (const auto& v : values)
        w.leaf("value", v);
    w.close();
}

// query-cpu-definitions does not say whose design a model copies; the
// schema wants it, so it comes from the model family's name.
std::string cpuVendorOf(const std::string& model)
{
    static const char* intel[] = {"Conroe", "Penryn", "Nehalem", "Westmere", "SandyBridge", "IvyBridge", "Haswell",
        "Broadwell", "Skylake", "Cascadelake", "Cooperlake", "Icelake", "SapphireRapids", "GraniteRapids",
        "SierraForest", "Snowridge", "Denverton", "KnightsMill", "core2duo", "coreduo", "n270"};
    static const char* amd[] = {"Opteron_", "EPYC", "phenom", "athlon"};
    for (const char* p : intel)
        if (model.rfind(p, 0) == 0)
            return "Intel";
    for (const char* p : amd)
        if (model.rfind(p, 0) == 0)
            return "AMD";
    if (model.rfind("Dhyana", 0) == 0)
        return "Hygon";
    return "unknown";
}

// KVM caps vCPUs below what the machine type allows.
unsigned kvmMaxVcpus(unsigned machineMax)
{
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return machineMax;
    int n = ::ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0)
        n = ::ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    ::close(fd);
    return n > 0 ? std::min(machineMax, static_cast<unsigned>(n)) : machineMax;
}

void writeHost(XmlWriter& w)
{
    std::vector<host::Cpu> cpus = host::cpus();
    host::Topology topo = host::topology(cpus);
    w.open("host");
    w.leafIf("uuid", host::uuid());
    w.open("cpu");
    w.leaf("arch", host::arch());
    w.leafIf("vendor", host::cpuVendor());
    w.open("topology")
        .attr("sockets", std::to_string(topo.sockets))
        .attr("dies", std::to_string(topo.dies))
        .attr("cores", std::to_string(topo.cores))
        .attr("threads", std::to_string(topo.threads))
        .close();
    for (uint64_t size : host::pageSizesKiB())
        w.open("pages").attr("unit", "KiB").attr("size", std::to_string(size)).close();
    w.close();
    w.open("power_management").close();
    w.open("iommu").attr("support", fs::exists("/sys/kernel/iommu_groups/0") ? "yes" : "no").close();
    w.open("migration_features");
    w.open("live").close();
    w.open("uri_transports").leaf("uri_transport", "tcp").leaf("uri_transport", "rdma").close();
    w.close();

    std::vector<host::Cell> cells = host::cells(cpus);
    w.open("topology");
    w.open("cells").attr("num", std::to_string(cells.size()));
    for (const auto& cell : cells) {
        w.open("cell").attr("id", std::to_string(cell.id));
        w.open("memory").attr("unit", "KiB").text(std::to_string(cell.memoryKiB)).close();
        for (const auto& [size, count] : cell.pages)
            w.open("pages").attr("unit", "KiB").attr("size", std::to_string(size)).text(std::to_string(count)).close();
        if (!cell.distances.empty()) {
            w.open("distances");
            for (const auto& [node, value] : cell.distances)
                w.open("sibling").attr("id", std::to_string(node)).attr("value", std::to_string(value)).close();
            w.close();
        }
        w.open("cpus").attr("num", std::to_string(cell.cpus.size()));
        for (const auto& c : cell.cpus)
            w.open("cpu")
                .attr("id", std::to_string(c.id))
                .attr("socket_id", std::to_string(c.socket))
                .attr("die_id", std::to_string(c.die))
                .attr("core_id", std::to_string(c.core))
                .attr("siblings", c.siblings)
                .close();
        w.close();
        w.close();
    }
    w.close();
    w.close();
    w.open("secmodel").leaf("model", "none").leaf("doi", "0").close();
    w.close();
}

void writeGuest(XmlWriter& w, const EmulatorCaps& caps, const std::string& arch)
{
    w.open("guest");
    w.leaf("os_type", "hvm");
    w.open("arch").attr("name", arch);
    w.leaf("wordsize", std::to_string(wordsize(arch)));
    w.leaf("emulator", caps.path);
    for (const auto& m : caps.machines) {
        w.open("machine").attr("maxCpus", std::to_string(m.maxCpus));
        if (m.deprecated)
            w.attr("deprecated", "yes");
        w.text(m.name).close();
        if (!m.alias.empty()) {
            w.open("machine").attr("canonical", m.name).attr("maxCpus", std::to_string(m.maxCpus));
            if (m.deprecated)
                w.attr("deprecated", "yes");
            w.text(m.alias).close();
        }
    }
    w.open("domain").attr("type", "qemu").close();
    if (caps.kvm)
        w.open("domain").attr("type", "kvm").close();
    w.close();
    w.open("features");
    if (arch == "i686")
        w.open("pae").close().open("nonpae").close();
    if (isX86(arch) || arch == "aarch64")
        w.open("acpi").attr("default", "on").attr("toggle", "yes").close();
    if (isX86(arch))
        w.open("apic").attr("default", "on").attr("toggle", "no").close();
    w.open("cpuselection").close();
    w.open("deviceboot").close();
    w.open("disksnapshot").attr("default", "on").attr("toggle", "no").close();
    w.close();
    w.close();
}

} // namespace

std::string CapsCache::capabilitiesXML()
{
    XmlWriter w;
    w.open("capabilities");
    writeHost(w);
    for (const auto& binary : findEmulators()) {
        std::string arch = archFromBinaryName(binary);
        // One guest per arch, served by the binary libvirt would pick;
        // variants such as qemu-system-x86_64-microvm are left out.
        if (!knownArchs().count(arch) || emulatorForArch(arch) != binary)
            continue;
        try {
            writeGuest(w, *get(binary), arch);
        } catch (const VirtError&) {
            // A broken emulator hides its guest; the rest of the host still
            // answers, as in libvirt.
        }
    }
    w.close();
    return w.take();
}

namespace {

std::vector<std::string> ovmfCodeFiles()
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/share/OVMF", ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind("OVMF_CODE", 0) == 0 && e.path().extension() == ".fd")
            out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool isSecureBootFirmware(const std::string& path)
{
    std::string name = fs::path(path).filename().string();
    return name.find("secboot") != std::string::npos || name.find(".ms.") != std::string::npos
        || name.find("snakeoil") != std::string::npos;
}

void writeOs(XmlWriter& w, const EmulatorCaps& caps, const MachineType& machine)
{
    // Secure boot needs SMM, which only q35 has.
    bool q35 = machine.name.find("q35") != std::string::npos;
    std::vector<std::string> loaders;
    bool secure = false;
    if (isX86(caps.arch)) {
        for (const auto& f : ovmfCodeFiles()) {
            if (isSecureBootFirmware(f) && !q35)
                continue;
            secure = secure || isSecureBootFirmware(f);
            loaders.push_back(f);
        }
    }
    w.open("os").attr("supported", "yes");
    std::vector<std::string> firmware = {"bios"};
    if (!loaders.empty())
        firmware.push_back("efi");
    writeEnum(w, "firmware", firmware);
    w.open("loader").attr("supported", "yes");
    for (const auto& l : loaders)
        w.leaf("value", l);
    writeEnum(w, "type", {"rom", "pflash"});
    writeEnum(w, "readonly", {"yes", "no"});
    writeEnum(w, "secure", secure ? std::vector<std::string> {"yes", "no"} : std::vector<std::string> {"no"});
    w.close();
    w.close();
}

void writeCpu(XmlWriter& w, const EmulatorCaps& caps, bool kvm)
{
    w.open("cpu");
    w.open("mode").attr("name", "host-passthrough").attr("supported", kvm ? "yes" : "no");
    if (kvm)
        writeEnum(w, "hostPassthroughMigratable", {"on", "off"});
    w.close();
    bool hasMax
        = std::any_of(caps.cpuModels.begin(), caps.cpuModels.end(), [](const CpuModel& c) { return c.name == "max"; });
    w.open("mode").attr("name", "maximum").attr("supported", hasMax ? "yes" : "no");
    if (hasMax)
        writeEnum(w, "maximumMigratable", {"on", "off"});
    w.close();
    // host-model means a named model plus features computed from the host
    // CPU, which virtbus does not compute.
    w.open("mode").attr("name", "host-model").attr("supported", "no").close();
    w.open("mode").attr("name", "custom").attr("supported", "yes");
    for (const auto& c : caps.cpuModels) {
        if (c.name == "host" || c.name == "max" || c.name == "base")
            continue;
        std::string usable = "unknown";
        if (kvm && c.kvmUsable)
            usable = *c.kvmUsable ? "yes" : "no";
        else if (!kvm && c.usableKnown)
            usable = c.usable ? "yes" : "no";
        w.open("model").attr("usable", usable);
        if (c.deprecated)
            w.attr("deprecated", "yes");
        w.attr("vendor", cpuVendorOf(c.name)).text(c.name).close();
    }
    w.close();
    w.close();
}

void writeDevices(XmlWriter& w, const EmulatorCaps& caps)
{
    using Pairs = std::initializer_list<std::pair<const char*, const char*>>;
    auto has = [&](const char* t) { return caps.hasDevice(t); };
    auto supported = [&](const char* name, bool yes) { w.open(name).attr("supported", yes ? "yes" : "no"); };
    auto virtioModels = [&](const std::string& base) {
        std::vector<std::string> m;
        if (caps.hasDevice(base))
            m.push_back("virtio");
        if (caps.hasDevice(base + "-transitional"))
            m.push_back("virtio-transitional");
        if (caps.hasDevice(base + "-non-transitional"))
            m.push_back("virtio-non-transitional");
        return m;
    };

    w.open("devices");
    std::vector<std::string> diskDevices = {"disk", "cdrom"}, buses;
    if (has("isa-fdc"))
        diskDevices.push_back("floppy");
    if (has("scsi-block"))
        diskDevices.push_back("lun");
    for (auto [bus, dev] : Pairs {{"ide", "ide-hd"}, {"fdc", "isa-fdc"}, {"scsi", "scsi-hd"},
             {"virtio", "virtio-blk-pci"}, {"usb", "usb-storage"}, {"sata", "ich9-ahci"}})
        if (has(dev))
            buses.push_back(bus);
    supported("disk", true);
    writeEnum(w, "diskDevice", diskDevices);
    writeEnum(w, "bus", buses);
    writeEnum(w, "model", virtioModels("virtio-blk-pci"));
    w.close();

    supported("graphics", true);
    writeEnum(w, "type", {"vnc"});
    w.close();

    std::vector<std::string> video;
    for (auto [model, dev] : Pairs {{"vga", "VGA"}, {"cirrus", "cirrus-vga"}, {"qxl", "qxl-vga"},
             {"virtio", has("virtio-vga") ? "virtio-vga" : "virtio-gpu-pci"}, {"none", ""}, {"bochs", "bochs-display"}})
        if (!*dev || has(dev))
            video.push_back(model);
    supported("video", true);
    writeEnum(w, "modelType", video);
    w.close();

    std::vector<std::string> subsys;
    if (has("usb-host"))
        subsys.push_back("usb");
    if (has("vfio-pci"))
        subsys.push_back("pci");
    supported("hostdev", !subsys.empty());
    if (!subsys.empty()) {
        writeEnum(w, "mode", {"subsystem"});
        writeEnum(w, "startupPolicy", {"default", "mandatory", "requisite", "optional"});
        writeEnum(w, "subsysType", subsys);
        writeEnum(w, "capsType", {});
        writeEnum(w, "pciBackend",
            has("vfio-pci") ? std::vector<std::string> {"default", "vfio"} : std::vector<std::string> {"default"});
    }
    w.close();

    std::vector<std::string> rng = virtioModels("virtio-rng-pci");
    supported("rng", !rng.empty());
    if (!rng.empty()) {
        writeEnum(w, "model", rng);
        writeEnum(w, "backendModel", {"random", "egd", "builtin"});
    }
    w.close();

    std::vector<std::string> fsDrivers;
    if (has("virtio-9p-pci"))
        fsDrivers.push_back("path");
    if (has("vhost-user-fs-pci"))
        fsDrivers.push_back("virtiofs");
    supported("filesystem", !fsDrivers.empty());
    if (!fsDrivers.empty())
        writeEnum(w, "driverType", fsDrivers);
    w.close();

    supported("tpm", false);
    w.close();

    supported("redirdev", has("usb-redir"));
    if (has("usb-redir"))
        writeEnum(w, "bus", {"usb"});
    w.close();

    supported("channel", has("virtserialport"));
    if (has("virtserialport"))
        writeEnum(w, "type", {"pty", "unix"});
    w.close();
    w.close();
}

void writeFeatures(XmlWriter& w, const EmulatorCaps& caps)
{
    w.open("features");
    w.open("gic").attr("supported", "no").close();
    w.open("vmcoreinfo").attr("supported", caps.hasDevice("vmcoreinfo") ? "yes" : "no").close();
    w.open("genid").attr("supported", caps.hasDevice("vmgenid") ? "yes" : "no").close();
    w.open("s390-pv").attr("supported", "no").close();
    w.open("sev").attr("supported", "no").close();
    w.open("sgx").attr("supported", "no").close();
    w.close();
}

} // namespace

std::string CapsCache::domainCapabilitiesXML(
    const std::string& emulator, const std::string& arch, const std::string& machine, const std::string& virttype)
{
    if (!arch.empty() && !knownArchs().count(arch))
        throw err::invalidArg("unknown architecture: " + arch);
    if (!virttype.empty() && virttype != "qemu" && virttype != "kvm")
        throw err::invalidArg("unknown virttype: " + virttype);

    std::string binary = emulator;
    if (binary.empty()) {
        std::string a = arch.empty() ? host::arch() : arch;
        binary = emulatorForArch(a);
        if (binary.empty())
            throw err::invalidArg("unable to find any emulator to serve '" + a + "' architecture");
    }
    auto caps = get(binary);
    std::string guestArch = caps->arch.empty() ? archFromBinaryName(binary) : caps->arch;
    if (!arch.empty() && arch != guestArch)
        throw err::invalidArg(
            "architecture from emulator '" + guestArch + "' doesn't match given architecture '" + arch + "'");

    std::string type = virttype.empty() ? (caps->kvm ? "kvm" : "qemu") : virttype;
    if (type == "kvm" && !caps->kvm)
        throw err::invalidArg("KVM is not supported by '" + binary + "' on this host");

    const MachineType* m = machine.empty() ? caps->defaultMachine() : caps->machine(machine);
    if (!m) {
        if (machine.empty())
            throw err::invalidArg("emulator '" + binary + "' has no machine types");
        throw err::invalidArg("the machine '" + machine + "' is not supported by emulator '" + binary + "'");
    }
    bool kvm = type == "kvm";

    XmlWriter w;
    w.open("domainCapabilities");
    w.leaf("path", binary);
    w.leaf("domain", type);
    w.leaf("machine", m->name);
    w.leaf("arch", guestArch);
    w.open("vcpu").attr("max", std::to_string(kvm ? kvmMaxVcpus(m->maxCpus) : m->maxCpus)).close();
    w.open("iothreads").attr("supported", "yes").close();
    writeOs(w, *caps, *m);
    writeCpu(w, *caps, kvm);
    w.open("memoryBacking").attr("supported", "yes");
    writeEnum(w, "sourceType", {"file", "anonymous", "memfd"});
    w.close();
    writeDevices(w, *caps);
    writeFeatures(w, *caps);
    w.close();
    return w.take();
}

} // namespace virtbus::qemu
