// The test driver's object-tree notifications without a bus: which objects
// it reports added, removed and changed (with which prop:: bits) for each
// domain, snapshot, network, pool and volume call, that nothing is
// reported for a call that changes nothing, and that they reach the sink
// after the driver's lock is released.
#include "test/test_driver.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

using namespace virtbus;

namespace {

const std::string kTestUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
const std::string kUuid = "11111111-2222-3333-4444-555555555555";
const std::string kNetUuid = "22222222-2222-3333-4444-555555555555";
const std::string kPoolUuid = "33333333-2222-3333-4444-555555555555";

const char* kindOf(ObjectType t)
{
    switch (t) {
    case ObjectType::Domain: return "dom";
    case ObjectType::DomainSnapshot: return "snap";
    case ObjectType::Network: return "net";
    case ObjectType::StoragePool: return "pool";
    case ObjectType::StorageVol: return "vol";
    default: return "other";
    }
}

std::string propsOf(uint32_t props)
{
    static const std::pair<uint32_t, const char*> names[] = {
        {prop::Active, "Active"}, {prop::Id, "Id"}, {prop::Persistent, "Persistent"},
        {prop::Autostart, "Autostart"}, {prop::Name, "Name"}, {prop::Updated, "Updated"},
    };
    std::string out;
    for (const auto& [bit, name] : names)
        if (props & bit)
            out += (out.empty() ? "" : ",") + std::string(name);
    return out;
}

// Notifications as text, in order: "+dom", "-snap:s1", "~dom:Active,Id".
// Keys are left out (each test touches one object of a kind) except a
// snapshot's name. Each notification also calls back into the driver,
// which would deadlock if the driver still held its lock.
class TreeSink : public EventSink {
public:
    explicit TreeSink(TestDriver& d) : drv(d) {}
    void domainLifecycle(const std::string&, int32_t, int32_t) override { log.push_back("event"); }
    void domainSignal(const std::string&, const DomainSignal&) override {}
    void networkLifecycle(const std::string&, int32_t) override { log.push_back("event"); }
    void storagePoolLifecycle(const std::string&, int32_t, int32_t) override { log.push_back("event"); }
    void objectAdded(const ObjectId& id) override { record("+", id, ""); }
    void objectRemoved(const ObjectId& id) override { record("-", id, ""); }
    void propertiesChanged(const ObjectId& id, uint32_t props) override { record("~", id, propsOf(props)); }

    // The log without lifecycle events.
    std::vector<std::string> take()
    {
        std::vector<std::string> out;
        for (auto& e : log)
            if (e != "event")
                out.push_back(std::move(e));
        log.clear();
        return out;
    }

    TestDriver& drv;
    std::vector<std::string> log;

private:
    void record(const char* what, const ObjectId& id, const std::string& props)
    {
        drv.listDomains(0);
        drv.networks().listNetworks(0);
        drv.storage().listStoragePools(0);
        std::string e = what + std::string(kindOf(id.type));
        if (!id.sub.empty())
            e += ":" + id.sub;
        if (!props.empty())
            e += ":" + props;
        log.push_back(e);
    }
};

using Log = std::vector<std::string>;

std::string domainXml(const std::string& name, const std::string& uuid = kUuid)
{
    return "<domain type='test'><name>" + name + "</name><uuid>" + uuid
        + "</uuid><memory>1024</memory><os><type>hvm</type></os></domain>";
}

std::string snapXml(const std::string& name) { return "<domainsnapshot><name>" + name + "</name></domainsnapshot>"; }

class TreeTest : public ::testing::Test {
protected:
    TreeTest()
    {
        drv.setEventSink(&sink);
        drv.networks().setEventSink(&sink);
        drv.storage().setEventSink(&sink);
    }

    TestDriver drv;
    TreeSink sink{drv};
};

TEST_F(TreeTest, PersistentDomainLifecycle)
{
    drv.domainDefineXML(domainXml("d"), 0);
    EXPECT_EQ(sink.take(), Log{"+dom"});
    drv.domainDefineXML(domainXml("d"), 0); // an update changes no property
    EXPECT_EQ(sink.take(), Log{});
    drv.domainCreate(kUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Active,Id"});
    drv.domainSuspend(kUuid);
    drv.domainResume(kUuid);
    EXPECT_THROW(drv.domainResume(kUuid), VirtError);
    EXPECT_EQ(sink.take(), Log{});
    drv.domainSetAutostart(kUuid, true);
    EXPECT_EQ(sink.take(), Log{"~dom:Autostart"});
    drv.domainSetAutostart(kUuid, true);
    EXPECT_EQ(sink.take(), Log{});
    drv.domainDestroy(kUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Active,Id"});
    drv.domainRename(kUuid, "e", 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Name"});
    drv.domainCreate(kUuid, 0);
    sink.take();
    drv.domainUndefine(kUuid, 0); // running: it stays, transient
    EXPECT_EQ(sink.take(), Log{"~dom:Persistent"});
    drv.domainDefineXML(domainXml("e"), 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Persistent"});
    drv.domainShutdown(kUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Active,Id"});
    drv.domainUndefine(kUuid, 0);
    EXPECT_EQ(sink.take(), Log{"-dom"});
}

TEST_F(TreeTest, TransientDomainComesAndGoes)
{
    drv.domainCreateXML(domainXml("t"), 0);
    EXPECT_EQ(sink.take(), Log{"+dom"});
    drv.domainDestroy(kUuid, 0);
    EXPECT_EQ(sink.take(), Log{"-dom"});

    // Save and restore: the image outlives the domain.
    char dir[] = "/tmp/virtbus-tree-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string image = std::string(dir) + "/t.sav";
    drv.domainCreateXML(domainXml("t"), 0);
    sink.take();
    drv.domainSave(kUuid, image, "", 0);
    EXPECT_EQ(sink.take(), Log{"-dom"});
    drv.domainRestore(image, "", 0);
    EXPECT_EQ(sink.take(), Log{"+dom"});
    drv.domainCoreDump(kUuid, image, 0, 1 /* CRASH */);
    EXPECT_EQ(sink.take(), Log{"-dom"});
    std::filesystem::remove_all(dir);
}

TEST_F(TreeTest, TreeNotificationsComeBeforeLifecycleEvents)
{
    drv.domainDefineXML(domainXml("d"), 0);
    drv.domainCreate(kUuid, 0);
    drv.domainDestroy(kUuid, 0);
    drv.domainUndefine(kUuid, 0);
    EXPECT_EQ(sink.log, (Log{"+dom", "event", "~dom:Active,Id", "event", "~dom:Active,Id", "event", "-dom", "event"}));
}

TEST_F(TreeTest, Snapshots)
{
    drv.domainDefineXML(domainXml("d"), 0);
    drv.domainCreate(kUuid, 0);
    sink.take();
    drv.domainSnapshotCreateXML(kUuid, snapXml("s1"), 0);
    EXPECT_EQ(sink.take(), Log{"+snap:s1"});
    drv.domainSnapshotCreateXML(kUuid, snapXml("s2"), 8 /* HALT */);
    EXPECT_EQ(sink.take(), (Log{"+snap:s2", "~dom:Active,Id"}));
    drv.domainSnapshotCreateXML(kUuid, snapXml("s3"), 0);
    sink.take();
    drv.snapshotRevert({kUuid, "s1"}, 0); // s1 was taken running
    EXPECT_EQ(sink.take(), Log{"~dom:Active,Id"});
    drv.snapshotDelete({kUuid, "s1"}, 4 /* CHILDREN_ONLY */);
    EXPECT_EQ(sink.take(), (Log{"-snap:s2", "-snap:s3"}));
    drv.domainSnapshotCreateXML(kUuid, snapXml("s4"), 0);
    sink.take();
    // A transient domain takes its snapshots with it.
    drv.domainUndefine(kUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Persistent"});
    drv.domainDestroy(kUuid, 0);
    EXPECT_EQ(sink.take(), (Log{"-snap:s1", "-snap:s4", "-dom"}));
}

TEST_F(TreeTest, RevertAfterRenameKeepsTheName)
{
    drv.domainDefineXML(domainXml("before"), 0);
    drv.domainSnapshotCreateXML(kUuid, snapXml("s"), 0);
    drv.domainRename(kUuid, "after", 0);
    sink.take();
    drv.snapshotRevert({kUuid, "s"}, 0);
    EXPECT_EQ(sink.take(), Log{});
    EXPECT_EQ(drv.domainSummary(kUuid).name, "after");
    EXPECT_EQ(drv.domainLookupByName("after").uuid, kUuid);
    drv.domainUndefine(kUuid, 2 /* SNAPSHOTS_METADATA */);
    EXPECT_EQ(sink.take(), (Log{"-snap:s", "-dom"}));
    EXPECT_EQ(drv.listDomains(0).size(), 1u);
    EXPECT_THROW(drv.domainLookupByName("after"), VirtError);
}

TEST_F(TreeTest, ManagedSave)
{
    drv.domainManagedSave(kTestUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Active,Id"});
    drv.domainCreate(kTestUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~dom:Active,Id"});
}

std::string netXml(const std::string& name)
{
    return "<network><name>" + name + "</name><uuid>" + kNetUuid
        + "</uuid><ip address='192.168.1.1' netmask='255.255.255.0'><dhcp><range start='192.168.1.2'"
          " end='192.168.1.254'/></dhcp></ip></network>";
}

TEST_F(TreeTest, Networks)
{
    auto& n = drv.networks();
    n.networkDefineXML(netXml("n"));
    EXPECT_EQ(sink.take(), Log{"+net"});
    n.networkCreate(kNetUuid);
    EXPECT_EQ(sink.take(), Log{"~net:Active"});
    n.networkSetAutostart(kNetUuid, true);
    EXPECT_EQ(sink.take(), Log{"~net:Autostart"});
    n.networkSetAutostart(kNetUuid, true);
    n.networkUpdate(kNetUuid, 3, 4, -1, "<host mac='52:54:00:aa:bb:01' ip='192.168.1.10'/>", 0);
    EXPECT_EQ(sink.take(), Log{});
    n.networkDestroy(kNetUuid);
    EXPECT_EQ(sink.take(), Log{"~net:Active"});
    n.networkDestroy(kNetUuid); // the test driver lets a stopped network be destroyed
    EXPECT_EQ(sink.take(), Log{});
    n.networkCreateXML(netXml("n")); // over the stopped definition
    EXPECT_EQ(sink.take(), Log{"~net:Active"});
    n.networkDestroy(kNetUuid);
    n.networkUndefine(kNetUuid);
    EXPECT_EQ(sink.take(), (Log{"~net:Active", "-net"}));
    n.networkCreateXML(netXml("t"));
    EXPECT_EQ(sink.take(), Log{"+net"});
    n.networkDefineXML(netXml("t")); // a running transient network made persistent
    EXPECT_EQ(sink.take(), Log{"~net:Persistent"});
    n.networkDestroy(kNetUuid);
    n.networkUndefine(kNetUuid);
    EXPECT_EQ(sink.take(), (Log{"~net:Active", "-net"}));
}

std::string poolXml(const std::string& name)
{
    return "<pool type='dir'><name>" + name + "</name><uuid>" + kPoolUuid + "</uuid><target><path>/pools/" + name
        + "</path></target></pool>";
}

std::string volXml(const std::string& name)
{
    return "<volume><name>" + name + "</name><capacity>1024</capacity></volume>";
}

TEST_F(TreeTest, PoolsAndVolumes)
{
    auto& s = drv.storage();
    s.poolDefineXML(poolXml("p"), 0);
    EXPECT_EQ(sink.take(), Log{"+pool"});
    s.poolSetAutostart(kPoolUuid, true);
    EXPECT_EQ(sink.take(), Log{"~pool:Autostart"});
    s.poolSetAutostart(kPoolUuid, true);
    s.poolBuild(kPoolUuid, 0);
    s.poolDelete(kPoolUuid, 0);
    EXPECT_EQ(sink.take(), Log{});
    s.poolCreate(kPoolUuid, 0);
    EXPECT_EQ(sink.take(), Log{"~pool:Active"});
    s.poolRefresh(kPoolUuid, 0);
    EXPECT_EQ(sink.take(), Log{});
    std::string v1 = s.volCreateXML(kPoolUuid, volXml("v1"), 0).key;
    s.volCreateXML(kPoolUuid, volXml("v2"), 0);
    s.volCreateXMLFrom(kPoolUuid, volXml("v3"), v1, 0);
    EXPECT_EQ(sink.take(), (Log{"+vol", "+vol", "+vol"}));
    s.volDelete(v1, 0);
    EXPECT_EQ(sink.take(), Log{"-vol"});
    // Volumes are objects only while their pool runs.
    s.poolDestroy(kPoolUuid);
    EXPECT_EQ(sink.take(), (Log{"-vol", "-vol", "~pool:Active"}));
    s.poolCreate(kPoolUuid, 0);
    EXPECT_EQ(sink.take(), (Log{"~pool:Active", "+vol", "+vol"}));
    s.poolDefineXML(poolXml("p"), 0); // a new definition for a running pool changes no property
    EXPECT_EQ(sink.take(), Log{});
    s.poolDestroy(kPoolUuid);
    sink.take();
    // Over a stopped persistent pool, CreateXML makes it transient, which
    // also ends its autostart.
    s.poolCreateXML(poolXml("p"), 0);
    EXPECT_EQ(sink.take(), (Log{"~pool:Active,Persistent,Autostart", "+vol", "+vol"}));
    s.poolDestroy(kPoolUuid);
    EXPECT_EQ(sink.take(), (Log{"-vol", "-vol", "-pool"}));
    s.poolDefineXML(poolXml("p"), 0);
    s.poolUndefine(kPoolUuid);
    EXPECT_EQ(sink.take(), (Log{"+pool", "-pool"}));
}

} // namespace
