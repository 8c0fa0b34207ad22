// Handing a PCI function to VFIO and back, through the kernel's sysfs
// interface: driver_override, the old driver's unbind, drivers_probe. Works
// on any sysfs root; a test's tree gets a write hook that plays the kernel's
// part (moving the driver link).
#pragma once

#include "nodedev/sysfs.h"

#include <functional>
#include <string>

namespace virtbus::nodedev {

class PciPassthrough {
public:
    // `mounts` and `swaps` are the tables to consult for block devices in
    // use (/proc/self/mounts and /proc/swaps on a host).
    PciPassthrough(const Sysfs& fs, std::string mounts, std::string swaps);

    // Called after every sysfs write with the path and the value written.
    using WriteHook = std::function<void(const std::string& path, const std::string& value)>;
    void setWriteHook(WriteHook hook) { hook_ = std::move(hook); }

    // `syspath` is the PCI function's directory. driverName is the
    // caller's ("", "vfio", "kvm", ...).
    void detach(const std::string& syspath, const std::string& driverName);
    void reattach(const std::string& syspath);
    void reset(const std::string& syspath);

    // Why the function (or one sharing its IOMMU group) cannot leave the
    // host, or "" if it can.
    std::string hostUse(const std::string& syspath) const;

private:
    const Sysfs& fs_;
    std::string mounts_;
    std::string swaps_;
    WriteHook hook_;

    void write(const std::string& path, const std::string& value);
    std::string deviceUse(const std::string& syspath) const;
    void ensureStubDriver(const std::string& stub);
};

} // namespace virtbus::nodedev
