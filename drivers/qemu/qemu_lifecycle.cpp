// Starting, stopping and watching QEMU processes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "fileutil.h"
#include "qemu/qemu_caps.h"
#include "qemu/qemu_command.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"
#include "qemu/qmp.h"

namespace virtbus {

using namespace std::chrono_literals;
using qemu::QemuDomain;

namespace {

// virDomainCreateFlags.
constexpr uint32_t kStartPaused = 1, kStartAutodestroy = 2, kStartBypassCache = 4, kStartForceBoot = 8,
                   kStartValidate = 16;
// virDomainShutdownFlagValues / virDomainRebootFlagValues.
constexpr uint32_t kModeAcpi = 1, kModeAgent = 2, kModeInitctl = 4, kModeSignal = 8, kModeParavirt = 16;

VirtError notRunning()
{
    return makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
}

void sendSignal(const QemuDomain& d, int sig)
{
    // Through the pidfd: never a recycled pid.
    if (d.pidfd >= 0)
        ::syscall(SYS_pidfd_send_signal, d.pidfd, sig, nullptr, 0);
}

std::string timestamp()
{
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03ld+0000", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
             t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
    return buf;
}

// What the host must provide before QEMU is even started, so a missing
// disk is our clear error rather than QEMU's.
void checkHostResources(const xml::DomainDef& def)
{
    struct stat st;
    for (const auto& disk : def.devices.disks) {
        if (!disk.hasSource || disk.path.empty())
            continue;
        if (::stat(disk.path.c_str(), &st) != 0)
            throw systemError(ErrDomain::Qemu, "Cannot access storage file '" + disk.path + "'", errno);
        if (S_ISDIR(st.st_mode))
            throw err::configUnsupported("disk source '" + disk.path + "' of '" + disk.targetDev +
                                         "' is a directory, not a " + (disk.type == "block" ? "block device" : "file"));
        if (disk.type == "block" && !S_ISBLK(st.st_mode))
            throw err::configUnsupported("disk source '" + disk.path + "' is not a block device");
    }
    for (const std::string* f : {&def.os.kernel, &def.os.initrd})
        if (!f->empty() && ::stat(f->c_str(), &st) != 0)
            throw systemError(ErrDomain::Qemu, "Cannot access file '" + *f + "'", errno);
}

// The emulator as libvirt checks it: "Cannot check QEMU binary".
void checkEmulator(const std::string& emulator)
{
    struct stat st;
    if (emulator.empty() || emulator.front() != '/')
        throw err::configUnsupported("emulator path '" + emulator + "' is not absolute");
    if (::stat(emulator.c_str(), &st) != 0)
        throw systemError(ErrDomain::Qemu, "Cannot check QEMU binary " + emulator, errno);
    if (!S_ISREG(st.st_mode) || ::access(emulator.c_str(), X_OK) != 0)
        throw makeError(ErrCode::InternalError, ErrDomain::Qemu, "QEMU binary " + emulator + " is not executable");
}

int watchdogAction(const std::string& a)
{
    static const char* names[] = {"none", "pause", "reset", "poweroff", "shutdown", "debug", "inject-nmi"};
    for (int i = 0; i < 7; ++i)
        if (a == names[i])
            return i;
    return 0;
}

} // namespace

// ---- starting ----

void QemuDriver::startProcess(const DomPtr& d, uint32_t flags, int startedDetail)
{
    xml::DomainDef live;
    {
        std::lock_guard lock(mu_);
        live = d->live ? *d->live : *d->def;
        d->live.reset();
    }
    const std::string name = live.name;
    resolveVolumes(live);
    checkEmulator(live.devices.emulator);
    auto caps = caps_->get(live.devices.emulator);
    if (live.type == "kvm" && !caps->kvm)
        throw err::configUnsupported("domain type 'kvm' is not available with " + live.devices.emulator + ": " +
                                     caps->kvmNote);
    qemu::validateDefinition(live, caps.get());
    checkHostResources(live);
    const qemu::QemuUser user = qemu::resolveQemuUser(cfg_.user, cfg_.group);
    xml::assignMissingMACs(live);
    qemu::assignAddresses(live, caps.get());
    qemu::assignChannelPaths(live, cfg_.stateDir);

    for (auto& g : live.devices.graphics) {
        if (g.type != "vnc" || (g.port && *g.port > 0 && !(g.autoport && *g.autoport)))
            continue;
        std::string listen = g.listen.empty() ? "127.0.0.1" : g.listen;
        int port = qemu::findFreePort(listen, 5900, 65535);
        if (port < 0)
            throw err::internal("Unable to find an unused port in range 'display' (5900-65535)");
        g.port = port;
        g.autoport = true;
        if (g.listen.empty())
            g.listen = listen;
    }

    // Tap devices live exactly as long as QEMU holds their fds. Listening
    // sockets are closed here once QEMU has them: while virtbusd held one
    // too, a connect would wait for a QEMU that already died.
    std::vector<int> fds, listenFds;
    struct FdCloser {
        std::vector<int>& fds;
        void closeAll()
        {
            for (int fd : fds)
                ::close(fd);
            fds.clear();
        }
        ~FdCloser() { closeAll(); }
    } closer {fds}, listenCloser {listenFds};
    qemu::CommandContext ctx;
    ctx.emulator = live.devices.emulator;
    ctx.caps = caps.get();
    ctx.qmpSocket = cfg_.stateDir + "/" + name + ".qmp";
    const std::string pidFile = cfg_.stateDir + "/" + name + ".pid";
    for (size_t i = 0; i < live.devices.interfaces.size(); ++i) {
        auto& n = live.devices.interfaces[i];
        if (n.type != "bridge" && n.type != "ethernet" && n.type != "network")
            continue;
        std::string bridge = n.type == "bridge" ? n.sourceBridge : "";
        if (n.type == "network")
            bridge = networkBridge(n.sourceNetwork);
        std::string tap = n.targetDev;
        int fd = qemu::createTap(tap, bridge, n.mac);
        fds.push_back(fd);
        ctx.tapFds[i] = fd;
        n.targetDev = tap;
    }
    ::unlink(pidFile.c_str());
    // Until QEMU is watched (processExited undoes it then), a failure
    // undoes the host changes here.
    struct HostRelease {
        QemuDriver& drv;
        QemuDomain& d;
        bool armed = true;
        ~HostRelease()
        {
            if (!armed)
                return;
            std::lock_guard lock(drv.mu_);
            drv.releaseHostLocked(d);
        }
    } hostRelease {*this, *d};
    grantHost(d, live, user, ctx, listenFds);
    // The monitor socket is virtbusd's (0600, in a 0700 directory): QEMU
    // gets the listening fd and never needs the directory.
    ctx.qmpFd = qemu::listenUnix(ctx.qmpSocket, nullptr);
    listenFds.push_back(ctx.qmpFd);
    std::vector<std::string> argv = qemu::buildCommandLine(live, ctx);
    // A restore (qemu_save.cpp): QEMU waits for the saved state.
    std::function<void(qemu::Monitor&)> incoming = std::move(d->incoming);
    if (incoming) {
        argv.push_back("-incoming");
        argv.push_back("defer");
    }

    std::string logPath = cfg_.logDir + "/" + name + ".log";
    int logFd = ::open(logPath.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (logFd < 0)
        throw systemError(ErrDomain::Qemu, "failed to create logfile " + logPath, errno);
    off_t logStart = ::lseek(logFd, 0, SEEK_END);
    std::string header = timestamp() + ": starting up\n";
    for (const auto& a : argv)
        header += (a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'") + " ";
    header += "\n";
    (void)!::write(logFd, header.data(), header.size());
    logStart += static_cast<off_t>(header.size());

    pid_t pid;
    try {
        std::vector<int> inherited = fds;
        inherited.insert(inherited.end(), listenFds.begin(), listenFds.end());
        pid = qemu::spawnDaemon(argv, logFd, inherited, &user);
    } catch (...) {
        ::close(logFd);
        throw;
    }
    ::close(logFd);
    listenCloser.closeAll();
    // QEMU cannot write its own -pidfile into the state directory when it
    // is not root; tools and tests still find the pid here.
    if (int fd = ::open(pidFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); fd >= 0) {
        std::string text = std::to_string(pid) + "\n";
        (void)!::write(fd, text.data(), text.size());
        ::close(fd);
    }
    int pidfd = qemu::openPidfd(pid);
    auto qemuError = [&]() {
        // QEMU's own words from this start's part of the log.
        std::string tail = qemu::logTail(logPath, 8192);
        auto text = readFile(logPath, 64u << 20);
        if (text && static_cast<size_t>(logStart) <= text->size())
            tail = text->substr(static_cast<size_t>(logStart));
        while (!tail.empty() && tail.back() == '\n')
            tail.pop_back();
        if (tail.size() > 4096)
            tail = tail.substr(tail.size() - 4096);
        if (user.switches() && tail.find("Permission denied") != std::string::npos)
            tail += " (QEMU runs as '" + user.name + "', which needs search permission on the directories above)";
        return err::internal("process exited while connecting to monitor: " + tail);
    };
    auto abandon = [&]() {
        if (pidfd >= 0) {
            ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, 5000);
            ::close(pidfd);
        }
        ::unlink(ctx.qmpSocket.c_str());
        ::unlink(pidFile.c_str());
    };
    if (pidfd < 0) {
        abandon();
        throw qemuError();
    }
    std::shared_ptr<qemu::Monitor> mon;
    try {
        mon = qemu::Monitor::connect(loop_, ctx.qmpSocket, 30s, [pidfd] { return !qemu::pidfdExited(pidfd); });
    } catch (const std::exception& e) {
        // A QEMU that fails resets the socket a moment before it is gone:
        // give it that moment, so the error is QEMU's own.
        pollfd p{pidfd, POLLIN, 0};
        bool died = ::poll(&p, 1, 2000) > 0;
        abandon();
        if (died)
            throw qemuError();
        throw err::internal(std::string("cannot connect to the monitor of domain '") + name + "': " + e.what());
    }

    uint64_t startTime = qemu::processStartTime(pid);
    int id;
    {
        std::lock_guard lock(mu_);
        id = nextId_++;
        d->id = id;
        d->pid = pid;
        d->pidfd = pidfd;
        d->startTime = startTime;
        d->mon = mon;
        d->live = std::make_unique<xml::DomainDef>(std::move(live));
        d->state = qemu::Paused;
        d->reason = qemu::PausedStartingUp;
        d->gotShutdown = d->fakeReboot = d->beingDestroyed = false;
        d->autodestroy = flags & kStartAutodestroy;
        d->updated = false;
        d->starting = true;
        hostRelease.armed = false; // processExited's now
    }
    attachMonitor(d);

    // From here a failure must stop the process we started.
    try {
        bool anyPty = false;
        {
            std::lock_guard lock(mu_);
            for (const auto* list : {&d->live->devices.serials, &d->live->devices.consoles,
                                     &d->live->devices.channels, &d->live->devices.parallels})
                for (const auto& c : *list)
                    anyPty = anyPty || c.type == "pty";
        }
        if (anyPty) {
            // pty paths are QEMU's choice: the live XML shows them.
            auto chardevs = mon->execute("query-chardev");
            std::lock_guard lock(mu_);
            for (auto* list : {&d->live->devices.serials, &d->live->devices.consoles, &d->live->devices.channels,
                               &d->live->devices.parallels}) {
                for (auto& c : *list) {
                    if (c.type != "pty")
                        continue;
                    for (const auto& cd : chardevs.asArray()) {
                        std::string file = cd.str("filename");
                        if (cd.str("label") == "char" + c.info.alias && file.rfind("pty:", 0) == 0) {
                            if (c.sources.empty())
                                c.sources.emplace_back();
                            c.sources[0].path = file.substr(4);
                        }
                    }
                }
            }
            // A console that mirrors serial0 shows the same pty.
            if (!d->live->devices.consoles.empty() && !d->live->devices.serials.empty() &&
                d->live->devices.consoles[0].type == "pty" && !d->live->devices.serials[0].sources.empty())
                d->live->devices.consoles[0].sources = d->live->devices.serials[0].sources;
        }
        xml::DomainDef started;
        {
            std::lock_guard lock(mu_);
            started = *d->live;
        }
        if (incoming)
            incoming(*mon);
        qemu::applyBootTuning(*mon, started);
        refreshBackingChains(d);
        qemu::applyBootCgroup(pid, started);
        if (!(flags & kStartPaused))
            mon->execute("cont");
    } catch (const std::exception& e) {
        {
            std::lock_guard lock(mu_);
            d->beingDestroyed = true;
            sendSignal(*d, SIGKILL);
        }
        waitStopped(d, 5s);
        throw err::internal(std::string("cannot start domain '") + name + "': " + e.what());
    }
    {
        std::lock_guard lock(mu_);
        d->starting = false;
        if (!d->active())
            throw qemuError(); // died between cont and here; processExited cleaned up
        if (flags & kStartPaused) {
            d->state = qemu::Paused;
            d->reason = qemu::PausedUser;
        } else {
            d->state = qemu::Running;
            d->reason = startedDetail == ev::StartedRestored ? qemu::RunningRestored : qemu::RunningBooted;
        }
    }
    writeStatus(*d);
    if (sink())
        sink()->propertiesChanged({ObjectType::Domain, d->uuid(), {}}, prop::Active | prop::Id);
    emitLifecycle(*d, ev::Started, startedDetail);
    if (flags & kStartPaused)
        emitLifecycle(*d, ev::Suspended,
                      startedDetail == ev::StartedRestored ? ev::SuspendedRestored : ev::SuspendedPaused);
}

void QemuDriver::attachMonitor(const DomPtr& d)
{
    std::weak_ptr<Dom> w = d;
    std::shared_ptr<qemu::Monitor> mon;
    int pidfd;
    {
        std::lock_guard lock(mu_);
        mon = d->mon;
        pidfd = d->pidfd;
    }
    mon->setHandlers([this, w](const qemu::QmpMessage& ev) { onMonitorEvent(w, ev); },
                     [this, w] { onMonitorClosed(w); });
    int watch = loop_.add(pidfd, [this, w](uint32_t) {
        if (auto d = w.lock())
            processExited(d);
    });
    std::lock_guard lock(mu_);
    d->pidfdWatch = watch;
}

// ---- watching ----

void QemuDriver::processExited(const DomPtr& d)
{
    std::unique_lock lock(mu_);
    if (!d->active())
        return;
    int detail, reason;
    if (d->stopFromSnapshot) {
        detail = ev::StoppedFromSnapshot;
        reason = qemu::ShutoffFromSnapshot;
    } else if (d->exitDetail >= 0) {
        detail = d->exitDetail;
        reason = d->exitReason;
    } else if (d->beingDestroyed) {
        detail = ev::StoppedDestroyed;
        reason = qemu::ShutoffDestroyed;
    } else if (d->gotShutdown) {
        detail = ev::StoppedShutdown;
        reason = qemu::ShutoffShutdown;
    } else if (d->state == qemu::Crashed) {
        detail = ev::StoppedCrashed;
        reason = qemu::ShutoffCrashed;
    } else {
        // QEMU went away without being asked and without the guest powering
        // off: libvirt's "monitor closed without SHUTDOWN event".
        detail = ev::StoppedFailed;
        reason = qemu::ShutoffCrashed;
    }
    if (d->pidfdWatch >= 0)
        loop_.remove(d->pidfdWatch);
    d->pidfdWatch = -1;
    if (d->pidfd >= 0)
        ::close(d->pidfd);
    d->pidfd = -1;
    auto mon = std::move(d->mon);
    std::string name = d->name();
    bool starting = d->starting;
    d->live.reset();
    d->id = -1;
    d->pid = -1;
    d->startTime = 0;
    d->state = qemu::Shutoff;
    d->reason = reason;
    d->starting = false;
    d->stopFromSnapshot = false;
    d->exitDetail = -1;
    releaseHostLocked(*d);
    qemu::removeCgroup(name);
    d->exited.notify_all();
    removeStatus(name);
    if (!starting) {
        if (sink())
            sink()->propertiesChanged({ObjectType::Domain, d->uuid(), {}}, prop::Active | prop::Id);
        emitLifecycle(*d, ev::Stopped, detail);
    }
    if (!d->persistent)
        forgetLocked(*d);
    lock.unlock();
    if (mon)
        mon->close();
}

void QemuDriver::onMonitorClosed(const std::weak_ptr<Dom>& w)
{
    // The process is exiting; the pidfd tells when it is gone. A QEMU that
    // closed its monitor but lingers is of no use to anyone.
    auto d = w.lock();
    if (!d)
        return;
    std::lock_guard lock(mu_);
    if (d->active() && d->pidfd >= 0 && !qemu::pidfdExited(d->pidfd))
        sendSignal(*d, SIGKILL);
}

void QemuDriver::onMonitorEvent(const std::weak_ptr<Dom>& w, const qemu::QmpMessage& ev)
{
    auto d = w.lock();
    if (!d)
        return;
    std::unique_lock lock(mu_);
    if (!d->active())
        return;
    const qemu::json::Value& data = ev.body;
    const std::string& e = ev.event;
    if (e == "SHUTDOWN") {
        d->gotShutdown = true;
        bool guest = data.boolean("guest", false);
        d->state = qemu::ShuttingDown;
        d->reason = 0;
        emitLifecycle(*d, ev::Shutdown, data.find("guest") ? (guest ? ev::ShutdownGuest : ev::ShutdownHost)
                                                            : ev::ShutdownFinished);
        bool reboot = d->fakeReboot || (d->live && d->live->onPoweroff == "restart");
        std::weak_ptr<Dom> weak = d;
        background([this, weak, reboot] {
            auto dd = weak.lock();
            if (!dd)
                return;
            std::shared_ptr<qemu::Monitor> mon;
            {
                std::lock_guard l(mu_);
                if (!dd->active())
                    return;
                if (!reboot) {
                    sendSignal(*dd, SIGTERM);
                    return;
                }
                mon = dd->mon;
            }
            try {
                mon->execute("system_reset");
                mon->execute("cont");
                std::lock_guard l(mu_);
                dd->fakeReboot = false;
                dd->gotShutdown = false;
                dd->state = qemu::Running;
                dd->reason = qemu::RunningBooted;
                emitLifecycle(*dd, ev::Resumed, ev::ResumedUnpaused);
            } catch (const std::exception&) {
                std::lock_guard l(mu_);
                sendSignal(*dd, SIGTERM);
            }
        });
    } else if (e == "STOP") {
        if (d->state == qemu::Running) {
            d->state = qemu::Paused;
            d->reason = qemu::PausedUnknown;
            emitLifecycle(*d, ev::Suspended, ev::SuspendedPaused);
        }
    } else if (e == "RESUME") {
        if (d->state == qemu::Paused && d->reason != qemu::PausedStartingUp) {
            d->state = qemu::Running;
            d->reason = qemu::RunningUnpaused;
            emitLifecycle(*d, ev::Resumed, ev::ResumedUnpaused);
        }
    } else if (e == "RESET") {
        emitSignal(*d, sig::Reboot{});
    } else if (e == "GUEST_PANICKED") {
        d->state = qemu::Crashed;
        d->reason = qemu::CrashedPanicked;
        emitLifecycle(*d, ev::Crashed, 0);
        std::string action = d->live ? d->live->onCrash : "destroy";
        if (action == "destroy" || action == "coredump-destroy")
            sendSignal(*d, SIGKILL);
    } else if (e == "DEVICE_DELETED" || e == "DEVICE_UNPLUG_GUEST_ERROR" || e == "DEVICE_TRAY_MOVED") {
        hotplugEventLocked(d, e, data);
    } else if (e == "BALLOON_CHANGE") {
        uint64_t kib = static_cast<uint64_t>(data.integer("actual")) / 1024;
        if (d->live)
            d->live->currentMemory = kib;
        emitSignal(*d, sig::BalloonChange{kib});
    } else if (e == "RTC_CHANGE") {
        emitSignal(*d, sig::RTCChange{data.integer("offset")});
    } else if (e == "WATCHDOG") {
        emitSignal(*d, sig::Watchdog{watchdogAction(data.str("action"))});
    } else if (e == "BLOCK_IO_ERROR") {
        std::string dev = data.str("device"), node = data.str("node-name"), path;
        if (d->live) {
            for (const auto& disk : d->live->devices.disks) {
                if (disk.info.alias == dev || "drive-" + disk.info.alias == dev || disk.targetDev == dev) {
                    path = disk.path;
                    dev = disk.info.alias;
                }
            }
        }
        std::string op = data.str("action");
        int action = op == "stop" ? 1 : op == "report" ? 2 : 0;
        emitSignal(*d, sig::IOError{path, dev, action, data.str("reason")});
    } else if (e == "JOB_STATUS_CHANGE" || e.starts_with("BLOCK_JOB_")) {
        blockJobEventLocked(d, ev);
    }
}

bool QemuDriver::waitStopped(const DomPtr& d, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mu_);
    return d->exited.wait_for(lock, timeout, [&] { return !d->active(); });
}

void QemuDriver::writeStatus(const Dom& d)
{
    std::string name, text;
    {
        std::lock_guard lock(mu_);
        if (!d.active() || !d.live)
            return;
        name = d.name();
        qemu::Status s;
        s.pid = d.pid;
        s.startTime = d.startTime;
        s.id = d.id;
        s.state = d.state;
        s.reason = d.reason;
        s.autodestroy = d.autodestroy;
        s.persistent = d.persistent;
        xml::FormatOptions o;
        o.id = d.id;
        o.secure = true;
        s.liveXML = xml::formatDomainXML(*d.live, o);
        text = qemu::formatStatus(s);
    }
    writeFileAtomic(cfg_.stateDir + "/" + name + ".status", text, "cannot save the state of domain '" + name + "'",
                    ErrDomain::Qemu);
}

void QemuDriver::removeStatus(const std::string& name)
{
    for (const char* ext : {".status", ".pid", ".qmp"})
        ::unlink((cfg_.stateDir + "/" + name + ext).c_str());
}

// ---- the API ----

DomainRef QemuDriver::domainCreateXML(const std::string& xmlText, uint32_t flags)
{
    checkFlags(flags, kStartPaused | kStartAutodestroy | kStartBypassCache | kStartValidate,
               "qemuDomainCreateXML");
    xml::DomainDef def = parseForDefine(xmlText, (flags & kStartValidate) ? 1 : 0);
    DomPtr d;
    bool added;
    {
        std::lock_guard lock(mu_);
        added = byUuid_.count(def.uuid) == 0;
        bool replaced;
        xml::DomainDef copy = def;
        d = addDomain(std::move(copy), true, &replaced);
        if (!added)
            d->live = std::make_unique<xml::DomainDef>(std::move(def));
        d->persistent = d->persistent && !added;
    }
    std::unique_lock job(d->job);
    try {
        {
            std::lock_guard lock(mu_);
            if (d->active())
                throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain,
                                "domain '" + d->name() + "' is already active");
        }
        if (added && sink())
            sink()->objectAdded({ObjectType::Domain, d->uuid(), {}});
        startProcess(d, flags, ev::StartedBooted);
    } catch (...) {
        std::lock_guard lock(mu_);
        if (added && !d->active() && byUuid_.count(d->uuid()))
            forgetLocked(*d);
        throw;
    }
    return refOf(*d);
}

void QemuDriver::domainCreate(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kStartPaused | kStartAutodestroy | kStartBypassCache | kStartForceBoot, "qemuDomainCreateWithFlags");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    {
        std::lock_guard lock(mu_);
        if (d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is already running");
    }
    if (startFromManagedSave(d, flags))
        return;
    startProcess(d, flags, ev::StartedBooted);
}

void QemuDriver::domainDestroy(const std::string& uuid, uint32_t flags)
{
    constexpr uint32_t kGraceful = 1;
    checkFlags(flags, kGraceful, "qemuDomainDestroyFlags");
    auto d = find(uuid);
    // No job: Destroy must work while another call waits on a hung QEMU.
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        d->beingDestroyed = true;
        sendSignal(*d, (flags & kGraceful) ? SIGTERM : SIGKILL);
    }
    if (waitStopped(d, (flags & kGraceful) ? 10s : 5s))
        return;
    std::lock_guard lock(mu_);
    if (d->active())
        d->beingDestroyed = false;
    throw systemError(ErrDomain::Qemu,
                      std::string("Failed to terminate process ") + std::to_string(d->pid) + " with " +
                          ((flags & kGraceful) ? "SIGTERM" : "SIGKILL"),
                      EBUSY);
}

void QemuDriver::domainShutdown(const std::string& uuid, uint32_t flags)
{
    powerButton(uuid, flags, false, "qemuDomainShutdownFlags");
}

void QemuDriver::domainReboot(const std::string& uuid, uint32_t flags)
{
    powerButton(uuid, flags, true, "qemuDomainReboot");
}

void QemuDriver::powerButton(const std::string& uuid, uint32_t flags, bool reboot, const char* function)
{
    checkFlags(flags, kModeAcpi | kModeAgent | kModeInitctl | kModeSignal | kModeParavirt, function);
    if (flags & (kModeInitctl | kModeSignal))
        throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu,
                        reboot ? "Unsupported reboot mode" : "Unsupported shutdown mode");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || (d->state != qemu::Running && d->state != qemu::Paused))
            throw notRunning();
        if (flags == kModeAgent)
            throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu, "QEMU guest agent is not configured");
        // libvirt's fake reboot: power the guest off, then reset and
        // continue instead of stopping; on_reboot=destroy just stops.
        const std::string& onReboot = d->live->onReboot;
        d->fakeReboot = reboot && onReboot != "destroy" && onReboot != "preserve";
        mon = d->mon;
    }
    mon->execute("system_powerdown");
}

void QemuDriver::domainReset(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainReset");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        mon = d->mon;
    }
    mon->execute("system_reset");
    std::lock_guard lock(mu_);
    if (d->state == qemu::Crashed) {
        d->state = qemu::Paused;
        d->reason = qemu::PausedCrashed;
    }
}

void QemuDriver::domainSuspend(const std::string& uuid)
{
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        if (d->state == qemu::Paused)
            return;
        mon = d->mon;
    }
    mon->execute("stop");
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        bool changed = d->state != qemu::Paused;
        d->state = qemu::Paused;
        d->reason = qemu::PausedUser;
        if (changed)
            emitLifecycle(*d, ev::Suspended, ev::SuspendedPaused);
    }
    writeStatus(*d);
}

void QemuDriver::domainResume(const std::string& uuid)
{
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        if (d->state == qemu::Crashed && d->reason == qemu::CrashedPanicked)
            throw err::operationInvalid("resuming after kernel panic is not supported");
        if (d->state != qemu::Paused && d->state != qemu::Crashed)
            return;
        mon = d->mon;
    }
    mon->execute("cont");
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        bool changed = d->state != qemu::Running;
        d->state = qemu::Running;
        d->reason = qemu::RunningUnpaused;
        if (changed)
            emitLifecycle(*d, ev::Resumed, ev::ResumedUnpaused);
    }
    writeStatus(*d);
}

} // namespace virtbus
