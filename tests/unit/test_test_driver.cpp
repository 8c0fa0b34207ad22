// The test:///default driver without a bus: its state machine and events,
// flag checks and error texts (as libvirt 9.0's test driver words them),
// list filters, snapshots, save images, and scale.
#include "test/test_driver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace virtbus;

namespace {

const std::string kTestUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";

struct Event {
    std::string uuid;
    int32_t event, detail;
    bool operator==(const Event&) const = default;
};

class RecordingSink : public EventSink {
public:
    void domainLifecycle(const std::string& uuid, int32_t event, int32_t detail) override
    {
        events.push_back({uuid, event, detail});
    }
    void domainSignal(const std::string& uuid, const DomainSignal& s) override { signals.emplace_back(uuid, s); }

    std::vector<std::pair<int32_t, int32_t>> take()
    {
        std::vector<std::pair<int32_t, int32_t>> out;
        for (const auto& e : events)
            out.emplace_back(e.event, e.detail);
        events.clear();
        return out;
    }
    std::vector<Event> events;
    std::vector<std::pair<std::string, DomainSignal>> signals;
};

using Ev = std::vector<std::pair<int32_t, int32_t>>;

std::string domainXml(const std::string& name, const std::string& uuid = "")
{
    std::string x = "<domain type='test'><name>" + name + "</name>";
    if (!uuid.empty())
        x += "<uuid>" + uuid + "</uuid>";
    return x + "<memory>1024</memory><os><type>hvm</type></os></domain>";
}

// Runs `f` and returns the VirtError message it raises ("" if none).
template <class F> std::string errorOf(F&& f)
{
    try {
        f();
    } catch (const VirtError& e) {
        return e.what();
    }
    return "";
}

class TestDriverTest : public ::testing::Test {
protected:
    void SetUp() override { drv.setEventSink(&sink); }
    std::tuple<int32_t, int32_t> state(const std::string& uuid = kTestUuid) { return drv.domainGetState(uuid, 0); }

    TestDriver drv;
    RecordingSink sink;
};

TEST_F(TestDriverTest, WorldMatchesLibvirt)
{
    auto list = drv.listDomains(0);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, "test");
    EXPECT_EQ(list[0].uuid, kTestUuid);
    DomainSummary s = drv.domainSummary(kTestUuid);
    EXPECT_EQ(s.id, 1);
    EXPECT_TRUE(s.active);
    EXPECT_TRUE(s.persistent);
    EXPECT_FALSE(s.autostart);
    EXPECT_EQ(s.osType, "linux");
    EXPECT_EQ(s.schedulerType, "fair");
    EXPECT_EQ(s.schedulerParams, 1);
    EXPECT_EQ(state(), std::make_tuple(1, 0)); // running (unknown)
    std::string xml = drv.domainGetXMLDesc(kTestUuid, 0);
    EXPECT_NE(xml.find("<domain type='test' id='1'>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<memory unit='KiB'>8388608</memory>"), std::string::npos);
    EXPECT_NE(xml.find("<currentMemory unit='KiB'>2097152</currentMemory>"), std::string::npos);
    EXPECT_NE(xml.find("<type arch='i686'>hvm</type>"), std::string::npos);
    EXPECT_NE(xml.find("<source file='/guest/diskimage1'/>"), std::string::npos);
    EXPECT_NE(xml.find("<mac address='aa:bb:cc:dd:ee:ff'/>"), std::string::npos);
    EXPECT_NE(xml.find("<target dev='testnet0'/>"), std::string::npos);
    EXPECT_EQ(drv.domainGetXMLDesc(kTestUuid, 2).find(" id="), std::string::npos);
    EXPECT_EQ(drv.version(), 2u);
    EXPECT_FALSE(drv.secure());
    EXPECT_FALSE(drv.encrypted());
    EXPECT_FALSE(drv.hostname().empty());
    EXPECT_EQ(drv.domainGetVcpuPinInfo(kTestUuid, 0),
              std::vector<std::vector<bool>>(2, std::vector<bool>(8, true)));
    EXPECT_EQ(drv.nodeCPUMap(0), (std::vector<bool>{true, false, true, false, true, false, false, false}));
    EXPECT_EQ(drv.nodeFreeMemory(), 3145728u);
    EXPECT_EQ(drv.nodeSecurityModel(), std::make_tuple(std::string("testSecurity"), std::string()));
}

TEST_F(TestDriverTest, Lookups)
{
    EXPECT_EQ(drv.domainLookupByID(1).uuid, kTestUuid);
    EXPECT_EQ(drv.domainLookupByName("test").uuid, kTestUuid);
    EXPECT_EQ(drv.domainLookupByUUID("6695EB01F6A4830479AA97F2502E193F").uuid, kTestUuid);
    EXPECT_EQ(errorOf([&] { drv.domainLookupByName("x"); }), "Domain not found: no domain with matching name 'x'");
    EXPECT_EQ(errorOf([&] { drv.domainLookupByID(5); }), "Domain not found: no domain with matching id 5");
    EXPECT_EQ(errorOf([&] { drv.domainLookupByUUID("6695eb01-f6a4-8304-79aa-97f2502e1930"); }),
              "Domain not found: no domain with matching uuid '6695eb01-f6a4-8304-79aa-97f2502e1930'");
    EXPECT_EQ(errorOf([&] { drv.domainLookupByUUID("zzz"); }), "Invalid UUID");
    EXPECT_TRUE(drv.domainExists(kTestUuid));
    EXPECT_FALSE(drv.domainExists("00000000-0000-0000-0000-000000000000"));
    EXPECT_EQ(errorOf([&] { drv.domainSummary("00000000-0000-0000-0000-000000000000"); }),
              "Domain not found: no domain with matching uuid '00000000-0000-0000-0000-000000000000'");
    std::string huge(10 * 1024 * 1024, 'a');
    EXPECT_NE(errorOf([&] { drv.domainLookupByName(huge); }), "");
    EXPECT_LT(errorOf([&] { drv.domainLookupByName(huge); }).size(), 200u);
}

TEST_F(TestDriverTest, LifecycleEvents)
{
    drv.domainSuspend(kTestUuid);
    EXPECT_EQ(state(), std::make_tuple(3, 1));
    EXPECT_EQ(errorOf([&] { drv.domainSuspend(kTestUuid); }), "internal error: domain 'test' not running");
    drv.domainResume(kTestUuid);
    EXPECT_EQ(state(), std::make_tuple(1, 5));
    EXPECT_EQ(errorOf([&] { drv.domainResume(kTestUuid); }), "internal error: domain 'test' not paused");
    drv.domainShutdown(kTestUuid, 0);
    EXPECT_EQ(state(), std::make_tuple(5, 1));
    EXPECT_EQ(drv.domainSummary(kTestUuid).id, -1);
    EXPECT_EQ(errorOf([&] { drv.domainShutdown(kTestUuid, 0); }), "internal error: domain 'test' not running");
    EXPECT_EQ(errorOf([&] { drv.domainDestroy(kTestUuid, 0); }),
              "Requested operation is not valid: domain is not running");
    EXPECT_EQ(errorOf([&] { drv.domainReboot(kTestUuid, 0); }),
              "Requested operation is not valid: domain is not running");
    drv.domainCreate(kTestUuid, 0);
    EXPECT_EQ(drv.domainSummary(kTestUuid).id, 2); // the next id
    EXPECT_EQ(errorOf([&] { drv.domainCreate(kTestUuid, 0); }), "internal error: Domain 'test' is already running");
    drv.domainReboot(kTestUuid, 0); // restarts in place: no lifecycle event
    drv.domainDestroy(kTestUuid, 0);
    EXPECT_EQ(state(), std::make_tuple(5, 2));
    EXPECT_EQ(sink.take(), (Ev{{3, 0}, {4, 0}, {5, 0}, {2, 0}, {5, 1}}));
    for (const auto& e : sink.events)
        EXPECT_EQ(e.uuid, kTestUuid);
}

TEST_F(TestDriverTest, FlagsAreChecked)
{
    EXPECT_EQ(errorOf([&] { drv.domainCreate(kTestUuid, 1); }),
              "unsupported flags (0x1) in function testDomainCreateWithFlags");
    EXPECT_EQ(errorOf([&] { drv.domainShutdown(kTestUuid, 4); }),
              "unsupported flags (0x4) in function testDomainShutdownFlags");
    EXPECT_EQ(errorOf([&] { drv.domainUndefine(kTestUuid, 4); }),
              "unsupported flags (0x4) in function testDomainUndefineFlags");
    EXPECT_EQ(errorOf([&] { drv.listDomains(0x10000); }),
              "unsupported flags (0x10000) in function testConnectListAllDomains");
    EXPECT_EQ(errorOf([&] { drv.domainGetXMLDesc(kTestUuid, 4); }),
              "unsupported flags (0x4) in function testDomainGetXMLDesc");
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot/>", 16); }),
              "unsupported flags (0x10) in function testDomainSnapshotCreateXML");
    EXPECT_EQ(state(), std::make_tuple(1, 0)); // nothing changed
    EXPECT_TRUE(sink.events.empty());
}

TEST_F(TestDriverTest, DefineCreateUndefine)
{
    DomainRef foo = drv.domainDefineXML(domainXml("foo", "11111111-2222-3333-4444-555555555555"), 0);
    EXPECT_EQ(sink.take(), (Ev{{0, 0}}));
    EXPECT_EQ(state(foo.uuid), std::make_tuple(5, 0));
    drv.domainDefineXML(domainXml("foo", "11111111-2222-3333-4444-555555555555"), 0);
    EXPECT_EQ(sink.take(), (Ev{{0, 1}}));
    EXPECT_EQ(errorOf([&] { drv.domainDefineXML(domainXml("foo"), 0); }),
              "operation failed: domain 'foo' already exists with uuid 11111111-2222-3333-4444-555555555555");
    EXPECT_EQ(errorOf([&] { drv.domainDefineXML(domainXml("bar", kTestUuid), 0); }),
              "operation failed: domain 'test' is already defined with uuid " + kTestUuid);
    // CreateXML over a defined, inactive domain starts it and keeps it persistent.
    drv.domainCreateXML(domainXml("foo", "11111111-2222-3333-4444-555555555555"), 0);
    EXPECT_EQ(sink.take(), (Ev{{2, 0}}));
    EXPECT_TRUE(drv.domainSummary(foo.uuid).persistent);
    EXPECT_EQ(errorOf([&] { drv.domainCreateXML(domainXml("foo", "11111111-2222-3333-4444-555555555555"), 0); }),
              "Requested operation is not valid: domain 'foo' is already active");
    // Undefining a running domain makes it transient; stopping it then removes it.
    drv.domainUndefine(foo.uuid, 0);
    EXPECT_EQ(sink.take(), (Ev{{1, 0}}));
    EXPECT_FALSE(drv.domainSummary(foo.uuid).persistent);
    drv.domainDestroy(foo.uuid, 0);
    EXPECT_EQ(sink.take(), (Ev{{5, 1}}));
    EXPECT_FALSE(drv.domainExists(foo.uuid));
    EXPECT_EQ(errorOf([&] { drv.domainCreate(foo.uuid, 0); }),
              "Domain not found: no domain with matching uuid '11111111-2222-3333-4444-555555555555'");

    DomainRef t = drv.domainCreateXML(domainXml("transient"), 0);
    EXPECT_EQ(sink.take(), (Ev{{2, 0}}));
    EXPECT_FALSE(drv.domainSummary(t.uuid).persistent);
    EXPECT_NE(drv.domainGetXMLDesc(t.uuid, 0).find("<boot dev='hd'/>"), std::string::npos);
    drv.domainShutdown(t.uuid, 0);
    EXPECT_EQ(sink.take(), (Ev{{5, 0}}));
    EXPECT_FALSE(drv.domainExists(t.uuid));
}

TEST_F(TestDriverTest, BadNamesChangeNothing)
{
    EXPECT_NE(errorOf([&] { drv.domainDefineXML(domainXml("../x"), 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainDefineXML(domainXml("a/b"), 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainDefineXML(domainXml("a\tb"), 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainDefineXML(domainXml(std::string(5000, 'n')), 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainDefineXML(std::string(11 * 1024 * 1024, ' ') + domainXml("big"), 0); }), "");
    drv.domainDestroy(kTestUuid, 0);
    sink.take();
    EXPECT_EQ(errorOf([&] { drv.domainRename(kTestUuid, "a/b", 0); }), "XML error: name a/b cannot contain '/'");
    EXPECT_EQ(errorOf([&] { drv.domainRename(kTestUuid, "", 0); }),
              "string new_name in virDomainRename must not be empty");
    EXPECT_NE(errorOf([&] { drv.domainRename(kTestUuid, std::string(10 * 1024 * 1024, 'r'), 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainRename(kTestUuid, "a\nb", 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>a/b</name></domainsnapshot>", 0); }), "");
    EXPECT_NE(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>..</name></domainsnapshot>", 0); }), "");
    EXPECT_EQ(drv.listDomains(0).size(), 1u);
    EXPECT_EQ(drv.domainSummary(kTestUuid).name, "test");
    EXPECT_TRUE(drv.domainListSnapshots(kTestUuid, 0).empty());
    EXPECT_TRUE(sink.events.empty());
}

TEST_F(TestDriverTest, Rename)
{
    EXPECT_EQ(errorOf([&] { drv.domainRename(kTestUuid, "x", 0); }),
              "Requested operation is not valid: cannot rename active domain");
    drv.domainDestroy(kTestUuid, 0);
    sink.take();
    EXPECT_EQ(errorOf([&] { drv.domainRename(kTestUuid, "test", 0); }),
              "Requested operation is not valid: Can't rename domain to itself");
    drv.domainRename(kTestUuid, "renamed", 0);
    EXPECT_EQ(sink.take(), (Ev{{1, 1}, {0, 2}}));
    EXPECT_EQ(drv.domainLookupByName("renamed").uuid, kTestUuid);
    EXPECT_NE(errorOf([&] { drv.domainLookupByName("test"); }), "");
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 0).find("<name>renamed</name>"), std::string::npos);
}

TEST_F(TestDriverTest, ManagedSave)
{
    drv.domainManagedSave(kTestUuid, 0);
    EXPECT_EQ(sink.take(), (Ev{{5, 4}}));
    EXPECT_TRUE(drv.domainHasManagedSaveImage(kTestUuid, 0));
    EXPECT_EQ(state(), std::make_tuple(5, 5));
    EXPECT_EQ(drv.listDomains(256).size(), 1u);
    EXPECT_EQ(drv.listDomains(512).size(), 0u);
    EXPECT_EQ(errorOf([&] { drv.domainUndefine(kTestUuid, 0); }),
              "Requested operation is not valid: Refusing to undefine while domain managed save image exists");
    drv.domainManagedSaveRemove(kTestUuid, 0);
    EXPECT_FALSE(drv.domainHasManagedSaveImage(kTestUuid, 0));
    drv.domainCreate(kTestUuid, 0);
    drv.domainManagedSave(kTestUuid, 0);
    drv.domainCreate(kTestUuid, 0); // the image is consumed
    EXPECT_FALSE(drv.domainHasManagedSaveImage(kTestUuid, 0));
    DomainRef t = drv.domainCreateXML(domainXml("transient"), 0);
    EXPECT_EQ(errorOf([&] { drv.domainManagedSave(t.uuid, 0); }),
              "Requested operation is not valid: cannot do managed save for transient domain");
}

TEST_F(TestDriverTest, SaveRestoreRoundTrip)
{
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("virtbus-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string image = (dir / "test.img").string();
    std::string before = drv.domainGetXMLDesc(kTestUuid, 2);

    EXPECT_EQ(errorOf([&] { drv.domainSave(kTestUuid, image, "<domain/>", 0); }),
              "argument unsupported: xml modification unsupported");
    EXPECT_NE(errorOf([&] { drv.domainSave(kTestUuid, "relative.img", "", 0); }), "");
    EXPECT_EQ(errorOf([&] { drv.domainSave(kTestUuid, "/nonexistent-dir/x.img", "", 0); }).find("saving domain 'test'"),
              0u);
    drv.domainSave(kTestUuid, image, "", 0);
    EXPECT_EQ(sink.take(), (Ev{{5, 4}}));
    EXPECT_EQ(state(), std::make_tuple(5, 5));
    EXPECT_TRUE(fs::exists(image));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1); // no temp left over
    EXPECT_EQ(drv.domainSaveImageGetXMLDesc(image, 0), before);

    drv.domainRestore(image, "", 0);
    EXPECT_EQ(sink.take(), (Ev{{2, 2}}));
    EXPECT_EQ(state(), std::make_tuple(1, 3));
    EXPECT_EQ(drv.domainGetXMLDesc(kTestUuid, 2), before);
    EXPECT_EQ(errorOf([&] { drv.domainRestore(image, "", 0); }),
              "Requested operation is not valid: domain 'test' is already active");

    std::string edited = before;
    edited.replace(edited.find("2097152"), 7, "1048576");
    drv.domainSaveImageDefineXML(image, edited, 0);
    EXPECT_NE(drv.domainSaveImageGetXMLDesc(image, 0).find("1048576"), std::string::npos);

    std::ofstream(dir / "junk.img") << "not an image at all, really not";
    EXPECT_EQ(errorOf([&] { drv.domainRestore((dir / "junk.img").string(), "", 0); }),
              "internal error: mismatched header magic");
    EXPECT_EQ(errorOf([&] { drv.domainSaveImageGetXMLDesc((dir / "missing").string(), 0); }),
              "cannot read domain image '" + (dir / "missing").string() + "': No such file or directory");

    drv.domainCoreDump(kTestUuid, (dir / "core").string(), 0, 1);
    EXPECT_EQ(sink.take(), (Ev{{5, 2}}));
    EXPECT_EQ(state(), std::make_tuple(5, 3));
    EXPECT_EQ(errorOf([&] { drv.domainCoreDump(kTestUuid, (dir / "core").string(), 9, 0); }),
              "dumpformat '9' is not supported");
    fs::remove_all(dir);
}

TEST_F(TestDriverTest, ListFilters)
{
    drv.domainDefineXML(domainXml("b-inactive"), 0);
    DomainRef t = drv.domainCreateXML(domainXml("a-transient"), 0);
    drv.domainSuspend(t.uuid);
    drv.domainSetAutostart(kTestUuid, true);
    auto names = [&](uint32_t flags) {
        std::vector<std::string> out;
        for (const auto& r : drv.listDomains(flags))
            out.push_back(r.name);
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(names(0), (V{"a-transient", "b-inactive", "test"}));
    EXPECT_EQ(names(1), (V{"a-transient", "test"}));
    EXPECT_EQ(names(2), (V{"b-inactive"}));
    EXPECT_EQ(names(3), (V{"a-transient", "b-inactive", "test"}));
    EXPECT_EQ(names(4), (V{"b-inactive", "test"}));
    EXPECT_EQ(names(8), (V{"a-transient"}));
    EXPECT_EQ(names(16), (V{"test"}));
    EXPECT_EQ(names(32), (V{"a-transient"}));
    EXPECT_EQ(names(64), (V{"b-inactive"}));
    EXPECT_EQ(names(128), V{});
    EXPECT_EQ(names(16 | 64), (V{"b-inactive", "test"}));
    EXPECT_EQ(names(1024), (V{"test"}));
    EXPECT_EQ(names(2048), (V{"a-transient", "b-inactive"}));
    EXPECT_EQ(names(16384), V{});
    EXPECT_EQ(names(32768).size(), 3u);
    drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>s</name></domainsnapshot>", 0);
    EXPECT_EQ(names(4096), (V{"test"}));
    EXPECT_EQ(names(8192), (V{"a-transient", "b-inactive"}));
}

TEST_F(TestDriverTest, MemoryAndVcpus)
{
    EXPECT_EQ(errorOf([&] { drv.domainSetMemory(kTestUuid, 0, 0); }),
              "memory in virDomainSetMemoryFlags must not be zero");
    EXPECT_EQ(errorOf([&] { drv.domainSetMemory(kTestUuid, 9999999, 0); }),
              "invalid argument: cannot set memory higher than max memory");
    EXPECT_EQ(errorOf([&] { drv.domainSetMemory(kTestUuid, 1000, 3); }),
              "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
    EXPECT_EQ(errorOf([&] { drv.domainSetMemory(kTestUuid, 1000, 4); }),
              "Requested operation is not valid: cannot resize the maximum memory on an active domain");
    drv.domainSetMemory(kTestUuid, 1000000, 6);
    drv.domainSetMemory(kTestUuid, 1000000, 1);
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 2).find("<memory unit='KiB'>1000000</memory>"), std::string::npos);
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 0).find("<currentMemory unit='KiB'>1000000</currentMemory>"),
              std::string::npos);
    auto stats = drv.domainMemoryStats(kTestUuid, 0);
    ASSERT_EQ(stats.size(), 13u);
    EXPECT_EQ(stats[0], std::make_pair(6, uint64_t{1000000}));

    EXPECT_EQ(errorOf([&] { drv.domainSetVcpus(kTestUuid, 0, 0); }),
              "nvcpus in virDomainSetVcpusFlags must not be zero");
    EXPECT_EQ(errorOf([&] { drv.domainSetVcpus(kTestUuid, 33, 0); }),
              "invalid argument: requested cpu amount exceeds maximum supported amount (33 > 32)");
    EXPECT_EQ(errorOf([&] { drv.domainSetVcpus(kTestUuid, 3, 0); }),
              "invalid argument: requested cpu amount exceeds maximum (3 > 2)");
    EXPECT_EQ(errorOf([&] { drv.domainSetVcpus(kTestUuid, 4, 4); }),
              "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'");
    drv.domainSetVcpus(kTestUuid, 1, 0);
    EXPECT_EQ(drv.domainGetVcpus(kTestUuid, 0), 1u);
    EXPECT_EQ(drv.domainGetVcpus(kTestUuid, 2), 2u);
    drv.domainSetVcpus(kTestUuid, 4, 6);
    EXPECT_EQ(drv.domainGetVcpus(kTestUuid, 6), 4u);
    drv.domainSetVcpus(kTestUuid, 3, 2);
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 2).find("<vcpu placement='static' current='3'>4</vcpu>"),
              std::string::npos);

    drv.domainPinVcpu(kTestUuid, 0, {false, true, true}, 0);
    auto pins = drv.domainGetVcpuPinInfo(kTestUuid, 0);
    EXPECT_EQ(pins[0], (std::vector<bool>{false, true, true, false, false, false, false, false}));
    EXPECT_EQ(errorOf([&] { drv.domainPinVcpu(kTestUuid, 5, {true}, 0); }),
              "invalid argument: requested vcpu '5' is not present in the domain");
    EXPECT_EQ(errorOf([&] { drv.domainPinEmulator(kTestUuid, {false}, 0); }),
              "invalid argument: Empty cpu list for pinning");
    drv.domainPinEmulator(kTestUuid, {false, true, true}, 0);
    EXPECT_EQ(drv.domainGetEmulatorPinInfo(kTestUuid, 0),
              (std::vector<bool>{false, true, true, false, false, false, false, false}));
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 0).find("<emulatorpin cpuset='1-2'/>"), std::string::npos);
}

TEST_F(TestDriverTest, IOThreads)
{
    EXPECT_EQ(errorOf([&] { drv.domainAddIOThread(kTestUuid, 0, 0); }),
              "invalid argument: invalid value of 0 for iothread_id");
    drv.domainAddIOThread(kTestUuid, 3, 0);
    EXPECT_EQ(errorOf([&] { drv.domainAddIOThread(kTestUuid, 3, 0); }),
              "invalid argument: an IOThread is already using iothread_id '3'");
    EXPECT_EQ(errorOf([&] { drv.domainDelIOThread(kTestUuid, 4, 0); }),
              "invalid argument: cannot find IOThread '4' in iothreadids list");
    EXPECT_EQ(errorOf([&] { drv.domainPinIOThread(kTestUuid, 4, {true}, 0); }),
              "invalid argument: iothreadid 4 not found");
    drv.domainPinIOThread(kTestUuid, 3, {true, true}, 0);
    auto info = drv.domainGetIOThreadInfo(kTestUuid, 0);
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(std::get<0>(info[0]), 3u);
    EXPECT_EQ(std::get<1>(info[0]), (std::vector<bool>{true, true, false, false, false, false, false, false}));
    std::string xml = drv.domainGetXMLDesc(kTestUuid, 0);
    EXPECT_NE(xml.find("<iothreads>1</iothreads>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<iothread id='3'/>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<iothreadpin iothread='3' cpuset='0-1'/>"), std::string::npos) << xml;
    TypedParams stats = drv.domainGetStats(kTestUuid, 0, 0);
    ASSERT_GE(stats.size(), 3u);
    EXPECT_EQ(stats[0].name, "state.state");
    EXPECT_EQ(std::get<int32_t>(stats[0].value), 1);
    EXPECT_EQ(stats[2].name, "iothread.count");
    drv.domainDelIOThread(kTestUuid, 3, 0);
    EXPECT_TRUE(drv.domainGetIOThreadInfo(kTestUuid, 0).empty());
    EXPECT_EQ(errorOf([&] { drv.allDomainStats(1024, 0x80000000u); }),
              "argument unsupported: Stats types bits 0x400 are not supported by this daemon");
    EXPECT_EQ(drv.allDomainStats(0, 2).size(), 0u);
}

TEST_F(TestDriverTest, TypedParameters)
{
    auto p = drv.domainGetMemoryParameters(kTestUuid, 0);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(std::get<uint64_t>(p[0].value), 9007199254740991u);
    drv.domainSetMemoryParameters(kTestUuid, {{"hard_limit", uint64_t{1000}}, {"soft_limit", int32_t{500}}}, 0);
    p = drv.domainGetMemoryParameters(kTestUuid, 0);
    EXPECT_EQ(std::get<uint64_t>(p[0].value), 1000u);
    EXPECT_EQ(std::get<uint64_t>(p[1].value), 500u);
    EXPECT_EQ(errorOf([&] { drv.domainSetMemoryParameters(kTestUuid, {{"foo", uint64_t{1}}}, 0); }),
              "argument unsupported: parameter 'foo' not supported");
    EXPECT_EQ(errorOf([&] { drv.domainSetMemoryParameters(kTestUuid, {{"hard_limit", std::string("x")}}, 0); }),
              "invalid argument: invalid type 'string' for parameter 'hard_limit', expected 'ullong'");
    EXPECT_EQ(errorOf([&] { drv.domainSetMemoryParameters(kTestUuid, {{"swap_hard_limit", uint64_t{10}}}, 0); }),
              "invalid argument: memory hard_limit tunable value must be lower than or equal to swap_hard_limit");
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 0).find("<hard_limit unit='KiB'>1000</hard_limit>"), std::string::npos);

    drv.domainSetBlkioParameters(kTestUuid, {{"weight", uint32_t{500}}, {"device_weight", std::string("/dev/sda,100")}}, 0);
    p = drv.domainGetBlkioParameters(kTestUuid, 0);
    EXPECT_EQ(std::get<uint32_t>(p[0].value), 500u);
    EXPECT_EQ(std::get<std::string>(p[1].value), "/dev/sda,100");
    EXPECT_EQ(errorOf([&] {
                  drv.domainSetBlkioParameters(kTestUuid, {{"device_read_iops_sec", std::string("/dev/sda,100,/x")}}, 0);
              }),
              "invalid argument: unable to parse blkio device 'device_read_iops_sec' '/dev/sda,100,/x'");

    drv.domainSetNumaParameters(kTestUuid, {{"numa_mode", int32_t{2}}, {"numa_nodeset", std::string("0-1")}}, 0);
    p = drv.domainGetNumaParameters(kTestUuid, 0);
    EXPECT_EQ(std::get<int32_t>(p[0].value), 2);
    EXPECT_EQ(std::get<std::string>(p[1].value), "0-1");
    EXPECT_EQ(errorOf([&] { drv.domainSetNumaParameters(kTestUuid, {{"numa_mode", int32_t{9}}}, 0); }),
              "invalid argument: unsupported numatune mode: '9'");

    drv.domainSetPerfEvents(kTestUuid, {{"cmt", true}}, 0);
    p = drv.domainGetPerfEvents(kTestUuid, 0);
    ASSERT_EQ(p.size(), 22u);
    EXPECT_TRUE(std::get<bool>(p[0].value));
    EXPECT_FALSE(std::get<bool>(p[1].value));

    p = drv.domainGetSchedulerParameters(kTestUuid, 0);
    EXPECT_EQ(p[0].name, "weight");
    EXPECT_EQ(std::get<uint32_t>(p[0].value), 50u);

    p = drv.domainGetBlockIoTune(kTestUuid, "vda", 0);
    EXPECT_EQ(p.size(), 20u);
    EXPECT_EQ(errorOf([&] { drv.domainGetBlockIoTune(kTestUuid, "vdz", 0); }),
              "invalid argument: disk 'vdz' was not found in the domain config");
    EXPECT_EQ(errorOf([&] {
                  drv.domainSetBlockIoTune(kTestUuid, "vda",
                                           {{"total_bytes_sec", uint64_t{1000}}, {"read_bytes_sec", uint64_t{10}}}, 0);
              }),
              "invalid argument: total and read/write of bytes_sec cannot be set at the same time");
    drv.domainSetBlockIoTune(kTestUuid, "vda",
                             {{"total_bytes_sec", uint64_t{1000}}, {"total_bytes_sec_max", uint64_t{2000}}}, 0);
    p = drv.domainGetBlockIoTune(kTestUuid, "vda", 0);
    EXPECT_EQ(std::get<uint64_t>(p[0].value), 1000u);

    drv.domainSetInterfaceParameters(kTestUuid, "testnet0", {{"inbound.average", uint32_t{100}}}, 0);
    p = drv.domainGetInterfaceParameters(kTestUuid, "aa:bb:cc:dd:ee:ff", 0);
    EXPECT_EQ(std::get<uint32_t>(p[0].value), 100u);
    EXPECT_EQ(errorOf([&] { drv.domainGetInterfaceParameters(kTestUuid, "nope", 0); }),
              "invalid argument: 'nope' is not a known interface");
    std::string xml = drv.domainGetXMLDesc(kTestUuid, 0);
    EXPECT_NE(xml.find("<inbound average='100'/>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<weight>500</weight>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<memory mode='interleave' nodeset='0-1'/>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<event name='cmt' enabled='yes'/>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<total_bytes_sec>1000</total_bytes_sec>"), std::string::npos) << xml;
    // The live changes are gone once the domain stops.
    drv.domainDestroy(kTestUuid, 0);
    EXPECT_EQ(drv.domainGetXMLDesc(kTestUuid, 0).find("memtune"), std::string::npos);
}

TEST_F(TestDriverTest, Metadata)
{
    drv.domainSetMetadata(kTestUuid, 0, "This is the Test domain", "", "", 0);
    EXPECT_EQ(drv.domainGetMetadata(kTestUuid, 0, "", 0), "This is the Test domain");
    EXPECT_EQ(errorOf([&] { drv.domainGetMetadata(kTestUuid, 1, "", 0); }),
              "metadata not found: Requested metadata element is not present");
    EXPECT_EQ(errorOf([&] { drv.domainSetMetadata(kTestUuid, 1, "a\nb", "", "", 0); }),
              "metadata title can't contain newlines");
    EXPECT_EQ(errorOf([&] { drv.domainSetMetadata(kTestUuid, 2, "<foo/>", "k", "", 0); }),
              "uri in virDomainSetMetadata must not be NULL");
    EXPECT_EQ(errorOf([&] { drv.domainSetMetadata(kTestUuid, 5, "x", "", "", 0); }),
              "invalid argument: unknown metadata type '5'");
    drv.domainSetMetadata(kTestUuid, 2, "<foo a='1'><bar>t</bar></foo>", "k", "http://x/", 0);
    EXPECT_EQ(drv.domainGetMetadata(kTestUuid, 2, "http://x/", 0), "<foo a=\"1\">\n  <bar>t</bar>\n</foo>");
    std::string xml = drv.domainGetXMLDesc(kTestUuid, 0);
    EXPECT_NE(xml.find("<k:foo xmlns:k="), std::string::npos) << xml;
    EXPECT_NE(xml.find("<k:bar>t</k:bar>"), std::string::npos) << xml;
    drv.domainSetMetadata(kTestUuid, 2, "", "", "http://x/", 0);
    EXPECT_NE(errorOf([&] { drv.domainGetMetadata(kTestUuid, 2, "http://x/", 0); }), "");
    ASSERT_EQ(sink.signals.size(), 3u);
    auto* m = std::get_if<sig::MetadataChange>(&sink.signals[1].second);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->type, 2);
    EXPECT_EQ(m->nsuri, "http://x/");
}

TEST_F(TestDriverTest, GuestQueries)
{
    EXPECT_EQ(drv.domainGetHostname(kTestUuid, 0), "testhost");
    EXPECT_EQ(drv.domainGetTime(kTestUuid, 0), std::make_tuple(uint64_t{627319920}, 0u));
    drv.domainSetTime(kTestUuid, 500, 0, 0);
    EXPECT_EQ(drv.domainGetControlInfo(kTestUuid, 0), std::make_tuple(1u, 0u, uint64_t{500}));
    auto addrs = drv.domainInterfaceAddresses(kTestUuid, 0, 0);
    ASSERT_EQ(addrs.size(), 1u);
    EXPECT_EQ(std::get<0>(addrs[0]), "testnet0");
    EXPECT_EQ(std::get<1>(addrs[0]), "aa:bb:cc:dd:ee:ff");
    EXPECT_EQ(std::get<2>(addrs[0]), (std::vector<std::tuple<int32_t, std::string, uint32_t>>{{0, "192.168.122.3", 24}}));
    EXPECT_EQ(errorOf([&] { drv.domainInterfaceAddresses(kTestUuid, 5, 0); }),
              "argument unsupported: Unknown IP address data source 5");
    EXPECT_EQ(drv.domainFSFreeze(kTestUuid, {}, 0), 2u);
    EXPECT_EQ(drv.domainFSThaw(kTestUuid, {"/"}, 0), 1u);
    EXPECT_EQ(errorOf([&] { drv.domainFSTrim(kTestUuid, "/x", 0, 0); }),
              "Requested operation is not valid: mount point not found: /x");
    EXPECT_EQ(drv.domainGetFSInfo(kTestUuid, 0).size(), 2u);
    EXPECT_EQ(errorOf([&] { drv.domainSendProcessSignal(kTestUuid, 2, 9, 0); }),
              "invalid argument: only sending a signal to pid 1 is supported");
    EXPECT_EQ(errorOf([&] { drv.domainSendKey(kTestUuid, 0, 100, {100000}, 0); }),
              "internal error: invalid keycode 100000 of linux codeset");
    drv.domainSendKey(kTestUuid, 0, 100, {30}, 0);
    EXPECT_EQ(drv.domainMemoryPeek(kTestUuid, 300, 4, 1), (std::vector<uint8_t>{44, 45, 46, 47}));
    drv.domainSuspend(kTestUuid);
    EXPECT_EQ(errorOf([&] { drv.domainGetTime(kTestUuid, 0); }),
              "Requested operation is not valid: domain is not running");
}

TEST_F(TestDriverTest, SnapshotTree)
{
    SnapshotRef s1 = drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>s1</name></domainsnapshot>", 0);
    EXPECT_EQ(s1.name, "s1");
    EXPECT_EQ(drv.domainSnapshotCurrent(kTestUuid, 0).name, "s1");
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>s1</name></domainsnapshot>", 0); }),
              "operation failed: domain moment s1 already exists");
    EXPECT_EQ(errorOf([&] { drv.snapshotGetParent(s1, 0); }),
              "Domain snapshot not found: snapshot 's1' does not have a parent");
    drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>s2</name></domainsnapshot>", 0);
    drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>s3</name></domainsnapshot>", 0);
    EXPECT_EQ(drv.snapshotGetParent({kTestUuid, "s3"}, 0).name, "s2");
    EXPECT_TRUE(drv.snapshotIsCurrent({kTestUuid, "s3"}, 0));
    EXPECT_FALSE(drv.snapshotIsCurrent(s1, 0));
    std::string xml = drv.snapshotGetXMLDesc({kTestUuid, "s2"}, 0);
    EXPECT_NE(xml.find("<state>running</state>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<name>s1</name>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<memory snapshot='internal'/>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<disk name='vda' snapshot='internal'/>"), std::string::npos) << xml;

    auto names = [](const std::vector<SnapshotRef>& l) {
        std::vector<std::string> out;
        for (const auto& r : l)
            out.push_back(r.name);
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 0)), (V{"s1", "s2", "s3"}));
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 1)), (V{"s1"}));
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 4)), (V{"s3"}));
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 8)), (V{"s1", "s2"}));
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 16)), V{});
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 18)).size(), 3u);
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 32)), V{});
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 64)).size(), 3u);
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 1024)), (V{"s1", "s2", "s3"}));
    EXPECT_EQ(names(drv.snapshotListChildren(s1, 0)), (V{"s2"}));
    EXPECT_EQ(names(drv.snapshotListChildren(s1, 1)), (V{"s2", "s3"}));
    EXPECT_EQ(errorOf([&] { drv.domainListSnapshots(kTestUuid, 2048); }),
              "unsupported flags (0x800) in function testDomainListAllSnapshots");

    // Deleting s2 re-parents s3 onto s1.
    drv.snapshotDelete({kTestUuid, "s2"}, 0);
    EXPECT_EQ(drv.snapshotGetParent({kTestUuid, "s3"}, 0).name, "s1");
    EXPECT_EQ(errorOf([&] { drv.snapshotDelete(s1, 5); }),
              "Flags 'VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN' and 'VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY' are "
              "mutually exclusive");
    drv.snapshotDelete(s1, 4); // children only: s3 goes, s1 becomes current
    EXPECT_EQ(names(drv.domainListSnapshots(kTestUuid, 0)), (V{"s1"}));
    EXPECT_EQ(drv.domainSnapshotCurrent(kTestUuid, 0).name, "s1");
    drv.snapshotDelete(s1, 0);
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotCurrent(kTestUuid, 0); }),
              "Domain snapshot not found: the domain does not have a current snapshot");
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotLookupByName(kTestUuid, "s1", 0); }),
              "Domain snapshot not found: no domain snapshot with matching name 's1'");
    EXPECT_FALSE(drv.snapshotExists(kTestUuid, "s1"));
    EXPECT_TRUE(sink.events.empty());
}

TEST_F(TestDriverTest, SnapshotRevert)
{
    SnapshotRef run = drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>run</name></domainsnapshot>", 0);
    drv.domainSetMemory(kTestUuid, 100000, 0);
    // running -> running: stopped and started again from the snapshot.
    drv.snapshotRevert(run, 0);
    EXPECT_EQ(sink.take(), (Ev{{5, 6}, {2, 3}}));
    EXPECT_EQ(state(), std::make_tuple(1, 4));
    EXPECT_NE(drv.domainGetXMLDesc(kTestUuid, 0).find("<currentMemory unit='KiB'>2097152</currentMemory>"),
              std::string::npos);
    // running -> paused with the PAUSED flag.
    drv.snapshotRevert(run, 2);
    EXPECT_EQ(sink.take(), (Ev{{5, 6}, {2, 3}, {3, 5}}));
    EXPECT_EQ(state(), std::make_tuple(3, 7));
    drv.domainDestroy(kTestUuid, 0);
    sink.take();
    SnapshotRef off = drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>off</name></domainsnapshot>", 0);
    EXPECT_NE(drv.snapshotGetXMLDesc(off, 0).find("<memory snapshot='no'/>"), std::string::npos);
    EXPECT_EQ(drv.snapshotGetParent(off, 0).name, "run");
    // inactive -> inactive: nothing happens.
    drv.snapshotRevert(off, 0);
    EXPECT_EQ(sink.take(), Ev{});
    EXPECT_EQ(state(), std::make_tuple(5, 2));
    // inactive -> running.
    drv.snapshotRevert(run, 0);
    EXPECT_EQ(sink.take(), (Ev{{2, 3}}));
    // running -> inactive.
    drv.snapshotRevert(off, 0);
    EXPECT_EQ(sink.take(), (Ev{{5, 6}}));
    EXPECT_EQ(state(), std::make_tuple(5, 7));
    EXPECT_TRUE(drv.snapshotIsCurrent(off, 0));
    EXPECT_EQ(errorOf([&] { drv.snapshotRevert(off, 3); }),
              "Flags 'VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING' and 'VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED' are mutually "
              "exclusive");
    // HALT stops the guest once the snapshot is taken.
    drv.domainCreate(kTestUuid, 0);
    sink.take();
    drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>halt</name></domainsnapshot>", 8);
    EXPECT_EQ(sink.take(), (Ev{{5, 6}}));
    EXPECT_EQ(state(), std::make_tuple(5, 7));
    // Undefining an inactive domain with snapshots needs SNAPSHOTS_METADATA.
    EXPECT_EQ(errorOf([&] { drv.domainUndefine(kTestUuid, 0); }),
              "Requested operation is not valid: cannot delete inactive domain with 3 snapshots");
    drv.domainUndefine(kTestUuid, 2);
    EXPECT_FALSE(drv.domainExists(kTestUuid));
}

TEST_F(TestDriverTest, SnapshotRedefine)
{
    drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>a</name></domainsnapshot>", 0);
    std::string x = drv.snapshotGetXMLDesc({kTestUuid, "a"}, 0);
    std::string b = x;
    b.replace(b.find("<name>a</name>"), 14, "<name>b</name>");
    std::string bad = b;
    bad.replace(bad.find("<state>"), 7, "<parent><name>zz</name></parent><state>");
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, bad, 1); }),
              "invalid argument: parent zz for moment b not found");
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot><name>r</name></domainsnapshot>", 1); }),
              "internal error: missing creationTime from existing snapshot");
    drv.domainSnapshotCreateXML(kTestUuid, b, 1);
    EXPECT_FALSE(drv.snapshotIsCurrent({kTestUuid, "b"}, 0));
    drv.domainSnapshotCreateXML(kTestUuid, b, 3);
    EXPECT_TRUE(drv.snapshotIsCurrent({kTestUuid, "b"}, 0));
    EXPECT_EQ(errorOf([&] { drv.domainSnapshotCreateXML(kTestUuid, "<domainsnapshot/>", 2); }),
              "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'");
}

TEST_F(TestDriverTest, CapabilitiesValidate)
{
    const char* dir = std::getenv("VIRTBUS_SCHEMA_DIR");
    std::string schemas = dir ? dir : "/usr/share/libvirt/schemas";
    std::string caps = drv.capabilities();
    EXPECT_NE(caps.find("<model>testSecurity</model>"), std::string::npos);
    if (!std::filesystem::exists(schemas + "/capability.rng"))
        GTEST_SKIP() << "libvirt schemas not installed";
    std::string file = std::filesystem::temp_directory_path() / ("caps-" + std::to_string(::getpid()) + ".xml");
    std::ofstream(file) << caps;
    std::string cmd = "xmllint --noout --relaxng " + schemas + "/capability.rng " + file + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::filesystem::remove(file);
    EXPECT_EQ(drv.cpuModelNames("x86_64", 0).size(), 58u);
    EXPECT_EQ(errorOf([&] { drv.cpuModelNames("foo", 0); }), "invalid argument: cannot find architecture foo");
    std::string base = drv.baselineCPU({"<cpu><arch>x86_64</arch><model>Haswell</model><vendor>Intel</vendor></cpu>",
                                        "<cpu><arch>x86_64</arch><model>SandyBridge</model><vendor>Intel</vendor></cpu>"},
                                       0);
    EXPECT_EQ(base, "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>SandyBridge</model>\n"
                    "  <vendor>Intel</vendor>\n</cpu>\n");
    EXPECT_EQ(errorOf([&] { drv.baselineCPU({}, 0); }), "invalid argument: no CPUs given");
}

TEST_F(TestDriverTest, TenThousandDomains)
{
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10000; ++i)
        drv.domainDefineXML(domainXml("vm" + std::to_string(100000 + i)), 0);
    auto defined = std::chrono::steady_clock::now();
    auto list = drv.listDomains(0);
    ASSERT_EQ(list.size(), 10001u);
    EXPECT_EQ(list.front().name, "test");
    EXPECT_EQ(list[1].name, "vm100000");
    EXPECT_EQ(drv.listDomains(2).size(), 10000u);
    for (int i = 0; i < 10000; i += 7)
        EXPECT_TRUE(drv.domainExists(drv.domainLookupByName("vm" + std::to_string(100000 + i)).uuid));
    auto listed = std::chrono::steady_clock::now();
    for (int round = 0; round < 20; ++round)
        drv.listDomains(0);
    auto end = std::chrono::steady_clock::now();
    using ms = std::chrono::milliseconds;
    EXPECT_LT(std::chrono::duration_cast<ms>(defined - start).count(), 20000);
    // Twenty listings of 10,001 domains: no per-domain XML work.
    EXPECT_LT(std::chrono::duration_cast<ms>(end - listed).count(), 2000);
    EXPECT_EQ(sink.events.size(), 10000u);
}

} // namespace
