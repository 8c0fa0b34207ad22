// The QEMU connection's node devices: the host's device tree, read from
// sysfs once and then kept current from hotplug events, with libvirt's
// names, capabilities and parent links; PCI detach/reattach/reset for VFIO.
//
// One sysfs walker serves both the host's /sys and a tree a test builds
// elsewhere (sd-device can only read the real /sys); sd-device supplies
// what only udev knows (serials, drive types, hwdb names, devlinks) when
// udev runs, and the hotplug events (see uevent_monitor.h).
#pragma once

#include "nodedev/device_builder.h"
#include "nodedev/pci_passthrough.h"
#include "nodedev/sysfs.h"
#include "nodedev/uevent_monitor.h"
#include "object_drivers.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace virtbus {

struct NodeDevOptions {
    std::string sysfsRoot = "/sys";
    std::string mounts = "/proc/self/mounts";
    std::string swaps = "/proc/swaps";
    // Read udev's database through sd-device (only meaningful for /sys).
    bool useUdev = true;
    // Listen for hotplug events once started.
    bool monitor = true;
};

class NodeDevDriver : public NodeDeviceDriver {
public:
    explicit NodeDevDriver(NodeDevOptions opts = {});
    ~NodeDevDriver() override;
    NodeDevDriver(const NodeDevDriver&) = delete;
    NodeDevDriver& operator=(const NodeDevDriver&) = delete;

    // Listens for hotplug events, then enumerates the tree (without a
    // monitor the constructor enumerates it).
    void start() override;

    std::vector<std::string> listNodeDevices(uint32_t flags) override;
    std::string nodeDeviceLookupByName(const std::string& name) override;
    std::string nodeDeviceLookupSCSIHostByWWN(
        const std::string& wwnn, const std::string& wwpn, uint32_t flags) override;
    bool nodeDeviceExists(const std::string& name) override;
    NodeDeviceSummary nodeDeviceSummary(const std::string& name) override;
    void nodeDeviceDetach(const std::string& name, const std::string& driverName, uint32_t flags) override;
    void nodeDeviceReAttach(const std::string& name) override;
    void nodeDeviceReset(const std::string& name) override;
    std::string nodeDeviceGetXMLDesc(const std::string& name, uint32_t flags) override;
    std::vector<std::string> nodeDeviceListCaps(const std::string& name) override;

    // One hotplug event, as the monitor delivers it (public so tests can
    // drive a built tree without a kernel behind it).
    void handleUevent(const nodedev::Uevent& ev);
    // The kernel emulation hook of a test's tree (see PciPassthrough).
    void setWriteHook(nodedev::PciPassthrough::WriteHook hook);
    const char* eventSource() const;
    // A device's description changed in place (libvirt's
    // VIR_NODE_DEVICE_EVENT_ID_UPDATE). libvirt-dbus has no signal for it,
    // so the service does not listen; set before start().
    void setUpdateListener(std::function<void(const std::string&)> f) { onUpdate_ = std::move(f); }

private:
    struct Entry {
        xml::NodeDeviceDef def;
        uint32_t capBits = 0; // VIR_CONNECT_LIST_NODE_DEVICES_CAP_* it matches
    };
    NodeDevOptions opts_;
    nodedev::Sysfs fs_;
    nodedev::PciIds pciIds_;
    nodedev::UdevInfo udev_;
    nodedev::PciPassthrough pci_;
    std::unique_ptr<nodedev::UeventMonitor> monitor_;
    std::function<void(const std::string&)> onUpdate_;

    mutable std::mutex mu_;
    std::map<std::string, Entry> devs_; // by name
    std::map<std::string, std::string> bySyspath_; // syspath -> name
    bool scanning_ = false;
    std::vector<nodedev::Uevent> pending_; // events held back during a scan
    // Serializes detach/reattach/reset: each is a sequence of sysfs writes.
    std::mutex pciMu_;

    nodedev::BuildContext context() const;
    void enumerate();
    // After lost events: enumerate again and report what appeared or went.
    void rescan();
    // Under mu_: the nearest ancestor directory that is a listed device.
    std::string parentOf(const std::string& syspath) const;
    const Entry& byName(const std::string& name) const;
    std::string pciSyspath(const std::string& name);
    void refreshAfterPciChange(const std::string& syspath);
};

} // namespace virtbus
