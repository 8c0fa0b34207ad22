#include "nodedev/pci_passthrough.h"

#include "error.h"
#include "fileutil.h"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <set>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace virtbus::nodedev {

namespace {

constexpr const char* kVfio = "vfio-pci";

bool isStub(const std::string& driver) { return driver == kVfio || driver == "pci-stub"; }

VirtError nodedevErr(ErrCode code, const std::string& detail) { return makeError(code, ErrDomain::NodeDev, detail); }

// The first whitespace-separated field of each line of a table
// (/proc/self/mounts, /proc/swaps) that names one of `devs`, with the
// line's second field.
std::optional<std::pair<std::string, std::string>> findSource(
    const std::string& path, const std::set<std::string>& devs)
{
    std::string table = readFile(path).value_or("");
    size_t pos = 0;
    while (pos < table.size()) {
        size_t nl = table.find('\n', pos);
        if (nl == std::string::npos)
            nl = table.size();
        std::string line = table.substr(pos, nl - pos);
        pos = nl + 1;
        size_t sp = line.find_first_of(" \t");
        if (sp == std::string::npos || !devs.count(line.substr(0, sp)))
            continue;
        size_t b = line.find_first_not_of(" \t", sp);
        size_t e = b == std::string::npos ? b : line.find_first_of(" \t", b);
        return std::pair {line.substr(0, sp), b == std::string::npos ? std::string() : line.substr(b, e - b)};
    }
    return std::nullopt;
}

// Network interfaces and block devices (directories of disks and their
// partitions) that live below a device directory. Symlinks are not followed, so the walk
// stays inside the device's own subtree.
void collectChildren(
    const std::string& dir, int depth, std::vector<std::string>& nets, std::vector<std::string>& blocks)
{
    if (depth > 5)
        return;
    for (const auto& n : Sysfs::list(dir)) {
        std::string p = dir + "/" + n;
        if (Sysfs::resolve(p) != p) // a symlink (driver, subsystem, ...)
            continue;
        if (n == "net") {
            for (const auto& i : Sysfs::list(p))
                nets.push_back(i);
        } else if (n == "block") {
            for (const auto& disk : Sysfs::list(p)) {
                blocks.push_back(p + "/" + disk);
                for (const auto& part : Sysfs::list(p + "/" + disk))
                    if (Sysfs::exists(p + "/" + disk + "/" + part + "/partition"))
                        blocks.push_back(p + "/" + disk + "/" + part);
            }
        } else if (Sysfs::exists(p + "/uevent")) {
            collectChildren(p, depth + 1, nets, blocks);
        }
    }
}

} // namespace

PciPassthrough::PciPassthrough(const Sysfs& fs, std::string mounts, std::string swaps) :
    fs_(fs), mounts_(std::move(mounts)), swaps_(std::move(swaps))
{ }

void PciPassthrough::write(const std::string& path, const std::string& value)
{
    int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        throw systemError(ErrDomain::NodeDev, "Failed to open '" + path + "'", errno);
    ssize_t n = ::write(fd, value.data(), value.size());
    int saved = errno;
    close(fd);
    if (n != static_cast<ssize_t>(value.size()))
        throw systemError(ErrDomain::NodeDev, "Failed to write '" + value + "' to '" + path + "'", n < 0 ? saved : EIO);
    if (hook_)
        hook_(path, value);
}

std::string PciPassthrough::deviceUse(const std::string& syspath) const
{
    std::vector<std::string> nets, blocks;
    collectChildren(syspath, 0, nets, blocks);
    for (const auto& ifname : nets) {
        // IFF_UP: the host is using the interface.
        std::string dir = fs_.root() + "/class/net/" + ifname;
        if (auto flags = Sysfs::number(dir, "flags", 16); flags && (*flags & 1))
            return "network interface " + ifname + " is up";
    }
    if (blocks.empty())
        return {};
    std::set<std::string> devs;
    for (const auto& b : blocks) {
        std::string dev = "/dev/" + Sysfs::basename(b);
        devs.insert(dev);
        // Device-mapper, MD RAID or bcache built on it (holders/).
        if (auto holders = Sysfs::list(b + "/holders"); !holders.empty())
            return "block device " + dev + " is held by " + holders.front();
    }
    if (auto m = findSource(mounts_, devs))
        return "block device " + m->first + " is mounted on " + m->second;
    if (auto sw = findSource(swaps_, devs))
        return "block device " + sw->first + " is in use as swap";
    return {};
}

std::string PciPassthrough::hostUse(const std::string& syspath) const
{
    std::string addr = Sysfs::basename(syspath);
    if (std::string why = deviceUse(syspath); !why.empty())
        return "PCI device " + addr + " is in use by the host: " + why;
    // VFIO hands out whole IOMMU groups: every other member must be free
    // of host users too (bridges excepted, as the kernel allows them).
    std::string group = Sysfs::linkName(syspath + "/iommu_group");
    std::string members = Sysfs::resolve(syspath + "/iommu_group") + "/devices";
    for (const auto& m : Sysfs::list(members)) {
        if (m == addr)
            continue;
        std::string dir = Sysfs::resolve(members + "/" + m);
        if (dir.empty())
            continue;
        if (auto cls = Sysfs::number(dir, "class", 16); cls && (*cls >> 8) == 0x0604)
            continue;
        if (isStub(Sysfs::linkName(dir + "/driver")))
            continue;
        if (std::string why = deviceUse(dir); !why.empty())
            return "PCI device " + addr + " shares IOMMU group " + group + " with " + m
                + ", which is in use by the host: " + why;
    }
    return {};
}

void PciPassthrough::ensureStubDriver(const std::string& stub)
{
    std::string dir = fs_.root() + "/bus/pci/drivers/" + stub;
    if (Sysfs::exists(dir))
        return;
    // Only the host's tree can be helped by loading the module.
    if (fs_.root() == "/sys") {
        pid_t pid = 0;
        const char* argv[] = {"modprobe", "-q", stub.c_str(), nullptr};
        if (posix_spawnp(&pid, "modprobe", nullptr, nullptr, const_cast<char**>(argv), environ) == 0) {
            int st = 0;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) { }
        }
    }
    if (!Sysfs::exists(dir))
        throw nodedevErr(ErrCode::InternalError, "Failed to load PCI stub module " + stub);
}

void PciPassthrough::detach(const std::string& syspath, const std::string& driverName)
{
    if (driverName == "kvm")
        throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu,
            "KVM device assignment is no longer supported on this system");
    if (!driverName.empty() && driverName != "vfio")
        throw makeError(ErrCode::InvalidArg, ErrDomain::Qemu, "unknown driver name '" + driverName + "'");
    // VFIO needs an IOMMU: the kernel lists its groups, the device has one.
    if (Sysfs::list(fs_.root() + "/kernel/iommu_groups").empty() || !Sysfs::exists(syspath + "/iommu_group"))
        throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu,
            "VFIO device assignment is currently not supported on this system");
    std::string addr = Sysfs::basename(syspath);
    std::string current = Sysfs::linkName(syspath + "/driver");
    if (current == kVfio)
        return; // already detached: libvirt reports success
    if (std::string why = hostUse(syspath); !why.empty())
        throw nodedevErr(ErrCode::OperationInvalid, why);
    ensureStubDriver(kVfio);

    write(syspath + "/driver_override", kVfio);
    try {
        if (!current.empty())
            write(syspath + "/driver/unbind", addr);
        write(fs_.root() + "/bus/pci/drivers_probe", addr);
    } catch (const VirtError&) {
        write(syspath + "/driver_override", "\n");
        throw;
    }
    if (Sysfs::linkName(syspath + "/driver") != kVfio) {
        // Give the device back to whatever driver wants it.
        write(syspath + "/driver_override", "\n");
        if (Sysfs::linkName(syspath + "/driver").empty())
            write(fs_.root() + "/bus/pci/drivers_probe", addr);
        throw nodedevErr(ErrCode::InternalError, "Failed to bind PCI device '" + addr + "' to " + std::string(kVfio));
    }
}

void PciPassthrough::reattach(const std::string& syspath)
{
    std::string addr = Sysfs::basename(syspath);
    std::string current = Sysfs::linkName(syspath + "/driver");
    std::string override = Sysfs::attr(syspath, "driver_override").value_or("");
    if (override == "(null)")
        override.clear();
    // Not held by a stub: there is nothing to give back.
    if (!isStub(current) && !isStub(override))
        return;
    write(syspath + "/driver_override", "\n");
    if (isStub(current))
        write(syspath + "/driver/unbind", addr);
    write(fs_.root() + "/bus/pci/drivers_probe", addr);
}

void PciPassthrough::reset(const std::string& syspath)
{
    std::string addr = Sysfs::basename(syspath);
    // vfio-pci resets the device itself whenever needed; a second reset
    // behind its back would only disturb it.
    if (Sysfs::linkName(syspath + "/driver") == kVfio)
        return;
    if (std::string why = hostUse(syspath); !why.empty())
        throw nodedevErr(ErrCode::OperationInvalid, why);
    // The kernel's reset attribute picks FLR, PM or bus reset, and is only
    // there when one of them is possible.
    if (!Sysfs::exists(syspath + "/reset"))
        throw nodedevErr(
            ErrCode::InternalError, "Unable to reset PCI device " + addr + ": no FLR, PM reset or bus reset available");
    write(syspath + "/reset", "1");
}

} // namespace virtbus::nodedev
