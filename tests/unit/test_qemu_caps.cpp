// QEMU capabilities: the cache file format, probing a real
// qemu-system-x86_64 (skipped when absent), the on-disk cache, failures
// quoted from QEMU, one probe for concurrent callers, and both XML
// documents against libvirt's RelaxNG schemas.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "error.h"
#include "qemu/event_loop.h"
#include "qemu/qemu_caps.h"
#include "xml/xml_util.h"

using namespace virtbus;
using namespace virtbus::qemu;
namespace fs = std::filesystem;

namespace {

const char* kQemu = "/usr/bin/qemu-system-x86_64";

EmulatorCaps sampleCaps(const std::string& path)
{
    EmulatorCaps c;
    c.path = path;
    c.arch = "x86_64";
    c.version = 7002022;
    c.package = "Debian 1:7.2+dfsg-7";
    c.machines = {{"pc-i440fx-7.2", "pc", true, 255, false}, {"pc-q35-7.2", "q35", false, 288, false},
        {"pc-i440fx-2.0", "", false, 255, true}};
    CpuModel qemu64 {"qemu64", true, false};
    qemu64.aliasOf = "qemu64-v1";
    qemu64.kvmUsable = true;
    CpuModel broadwell {"Broadwell", false, false};
    broadwell.kvmUsable = false;
    CpuModel odd {"odd", true, true};
    odd.usableKnown = false;
    c.cpuModels = {broadwell, CpuModel {"max", true, false}, odd, qemu64};
    c.deviceTypes = {"VGA", "cirrus-vga", "ide-hd", "isa-fdc", "usb-storage", "virtio-blk-pci", "virtio-net-pci",
        "virtio-rng-pci", "vmgenid"};
    c.kvm = false;
    c.kvmNote = "/dev/kvm: No such file or directory";
    c.seccomp = true;
    return c;
}

void expectSame(const EmulatorCaps& a, const EmulatorCaps& b)
{
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.arch, b.arch);
    EXPECT_EQ(a.version, b.version);
    EXPECT_EQ(a.package, b.package);
    EXPECT_EQ(a.kvm, b.kvm);
    EXPECT_EQ(a.kvmNote, b.kvmNote);
    EXPECT_EQ(a.seccomp, b.seccomp);
    ASSERT_EQ(a.machines.size(), b.machines.size());
    for (size_t i = 0; i < a.machines.size(); ++i) {
        EXPECT_EQ(a.machines[i].name, b.machines[i].name);
        EXPECT_EQ(a.machines[i].alias, b.machines[i].alias);
        EXPECT_EQ(a.machines[i].isDefault, b.machines[i].isDefault);
        EXPECT_EQ(a.machines[i].maxCpus, b.machines[i].maxCpus);
        EXPECT_EQ(a.machines[i].deprecated, b.machines[i].deprecated);
    }
    ASSERT_EQ(a.cpuModels.size(), b.cpuModels.size());
    for (size_t i = 0; i < a.cpuModels.size(); ++i) {
        EXPECT_EQ(a.cpuModels[i].name, b.cpuModels[i].name);
        EXPECT_EQ(a.cpuModels[i].usable, b.cpuModels[i].usable);
        EXPECT_EQ(a.cpuModels[i].usableKnown, b.cpuModels[i].usableKnown);
        EXPECT_EQ(a.cpuModels[i].deprecated, b.cpuModels[i].deprecated);
        EXPECT_EQ(a.cpuModels[i].aliasOf, b.cpuModels[i].aliasOf);
        EXPECT_EQ(a.cpuModels[i].kvmUsable, b.cpuModels[i].kvmUsable);
    }
    EXPECT_EQ(a.deviceTypes, b.deviceTypes);
}

void expectValid(const std::string& text, const char* schema)
{
    xml::XmlDoc doc = xml::parseDocument(text, "(caps)");
    EXPECT_NO_THROW(xml::validateSchema(doc, schema)) << text;
}

std::string readAll(const std::string& path)
{
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::string& path, const std::string& text, mode_t mode = 0644)
{
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
}

timespec mtimeOf(const std::string& path)
{
    struct stat st { };
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mtim;
}

double msSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

class CapsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string tmpl = (fs::temp_directory_path() / "virtbus-caps-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
        cacheDir = dir + "/cache";
    }
    void TearDown() override { fs::remove_all(dir); }

    // A file that stands for a binary: the cache only looks at its identity.
    std::string fakeBinaryWithCaches(const EmulatorCaps& caps, const std::string& name = "qemu-system-x86_64")
    {
        std::string bin = dir + "/" + name;
        writeFile(bin, "#!/bin/sh\nexit 1\n", 0755);
        EmulatorCaps c = caps;
        c.path = bin;
        CapsCache cache(loop, cacheDir);
        writeFile(cache.cacheFile(bin), capsToJson(c, CapsCache::identity(bin)));
        return bin;
    }

    std::string dir, cacheDir;
    EventLoop loop;
};

bool haveQemu() { return ::access(kQemu, X_OK) == 0; }

} // namespace

TEST(CapsJson, RoundTrip)
{
    EmulatorCaps caps = sampleCaps(kQemu);
    std::string text = capsToJson(caps, "id-1");
    auto back = capsFromJson(text, "id-1");
    ASSERT_TRUE(back.has_value()) << text;
    expectSame(caps, *back);
    EXPECT_EQ(capsToJson(*back, "id-1"), text);
}

TEST(CapsJson, IdentityMismatchIsAMiss)
{
    std::string text = capsToJson(sampleCaps(kQemu), "path=/usr/bin/qemu;size=1");
    EXPECT_FALSE(capsFromJson(text, "path=/usr/bin/qemu;size=2").has_value());
    EXPECT_FALSE(capsFromJson(text, "").has_value());
}

TEST(CapsJson, CorruptTextIsAMiss)
{
    std::string text = capsToJson(sampleCaps(kQemu), "id");
    for (const std::string& bad : {std::string(), std::string("garbage"), std::string("{}"), std::string("[]"),
             text.substr(0, text.size() / 2), std::string("{\"format\":1,\"identity\":\"id\"}")})
        EXPECT_FALSE(capsFromJson(bad, "id").has_value()) << bad;
}

TEST(CapsJson, IdentityNamesTheBinary)
{
    std::string id = CapsCache::identity("/bin/sh");
    EXPECT_NE(id.find("path=/bin/sh;"), std::string::npos) << id;
    EXPECT_NE(id.find(";inode="), std::string::npos) << id;
    EXPECT_NE(id.find(";virtbus="), std::string::npos) << id;
    EXPECT_THROW(CapsCache::identity("/nonexistent/qemu"), VirtError);
}

TEST_F(CapsTest, CorruptCacheFileIsReprobed)
{
    if (!haveQemu())
        GTEST_SKIP() << kQemu << " is not installed";
    CapsCache cache(loop, cacheDir);
    writeFile(cache.cacheFile(kQemu), "{\"format\":1,\"identity\":");
    auto caps = cache.get(kQemu);
    EXPECT_EQ(cache.probeCount(), 1u);
    std::string file = readAll(cache.cacheFile(kQemu));
    EXPECT_TRUE(capsFromJson(file, CapsCache::identity(kQemu)).has_value()) << file.substr(0, 600);
}

TEST_F(CapsTest, RealProbeAndCache)
{
    if (!haveQemu())
        GTEST_SKIP() << kQemu << " is not installed";
    auto t0 = std::chrono::steady_clock::now();
    CapsCache first(loop, cacheDir);
    auto caps = first.get(kQemu);
    double probeMs = msSince(t0);
    EXPECT_EQ(first.probeCount(), 1u);

    EXPECT_EQ(caps->path, kQemu);
    EXPECT_EQ(caps->arch, "x86_64");
    EXPECT_GE(caps->version, 7000000u);
    const MachineType* pc = caps->machine("pc");
    const MachineType* q35 = caps->machine("q35");
    ASSERT_NE(pc, nullptr);
    ASSERT_NE(q35, nullptr);
    EXPECT_EQ(pc->name.rfind("pc-i440fx-", 0), 0u) << pc->name;
    EXPECT_EQ(q35->name.rfind("pc-q35-", 0), 0u) << q35->name;
    EXPECT_EQ(caps->machine(pc->name), pc);
    EXPECT_EQ(caps->defaultMachine(), pc);
    EXPECT_EQ(caps->machine("none"), nullptr);
    EXPECT_EQ(caps->machine("no-such-machine"), nullptr);
    EXPECT_TRUE(std::any_of(caps->cpuModels.begin(), caps->cpuModels.end(),
        [](const CpuModel& c) { return c.name == "qemu64" && c.usable; }));
    EXPECT_TRUE(caps->hasDevice("virtio-net-pci"));
    EXPECT_FALSE(caps->hasDevice("no-such-device"));
    if (caps->kvm) {
        EXPECT_TRUE(caps->kvmNote.empty()) << caps->kvmNote;
    } else {
        EXPECT_FALSE(caps->kvmNote.empty());
    }
    // Debian builds QEMU with seccomp: -sandbox is there to use.
    EXPECT_TRUE(caps->seccomp);
    std::cout << "kvm=" << caps->kvm << " note='" << caps->kvmNote << "' seccomp=" << caps->seccomp
              << " machines=" << caps->machines.size() << " cpus=" << caps->cpuModels.size()
              << " devices=" << caps->deviceTypes.size() << "\n";

    // The same cache again answers from memory, without QEMU.
    EXPECT_EQ(first.get(kQemu), caps);
    EXPECT_EQ(first.probeCount(), 1u);

    // A new cache (a daemon restart) reads the file and leaves it alone.
    std::string file = first.cacheFile(kQemu);
    timespec before = mtimeOf(file);
    t0 = std::chrono::steady_clock::now();
    CapsCache second(loop, cacheDir);
    auto cached = second.get(kQemu);
    double cacheMs = msSince(t0);
    EXPECT_EQ(second.probeCount(), 0u);
    expectSame(*caps, *cached);
    timespec after = mtimeOf(file);
    EXPECT_EQ(before.tv_sec, after.tv_sec);
    EXPECT_EQ(before.tv_nsec, after.tv_nsec);
    std::cout << "probe " << probeMs << " ms, cached load " << cacheMs << " ms\n";
    EXPECT_LT(cacheMs, probeMs);
}

TEST_F(CapsTest, FailingBinaryQuotesItsError)
{
    std::string bin = dir + "/qemu-system-broken";
    writeFile(bin, "#!/bin/sh\necho 'qemu-system-broken: something is badly wrong' >&2\nexit 1\n", 0755);
    CapsCache cache(loop, cacheDir);
    try {
        cache.get(bin);
        FAIL() << "probing a failing binary succeeded";
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::OperationFailed);
        std::string msg = e.what();
        EXPECT_NE(msg.find("something is badly wrong"), std::string::npos) << msg;
        EXPECT_NE(msg.find(bin), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(cache.cacheFile(bin)));

    try {
        cache.get(dir + "/missing");
        FAIL() << "a missing binary was probed";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
    }
}

TEST_F(CapsTest, KvmRefusalIsRecordedNotThrown)
{
    if (!haveQemu() || ::access("/dev/kvm", R_OK | W_OK) != 0)
        GTEST_SKIP() << "needs " << kQemu << " and a usable /dev/kvm";
    // Stands for a host whose KVM QEMU cannot use: only -accel kvm fails.
    std::string bin = dir + "/qemu-system-x86_64";
    writeFile(bin,
        "#!/bin/sh\n"
        "case \"$*\" in *'-accel kvm'*)\n"
        "  echo 'qemu-system-x86_64: -accel kvm: failed to initialize kvm: Permission denied' >&2; exit 1;;\n"
        "esac\n"
        "exec "
            + std::string(kQemu) + " \"$@\"\n",
        0755);
    CapsCache cache(loop, cacheDir);
    auto caps = cache.get(bin);
    EXPECT_FALSE(caps->kvm);
    EXPECT_EQ(caps->kvmNote,
        "QEMU refused -accel kvm: qemu-system-x86_64: -accel kvm: failed to initialize kvm: Permission denied");
    EXPECT_TRUE(std::none_of(
        caps->cpuModels.begin(), caps->cpuModels.end(), [](const CpuModel& c) { return c.kvmUsable.has_value(); }));
    std::string text = cache.domainCapabilitiesXML(bin, "", "", "");
    EXPECT_NE(text.find("<domain>qemu</domain>"), std::string::npos) << text;
    expectValid(text, "domaincaps.rng");
}

TEST_F(CapsTest, ConcurrentCallersShareOneProbe)
{
    if (!haveQemu())
        GTEST_SKIP() << kQemu << " is not installed";
    CapsCache cache(loop, cacheDir);
    std::vector<std::shared_ptr<const EmulatorCaps>> got(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i)
        threads.emplace_back([&, i] { got[i] = cache.get(kQemu); });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(cache.probeCount(), 1u);
    for (const auto& g : got)
        EXPECT_EQ(g, got[0]);
}

TEST_F(CapsTest, SyntheticDomainCapabilities)
{
    std::string bin = fakeBinaryWithCaches(sampleCaps(""));
    CapsCache cache(loop, cacheDir);
    std::string text = cache.domainCapabilitiesXML(bin, "", "", "");
    EXPECT_EQ(cache.probeCount(), 0u);
    expectValid(text, "domaincaps.rng");
    EXPECT_NE(text.find("<domain>qemu</domain>"), std::string::npos) << text;
    EXPECT_NE(text.find("<machine>pc-i440fx-7.2</machine>"), std::string::npos) << text;
    EXPECT_NE(text.find("<vcpu max='255'/>"), std::string::npos) << text;
    EXPECT_NE(text.find("<mode name='host-passthrough' supported='no'/>"), std::string::npos) << text;
    EXPECT_NE(text.find("<model usable='yes' vendor='unknown'>qemu64</model>"), std::string::npos) << text;
    EXPECT_NE(text.find("<model usable='no' vendor='Intel'>Broadwell</model>"), std::string::npos) << text;
    EXPECT_NE(text.find("<model usable='unknown' deprecated='yes' vendor='unknown'>odd</model>"), std::string::npos)
        << text;
    EXPECT_EQ(text.find(">max</model>"), std::string::npos) << text;
    EXPECT_NE(text.find("<value>cirrus</value>"), std::string::npos) << text;
    EXPECT_EQ(text.find("<value>qxl</value>"), std::string::npos) << text;
    EXPECT_NE(text.find("<genid supported='yes'/>"), std::string::npos) << text;
    EXPECT_NE(text.find("<vmcoreinfo supported='no'/>"), std::string::npos) << text;

    std::string q35 = cache.domainCapabilitiesXML(bin, "x86_64", "q35", "qemu");
    expectValid(q35, "domaincaps.rng");
    EXPECT_NE(q35.find("<machine>pc-q35-7.2</machine>"), std::string::npos) << q35;
    EXPECT_NE(q35.find("<vcpu max='288'/>"), std::string::npos) << q35;

    auto expectInvalidArg = [&](const std::string& arch, const std::string& machine, const std::string& type,
                                const std::string& message) {
        try {
            cache.domainCapabilitiesXML(bin, arch, machine, type);
            ADD_FAILURE() << "accepted " << arch << "/" << machine << "/" << type;
        } catch (const VirtError& e) {
            EXPECT_EQ(e.code(), ErrCode::InvalidArg);
            EXPECT_EQ(std::string(e.what()), message);
        }
    };
    expectInvalidArg("", "", "kvm", "invalid argument: KVM is not supported by '" + bin + "' on this host");
    expectInvalidArg(
        "", "isapc", "", "invalid argument: the machine 'isapc' is not supported by emulator '" + bin + "'");
    expectInvalidArg("aarch64", "", "",
        "invalid argument: architecture from emulator 'x86_64' doesn't match given architecture "
        "'aarch64'");
    expectInvalidArg("pdp11", "", "", "invalid argument: unknown architecture: pdp11");
    expectInvalidArg("", "", "xen2", "invalid argument: unknown virttype: xen2");
}

TEST_F(CapsTest, SyntheticKvmDomainCapabilities)
{
    EmulatorCaps caps = sampleCaps("");
    caps.kvm = true;
    caps.kvmNote.clear();
    std::string bin = fakeBinaryWithCaches(caps);
    CapsCache cache(loop, cacheDir);
    std::string text = cache.domainCapabilitiesXML(bin, "", "", "");
    expectValid(text, "domaincaps.rng");
    EXPECT_NE(text.find("<domain>kvm</domain>"), std::string::npos) << text;
    EXPECT_NE(text.find("<mode name='host-passthrough' supported='yes'>"), std::string::npos) << text;
    EXPECT_NE(text.find("<model usable='yes' vendor='unknown'>qemu64</model>"), std::string::npos) << text;
    EXPECT_NE(text.find("<model usable='unknown' deprecated='yes' vendor='unknown'>odd</model>"), std::string::npos)
        << text;
}

TEST_F(CapsTest, RealCapabilitiesValidate)
{
    if (!haveQemu())
        GTEST_SKIP() << kQemu << " is not installed";
    CapsCache cache(loop, cacheDir);
    std::string caps = cache.capabilitiesXML();
    expectValid(caps, "capability.rng");
    EXPECT_NE(caps.find("<emulator>/usr/bin/qemu-system-x86_64</emulator>"), std::string::npos) << caps;
    EXPECT_NE(caps.find("<domain type='qemu'/>"), std::string::npos) << caps;
    EXPECT_NE(caps.find("<secmodel>"), std::string::npos) << caps;
    EXPECT_EQ(caps.find("qemu-system-x86_64-microvm"), std::string::npos) << caps;
    auto x86 = cache.get(kQemu);
    EXPECT_EQ(caps.find("<domain type='kvm'/>") != std::string::npos, x86->kvm) << caps;
    const MachineType* pc = x86->machine("pc");
    ASSERT_NE(pc, nullptr);
    EXPECT_NE(caps.find("<machine canonical='" + pc->name + "' maxCpus='" + std::to_string(pc->maxCpus) + "'>pc<"),
        std::string::npos)
        << caps;

    std::string dflt = cache.domainCapabilitiesXML("", "", "", "");
    expectValid(dflt, "domaincaps.rng");
    EXPECT_NE(dflt.find(x86->kvm ? "<domain>kvm</domain>" : "<domain>qemu</domain>"), std::string::npos) << dflt;
    for (const char* machine : {"pc", "q35"})
        for (const char* type : {"qemu", "kvm"}) {
            if (std::string(type) == "kvm" && !x86->kvm)
                continue;
            std::string text = cache.domainCapabilitiesXML(kQemu, "x86_64", machine, type);
            expectValid(text, "domaincaps.rng");
            EXPECT_NE(text.find("<value>virtio</value>"), std::string::npos) << text;
        }
    if (!x86->kvm) {
        EXPECT_THROW(cache.domainCapabilitiesXML(kQemu, "", "", "kvm"), VirtError);
    }
}
