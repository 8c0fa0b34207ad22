// Reading, writing and rewriting save images (layout in qemu_save_image.h).
#include "qemu/qemu_save_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "xml/domain_xml.h"

namespace virtbus::qemu {

namespace {

constexpr char kMagic[] = "VirtbusQemuSave\n";
constexpr char kMagicPartial[] = "VirtbusQemuPart\n";
constexpr size_t kMagicLen = 16;
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 64;
constexpr uint64_t kAlign = 4096;
constexpr uint64_t kMaxXml = 16u << 20;
constexpr uint32_t kFlagRunning = 1;

void put32(char* p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void put64(char* p, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get(const char* p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
}

std::string header(bool complete, uint32_t flags, uint64_t xmlLength, uint64_t dataOffset, uint64_t dataLength)
{
    std::string h(kHeaderSize, '\0');
    std::memcpy(h.data(), complete ? kMagic : kMagicPartial, kMagicLen);
    put32(h.data() + 16, kVersion);
    put32(h.data() + 20, flags);
    put64(h.data() + 24, xmlLength);
    put64(h.data() + 32, dataOffset);
    put64(h.data() + 40, dataLength);
    return h;
}

uint64_t dataOffsetFor(uint64_t xmlLength) { return (kHeaderSize + xmlLength + kAlign - 1) / kAlign * kAlign; }

bool pwriteAll(int fd, const char* p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = ::pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= static_cast<size_t>(w);
        off += w;
    }
    return true;
}

bool preadAll(int fd, char* p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t r = ::pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= static_cast<size_t>(r);
        off += r;
    }
    return true;
}

VirtError failed(const std::string& what) { return makeError(ErrCode::OperationFailed, ErrDomain::Qemu, what); }

void syncDir(const std::string& path)
{
    std::string dir = path.substr(0, path.rfind('/'));
    UniqueFd dfd(::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0)
        ::fsync(dfd.get());
}

// A temporary file beside `path` (same filesystem, so rename works).
UniqueFd createTemp(const std::string& path, std::string& tmp)
{
    size_t slash = path.rfind('/');
    tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        tmp.clear();
        throw systemError(ErrDomain::Qemu, "Failed to create file '" + path + "'", e);
    }
    return UniqueFd(fd);
}

} // namespace

SaveImage readSaveImage(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw systemError(ErrDomain::Qemu, "Failed to open domain image file '" + path + "'", errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0)
        throw systemError(ErrDomain::Qemu, "Failed to open domain image file '" + path + "'", errno);
    if (S_ISDIR(st.st_mode))
        throw failed("'" + path + "' is a directory, not a save image");
    char h[kHeaderSize];
    if (!preadAll(fd.get(), h, sizeof h, 0))
        throw failed("failed to read qemu header");
    if (std::memcmp(h, kMagic, kMagicLen) != 0) {
        if (std::memcmp(h, kMagicPartial, kMagicLen) == 0)
            throw failed("save image is incomplete");
        throw failed("image magic is incorrect");
    }
    uint32_t version = static_cast<uint32_t>(get(h + 16, 4));
    if (version > kVersion)
        throw failed(
            "image version is not supported (" + std::to_string(version) + " > " + std::to_string(kVersion) + ")");
    SaveImage img;
    img.wasRunning = get(h + 20, 4) & kFlagRunning;
    uint64_t xmlLength = get(h + 24, 8);
    img.dataOffset = get(h + 32, 8);
    img.dataLength = get(h + 40, 8);
    if (xmlLength == 0 || xmlLength > kMaxXml || img.dataOffset != dataOffsetFor(xmlLength))
        throw failed("failed to read domain XML: bad length in the header of '" + path + "'");
    img.xml.resize(xmlLength);
    if (!preadAll(fd.get(), img.xml.data(), xmlLength, kHeaderSize))
        throw failed("failed to read domain XML");
    // A regular file must hold the whole stream the header promises.
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < img.dataOffset + img.dataLength)
        throw failed("save image '" + path + "' is truncated: " + std::to_string(st.st_size)
            + " bytes, the header says " + std::to_string(img.dataOffset + img.dataLength));
    return img;
}

bool isPartialSaveImage(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    char h[kMagicLen];
    return fd.get() >= 0 && preadAll(fd.get(), h, sizeof h, 0) && std::memcmp(h, kMagicPartial, kMagicLen) == 0;
}

SaveImageWriter::SaveImageWriter(const std::string& to, const std::string& xml, bool wasRunning) : to_(to)
{
    flags_ = wasRunning ? kFlagRunning : 0;
    xmlLength_ = xml.size();
    dataOffset_ = dataOffsetFor(xmlLength_);
    open();
    std::string head = header(false, flags_, xmlLength_, dataOffset_, 0) + xml;
    head.resize(dataOffset_, '\0');
    if (!pwriteAll(fd_.get(), head.data(), head.size(), 0) || ::lseek(fd_.get(), off_t(dataOffset_), SEEK_SET) < 0) {
        int e = errno;
        if (!tmp_.empty())
            ::unlink(tmp_.c_str());
        done_ = true;
        throw systemError(ErrDomain::Qemu, "failed to write header to domain save file '" + to + "'", e);
    }
}

SaveImageWriter::SaveImageWriter(const std::string& to) : to_(to), raw_(true) { open(); }

void SaveImageWriter::open()
{
    struct stat st;
    bool exists = ::stat(to_.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        throw systemError(ErrDomain::Qemu, "Failed to create file '" + to_ + "'", EISDIR);
    if (exists && (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))) {
        inPlace_ = true;
        fd_ = UniqueFd(::open(to_.c_str(), O_RDWR | O_CLOEXEC));
        if (fd_.get() < 0)
            throw systemError(ErrDomain::Qemu, "Failed to open file '" + to_ + "'", errno);
    } else {
        fd_ = createTemp(to_, tmp_);
    }
}

SaveImageWriter::~SaveImageWriter()
{
    if (!done_ && !tmp_.empty())
        ::unlink(tmp_.c_str());
}

void SaveImageWriter::commit(bool bypassCache)
{
    off_t end = ::lseek(fd_.get(), 0, SEEK_CUR);
    if (!inPlace_) {
        struct stat st;
        if (::fstat(fd_.get(), &st) == 0)
            end = st.st_size;
    }
    if (end <= off_t(dataOffset_))
        throw failed("QEMU wrote nothing to '" + to_ + "'");
    uint64_t dataLength = static_cast<uint64_t>(end) - dataOffset_;
    // The stream first, then the header that says it is complete.
    if (::fdatasync(fd_.get()) != 0)
        throw systemError(ErrDomain::Qemu, "unable to sync domain save file '" + to_ + "'", errno);
    std::string h = header(true, flags_, xmlLength_, dataOffset_, dataLength);
    if (!raw_ && (!pwriteAll(fd_.get(), h.data(), h.size(), 0) || ::fdatasync(fd_.get()) != 0))
        throw systemError(ErrDomain::Qemu, "failed to write header to domain save file '" + to_ + "'", errno);
    if (bypassCache)
        ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_DONTNEED);
    if (!inPlace_) {
        if (::rename(tmp_.c_str(), to_.c_str()) != 0)
            throw systemError(ErrDomain::Qemu, "cannot rename '" + tmp_ + "' to '" + to_ + "'", errno);
        syncDir(to_);
    }
    done_ = true;
    fd_.reset();
}

void rewriteSaveImage(const std::string& path, const std::string& xml, std::optional<bool> wasRunning)
{
    SaveImage old = readSaveImage(path);
    UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0)
        throw systemError(ErrDomain::Qemu, "Failed to open domain image file '" + path + "'", errno);
    struct stat st;
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw failed("'" + path + "' is not a regular file: its XML cannot be replaced");
    SaveImageWriter out(path, xml, wasRunning.value_or(old.wasRunning));
    // The stream is copied in the kernel (a reflink where the filesystem
    // offers one); offsets explicit, so neither file position matters.
    off64_t src = static_cast<off64_t>(old.dataOffset);
    off64_t dst = ::lseek(out.fd(), 0, SEEK_CUR);
    uint64_t left = old.dataLength;
    while (left > 0) {
        ssize_t n = ::copy_file_range(in.get(), &src, out.fd(), &dst, left, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw systemError(ErrDomain::Qemu, "failed to copy the saved state of '" + path + "'", n < 0 ? errno : EIO);
        left -= static_cast<uint64_t>(n);
    }
    ::lseek(out.fd(), dst, SEEK_SET);
    out.commit(false);
}

void checkSaveABI(const xml::DomainDef& from, const xml::DomainDef& to)
{
    auto mismatch = [](const std::string& what, const std::string& target, const std::string& source) {
        return err::configUnsupported("Target " + what + " " + target + " does not match source " + source);
    };
    auto num = [](uint64_t v) { return std::to_string(v); };
    if (from.type != to.type)
        throw mismatch("domain virt type", to.type, from.type);
    if (from.uuid != to.uuid)
        throw mismatch("domain uuid", to.uuid, from.uuid);
    if (from.memory != to.memory)
        throw mismatch("domain max memory", num(to.memory), num(from.memory));
    uint64_t fromMax = from.maxMemory ? from.maxMemory->kib : 0, toMax = to.maxMemory ? to.maxMemory->kib : 0;
    if (fromMax != toMax)
        throw mismatch("maximum memory size", num(toMax), num(fromMax));
    if (from.vcpu.max != to.vcpu.max)
        throw mismatch("domain vCPU max", num(to.vcpu.max), num(from.vcpu.max));
    if (from.os.type != to.os.type)
        throw mismatch("domain OS type", to.os.type, from.os.type);
    if (from.os.arch != to.os.arch)
        throw mismatch("domain architecture", to.os.arch, from.os.arch);
    if (from.os.machine != to.os.machine)
        throw mismatch("domain machine type", to.os.machine, from.os.machine);
    const auto& a = from.devices;
    const auto& b = to.devices;
    auto count = [&](const char* what, size_t target, size_t source) {
        if (target != source)
            throw err::configUnsupported(std::string("Target domain ") + what + " count " + num(target)
                + " does not match source " + num(source));
    };
    count("disk", b.disks.size(), a.disks.size());
    for (size_t i = 0; i < a.disks.size(); ++i) {
        if (a.disks[i].device != b.disks[i].device)
            throw mismatch("disk device", b.disks[i].device, a.disks[i].device);
        if (a.disks[i].targetBus != b.disks[i].targetBus)
            throw mismatch("disk bus", b.disks[i].targetBus, a.disks[i].targetBus);
        if (a.disks[i].targetDev != b.disks[i].targetDev)
            throw mismatch("disk", b.disks[i].targetDev, a.disks[i].targetDev);
    }
    count("controller", b.controllers.size(), a.controllers.size());
    count("network interface", b.interfaces.size(), a.interfaces.size());
    for (size_t i = 0; i < a.interfaces.size(); ++i) {
        if (a.interfaces[i].model != b.interfaces[i].model)
            throw mismatch("network card model", b.interfaces[i].model, a.interfaces[i].model);
        if (!b.interfaces[i].mac.empty() && a.interfaces[i].mac != b.interfaces[i].mac)
            throw mismatch("network card mac", b.interfaces[i].mac, a.interfaces[i].mac);
    }
    count("input device", b.inputs.size(), a.inputs.size());
    count("sound card", b.sounds.size(), a.sounds.size());
    count("video card", b.videos.size(), a.videos.size());
    count("host device", b.hostdevs.size(), a.hostdevs.size());
    count("serial port", b.serials.size(), a.serials.size());
    count("parallel port", b.parallels.size(), a.parallels.size());
    count("channel", b.channels.size(), a.channels.size());
    count("console", b.consoles.size(), a.consoles.size());
    count("RNG", b.rngs.size(), a.rngs.size());
    count("watchdog", b.watchdogs.size(), a.watchdogs.size());
    if (a.memballoon.has_value() != b.memballoon.has_value())
        throw err::configUnsupported("Target domain memory balloon count does not match source");
}

} // namespace virtbus::qemu
