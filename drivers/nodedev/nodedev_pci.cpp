// The driver's PCI calls: which device, then PciPassthrough's sysfs
// sequence under a mutex of its own, then the cache refreshed.
#include "nodedev/nodedev_driver.h"

#include <variant>

namespace virtbus {

// ---- PCI passthrough ----

void NodeDevDriver::setWriteHook(nodedev::PciPassthrough::WriteHook hook) { pci_.setWriteHook(std::move(hook)); }

std::string NodeDevDriver::pciSyspath(const std::string& name)
{
    std::lock_guard lock(mu_);
    const Entry& e = byName(name);
    for (const auto& cap : e.def.caps)
        if (std::holds_alternative<xml::NodeDevPciCap>(cap.data))
            return e.def.path;
    throw makeError(ErrCode::InvalidArg, ErrDomain::Qemu, "device " + name + " is not a PCI device");
}

void NodeDevDriver::refreshAfterPciChange(const std::string& syspath)
{
    // The kernel's bind/unbind uevents say the same, but a test's tree has
    // no kernel behind it, and callers expect the new driver at once.
    std::string devpath = syspath.substr(fs_.root().size());
    handleUevent({"change", devpath, {}, {}});
}

void NodeDevDriver::nodeDeviceDetach(const std::string& name, const std::string& driverName, uint32_t flags)
{
    std::string path = pciSyspath(name);
    checkFlags(flags, 0, "qemuNodeDeviceDetachFlags");
    {
        std::lock_guard lock(pciMu_);
        pci_.detach(path, driverName);
    }
    refreshAfterPciChange(path);
}

void NodeDevDriver::nodeDeviceReAttach(const std::string& name)
{
    std::string path = pciSyspath(name);
    {
        std::lock_guard lock(pciMu_);
        pci_.reattach(path);
    }
    refreshAfterPciChange(path);
}

void NodeDevDriver::nodeDeviceReset(const std::string& name)
{
    std::string path = pciSyspath(name);
    std::lock_guard lock(pciMu_);
    pci_.reset(path);
}

} // namespace virtbus
