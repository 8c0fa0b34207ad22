// A sysfs tree in a temporary directory, shaped like the kernel's: device
// directories under devices/, with subsystem/driver/iommu_group symlinks
// and bus/ and class/ indexes pointing back at them. The node device
// driver reads it exactly as it reads /sys; nothing here mocks the driver.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace fake {

namespace fs = std::filesystem;

class SysfsTree {
public:
    SysfsTree()
    {
        char tmpl[] = "/tmp/virtbus-sysfs-XXXXXX";
        root_ = fs::canonical(mkdtemp(tmpl)).string();
        for (const char* d : {"bus/pci/devices", "bus/pci/drivers/virtio-pci", "bus/pci/drivers/vfio-pci",
                 "bus/usb/devices", "bus/scsi/devices", "bus/virtio", "class/net", "class/block", "class/drm",
                 "kernel/iommu_groups", "devices/virtual/net", "devices/virtual/block"})
            fs::create_directories(root_ + "/" + d);
        put("bus/pci/drivers_probe", "");
        for (const char* drv : {"virtio-pci", "vfio-pci"})
            for (const char* f : {"bind", "unbind"})
                put(std::string("bus/pci/drivers/") + drv + "/" + f, "");
    }
    ~SysfsTree() { fs::remove_all(root_); }
    SysfsTree(const SysfsTree&) = delete;
    SysfsTree& operator=(const SysfsTree&) = delete;

    const std::string& root() const { return root_; }
    std::string path(const std::string& rel) const { return root_ + "/" + rel; }

    void put(const std::string& rel, const std::string& content) const
    {
        fs::create_directories(fs::path(path(rel)).parent_path());
        std::ofstream(path(rel), std::ios::trunc) << content;
    }
    std::string get(const std::string& rel) const
    {
        std::ifstream in(path(rel));
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    void link(const std::string& rel, const std::string& targetRel) const
    {
        fs::create_directories(fs::path(path(rel)).parent_path());
        fs::remove(path(rel));
        fs::create_symlink(path(targetRel), path(rel));
    }

    // A device directory with its uevent and subsystem link; `index` is the
    // bus/ or class/ directory listing it ("" for none).
    void device(const std::string& rel, const std::string& subsystemDir, const std::string& uevent,
        const std::string& index = {}) const
    {
        put(rel + "/uevent", uevent);
        link(rel + "/subsystem", subsystemDir);
        if (!index.empty())
            link(index + "/" + fs::path(rel).filename().string(), rel);
    }

    // A PCI function in an IOMMU group, bound to `driver` ("" for none).
    void pci(const std::string& addr, unsigned cls, const std::string& vendor, const std::string& dev,
        const std::string& driver, int group, bool reset = true) const
    {
        std::string rel = "devices/pci0000:00/" + addr;
        char pciClass[16];
        snprintf(pciClass, sizeof pciClass, "%X", cls);
        device(rel, "bus/pci", (driver.empty() ? "" : "DRIVER=" + driver + "\n") + "PCI_CLASS=" + pciClass + "\n",
            "bus/pci/devices");
        char clsHex[16];
        snprintf(clsHex, sizeof clsHex, "0x%06x\n", cls);
        put(rel + "/class", clsHex);
        put(rel + "/vendor", vendor + "\n");
        put(rel + "/device", dev + "\n");
        put(rel + "/driver_override", "(null)\n");
        put(rel + "/numa_node", "-1\n");
        if (reset)
            put(rel + "/reset", "");
        if (!driver.empty())
            link(rel + "/driver", "bus/pci/drivers/" + driver);
        if (group >= 0) {
            std::string g = "kernel/iommu_groups/" + std::to_string(group);
            fs::create_directories(path(g + "/devices"));
            link(rel + "/iommu_group", g);
            link(g + "/devices/" + addr, rel);
        }
    }

    // A network interface below `parentRel`.
    void net(const std::string& parentRel, const std::string& ifname, const std::string& mac, bool up) const
    {
        std::string rel = parentRel + "/net/" + ifname;
        device(rel, "class/net", "INTERFACE=" + ifname + "\nIFINDEX=7\n", "class/net");
        put(rel + "/address", mac + "\n");
        put(rel + "/operstate", up ? "up\n" : "down\n");
        put(rel + "/flags", up ? "0x1003\n" : "0x1002\n");
        put(rel + "/speed", up ? "1000\n" : "-1\n");
    }

    // A disk below `parentRel`, optionally with a partition.
    void disk(const std::string& parentRel, const std::string& name, const std::string& serial, bool partition) const
    {
        std::string rel = parentRel + "/block/" + name;
        device(rel, "class/block", "MAJOR=253\nMINOR=0\nDEVNAME=" + name + "\nDEVTYPE=disk\n", "class/block");
        if (!serial.empty())
            put(rel + "/serial", serial);
        put(rel + "/size", "2048\n");
        put(rel + "/queue/logical_block_size", "512\n");
        put(rel + "/removable", "0\n");
        link(rel + "/device", parentRel);
        if (partition) {
            std::string p = rel + "/" + name + "1";
            device(p, "class/block", "DEVNAME=" + name + "1\nDEVTYPE=partition\n", "class/block");
            put(p + "/partition", "1\n");
        }
    }

private:
    std::string root_;
};

} // namespace fake
