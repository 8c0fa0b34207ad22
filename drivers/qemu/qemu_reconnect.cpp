// Finding guests again after virtbusd restarts, and autostart.
#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "fileutil.h"
#include "qemu/qemu_caps.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

using namespace std::chrono_literals;
using qemu::QemuDomain;

void QemuDriver::start()
{
    reconnectAll();
    background([this] {
        // Probe every emulator once now, so the first define or start does
        // not pay for it and Version has an answer.
        for (const auto& bin : qemu::CapsCache::findEmulators()) {
            {
                std::lock_guard lock(bgMu_);
                if (bgStop_)
                    return;
            }
            try {
                auto caps = caps_->get(bin);
                if (!version_.load())
                    version_ = caps->version;
            } catch (const std::exception& e) {
                fprintf(stderr, "<4>qemu: cannot probe %s: %s\n", bin.c_str(), e.what());
            }
        }
        {
            std::lock_guard lock(bgMu_);
            if (bgStop_)
                return;
        }
        autostartAll();
    });
}

void QemuDriver::reconnectAll()
{
    DIR* dir = opendir(cfg_.stateDir.c_str());
    if (!dir)
        return;
    std::vector<std::string> names;
    while (dirent* e = readdir(dir)) {
        std::string f = e->d_name;
        if (f.size() > 7 && f.compare(f.size() - 7, 7, ".status") == 0 && f[0] != '.')
            names.push_back(f.substr(0, f.size() - 7));
    }
    closedir(dir);

    for (const auto& name : names) {
        std::string base = cfg_.stateDir + "/" + name;
        auto statusText = readFile(base + ".status");
        auto status = statusText ? qemu::parseStatus(*statusText) : std::nullopt;
        std::optional<xml::DomainDef> live;
        try {
            if (status)
                live = xml::parseDomainXML(status->liveXML);
        } catch (const std::exception& e) {
            fprintf(stderr, "<4>qemu: unreadable live state of '%s': %s\n", name.c_str(), e.what());
        }
        if (!status || !live || live->name != name) {
            fprintf(stderr, "<4>qemu: discarding incomplete runtime state of '%s'\n", name.c_str());
            removeStatus(name);
            continue;
        }
        DomPtr d;
        {
            std::lock_guard lock(mu_);
            auto it = byUuid_.find(live->uuid);
            if (it != byUuid_.end()) {
                d = it->second;
            } else {
                // A transient guest: it exists only while it runs.
                bool replaced;
                xml::DomainDef def = *live;
                try {
                    d = addDomain(std::move(def), false, &replaced);
                } catch (const std::exception& e) {
                    fprintf(stderr, "<4>qemu: cannot restore '%s': %s\n", name.c_str(), e.what());
                    continue;
                }
                d->persistent = false;
            }
        }
        std::lock_guard job(d->job);
        if (!reconnect(d)) {
            std::lock_guard lock(mu_);
            removeStatus(name);
            d->state = qemu::Shutoff;
            d->reason = qemu::ShutoffCrashed;
            emitLifecycle(*d, ev::Stopped, ev::StoppedFailed);
            if (!d->persistent)
                forgetLocked(*d);
        }
    }
    releaseStaleHost();
}

bool QemuDriver::reconnect(const DomPtr& d)
{
    std::string name, base;
    {
        std::lock_guard lock(mu_);
        name = d->name();
    }
    base = cfg_.stateDir + "/" + name;
    auto status = qemu::parseStatus(readFile(base + ".status").value_or(""));
    if (!status)
        return false;
    auto live = xml::parseDomainXML(status->liveXML);
    // The same process, not a recycled pid: start time and command line.
    if (qemu::processStartTime(status->pid) != status->startTime) {
        fprintf(stderr, "<5>qemu: guest '%s' (pid %d) is gone\n", name.c_str(), status->pid);
        return false;
    }
    std::string cmdline = qemu::processCmdline(status->pid);
    if (cmdline.find("guest=" + name) == std::string::npos) {
        fprintf(stderr, "<4>qemu: pid %d is not the QEMU of '%s'\n", status->pid, name.c_str());
        return false;
    }
    int pidfd = qemu::openPidfd(status->pid);
    if (pidfd < 0)
        return false;
    std::shared_ptr<qemu::Monitor> mon;
    qemu::json::Value st;
    try {
        mon = qemu::Monitor::connect(loop_, base + ".qmp", 5s, [pidfd] { return !qemu::pidfdExited(pidfd); });
        st = mon->execute("query-status");
    } catch (const std::exception& e) {
        // A QEMU we cannot control is of no use and would hold its disks:
        // libvirt stops it too.
        fprintf(stderr, "<4>qemu: cannot reconnect to '%s': %s; stopping it\n", name.c_str(), e.what());
        if (mon)
            mon->close();
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        ::close(pidfd);
        return false;
    }
    std::string runState = st.str("status");
    // What this run holds on the host, to give back when it stops.
    auto host = qemu::parseHostChanges(readFile(base + ".host").value_or(""));
    if (!host)
        fprintf(stderr, "<4>qemu: unreadable host changes of '%s'; they are not undone when it stops\n", name.c_str());
    {
        std::lock_guard lock(mu_);
        d->host = host.value_or(std::vector<qemu::HostChange> {});
        d->id = status->id;
        nextId_ = std::max(nextId_, status->id + 1);
        d->pid = status->pid;
        d->pidfd = pidfd;
        d->startTime = status->startTime;
        d->mon = mon;
        d->live = std::make_unique<xml::DomainDef>(std::move(live));
        d->autodestroy = status->autodestroy;
        d->starting = false;
        d->gotShutdown = runState == "shutdown";
        if (st.boolean("running")) {
            d->state = qemu::Running;
            d->reason = status->state == qemu::Running ? status->reason : qemu::RunningUnpaused;
        } else if (runState == "shutdown") {
            d->state = qemu::ShuttingDown;
            d->reason = 0;
        } else if (runState == "guest-panicked") {
            d->state = qemu::Crashed;
            d->reason = qemu::CrashedPanicked;
        } else {
            d->state = qemu::Paused;
            d->reason = status->state == qemu::Paused ? status->reason : qemu::PausedUnknown;
        }
    }
    attachMonitor(d);
    adoptBlockJobs(d);
    if (runState == "shutdown") {
        // The guest powered off while nobody watched: finish the job.
        std::lock_guard lock(mu_);
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, nullptr, 0);
    } else if (qemu::pidfdExited(pidfd)) {
        // It died between the checks and the watch: the watch reports it.
    }
    writeStatus(*d);
    fprintf(stderr, "<6>qemu: reconnected to '%s' (pid %d, %s)\n", name.c_str(), status->pid, runState.c_str());
    return true;
}

void QemuDriver::autostartAll()
{
    std::vector<DomPtr> todo;
    {
        std::lock_guard lock(mu_);
        for (const auto& [uuid, d] : byUuid_)
            if (d->persistent && d->autostart && !d->active())
                todo.push_back(d);
    }
    for (const auto& d : todo) {
        try {
            std::lock_guard job(d->job);
            {
                std::lock_guard lock(mu_);
                if (d->active())
                    continue;
            }
            if (!startFromManagedSave(d, 0))
                startProcess(d, 0, ev::StartedBooted);
        } catch (const std::exception& e) {
            fprintf(stderr, "<3>qemu: autostart of '%s' failed: %s\n", d->def->name.c_str(), e.what());
        }
    }
}

} // namespace virtbus
