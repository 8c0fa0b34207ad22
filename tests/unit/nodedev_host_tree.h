// The machine the node device unit tests describe: a virtio disk and NIC,
// a spare two-function NIC sharing IOMMU group 3, a USB root hub, a SCSI
// disk behind host0, a GPU's DRM node, a loop device, lo, and DMI data.
#pragma once

#include "fake_sysfs.h"

inline void buildHost(const fake::SysfsTree& t)
{
    t.put("devices/virtual/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n");
    t.put("devices/virtual/dmi/id/sys_vendor", "QEMU\n");
    t.put("devices/virtual/dmi/id/product_uuid", "4C4C4544-0000-1111-2222-333344445555\n");
    t.put("devices/virtual/dmi/id/bios_vendor", "SeaBIOS\n");
    t.put("devices/virtual/dmi/id/bios_date", "04/01/2014\n");

    const std::string p = "devices/pci0000:00/";
    t.pci("0000:00:02.0", 0x010000, "0x1af4", "0x1042", "virtio-pci", 1);
    t.device(p + "0000:00:02.0/virtio1", "bus/virtio", "DRIVER=virtio_blk\n");
    t.disk(p + "0000:00:02.0/virtio1", "vda", "SER-1", true);

    t.pci("0000:00:03.0", 0x020000, "0x1af4", "0x1041", "virtio-pci", 2);
    t.device(p + "0000:00:03.0/virtio2", "bus/virtio", "DRIVER=virtio_net\n");
    t.net(p + "0000:00:03.0/virtio2", "eth0", "02:fc:00:00:00:01", true);

    t.pci("0000:00:04.0", 0x020000, "0x8086", "0x10d3", "virtio-pci", 3);
    t.net(p + "0000:00:04.0", "eth1", "52:54:00:00:00:04", false);
    t.pci("0000:00:04.1", 0x020000, "0x8086", "0x10d3", "virtio-pci", 3, false);
    t.net(p + "0000:00:04.1", "eth2", "52:54:00:00:00:05", true);

    t.pci("0000:00:05.0", 0x0c0330, "0x1b36", "0x000d", "", 4);
    std::string usb = p + "0000:00:05.0/usb1";
    t.device(usb, "bus/usb", "DEVTYPE=usb_device\nDRIVER=usb\nBUSNUM=001\nDEVNUM=001\nDEVNAME=bus/usb/001/001\n",
        "bus/usb/devices");
    t.put(usb + "/idVendor", "1d6b\n");
    t.put(usb + "/idProduct", "0002\n");
    t.put(usb + "/manufacturer", "Linux 6.1.0 xhci-hcd\n");
    t.put(usb + "/product", "xHCI Host Controller\n");
    t.device(usb + "/1-0:1.0", "bus/usb", "DEVTYPE=usb_interface\nDRIVER=hub\n", "bus/usb/devices");
    t.put(usb + "/1-0:1.0/bInterfaceNumber", "00\n");
    t.put(usb + "/1-0:1.0/bInterfaceClass", "09\n");
    t.put(usb + "/1-0:1.0/bInterfaceSubClass", "00\n");
    t.put(usb + "/1-0:1.0/bInterfaceProtocol", "00\n");

    t.pci("0000:00:06.0", 0x010000, "0x1af4", "0x1048", "virtio-pci", 5);
    std::string host = p + "0000:00:06.0/virtio3/host0";
    t.device(p + "0000:00:06.0/virtio3", "bus/virtio", "DRIVER=virtio_scsi\n");
    t.device(host, "bus/scsi", "DEVTYPE=scsi_host\n", "bus/scsi/devices");
    t.put(host + "/scsi_host/host0/unique_id", "1\n");
    t.device(host + "/target0:0:0", "bus/scsi", "DEVTYPE=scsi_target\n", "bus/scsi/devices");
    std::string lun = host + "/target0:0:0/0:0:0:0";
    t.device(lun, "bus/scsi", "DEVTYPE=scsi_device\nDRIVER=sd\n", "bus/scsi/devices");
    t.put(lun + "/type", "0\n");
    t.put(lun + "/vendor", "QEMU    \n");
    t.put(lun + "/model", "QEMU HARDDISK   \n");
    t.disk(lun, "sda", "", false);

    t.pci("0000:00:07.0", 0x030000, "0x1234", "0x1111", "bochs-drm", 6);
    t.device(p + "0000:00:07.0/drm/card0", "class/drm", "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\nDEVTYPE=drm_minor\n",
        "class/drm");
    t.device(p + "0000:00:07.0/drm/renderD128", "class/drm",
        "MAJOR=226\nMINOR=128\nDEVNAME=dri/renderD128\nDEVTYPE=drm_minor\n", "class/drm");

    // A vGPU type on the GPU, and one mediated device of it.
    std::string gpu = p + "0000:00:07.0";
    t.put(gpu + "/mdev_supported_types/i915-GVTg_V5_4/name", "GVTg_V5_4\n");
    t.put(gpu + "/mdev_supported_types/i915-GVTg_V5_4/device_api", "vfio-pci\n");
    t.put(gpu + "/mdev_supported_types/i915-GVTg_V5_4/available_instances", "3\n");
    std::string mdev = gpu + "/b1ae8bf6-38b0-4c81-9d44-78ce3f520496";
    std::filesystem::create_directories(t.path("bus/mdev/devices"));
    t.device(mdev, "bus/mdev", "MDEV_TYPE=i915-GVTg_V5_4\nDRIVER=vfio_mdev\n", "bus/mdev/devices");
    t.link(mdev + "/mdev_type", gpu + "/mdev_supported_types/i915-GVTg_V5_4");
    std::filesystem::create_directories(t.path("kernel/iommu_groups/9/devices"));
    t.link(mdev + "/iommu_group", "kernel/iommu_groups/9");
    t.device(
        "devices/virtual/block/loop0", "class/block", "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n", "class/block");
    t.put("devices/virtual/block/loop0/size", "0\n");
    t.net("devices/virtual", "lo", "00:00:00:00:00:00", true);
    t.put("devices/virtual/net/lo/operstate", "unknown\n");
}
