// fs and netfs pools: a dir pool whose directory is a mount point. Build
// makes the directory (and, with OVERWRITE or NO_OVERWRITE, the file
// system, as libvirt's virStorageBackendMakeFileSystem), start mounts,
// stop unmounts.
#include "storage/storage_dir.h"

#include "command.h"
#include "fileutil.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace virtbus::storage {

namespace {

// mountinfo escapes blanks and backslashes in paths as octal.
std::string unescapeMount(const std::string& s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            out += char(std::stoi(s.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

// What blkid finds on a device: its file system or partition table type.
std::string probedType(const std::string& dev)
{
    CommandResult r = runCommand({"blkid", "-p", "-o", "value", "-s", "TYPE", dev}, {}, ErrDomain::Storage);
    std::string t = r.out;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
        t.pop_back();
    if (t.empty()) {
        r = runCommand({"blkid", "-p", "-o", "value", "-s", "PTTYPE", dev}, {}, ErrDomain::Storage);
        t = r.out;
        while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
            t.pop_back();
    }
    return t;
}

} // namespace

bool isMountPoint(const std::string& path)
{
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string id, parent, devno, root, point;
        if (f >> id >> parent >> devno >> root >> point && unescapeMount(point) == path)
            return true;
    }
    return false;
}

void FsBackend::check(const xml::StoragePoolDef& def) const
{
    if (network_) {
        if (def.source.hosts.empty() || def.source.hosts[0].name.empty())
            throw storageErr(ErrCode::InvalidArg, "missing source host");
        if (def.source.dir.empty())
            throw storageErr(ErrCode::InvalidArg, "missing source path");
    } else if (def.source.devices.empty() || def.source.devices[0].path.empty()) {
        throw storageErr(ErrCode::InvalidArg, "missing source device");
    }
}

std::string FsBackend::source(const xml::StoragePoolDef& def) const
{
    if (!network_)
        return def.source.devices[0].path;
    const std::string& host = def.source.hosts[0].name;
    if (def.source.format == "cifs")
        return "//" + host + "/" + (def.source.dir[0] == '/' ? def.source.dir.substr(1) : def.source.dir);
    return host + ":" + def.source.dir;
}

bool FsBackend::stillActive(const xml::StoragePoolDef& def) const { return isMountPoint(def.targetPath); }

void FsBackend::build(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, flags::BuildOverwrite | flags::BuildNoOverwrite, "virStorageBackendFileSystemBuild");
    makeTarget(def);
    if (network_ || !(flags & (flags::BuildOverwrite | flags::BuildNoOverwrite)))
        return;
    const std::string& dev = def.source.devices[0].path;
    std::string format = def.source.format;
    if (format.empty() || format == "auto")
        throw storageErr(ErrCode::OperationFailed, "No source format specified for device '" + dev + "'");
    if (flags & flags::BuildNoOverwrite) {
        std::string found = probedType(dev);
        if (found == format)
            throw storageErr(
                ErrCode::OperationFailed, "Device '" + dev + "' is already formatted using '" + found + "'");
        if (!found.empty())
            throw storageErr(ErrCode::OperationFailed,
                "Format of device '" + dev + "' does not match the expected format '" + format
                    + "', forced overwrite is necessary");
    }
    std::vector<std::string> argv {"mkfs", "-t", format};
    // mkfs tools that ask before overwriting are told not to: the caller's
    // flags already said whether that is wanted.
    if (format.rfind("ext", 0) == 0)
        argv.push_back("-F");
    else if (format == "xfs" || format == "btrfs")
        argv.push_back("-f");
    argv.push_back(dev);
    runChecked(argv, ErrDomain::Storage);
}

void FsBackend::start(const xml::StoragePoolDef& def)
{
    if (isMountPoint(def.targetPath))
        throw storageErr(ErrCode::OperationInvalid, "Target '" + def.targetPath + "' is already mounted");
    struct stat st { };
    if (::stat(def.targetPath.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw storageErr(ErrCode::OperationInvalid, "target path '" + def.targetPath + "' does not exist");
    std::vector<std::string> argv {"mount"};
    std::string format = def.source.format;
    if (network_) {
        // Guests' images only: no devices, no setuid programs from a share.
        argv.insert(argv.end(), {"-t", format.empty() || format == "auto" ? "nfs" : format, "-o", "nodev,nosuid"});
    } else if (!format.empty() && format != "auto") {
        argv.insert(argv.end(), {"-t", format});
    }
    argv.insert(argv.end(), {source(def), def.targetPath});
    runChecked(argv, ErrDomain::Storage, {std::chrono::seconds(60)});
}

void FsBackend::stop(const xml::StoragePoolDef& def)
{
    if (isMountPoint(def.targetPath))
        runChecked({"umount", def.targetPath}, ErrDomain::Storage, {std::chrono::seconds(60)});
}

// netfs: the exports of the host the source names, by showmount.
std::string FsBackend::findSources(const std::string& srcSpec, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendFileSystemNetFindPoolSources");
    if (!network_)
        return Backend::findSources(srcSpec, flags);
    xml::StoragePoolSourceDef spec;
    if (!srcSpec.empty())
        spec = xml::parseStoragePoolSourceXML(srcSpec, "netfs");
    if (spec.hosts.empty() || spec.hosts[0].name.empty())
        throw storageErr(ErrCode::InvalidArg, "hostname must be specified for netfs sources");
    const std::string& host = spec.hosts[0].name;
    CommandResult r
        = runChecked({"showmount", "--no-headers", "--exports", host}, ErrDomain::Storage, {std::chrono::seconds(30)});
    std::vector<xml::StoragePoolSourceDef> found;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string dir;
        if (!(f >> dir) || dir[0] != '/')
            continue;
        xml::StoragePoolSourceDef s;
        s.hosts.push_back({host, 0});
        s.dir = dir;
        s.format = "nfs";
        found.push_back(std::move(s));
    }
    return xml::formatStoragePoolSourcesXML("netfs", found);
}

} // namespace virtbus::storage
