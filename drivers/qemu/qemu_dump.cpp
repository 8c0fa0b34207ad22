// CoreDump as libvirt's QEMU driver does it: with MEMORY_ONLY, QEMU's
// dump-guest-memory (ELF, the kdump formats, win-dmp) through an fd;
// without, the guest's whole state as QEMU's migration stream. Either way
// a domain job (qemu_jobs.cpp) that GetJobInfo watches, written to a
// temporary file renamed into place when complete.
#include <iterator>
#include <string>

#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_jobs.h"
#include "qemu/qemu_save_image.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace {

// virDomainCoreDumpFlags and virDomainCoreDumpFormat.
constexpr uint32_t kDumpCrash = 1, kDumpLive = 2, kDumpBypassCache = 4, kDumpReset = 8, kDumpMemoryOnly = 16;
constexpr const char* kFormats[] = {"elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp"};

VirtError exclusive(const char* a, const char* b)
{
    return VirtError(
        ErrCode::InvalidArg, ErrDomain::None, std::string("Flags '") + a + "' and '" + b + "' are mutually exclusive");
}

} // namespace

void QemuDriver::domainCoreDump(const std::string& uuid, const std::string& to, uint32_t format, uint32_t flags)
{
    if (format >= std::size(kFormats))
        throw VirtError(
            ErrCode::InvalidArg, ErrDomain::None, "dumpformat '" + std::to_string(format) + "' is not supported");
    if ((flags & kDumpCrash) && (flags & kDumpLive))
        throw exclusive("VIR_DUMP_CRASH", "VIR_DUMP_LIVE");
    if ((flags & kDumpCrash) && (flags & kDumpReset))
        throw exclusive("VIR_DUMP_CRASH", "VIR_DUMP_RESET");
    if ((flags & kDumpLive) && (flags & kDumpReset))
        throw exclusive("VIR_DUMP_LIVE", "VIR_DUMP_RESET");
    checkFlags(flags, kDumpCrash | kDumpLive | kDumpBypassCache | kDumpReset | kDumpMemoryOnly,
        "qemuDomainCoreDumpWithFormat");
    if (to.empty() || to.front() != '/' || to.back() == '/')
        throw err::invalidArg("path '" + to.substr(0, 256) + "' is not absolute");
    const bool memoryOnly = flags & kDumpMemoryOnly;
    if (format != 0 && !memoryOnly)
        throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
            "kdump-compressed format is only supported with memory-only dump");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        mon = d->mon;
    }
    if (memoryOnly) {
        bool offered = false;
        auto caps = mon->execute("query-dump-guest-memory-capability");
        if (const auto* list = caps.find("formats"); list && list->isArray())
            for (const auto& f : list->asArray())
                offered = offered || (f.isString() && f.asString() == kFormats[format]);
        if (!offered)
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                std::string("unsupported dumpformat '") + kFormats[format] + "' for this QEMU binary");
    }
    qemu::SaveImageWriter file(to);
    bool paused = !(flags & kDumpLive) && pauseForJob(d, qemu::PausedDump);
    try {
        runFileJob(d, qemu::JobOpDump, file.fd(), memoryOnly ? kFormats[format] : "");
        file.commit(flags & kDumpBypassCache);
    } catch (...) {
        if (paused)
            resumeAfterJob(d, qemu::RunningUnpaused);
        throw;
    }
    {
        std::lock_guard lock(mu_);
        if (d->completedJob)
            emitSignal(*d, sig::JobCompleted {d->completedJob->stats});
    }
    if (flags & kDumpCrash) {
        stopAfterJob(d, ev::StoppedCrashed, qemu::ShutoffCrashed);
        return;
    }
    if (flags & kDumpReset) {
        try {
            mon->execute("system_reset");
        } catch (const std::exception& e) {
            if (paused)
                resumeAfterJob(d, qemu::RunningUnpaused);
            throw err::operationFailed(std::string("resetting the guest after the dump failed: ") + e.what());
        }
    }
    if (paused)
        resumeAfterJob(d, qemu::RunningUnpaused);
}

} // namespace virtbus
