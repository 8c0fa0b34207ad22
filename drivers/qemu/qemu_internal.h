// What the QEMU driver's files share: the domain object, runtime status
// records, and the process helpers. Not part of the driver contract.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "snapshot_rules.h"
#include "typed_params.h"
#include "qemu/json.h"
#include "xml/domain_xml.h"

namespace virtbus::qemu {

class Monitor;
struct AsyncJob;

// The user QEMU runs as (system mode): resolved at each start, so a user
// created after virtbusd started works. uid 0 means QEMU keeps the
// daemon's identity.
struct QemuUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // supplementary: what the user belongs to (kvm)
    bool switches() const { return uid != 0; }
};

// One change virtbusd made on the host for a running guest, undone when
// it stops: a file handed to the QEMU user (the original owner and
// permission bits), or a listening socket virtbusd created for QEMU.
// dev/ino name the file it was done to: a file replaced since is left
// alone.
struct HostChange {
    enum Kind { Owner, Socket } kind = Owner;
    std::string path;
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t mode = 0;
    dev_t dev = 0;
    ino_t ino = 0;
    mode_t grantMode = 0; // Owner: the bits QEMU's user gets (not recorded)
    bool sameFile(const HostChange& o) const { return dev == o.dev && ino == o.ino; }
};

// virDomainState and the reasons the driver gives.
enum State : int { NoState = 0, Running = 1, Blocked = 2, Paused = 3, ShuttingDown = 4, Shutoff = 5, Crashed = 6 };
enum : int { RunningUnknown = 0, RunningBooted = 1, RunningRestored = 3, RunningUnpaused = 5 };
enum : int { PausedUnknown = 0, PausedUser = 1, PausedIOError = 5, PausedWatchdog = 6, PausedShuttingDown = 8,
             PausedCrashed = 10, PausedStartingUp = 11 };
enum : int { ShutoffUnknown = 0, ShutoffShutdown = 1, ShutoffDestroyed = 2, ShutoffCrashed = 3, ShutoffFailed = 6,
             ShutoffDaemon = 8 };
enum : int { ShutdownUser = 1 };
enum : int { CrashedPanicked = 1 };
// ---- snapshots (qemu_snapshot*.cpp): the FROM_SNAPSHOT reasons ----
enum : int { RunningFromSnapshot = 4, PausedFromSnapshot = 7, ShutoffFromSnapshot = 7 };

struct QemuDomain {
    // The domain job: one operation at a time. Never taken on the loop
    // thread (a worker holding it may be waiting for the loop).
    std::mutex job;

    // ---- guarded by QemuDriver::mu_ ----
    std::unique_ptr<xml::DomainDef> def;    // the definition (persistent or transient)
    std::unique_ptr<xml::DomainDef> live;   // while active: the running definition
    bool persistent = false;
    bool autostart = false;
    bool updated = false; // redefined while running: the next boot differs
    int id = -1;
    int state = Shutoff;
    int reason = ShutoffUnknown;

    // The process, while active.
    pid_t pid = -1;
    uint64_t startTime = 0; // /proc/<pid>/stat field 22: proves the pid is ours
    int pidfd = -1;
    int pidfdWatch = -1;
    std::shared_ptr<Monitor> mon;
    bool gotShutdown = false;    // QEMU said SHUTDOWN: an exit now is a shutdown
    bool fakeReboot = false;     // Reboot asked: reset instead of stopping
    bool beingDestroyed = false; // Destroy asked: an exit now is DESTROYED
    bool autodestroy = false;
    bool starting = false;       // startProcess runs: an exit now is its failure, no event
    std::condition_variable exited; // with QemuDriver::mu_, when processExited ran
    // What was changed on the host for this run (<name>.host), from just
    // before QEMU starts until it is gone and the changes are undone.
    std::vector<HostChange> host;

    // ---- snapshots (qemu_snapshot*.cpp), guarded by QemuDriver::mu_ ----
    snapshot::Tree snapshots;
    std::string currentSnapshot;
    bool stopFromSnapshot = false; // a revert or HALT stops it: an exit now is FROM_SNAPSHOT

    // ---- block jobs (qemu_blockjob*.cpp), guarded by QemuDriver::mu_ ----
    struct BlockJob {
        std::string id;       // QEMU's job-id
        int type = 0;         // virDomainBlockJobType
        bool ready = false;   // READY was reported
        bool aborting = false, pivoting = false;
        bool qemuCanceled = false; // BLOCK_JOB_CANCELLED
        std::string error;    // BLOCK_JOB_COMPLETED's error
        bool finishing = false;
        int runId = -1;       // the domain id it belongs to: another run's job is stale
        std::string topPath;  // the disk's source when it started
        // A copy's target nodes (removed again when it does not pivot).
        std::string destNode, destStorageNode;
        std::string oldNode, oldStorageNode; // what a pivot leaves unused
    };
    std::map<std::string, BlockJob> blockJobs; // by disk target
    std::map<std::string, int> blockJobResults; // how the last job of a disk ended
    std::condition_variable blockJobEnded;     // with QemuDriver::mu_

    // ---- hotplug (qemu_hotplug.cpp), guarded by QemuDriver::mu_ ----
    // device_del sent for unplugAlias: DEVICE_DELETED (1) or
    // DEVICE_UNPLUG_GUEST_ERROR (2) ends the wait on unplugCv.
    std::string unplugAlias;
    int unplugResult = 0;
    std::condition_variable unplugCv;
    std::map<std::string, std::string> unplugNodes; // disk alias -> its format node

    // ---- save/restore, core dumps and their jobs (qemu_save.cpp, qemu_jobs.cpp) ----
    std::shared_ptr<AsyncJob> asyncJob;     // a save or dump running (mu_)
    std::shared_ptr<AsyncJob> completedJob; // the last one that ended, for GetJobStats COMPLETED (mu_)
    // An exit virtbusd causes on purpose: STOPPED/exitDetail, shut off
    // with exitReason (mu_; -1: none).
    int exitDetail = -1, exitReason = 0;
    // Restore (job held): startProcess starts QEMU with -incoming defer
    // and runs this on the paused process before it continues.
    std::function<void(Monitor&)> incoming;

    bool active() const { return id >= 0; }
    const std::string& uuid() const { return def->uuid; }
    const std::string& name() const { return def->name; }
    const xml::DomainDef& current() const { return live ? *live : *def; }
};

// The runtime record of a running guest, <name>.status in the state dir:
// what a restarted virtbusd needs to find the same QEMU again. One file
// (key=value lines, an empty line, the live domain XML) so that one atomic
// write, one fsync pair, records it all.
struct Status {
    pid_t pid = -1;
    uint64_t startTime = 0;
    int id = -1;
    int state = Running;
    int reason = RunningBooted;
    bool autodestroy = false;
    bool persistent = false;
    std::string liveXML;
};
std::string formatStatus(const Status& s);
std::optional<Status> parseStatus(const std::string& text);

// <name>.host: a guest's HostChanges, one per line. A file of its own,
// because it must be on disk before the first chown, when there is no
// process (and no status record) yet.
std::string formatHostChanges(const std::vector<HostChange>& changes);
std::optional<std::vector<HostChange>> parseHostChanges(const std::string& text);

// Domain names become file names: refuse what would escape the directory
// or confuse tools ("", ".", "..", '/', control characters, overlong).
void checkDomainName(const std::string& name);

// ---- QMP queries shared by tuning and stats (qemu_tuning.cpp) ----

// The host thread of each vCPU, by vCPU index (query-cpus-fast).
std::vector<pid_t> vcpuThreads(Monitor& mon);
// The QOM path of the balloon device, "" without a virtio balloon.
std::string balloonPath(const xml::DomainDef& def);
// <vcpupin> and the balloon statistics period, applied while a starting
// guest is still paused (qemu_tuning.cpp).
void applyBootTuning(Monitor& mon, const xml::DomainDef& def);
// utime and stime of a process or thread (a /proc/.../stat file), in ns.
std::pair<uint64_t, uint64_t> cpuTimes(const std::string& statPath);

// ---- chardev logs (qemu_console.cpp) ----

// <log file='...' append='on|off'/> of a character device: QEMU's
// logfile/logappend. `file` is "" without a log; a relative path throws.
struct ChardevLog {
    std::string file;
    bool append = false;
};
ChardevLog chardevLog(const xml::ChardevDef& ch);

// ---- statistics detail (qemu_stats_detail.cpp) ----

// The virDomainStatsTypes groups the driver fills: state, cpu-total,
// balloon, vcpu, interface, block.
constexpr uint32_t kStatsGroupsSupported = 1 | 2 | 4 | 8 | 16 | 32;
// The groups to fill for `stats` (0: all); with ENFORCE_STATS in `flags`
// any other group is refused with libvirt's text.
uint32_t resolveStatsGroups(uint32_t stats, uint32_t flags);
// balloon.* from the guest's balloon statistics (when it reports them)
// and balloon.rss of the QEMU process.
void addBalloonDetail(TypedParams& p, Monitor* mon, const std::string& balloonPath, pid_t pid);
// vcpu.N.wait and vcpu.N.delay: the thread's run-queue time (schedstat).
void addVcpuSched(TypedParams& p, const std::string& prefix, pid_t pid, pid_t tid);

// ---- hotplug (qemu_hotplug_devices.cpp) ----

// The format node of a disk's medium ("" when empty): taken before an
// unplug, since after DEVICE_DELETED no device names it any more.
std::string hotplugDiskNode(Monitor& mon, const std::string& alias);
// How QMP's block commands name a disk's device: virtio-blk-pci holds
// its drive in the inner virtio device, which has no id of its own.
inline std::string diskQomName(const xml::DiskDef& disk)
{
    return disk.targetBus == "virtio" ? "/machine/peripheral/" + disk.info.alias + "/virtio-backend"
                                      : disk.info.alias;
}
// A node-name stem ("libvirt-N") no node of QEMU's has yet.
std::string hotplugNextNode(Monitor& mon);
// blockdev-del of "<stem>-format" and "<stem>-storage", errors ignored.
void hotplugDeleteNodes(Monitor& mon, const std::string& formatNode);
// A QMP command whose failure does not matter (cleanup).
void hotplugQuietly(Monitor& mon, const std::string& cmd, json::Value args);
// Throws the VirtError for a failed QMP step of a hotplug of `what`.
[[noreturn]] void hotplugFailed(const std::string& what, const std::exception& e);
// Each disk's <iotune> through block_set_io_throttle (qemu_iotune.cpp),
// from applyBootTuning while the starting guest is still paused.
void applyBootIotune(Monitor& mon, const xml::DomainDef& def);
// Each tap's <bandwidth> with tc (qemu_bandwidth.cpp), likewise.
void applyBootBandwidth(const xml::DomainDef& def);
// <cputune><shares> through the guest's cgroup (qemu_sched.cpp), and the
// cgroup's removal once QEMU is gone.
void applyBootCgroup(pid_t pid, const xml::DomainDef& def);
void removeCgroup(const std::string& name);

// ---- processes (qemu_process.cpp) ----

// Starts argv[0] as a daemon: its own session, stdin /dev/null,
// stdout/stderr appended to `logFd`, only `keepFds` (plus 0-2) inherited;
// reparented away from virtbusd so it outlives it; as `user` when given and
// it switches (groups, gid, uid, before exec: QEMU never holds root).
// Returns its pid. Throws VirtError when it cannot be started (exec and
// uid switch failures show in the log).
pid_t spawnDaemon(
    const std::vector<std::string>& argv, int logFd, const std::vector<int>& keepFds, const QemuUser* user = nullptr);
// A listening unix socket at `path` (a stale socket there is replaced),
// mode 0600, for QEMU to inherit; `created` describes it for removal.
int listenUnix(const std::string& path, HostChange* created);
// /proc/<pid>/stat's start time, 0 when the process is gone or a zombie.
uint64_t processStartTime(pid_t pid);
// /proc/<pid>/cmdline, NULs as they are.
std::string processCmdline(pid_t pid);
// pidfd_open(2); -1 with errno when the process is gone.
int openPidfd(pid_t pid);
bool pidfdExited(int pidfd);
// A tap device named from `wanted` ("vnet%d" picks a free number), with
// `mac`, added to `bridge` and up; returns its fd (the tap disappears
// with the last fd, i.e. when QEMU exits).
int createTap(std::string& name, const std::string& bridge, const std::string& mac);
// The last `maxBytes` of a log file, trimmed to whole lines.
std::string logTail(const std::string& path, size_t maxBytes = 4096);
// A free TCP port in [first, last] on `address`, or -1.
int findFreePort(const std::string& address, int first, int last);

} // namespace virtbus::qemu
