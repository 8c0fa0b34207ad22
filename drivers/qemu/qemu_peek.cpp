// BlockResize (block_resize), BlockPeek (the raw image read on the host,
// as libvirt does) and MemoryPeek (memsave/pmemsave into a temporary file,
// as libvirt does). Checks and texts follow qemuDomainBlockResize,
// qemuDomainBlockPeek and qemuDomainMemoryPeek.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "fileutil.h"
#include "qemu/qemu_blockjob.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

namespace {

constexpr uint32_t kResizeBytes = 1; // VIR_DOMAIN_BLOCK_RESIZE_BYTES
constexpr uint32_t kMemVirtual = 1, kMemPhysical = 2; // virDomainMemoryFlags
// libvirt's remote protocol carries at most this much per peek.
constexpr uint64_t kMaxPeek = 65536;

VirtError bareInvalidArg(std::string message)
{
    return VirtError(ErrCode::InvalidArg, ErrDomain::Domain, std::move(message));
}

} // namespace

void QemuDriver::domainBlockResize(const std::string& uuid, const std::string& name, uint64_t size, uint32_t flags)
{
    checkFlags(flags, kResizeBytes, "qemuDomainBlockResize");
    if (!(flags & kResizeBytes)) {
        if (size > ULLONG_MAX / 1024)
            throw makeError(
                ErrCode::Overflow, ErrDomain::Qemu, "size must be less than " + std::to_string(ULLONG_MAX / 1024));
        size *= 1024;
    }
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    std::string target, alias;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || !d->live || !d->mon)
            throw err::operationInvalid("domain is not running");
        xml::DiskDef* disk = qemu::findDisk(*d->live, name, false);
        if (!disk)
            throw err::invalidArg("disk '" + name + "' was not found in the domain config");
        if (!disk->hasSource || disk->path.empty())
            throw err::invalidArg("disk '" + name + "' does not have an associated path");
        // qcow2 sizes are whole sectors.
        if (disk->driverType == "qcow2" || disk->driverType == "qed")
            size = (size + 511) / 512 * 512;
        auto it = d->blockJobs.find(disk->targetDev);
        if (it != d->blockJobs.end() && it->second.runId == d->id)
            throw qemu::diskBusy(disk->targetDev);
        mon = d->mon;
        target = disk->targetDev;
        alias = disk->info.alias;
    }
    auto chain = qemu::diskChain(*mon, alias);
    if (chain.empty() || chain[0].node.empty())
        throw err::invalidArg("disk '" + name + "' does not have an associated path");
    qemu::qmpCall(*mon, "block_resize", json::Object {{"node-name", chain[0].node}, {"size", size}});
}

std::vector<uint8_t> QemuDriver::domainBlockPeek(
    const std::string& uuid, const std::string& name, uint64_t offset, uint64_t size, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainBlockPeek");
    if (size > kMaxPeek)
        throw bareInvalidArg("block peek request too large for remote protocol, " + std::to_string(size) + " > "
            + std::to_string(kMaxPeek));
    auto d = find(uuid);
    std::string path, format;
    {
        std::lock_guard lock(mu_);
        xml::DomainDef& def = d->live ? *d->live : *d->def;
        xml::DiskDef* disk = qemu::findDisk(def, name, true);
        if (!disk)
            throw qemu::diskNotFound(name);
        path = disk->hasSource ? disk->path : "";
        format = disk->driverType.empty() ? "raw" : disk->driverType;
    }
    if (format != "raw")
        throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
            "peeking is only supported for disk with 'raw' format not '" + format + "'");
    if (path.empty())
        throw err::invalidArg("disk '" + name + "' does not have an associated path");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw systemError(ErrDomain::Qemu, "cannot open '" + path + "'", errno);
    std::vector<uint8_t> out(size);
    size_t got = 0;
    while (got < size) {
        ssize_t n = ::pread(fd.get(), out.data() + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw systemError(ErrDomain::Qemu, "cannot read '" + path + "'", errno);
        if (n == 0)
            break;
        got += static_cast<size_t>(n);
    }
    if (got < size)
        throw err::invalidArg("'" + name + "' starting from " + std::to_string(offset) + " has only "
            + std::to_string(got) + " bytes available");
    return out;
}

std::vector<uint8_t> QemuDriver::domainMemoryPeek(
    const std::string& uuid, uint64_t offset, uint64_t size, uint32_t flags)
{
    if ((flags & kMemVirtual) && (flags & kMemPhysical))
        throw bareInvalidArg("Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive");
    checkFlags(flags, kMemVirtual | kMemPhysical, "qemuDomainMemoryPeek");
    if (flags != kMemVirtual && flags != kMemPhysical)
        throw err::invalidArg("flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL");
    if (size > kMaxPeek)
        throw bareInvalidArg("memory peek request too large for remote protocol, " + std::to_string(size) + " > "
            + std::to_string(kMaxPeek));
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || !d->mon)
            throw err::operationInvalid("domain is not running");
        mon = d->mon;
    }
    if (size == 0)
        return {};
    // QEMU writes the bytes to a file it opens by name; the file is made
    // here (0600) and handed to the QEMU user, then read back and removed.
    std::string tmp = cfg_.cacheDir + "/qemu.mem.XXXXXX";
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (fd.get() < 0)
        throw systemError(ErrDomain::Qemu, "failed to create temporary file", errno);
    struct Unlink {
        std::string path;
        ~Unlink() { ::unlink(path.c_str()); }
    } unlinkTmp {tmp};
    qemu::QemuUser user = qemu::resolveQemuUser(cfg_.user, cfg_.group);
    if (user.switches() && ::fchown(fd.get(), user.uid, user.gid) != 0)
        throw systemError(ErrDomain::Qemu, "cannot hand '" + tmp + "' to the QEMU user", errno);
    qemu::qmpCall(*mon, flags == kMemVirtual ? "memsave" : "pmemsave",
        json::Object {{"val", offset}, {"size", size}, {"filename", tmp}});
    std::vector<uint8_t> out(size);
    size_t got = 0;
    while (got < size) {
        ssize_t n = ::pread(fd.get(), out.data() + got, size - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw systemError(ErrDomain::Qemu, "failed to read temporary file", n < 0 ? errno : EIO);
        got += static_cast<size_t>(n);
    }
    return out;
}

} // namespace virtbus
