// The test connection's networks, without a bus: the default world, every
// transition and its NetworkEvent, libvirt's state rules and error texts
// (as libvirt 9.0's test driver words them, checked with virsh), list
// filters, Update and a 10,000-network sanity check.
#include "test/test_network.h"

#include <gtest/gtest.h>

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

using namespace virtbus;

namespace {

constexpr const char* kDefaultUuid = "dd8fe884-6c02-601e-7551-cca97df1c5df";

constexpr const char* kDefaultXml = "<network>\n"
                                    "  <name>default</name>\n"
                                    "  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\n"
                                    "  <forward mode='nat'/>\n"
                                    "  <bridge name='virbr0' stp='on' delay='0'/>\n"
                                    "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n"
                                    "    <dhcp>\n"
                                    "      <range start='192.168.122.2' end='192.168.122.254'/>\n"
                                    "%s"
                                    "    </dhcp>\n"
                                    "  </ip>\n"
                                    "</network>\n";

std::string defaultXmlWith(const std::string& hosts)
{
    char buf[2048];
    std::snprintf(buf, sizeof buf, kDefaultXml, hosts.c_str());
    return buf;
}

std::string host(int n)
{
    return "<host mac='52:54:00:00:00:0" + std::to_string(n) + "' name='h" + std::to_string(n) + "' ip='192.168.122.1"
        + std::to_string(n) + "'/>";
}
std::string hostLine(int n) { return "      " + host(n) + "\n"; }

std::string netXml(const std::string& name, const std::string& uuid, const std::string& extra = "")
{
    return "<network><name>" + name + "</name><uuid>" + uuid + "</uuid>" + extra + "</network>";
}

constexpr const char* kUuid1 = "11111111-2222-3333-4444-555555555555";
constexpr const char* kUuid2 = "11111111-2222-3333-4444-666666666666";

class RecordingSink : public EventSink {
public:
    void domainLifecycle(const std::string&, int32_t, int32_t) override { }
    void domainSignal(const std::string&, const DomainSignal&) override { }
    void networkLifecycle(const std::string& uuid, int32_t event) override { events.emplace_back(uuid, event); }
    std::vector<std::pair<std::string, int32_t>> events;
};

// Runs `f`, which must throw VirtError with exactly `message`.
template <class F>
void expectError(F&& f, ErrCode code, const std::string& message)
{
    try {
        f();
        ADD_FAILURE() << "no error, expected: " << message;
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        EXPECT_EQ(std::string(e.what()), message);
    }
}

// Update commands, sections and flags (virNetworkUpdate*).
enum : uint32_t { kModify = 1, kDelete = 2, kAddLast = 3, kAddFirst = 4 };
enum : uint32_t { kSecBridge = 1, kSecDhcpHost = 4, kSecDhcpRange = 5, kSecForwardIface = 7, kSecDnsHost = 10 };
enum : uint32_t { kCurrent = 0, kLive = 1, kConfig = 2 };

class TestNetworkTest : public ::testing::Test {
protected:
    TestNetworkTest() { drv.setEventSink(&sink); }
    std::vector<std::pair<std::string, int32_t>> takeEvents() { return std::exchange(sink.events, {}); }
    std::vector<std::string> names(uint32_t flags)
    {
        std::vector<std::string> out;
        for (const auto& r : drv.listNetworks(flags))
            out.push_back(r.name);
        return out;
    }
    using Events = std::vector<std::pair<std::string, int32_t>>;

    RecordingSink sink;
    TestNetworkDriver drv;
};

TEST_F(TestNetworkTest, DefaultWorld)
{
    auto list = drv.listNetworks(0);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, "default");
    EXPECT_EQ(list[0].uuid, kDefaultUuid);
    NetworkSummary s = drv.networkSummary(kDefaultUuid);
    EXPECT_EQ(s.name, "default");
    EXPECT_EQ(s.bridge, "virbr0");
    EXPECT_TRUE(s.active);
    EXPECT_TRUE(s.persistent);
    EXPECT_FALSE(s.autostart);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
    EXPECT_TRUE(drv.networkExists(kDefaultUuid));
    EXPECT_FALSE(drv.networkExists(kUuid1));
    EXPECT_TRUE(takeEvents().empty());
}

TEST_F(TestNetworkTest, Lookups)
{
    EXPECT_EQ(drv.networkLookupByName("default").uuid, kDefaultUuid);
    EXPECT_EQ(drv.networkLookupByUUID(kDefaultUuid).name, "default");
    EXPECT_EQ(drv.networkLookupByUUID("DD8FE8846C02601E7551CCA97DF1C5DF").uuid, kDefaultUuid);
    expectError([&] { drv.networkLookupByName("nope"); }, ErrCode::NoNetwork,
        "Network not found: no network with matching name 'nope'");
    expectError([&] { drv.networkLookupByUUID(kUuid1); }, ErrCode::NoNetwork,
        std::string("Network not found: no network with matching uuid '") + kUuid1 + "'");
    expectError([&] { drv.networkLookupByUUID("not-a-uuid"); }, ErrCode::InvalidArg,
        "uuidstr in virNetworkLookupByUUIDString must be a valid UUID");
    expectError([&] { drv.networkSummary(kUuid1); }, ErrCode::NoNetwork,
        std::string("Network not found: no network with matching uuid '") + kUuid1 + "'");
}

TEST_F(TestNetworkTest, DefineStartDestroyUndefine)
{
    NetworkRef r = drv.networkDefineXML(netXml("n1", kUuid1, "<bridge name='br1'/>"));
    EXPECT_EQ(r.name, "n1");
    EXPECT_EQ(r.uuid, kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetDefined}}));
    NetworkSummary s = drv.networkSummary(kUuid1);
    EXPECT_FALSE(s.active);
    EXPECT_TRUE(s.persistent);
    EXPECT_EQ(s.bridge, "br1");

    drv.networkCreate(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetStarted}}));
    EXPECT_TRUE(drv.networkSummary(kUuid1).active);
    expectError([&] { drv.networkCreate(kUuid1); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: Network 'n1' is already running");
    expectError([&] { drv.networkUndefine(kUuid1); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: Network 'n1' is still running");
    EXPECT_TRUE(takeEvents().empty());

    drv.networkDestroy(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetStopped}}));
    EXPECT_FALSE(drv.networkSummary(kUuid1).active);
    // libvirt's test driver checks nothing on destroy: a stopped network
    // "stops" again.
    drv.networkDestroy(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetStopped}}));

    drv.networkUndefine(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetUndefined}}));
    EXPECT_FALSE(drv.networkExists(kUuid1));
    expectError([&] { drv.networkUndefine(kUuid1); }, ErrCode::NoNetwork,
        std::string("Network not found: no network with matching uuid '") + kUuid1 + "'");
    EXPECT_EQ(names(0), std::vector<std::string> {"default"});
}

TEST_F(TestNetworkTest, RedefinitionRules)
{
    drv.networkDefineXML(netXml("n1", kUuid1));
    takeEvents();
    // Same name and UUID: a redefinition, reported as DEFINED again.
    drv.networkDefineXML(netXml("n1", kUuid1, "<bridge name='br9'/>"));
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetDefined}}));
    EXPECT_EQ(drv.networkSummary(kUuid1).bridge, "br9");

    expectError([&] { drv.networkDefineXML(netXml("n1", kUuid2)); }, ErrCode::OperationFailed,
        std::string("operation failed: network 'n1' already exists with uuid ") + kUuid1);
    expectError([&] { drv.networkDefineXML(netXml("other", kUuid1)); }, ErrCode::OperationFailed,
        std::string("operation failed: network 'n1' is already defined with uuid ") + kUuid1);
    expectError([&] { drv.networkCreateXML(netXml("n1", kUuid2)); }, ErrCode::OperationFailed,
        std::string("operation failed: network 'n1' already exists with uuid ") + kUuid1);
    expectError([&] { drv.networkCreateXML(netXml("default", kDefaultUuid)); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: network is already active as 'default'");
    EXPECT_TRUE(takeEvents().empty());
    EXPECT_EQ(names(0), (std::vector<std::string> {"default", "n1"}));
    EXPECT_EQ(drv.networkSummary(kUuid1).bridge, "br9");

    // Redefining a running network leaves the running definition alone.
    drv.networkDefineXML(netXml("default", kDefaultUuid, "<bridge name='virbr7'/>"));
    EXPECT_EQ(takeEvents(), (Events {{kDefaultUuid, ev::NetDefined}}));
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
    // ... and, as in libvirt's test driver, Destroy does not bring the new
    // one into force either.
    drv.networkDestroy(kDefaultUuid);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
}

TEST_F(TestNetworkTest, BadXmlChangesNothing)
{
    EXPECT_THROW(drv.networkDefineXML("<network><name>x"), VirtError);
    EXPECT_THROW(drv.networkDefineXML("<domain/>"), VirtError);
    EXPECT_THROW(drv.networkCreateXML("<network/>"), VirtError);
    EXPECT_TRUE(takeEvents().empty());
    EXPECT_EQ(names(0), std::vector<std::string> {"default"});
}

TEST_F(TestNetworkTest, TransientNetwork)
{
    NetworkRef r = drv.networkCreateXML(netXml("t1", kUuid1));
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetStarted}}));
    NetworkSummary s = drv.networkSummary(r.uuid);
    EXPECT_TRUE(s.active);
    EXPECT_FALSE(s.persistent);
    // Autostart is accepted on a transient network, as libvirt's test
    // driver does.
    drv.networkSetAutostart(r.uuid, true);
    EXPECT_TRUE(drv.networkSummary(r.uuid).autostart);
    drv.networkDestroy(r.uuid);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetStopped}}));
    EXPECT_FALSE(drv.networkExists(kUuid1));
}

TEST_F(TestNetworkTest, CreateXMLOverStoppedPersistentNetwork)
{
    drv.networkDefineXML(netXml("n1", kUuid1, "<bridge name='br1'/>"));
    takeEvents();
    drv.networkCreateXML(netXml("n1", kUuid1, "<bridge name='br2'/>"));
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::NetStarted}}));
    NetworkSummary s = drv.networkSummary(kUuid1);
    EXPECT_TRUE(s.active);
    EXPECT_TRUE(s.persistent);
    EXPECT_EQ(s.bridge, "br2");
    drv.networkDestroy(kUuid1);
    EXPECT_TRUE(drv.networkExists(kUuid1));
}

TEST_F(TestNetworkTest, ListFilters)
{
    drv.networkDefineXML(netXml("b-inactive", kUuid1));
    drv.networkCreateXML(netXml("a-transient", kUuid2));
    drv.networkSetAutostart(kUuid1, true);
    using V = std::vector<std::string>;
    EXPECT_EQ(names(0), (V {"a-transient", "b-inactive", "default"}));
    EXPECT_EQ(names(1), (V {"b-inactive"}));
    EXPECT_EQ(names(2), (V {"a-transient", "default"}));
    EXPECT_EQ(names(1 | 2), (V {"a-transient", "b-inactive", "default"}));
    EXPECT_EQ(names(4), (V {"b-inactive", "default"}));
    EXPECT_EQ(names(8), (V {"a-transient"}));
    EXPECT_EQ(names(16), (V {"b-inactive"}));
    EXPECT_EQ(names(32), (V {"a-transient", "default"}));
    EXPECT_EQ(names(2 | 4), (V {"default"}));
    EXPECT_EQ(names(1 | 8), (V {}));
    expectError([&] { drv.listNetworks(64); }, ErrCode::InvalidArg,
        "unsupported flags (0x40) in function testConnectListAllNetworks");
}

TEST_F(TestNetworkTest, GetXMLDescTakesNoFlags)
{
    expectError([&] { drv.networkGetXMLDesc(kDefaultUuid, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testNetworkGetXMLDesc");
}

TEST_F(TestNetworkTest, UpdateDhcpHosts)
{
    // AFFECT_CURRENT on a running network edits the live definition.
    drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(1), kCurrent);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(hostLine(1)));
    drv.networkUpdate(kDefaultUuid, kAddFirst, kSecDhcpHost, -1, host(2), kLive | kConfig);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(hostLine(2) + hostLine(1)));
    drv.networkUpdate(kDefaultUuid, kDelete, kSecDhcpHost, -1, "<host mac='52:54:00:00:00:01'/>", kLive);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(hostLine(2)));
    // A duplicate fails and changes nothing.
    EXPECT_THROW(drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(2), kLive), VirtError);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(hostLine(2)));
    EXPECT_TRUE(takeEvents().empty());
}

// The sequence libvirt 9.0 shows with virsh net-update: a persistent edit
// of a running network waits in the pending definition, Destroy does not
// apply it, and the next persistent edit of the stopped network starts
// from the pending definition (so h2 is lost when h3 is added).
TEST_F(TestNetworkTest, UpdatePersistentConfigLikeLibvirt)
{
    drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(1), kConfig);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
    drv.networkDestroy(kDefaultUuid);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
    drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(2), kConfig);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(hostLine(1) + hostLine(2)));
    expectError([&] { drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(3), kLive); },
        ErrCode::OperationInvalid, "Requested operation is not valid: network is not running");
    drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(3), kCurrent);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(hostLine(1) + hostLine(3)));
}

TEST_F(TestNetworkTest, UpdateRules)
{
    drv.networkCreateXML(netXml("t1", kUuid1, "<ip address='10.0.0.1' prefix='24'/>"));
    expectError(
        [&] {
            drv.networkUpdate(
                kUuid1, kAddLast, kSecDhcpHost, -1, "<host mac='52:54:00:00:00:01' ip='10.0.0.5'/>", kConfig);
        },
        ErrCode::OperationInvalid,
        "Requested operation is not valid: cannot change persistent config of a transient network");
    expectError([&] { drv.networkUpdate(kDefaultUuid, kAddLast, kSecDhcpHost, -1, host(1), 4); }, ErrCode::InvalidArg,
        "unsupported flags (0x4) in function testNetworkUpdate");
    expectError([&] { drv.networkUpdate(kUuid2, kAddLast, kSecDhcpHost, -1, host(1), 0); }, ErrCode::NoNetwork,
        std::string("Network not found: no network with matching uuid '") + kUuid2 + "'");
    expectError([&] { drv.networkUpdate(kDefaultUuid, kAddLast, kSecBridge, -1, "<bridge name='x'/>", 0); },
        ErrCode::OperationUnsupported, "Operation not supported: can't update 'bridge' section of network 'default'");
    expectError(
        [&] {
            drv.networkUpdate(
                kDefaultUuid, kModify, kSecDhcpRange, -1, "<range start='192.168.122.2' end='192.168.122.100'/>", 0);
        },
        ErrCode::OperationUnsupported,
        "Operation not supported: dhcp ranges cannot be modified, only added or deleted");
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
}

TEST_F(TestNetworkTest, UpdateDnsHostAndForwardInterface)
{
    drv.networkUpdate(
        kDefaultUuid, kAddLast, kSecDnsHost, -1, "<host ip='192.168.122.5'><hostname>foo</hostname></host>", 0);
    drv.networkUpdate(kDefaultUuid, kAddLast, kSecForwardIface, -1, "<interface dev='eth5'/>", 0);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0),
        "<network>\n"
        "  <name>default</name>\n"
        "  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\n"
        "  <forward dev='eth5' mode='nat'>\n"
        "    <interface dev='eth5'/>\n"
        "  </forward>\n"
        "  <bridge name='virbr0' stp='on' delay='0'/>\n"
        "  <dns>\n"
        "    <host ip='192.168.122.5'>\n"
        "      <hostname>foo</hostname>\n"
        "    </host>\n"
        "  </dns>\n"
        "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n"
        "    <dhcp>\n"
        "      <range start='192.168.122.2' end='192.168.122.254'/>\n"
        "    </dhcp>\n"
        "  </ip>\n"
        "</network>\n");
    drv.networkUpdate(
        kDefaultUuid, kDelete, kSecDnsHost, -1, "<host ip='192.168.122.5'><hostname>foo</hostname></host>", 0);
    drv.networkUpdate(kDefaultUuid, kDelete, kSecForwardIface, -1, "<interface dev='eth5'/>", 0);
    EXPECT_EQ(drv.networkGetXMLDesc(kDefaultUuid, 0), defaultXmlWith(""));
}

TEST_F(TestNetworkTest, NoSinkIsFine)
{
    drv.setEventSink(nullptr);
    drv.networkDefineXML(netXml("n1", kUuid1));
    drv.networkCreate(kUuid1);
    drv.networkDestroy(kUuid1);
    drv.networkUndefine(kUuid1);
    EXPECT_TRUE(sink.events.empty());
}

TEST_F(TestNetworkTest, DhcpLeasesAreNotSupported)
{
    expectError([&] { drv.networkGetDHCPLeases(kDefaultUuid, "", 0); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: virNetworkGetDHCPLeases");
}

// 10,000 networks: defining and listing stay fast, lookups stay O(1), and
// each network costs well under 4 KB.
TEST_F(TestNetworkTest, TenThousandNetworks)
{
    drv.setEventSink(nullptr);
    constexpr int kCount = 10000;
    std::vector<std::string> uuids;
    uuids.reserve(kCount);
    for (int i = 0; i < kCount; ++i) {
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
        uuids.emplace_back(uuid);
    }
    auto t0 = std::chrono::steady_clock::now();
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < kCount; ++i)
        drv.networkDefineXML(netXml("net" + std::to_string(i), uuids[i],
            "<bridge name='vb" + std::to_string(i) + "'/><ip address='10.1.0.1' netmask='255.255.255.0'/>"));
    size_t after = mallinfo2().uordblks;
    auto t1 = std::chrono::steady_clock::now();
    auto list = drv.listNetworks(0);
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_EQ(list.size(), size_t(kCount + 1));
    for (int i = 0; i < kCount; ++i)
        ASSERT_TRUE(drv.networkSummary(uuids[i]).persistent);
    auto t3 = std::chrono::steady_clock::now();

    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    double perNet = double(after - before) / kCount;
    std::printf("define %lld ms, list %lld ms, %d summaries %lld ms, %.0f bytes per network\n",
        static_cast<long long>(ms(t1 - t0)), static_cast<long long>(ms(t2 - t1)), kCount,
        static_cast<long long>(ms(t3 - t2)), perNet);
    EXPECT_LT(perNet, 4096.0);
    EXPECT_LT(ms(t2 - t1), 500);
    EXPECT_LT(ms(t3 - t2), 500);
    EXPECT_LT(ms(t1 - t0), 20000);
}

} // namespace
