// The test connection's node devices, without a bus: the world as virsh
// shows it, capability filters, vHBA creation and destruction with their
// NodeDeviceEvents and object-tree notifications, and libvirt 9.0's
// test-driver behaviour and error texts (checked with virsh and ctypes).
#include "test/test_nodedev.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

using namespace virtbus;

namespace {

using Strings = std::vector<std::string>;

// virsh -c test:///default nodedev-dumpxml <name>
constexpr const char* kComputerXml = "<device>\n"
                                     "  <name>computer</name>\n"
                                     "  <capability type='system'>\n"
                                     "    <hardware>\n"
                                     "      <vendor>Libvirt</vendor>\n"
                                     "      <version>Test driver</version>\n"
                                     "      <serial>123456</serial>\n"
                                     "      <uuid>11111111-2222-3333-4444-555555555555</uuid>\n"
                                     "    </hardware>\n"
                                     "    <firmware>\n"
                                     "      <vendor>Libvirt</vendor>\n"
                                     "      <version>Test Driver</version>\n"
                                     "      <release_date>01/22/2007</release_date>\n"
                                     "    </firmware>\n"
                                     "  </capability>\n"
                                     "</device>\n";

std::string hbaXml(const std::string& name, const std::string& parent, int host, int uniqueId,
    const std::string& wwnn, const std::string& wwpn, const std::string& fabric, bool vports)
{
    std::string x = "<device>\n"
                    "  <name>"
        + name + "</name>\n  <parent>" + parent + "</parent>\n  <capability type='scsi_host'>\n    <host>"
        + std::to_string(host) + "</host>\n    <unique_id>" + std::to_string(uniqueId)
        + "</unique_id>\n    <capability type='fc_host'>\n      <wwnn>" + wwnn + "</wwnn>\n      <wwpn>" + wwpn
        + "</wwpn>\n      <fabric_wwn>" + fabric + "</fabric_wwn>\n    </capability>\n";
    if (vports)
        x += "    <capability type='vport_ops'>\n"
             "      <max_vports>0</max_vports>\n"
             "      <vports>0</vports>\n"
             "    </capability>\n";
    return x + "  </capability>\n</device>\n";
}

std::string vhbaRequest(const std::string& parent, const std::string& wwnn = "2000000012345678",
    const std::string& wwpn = "1000000012345678")
{
    return "<device>" + parent + "<capability type='scsi_host'><capability type='fc_host'><wwnn>" + wwnn
        + "</wwnn><wwpn>" + wwpn + "</wwpn></capability></capability></device>";
}
std::string parentNamed(const std::string& name) { return "<parent>" + name + "</parent>"; }

// Everything the driver reports, as text: "+name", "-name" (object tree),
// "ev:name:event:detail" (NodeDeviceEvent).
class RecordingSink : public EventSink {
public:
    void domainLifecycle(const std::string&, int32_t, int32_t) override { }
    void domainSignal(const std::string&, const DomainSignal&) override { }
    void nodeDeviceLifecycle(const std::string& name, int32_t event, int32_t detail) override
    {
        log.push_back("ev:" + name + ":" + std::to_string(event) + ":" + std::to_string(detail));
    }
    void objectAdded(const ObjectId& id) override { record("+", id); }
    void objectRemoved(const ObjectId& id) override { record("-", id); }
    void propertiesChanged(const ObjectId& id, uint32_t) override { record("~", id); }
    Strings take() { return std::exchange(log, {}); }

    Strings log;

private:
    void record(const char* what, const ObjectId& id)
    {
        EXPECT_EQ(id.type, ObjectType::NodeDevice);
        log.push_back(what + id.key);
    }
};

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

// Runs `f`, which must throw VirtError with `code` and a message holding
// `part`.
template <class F>
void expectErrorWith(F&& f, ErrCode code, const std::string& part)
{
    try {
        f();
        ADD_FAILURE() << "no error, expected: " << part;
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

const Strings kWorld = {"computer", "scsi_host1", "scsi_host11", "scsi_host2"};

class TestNodeDev : public ::testing::Test {
protected:
    TestNodeDev() { drv.setEventSink(&sink); }
    TestNodeDeviceDriver drv;
    RecordingSink sink;
};

} // namespace

TEST_F(TestNodeDev, World)
{
    EXPECT_EQ(drv.listNodeDevices(0), kWorld);
    EXPECT_EQ(drv.nodeDeviceGetXMLDesc("computer", 0), kComputerXml);
    EXPECT_EQ(drv.nodeDeviceGetXMLDesc("scsi_host1", 0),
        hbaXml("scsi_host1", "computer", 1, 0, "2000000012341234", "1000000012341234", "2000000043214321", true));
    EXPECT_EQ(drv.nodeDeviceGetXMLDesc("scsi_host2", 0),
        hbaXml("scsi_host2", "computer", 2, 1, "2000000056785678", "1000000056785678", "2000000087658765", true));
    EXPECT_EQ(drv.nodeDeviceGetXMLDesc("scsi_host11", 0), hbaXml("scsi_host11", "scsi_host1", 11, 10,
        "2000000034563456", "1000000034563456", "2000000043214321", false));

    EXPECT_EQ(drv.nodeDeviceSummary("computer").parent, "");
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host1").parent, "computer");
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host2").parent, "computer");
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host11").parent, "scsi_host1");
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host11").name, "scsi_host11");

    // The test driver lists top-level capabilities only.
    EXPECT_EQ(drv.nodeDeviceListCaps("computer"), (Strings{"system"}));
    EXPECT_EQ(drv.nodeDeviceListCaps("scsi_host1"), (Strings{"scsi_host"}));
    EXPECT_EQ(drv.nodeDeviceListCaps("scsi_host11"), (Strings{"scsi_host"}));
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestNodeDev, CapabilityFilters)
{
    const Strings hbas = {"scsi_host1", "scsi_host11", "scsi_host2"};
    EXPECT_EQ(drv.listNodeDevices(1), (Strings{"computer"}));
    EXPECT_EQ(drv.listNodeDevices(32), hbas);
    EXPECT_EQ(drv.listNodeDevices(512), hbas);
    EXPECT_EQ(drv.listNodeDevices(1024), (Strings{"scsi_host1", "scsi_host2"}));
    EXPECT_EQ(drv.listNodeDevices(1 | 1024), (Strings{"computer", "scsi_host1", "scsi_host2"}));
    for (int bit : {1, 2, 3, 4, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21})
        EXPECT_TRUE(drv.listNodeDevices(1u << bit).empty()) << bit;
    EXPECT_EQ(drv.listNodeDevices((1u << 22) - 1), kWorld);
    // libvirt 9.0's test driver has no ACTIVE/INACTIVE/PERSISTENT filters.
    for (uint32_t bit = 22; bit < 32; ++bit) {
        char expected[100];
        std::snprintf(expected, sizeof expected, "unsupported flags (0x%x) in function testConnectListAllNodeDevices",
            1u << bit);
        expectError([&] { drv.listNodeDevices(1u << bit); }, ErrCode::InvalidArg, expected);
    }
}

TEST_F(TestNodeDev, Lookups)
{
    EXPECT_EQ(drv.nodeDeviceLookupByName("scsi_host2"), "scsi_host2");
    EXPECT_TRUE(drv.nodeDeviceExists("computer"));
    EXPECT_FALSE(drv.nodeDeviceExists("scsi_host12"));
    for (const char* bad : {"nope", "../computer", "scsi_host1/..", ""})
        expectError([&] { drv.nodeDeviceLookupByName(bad); }, ErrCode::NoNodeDevice,
            std::string("Node device not found: no node device with matching name '") + bad + "'");
    expectError([&] { drv.nodeDeviceSummary("nope"); }, ErrCode::NoNodeDevice,
        "Node device not found: no node device with matching name 'nope'");
    expectError([&] { drv.nodeDeviceListCaps("nope"); }, ErrCode::NoNodeDevice,
        "Node device not found: no node device with matching name 'nope'");
    // The device is found before the flags are checked.
    expectError([&] { drv.nodeDeviceGetXMLDesc("nope", 1); }, ErrCode::NoNodeDevice,
        "Node device not found: no node device with matching name 'nope'");
    expectError([&] { drv.nodeDeviceGetXMLDesc("computer", 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testNodeDeviceGetXMLDesc");
}

TEST_F(TestNodeDev, CreateVhba)
{
    EXPECT_EQ(drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 0), "scsi_host12");
    EXPECT_EQ(sink.take(), (Strings{"+scsi_host12", "ev:scsi_host12:0:0"}));
    EXPECT_EQ(drv.nodeDeviceGetXMLDesc("scsi_host12", 0), hbaXml("scsi_host12", "scsi_host1", 11, 10,
        "2000000012345678", "1000000012345678", "2000000043214321", false));
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host12").parent, "scsi_host1");
    EXPECT_EQ(drv.nodeDeviceListCaps("scsi_host12"), (Strings{"scsi_host"}));
    EXPECT_EQ(drv.listNodeDevices(0),
        (Strings{"computer", "scsi_host1", "scsi_host11", "scsi_host12", "scsi_host2"}));
    EXPECT_EQ(drv.listNodeDevices(512), (Strings{"scsi_host1", "scsi_host11", "scsi_host12", "scsi_host2"}));
    EXPECT_EQ(drv.listNodeDevices(1024), (Strings{"scsi_host1", "scsi_host2"}));

    // libvirt's mock always makes scsi_host12 under scsi_host1, whatever
    // parent was asked for: a second vHBA replaces the first.
    EXPECT_EQ(drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host2"), "0x2000000011112222",
                                          "0x1000000011112222"),
                  0),
        "scsi_host12");
    EXPECT_EQ(sink.take(), (Strings{"ev:scsi_host12:0:0"}));
    EXPECT_EQ(drv.nodeDeviceGetXMLDesc("scsi_host12", 0), hbaXml("scsi_host12", "scsi_host1", 11, 10,
        "0x2000000011112222", "0x1000000011112222", "2000000043214321", false));
    EXPECT_EQ(drv.listNodeDevices(0).size(), 5u);
}

TEST_F(TestNodeDev, CreateFindsParentsLikeLibvirt)
{
    // By the parent's WWNs, by its fabric, or any vport-capable HBA.
    for (const std::string parent : {"<parent wwnn='2000000056785678' wwpn='1000000056785678'/>",
             "<parent fabric_wwn='2000000043214321'/>", ""}) {
        EXPECT_EQ(drv.nodeDeviceCreateXML(vhbaRequest(parent), 0), "scsi_host12") << parent;
        drv.nodeDeviceDestroy("scsi_host12");
    }
    const std::string notFound = "internal error: Could not find parent device for 'new device'";
    expectError([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("nope")), 0); }, ErrCode::InternalError,
        notFound);
    // scsi_host11 has the WWNs but no vport_ops.
    expectError([&] {
        drv.nodeDeviceCreateXML(vhbaRequest("<parent wwnn='2000000034563456' wwpn='1000000034563456'/>"), 0);
    },
        ErrCode::InternalError, notFound);
    expectError([&] { drv.nodeDeviceCreateXML(vhbaRequest("<parent fabric_wwn='2000000087650000'/>"), 0); },
        ErrCode::InternalError, notFound);
    expectError([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("computer")), 0); },
        ErrCode::InternalError, "internal error: Parent device computer is not capable of vport operations");
    expectError([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host11")), 0); },
        ErrCode::InternalError, "internal error: Parent device scsi_host11 is not capable of vport operations");
    EXPECT_EQ(drv.listNodeDevices(0), kWorld);
    EXPECT_EQ(sink.take(), (Strings{"+scsi_host12", "ev:scsi_host12:0:0", "-scsi_host12", "ev:scsi_host12:1:0",
                               "+scsi_host12", "ev:scsi_host12:0:0", "-scsi_host12", "ev:scsi_host12:1:0",
                               "+scsi_host12", "ev:scsi_host12:0:0", "-scsi_host12", "ev:scsi_host12:1:0"}));
}

TEST_F(TestNodeDev, CreateRefusesBadRequests)
{
    expectError([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 2); }, ErrCode::InvalidArg,
        "unsupported flags (0x2) in function testNodeDeviceCreateXML");
    // Not an FC HBA.
    expectError([&] {
        drv.nodeDeviceCreateXML("<device><parent>scsi_host1</parent><capability type='scsi_host'/></device>", 0);
    },
        ErrCode::InternalError, "internal error: Device is not a fibre channel HBA");
    expectError([&] {
        drv.nodeDeviceCreateXML("<device><name>x</name><capability type='system'><hardware>"
                                "<uuid>11111111-2222-3333-4444-555555555555</uuid></hardware></capability></device>",
            0);
    },
        ErrCode::InternalError, "internal error: Device is not a fibre channel HBA");
    // Malformed or missing WWNs (libvirt takes malformed ones as given).
    expectErrorWith([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1"), "zz"), 0); },
        ErrCode::XmlError, "zz");
    expectErrorWith(
        [&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1"), "2000000012345678", "10000000123456"), 0); },
        ErrCode::XmlError, "10000000123456");
    expectErrorWith([&] {
        drv.nodeDeviceCreateXML("<device><parent>scsi_host1</parent><capability type='scsi_host'>"
                                "<capability type='fc_host'><wwpn>1000000012345678</wwpn></capability>"
                                "</capability></device>",
            0);
    },
        ErrCode::XmlError, "no WWNN supplied for 'new device'");
    expectErrorWith([&] { drv.nodeDeviceCreateXML(vhbaRequest("<parent wwnn='2000000012341234'/>"), 0); },
        ErrCode::XmlError, "the wwpn must also be provided");
    expectErrorWith([&] { drv.nodeDeviceCreateXML("garbage", 0); }, ErrCode::XmlError, "");
    // VIR_NODE_DEVICE_CREATE_XML_VALIDATE: libvirt's schema wants <host>
    // even in a creation request.
    expectErrorWith([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 1); },
        ErrCode::XmlInvalidSchema, "");
    EXPECT_EQ(drv.listNodeDevices(0), kWorld);
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestNodeDev, Destroy)
{
    drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 0);
    sink.take();
    drv.nodeDeviceDestroy("scsi_host12");
    EXPECT_EQ(sink.take(), (Strings{"-scsi_host12", "ev:scsi_host12:1:0"}));
    EXPECT_FALSE(drv.nodeDeviceExists("scsi_host12"));
    expectError([&] { drv.nodeDeviceDestroy("scsi_host12"); }, ErrCode::NoNodeDevice,
        "Node device not found: no node device with matching name 'scsi_host12'");
    // Only FC HBAs can go.
    expectError([&] { drv.nodeDeviceDestroy("computer"); }, ErrCode::InternalError,
        "internal error: Device is not a fibre channel HBA");
    EXPECT_EQ(drv.listNodeDevices(0), kWorld);
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestNodeDev, DestroyAnyHbaLikeLibvirt)
{
    // libvirt's test driver destroys any FC HBA whose parent exists.
    drv.nodeDeviceDestroy("scsi_host1");
    EXPECT_EQ(sink.take(), (Strings{"-scsi_host1", "ev:scsi_host1:1:0"}));
    // scsi_host11 stays, orphaned, and cannot be destroyed any more.
    expectError([&] { drv.nodeDeviceDestroy("scsi_host11"); }, ErrCode::InternalError,
        "internal error: cannot find parent 'scsi_host1' definition");
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host11").parent, "scsi_host1");
    // The vHBA mock still works through scsi_host2, and still files the
    // new device under scsi_host11's parent.
    EXPECT_EQ(drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host2")), 0), "scsi_host12");
    EXPECT_EQ(drv.nodeDeviceSummary("scsi_host12").parent, "scsi_host1");
    drv.nodeDeviceDestroy("scsi_host2");
    sink.take();
    expectError([&] { drv.nodeDeviceCreateXML(vhbaRequest(""), 0); }, ErrCode::InternalError,
        "internal error: Could not find any vport capable device");
    EXPECT_EQ(drv.listNodeDevices(0), (Strings{"computer", "scsi_host11", "scsi_host12"}));
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestNodeDev, CreateNeedsTheTemplate)
{
    drv.nodeDeviceDestroy("scsi_host11");
    sink.take();
    expectErrorWith([&] { drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 0); },
        ErrCode::InternalError, "scsi_host11");
    EXPECT_EQ(drv.listNodeDevices(0), (Strings{"computer", "scsi_host1", "scsi_host2"}));
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestNodeDev, NotSupportedLikeLibvirt)
{
    // libvirt 9.0's test driver implements none of these.
    expectError([&] { drv.nodeDeviceLookupSCSIHostByWWN("2000000012341234", "1000000012341234", 0); },
        ErrCode::NoSupport, "this function is not supported by the connection driver: virNodeDeviceLookupSCSIHostByWWN");
    expectError([&] { drv.nodeDeviceDetach("scsi_host2", "", 0); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: virNodeDeviceDetachFlags");
    expectError([&] { drv.nodeDeviceReAttach("scsi_host2"); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: virNodeDeviceReAttach");
    expectError([&] { drv.nodeDeviceReset("scsi_host2"); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: virNodeDeviceReset");
}

TEST_F(TestNodeDev, SinkMayCallBack)
{
    struct Reentrant : RecordingSink {
        TestNodeDeviceDriver* drv = nullptr;
        std::string parent;
        void nodeDeviceLifecycle(const std::string& name, int32_t, int32_t) override
        {
            parent = drv->nodeDeviceSummary(name).parent;
        }
    } s;
    s.drv = &drv;
    drv.setEventSink(&s);
    drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 0);
    EXPECT_EQ(s.parent, "scsi_host1");
}

TEST_F(TestNodeDev, WorksWithoutSink)
{
    drv.setEventSink(nullptr);
    drv.nodeDeviceCreateXML(vhbaRequest(parentNamed("scsi_host1")), 0);
    drv.nodeDeviceDestroy("scsi_host12");
    EXPECT_EQ(drv.listNodeDevices(0), kWorld);
    EXPECT_TRUE(sink.log.empty());
}
