// Reverting a QEMU guest to a snapshot, with libvirt 9's transitions and
// events: a snapshot with memory is loaded into the running QEMU (or a new
// one started paused), a shut-off snapshot is applied with qemu-img to
// the disks of a stopped guest.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_snapshot.h"
#include "qemu/qmp.h"
#include "snapshot_rules.h"

namespace virtbus {

using namespace snapshot;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kStartPaused = 1; // virDomainCreateFlags

VirtError revertRisky(const std::string& detail)
{
    constexpr auto kSnapshotRevertRisky = static_cast<ErrCode>(77);
    return VirtError(kSnapshotRevertRisky, ErrDomain::Qemu, "revert requires force: " + detail);
}

} // namespace

void QemuDriver::stopForSnapshot(const std::shared_ptr<qemu::QemuDomain>& d)
{
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            return;
        d->stopFromSnapshot = true;
        if (d->pidfd >= 0)
            ::syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, nullptr, 0);
    }
    if (!waitStopped(d, 10s)) {
        std::lock_guard lock(mu_);
        d->stopFromSnapshot = false;
        throw err::operationFailed("the guest did not stop");
    }
}

// Loads `snap` into the guest's QEMU (running or paused, job held) and
// leaves it paused or running as asked, with libvirt's events.
void QemuDriver::loadSnapshotLive(const std::shared_ptr<qemu::QemuDomain>& d, const xml::SnapshotDef& snap, bool paused)
{
    std::shared_ptr<qemu::Monitor> mon;
    xml::DomainDef live;
    bool wasRunning;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || !d->mon)
            throw err::operationInvalid("domain is not running");
        mon = d->mon;
        live = *d->live;
        wasRunning = d->state == qemu::Running;
        // Set before QEMU's STOP arrives, so that event adds nothing.
        d->state = qemu::Paused;
        d->reason = qemu::PausedFromSnapshot;
        if (wasRunning)
            emitLifecycle(*d, ev::Suspended, ev::SuspendedFromSnapshot);
    }
    try {
        mon->execute("stop");
        auto disks = qemu::snap::internalDisks(live, snap);
        if (disks.empty())
            throw err::configUnsupported("snapshot '" + snap.name + "' has no disk of this guest");
        qemu::snap::loadInternal(*mon, snap.name, qemu::snap::topNodes(*mon, disks));
    } catch (...) {
        if (wasRunning) {
            try {
                {
                    std::lock_guard lock(mu_);
                    d->state = qemu::Running;
                    d->reason = qemu::RunningUnpaused;
                    emitLifecycle(*d, ev::Resumed, ev::ResumedUnpaused);
                }
                mon->execute("cont");
            } catch (const std::exception&) { }
        }
        throw;
    }
    if (!paused) {
        {
            std::lock_guard lock(mu_);
            d->state = qemu::Running;
            d->reason = qemu::RunningFromSnapshot;
            emitLifecycle(*d, ev::Resumed, ev::ResumedFromSnapshot);
        }
        mon->execute("cont");
    }
    writeStatus(*d);
}

void QemuDriver::snapshotRevert(const SnapshotRef& s, uint32_t flags)
{
    checkRevertFlags(flags, ErrDomain::DomainSnapshot);
    checkFlags(flags, kRevertRunning | kRevertPaused | kRevertForce, "qemuDomainRevertToSnapshot");
    auto d = find(s.domainUuid);
    std::lock_guard job(d->job);
    xml::SnapshotDef snap;
    bool active, persistent;
    xml::DomainDef config;
    {
        std::lock_guard lock(mu_);
        auto it = d->snapshots.find(s.name);
        if (it == d->snapshots.end())
            throw noSuchSnapshot(s.name);
        snap = it->second.def;
        active = d->active();
        persistent = d->persistent;
        config = snap.domain ? *snap.domain : *d->def;
        // The domain keeps its name and identity whatever the snapshot
        // recorded.
        config.name = d->name();
        config.uuid = d->uuid();
    }
    const bool snapActive = snap.state == "running" || snap.state == "paused";
    const bool startFlags = flags & (kRevertRunning | kRevertPaused);
    if (!persistent && !snapActive && !startFlags)
        throw err::operationInvalid("transient domain needs to request run or pause to revert to inactive snapshot");
    if (isExternal(snap) || snap.state == "disk-snapshot")
        throw err::configUnsupported("revert to external snapshot not supported yet");
    if (!snap.domain && !(flags & kRevertForce))
        throw revertRisky("snapshot '" + snap.name + "' lacks domain '" + d->name() + "' rollback info");
    if (!persistent && active && !snapActive)
        throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
            "reverting a running transient domain to an inactive snapshot is not supported");

    // The snapshot's configuration becomes the definition (libvirt's
    // "defined" part of a revert).
    auto define = [&] {
        if (!persistent)
            return;
        std::lock_guard lock(mu_);
        *d->def = config;
        saveConfig(*d->def);
    };

    if (snapActive) {
        bool paused = (flags & kRevertPaused) || (snap.state == "paused" && !(flags & kRevertRunning));
        if (active) {
            loadSnapshotLive(d, snap, paused);
            define();
        } else {
            define();
            startProcess(d, kStartPaused, ev::StartedFromSnapshot);
            try {
                loadSnapshotLive(d, snap, paused);
            } catch (...) {
                {
                    std::lock_guard lock(mu_);
                    d->beingDestroyed = true;
                    if (d->pidfd >= 0)
                        ::syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, nullptr, 0);
                }
                waitStopped(d, 10s);
                throw;
            }
        }
    } else {
        if (active)
            stopForSnapshot(d);
        qemu::snap::qemuImgSnapshot('a', snap.name, qemu::snap::internalDisks(config, snap));
        define();
        if (startFlags) {
            bool paused = flags & kRevertPaused;
            startProcess(d, paused ? kStartPaused : 0, ev::StartedFromSnapshot);
            {
                std::lock_guard lock(mu_);
                if (d->active())
                    d->reason = paused ? qemu::PausedFromSnapshot : qemu::RunningFromSnapshot;
            }
            writeStatus(*d);
        }
    }
    {
        std::lock_guard lock(mu_);
        std::string old = d->currentSnapshot;
        d->currentSnapshot = s.name;
        saveSnapshotMeta(*d, s.name);
        if (!old.empty() && old != s.name)
            saveSnapshotMeta(*d, old);
        if (persistent)
            emitLifecycle(*d, ev::Defined, ev::DefinedFromSnapshot);
    }
}

} // namespace virtbus
