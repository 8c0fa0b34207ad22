// Save, restore and managed save: QEMU's migration stream through an fd
// into an image file with virtbus's header (qemu_save_image.h), and back
// into a new QEMU started with -incoming defer. QEMU's sandbox forbids
// spawning, so never an exec: migration; and QEMU, perhaps another user,
// never opens the image itself.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_jobs.h"
#include "qemu/qemu_save_image.h"
#include "qemu/qmp.h"

namespace virtbus {

using namespace std::chrono_literals;
namespace json = qemu::json;

namespace {

// virDomainSaveRestoreFlags; virDomainCreateFlags.
constexpr uint32_t kSaveBypassCache = 1, kSaveRunning = 2, kSavePaused = 4, kSaveResetNvram = 8;
constexpr uint32_t kStartPaused = 1, kStartAutodestroy = 2, kStartBypassCache = 4, kStartForceBoot = 8;
constexpr uint32_t kSaveImageXmlSecure = 1;

VirtError notRunning() { return makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running"); }

void checkRunningPaused(uint32_t flags)
{
    if ((flags & kSaveRunning) && (flags & kSavePaused))
        throw VirtError(ErrCode::InvalidArg, ErrDomain::None,
            "Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive");
}

// Paths come from a client that may be elsewhere: only absolute ones
// mean the same file to virtbusd.
void checkPath(const std::string& path)
{
    if (path.empty() || path.front() != '/')
        throw err::invalidArg("path '" + path.substr(0, 256) + "' is not absolute");
    if (path.size() > 4096)
        throw err::invalidArg("path is longer than 4096 bytes");
    if (path.back() == '/')
        throw err::invalidArg("path '" + path + "' names a directory");
}

std::string imageXML(const xml::DomainDef& def)
{
    xml::FormatOptions o;
    o.secure = true;
    o.migratable = true;
    return xml::formatDomainXML(def, o);
}

} // namespace

std::string QemuDriver::managedSavePath(const std::string& name) const { return cfg_.saveDir + "/" + name + ".save"; }

bool QemuDriver::hasManagedSave(const std::string& name) const
{
    struct stat st;
    return ::stat(managedSavePath(name).c_str(), &st) == 0;
}

void QemuDriver::saveGuest(const DomPtr& d, const std::string& to, const std::string& xmlText, uint32_t flags)
{
    xml::DomainDef live;
    bool wasRunning;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || !d->live)
            throw notRunning();
        live = *d->live;
        wasRunning = d->state == qemu::Running;
    }
    if (!xmlText.empty()) {
        xml::DomainDef alt = parseForDefine(xmlText, 0);
        qemu::checkSaveABI(live, alt);
        live = std::move(alt);
    }
    if (flags & kSaveRunning)
        wasRunning = true;
    if (flags & kSavePaused)
        wasRunning = false;
    // The file first: a directory we may not write to fails here, with the
    // guest untouched.
    qemu::SaveImageWriter image(to, imageXML(live), wasRunning);
    bool paused = pauseForJob(d, qemu::PausedSave);
    try {
        runFileJob(d, qemu::JobOpSave, image.fd(), "");
        image.commit(flags & kSaveBypassCache);
    } catch (...) {
        if (paused)
            resumeAfterJob(d, qemu::RunningSaveCanceled);
        throw;
    }
    std::shared_ptr<qemu::AsyncJob> done;
    {
        std::lock_guard lock(mu_);
        done = d->completedJob;
        if (done)
            emitSignal(*d, sig::JobCompleted {done->stats});
    }
    stopAfterJob(d, ev::StoppedSaved, qemu::ShutoffSaved);
}

void QemuDriver::restoreGuest(const DomPtr& d, const std::string& from, xml::DomainDef live, uint32_t startFlags)
{
    qemu::SaveImage img = qemu::readSaveImage(from);
    UniqueFd fd(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0 || ::lseek(fd.get(), off_t(img.dataOffset), SEEK_SET) < 0)
        throw systemError(ErrDomain::Qemu, "Failed to open domain image file '" + from + "'", errno);
    {
        std::lock_guard lock(mu_);
        d->live = std::make_unique<xml::DomainDef>(std::move(live));
    }
    const int rawFd = fd.get();
    d->incoming = [rawFd, from](qemu::Monitor& mon) {
        mon.executeWithFd("getfd", json::Object {{"fdname", "virtbus-restore"}}, rawFd);
        mon.execute("migrate-incoming", json::Object {{"uri", "fd:virtbus-restore"}});
        auto delay = 5ms;
        for (;;) {
            json::Value r = mon.execute("query-migrate");
            std::string status = r.str("status");
            if (status == "completed")
                return;
            if (status == "failed" || status == "cancelled")
                throw std::runtime_error("restoring the saved state from '" + from
                    + "' failed: " + r.str("error-desc", "QEMU could not load it"));
            std::this_thread::sleep_for(delay);
            delay = std::min(delay * 2, std::chrono::milliseconds(25));
        }
    };
    try {
        startProcess(d, startFlags & (kStartPaused | kStartAutodestroy), ev::StartedRestored);
    } catch (...) {
        d->incoming = nullptr;
        std::lock_guard lock(mu_);
        if (!d->active())
            d->live.reset();
        throw;
    }
    d->incoming = nullptr;
    if (startFlags & kStartBypassCache)
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
}

bool QemuDriver::startFromManagedSave(const DomPtr& d, uint32_t flags)
{
    std::string path, uuid;
    {
        std::lock_guard lock(mu_);
        path = managedSavePath(d->name());
        uuid = d->uuid();
    }
    if (!hasManagedSave(d->name()))
        return false;
    // FORCE_BOOT discards the image; so does an image a crash left half
    // written (libvirt boots then too).
    if ((flags & kStartForceBoot) || qemu::isPartialSaveImage(path)) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw systemError(ErrDomain::Qemu, "Failed to remove managed save file '" + path + "'", errno);
        return false;
    }
    qemu::SaveImage img = qemu::readSaveImage(path);
    xml::DomainDef live = xml::parseDomainXML(img.xml);
    if (live.uuid != uuid)
        throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu,
            "managed save image '" + path + "' belongs to another domain (uuid " + live.uuid + ")");
    restoreGuest(d, path, std::move(live), flags | (img.wasRunning ? 0 : kStartPaused));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        fprintf(stderr, "<4>qemu: cannot remove managed save image %s: %s\n", path.c_str(), strerror(errno));
    return true;
}

// ---- the API ----

void QemuDriver::domainSave(const std::string& uuid, const std::string& to, const std::string& xmlText, uint32_t flags)
{
    checkRunningPaused(flags);
    checkFlags(flags, kSaveBypassCache | kSaveRunning | kSavePaused, "qemuDomainSaveFlags");
    checkPath(to);
    auto d = find(uuid);
    std::lock_guard job(d->job);
    saveGuest(d, to, xmlText, flags);
}

void QemuDriver::domainRestore(const std::string& from, const std::string& xmlText, uint32_t flags)
{
    checkRunningPaused(flags);
    // RESET_NVRAM: there is no NVRAM here to reset.
    checkFlags(flags, kSaveBypassCache | kSaveRunning | kSavePaused | kSaveResetNvram, "qemuDomainRestoreFlags");
    checkPath(from);
    qemu::SaveImage img = qemu::readSaveImage(from);
    xml::DomainDef def = xml::parseDomainXML(img.xml);
    qemu::checkDomainName(def.name);
    if (!xmlText.empty()) {
        xml::DomainDef alt = parseForDefine(xmlText, 0);
        qemu::checkSaveABI(def, alt);
        def = std::move(alt);
    }
    bool running = (flags & kSaveRunning) || (img.wasRunning && !(flags & kSavePaused));
    DomPtr d;
    bool added;
    {
        std::lock_guard lock(mu_);
        added = byUuid_.count(def.uuid) == 0;
        bool replaced;
        d = addDomain(def, true, &replaced);
    }
    std::unique_lock job(d->job);
    try {
        {
            std::lock_guard lock(mu_);
            if (d->active())
                throw makeError(
                    ErrCode::OperationInvalid, ErrDomain::Domain, "domain '" + d->name() + "' is already active");
        }
        if (added && sink())
            sink()->objectAdded({ObjectType::Domain, d->uuid(), {}});
        restoreGuest(d, from, std::move(def),
            (running ? 0 : kStartPaused) | ((flags & kSaveBypassCache) ? kStartBypassCache : 0));
    } catch (...) {
        std::lock_guard lock(mu_);
        if (added && !d->active() && byUuid_.count(d->uuid()))
            forgetLocked(*d);
        throw;
    }
}

std::string QemuDriver::domainSaveImageGetXMLDesc(const std::string& file, uint32_t flags)
{
    checkFlags(flags, kSaveImageXmlSecure, "qemuDomainSaveImageGetXMLDesc");
    checkPath(file);
    xml::DomainDef def = xml::parseDomainXML(qemu::readSaveImage(file).xml);
    xml::FormatOptions o;
    o.secure = flags & kSaveImageXmlSecure;
    o.migratable = true;
    return xml::formatDomainXML(def, o);
}

void QemuDriver::domainSaveImageDefineXML(const std::string& file, const std::string& xmlText, uint32_t flags)
{
    checkRunningPaused(flags);
    checkFlags(flags, kSaveRunning | kSavePaused, "qemuDomainSaveImageDefineXML");
    checkPath(file);
    xml::DomainDef old = xml::parseDomainXML(qemu::readSaveImage(file).xml);
    xml::DomainDef def = parseForDefine(xmlText, 0);
    qemu::checkSaveABI(old, def);
    if (def.name != old.name)
        throw err::invalidArg("cannot rename the domain of a save image from '" + old.name + "' to '" + def.name + "'");
    std::optional<bool> running;
    if (flags & kSaveRunning)
        running = true;
    if (flags & kSavePaused)
        running = false;
    qemu::rewriteSaveImage(file, imageXML(def), running);
}

void QemuDriver::domainManagedSave(const std::string& uuid, uint32_t flags)
{
    checkRunningPaused(flags);
    checkFlags(flags, kSaveBypassCache | kSaveRunning | kSavePaused, "qemuDomainManagedSave");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::string name;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        if (!d->persistent)
            throw err::operationInvalid("cannot do managed save for transient domain");
        name = d->name();
    }
    makeDirs(cfg_.saveDir, 0700, ErrDomain::Qemu);
    saveGuest(d, managedSavePath(name), "", flags);
}

bool QemuDriver::domainHasManagedSaveImage(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainHasManagedSaveImage");
    auto d = find(uuid);
    std::lock_guard lock(mu_);
    return hasManagedSave(d->name());
}

void QemuDriver::domainManagedSaveRemove(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainManagedSaveRemove");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::string path;
    {
        std::lock_guard lock(mu_);
        path = managedSavePath(d->name());
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw systemError(ErrDomain::Qemu, "Failed to remove managed save file '" + path + "'", errno);
}

} // namespace virtbus
