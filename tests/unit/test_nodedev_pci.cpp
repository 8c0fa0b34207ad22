// PCI Detach/ReAttach/Reset of the host node device driver against a
// sysfs tree built in a temporary directory: this machine has no PCI device
// it could give away, so a write hook plays the kernel's part (unbind
// drops the driver link; drivers_probe binds driver_override's driver, or
// the device's own driver back). The driver's code path is the one it runs
// on /sys; only the kernel behind the files is emulated.
#include "nodedev/nodedev_driver.h"

#include "nodedev_host_tree.h"

#include <gtest/gtest.h>

using namespace virtbus;

namespace {

using Strings = std::vector<std::string>;

class NodeDevPci : public ::testing::Test {
protected:
    fake::SysfsTree tree;
    std::unique_ptr<NodeDevDriver> drv;
    Strings writes; // "file=value", file relative to the root
    bool vfioBinds = true;

    void SetUp() override
    {
        buildHost(tree);
        tree.put("mounts", "sysfs /sys sysfs rw 0 0\n/dev/vda1 / ext4 rw 0 0\n");
        NodeDevOptions o;
        o.sysfsRoot = tree.root();
        o.mounts = tree.path("mounts");
        o.swaps = tree.path("swaps");
        o.monitor = false;
        drv = std::make_unique<NodeDevDriver>(o);
        drv->setWriteHook([this](const std::string& path, const std::string& value) { kernel(path, value); });
    }

    std::string dev(const std::string& addr) { return "devices/pci0000:00/" + addr; }
    std::string driverOf(const std::string& addr)
    {
        std::error_code ec;
        auto t = std::filesystem::read_symlink(tree.path(dev(addr) + "/driver"), ec);
        return ec ? "" : t.filename().string();
    }

    // The kernel's side of the sysfs files the driver writes.
    void kernel(const std::string& path, const std::string& value)
    {
        std::string rel = path.substr(tree.root().size() + 1);
        writes.push_back(rel + "=" + value);
        if (rel.size() > 7 && rel.compare(rel.size() - 7, 7, "/unbind") == 0) {
            std::filesystem::remove(tree.path(dev(value) + "/driver"));
        } else if (rel == "bus/pci/drivers_probe") {
            if (!driverOf(value).empty())
                return;
            std::string override = tree.get(dev(value) + "/driver_override");
            while (!override.empty() && override.back() == '\n')
                override.pop_back();
            std::string driver = override.empty() || override == "(null)" ? "virtio-pci" : override;
            if (driver == "vfio-pci" && !vfioBinds)
                return;
            tree.link(dev(value) + "/driver", "bus/pci/drivers/" + driver);
        }
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

TEST_F(NodeDevPci, DetachReattachThroughDriverOverride)
{
    // eth2 (04.1) shares the group and is up, so 04.0 cannot go first.
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_04_0", "", 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: PCI device 0000:00:04.0 shares IOMMU group 3 with 0000:00:04.1, "
        "which is in use by the host: network interface eth2 is up");
    EXPECT_TRUE(writes.empty());
    tree.put(dev("0000:00:04.1") + "/net/eth2/flags", "0x1002\n");

    drv->nodeDeviceDetach("pci_0000_00_04_0", "vfio", 0);
    EXPECT_EQ(writes,
        (Strings {dev("0000:00:04.0") + "/driver_override=vfio-pci",
            dev("0000:00:04.0") + "/driver/unbind=0000:00:04.0", "bus/pci/drivers_probe=0000:00:04.0"}));
    EXPECT_EQ(driverOf("0000:00:04.0"), "vfio-pci");
    EXPECT_NE(drv->nodeDeviceGetXMLDesc("pci_0000_00_04_0", 0).find("<driver>\n    <name>vfio-pci</name>"),
        std::string::npos);

    // Detaching again, or resetting a vfio-pci device: nothing to do.
    writes.clear();
    drv->nodeDeviceDetach("pci_0000_00_04_0", "", 0);
    drv->nodeDeviceReset("pci_0000_00_04_0");
    EXPECT_TRUE(writes.empty());

    drv->nodeDeviceReAttach("pci_0000_00_04_0");
    EXPECT_EQ(writes,
        (Strings {dev("0000:00:04.0") + "/driver_override=\n", dev("0000:00:04.0") + "/driver/unbind=0000:00:04.0",
            "bus/pci/drivers_probe=0000:00:04.0"}));
    EXPECT_EQ(driverOf("0000:00:04.0"), "virtio-pci");
    // Reattaching a device no stub holds changes nothing.
    writes.clear();
    drv->nodeDeviceReAttach("pci_0000_00_04_0");
    EXPECT_TRUE(writes.empty());
}

TEST_F(NodeDevPci, DevicesTheHostUsesStay)
{
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_02_0", "", 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: PCI device 0000:00:02.0 is in use by the host: "
        "block device /dev/vda1 is mounted on /");
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_03_0", "", 0); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: PCI device 0000:00:03.0 is in use by the host: "
        "network interface eth0 is up");
    expectError([&] { drv->nodeDeviceReset("pci_0000_00_03_0"); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: PCI device 0000:00:03.0 is in use by the host: "
        "network interface eth0 is up");
    EXPECT_TRUE(writes.empty());
    EXPECT_EQ(driverOf("0000:00:02.0"), "virtio-pci");
    EXPECT_EQ(driverOf("0000:00:03.0"), "virtio-pci");
    EXPECT_EQ(tree.get(dev("0000:00:03.0") + "/driver_override"), "(null)\n");
}

TEST_F(NodeDevPci, SwapAndHoldersCountAsUse)
{
    // The SCSI disk behind 06.0: first swap, then a device-mapper target.
    tree.put("swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/sda\tpartition\t1024\t0\t-2\n");
    expectError([&] { drv->nodeDeviceReset("pci_0000_00_06_0"); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: PCI device 0000:00:06.0 is in use by the host: "
        "block device /dev/sda is in use as swap");
    tree.put("swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    std::string sda = dev("0000:00:06.0") + "/virtio3/host0/target0:0:0/0:0:0:0/block/sda";
    std::filesystem::create_directories(tree.path(sda + "/holders/dm-0"));
    expectError([&] { drv->nodeDeviceReset("pci_0000_00_06_0"); }, ErrCode::OperationInvalid,
        "Requested operation is not valid: PCI device 0000:00:06.0 is in use by the host: "
        "block device /dev/sda is held by dm-0");
    std::filesystem::remove_all(tree.path(sda + "/holders/dm-0"));
    drv->nodeDeviceReset("pci_0000_00_06_0");
    EXPECT_EQ(writes, Strings {dev("0000:00:06.0") + "/reset=1"});
}

TEST_F(NodeDevPci, ResetUsesTheKernelsResetFile)
{
    drv->nodeDeviceReset("pci_0000_00_05_0"); // no driver, nothing below it in use
    EXPECT_EQ(writes, Strings {dev("0000:00:05.0") + "/reset=1"});
    tree.put(dev("0000:00:04.1") + "/net/eth2/flags", "0x1002\n");
    expectError([&] { drv->nodeDeviceReset("pci_0000_00_04_1"); }, ErrCode::InternalError,
        "internal error: Unable to reset PCI device 0000:00:04.1: no FLR, PM reset or bus reset available");
}

TEST_F(NodeDevPci, FailedBindGivesTheDeviceBack)
{
    vfioBinds = false;
    tree.put(dev("0000:00:04.1") + "/net/eth2/flags", "0x1002\n");
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_04_0", "", 0); }, ErrCode::InternalError,
        "internal error: Failed to bind PCI device '0000:00:04.0' to vfio-pci");
    EXPECT_EQ(driverOf("0000:00:04.0"), "virtio-pci");
    EXPECT_EQ(tree.get(dev("0000:00:04.0") + "/driver_override"), "\n");
}

TEST_F(NodeDevPci, Refusals)
{
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_05_0", "kvm", 0); }, ErrCode::ArgumentUnsupported,
        "argument unsupported: KVM device assignment is no longer supported on this system");
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_05_0", "xen", 0); }, ErrCode::InvalidArg,
        "invalid argument: unknown driver name 'xen'");
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_05_0", "", 4); }, ErrCode::InvalidArg,
        "unsupported flags (0x4) in function qemuNodeDeviceDetachFlags");
    expectError([&] { drv->nodeDeviceDetach("net_lo_00_00_00_00_00_00", "", 0); }, ErrCode::InvalidArg,
        "invalid argument: device net_lo_00_00_00_00_00_00 is not a PCI device");
    expectError([&] { drv->nodeDeviceReAttach("../pci_0000_00_05_0"); }, ErrCode::NoNodeDevice,
        "Node device not found: no node device with matching name '../pci_0000_00_05_0'");
    EXPECT_TRUE(writes.empty());

    // No vfio-pci driver, and no module to load outside /sys.
    std::filesystem::remove_all(tree.path("bus/pci/drivers/vfio-pci"));
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_05_0", "", 0); }, ErrCode::InternalError,
        "internal error: Failed to load PCI stub module vfio-pci");
    // No IOMMU: VFIO cannot work at all.
    std::filesystem::remove_all(tree.path("kernel/iommu_groups"));
    expectError([&] { drv->nodeDeviceDetach("pci_0000_00_05_0", "", 0); }, ErrCode::ArgumentUnsupported,
        "argument unsupported: VFIO device assignment is currently not supported on this system");
    EXPECT_TRUE(writes.empty());
    EXPECT_EQ(driverOf("0000:00:05.0"), "");
}

} // namespace
