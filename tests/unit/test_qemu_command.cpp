// QEMU command line: golden argv per domain document (data/qemu-argv/
// NAME.xml -> NAME.args, one argv element per line; UPDATE_GOLDEN=1
// rewrites them), address assignment, the driver's refusals
// (data/qemu-argv/invalid), and, when QEMU is installed, proof that every
// golden argv is one QEMU 7.2 starts from.
#include "qemu/qemu_caps.h"
#include "qemu/qemu_command.h"
#include "xml/domain_xml.h"
#include "xml_corpus.h"
#include "qemu_acceptance.h"
#include "xml_rejections.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>


using namespace virtbus;
using namespace virtbus::qemu;
using namespace virtbus::xml;
using namespace virtbus::xml::testing_support;
using namespace virtbus::qemu::testing_support;
namespace fs = std::filesystem;

namespace {

// What the driver would hand over: fixed paths and tap fds, so the argv
// only depends on the document.
CommandContext goldenContext(const DomainDef& def)
{
    CommandContext ctx;
    ctx.emulator = kEmulator;
    ctx.qmpSocket = "/var/lib/virtbus/qemu/domain-" + def.uuid + "/monitor.sock";
    ctx.pidFile = "/run/virtbus/qemu/" + def.uuid + ".pid";
    for (size_t i = 0; i < def.devices.interfaces.size(); ++i)
        if (def.devices.interfaces[i].type != "user")
            ctx.tapFds[i] = 40 + static_cast<int>(i);
    return ctx;
}

DomainDef prepared(const std::string& xml, const EmulatorCaps* caps = nullptr)
{
    DomainDef def = parseDomainXML(xml);
    validateDefinition(def, caps);
    assignAddresses(def, caps);
    return def;
}

std::vector<std::string> argvOf(const std::string& xml)
{
    DomainDef def = prepared(xml);
    return buildCommandLine(def, goldenContext(def));
}

std::string joinLines(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& a : argv)
        out += a + "\n";
    return out;
}

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

// A line diff (longest common subsequence), enough to read a golden
// mismatch: "-" golden only, "+" generated only.
std::string lineDiff(const std::string& want, const std::string& got)
{
    auto a = splitLines(want), b = splitLines(got);
    std::vector<std::vector<unsigned>> lcs(a.size() + 1, std::vector<unsigned>(b.size() + 1));
    for (size_t i = a.size(); i-- > 0;)
        for (size_t j = b.size(); j-- > 0;)
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::string out;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) {
            out += "  " + a[i++] + "\n";
            ++j;
        } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
            out += "+ " + b[j++] + "\n";
        } else {
            out += "- " + a[i++] + "\n";
        }
    }
    return out;
}

bool contains(const std::vector<std::string>& argv, const std::string& v)
{
    return std::find(argv.begin(), argv.end(), v) != argv.end();
}

std::string domainXml(const std::string& devices, const std::string& machine = "pc",
                      const std::string& extra = "")
{
    return "<domain type='qemu'><name>t</name><uuid>7f4e6c84-8b5c-4e8b-9d8a-3c2f1e0d9b7a</uuid>"
           "<memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='" +
           machine + "'>hvm</type></os>" + extra + "<devices>" + devices + "</devices></domain>";
}

const std::string kVirtioDisk = "<disk type='file' device='disk'><source file='/var/lib/a.img'/>"
                                "<target dev='vda' bus='virtio'/></disk>";

} // namespace

// ---- golden argv ----------------------------------------------------------

class ArgvGolden : public testing::TestWithParam<std::string> {};

TEST_P(ArgvGolden, MatchesGolden)
{
    const std::string name = GetParam();
    const fs::path golden = dataDir() / "qemu-argv" / (name + ".args");
    std::string got = joinLines(argvOf(corpusInput("qemu-argv", name)));
    const char* update = std::getenv("UPDATE_GOLDEN");
    if (update && std::string(update) == "1") {
        std::ofstream(golden, std::ios::binary) << got;
        return;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with UPDATE_GOLDEN=1";
    std::string want = readFile(golden);
    EXPECT_TRUE(got == want) << name << ".args differs (- golden, + generated):\n" << lineDiff(want, got);
}

TEST_P(ArgvGolden, AddressAssignmentIsDeterministicAndIdempotent)
{
    const std::string xml = corpusInput("qemu-argv", GetParam());
    DomainDef a = prepared(xml), b = prepared(xml);
    EXPECT_EQ(formatDomainXML(a), formatDomainXML(b));
    DomainDef again = a;
    assignAddresses(again, nullptr);
    EXPECT_EQ(formatDomainXML(again), formatDomainXML(a));
    EXPECT_EQ(buildCommandLine(again, goldenContext(again)), buildCommandLine(a, goldenContext(a)));
    if (haveSchema("domain.rng"))
        expectSchemaValid(formatDomainXML(a), "domain.rng");
}

INSTANTIATE_TEST_SUITE_P(QemuArgv, ArgvGolden, testing::ValuesIn(corpus("qemu-argv")), paramName);

TEST(ArgvCorpus, CoversAtLeast25Documents)
{
    EXPECT_GE(corpus("qemu-argv").size(), 25u);
    EXPECT_GE(rejectionCorpus("qemu-argv").size(), 15u);
}

// ---- argv details the goldens only show -----------------------------------

TEST(Argv, QuotesCommasAndJson)
{
    auto argv = argvOf(domainXml("<disk type='file' device='disk'><source file='/img/a,b &quot;q\\.img'/>"
                                 "<target dev='vda' bus='virtio'/></disk>"
                                 "<serial type='file'><source path='/log/x,y.log'/></serial>"));
    EXPECT_TRUE(contains(argv, "{\"driver\":\"file\",\"filename\":\"/img/a,b \\\"q\\\\.img\","
                               "\"node-name\":\"libvirt-1-storage\",\"auto-read-only\":true,\"discard\":\"unmap\"}"))
        << joinLines(argv);
    EXPECT_TRUE(contains(argv, "file,id=charserial0,path=/log/x,,y.log")) << joinLines(argv);

    std::string named = domainXml("");
    named.replace(named.find("<name>t</name>"), 14, "<name>a,b=c</name>");
    EXPECT_TRUE(contains(argvOf(named), "guest=a,,b=c,debug-threads=on"));
}

TEST(Argv, ChardevLogFile)
{
    auto argv = argvOf(domainXml("<serial type='pty'><log file='/log/s,1.log' append='on'/></serial>"));
    EXPECT_TRUE(contains(argv, "pty,id=charserial0,logfile=/log/s,,1.log,logappend=on")) << joinLines(argv);
    auto off = argvOf(domainXml("<serial type='file'><source path='/log/x'/><log file='/log/y'/></serial>"));
    EXPECT_TRUE(contains(off, "file,id=charserial0,path=/log/x,logfile=/log/y,logappend=off")) << joinLines(off);
}

TEST(Argv, NeedsWhatTheDriverPrepares)
{
    DomainDef def = prepared(domainXml("<interface type='bridge'><source bridge='br0'/></interface>"));
    CommandContext ctx = goldenContext(def);
    ctx.tapFds.clear();
    expectError([&] { buildCommandLine(def, ctx); }, ErrCode::InternalError, "no tap device was prepared");

    DomainDef vnc = prepared(domainXml("<graphics type='vnc' autoport='yes'/>"));
    expectError([&] { buildCommandLine(vnc, goldenContext(vnc)); }, ErrCode::InternalError,
                "VNC port of domain 't' was not allocated");
}

TEST(Argv, BootDevicesBecomeBootIndexes)
{
    auto argv = argvOf(domainXml(kVirtioDisk + "<interface type='user'/>", "pc",
                                 "")); // no <boot dev>: libvirt's default is hd
    EXPECT_TRUE(contains(argv, "virtio-blk-pci,bus=pci.0,addr=0x4,drive=libvirt-1-format,id=virtio-disk0,bootindex=1"))
        << joinLines(argv);
}

// ---- address assignment ---------------------------------------------------

namespace {

const ControllerDef& controller(const DomainDef& def, const std::string& type, unsigned index)
{
    for (const auto& c : def.devices.controllers)
        if (c.type == type && c.index == index)
            return c;
    throw std::runtime_error("no controller " + type);
}

// Parsed addresses keep the newline the document had after them.
std::string addr(const DeviceInfo& info)
{
    std::string a = info.address;
    while (!a.empty() && std::isspace(static_cast<unsigned char>(a.back())))
        a.pop_back();
    return a;
}

std::string pci(unsigned bus, unsigned slot, unsigned fn = 0, bool multi = false)
{
    char buf[128];
    std::snprintf(buf, sizeof buf, "<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'%s/>",
                  bus, slot, fn, multi ? " multifunction='on'" : "");
    return buf;
}

} // namespace

TEST(AssignAddresses, I440fxLayoutFollowsLibvirt)
{
    DomainDef def = prepared(domainXml(kVirtioDisk + "<interface type='user'><model type='virtio'/></interface>"
                                                     "<graphics type='vnc' port='5900'/>"));
    EXPECT_EQ(def.os.machine, "pc-i440fx-7.2");
    EXPECT_EQ(controller(def, "pci", 0).model, "pci-root");
    EXPECT_EQ(addr(controller(def, "pci", 0).info), "");
    EXPECT_EQ(addr(controller(def, "ide", 0).info), pci(0, 1, 1));
    EXPECT_EQ(controller(def, "usb", 0).model, "piix3-uhci");
    EXPECT_EQ(addr(controller(def, "usb", 0).info), pci(0, 1, 2));
    ASSERT_EQ(def.devices.videos.size(), 1u); // implicit, for the graphics
    EXPECT_EQ(def.devices.videos[0].model, "cirrus");
    EXPECT_EQ(addr(def.devices.videos[0].info), pci(0, 2));
    EXPECT_EQ(addr(def.devices.interfaces[0].info), pci(0, 3)); // nets before disks
    EXPECT_EQ(addr(def.devices.disks[0].info), pci(0, 4));
    ASSERT_TRUE(def.devices.memballoon);
    EXPECT_EQ(def.devices.memballoon->info.address, pci(0, 5));
    EXPECT_EQ(def.devices.disks[0].info.alias, "virtio-disk0");
    EXPECT_EQ(def.devices.interfaces[0].info.alias, "net0");
    EXPECT_EQ(def.devices.memballoon->info.alias, "balloon0");
    ASSERT_EQ(def.devices.inputs.size(), 2u); // ps2 mouse and keyboard
    EXPECT_EQ(def.devices.inputs[0].bus, "ps2");
}

TEST(AssignAddresses, Q35PutsEndpointsOnRootPorts)
{
    DomainDef def = prepared(domainXml(kVirtioDisk + "<interface type='user'><model type='e1000'/></interface>",
                                       "q35"));
    EXPECT_EQ(def.os.machine, "pc-q35-7.2");
    EXPECT_EQ(controller(def, "pci", 0).model, "pcie-root");
    EXPECT_EQ(addr(controller(def, "sata", 0).info), pci(0, 0x1f, 2));
    EXPECT_EQ(controller(def, "sata", 0).info.alias, "ide");
    // qemu-xhci, the disk and the balloon are PCIe; e1000 is not.
    const ControllerDef& port1 = controller(def, "pci", 1);
    EXPECT_EQ(port1.model, "pcie-root-port");
    EXPECT_EQ(addr(port1.info), pci(0, 1, 0, true));
    EXPECT_EQ(port1.info.alias, "pci.1");
    EXPECT_EQ(addr(controller(def, "pci", 3).info), pci(0, 1, 2));
    EXPECT_THROW(controller(def, "pci", 4), std::runtime_error);
    EXPECT_EQ(addr(controller(def, "usb", 0).info), pci(1, 0));
    EXPECT_EQ(addr(def.devices.disks[0].info), pci(2, 0));
    EXPECT_EQ(def.devices.memballoon->info.address, pci(3, 0));
    EXPECT_EQ(addr(def.devices.interfaces[0].info), pci(0, 2));
}

TEST(AssignAddresses, KeepsUserAddressesAndSkipsThem)
{
    std::string devices = "<interface type='user'><alias name='ua-first'/>" + pci(0, 3) +
                          "</interface><interface type='user'/>"
                          "<disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>" +
                          pci(0, 5) + "</disk>";
    DomainDef def = prepared(domainXml(devices));
    EXPECT_EQ(addr(def.devices.interfaces[0].info), pci(0, 3));
    EXPECT_EQ(def.devices.interfaces[0].info.alias, "ua-first");
    EXPECT_EQ(addr(def.devices.interfaces[1].info), pci(0, 4));
    EXPECT_EQ(def.devices.interfaces[1].info.alias, "net1");
    EXPECT_EQ(addr(def.devices.disks[0].info), pci(0, 5));
    EXPECT_EQ(def.devices.memballoon->info.address, pci(0, 6));
}

TEST(AssignAddresses, CollisionsAreRefusedOrAvoided)
{
    std::string twice = "<interface type='user'>" + pci(0, 5) +
                        "</interface><disk type='file' device='disk'><source file='/a.img'/>"
                        "<target dev='vda' bus='virtio'/>" +
                        pci(0, 5) + "</disk>";
    DomainDef def = parseDomainXML(domainXml(twice));
    expectError([&] { assignAddresses(def, nullptr); }, ErrCode::XmlError,
                "Attempted double use of PCI Address 0000:00:05.0");
    expectError([&] { validateDefinition(def, nullptr); }, ErrCode::XmlError,
                "Attempted double use of PCI Address 0000:00:05.0");

    // Slot 2 is the video's on i440fx; a device pinned there pushes it on.
    DomainDef pinned = prepared(domainXml("<interface type='user'>" + pci(0, 2) +
                                          "</interface><video><model type='vga'/></video>"));
    EXPECT_EQ(addr(pinned.devices.interfaces[0].info), pci(0, 2));
    EXPECT_EQ(addr(pinned.devices.videos[0].info), pci(0, 4)); // after the balloon at 3

    DomainDef chipset = parseDomainXML(domainXml("<interface type='user'>" + pci(0, 1) + "</interface>"));
    expectError([&] { assignAddresses(chipset, nullptr); }, ErrCode::XmlError,
                "Attempted double use of PCI Address 0000:00:01.0");
}

TEST(AssignAddresses, DriveAddressesAndAliases)
{
    std::string devices = "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
                          "<disk type='file' device='disk'><source file='/s.img'/><target dev='sdb' bus='sata'/></disk>"
                          "<disk type='file' device='disk'><source file='/c.img'/><target dev='sdc'/></disk>";
    DomainDef def = prepared(domainXml(devices));
    EXPECT_EQ(addr(def.devices.disks[0].info), "<address type='drive' controller='0' bus='1' target='0' unit='0'/>");
    EXPECT_EQ(def.devices.disks[0].info.alias, "ide0-1-0");
    EXPECT_EQ(def.devices.disks[1].info.alias, "sata0-0-1");
    EXPECT_EQ(def.devices.disks[2].targetBus, "scsi"); // libvirt's default for sdX
    EXPECT_EQ(def.devices.disks[2].info.alias, "scsi0-0-2"); // lsilogic: no target in the alias
    EXPECT_EQ(controller(def, "scsi", 0).model, "lsilogic");
    EXPECT_EQ(controller(def, "sata", 0).info.alias, "sata0"); // an ahci on i440fx
    EXPECT_FALSE(controller(def, "sata", 0).info.address.empty());
}

TEST(AssignAddresses, UsbPortsAndVirtioSerialPorts)
{
    DomainDef def = prepared(domainXml("<input type='tablet' bus='usb'/><input type='mouse' bus='usb'/>"
                                       "<channel type='pty'><target type='virtio' name='a'/></channel>"
                                       "<console type='pty'><target type='virtio'/></console>"));
    EXPECT_EQ(addr(def.devices.inputs[0].info), "<address type='usb' bus='0' port='1'/>");
    EXPECT_EQ(addr(def.devices.inputs[1].info), "<address type='usb' bus='0' port='2'/>");
    EXPECT_EQ(addr(def.devices.consoles[0].info),
              "<address type='virtio-serial' controller='0' bus='0' port='0'/>");
    EXPECT_EQ(addr(def.devices.channels[0].info),
              "<address type='virtio-serial' controller='0' bus='0' port='1'/>");
    EXPECT_EQ(controller(def, "virtio-serial", 0).info.alias, "virtio-serial0");

    DomainDef full = parseDomainXML(domainXml("<input type='tablet' bus='usb'/><input type='mouse' bus='usb'/>"
                                              "<input type='keyboard' bus='usb'/>"));
    expectError([&] { assignAddresses(full, nullptr); }, ErrCode::ConfigUnsupported, "No free USB ports");
}

TEST(AssignAddresses, SerialConsoleIsSerialZero)
{
    DomainDef def = prepared(domainXml("<console type='pty'><target type='serial'/></console>"));
    ASSERT_EQ(def.devices.serials.size(), 1u);
    EXPECT_EQ(def.devices.serials[0].targetType, "isa-serial");
    EXPECT_EQ(def.devices.serials[0].info.alias, "serial0");
    EXPECT_EQ(def.devices.consoles[0].info.alias, "serial0");
    auto argv = buildCommandLine(def, goldenContext(def));
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "pty,id=charserial0"), 1);
}

TEST(Argv, GuestAgentSocketIsNamedLikeLibvirtDoes)
{
    const std::string agent = "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
    EXPECT_NO_THROW(validateDefinition(parseDomainXML(domainXml(agent)), nullptr));
    DomainDef def = prepared(domainXml(agent));
    assignChannelPaths(def, "/run/virtbus/channels");
    ASSERT_EQ(def.devices.channels[0].sources.size(), 1u);
    EXPECT_EQ(def.devices.channels[0].sources[0].path, "/run/virtbus/channels/t.org.qemu.guest_agent.0");
    EXPECT_EQ(def.devices.channels[0].sources[0].mode, "bind");
    auto argv = buildCommandLine(def, goldenContext(def));
    EXPECT_TRUE(contains(argv, "socket,id=charchannel0,path=/run/virtbus/channels/t.org.qemu.guest_agent.0,"
                               "server=on,wait=off"))
        << joinLines(argv);
}

TEST(Argv, Q35BuiltinWatchdog)
{
    // libvirt 9.1's itco: part of ICH9, so no -device and no address.
    DomainDef def = prepared(domainXml("<watchdog model='itco' action='poweroff'/>", "q35"));
    EXPECT_EQ(def.devices.watchdogs[0].info.address, "");
    auto argv = buildCommandLine(def, goldenContext(def));
    auto it = std::find(argv.begin(), argv.end(), "ICH9-LPC.noreboot=off");
    ASSERT_NE(it, argv.end());
    EXPECT_EQ(*(it - 1), "-global");
    EXPECT_TRUE(contains(argv, "-watchdog-action") && contains(argv, "poweroff"));
}

TEST(AssignAddresses, UsesTheCapsMachineTable)
{
    EmulatorCaps caps;
    caps.path = kEmulator;
    caps.arch = "x86_64";
    caps.machines = {{"pc-i440fx-6.2", "pc", true, 128, false}, {"pc-q35-6.2", "q35", false, 64, false}};
    DomainDef def = prepared(domainXml("", "q35"), &caps);
    EXPECT_EQ(def.os.machine, "pc-q35-6.2");
    DomainDef byDefault = parseDomainXML(domainXml("", ""));
    assignAddresses(byDefault, &caps);
    EXPECT_EQ(byDefault.os.machine, "pc-i440fx-6.2");
}

// ---- validation -----------------------------------------------------------

class InvalidDocument : public testing::TestWithParam<std::string> {};

TEST_P(InvalidDocument, IsRefusedWithLibvirtsWords)
{
    expectRejected("qemu-argv", GetParam(), [](const std::string& doc) {
        DomainDef def = parseDomainXML(doc);
        validateDefinition(def, nullptr);
    });
}

INSTANTIATE_TEST_SUITE_P(QemuArgv, InvalidDocument, testing::ValuesIn(rejectionCorpus("qemu-argv")), paramName);

TEST(Validate, WhatTheParserCannotExpress)
{
    DomainDef def = parseDomainXML(domainXml(kVirtioDisk));
    DomainDef bigger = def;
    bigger.currentMemory = bigger.memory + 1;
    expectError([&] { validateDefinition(bigger, nullptr); }, ErrCode::InvalidArg,
                "cannot set memory higher than max memory");
    DomainDef noMemory = def;
    noMemory.memory = noMemory.currentMemory = 0;
    expectError([&] { validateDefinition(noMemory, nullptr); }, ErrCode::XmlError, "Memory size must be specified");
    DomainDef noCpu = def;
    noCpu.vcpu.max = noCpu.vcpu.current = 0;
    expectError([&] { validateDefinition(noCpu, nullptr); }, ErrCode::ConfigUnsupported,
                "Domain requires at least 1 vCPU");
    DomainDef twice = def;
    twice.devices.disks.push_back(twice.devices.disks[0]);
    expectError([&] { validateDefinition(twice, nullptr); }, ErrCode::XmlError,
                "target 'vda' duplicated for disk sources '/var/lib/a.img' and '/var/lib/a.img'");
}

TEST(Validate, AgainstTheEmulatorsCaps)
{
    EmulatorCaps caps;
    caps.path = "/opt/qemu/bin/qemu-system-x86_64";
    caps.arch = "x86_64";
    caps.machines = {{"pc-i440fx-7.2", "pc", true, 4, false}};
    caps.cpuModels = {{"qemu64", true, false}, {"Haswell", true, false}};
    caps.deviceTypes = {"cirrus-vga", "piix3-usb-uhci", "rtl8139", "virtio-balloon-pci", "virtio-blk-pci"};
    caps.kvm = false;
    auto refuse = [&](const std::string& xml, ErrCode code, const std::string& msg) {
        DomainDef def = parseDomainXML(xml);
        expectError([&] { validateDefinition(def, &caps); }, code, msg);
    };
    EXPECT_NO_THROW(validateDefinition(parseDomainXML(domainXml(kVirtioDisk)), &caps));
    refuse(domainXml("", "q35"), ErrCode::ConfigUnsupported,
           "Emulator '/opt/qemu/bin/qemu-system-x86_64' does not support machine type 'q35'");
    std::string kvm = domainXml("");
    kvm.replace(kvm.find("type='qemu'"), 11, "type='kvm'");
    refuse(kvm, ErrCode::ConfigUnsupported,
           "Emulator '/opt/qemu/bin/qemu-system-x86_64' does not support virt type 'kvm'");
    std::string many = domainXml("");
    many.replace(many.find("<vcpu>1</vcpu>"), 14, "<vcpu>5</vcpu>");
    refuse(many, ErrCode::ConfigUnsupported, "Maximum CPUs greater than specified machine type limit 4");
    refuse(domainXml("<graphics type='vnc' port='5900'/><video><model type='qxl'/></video>"),
           ErrCode::ConfigUnsupported, "domain configuration does not support video model 'qxl'");
    refuse(domainXml("", "pc", "<cpu mode='custom'><model>Skylake-Client</model></cpu>"),
           ErrCode::ConfigUnsupported, "CPU model 'Skylake-Client' is not supported by hypervisor");
}

// ---- every golden argv starts a real QEMU ---------------------------------
//
// The argv is run as written, except for what only exists on a prepared
// host: tap fds become user netdevs, disk sources become scratch images
// made by qemu-img (same format and base name, commas kept), chardev,
// monitor, VNC and pid paths move into a scratch directory, listening TCP
// ports become 0, the kernel and initrd become a minimal bzImage, and
// without a usable /dev/kvm "-accel kvm"/"-cpu host" become tcg/max.
// QEMU then has to answer on its QMP socket: it only greets once the whole
// command line has been parsed and every device realized.


class ArgvAcceptance : public testing::TestWithParam<std::string> {};

TEST_P(ArgvAcceptance, Qemu72StartsFromTheGolden)
{
    const std::string name = GetParam();
    if (!executable(kEmulator) || !executable(kQemuImg))
        GTEST_SKIP() << kEmulator << " or " << kQemuImg << " is not installed";
    if (auto why = kNotExercised.find(name); why != kNotExercised.end())
        GTEST_SKIP() << why->second;
    const fs::path golden = dataDir() / "qemu-argv" / (name + ".args");
    ASSERT_TRUE(fs::exists(golden));

    const fs::path dir = fs::temp_directory_path() / ("virtbus-argv-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    Rewritten r = rewriteForHost(splitLines(readFile(golden)), dir);
    ASSERT_FALSE(r.qmp.empty()) << "the golden has no QMP monitor";

    std::vector<char*> args;
    for (const auto& a : r.argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string log = (dir / "qemu.log").string();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    ASSERT_EQ(posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);

    bool started = false, exited = false;
    int status = 0;
    QmpProbe probe(r.qmp);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        if (probe.step()) {
            started = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    std::string argvText;
    for (const auto& a : r.argv)
        argvText += " '" + a + "'";
    EXPECT_TRUE(started) << (exited ? "QEMU exited" : "QEMU did not answer query-status within 30 s") << ":\n"
                         << readFile(log) << "\nargv:" << argvText;
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(QemuArgv, ArgvAcceptance, testing::ValuesIn(corpus("qemu-argv")), paramName);
