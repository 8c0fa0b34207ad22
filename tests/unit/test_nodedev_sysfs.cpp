// The host node device driver (drivers/nodedev/) on a sysfs tree built in a
// temporary directory: libvirt's names, parents and capabilities, the
// capability filters, lookups and their errors, and the tree kept current
// from hotplug events (fed as the monitor would feed them).
#include "nodedev/nodedev_driver.h"

#include "nodedev_host_tree.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace virtbus;

namespace {

using Strings = std::vector<std::string>;

struct Recorder : EventSink {
    Strings log;
    void domainLifecycle(const std::string&, int32_t, int32_t) override { }
    void domainSignal(const std::string&, const DomainSignal&) override { }
    void nodeDeviceLifecycle(const std::string& name, int32_t event, int32_t) override
    {
        log.push_back((event == ev::NodeDevCreated          ? "created "
                              : event == ev::NodeDevDeleted ? "deleted "
                                                            : "?")
            + name);
    }
    void objectAdded(const ObjectId& id) override { log.push_back("added " + id.key); }
    void objectRemoved(const ObjectId& id) override { log.push_back("removed " + id.key); }
};

class NodeDevTree : public ::testing::Test {
protected:
    fake::SysfsTree tree;
    std::unique_ptr<NodeDevDriver> drv;
    Recorder rec;

    void SetUp() override
    {
        buildHost(tree);
        NodeDevOptions o;
        o.sysfsRoot = tree.root();
        o.mounts = tree.path("mounts");
        o.monitor = false;
        drv = std::make_unique<NodeDevDriver>(o);
        drv->setEventSink(&rec);
        drv->setUpdateListener([this](const std::string& name) { rec.log.push_back("updated " + name); });
    }
    std::string parent(const std::string& n) { return drv->nodeDeviceSummary(n).parent; }
    std::string xmlOf(const std::string& n) { return drv->nodeDeviceGetXMLDesc(n, 0); }
    Strings sorted(Strings v)
    {
        std::sort(v.begin(), v.end());
        return v;
    }
    void expectError(const std::function<void()>& f, ErrCode code, const std::string& msg)
    {
        try {
            f();
            ADD_FAILURE() << "no error, expected: " << msg;
        } catch (const VirtError& e) {
            EXPECT_EQ(e.code(), code) << e.what();
            EXPECT_EQ(std::string(e.what()), msg);
        }
    }
};

TEST_F(NodeDevTree, NamesFollowLibvirt)
{
    Strings expected = {"block_sda", "block_vda_SER_1", "computer", "drm_card0", "drm_renderD128",
        "net_eth0_02_fc_00_00_00_01", "net_eth1_52_54_00_00_00_04", "net_eth2_52_54_00_00_00_05",
        "mdev_b1ae8bf6_38b0_4c81_9d44_78ce3f520496_0000_00_07_0", "net_lo_00_00_00_00_00_00", "pci_0000_00_02_0",
        "pci_0000_00_03_0", "pci_0000_00_04_0", "pci_0000_00_04_1", "pci_0000_00_05_0", "pci_0000_00_06_0",
        "pci_0000_00_07_0", "scsi_0_0_0_0", "scsi_host0", "scsi_target0_0_0", "usb_1_0_1_0", "usb_usb1"};
    // No partition, no loop device (libvirt cannot type it), no virtio bus
    // devices.
    EXPECT_EQ(sorted(drv->listNodeDevices(0)), sorted(expected));
}

TEST_F(NodeDevTree, ParentsAreTheNearestListedAncestor)
{
    EXPECT_EQ(parent("computer"), "");
    EXPECT_EQ(parent("pci_0000_00_02_0"), "computer");
    EXPECT_EQ(parent("block_vda_SER_1"), "pci_0000_00_02_0"); // through virtio1, which is not listed
    EXPECT_EQ(parent("net_eth0_02_fc_00_00_00_01"), "pci_0000_00_03_0");
    EXPECT_EQ(parent("net_lo_00_00_00_00_00_00"), "computer");
    EXPECT_EQ(parent("usb_usb1"), "pci_0000_00_05_0");
    EXPECT_EQ(parent("usb_1_0_1_0"), "usb_usb1");
    EXPECT_EQ(parent("scsi_host0"), "pci_0000_00_06_0");
    EXPECT_EQ(parent("scsi_target0_0_0"), "scsi_host0");
    EXPECT_EQ(parent("scsi_0_0_0_0"), "scsi_target0_0_0");
    EXPECT_EQ(parent("block_sda"), "scsi_0_0_0_0");
    EXPECT_EQ(parent("drm_card0"), "pci_0000_00_07_0");
    EXPECT_EQ(parent("mdev_b1ae8bf6_38b0_4c81_9d44_78ce3f520496_0000_00_07_0"), "pci_0000_00_07_0");
}

TEST_F(NodeDevTree, CapabilitiesAndXML)
{
    EXPECT_EQ(drv->nodeDeviceListCaps("pci_0000_00_02_0"), Strings {"pci"});
    EXPECT_EQ(drv->nodeDeviceListCaps("scsi_host0"), Strings {"scsi_host"});
    EXPECT_EQ(drv->nodeDeviceListCaps("block_vda_SER_1"), Strings {"storage"});

    std::string pci = xmlOf("pci_0000_00_02_0");
    for (const char* s :
        {"<path>" /* sysfs path */, "<parent>computer</parent>", "<name>virtio-pci</name>", "<class>0x010000</class>",
            "<domain>0</domain>", "<slot>2</slot>", "<product id='0x1042'", "<vendor id='0x1af4'",
            "<iommuGroup number='1'>", "<address domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>"})
        EXPECT_NE(pci.find(s), std::string::npos) << s << "\n" << pci;
    EXPECT_NE(pci.find(tree.path("devices/pci0000:00/0000:00:02.0")), std::string::npos);

    std::string disk = xmlOf("block_vda_SER_1");
    for (const char* s : {"<devnode type='dev'>/dev/vda</devnode>", "<block>/dev/vda</block>",
             "<drive_type>disk</drive_type>", "<serial>SER-1</serial>", "<size>1048576</size>",
             "<logical_block_size>512</logical_block_size>", "<num_blocks>2048</num_blocks>"})
        EXPECT_NE(disk.find(s), std::string::npos) << s << "\n" << disk;

    std::string eth0 = xmlOf("net_eth0_02_fc_00_00_00_01");
    for (const char* s : {"<interface>eth0</interface>", "<address>02:fc:00:00:00:01</address>",
             "<link speed='1000' state='up'/>", "<capability type='80203'/>"})
        EXPECT_NE(eth0.find(s), std::string::npos) << s << "\n" << eth0;

    std::string lun = xmlOf("scsi_0_0_0_0");
    EXPECT_NE(lun.find("<type>disk</type>"), std::string::npos) << lun;
    EXPECT_NE(xmlOf("block_sda").find("<vendor>QEMU</vendor>"), std::string::npos);
    EXPECT_NE(xmlOf("drm_renderD128").find("<type>render</type>"), std::string::npos);
    std::string usb = xmlOf("usb_usb1");
    EXPECT_NE(usb.find("<product id='0x0002'>xHCI Host Controller</product>"), std::string::npos) << usb;
    EXPECT_NE(usb.find("<bus>1</bus>"), std::string::npos) << usb;
    // The GPU offers a vGPU type; one mediated device of it exists.
    EXPECT_EQ(drv->nodeDeviceListCaps("pci_0000_00_07_0"), (Strings {"pci", "mdev_types"}));
    std::string gpu = xmlOf("pci_0000_00_07_0");
    EXPECT_NE(gpu.find("<type id='i915-GVTg_V5_4'>"), std::string::npos) << gpu;
    EXPECT_NE(gpu.find("<availableInstances>3</availableInstances>"), std::string::npos) << gpu;
    std::string mdev = xmlOf("mdev_b1ae8bf6_38b0_4c81_9d44_78ce3f520496_0000_00_07_0");
    for (const char* s : {"<type id='i915-GVTg_V5_4'/>", "<uuid>b1ae8bf6-38b0-4c81-9d44-78ce3f520496</uuid>",
             "<parent_addr>0000:00:07.0</parent_addr>", "<iommuGroup number='9'/>"})
        EXPECT_NE(mdev.find(s), std::string::npos) << s << "\n" << mdev;
    std::string computer = xmlOf("computer");
    EXPECT_NE(computer.find("<uuid>4c4c4544-0000-1111-2222-333344445555</uuid>"), std::string::npos) << computer;
    EXPECT_NE(computer.find("<product>Standard PC (Q35 + ICH9, 2009)</product>"), std::string::npos) << computer;
}

TEST_F(NodeDevTree, CapabilityFilters)
{
    EXPECT_EQ(sorted(drv->listNodeDevices(1u << 4)),
        (Strings {"net_eth0_02_fc_00_00_00_01", "net_eth1_52_54_00_00_00_04", "net_eth2_52_54_00_00_00_05",
            "net_lo_00_00_00_00_00_00"}));
    EXPECT_EQ(sorted(drv->listNodeDevices(1u << 8)), (Strings {"block_sda", "block_vda_SER_1"}));
    EXPECT_EQ(drv->listNodeDevices(1u << 0), Strings {"computer"});
    EXPECT_EQ(
        sorted(drv->listNodeDevices((1u << 5) | (1u << 12))), (Strings {"drm_card0", "drm_renderD128", "scsi_host0"}));
    EXPECT_EQ(drv->listNodeDevices(1u << 1).size(), 7u);
    EXPECT_EQ(drv->listNodeDevices(1u << 13), Strings {"pci_0000_00_07_0"}); // MDEV_TYPES
    EXPECT_EQ(drv->listNodeDevices(1u << 14), Strings {"mdev_b1ae8bf6_38b0_4c81_9d44_78ce3f520496_0000_00_07_0"});
    EXPECT_EQ(drv->listNodeDevices(1u << 31).size(), drv->listNodeDevices(0).size()); // ACTIVE
    EXPECT_TRUE(drv->listNodeDevices(1u << 30).empty()); // INACTIVE
    expectError([&] { drv->listNodeDevices(1u << 25); }, ErrCode::InvalidArg,
        "unsupported flags (0x2000000) in function nodeConnectListAllNodeDevices");
}

TEST_F(NodeDevTree, BadNamesAreRefused)
{
    for (std::string bad : {"../computer", "computer/..", "pci_0000_00_02_0/../../etc", "", "no_such_device"}) {
        expectError([&] { drv->nodeDeviceLookupByName(bad); }, ErrCode::NoNodeDevice,
            "Node device not found: no node device with matching name '" + bad + "'");
        EXPECT_FALSE(drv->nodeDeviceExists(bad));
    }
    expectError([&] { drv->nodeDeviceGetXMLDesc("computer", 1); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: node device 'computer' is not persistent");
    expectError([&] { drv->nodeDeviceLookupSCSIHostByWWN("1", "2", 0); }, ErrCode::NoNodeDevice,
        "Node device not found: no node device with matching wwnn '1' and wwpn '2'");
}

TEST_F(NodeDevTree, HotplugAddChangeRemove)
{
    tree.net("devices/virtual", "veth0", "aa:bb:cc:dd:ee:ff", false);
    drv->handleUevent({"add", "/devices/virtual/net/veth0", {}, "net"});
    EXPECT_EQ(rec.log, (Strings {"added net_veth0_aa_bb_cc_dd_ee_ff", "created net_veth0_aa_bb_cc_dd_ee_ff"}));
    EXPECT_EQ(parent("net_veth0_aa_bb_cc_dd_ee_ff"), "computer");

    // Nothing changed: no event. A link state change: an update.
    rec.log.clear();
    drv->handleUevent({"change", "/devices/virtual/net/veth0", {}, "net"});
    EXPECT_TRUE(rec.log.empty());
    tree.put("devices/virtual/net/veth0/operstate", "up\n");
    drv->handleUevent({"change", "/devices/virtual/net/veth0", {}, "net"});
    EXPECT_EQ(rec.log, Strings {"updated net_veth0_aa_bb_cc_dd_ee_ff"});

    // A new MAC is a new device name: the old one goes, the new one comes.
    rec.log.clear();
    tree.put("devices/virtual/net/veth0/address", "aa:bb:cc:dd:ee:00\n");
    drv->handleUevent({"change", "/devices/virtual/net/veth0", {}, "net"});
    EXPECT_EQ(rec.log,
        (Strings {"removed net_veth0_aa_bb_cc_dd_ee_ff", "deleted net_veth0_aa_bb_cc_dd_ee_ff",
            "added net_veth0_aa_bb_cc_dd_ee_00", "created net_veth0_aa_bb_cc_dd_ee_00"}));

    rec.log.clear();
    drv->handleUevent({"remove", "/devices/virtual/net/veth0", {}, "net"});
    EXPECT_EQ(rec.log, (Strings {"removed net_veth0_aa_bb_cc_dd_ee_00", "deleted net_veth0_aa_bb_cc_dd_ee_00"}));
    EXPECT_FALSE(drv->nodeDeviceExists("net_veth0_aa_bb_cc_dd_ee_00"));

    // Events for other subsystems, unknown paths or paths escaping the
    // tree change nothing.
    rec.log.clear();
    size_t before = drv->listNodeDevices(0).size();
    drv->handleUevent({"add", "/devices/virtual/net/nothere", {}, "net"});
    drv->handleUevent({"add", "/devices/../../etc", {}, "net"});
    drv->handleUevent({"remove", "/devices/pci0000:00/0000:00:02.0", {}, "input"});
    EXPECT_TRUE(rec.log.empty());
    EXPECT_EQ(drv->listNodeDevices(0).size(), before);

    // A rename moves the device: gone under its old name, new under the new.
    rec.log.clear();
    std::string old = "devices/pci0000:00/0000:00:04.0/net/eth1", now = "devices/pci0000:00/0000:00:04.0/net/lan1";
    std::filesystem::rename(tree.path(old), tree.path(now));
    tree.put(now + "/uevent", "INTERFACE=lan1\nIFINDEX=7\n");
    drv->handleUevent({"move", "/" + now, "/" + old, "net"});
    EXPECT_EQ(rec.log,
        (Strings {"removed net_eth1_52_54_00_00_00_04", "deleted net_eth1_52_54_00_00_00_04",
            "added net_lan1_52_54_00_00_00_04", "created net_lan1_52_54_00_00_00_04"}));
    EXPECT_EQ(parent("net_lan1_52_54_00_00_00_04"), "pci_0000_00_04_0");
}

TEST_F(NodeDevTree, LostEventsAreMadeUpByARescan)
{
    // The kernel's queue overflowed while lo went and a veth came: the
    // rescan reports both.
    tree.net("devices/virtual", "veth9", "aa:bb:cc:dd:ee:09", true);
    std::filesystem::remove_all(tree.path("devices/virtual/net/lo"));
    std::filesystem::remove(tree.path("class/net/lo"));
    drv->handleUevent({"overflow", {}, {}, {}});
    EXPECT_EQ(rec.log,
        (Strings {"removed net_lo_00_00_00_00_00_00", "deleted net_lo_00_00_00_00_00_00",
            "added net_veth9_aa_bb_cc_dd_ee_09", "created net_veth9_aa_bb_cc_dd_ee_09"}));
    EXPECT_TRUE(drv->nodeDeviceExists("net_veth9_aa_bb_cc_dd_ee_09"));
    EXPECT_FALSE(drv->nodeDeviceExists("net_lo_00_00_00_00_00_00"));
    EXPECT_EQ(drv->nodeDeviceSummary("net_eth0_02_fc_00_00_00_01").parent, "pci_0000_00_03_0");
}

} // namespace
