// Turns one sysfs device directory into libvirt's node device definition,
// with libvirt's name and capability, the way its udev backend classifies
// devices. Parent links are the caller's: they depend on which devices the
// tree holds.
#pragma once

#include "nodedev/sysfs.h"
#include "xml/nodedev_xml.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace virtbus::nodedev {

// Properties only udev knows (ID_SERIAL, ID_TYPE, ID_BUS, devlinks, hwdb
// names), looked up by sysfs path; empty without a udev database.
struct UdevInfo {
    std::function<std::string(const std::string& syspath, const char* key)> property;
    std::function<std::vector<std::string>(const std::string& syspath)> devlinks;
};

// Vendor and device names for PCI IDs (pci.ids), or "" when unknown.
class PciIds {
public:
    explicit PciIds(std::string path = {});
    std::string vendor(unsigned vendorId) const;
    std::string device(unsigned vendorId, unsigned deviceId) const;

private:
    std::string path_;
    std::optional<std::string> lookup(unsigned vendorId, std::optional<unsigned> deviceId) const;
};

struct BuildContext {
    const Sysfs& fs;
    const UdevInfo* udev = nullptr;
    const PciIds* pciIds = nullptr;
    // The tree is the running kernel's, so interfaces can be asked for
    // their offload features (false for a test's tree).
    bool liveKernel = false;
};

// A NIC's offload features as libvirt names them (net_features.cpp).
std::vector<std::string> netFeatures(const std::string& ifname);

// The definition for the device at `syspath` (absolute, resolved), or
// nullopt for devices libvirt does not list (partitions, bridges,
// unclassifiable block devices, ...). Parent is left empty.
std::optional<xml::NodeDeviceDef> describeDevice(const BuildContext& ctx, const std::string& syspath);

// The storage capability of a block device of type disk (device_storage.cpp);
// false for those libvirt skips.
bool describeStorage(const BuildContext& ctx, const std::string& dir, const std::map<std::string, std::string>& ue,
    xml::NodeDeviceDef& def);

// `computer`: the system capability from DMI, when the tree has it.
xml::NodeDeviceDef describeComputer(const BuildContext& ctx);

// Every device directory worth describing, resolved: the members of the
// buses and classes libvirt lists devices from.
std::vector<std::string> candidateDevices(const Sysfs& fs);

// libvirt's name mangling: "<subsystem>_<sysname>[_<suffix>]" with every
// character that is not a letter or digit turned into '_'.
std::string deviceName(const std::string& subsystem, const std::string& sysname, const std::string& suffix = {});

} // namespace virtbus::nodedev
