// The test connection's host interfaces, without a bus: the eth1 world,
// every transition and the object-tree notifications it causes, list
// filters, lookups by name and MAC, change transactions, and libvirt 9.0's
// test-driver error texts (checked with virsh and ctypes).
#include "test/test_interface.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

using namespace virtbus;

namespace {

constexpr const char* kMac = "aa:bb:cc:dd:ee:ff";

// virsh -c test:///default iface-dumpxml eth1
constexpr const char* kEth1Xml = "<interface type='ethernet' name='eth1'>\n"
                                 "  <start mode='onboot'/>\n"
                                 "  <mtu size='1492'/>\n"
                                 "  <protocol family='ipv4'>\n"
                                 "    <ip address='192.168.0.5' prefix='24'/>\n"
                                 "    <route gateway='192.168.0.1'/>\n"
                                 "  </protocol>\n"
                                 "  <mac address='aa:bb:cc:dd:ee:ff'/>\n"
                                 "</interface>\n";

std::string eth(const std::string& name, const std::string& mac)
{
    return "<interface type='ethernet' name='" + name + "'><start mode='none'/><mac address='" + mac
        + "'/></interface>";
}

// Object-tree notifications as text, in order: "+key", "-key", "~key:props".
class RecordingSink : public EventSink {
public:
    void domainLifecycle(const std::string&, int32_t, int32_t) override { }
    void domainSignal(const std::string&, const DomainSignal&) override { }
    void objectAdded(const ObjectId& id) override { record("+", id); }
    void objectRemoved(const ObjectId& id) override { record("-", id); }
    void propertiesChanged(const ObjectId& id, uint32_t props) override
    {
        record("~", id);
        log.back() += ":" + std::to_string(props);
    }
    std::vector<std::string> take() { return std::exchange(log, {}); }

    std::vector<std::string> log;

private:
    void record(const char* what, const ObjectId& id)
    {
        EXPECT_EQ(id.type, ObjectType::Interface);
        EXPECT_TRUE(id.sub.empty());
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

using Strings = std::vector<std::string>;

Strings names(const std::vector<IfaceRef>& refs)
{
    Strings out;
    for (const auto& r : refs)
        out.push_back(r.name + "=" + r.mac);
    return out;
}

class TestInterface : public ::testing::Test {
protected:
    TestInterface() { drv.setEventSink(&sink); }
    TestInterfaceDriver drv;
    RecordingSink sink;
};

} // namespace

TEST_F(TestInterface, WorldHasEth1)
{
    EXPECT_EQ(names(drv.listInterfaces(0)), (Strings{"eth1=aa:bb:cc:dd:ee:ff"}));
    IfaceSummary s = drv.ifaceSummary(kMac);
    EXPECT_EQ(s.name, "eth1");
    EXPECT_EQ(s.mac, kMac);
    EXPECT_TRUE(s.active);
    EXPECT_TRUE(drv.ifaceExists(kMac));
    EXPECT_EQ(drv.ifaceGetXMLDesc(kMac, 0), kEth1Xml);
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestInterface, ListFilters)
{
    drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 0);
    EXPECT_EQ(names(drv.listInterfaces(0)), (Strings{"eth1=aa:bb:cc:dd:ee:ff", "eth2=11:22:33:44:55:66"}));
    EXPECT_EQ(names(drv.listInterfaces(1)), (Strings{"eth2=11:22:33:44:55:66"}));
    EXPECT_EQ(names(drv.listInterfaces(2)), (Strings{"eth1=aa:bb:cc:dd:ee:ff"}));
    EXPECT_EQ(names(drv.listInterfaces(3)), (Strings{"eth1=aa:bb:cc:dd:ee:ff", "eth2=11:22:33:44:55:66"}));
    expectError([&] { drv.listInterfaces(4); }, ErrCode::InvalidArg,
        "unsupported flags (0x4) in function testConnectListAllInterfaces");
}

TEST_F(TestInterface, Lookups)
{
    IfaceRef r = drv.ifaceLookupByName("eth1");
    EXPECT_EQ(r.name, "eth1");
    EXPECT_EQ(r.mac, kMac);
    // Case-insensitive like libvirt, but the key is the definition's.
    r = drv.ifaceLookupByMAC("AA:BB:CC:DD:EE:FF");
    EXPECT_EQ(r.name, "eth1");
    EXPECT_EQ(r.mac, kMac);
    EXPECT_TRUE(drv.ifaceExists("AA:bb:CC:dd:EE:ff"));
    EXPECT_FALSE(drv.ifaceExists("11:22:33:44:55:66"));

    expectError([&] { drv.ifaceLookupByName("nope"); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching name 'nope'");
    expectError([&] { drv.ifaceLookupByName("../eth1"); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching name '../eth1'");
    expectError([&] { drv.ifaceLookupByMAC("zz"); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching mac 'zz'");
    expectError([&] { drv.ifaceSummary("11:22:33:44:55:66"); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching mac '11:22:33:44:55:66'");
    // Echoed arguments are capped.
    try {
        drv.ifaceLookupByName(std::string(100000, 'x'));
        ADD_FAILURE();
    } catch (const VirtError& e) {
        EXPECT_LT(std::string(e.what()).size(), 1200u);
    }
}

TEST_F(TestInterface, DefineRedefineAndUndefine)
{
    IfaceRef r = drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 0);
    EXPECT_EQ(r.name, "eth2");
    EXPECT_EQ(r.mac, "11:22:33:44:55:66");
    EXPECT_EQ(sink.take(), (Strings{"+11:22:33:44:55:66"}));
    EXPECT_FALSE(drv.ifaceSummary("11:22:33:44:55:66").active);
    EXPECT_EQ(drv.ifaceGetXMLDesc("11:22:33:44:55:66", 0),
        "<interface type='ethernet' name='eth2'>\n"
        "  <start mode='none'/>\n"
        "  <mac address='11:22:33:44:55:66'/>\n"
        "</interface>\n");

    // Same definition again: nothing visible changes.
    drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 0);
    EXPECT_TRUE(sink.take().empty());

    // Redefining eth1 keeps it running; its new MAC moves its object.
    r = drv.ifaceDefineXML(eth("eth1", "11:22:33:44:55:77"), 0);
    EXPECT_EQ(r.mac, "11:22:33:44:55:77");
    EXPECT_EQ(sink.take(), (Strings{"-aa:bb:cc:dd:ee:ff", "+11:22:33:44:55:77"}));
    EXPECT_TRUE(drv.ifaceSummary("11:22:33:44:55:77").active);
    EXPECT_FALSE(drv.ifaceExists(kMac));

    // Undefine takes a running interface too.
    drv.ifaceUndefine("11:22:33:44:55:77");
    EXPECT_EQ(sink.take(), (Strings{"-11:22:33:44:55:77"}));
    EXPECT_EQ(names(drv.listInterfaces(0)), (Strings{"eth2=11:22:33:44:55:66"}));
    expectError([&] { drv.ifaceUndefine("11:22:33:44:55:77"); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching mac '11:22:33:44:55:77'");
    expectError([&] { drv.ifaceGetXMLDesc("11:22:33:44:55:77", 0); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching mac '11:22:33:44:55:77'");
}

TEST_F(TestInterface, DefineFlagsAndValidation)
{
    expectError([&] { drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 2); }, ErrCode::InvalidArg,
        "unsupported flags (0x2) in function testInterfaceDefineXML");
    // VIR_INTERFACE_DEFINE_VALIDATE checks against libvirt's schema.
    drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 1);
    EXPECT_EQ(sink.take(), (Strings{"+11:22:33:44:55:66"}));
    try {
        drv.ifaceDefineXML("<interface type='ethernet' name='eth3'><bogus/></interface>", 1);
        ADD_FAILURE();
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::XmlInvalidSchema) << e.what();
    }
    EXPECT_EQ(drv.listInterfaces(0).size(), 2u);
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestInterface, RefusesUnsafeNamesAndBadMacs)
{
    // libvirt takes all of these; we refuse them and change nothing.
    expectError([&] { drv.ifaceDefineXML(eth("a/b", "11:22:33:44:55:66"), 0); }, ErrCode::XmlError,
        "XML error: name a/b cannot contain '/'");
    expectError([&] { drv.ifaceDefineXML(eth("..", "11:22:33:44:55:66"), 0); }, ErrCode::XmlError,
        "XML error: name '..' is not allowed");
    expectError([&] { drv.ifaceDefineXML(eth(".", "11:22:33:44:55:66"), 0); }, ErrCode::XmlError,
        "XML error: name '.' is not allowed");
    for (const char* mac : {"zz", "11:22:33:44:55", "11:22:33:44:55:66:77", "11-22-33-44-55-66"}) {
        try {
            drv.ifaceDefineXML(eth("eth2", mac), 0);
            ADD_FAILURE() << mac;
        } catch (const VirtError& e) {
            EXPECT_NE(std::string(e.what()).find(mac), std::string::npos) << e.what();
        }
    }
    try {
        drv.ifaceDefineXML("<interface", 0);
        ADD_FAILURE();
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::XmlError) << e.what();
    }
    EXPECT_EQ(names(drv.listInterfaces(0)), (Strings{"eth1=aa:bb:cc:dd:ee:ff"}));
    EXPECT_TRUE(sink.take().empty());
}

// Object paths name interfaces by MAC, so a MAC names one interface:
// defining a second with a MAC in use (in any spelling) fails and changes
// nothing (libvirt itself would accept it).
TEST_F(TestInterface, MacNamesOneInterface)
{
    for (const char* mac : {"AA:BB:CC:DD:EE:FF", kMac}) {
        expectError([&] { drv.ifaceDefineXML(eth("eth3", mac), 0); }, ErrCode::OperationFailed,
            "operation failed: interface 'eth1' already uses MAC address aa:bb:cc:dd:ee:ff");
        EXPECT_TRUE(sink.take().empty());
        expectError([&] { drv.ifaceLookupByName("eth3"); }, ErrCode::NoInterface,
            "Interface not found: no interface with matching name 'eth3'");
    }
    EXPECT_EQ(drv.ifaceLookupByMAC(kMac).name, "eth1");
    // Redefining eth1 itself with its own MAC is fine.
    drv.ifaceDefineXML(eth("eth1", kMac), 0);
    EXPECT_EQ(drv.ifaceLookupByMAC(kMac).name, "eth1");
}

TEST_F(TestInterface, CreateAndDestroy)
{
    const std::string active = "~aa:bb:cc:dd:ee:ff:" + std::to_string(prop::Active);
    expectError([&] { drv.ifaceCreate(kMac, 0); }, ErrCode::OperationInvalid, "Requested operation is not valid");
    drv.ifaceDestroy(kMac, 0);
    EXPECT_EQ(sink.take(), (Strings{active}));
    EXPECT_FALSE(drv.ifaceSummary(kMac).active);
    EXPECT_EQ(names(drv.listInterfaces(1)), (Strings{"eth1=aa:bb:cc:dd:ee:ff"}));
    expectError([&] { drv.ifaceDestroy(kMac, 0); }, ErrCode::OperationInvalid, "Requested operation is not valid");
    drv.ifaceCreate(kMac, 0);
    EXPECT_EQ(sink.take(), (Strings{active}));
    EXPECT_TRUE(drv.ifaceSummary(kMac).active);

    expectError([&] { drv.ifaceCreate(kMac, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testInterfaceCreate");
    expectError([&] { drv.ifaceDestroy(kMac, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testInterfaceDestroy");
    // The interface is looked up before the flags are checked.
    expectError([&] { drv.ifaceCreate("11:22:33:44:55:66", 1); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching mac '11:22:33:44:55:66'");
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestInterface, GetXMLDescTakesNoFlags)
{
    // libvirt 9.0's test driver refuses even VIR_INTERFACE_XML_INACTIVE.
    expectError([&] { drv.ifaceGetXMLDesc(kMac, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testInterfaceGetXMLDesc");
}

TEST_F(TestInterface, InterfacesWithoutMacHaveNoObject)
{
    IfaceRef r = drv.ifaceDefineXML("<interface type='bridge' name='br0'><bridge>"
                                    "<interface type='ethernet' name='eth9'><mac address='11:22:33:44:55:99'/>"
                                    "</interface></bridge></interface>",
        0);
    EXPECT_EQ(r.name, "br0");
    EXPECT_EQ(r.mac, "");
    EXPECT_TRUE(sink.take().empty());
    EXPECT_EQ(names(drv.listInterfaces(1)), (Strings{"br0="}));
    EXPECT_FALSE(drv.ifaceExists(""));
    expectError([&] { drv.ifaceLookupByMAC(""); }, ErrCode::NoInterface,
        "Interface not found: no interface with matching mac ''");
    // A member's MAC is not the bridge's.
    EXPECT_FALSE(drv.ifaceExists("11:22:33:44:55:99"));
    EXPECT_EQ(drv.ifaceLookupByName("br0").name, "br0");
}

TEST_F(TestInterface, TransactionErrors)
{
    expectError([&] { drv.changeCommit(0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: no transaction running, nothing to be committed.");
    expectError([&] { drv.changeRollback(0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: no transaction running, nothing to rollback.");
    expectError([&] { drv.changeBegin(1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testInterfaceChangeBegin");
    drv.changeBegin(0);
    expectError([&] { drv.changeBegin(0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: there is another transaction running.");
    expectError([&] { drv.changeCommit(2); }, ErrCode::InvalidArg,
        "unsupported flags (0x2) in function testInterfaceChangeCommit");
    expectError([&] { drv.changeRollback(4); }, ErrCode::InvalidArg,
        "unsupported flags (0x4) in function testInterfaceChangeRollback");
    drv.changeCommit(0);
    expectError([&] { drv.changeCommit(0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: no transaction running, nothing to be committed.");
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(TestInterface, RollbackRestoresDefinitionsInactive)
{
    drv.changeBegin(0);
    drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 0);
    drv.ifaceDefineXML(eth("eth1", "11:22:33:44:55:77"), 0);
    sink.take();
    drv.changeRollback(0);
    // eth2 gone, eth1 back with its old definition, and (as libvirt's
    // snapshot re-adds every interface afresh) no longer running.
    EXPECT_EQ(sink.take(), (Strings{"-11:22:33:44:55:66", "-11:22:33:44:55:77", "+aa:bb:cc:dd:ee:ff"}));
    EXPECT_EQ(names(drv.listInterfaces(0)), (Strings{"eth1=aa:bb:cc:dd:ee:ff"}));
    EXPECT_FALSE(drv.ifaceSummary(kMac).active);
    EXPECT_EQ(drv.ifaceGetXMLDesc(kMac, 0), kEth1Xml);

    // A rollback that only changes state reports it as such.
    drv.ifaceCreate(kMac, 0);
    sink.take();
    drv.changeBegin(0);
    drv.changeRollback(0);
    EXPECT_EQ(sink.take(), (Strings{"~aa:bb:cc:dd:ee:ff:" + std::to_string(prop::Active)}));

    // The snapshot is independent of later changes to the live set.
    drv.changeBegin(0);
    drv.ifaceUndefine(kMac);
    sink.take();
    drv.changeRollback(0);
    EXPECT_EQ(sink.take(), (Strings{"+aa:bb:cc:dd:ee:ff"}));
    EXPECT_EQ(drv.ifaceGetXMLDesc(kMac, 0), kEth1Xml);
}

TEST_F(TestInterface, AnotherInterfaceAtAMacIsAnotherObject)
{
    // Name is const on the bus, so a MAC that another interface takes over
    // is reported gone and back, never as a changed Name.
    drv.changeBegin(0);
    drv.ifaceUndefine(kMac);
    drv.ifaceDefineXML(eth("eth9", kMac), 0);
    EXPECT_EQ(sink.take(), (Strings{"-aa:bb:cc:dd:ee:ff", "+aa:bb:cc:dd:ee:ff"}));
    drv.changeRollback(0);
    EXPECT_EQ(sink.take(), (Strings{"-aa:bb:cc:dd:ee:ff", "+aa:bb:cc:dd:ee:ff"}));
    EXPECT_EQ(drv.ifaceSummary(kMac).name, "eth1");
}

TEST_F(TestInterface, CommitKeepsChanges)
{
    drv.changeBegin(0);
    drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 0);
    drv.ifaceDestroy(kMac, 0);
    sink.take();
    drv.changeCommit(0);
    EXPECT_TRUE(sink.take().empty());
    EXPECT_EQ(names(drv.listInterfaces(1)), (Strings{"eth1=aa:bb:cc:dd:ee:ff", "eth2=11:22:33:44:55:66"}));
    expectError([&] { drv.changeRollback(0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: no transaction running, nothing to rollback.");
}

TEST_F(TestInterface, SinkMayCallBack)
{
    // Notifications come after the lock is released.
    struct Reentrant : RecordingSink {
        TestInterfaceDriver* drv = nullptr;
        bool seen = false;
        void propertiesChanged(const ObjectId& id, uint32_t) override { seen = !drv->ifaceSummary(id.key).active; }
    } s;
    s.drv = &drv;
    drv.setEventSink(&s);
    drv.ifaceDestroy(kMac, 0);
    EXPECT_TRUE(s.seen);
}

TEST_F(TestInterface, WorksWithoutSink)
{
    drv.setEventSink(nullptr);
    drv.ifaceDefineXML(eth("eth2", "11:22:33:44:55:66"), 0);
    drv.ifaceDestroy(kMac, 0);
    drv.changeBegin(0);
    drv.ifaceUndefine("11:22:33:44:55:66");
    drv.changeRollback(0);
    EXPECT_EQ(drv.listInterfaces(0).size(), 2u);
    EXPECT_TRUE(sink.log.empty());
}
