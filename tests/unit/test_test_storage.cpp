// The test connection's storage pools and volumes, without a bus: the
// default world, every transition and its StoragePoolEvent, libvirt's state
// rules and error texts (as libvirt 9.0's test driver words them, checked
// with virsh), list filters, volume bookkeeping, FindStoragePoolSources and
// a 10,000-pool / 10,000-volume sanity check.
#include "test/test_storage.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace virtbus;

namespace {

constexpr const char* kPoolUuid = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566";
constexpr const char* kUuid1 = "11111111-2222-3333-4444-555555555555";
constexpr const char* kUuid2 = "11111111-2222-3333-4444-666666666666";
constexpr uint64_t kCap = 107374182400ULL;
constexpr uint64_t kGiB = 1024ULL * 1024 * 1024;
constexpr uint64_t kMiB = 1024ULL * 1024;

constexpr const char* kDefaultPoolXml = "<pool type='dir'>\n"
                                        "  <name>default-pool</name>\n"
                                        "  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>\n"
                                        "  <capacity unit='bytes'>107374182400</capacity>\n"
                                        "  <allocation unit='bytes'>0</allocation>\n"
                                        "  <available unit='bytes'>107374182400</available>\n"
                                        "  <source>\n"
                                        "  </source>\n"
                                        "  <target>\n"
                                        "    <path>/default-pool</path>\n"
                                        "  </target>\n"
                                        "</pool>\n";

std::string dirPool(const std::string& name, const std::string& uuid, const std::string& target)
{
    return "<pool type='dir'><name>" + name + "</name><uuid>" + uuid + "</uuid><target><path>" + target
        + "</path></target></pool>";
}

std::string vol(const std::string& name, const std::string& capacity = "<capacity unit='G'>1</capacity>",
    const std::string& extra = "")
{
    return "<volume><name>" + name + "</name>" + capacity + extra + "</volume>";
}

struct Event {
    std::string uuid;
    int32_t event, detail;
    bool operator==(const Event&) const = default;
};

class RecordingSink : public EventSink {
public:
    void domainLifecycle(const std::string&, int32_t, int32_t) override { }
    void domainSignal(const std::string&, const DomainSignal&) override { }
    void storagePoolLifecycle(const std::string& uuid, int32_t event, int32_t detail) override
    {
        events.push_back({uuid, event, detail});
    }
    void storagePoolRefresh(const std::string& uuid) override { refreshes.push_back(uuid); }
    std::vector<Event> events;
    std::vector<std::string> refreshes;
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

class TestStorageTest : public ::testing::Test {
protected:
    TestStorageTest() { drv.setEventSink(&sink); }
    std::vector<Event> takeEvents() { return std::exchange(sink.events, {}); }
    std::vector<std::string> names(uint32_t flags)
    {
        std::vector<std::string> out;
        for (const auto& r : drv.listStoragePools(flags))
            out.push_back(r.name);
        return out;
    }
    std::vector<std::string> volNames(const std::string& pool)
    {
        std::vector<std::string> out;
        for (const auto& v : drv.poolListVolumes(pool, 0))
            out.push_back(v.name);
        return out;
    }
    PoolInfo info(const std::string& pool = kPoolUuid) { return drv.poolGetInfo(pool); }

    RecordingSink sink;
    TestStorageDriver drv;
};

using V = std::vector<std::string>;
using Events = std::vector<Event>;

TEST_F(TestStorageTest, DefaultWorld)
{
    auto list = drv.listStoragePools(0);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, "default-pool");
    EXPECT_EQ(list[0].uuid, kPoolUuid);
    PoolSummary s = drv.poolSummary(kPoolUuid);
    EXPECT_EQ(s.name, "default-pool");
    EXPECT_TRUE(s.active);
    EXPECT_TRUE(s.persistent);
    EXPECT_FALSE(s.autostart);
    EXPECT_EQ(info(), (PoolInfo {2, kCap, 0, kCap}));
    EXPECT_EQ(drv.poolGetXMLDesc(kPoolUuid, 0), kDefaultPoolXml);
    EXPECT_TRUE(drv.poolListVolumes(kPoolUuid, 0).empty());
    EXPECT_TRUE(drv.poolExists(kPoolUuid));
    EXPECT_FALSE(drv.poolExists(kUuid1));
}

TEST_F(TestStorageTest, Lookups)
{
    EXPECT_EQ(drv.poolLookupByName("default-pool").uuid, kPoolUuid);
    EXPECT_EQ(drv.poolLookupByUUID("DFE224CB28FB8DD0C4B264EB3F0F4566").name, "default-pool");
    expectError([&] { drv.poolLookupByName("x"); }, ErrCode::NoStoragePool,
        "Storage pool not found: no storage pool with matching name 'x'");
    expectError([&] { drv.poolLookupByUUID(kUuid1); }, ErrCode::NoStoragePool,
        std::string("Storage pool not found: no storage pool with matching uuid '") + kUuid1 + "'");
    expectError([&] { drv.poolLookupByUUID("zzz"); }, ErrCode::InvalidArg,
        "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID");
    expectError([&] { drv.poolGetInfo(kUuid1); }, ErrCode::NoStoragePool,
        std::string("Storage pool not found: no storage pool with matching uuid '") + kUuid1 + "'");
}

TEST_F(TestStorageTest, PersistentPoolLifecycle)
{
    PoolRef r = drv.poolDefineXML(dirPool("p1", kUuid1, "/p1"), 0);
    EXPECT_EQ(r.name, "p1");
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolDefined, 0}}));
    PoolSummary s = drv.poolSummary(kUuid1);
    EXPECT_FALSE(s.active);
    EXPECT_TRUE(s.persistent);
    EXPECT_EQ(info(kUuid1), (PoolInfo {0, kCap, 0, kCap}));

    // Volumes need a running pool.
    expectError([&] { drv.poolListVolumes(kUuid1, 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: storage pool is not active");
    expectError([&] { drv.volCreateXML(kUuid1, vol("a"), 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: storage pool 'p1' is not active");
    expectError([&] { drv.poolDestroy(kUuid1); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: storage pool 'p1' is not active");
    expectError([&] { drv.poolRefresh(kUuid1, 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: storage pool 'p1' is not active");

    drv.poolBuild(kUuid1, 0);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolCreated, 0}}));
    drv.poolCreate(kUuid1, 0);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolStarted, 0}}));
    EXPECT_EQ(std::get<0>(info(kUuid1)), 2);

    for (auto* f :
        {+[](TestStorageDriver& d) { d.poolBuild(kUuid1, 0); }, +[](TestStorageDriver& d) { d.poolCreate(kUuid1, 0); },
            +[](TestStorageDriver& d) { d.poolDelete(kUuid1, 0); },
            +[](TestStorageDriver& d) { d.poolUndefine(kUuid1); }})
        expectError([&] { f(drv); }, ErrCode::OperationInvalid,
            "Requested operation is not valid: storage pool 'p1' is active");
    EXPECT_TRUE(takeEvents().empty());

    drv.poolRefresh(kUuid1, 0);
    EXPECT_EQ(sink.refreshes, V {kUuid1});
    EXPECT_TRUE(takeEvents().empty());

    drv.poolDestroy(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolStopped, 0}}));
    drv.poolDelete(kUuid1, 0);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolDeleted, 0}}));
    EXPECT_TRUE(drv.poolExists(kUuid1));
    drv.poolUndefine(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolUndefined, 0}}));
    EXPECT_FALSE(drv.poolExists(kUuid1));
}

TEST_F(TestStorageTest, FlagsAreChecked)
{
    expectError([&] { drv.poolCreate(kPoolUuid, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testStoragePoolCreate");
    expectError([&] { drv.poolGetXMLDesc(kPoolUuid, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testStoragePoolGetXMLDesc");
    expectError([&] { drv.poolDefineXML(dirPool("p1", kUuid1, "/p1"), 2); }, ErrCode::InvalidArg,
        "unsupported flags (0x2) in function testStoragePoolDefineXML");
    expectError([&] { drv.listStoragePools(1u << 20); }, ErrCode::InvalidArg,
        "unsupported flags (0x100000) in function testConnectListAllStoragePools");
    // A missing pool is reported before a bad flag, as libvirt-dbus looks
    // the pool up first.
    expectError([&] { drv.poolBuild(kUuid1, 1); }, ErrCode::NoStoragePool,
        std::string("Storage pool not found: no storage pool with matching uuid '") + kUuid1 + "'");
}

TEST_F(TestStorageTest, TransientPool)
{
    PoolRef r = drv.poolCreateXML(dirPool("t1", kUuid1, "/t1"), 0);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolStarted, 0}}));
    PoolSummary s = drv.poolSummary(r.uuid);
    EXPECT_TRUE(s.active);
    EXPECT_FALSE(s.persistent);
    expectError(
        [&] { drv.poolSetAutostart(kUuid1, true); }, ErrCode::InvalidArg, "invalid argument: pool has no config file");
    drv.volCreateXML(kUuid1, vol("a"), 0);
    drv.poolDestroy(kUuid1);
    EXPECT_EQ(takeEvents(), (Events {{kUuid1, ev::PoolStopped, 0}}));
    EXPECT_FALSE(drv.poolExists(kUuid1));
    EXPECT_FALSE(drv.volExists("/t1/a"));
}

TEST_F(TestStorageTest, CreateXMLOverStoppedPersistentPoolMakesItTransient)
{
    drv.poolDefineXML(dirPool("p1", kUuid1, "/p1"), 0);
    drv.poolSetAutostart(kUuid1, true);
    drv.poolCreateXML(dirPool("p1", kUuid1, "/p1"), 0);
    PoolSummary s = drv.poolSummary(kUuid1);
    EXPECT_TRUE(s.active);
    EXPECT_FALSE(s.persistent);
    EXPECT_FALSE(s.autostart);
    expectError([&] { drv.poolCreateXML(dirPool("p1", kUuid1, "/p1"), 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: pool is already active as 'p1'");
    drv.poolDestroy(kUuid1);
    EXPECT_FALSE(drv.poolExists(kUuid1));
}

TEST_F(TestStorageTest, DuplicatesChangeNothing)
{
    expectError([&] { drv.poolDefineXML(dirPool("default-pool", kUuid1, "/x"), 0); }, ErrCode::OperationFailed,
        std::string("operation failed: pool 'default-pool' already exists with uuid ") + kPoolUuid);
    expectError([&] { drv.poolDefineXML(dirPool("p4", kPoolUuid, "/x"), 0); }, ErrCode::OperationFailed,
        std::string("operation failed: pool 'default-pool' is already defined with uuid ") + kPoolUuid);
    expectError([&] { drv.poolDefineXML(dirPool("p5", kUuid1, "/default-pool"), 0); }, ErrCode::OperationFailed,
        "operation failed: Storage source conflict with pool: 'default-pool'");
    drv.poolDefineXML("<pool type='netfs'><name>n1</name><uuid>" + std::string(kUuid1)
            + "</uuid><source><host name='h'/><dir path='/e'/></source><target><path>/n1</path></target></pool>",
        0);
    expectError(
        [&] {
            drv.poolDefineXML("<pool type='netfs'><name>n2</name><uuid>" + std::string(kUuid2)
                    + "</uuid><source><host name='h'/><dir "
                      "path='/e'/></source><target><path>/n2</path></target></pool>",
                0);
        },
        ErrCode::OperationFailed, "operation failed: Storage source conflict with pool: 'n1'");
    // Relative targets, bad UUIDs and bad XML are the model's to refuse.
    EXPECT_THROW(drv.poolDefineXML(dirPool("r", kUuid2, "relative/path"), 0), VirtError);
    EXPECT_THROW(drv.poolDefineXML(dirPool("r", "not-a-uuid", "/r"), 0), VirtError);
    EXPECT_THROW(drv.poolCreateXML("<pool type='dir'><name>x", 0), VirtError);
    takeEvents();
    EXPECT_EQ(names(0), (V {"default-pool", "n1"}));
    EXPECT_TRUE(takeEvents().empty());
}

TEST_F(TestStorageTest, ListFilters)
{
    drv.poolDefineXML(dirPool("b-inactive", kUuid1, "/b"), 0);
    drv.poolSetAutostart(kUuid1, true);
    drv.poolCreateXML("<pool type='logical'><name>a-vg</name><uuid>" + std::string(kUuid2)
            + "</uuid><source><name>vg</name><device path='/dev/sdb1'/></source></pool>",
        0);
    EXPECT_EQ(names(0), (V {"a-vg", "b-inactive", "default-pool"}));
    EXPECT_EQ(names(1), (V {"b-inactive"}));
    EXPECT_EQ(names(2), (V {"a-vg", "default-pool"}));
    EXPECT_EQ(names(4), (V {"b-inactive", "default-pool"}));
    EXPECT_EQ(names(8), (V {"a-vg"}));
    EXPECT_EQ(names(16), (V {"b-inactive"}));
    EXPECT_EQ(names(32), (V {"a-vg", "default-pool"}));
    EXPECT_EQ(names(64), (V {"b-inactive", "default-pool"})); // dir
    EXPECT_EQ(names(512), (V {"a-vg"})); // logical
    EXPECT_EQ(names(64 | 512), (V {"a-vg", "b-inactive", "default-pool"}));
    EXPECT_EQ(names(2 | 64), (V {"default-pool"}));
    EXPECT_EQ(names(128 | 256 | 32768 | 524288), V {}); // fs, netfs, sheepdog, iscsi-direct
}

TEST_F(TestStorageTest, Volumes)
{
    // The target path a volume definition gives is ignored.
    VolRef a = drv.volCreateXML(kPoolUuid,
        vol("a.img", "<capacity unit='G'>1</capacity><allocation unit='M'>10</allocation>",
            "<target><path>/somewhere/else</path></target>"),
        0);
    EXPECT_EQ(a.name, "a.img");
    EXPECT_EQ(a.key, "/default-pool/a.img");
    EXPECT_EQ(a.path, "/default-pool/a.img");
    EXPECT_EQ(a.poolUuid, kPoolUuid);
    EXPECT_EQ(drv.volGetXMLDesc(a.key, 0),
        "<volume type='file'>\n"
        "  <name>a.img</name>\n"
        "  <key>/default-pool/a.img</key>\n"
        "  <capacity unit='bytes'>1073741824</capacity>\n"
        "  <allocation unit='bytes'>10485760</allocation>\n"
        "  <target>\n"
        "    <path>/default-pool/a.img</path>\n"
        "    <format type='raw'/>\n"
        "  </target>\n"
        "</volume>\n");
    EXPECT_EQ(drv.volGetInfo(a.key, 0), (VolInfo {0, kGiB, 10 * kMiB}));
    EXPECT_EQ(info(), (PoolInfo {2, kCap, 10 * kMiB, kCap - 10 * kMiB}));

    // Without <allocation> a volume allocates its capacity.
    VolRef b = drv.volCreateXML(kPoolUuid, vol("b.img"), 0);
    EXPECT_EQ(drv.volGetInfo(b.key, 0), (VolInfo {0, kGiB, kGiB}));
    EXPECT_EQ(volNames(kPoolUuid), (V {"a.img", "b.img"}));

    expectError([&] { drv.volCreateXML(kPoolUuid, vol("a.img"), 0); }, ErrCode::OperationFailed,
        "operation failed: storage vol already exists");
    expectError([&] { drv.volCreateXML(kPoolUuid, vol("big", "<capacity unit='T'>1</capacity>"), 0); },
        ErrCode::InternalError, "internal error: Not enough free space in pool for volume 'big'");
    EXPECT_THROW(drv.volCreateXML(kPoolUuid, vol("a/b"), 0), VirtError);
    EXPECT_THROW(drv.volCreateXML(kPoolUuid, vol(".."), 0), VirtError);
    EXPECT_THROW(drv.volCreateXML(kPoolUuid, "<volume><name>x</name></volume>", 0), VirtError);
    EXPECT_EQ(volNames(kPoolUuid), (V {"a.img", "b.img"}));
    EXPECT_EQ(info(), (PoolInfo {2, kCap, kGiB + 10 * kMiB, kCap - kGiB - 10 * kMiB}));

    EXPECT_EQ(drv.volLookupByName(kPoolUuid, "b.img").key, b.key);
    EXPECT_EQ(drv.volLookupByKey(b.key).name, "b.img");
    EXPECT_EQ(drv.volLookupByPath("/default-pool/b.img").key, b.key);
    expectError([&] { drv.volLookupByName(kPoolUuid, "c"); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching name 'c'");
    expectError([&] { drv.volLookupByKey("/x"); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching key '/x'");
    expectError([&] { drv.volLookupByPath("/x"); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching path '/x'");

    drv.volDelete(a.key, 0);
    EXPECT_FALSE(drv.volExists(a.key));
    EXPECT_EQ(info(), (PoolInfo {2, kCap, kGiB, kCap - kGiB}));
    expectError([&] { drv.volDelete(a.key, 0); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching key '/default-pool/a.img'");
    expectError([&] { drv.volDelete(b.key, 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testStorageVolDelete");
    EXPECT_TRUE(takeEvents().empty());
}

TEST_F(TestStorageTest, VolumesOutliveDestroy)
{
    VolRef b = drv.volCreateXML(kPoolUuid, vol("b.img"), 0);
    drv.poolDestroy(kPoolUuid);
    EXPECT_FALSE(drv.volExists(b.key));
    expectError([&] { drv.volLookupByKey(b.key); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching key '/default-pool/b.img'");
    expectError([&] { drv.volLookupByName(kPoolUuid, "b.img"); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: storage pool 'default-pool' is not active");
    drv.poolCreate(kPoolUuid, 0);
    EXPECT_TRUE(drv.volExists(b.key));
    EXPECT_EQ(volNames(kPoolUuid), V {"b.img"});
}

// libvirt's test driver resets the sizes of the definition in force when a
// pool is (re)defined, even while volumes fill it, and keeps the running
// definition of a running pool.
TEST_F(TestStorageTest, RedefineRunningPool)
{
    drv.volCreateXML(kPoolUuid, vol("b.img"), 0);
    EXPECT_EQ(info(), (PoolInfo {2, kCap, kGiB, kCap - kGiB}));
    drv.poolDefineXML(dirPool("default-pool", kPoolUuid, "/other"), 0);
    EXPECT_EQ(takeEvents(), (Events {{kPoolUuid, ev::PoolDefined, 0}}));
    EXPECT_EQ(info(), (PoolInfo {2, kCap, 0, kCap}));
    EXPECT_EQ(drv.poolGetXMLDesc(kPoolUuid, 0), kDefaultPoolXml);
    drv.poolDestroy(kPoolUuid);
    EXPECT_EQ(drv.poolGetXMLDesc(kPoolUuid, 0), kDefaultPoolXml);
}

TEST_F(TestStorageTest, Clone)
{
    VolRef b = drv.volCreateXML(kPoolUuid, vol("b.img"), 0);
    VolRef c = drv.volCreateXMLFrom(kPoolUuid, vol("c.img", "<capacity unit='M'>5</capacity>"), b.key, 0);
    EXPECT_EQ(c.key, "/default-pool/c.img");
    EXPECT_EQ(drv.volGetInfo(c.key, 0), (VolInfo {0, 5 * kMiB, 5 * kMiB}));
    expectError([&] { drv.volCreateXMLFrom(kPoolUuid, vol("d.img"), "/nope", 0); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching key '/nope'");
    expectError([&] { drv.volCreateXMLFrom(kPoolUuid, vol("c.img"), b.key, 0); }, ErrCode::OperationFailed,
        "operation failed: storage vol already exists");
    // The test driver looks the source up by name in the target pool.
    drv.poolCreateXML(dirPool("p2", kUuid1, "/p2"), 0);
    expectError([&] { drv.volCreateXMLFrom(kUuid1, vol("d.img"), b.key, 0); }, ErrCode::NoStorageVol,
        "Storage volume not found: no storage vol with matching name 'b.img'");
    EXPECT_TRUE(drv.poolListVolumes(kUuid1, 0).empty());
}

TEST_F(TestStorageTest, OtherPoolKinds)
{
    drv.poolCreateXML("<pool type='logical'><name>vg</name><uuid>" + std::string(kUuid1)
            + "</uuid><source><name>vg</name><device path='/dev/sdb1'/></source><target><path>/dev/vg</path>"
              "</target></pool>",
        0);
    VolRef lv = drv.volCreateXML(kUuid1, vol("lv1", "<capacity unit='M'>4</capacity>"), 0);
    EXPECT_EQ(lv.key, "/dev/vg/lv1");
    // GetInfo reports the pool's kind, the XML libvirt's default type.
    EXPECT_EQ(drv.volGetInfo(lv.key, 0), (VolInfo {1, 4 * kMiB, 4 * kMiB}));
    EXPECT_EQ(drv.volGetXMLDesc(lv.key, 0),
        "<volume type='file'>\n"
        "  <name>lv1</name>\n"
        "  <key>/dev/vg/lv1</key>\n"
        "  <capacity unit='bytes'>4194304</capacity>\n"
        "  <allocation unit='bytes'>4194304</allocation>\n"
        "  <target>\n"
        "    <path>/dev/vg/lv1</path>\n"
        "  </target>\n"
        "</volume>\n");

    drv.poolCreateXML("<pool type='rbd'><name>r</name><uuid>" + std::string(kUuid2)
            + "</uuid><source><name>rpool</name><host name='mon1'/></source></pool>",
        0);
    VolRef rv = drv.volCreateXML(kUuid2, vol("lv1", "<capacity unit='M'>4</capacity>"), 0);
    EXPECT_EQ(rv.key, "(null)/lv1"); // what libvirt's printf makes of the missing target
    EXPECT_EQ(std::get<0>(drv.volGetInfo(rv.key, 0)), 3);
}

TEST_F(TestStorageTest, SharedTargetKeysAreRefused)
{
    drv.poolCreateXML("<pool type='netfs'><name>n</name><uuid>" + std::string(kUuid1)
            + "</uuid><source><host name='h'/><dir path='/e'/></source><target><path>/default-pool</path>"
              "</target></pool>",
        0);
    drv.volCreateXML(kPoolUuid, vol("a"), 0);
    expectError([&] { drv.volCreateXML(kUuid1, vol("a"), 0); }, ErrCode::StorageVolExist,
        "storage volume already exists: key '/default-pool/a' already belongs to a volume of storage pool "
        "'default-pool'");
    EXPECT_TRUE(drv.poolListVolumes(kUuid1, 0).empty());
}

TEST_F(TestStorageTest, NotSupported)
{
    VolRef b = drv.volCreateXML(kPoolUuid, vol("b.img"), 0);
    expectError([&] { drv.volResize(b.key, kGiB * 2, 0); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: virStorageVolResize");
    expectError([&] { drv.volWipe(b.key, 0, 0); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: virStorageVolWipePattern");
}

TEST_F(TestStorageTest, FindStoragePoolSources)
{
    EXPECT_EQ(drv.findStoragePoolSources("logical", "", 0),
        "<sources>\n"
        "  <source>\n"
        "    <device path='/dev/sda20'/>\n"
        "    <name>testvg1</name>\n"
        "    <format type='lvm2'/>\n"
        "  </source>\n"
        "  <source>\n"
        "    <device path='/dev/sda21'/>\n"
        "    <name>testvg2</name>\n"
        "    <format type='lvm2'/>\n"
        "  </source>\n"
        "</sources>\n");
    EXPECT_EQ(drv.findStoragePoolSources("netfs", "<source><host name='myhost'/></source>", 0),
        "<sources>\n"
        "  <source>\n"
        "    <host name='myhost'/>\n"
        "    <dir path='/testshare'/>\n"
        "    <format type='nfs'/>\n"
        "  </source>\n"
        "</sources>\n");
    expectError([&] { drv.findStoragePoolSources("netfs", "", 0); }, ErrCode::InvalidArg,
        "invalid argument: hostname must be specified for netfs sources");
    expectError([&] { drv.findStoragePoolSources("netfs", "<source><dir path='/x'/></source>", 0); },
        ErrCode::InvalidArg, "invalid argument: hostname must be specified for netfs sources");
    expectError([&] { drv.findStoragePoolSources("dir", "", 0); }, ErrCode::InternalError,
        "internal error: unknown storage pool type dir");
    expectError([&] { drv.findStoragePoolSources("fs", "", 0); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: pool type 'fs' does not support source "
        "discovery");
    expectError([&] { drv.findStoragePoolSources("bogus", "", 0); }, ErrCode::NoSupport,
        "this function is not supported by the connection driver: pool type 'bogus' does not support source "
        "discovery");
    expectError([&] { drv.findStoragePoolSources("bogus", "<source/>", 0); }, ErrCode::InternalError,
        "internal error: missing backend for pool type -1");
    expectError([&] { drv.findStoragePoolSources("sheepdog", "<source><host name='h'/></source>", 0); },
        ErrCode::NoSupport,
        "this function is not supported by the connection driver: pool type 'sheepdog' does not support source "
        "discovery");
    expectError([&] { drv.findStoragePoolSources("logical", "", 1); }, ErrCode::InvalidArg,
        "unsupported flags (0x1) in function testConnectFindStoragePoolSources");
    EXPECT_THROW(drv.findStoragePoolSources("netfs", "<bogus/>", 0), VirtError);
}

TEST_F(TestStorageTest, NoSinkIsFine)
{
    drv.setEventSink(nullptr);
    drv.poolDefineXML(dirPool("p1", kUuid1, "/p1"), 0);
    drv.poolCreate(kUuid1, 0);
    drv.poolRefresh(kUuid1, 0);
    drv.poolDestroy(kUuid1);
    drv.poolUndefine(kUuid1);
    EXPECT_TRUE(sink.events.empty());
    EXPECT_TRUE(sink.refreshes.empty());
}

// 10,000 pools and 10,000 volumes: defining and listing stay fast.
TEST_F(TestStorageTest, TenThousandPoolsAndVolumes)
{
    drv.setEventSink(nullptr);
    constexpr int kCount = 10000;
    auto ms = [](auto d) {
        return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    };
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i) {
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
        drv.poolDefineXML(dirPool("pool" + std::to_string(i), uuid, "/pools/" + std::to_string(i)), 0);
    }
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_EQ(drv.listStoragePools(0).size(), size_t(kCount + 1));
    auto t2 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i)
        drv.volCreateXML(kPoolUuid, vol("v" + std::to_string(i), "<capacity>1</capacity>"), 0);
    auto t3 = std::chrono::steady_clock::now();
    ASSERT_EQ(drv.poolListVolumes(kPoolUuid, 0).size(), size_t(kCount));
    for (int i = 0; i < kCount; ++i)
        ASSERT_TRUE(drv.volExists("/default-pool/v" + std::to_string(i)));
    auto t4 = std::chrono::steady_clock::now();
    EXPECT_EQ(info(), (PoolInfo {2, kCap, kCount, kCap - kCount}));
    std::printf("define %lld ms, list %lld ms, %d volumes %lld ms, list+lookups %lld ms\n", ms(t1 - t0), ms(t2 - t1),
        kCount, ms(t3 - t2), ms(t4 - t3));
    // Each pool definition is checked against every other pool for a
    // source conflict, as libvirt does: quadratic, yet cheap at this size.
    EXPECT_LT(ms(t1 - t0), 20000);
    EXPECT_LT(ms(t2 - t1), 500);
    EXPECT_LT(ms(t3 - t2), 20000);
    EXPECT_LT(ms(t4 - t3), 500);
}

} // namespace
