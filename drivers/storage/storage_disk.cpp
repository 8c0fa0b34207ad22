#include "storage/storage_disk.h"

#include "command.h"
#include "qemu/json.h"
#include "storage/storage_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace virtbus::storage {

namespace {

namespace json = qemu::json;

const std::string& device(const xml::StoragePoolDef& def) { return def.source.devices.at(0).path; }

// libvirt's disk pool formats as sfdisk labels.
std::string sfdiskLabel(const std::string& format)
{
    if (format.empty() || format == "unknown" || format == "dos")
        return "dos";
    if (format == "gpt")
        return "gpt";
    throw storageErr(ErrCode::ConfigUnsupported, "partition table format '" + format + "' is not supported");
}

struct Partition {
    std::string node;
    uint64_t start = 0, size = 0; // bytes
};

struct Table {
    std::string label;
    std::vector<Partition> parts;
};

std::optional<Table> readTable(const std::string& dev)
{
    CommandResult r = runCommand({"sfdisk", "--json", dev}, {}, ErrDomain::Storage);
    if (r.status != 0)
        return std::nullopt; // no partition table
    try {
        json::Value v = json::parse(r.out);
        const json::Value* t = v.find("partitiontable");
        if (!t)
            return std::nullopt;
        uint64_t sector = uint64_t(t->integer("sectorsize", 512));
        Table out;
        out.label = t->str("label");
        if (const json::Value* ps = t->find("partitions"); ps && ps->isArray())
            for (const auto& p : ps->asArray())
                out.parts.push_back(
                    {p.str("node"), uint64_t(p.integer("start")) * sector, uint64_t(p.integer("size")) * sector});
        return out;
    } catch (const json::ParseError&) {
        throw storageErr(ErrCode::InternalError, "cannot read the partition table of '" + dev + "'");
    }
}

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string partitionNumber(const std::string& node)
{
    size_t i = node.size();
    while (i > 0 && isdigit(static_cast<unsigned char>(node[i - 1])))
        --i;
    return node.substr(i);
}

} // namespace

void DiskBackend::check(const xml::StoragePoolDef& def) const
{
    if (def.source.devices.empty() || def.source.devices[0].path.empty())
        throw storageErr(ErrCode::InvalidArg, "missing source device");
    sfdiskLabel(def.source.format);
}

bool DiskBackend::stillActive(const xml::StoragePoolDef& def) const
{
    struct stat st { };
    return ::stat(device(def).c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

void DiskBackend::build(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, flags::BuildOverwrite | flags::BuildNoOverwrite, "virStorageBackendDiskBuildPool");
    const std::string& dev = device(def);
    std::string label = sfdiskLabel(def.source.format);
    if (!(flags & flags::BuildOverwrite)) {
        // Without OVERWRITE only an empty device is labelled.
        std::string found = trimmed(runCommand({"blkid", "-p", "-o", "value", "-s", "PTTYPE", dev}).out);
        if (found.empty())
            found = trimmed(runCommand({"blkid", "-p", "-o", "value", "-s", "TYPE", dev}).out);
        if (!found.empty())
            throw storageErr(
                ErrCode::OperationFailed, "Storage pool already built: device '" + dev + "' holds '" + found + "'");
    }
    CommandOptions o;
    o.input = "label: " + label + "\n";
    runChecked({"sfdisk", "--quiet", "--wipe", "always", dev}, ErrDomain::Storage, o);
}

void DiskBackend::start(const xml::StoragePoolDef& def)
{
    if (!stillActive(def))
        throw storageErr(ErrCode::OperationInvalid, "device '" + device(def) + "' is not a block device");
    auto t = readTable(device(def));
    std::string want = sfdiskLabel(def.source.format);
    if (!t)
        throw storageErr(
            ErrCode::OperationInvalid, "device '" + device(def) + "' has no partition table; build the pool first");
    if (t->label != want && !(def.source.format.empty() || def.source.format == "unknown"))
        throw storageErr(ErrCode::OperationInvalid,
            "device '" + device(def) + "' has a '" + t->label + "' partition table, not '" + want + "'");
}

void DiskBackend::remove(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendDiskDeletePool");
    runChecked({"wipefs", "--all", "--quiet", device(def)}, ErrDomain::Storage);
}

PoolSpace DiskBackend::refresh(const xml::StoragePoolDef& def, std::vector<xml::StorageVolDef>& vols)
{
    const std::string& dev = device(def);
    auto t = readTable(dev);
    if (!t)
        throw storageErr(ErrCode::OperationFailed, "device '" + dev + "' has no partition table");
    PoolSpace s;
    int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        s.capacity = deviceSize(fd);
        ::close(fd);
    }
    for (const auto& p : t->parts) {
        xml::StorageVolDef v;
        v.name = p.node.substr(p.node.find_last_of('/') + 1);
        v.targetPath = v.key = p.node;
        v.type = "block";
        v.format = "none";
        v.capacity = p.size;
        v.allocation = p.size;
        v.physical = p.size;
        s.allocation += p.size;
        vols.push_back(std::move(v));
    }
    // What sfdisk reports as unpartitioned, in bytes (first line).
    std::string free = runCommand({"sfdisk", "--list-free", "--bytes", dev}).out;
    if (auto at = free.find(" bytes,"); at != std::string::npos) {
        size_t b = free.rfind(' ', at - 1);
        s.available = std::stoull(free.substr(b + 1, at - b - 1));
    }
    return s;
}

std::string DiskBackend::volPath(const xml::StoragePoolDef& def, const std::string&) const
{
    // Placeholder key until the kernel names it: a partition path cannot
    // end in '+'.
    return device(def) + "+";
}

void DiskBackend::createVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendDiskCreateVol");
    const std::string& dev = device(def);
    auto before = readTable(dev);
    if (!before)
        throw storageErr(ErrCode::OperationFailed, "device '" + dev + "' has no partition table");
    CommandOptions o;
    o.input = "size=" + std::to_string((vol.capacity + 511) / 512) + "\n";
    runChecked({"sfdisk", "--quiet", "--append", dev}, ErrDomain::Storage, o);
    auto after = readTable(dev);
    for (const auto& p : after ? after->parts : std::vector<Partition> {}) {
        bool old = false;
        for (const auto& q : before->parts)
            old = old || q.node == p.node;
        if (!old) {
            vol.targetPath = vol.key = p.node;
            vol.name = p.node.substr(p.node.find_last_of('/') + 1);
            return;
        }
    }
    throw storageErr(ErrCode::InternalError, "the new partition on '" + dev + "' was not found");
}

void DiskBackend::deleteVol(const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendDiskDeleteVol");
    std::string n = partitionNumber(vol.targetPath);
    if (n.empty())
        throw storageErr(ErrCode::InternalError, "cannot tell the partition number of '" + vol.targetPath + "'");
    runChecked({"sfdisk", "--quiet", "--delete", device(def), n}, ErrDomain::Storage);
}

void DiskBackend::refreshVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol)
{
    auto t = readTable(device(def));
    for (const auto& p : t ? t->parts : std::vector<Partition> {})
        if (p.node == vol.targetPath) {
            vol.type = "block";
            vol.format = "none";
            vol.capacity = p.size;
            vol.allocation = p.size;
            vol.physical = p.size;
            return;
        }
    throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching path '" + vol.targetPath + "'");
}

// Whole disks of this host that could hold a disk pool (not partitions,
// not loop devices without a backing file, not RAM disks).
std::string DiskBackend::findSources(const std::string&, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendDiskFindPoolSources");
    std::vector<xml::StoragePoolSourceDef> found;
    DIR* d = ::opendir("/sys/block");
    std::vector<std::string> names;
    while (dirent* e = d ? ::readdir(d) : nullptr)
        if (e->d_name[0] != '.')
            names.push_back(e->d_name);
    if (d)
        ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        if (n.rfind("ram", 0) == 0 || n.rfind("zram", 0) == 0)
            continue;
        if (n.rfind("loop", 0) == 0 && ::access(("/sys/block/" + n + "/loop/backing_file").c_str(), F_OK) != 0)
            continue;
        std::string dev = "/dev/" + n;
        xml::StoragePoolSourceDef s;
        s.devices.push_back({dev, "", {}});
        auto t = readTable(dev);
        s.format = t ? (t->label == "dos" ? "dos" : t->label) : "unknown";
        found.push_back(std::move(s));
    }
    return xml::formatStoragePoolSourcesXML("disk", found);
}

} // namespace virtbus::storage
