// The dir pool: a directory whose entries are the volumes.
#include "storage/storage_dir.h"

#include "fileutil.h"
#include "storage/storage_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace virtbus::storage {

namespace {

std::string realPath(const std::string& p)
{
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

bool inside(const std::string& path, const std::string& dir)
{
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

} // namespace

bool DirBackend::stillActive(const xml::StoragePoolDef& def) const
{
    struct stat st { };
    return ::stat(def.targetPath.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void DirBackend::makeTarget(const xml::StoragePoolDef& def)
{
    // libvirt's default for a pool directory: others may reach the
    // volumes they are given, not list them.
    unsigned mode = def.targetPerms.mode.value_or(0711);
    makeDirs(def.targetPath, mode, ErrDomain::Storage);
    if (::chmod(def.targetPath.c_str(), mode) != 0)
        throw systemError(ErrDomain::Storage, "cannot set mode of '" + def.targetPath + "'", errno);
    if ((def.targetPerms.owner || def.targetPerms.group)
        && ::chown(def.targetPath.c_str(), def.targetPerms.owner ? uid_t(*def.targetPerms.owner) : uid_t(-1),
               def.targetPerms.group ? gid_t(*def.targetPerms.group) : gid_t(-1))
            != 0)
        throw systemError(ErrDomain::Storage, "cannot set owner of '" + def.targetPath + "'", errno);
}

void DirBackend::build(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, flags::BuildOverwrite | flags::BuildNoOverwrite, "virStorageBackendFileSystemBuild");
    makeTarget(def);
}

void DirBackend::start(const xml::StoragePoolDef& def)
{
    if (!DirBackend::stillActive(def))
        throw systemError(ErrDomain::Storage, "cannot open directory '" + def.targetPath + "'", ENOENT);
}

void DirBackend::remove(const xml::StoragePoolDef& def, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendFileSystemDelete");
    if (::rmdir(def.targetPath.c_str()) != 0 && errno != ENOENT)
        throw systemError(ErrDomain::Storage, "failed to remove pool '" + def.targetPath + "'", errno);
}

// Every entry is a volume (files, block devices, directories), except
// symlinks that lead out of the pool, which are never followed.
PoolSpace DirBackend::refresh(const xml::StoragePoolDef& def, std::vector<xml::StorageVolDef>& vols)
{
    DIR* d = ::opendir(def.targetPath.c_str());
    if (!d)
        throw systemError(ErrDomain::Storage, "cannot open directory '" + def.targetPath + "'", errno);
    std::string root = realPath(def.targetPath);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        xml::StorageVolDef v;
        v.name = name;
        v.targetPath = v.key = def.targetPath + "/" + name;
        struct stat st { };
        if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        std::string probed = v.targetPath;
        if (S_ISLNK(st.st_mode)) {
            probed = realPath(v.targetPath);
            if (probed.empty() || !inside(probed, root) || ::stat(probed.c_str(), &st) != 0)
                continue;
        }
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode))
            continue;
        try {
            v.targetPath = probed;
            probeVolume(v);
            v.targetPath = v.key;
        } catch (const VirtError&) {
            continue; // gone meanwhile, or unreadable: not a volume now
        }
        vols.push_back(std::move(v));
    }
    ::closedir(d);
    struct statvfs sv { };
    if (::statvfs(def.targetPath.c_str(), &sv) != 0)
        throw systemError(ErrDomain::Storage, "cannot statvfs path '" + def.targetPath + "'", errno);
    PoolSpace s;
    s.capacity = uint64_t(sv.f_blocks) * sv.f_frsize;
    s.available = uint64_t(sv.f_bavail) * sv.f_frsize;
    s.allocation = (uint64_t(sv.f_blocks) - sv.f_bfree) * sv.f_frsize;
    return s;
}

void DirBackend::createVol(const xml::StoragePoolDef&, xml::StorageVolDef& vol, uint32_t flags)
{
    createFileVolume(vol, flags);
}

void DirBackend::createVolFrom(
    const xml::StoragePoolDef&, xml::StorageVolDef& vol, const xml::StorageVolDef& src, uint32_t flags)
{
    cloneFileVolume(vol, src, flags);
}

void DirBackend::deleteVol(const xml::StoragePoolDef&, const xml::StorageVolDef& vol, uint32_t flags)
{
    checkFlags(flags, 0, "virStorageBackendVolDeleteLocal");
    deleteFileVolume(vol);
}

void DirBackend::resizeVol(const xml::StoragePoolDef&, const xml::StorageVolDef& vol, uint64_t capacity, uint32_t flags)
{
    resizeFileVolume(vol, capacity, flags);
}

void DirBackend::refreshVol(const xml::StoragePoolDef&, xml::StorageVolDef& vol) { probeVolume(vol); }

} // namespace virtbus::storage
