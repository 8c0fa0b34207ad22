#include "storage/storage_file.h"

#include "storage/storage_backend.h"

#include "command.h"
#include "fileutil.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace virtbus::storage {

namespace {

uint32_t be32(const unsigned char* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (p[2] << 8) | p[3]; }
uint64_t be64(const unsigned char* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }
uint64_t le64(const unsigned char* p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

bool startsWith(const std::vector<unsigned char>& h, size_t off, std::string_view magic)
{
    return h.size() >= off + magic.size() && std::memcmp(h.data() + off, magic.data(), magic.size()) == 0;
}

// The qcow2 header (docs/interop/qcow2.txt in QEMU): sizes, the backing
// file name, and the header extensions for its format.
void probeQcow2(int fd, const std::vector<unsigned char>& h, ImageFacts& f)
{
    f.format = "qcow2";
    uint32_t version = be32(&h[4]);
    f.virtualSize = be64(&h[24]);
    uint32_t clusterBits = be32(&h[20]);
    if (clusterBits >= 9 && clusterBits <= 21)
        f.clusterSize = uint64_t(1) << clusterBits;
    f.compat = version >= 3 ? "1.1" : "0.10";
    uint64_t backingOff = be64(&h[8]);
    uint32_t backingLen = be32(&h[16]);
    uint32_t headerLen = 72;
    if (version >= 3 && h.size() >= 104) {
        f.lazyRefcounts = (be64(&h[80]) & 1) != 0;
        headerLen = be32(&h[100]);
    }
    if (backingOff && backingLen && backingLen <= 1023) {
        std::string name(backingLen, '\0');
        if (::pread(fd, name.data(), backingLen, static_cast<off_t>(backingOff)) == ssize_t(backingLen))
            f.backingPath = name;
    }
    // Extensions follow the header, each (type, length, data padded to 8).
    size_t off = headerLen;
    for (int i = 0; i < 64 && off + 8 <= h.size(); ++i) {
        uint32_t type = be32(&h[off]), len = be32(&h[off + 4]);
        if (type == 0)
            break;
        if (type == 0xE2792ACA && off + 8 + len <= h.size()) // backing file format name
            f.backingFormat.assign(reinterpret_cast<const char*>(&h[off + 8]), len);
        off += 8 + ((len + 7) & ~7u);
    }
}

} // namespace

uint64_t deviceSize(int fd)
{
    struct stat st { };
    if (::fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
        uint64_t size = 0;
        if (::ioctl(fd, BLKGETSIZE64, &size) == 0)
            return size;
    }
    return static_cast<uint64_t>(st.st_size);
}

ImageFacts probeImage(int fd)
{
    ImageFacts f;
    std::vector<unsigned char> h(4096);
    ssize_t n = ::pread(fd, h.data(), h.size(), 0);
    h.resize(n > 0 ? size_t(n) : 0);
    if (startsWith(h, 0, "QFI\xfb") && h.size() >= 72 && be32(&h[4]) >= 2) {
        probeQcow2(fd, h, f);
    } else if (startsWith(h, 0, "QFI\xfb")) {
        f.format = "qcow";
        if (h.size() >= 32)
            f.virtualSize = be64(&h[24]);
    } else if (startsWith(h, 0, "QED\0")) {
        f.format = "qed";
        if (h.size() >= 64)
            f.virtualSize = le64(&h[48]);
    } else if (startsWith(h, 0, "KDMV") || startsWith(h, 0, "# Disk DescriptorFile")) {
        f.format = "vmdk";
    } else if (h.size() >= 68 && be32(&h[64]) == 0x7f10dabe) {
        f.format = "vdi";
    } else if (startsWith(h, 0, "conectix")) {
        f.format = "vpc";
    } else if (startsWith(h, 0, "vhdxfile")) {
        f.format = "vhdx";
    } else {
        unsigned char iso[5];
        f.format = ::pread(fd, iso, 5, 32769) == 5 && std::memcmp(iso, "CD001", 5) == 0 ? "iso" : "raw";
    }
    return f;
}

void checkVolumeName(const std::string& name)
{
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos
        || name.find('\0') != std::string::npos || name.size() > 255)
        throw err::invalidArg("volume name '" + name.substr(0, 256) + "' cannot contain '/' or be '.', '..' or empty");
}

void probeVolume(xml::StorageVolDef& vol)
{
    int fd = ::open(vol.targetPath.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st { };
    if (fd < 0 && errno == ELOOP) { // a symlink the pool may list but never opens
        if (::lstat(vol.targetPath.c_str(), &st) != 0)
            throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching path '" + vol.targetPath + "'");
        vol.type = "file";
        vol.format = "raw";
        vol.capacity = vol.physical = 0;
        vol.allocation = 0;
        return;
    }
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            ::close(fd);
        if (e == ENOENT)
            throw storageErr(ErrCode::NoStorageVol, "no storage vol with matching path '" + vol.targetPath + "'");
        throw systemError(ErrDomain::Storage, "cannot open volume '" + vol.targetPath + "'", e);
    }
    vol.allocation = uint64_t(st.st_blocks) * 512;
    if (S_ISDIR(st.st_mode)) {
        vol.type = "dir";
        vol.format = "dir";
        vol.capacity = vol.physical = uint64_t(st.st_size);
        ::close(fd);
        return;
    }
    vol.type = S_ISBLK(st.st_mode) ? "block" : "file";
    vol.physical = deviceSize(fd);
    if (S_ISBLK(st.st_mode))
        vol.allocation = vol.physical;
    ImageFacts f = (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) ? probeImage(fd) : ImageFacts {"raw"};
    ::close(fd);
    vol.format = f.format;
    vol.capacity = f.virtualSize.value_or(vol.physical);
    vol.compat = f.format == "qcow2" ? f.compat : "";
    vol.clusterSize = f.clusterSize;
    if (f.format == "qcow2")
        vol.features = f.lazyRefcounts ? std::vector<std::string> {"lazy_refcounts"} : std::vector<std::string> {};
    else
        vol.features.reset();
    vol.perms.mode = st.st_mode & 07777;
    vol.perms.owner = st.st_uid;
    vol.perms.group = st.st_gid;
    if (!f.backingPath.empty()) {
        xml::StorageVolBackingStoreDef b;
        b.path = f.backingPath;
        b.format = f.backingFormat.empty() ? "raw" : f.backingFormat;
        vol.backingStore = b;
    } else {
        vol.backingStore.reset();
    }
}

} // namespace virtbus::storage
