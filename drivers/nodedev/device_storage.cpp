// Disks (libvirt's "storage" capability) and PCI ID names. Without udev the
// drive type and serial come from sysfs: the SCSI peripheral type, the
// virtio/NVMe serial attributes.
#include "nodedev/device_builder.h"

#include "fileutil.h"

#include <cstdio>

namespace virtbus::nodedev {

namespace {

std::string trimmed(const std::string& dir, const std::string& name)
{
    std::string s = Sysfs::attr(dir, name).value_or("");
    size_t b = s.find_first_not_of(" \t\n");
    size_t e = s.find_last_not_of(" \t\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The drive type udev would have reported as ID_TYPE (or ID_CDROM, ...),
// from what the kernel shows.
std::string sysfsDriveType(const std::string& dir, const std::string& devnode)
{
    if (auto t = Sysfs::number(dir + "/device", "type", 0)) {
        if (*t == 0)
            return "disk";
        if (*t == 5)
            return "cd";
    }
    if (Sysfs::linkName(dir + "/device/subsystem") == "nvme" || Sysfs::exists(dir + "/device/nsid"))
        return "disk";
    // libvirt's own guess when udev has none: a virtio disk.
    if (devnode.rfind("/dev/vd", 0) == 0)
        return "disk";
    return {};
}

} // namespace

bool describeStorage(const BuildContext& ctx, const std::string& dir, const std::map<std::string, std::string>& ue,
    xml::NodeDeviceDef& def)
{
    if (def.devnode.empty())
        return false;
    auto prop = [&](const char* key) {
        return ctx.udev && ctx.udev->property ? ctx.udev->property(dir, key) : std::string();
    };
    (void)ue;
    xml::NodeDevStorageCap st;
    st.block = def.devnode;
    st.bus = prop("ID_BUS");
    st.serial = prop("ID_SERIAL");
    if (st.serial.empty())
        for (const char* a : {"serial", "device/serial", "device/wwid"})
            if (st.serial = trimmed(dir, a); !st.serial.empty())
                break;
    st.vendor = trimmed(dir, "device/vendor");
    st.model = trimmed(dir, "device/model");
    st.driveType = prop("ID_TYPE");
    if (st.driveType.empty() || st.driveType == "generic") {
        if (prop("ID_DRIVE_FLOPPY") == "1")
            st.driveType = "floppy";
        else if (prop("ID_CDROM") == "1")
            st.driveType = "cd";
        else if (prop("ID_DRIVE_FLASH_SD") == "1")
            st.driveType = "sd";
        else
            st.driveType = sysfsDriveType(dir, st.block);
    }
    auto blocks = Sysfs::number(dir, "size", 0);
    auto lbs = Sysfs::number(dir, "queue/logical_block_size", 0);
    if (st.driveType == "disk" || st.driveType == "sd") {
        st.numBlocks = blocks;
        st.logicalBlockSize = lbs;
        // libvirt multiplies the 512-byte sector count by the logical
        // block size; kept so sizes match what virsh shows.
        st.size = blocks.value_or(0) * lbs.value_or(0);
    } else if (st.driveType == "cd" || st.driveType == "floppy") {
        if (st.driveType == "cd")
            st.driveType = "cdrom"; // libvirt's historic name
        st.removable = Sysfs::number(dir, "removable", 0).value_or(0) == 1;
        std::string media = prop("ID_CDROM_MEDIA");
        bool hasMedia = media.empty() ? blocks.value_or(0) > 0 : media == "1";
        if (hasMedia) {
            st.mediaAvailable = true;
            st.mediaLabel = prop("ID_FS_LABEL");
            st.numBlocks = blocks;
            st.logicalBlockSize = lbs;
            st.mediaSize = blocks.value_or(0) * lbs.value_or(0);
        }
    } else {
        // Loop, zram, ...: libvirt cannot tell what they are and skips them.
        return false;
    }
    def.name = deviceName("block", Sysfs::basename(dir), st.serial);
    def.caps.push_back({"storage", std::move(st), {}});
    return true;
}

// ---- pci.ids ----

PciIds::PciIds(std::string path) : path_(std::move(path))
{
    if (path_.empty())
        for (const char* p : {"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"})
            if (Sysfs::exists(p)) {
                path_ = p;
                break;
            }
}

std::string PciIds::vendor(unsigned vendorId) const { return lookup(vendorId, std::nullopt).value_or(""); }

std::string PciIds::device(unsigned vendorId, unsigned deviceId) const
{
    return lookup(vendorId, deviceId).value_or("");
}

// A linear scan per lookup: names are wanted when a PCI device is first
// described, a few dozen times per daemon, so no table stays in memory.
std::optional<std::string> PciIds::lookup(unsigned vendorId, std::optional<unsigned> deviceId) const
{
    if (path_.empty())
        return std::nullopt;
    FILE* f = fopen(path_.c_str(), "re");
    if (!f)
        return std::nullopt;
    char line[512];
    bool inVendor = false;
    std::optional<std::string> out;
    while (fgets(line, sizeof line, f)) {
        std::string l(line);
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r'))
            l.pop_back();
        if (l.empty() || l[0] == '#')
            continue;
        unsigned id = 0;
        if (l[0] != '\t') {
            if (inVendor)
                break;
            if (l.size() > 6 && sscanf(l.c_str(), "%4x", &id) == 1 && id == vendorId && l[4] == ' ') {
                inVendor = true;
                if (!deviceId) {
                    out = l.substr(6);
                    break;
                }
            }
        } else if (inVendor && l.size() > 7 && l[1] != '\t' && sscanf(l.c_str() + 1, "%4x", &id) == 1
            && id == *deviceId) {
            out = l.substr(7);
            break;
        }
    }
    fclose(f);
    return out;
}

} // namespace virtbus::nodedev
