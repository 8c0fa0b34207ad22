// Making, copying, resizing and removing file volumes. Raw files are made
// here (sparse or allocated); other formats by qemu-img, into a file this
// code created first with O_EXCL|O_NOFOLLOW, so neither an existing file
// nor a symlink planted in the pool is ever written through.
#include "storage/storage_backend.h"
#include "storage/storage_file.h"

#include "command.h"
#include "fileutil.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace virtbus::storage {

namespace {

// Formats qemu-img can create; the rest of libvirt's list it only reads.
bool qemuImgCreates(const std::string& f)
{
    for (const char* k : {"qcow2", "qcow", "qed", "vmdk", "vdi", "vpc", "vhdx", "luks"})
        if (f == k)
            return true;
    return false;
}

unsigned volMode(const xml::StorageVolDef& vol) { return vol.perms.mode.value_or(0600); }

// The file a new volume will be, made empty and exclusively.
int reserve(const xml::StorageVolDef& vol)
{
    int fd = ::open(vol.targetPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, volMode(vol));
    if (fd < 0) {
        if (errno == EEXIST)
            throw makeError(ErrCode::StorageVolExist, ErrDomain::Storage, "'" + vol.name + "'");
        throw systemError(ErrDomain::Storage, "cannot create volume '" + vol.targetPath + "'", errno);
    }
    // Owner and mode as asked (an explicit mode survives the umask).
    if (::fchmod(fd, volMode(vol)) != 0
        || ((vol.perms.owner || vol.perms.group)
            && ::fchown(fd, vol.perms.owner ? uid_t(*vol.perms.owner) : uid_t(-1),
                   vol.perms.group ? gid_t(*vol.perms.group) : gid_t(-1))
                != 0)) {
        int e = errno;
        ::close(fd);
        ::unlink(vol.targetPath.c_str());
        throw systemError(ErrDomain::Storage, "cannot set owner and mode of '" + vol.targetPath + "'", e);
    }
    return fd;
}

// libvirt's createRawFile: `allocation` bytes really allocated, the rest
// a hole up to `capacity`.
void fillRaw(int fd, const xml::StorageVolDef& vol)
{
    uint64_t alloc = std::min(vol.allocation.value_or(vol.capacity), vol.capacity);
    if (alloc > 0) {
        int r = ::posix_fallocate(fd, 0, static_cast<off_t>(alloc));
        if (r != 0)
            throw systemError(ErrDomain::Storage,
                "cannot allocate " + std::to_string(alloc) + " bytes in volume '" + vol.targetPath + "'", r);
    }
    if (::ftruncate(fd, static_cast<off_t>(vol.capacity)) != 0 || ::fsync(fd) != 0)
        throw systemError(ErrDomain::Storage, "cannot extend file '" + vol.targetPath + "'", errno);
}

std::vector<std::string> createOptions(const xml::StorageVolDef& vol, uint32_t flags)
{
    std::vector<std::string> o;
    if (vol.format == "qcow2") {
        o.push_back("compat=" + (vol.compat.empty() ? std::string("1.1") : vol.compat));
        if (vol.clusterSize)
            o.push_back("cluster_size=" + std::to_string(vol.clusterSize));
        for (const auto& f : vol.features.value_or(std::vector<std::string> {})) {
            if (f == "lazy_refcounts")
                o.push_back("lazy_refcounts=on");
            else if (f == "extended_l2")
                o.push_back("extended_l2=on");
        }
    } else if (!vol.compat.empty() || vol.clusterSize || (vol.features && !vol.features->empty())) {
        throw storageErr(ErrCode::ConfigUnsupported, "format features are only available with qcow2");
    }
    if (flags & flags::VolPreallocMetadata) {
        if (vol.format != "qcow2")
            throw storageErr(ErrCode::OperationUnsupported, "metadata preallocation only available with qcow2");
        o.push_back("preallocation=metadata");
    }
    return o;
}

std::string joined(const std::vector<std::string>& o)
{
    std::string s;
    for (const auto& x : o)
        s += (s.empty() ? "" : ",") + x;
    return s;
}

// Runs `work` on a freshly reserved file; on any failure the file goes.
template <typename F>
void intoNewFile(const xml::StorageVolDef& vol, F&& work)
{
    int fd = reserve(vol);
    try {
        work(fd);
    } catch (...) {
        ::close(fd);
        ::unlink(vol.targetPath.c_str());
        throw;
    }
    ::close(fd);
}

} // namespace

void createFileVolume(const xml::StorageVolDef& vol, uint32_t flags)
{
    checkVolumeName(vol.name);
    if (vol.format == "dir") {
        if (::mkdir(vol.targetPath.c_str(), volMode(vol) | 0100) != 0)
            throw systemError(ErrDomain::Storage, "cannot create path '" + vol.targetPath + "'", errno);
        return;
    }
    if (vol.format.empty() || vol.format == "raw" || vol.format == "iso") {
        if (vol.backingStore)
            throw storageErr(ErrCode::ConfigUnsupported, "backing storage not supported for raw volumes");
        if (flags & flags::VolPreallocMetadata)
            throw storageErr(ErrCode::OperationUnsupported, "metadata preallocation only available with qcow2");
        intoNewFile(vol, [&](int fd) { fillRaw(fd, vol); });
        return;
    }
    if (!qemuImgCreates(vol.format))
        throw storageErr(
            ErrCode::OperationUnsupported, "creation of volumes of format '" + vol.format + "' is not supported");
    std::vector<std::string> argv {"qemu-img", "create", "-f", vol.format};
    auto opts = createOptions(vol, flags);
    if (!opts.empty())
        argv.insert(argv.end(), {"-o", joined(opts)});
    if (vol.backingStore) {
        argv.insert(argv.end(),
            {"-b", vol.backingStore->path, "-F", vol.backingStore->format.empty() ? "raw" : vol.backingStore->format});
    }
    argv.push_back(vol.targetPath);
    // Without a size of its own an overlay takes its backing file's.
    if (vol.capacity || !vol.backingStore)
        argv.push_back(std::to_string(vol.capacity));
    intoNewFile(vol, [&](int) { runChecked(argv, ErrDomain::Storage); });
}

void cloneFileVolume(const xml::StorageVolDef& vol, const xml::StorageVolDef& src, uint32_t flags)
{
    checkVolumeName(vol.name);
    std::string dstFormat = vol.format.empty() ? "raw" : vol.format;
    std::string srcFormat = src.format.empty() ? "raw" : src.format;
    if (dstFormat != "raw" && !qemuImgCreates(dstFormat))
        throw storageErr(
            ErrCode::OperationUnsupported, "creation of volumes of format '" + dstFormat + "' is not supported");
    intoNewFile(vol, [&](int fd) {
        if ((flags & flags::VolReflink) && dstFormat == "raw" && srcFormat == "raw") {
            int in = ::open(src.targetPath.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            int r = in < 0 ? -1 : ::ioctl(fd, FICLONE, in);
            int e = errno;
            if (in >= 0)
                ::close(in);
            if (r != 0)
                throw systemError(ErrDomain::Storage, "failed to clone files from '" + src.targetPath + "'", e);
        } else {
            std::vector<std::string> argv {"qemu-img", "convert", "-f", srcFormat, "-O", dstFormat};
            auto opts = createOptions(vol, flags & ~flags::VolReflink);
            if (!opts.empty())
                argv.insert(argv.end(), {"-o", joined(opts)});
            argv.insert(argv.end(), {src.targetPath, vol.targetPath});
            runChecked(argv, ErrDomain::Storage);
        }
        // A larger capacity than the source's is grown into afterwards.
        if (vol.capacity > src.capacity)
            resizeFileVolume(vol, vol.capacity, 0);
    });
}

void resizeFileVolume(const xml::StorageVolDef& vol, uint64_t capacity, uint32_t flags)
{
    std::string format = vol.format.empty() ? "raw" : vol.format;
    if (format == "raw") {
        int fd = ::open(vol.targetPath.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            throw systemError(ErrDomain::Storage, "Unable to open '" + vol.targetPath + "'", errno);
        int r = 0;
        if ((flags & flags::ResizeAllocate) && capacity > vol.capacity)
            r = ::posix_fallocate(fd, static_cast<off_t>(vol.capacity), static_cast<off_t>(capacity - vol.capacity));
        if (r == 0 && ::ftruncate(fd, static_cast<off_t>(capacity)) != 0)
            r = errno;
        ::close(fd);
        if (r != 0)
            throw systemError(ErrDomain::Storage, "Failed to change size of '" + vol.targetPath + "'", r);
        return;
    }
    if (flags & flags::ResizeAllocate)
        throw storageErr(ErrCode::OperationUnsupported, "preallocate is only supported for raw type volume");
    std::vector<std::string> argv {"qemu-img", "resize"};
    if (capacity < vol.capacity)
        argv.push_back("--shrink");
    argv.insert(argv.end(), {"-f", format, vol.targetPath, std::to_string(capacity)});
    runChecked(argv, ErrDomain::Storage);
}

void deleteFileVolume(const xml::StorageVolDef& vol)
{
    // unlink never follows a symlink: a link in the pool goes, its target stays.
    int r = vol.type == "dir" ? ::rmdir(vol.targetPath.c_str()) : ::unlink(vol.targetPath.c_str());
    if (r != 0 && errno != ENOENT)
        throw systemError(ErrDomain::Storage, "cannot unlink file '" + vol.targetPath + "'", errno);
}

} // namespace virtbus::storage
