// The native QEMU driver (qemu:///system, qemu:///session): persistent
// definitions on disk, guests started as QEMU processes that outlive
// virtbusd, watched through QMP and a pidfd, and found again after a
// restart.
//
// Threads: driver calls arrive on the service's worker threads and may
// block (QMP round trips, process start). QMP events and process exits
// arrive on the EventLoop thread, which never blocks: it only updates state
// under mu_, and hands work that needs QMP (fake reboot, poweroff) to the
// driver's own background thread. One operation per domain at a time: each
// domain has a job mutex (libvirt's domain job), never taken on the loop
// thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "driver.h"
#include "qemu/event_loop.h"
#include "qemu/json.h"
#include "xml/domain_xml.h"

namespace virtbus {

namespace xml {
struct DomainDef;
struct SnapshotDef;
}

namespace qemu {
class CapsCache;
class ConsoleRelays;
class Monitor;
struct CommandContext;
struct QmpMessage;
struct QemuDomain;
struct QemuUser;
struct BlockDisk;
} // namespace qemu

// Where the driver keeps its files. Every directory can be moved (tests use
// temp dirs); fromEnvironment() applies VIRTBUS_QEMU_{CONFIG,STATE,LOG,
// CACHE,AUTOSTART,SAVE}_DIR over the defaults of the mode, and in system mode
// VIRTBUS_QEMU_USER / VIRTBUS_QEMU_GROUP.
struct QemuConfig {
    bool system = false;
    // Who QEMU runs as: system mode "virtbus-qemu" (sysusers.d makes it, in
    // group kvm); "root" keeps QEMU root; "" (session mode) the daemon's
    // own user. An empty group is the user's primary group.
    std::string user;
    std::string group;
    std::string configDir;    // <name>.xml: persistent definitions
    std::string autostartDir; // <name>.xml marks (symlinks to the config)
    std::string stateDir;     // <name>.status (with the live XML), <name>.pid, <name>.qmp
    std::string logDir;       // <name>.log: QEMU's output
    std::string cacheDir;     // capabilities cache
    std::string saveDir;      // <name>.save: managed save images (made when first needed)

    static QemuConfig defaults(bool system);
    static QemuConfig fromEnvironment(bool system);
};

class QemuDriver : public Driver {
public:
    explicit QemuDriver(QemuConfig config);
    ~QemuDriver() override;
    QemuDriver(const QemuDriver&) = delete;
    QemuDriver& operator=(const QemuDriver&) = delete;

    // Reconnects to guests left running by a previous virtbusd, marks the
    // vanished ones shut off, then starts autostart guests in the
    // background. Call once the event sink is set.
    void start() override;

    // ---- connection ----
    std::string name() const override { return "QEMU"; }
    std::string uri() const override { return cfg_.system ? "qemu:///system" : "qemu:///session"; }
    uint64_t version() override;
    uint64_t libVersion() override;
    std::string hostname() override;
    bool encrypted() override { return false; }
    bool secure() override { return true; }
    std::string capabilities() override;
    std::string domainCapabilities(const std::string& emulator, const std::string& arch, const std::string& machine,
                                   const std::string& virttype, uint32_t flags) override;
    std::vector<std::string> cpuModelNames(const std::string& arch, uint32_t flags) override;
    std::vector<bool> nodeCPUMap(uint32_t flags) override;
    uint64_t nodeFreeMemory() override;
    std::tuple<std::string, std::string> nodeSecurityModel() override;

    // ---- lookups (qemu_driver.cpp) ----
    std::vector<DomainRef> listDomains(uint32_t flags) override;
    DomainRef domainLookupByID(int32_t id) override;
    DomainRef domainLookupByName(const std::string& name) override;
    DomainRef domainLookupByUUID(const std::string& uuid) override;
    bool domainExists(const std::string& uuid) override;
    DomainSummary domainSummary(const std::string& uuid) override;

    // ---- definitions (qemu_driver.cpp) ----
    DomainRef domainDefineXML(const std::string& xml, uint32_t flags) override;
    void domainUndefine(const std::string& uuid, uint32_t flags) override;
    void domainRename(const std::string& uuid, const std::string& name, uint32_t flags) override;
    void domainSetAutostart(const std::string& uuid, bool autostart) override;
    std::string domainGetXMLDesc(const std::string& uuid, uint32_t flags) override;
    std::tuple<int32_t, int32_t> domainGetState(const std::string& uuid, uint32_t flags) override;
    std::vector<IfaceAddrs> domainInterfaceAddresses(const std::string& uuid, uint32_t source,
                                                     uint32_t flags) override;
    std::tuple<uint32_t, uint32_t, uint64_t> domainGetControlInfo(const std::string& uuid, uint32_t flags) override;
    TypedParams domainGetStats(const std::string& uuid, uint32_t stats, uint32_t flags) override;
    std::vector<std::pair<DomainRef, TypedParams>> allDomainStats(uint32_t stats, uint32_t flags) override;
    uint32_t domainGetVcpus(const std::string& uuid, uint32_t flags) override;

    // ---- lifecycle (qemu_lifecycle.cpp) ----
    DomainRef domainCreateXML(const std::string& xml, uint32_t flags) override;
    void domainCreate(const std::string& uuid, uint32_t flags) override;
    void domainDestroy(const std::string& uuid, uint32_t flags) override;
    void domainShutdown(const std::string& uuid, uint32_t flags) override;
    void domainReboot(const std::string& uuid, uint32_t flags) override;
    void domainReset(const std::string& uuid, uint32_t flags) override;
    void domainSuspend(const std::string& uuid) override;
    void domainResume(const std::string& uuid) override;

    // ---- live tuning (qemu_tuning.cpp) and metadata (qemu_metadata.cpp) ----
    void domainSetMemory(const std::string& uuid, uint64_t kib, uint32_t flags) override;
    void domainSetMemoryStatsPeriod(const std::string& uuid, int32_t period, uint32_t flags) override;
    std::vector<std::pair<int32_t, uint64_t>> domainMemoryStats(const std::string& uuid, uint32_t flags) override;
    void domainSetVcpus(const std::string& uuid, uint32_t count, uint32_t flags) override;
    std::vector<std::vector<bool>> domainGetVcpuPinInfo(const std::string& uuid, uint32_t flags) override;
    void domainPinVcpu(const std::string& uuid, uint32_t vcpu, const std::vector<bool>& map, uint32_t flags) override;
    std::vector<bool> domainGetEmulatorPinInfo(const std::string& uuid, uint32_t flags) override;
    std::string domainGetMetadata(const std::string& uuid, int32_t type, const std::string& uri,
                                  uint32_t flags) override;
    void domainSetMetadata(const std::string& uuid, int32_t type, const std::string& metadata,
                           const std::string& key, const std::string& uri, uint32_t flags) override;

    // ---- save/restore, core dumps and their jobs (qemu_save.cpp, qemu_jobs.cpp) ----
    void domainSave(const std::string& uuid, const std::string& to, const std::string& xml, uint32_t flags) override;
    void domainRestore(const std::string& from, const std::string& xml, uint32_t flags) override;
    std::string domainSaveImageGetXMLDesc(const std::string& file, uint32_t flags) override;
    void domainSaveImageDefineXML(const std::string& file, const std::string& xml, uint32_t flags) override;
    void domainManagedSave(const std::string& uuid, uint32_t flags) override;
    bool domainHasManagedSaveImage(const std::string& uuid, uint32_t flags) override;
    void domainManagedSaveRemove(const std::string& uuid, uint32_t flags) override;
    void domainCoreDump(const std::string& uuid, const std::string& to, uint32_t format, uint32_t flags) override;
    JobInfo domainGetJobInfo(const std::string& uuid) override;
    std::tuple<int32_t, TypedParams> domainGetJobStats(const std::string& uuid, uint32_t flags) override;
    void domainAbortJob(const std::string& uuid) override;

    // ---- input, graphics, screenshots, consoles (qemu_input.cpp, qemu_console.cpp) ----
    void domainSendKey(const std::string& uuid, uint32_t codeset, uint32_t holdtime,
        const std::vector<uint32_t>& keycodes, uint32_t flags) override;
    void domainInjectNMI(const std::string& uuid, uint32_t flags) override;
    int domainOpenGraphicsFD(const std::string& uuid, uint32_t idx, uint32_t flags) override;
    std::pair<std::string, int> domainScreenshot(const std::string& uuid, uint32_t screen, uint32_t flags) override;
    int domainOpenConsole(const std::string& uuid, const std::string& devname, uint32_t flags) override;

    // ---- hotplug and live changes (qemu_hotplug*.cpp, qemu_iotune.cpp, qemu_sched.cpp) ----
    void domainAttachDevice(const std::string& uuid, const std::string& xml, uint32_t flags) override;
    void domainDetachDevice(const std::string& uuid, const std::string& xml, uint32_t flags) override;
    void domainUpdateDevice(const std::string& uuid, const std::string& xml, uint32_t flags) override;
    TypedParams domainGetBlockIoTune(const std::string& uuid, const std::string& disk, uint32_t flags) override;
    void domainSetBlockIoTune(
        const std::string& uuid, const std::string& disk, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetInterfaceParameters(const std::string& uuid, const std::string& dev, uint32_t flags) override;
    void domainSetInterfaceParameters(
        const std::string& uuid, const std::string& dev, const TypedParams& p, uint32_t flags) override;
    TypedParams domainGetSchedulerParameters(const std::string& uuid, uint32_t flags) override;
    void domainSetSchedulerParameters(const std::string& uuid, const TypedParams& p, uint32_t flags) override;

    // Whether a running guest has the file or device at `path` as a disk
    // (qemu_storage.cpp): the storage driver asks before it deletes,
    // wipes or shrinks a volume.
    bool pathInUse(const std::string& path);

    // ---- snapshots (qemu_snapshot.cpp, qemu_snapshot_tree.cpp, qemu_snapshot_revert.cpp) ----
    std::vector<SnapshotRef> domainListSnapshots(const std::string& uuid, uint32_t flags) override;
    SnapshotRef domainSnapshotCreateXML(const std::string& uuid, const std::string& xml, uint32_t flags) override;
    SnapshotRef domainSnapshotLookupByName(const std::string& uuid, const std::string& name, uint32_t flags) override;
    SnapshotRef domainSnapshotCurrent(const std::string& uuid, uint32_t flags) override;
    bool snapshotExists(const std::string& uuid, const std::string& name) override;
    void snapshotDelete(const SnapshotRef& s, uint32_t flags) override;
    SnapshotRef snapshotGetParent(const SnapshotRef& s, uint32_t flags) override;
    std::string snapshotGetXMLDesc(const SnapshotRef& s, uint32_t flags) override;
    bool snapshotIsCurrent(const SnapshotRef& s, uint32_t flags) override;
    std::vector<SnapshotRef> snapshotListChildren(const SnapshotRef& s, uint32_t flags) override;
    void snapshotRevert(const SnapshotRef& s, uint32_t flags) override;

private:
    std::string snapshotDir(const std::string& domain) const;
    // mu_ held: (re)writes one snapshot's metadata file; removes one.
    void saveSnapshotMeta(const qemu::QemuDomain& d, const std::string& name);
    void deleteSnapshotMeta(const std::string& domain, const std::string& name);
    // At construction, after the definitions: every domain's snapshots.
    void loadSnapshots();
    // Undefine of an inactive domain (mu_ held): refuses while it has
    // snapshots unless SNAPSHOTS_METADATA, which removes their metadata.
    std::vector<std::string> dropSnapshotsLocked(qemu::QemuDomain& d, uint32_t undefineFlags);
    SnapshotRef redefineSnapshot(const std::shared_ptr<qemu::QemuDomain>& d, xml::SnapshotDef def, uint32_t flags);
    // Kills the guest (job held) so that it stops with FROM_SNAPSHOT.
    void stopForSnapshot(const std::shared_ptr<qemu::QemuDomain>& d);
    void loadSnapshotLive(const std::shared_ptr<qemu::QemuDomain>& d, const xml::SnapshotDef& snap, bool paused);

public:

private:
    using Dom = qemu::QemuDomain;
    using DomPtr = std::shared_ptr<Dom>;

    // ---- lookups (mu_ held) ----
    DomPtr find(const std::string& uuid);    // throws "Domain not found"
    DomPtr findLocked(const std::string& uuid);
    Dom* byNameLocked(const std::string& name);
    DomainRef refOf(const Dom& d) const;

    // ---- definitions ----
    xml::DomainDef parseForDefine(const std::string& xml, uint32_t flags);
    // virDomainObjListAdd: the one place domains enter the maps.
    DomPtr addDomain(xml::DomainDef def, bool live, bool* replacedConfig);
    void forgetLocked(Dom& d);
    void saveConfig(const xml::DomainDef& def);
    void deleteConfig(const std::string& name);
    void loadConfigs();

    // <disk type='volume'>: the volume's path from the storage driver,
    // into the run's definition (qemu_storage.cpp).
    void resolveVolumes(xml::DomainDef& live);

    // ---- processes (qemu_lifecycle.cpp) ----
    // Starts `d` (job held, inactive). On failure nothing is left running.
    void startProcess(const DomPtr& d, uint32_t flags, int startedDetail);
    // The process is gone (pidfd fired): state shut off, events, cleanup.
    void processExited(const DomPtr& d);
    void attachMonitor(const DomPtr& d);
    void onMonitorEvent(const std::weak_ptr<Dom>& w, const qemu::QmpMessage& ev);
    void onMonitorClosed(const std::weak_ptr<Dom>& w);
    // Shutdown and Reboot: the ACPI power button, with a fake reboot to follow.
    void powerButton(const std::string& uuid, uint32_t flags, bool reboot, const char* function);
    // Waits (job held) until processExited ran, up to `timeout`.
    bool waitStopped(const DomPtr& d, std::chrono::milliseconds timeout);
    void writeStatus(const Dom& d);
    void removeStatus(const std::string& name);
    // ---- the host files and sockets of a run (qemu_host_access.cpp) ----
    // Before QEMU starts: binds the listening unix chardev sockets (fds
    // into ctx) and gives `user` the files `live` uses, recorded in
    // d->host and <name>.host first. On failure undoes what it did.
    void grantHost(const DomPtr& d, const xml::DomainDef& live, const qemu::QemuUser& user, qemu::CommandContext& ctx,
        std::vector<int>& listenFds);
    // The run is over (mu_ held): undoes d->host except what another
    // running guest still uses, removes <name>.host.
    void releaseHostLocked(Dom& d);
    // After reconnecting: what a guest that stopped while no virtbusd ran
    // (or a start interrupted by a crash) left behind.
    void releaseStaleHost();
    void reconnectAll();
    bool reconnect(const DomPtr& d);
    std::string networkBridge(const std::string& network);
    void autostartAll();
    // Runs `fn` on the background thread (work the loop thread must not do).
    void background(std::function<void()> fn);
    void backgroundLoop();
    void emitLifecycle(const Dom& d, int event, int detail);
    void emitSignal(const Dom& d, const DomainSignal& s);

    // ---- save/restore, core dumps and their jobs (qemu_save.cpp, qemu_jobs.cpp) ----
    std::string managedSavePath(const std::string& name) const;
    bool hasManagedSave(const std::string& name) const;
    // Create and autostart (job held): resumes `d` from its managed save
    // image and removes it; false (nothing started) when there is none or
    // FORCE_BOOT discarded it.
    bool startFromManagedSave(const DomPtr& d, uint32_t flags);
    // Save and ManagedSave (job held): the image, then the guest stops.
    void saveGuest(const DomPtr& d, const std::string& to, const std::string& xml, uint32_t flags);
    // Starts `d` (job held, inactive) from the image at `from` with `live`
    // as its definition; `startFlags` as Create's (PAUSED, BYPASS_CACHE).
    void restoreGuest(const DomPtr& d, const std::string& from, xml::DomainDef live, uint32_t startFlags);
    // Pauses a running guest for a save or dump (reason `pausedReason`);
    // false when it was not running.
    bool pauseForJob(const DomPtr& d, int pausedReason);
    void resumeAfterJob(const DomPtr& d, int runningReason);
    // QEMU's migration stream, or dump-guest-memory with `dumpFormat`,
    // into `fd` as d's job (job held); returns when QEMU is done, throws
    // when it failed or AbortJob cancelled it.
    void runFileJob(const DomPtr& d, int operation, int fd, const std::string& dumpFormat);
    // Stops QEMU after a save or a crash dump: STOPPED/`detail`.
    void stopAfterJob(const DomPtr& d, int detail, int reason);

    // ---- input and consoles (qemu_input.cpp, qemu_console.cpp) ----
    // The running guest's monitor and a copy of its live definition, the
    // job held by the caller; "domain is not running" otherwise.
    std::shared_ptr<qemu::Monitor> runningMonitor(const DomPtr& d, xml::DomainDef* live);
    // The console sessions virtbusd relays (one per pty), made on first use.
    std::mutex consolesMu_;
    std::shared_ptr<qemu::ConsoleRelays> consoles_;

    // ---- hotplug (qemu_hotplug*.cpp) ----
    // QMP events about devices (loop thread, mu_ held): DEVICE_DELETED,
    // DEVICE_UNPLUG_GUEST_ERROR, DEVICE_TRAY_MOVED.
    void hotplugEventLocked(const DomPtr& d, const std::string& event, const qemu::json::Value& data);
    void attachLive(const DomPtr& d, xml::DeviceDef dev);
    void detachLive(const DomPtr& d, const xml::DeviceDef& match);
    void updateLive(const DomPtr& d, const xml::DeviceDef& dev, bool force);
    // QEMU released `alias`: its backends go, the live XML and status
    // follow, DeviceRemoved. No job needed (DEVICE_DELETED may come late).
    void finishUnplug(const DomPtr& d, const std::string& alias);
    // Gives the QEMU user the files of a hotplugged device (as at start).
    void grantHotplug(const DomPtr& d, const xml::DomainDef& only);
    void changeMedia(const DomPtr& d, const xml::DiskDef& disk);
    // SetVcpus AFFECT_LIVE (qemu_vcpu_hotplug.cpp), job held, mu_ not.
    void setLiveVcpus(const DomPtr& d, unsigned count);

    QemuConfig cfg_;
    qemu::EventLoop loop_;
    std::unique_ptr<qemu::CapsCache> caps_;

    // QEMU's version, known once the emulators were probed in the
    // background (the Version property must not wait for a probe).
    std::atomic<uint64_t> version_{0};

    std::mutex mu_;
    std::unordered_map<std::string, DomPtr> byUuid_;
    std::map<std::string, Dom*> byName_;
    int nextId_ = 1;

    std::mutex bgMu_;
    std::condition_variable bgCv_;
    std::deque<std::function<void()>> bgQueue_;
    bool bgStop_ = false;
    std::thread bgThread_;

    // ---- block jobs (qemu_blockjob*.cpp), peeks and resize (qemu_peek.cpp) ----
public:
    std::vector<uint8_t> domainBlockPeek(
        const std::string& uuid, const std::string& disk, uint64_t offset, uint64_t size, uint32_t flags) override;
    std::vector<uint8_t> domainMemoryPeek(
        const std::string& uuid, uint64_t offset, uint64_t size, uint32_t flags) override;
    void domainBlockResize(const std::string& uuid, const std::string& disk, uint64_t size, uint32_t flags) override;
    BlockJobInfo domainGetBlockJobInfo(const std::string& uuid, const std::string& disk, uint32_t flags) override;
    void domainBlockPull(const std::string& uuid, const std::string& disk, uint64_t bandwidth, uint32_t flags) override;
    void domainBlockRebase(const std::string& uuid, const std::string& disk, const std::string& base,
        uint64_t bandwidth, uint32_t flags) override;
    void domainBlockCommit(const std::string& uuid, const std::string& disk, const std::string& base,
        const std::string& top, uint64_t bandwidth, uint32_t flags) override;
    void domainBlockCopy(const std::string& uuid, const std::string& disk, const std::string& destxml,
        const TypedParams& params, uint32_t flags) override;
    void domainBlockJobAbort(const std::string& uuid, const std::string& disk, uint32_t flags) override;
    void domainBlockJobSetSpeed(
        const std::string& uuid, const std::string& disk, uint64_t bandwidth, uint32_t flags) override;

private:
    // A running domain's disk for a block operation (job held by the
    // caller), named by target or source path; `idle` refuses a disk with
    // a block job.
    qemu::BlockDisk blockDisk(const DomPtr& d, const std::string& disk, bool idle);
    void blockPullCommon(const std::string& uuid, const std::string& disk, const std::string& base,
        uint64_t bandwidth, uint32_t flags);
    void blockCopyCommon(const std::string& uuid, const std::string& disk, const std::string& destPath,
        const std::string& destType, const std::string& destFormat, uint64_t bytesPerSec, uint64_t granularity,
        uint64_t bufSize, uint32_t flags);
    // QMP job events (loop thread, mu_ held); the end of a job is handled
    // on the background thread by finishBlockJob.
    void blockJobEventLocked(const DomPtr& d, const qemu::QmpMessage& ev);
    void finishBlockJob(const DomPtr& d, const std::string& target);
    // The live XML's <backingStore> chain of every disk, as QEMU opened it
    // (a starting guest, before it runs).
    void refreshBackingChains(const DomPtr& d);
    // After a virtbusd restart: the jobs QEMU still runs (or finished
    // meanwhile) are tracked again, by their job-id "<type>-<target>".
    void adoptBlockJobs(const DomPtr& d);
};

} // namespace virtbus
