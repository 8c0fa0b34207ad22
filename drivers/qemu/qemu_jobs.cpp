// The domain jobs that stream guest memory into a file (save, core dump)
// and the calls that watch or cancel them. The worker running a job holds
// the domain's job mutex for its whole length; GetJobInfo, GetJobStats and
// AbortJob never take it: they find the job in d->asyncJob (under mu_)
// and ask QEMU themselves, on the same monitor, which answers commands
// from several threads.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_jobs.h"
#include "qemu/qmp.h"

namespace virtbus {

using namespace std::chrono_literals;
namespace json = qemu::json;

namespace {

constexpr uint32_t kJobStatsCompleted = 1, kJobStatsKeepCompleted = 2;
constexpr const char* kJobFd = "virtbus-job";

VirtError notRunning() { return makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running"); }

// What QEMU may spend on a save: unlimited, as for any file target,
// unless VIRTBUS_QEMU_SAVE_MAX_BANDWIDTH (MiB/s) says otherwise (hosts
// whose disks a save must not saturate; the tests, to watch a slow one).
uint64_t saveBandwidth()
{
    constexpr uint64_t kMiB = 1024 * 1024;
    if (const char* env = getenv("VIRTBUS_QEMU_SAVE_MAX_BANDWIDTH"); env && *env) {
        char* end = nullptr;
        unsigned long long mib = strtoull(env, &end, 10);
        if (end && *end == '\0' && mib > 0 && mib < (1ull << 40))
            return mib * kMiB;
    }
    return static_cast<uint64_t>(INT64_MAX) / kMiB * kMiB;
}

// VIR_ERR_OPERATION_ABORTED (78), libvirt's "operation aborted: ..." text.
VirtError aborted(const std::string& jobName)
{
    return VirtError(
        static_cast<ErrCode>(78), ErrDomain::Qemu, "operation aborted: " + jobName + ": canceled by client");
}

void put(TypedParams& p, const char* name, uint64_t v) { p.push_back({name, v}); }

} // namespace

namespace qemu {

uint64_t jobElapsedMs(const AsyncJob& job)
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - job.started).count());
}

TypedParams jobStatsFrom(const AsyncJob& job, const json::Value* reply)
{
    TypedParams p;
    p.push_back({"operation", int32_t(job.operation)});
    put(p, "time_elapsed", jobElapsedMs(job));
    if (!reply || !reply->isObject())
        return p;
    auto u = [](const json::Value& o, const char* key) {
        return static_cast<uint64_t>(std::max<int64_t>(0, o.integer(key)));
    };
    if (job.memoryOnly) {
        uint64_t total = u(*reply, "total"), done = std::min(u(*reply, "completed"), total);
        for (const char* prefix : {"data", "memory"}) {
            put(p, (std::string(prefix) + "_total").c_str(), total);
            put(p, (std::string(prefix) + "_processed").c_str(), done);
            put(p, (std::string(prefix) + "_remaining").c_str(), total - done);
        }
        return p;
    }
    if (reply->find("setup-time"))
        put(p, "setup_time", u(*reply, "setup-time"));
    if (reply->str("status") == "completed" && reply->find("downtime"))
        put(p, "downtime", u(*reply, "downtime"));
    const json::Value* ram = reply->find("ram");
    if (!ram || !ram->isObject())
        return p;
    // No disks travel with a save: all data is memory.
    uint64_t total = u(*ram, "total"), done = u(*ram, "transferred"), left = u(*ram, "remaining");
    put(p, "data_total", total);
    put(p, "data_processed", done);
    put(p, "data_remaining", left);
    put(p, "memory_total", total);
    put(p, "memory_processed", done);
    put(p, "memory_remaining", left);
    put(p, "memory_constant", u(*ram, "duplicate"));
    put(p, "memory_normal", u(*ram, "normal"));
    put(p, "memory_normal_bytes", u(*ram, "normal-bytes"));
    if (const json::Value* mbps = ram->find("mbps"); mbps && mbps->isNumber())
        put(p, "memory_bps", static_cast<uint64_t>(mbps->asDouble() * 1000 * 1000 / 8));
    put(p, "memory_dirty_rate", u(*ram, "dirty-pages-rate"));
    put(p, "memory_page_size", u(*ram, "page-size"));
    put(p, "memory_iteration", u(*ram, "dirty-sync-count"));
    put(p, "memory_postcopy_requests", u(*ram, "postcopy-requests"));
    return p;
}

} // namespace qemu

void QemuDriver::runFileJob(const DomPtr& d, int operation, int fd, const std::string& dumpFormat)
{
    auto job = std::make_shared<qemu::AsyncJob>();
    job->operation = operation;
    job->memoryOnly = !dumpFormat.empty();
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        job->mon = d->mon;
        d->asyncJob = job;
        d->completedJob.reset();
    }
    const std::string jobName = operation == qemu::JobOpSave ? "domain save job" : "domain core dump job";
    json::Value last;
    auto finish = [&](int type, const std::string& error) {
        std::lock_guard lock(mu_);
        job->type = type;
        job->stats = qemu::jobStatsFrom(*job, last.isObject() ? &last : nullptr);
        job->stats.push_back({"success", type == qemu::JobCompleted});
        if (!error.empty())
            job->stats.push_back({"errmsg", error});
        d->asyncJob.reset();
        d->completedJob = job;
    };
    qemu::Monitor& mon = *job->mon;
    try {
        try {
            if (!job->memoryOnly)
                mon.execute("migrate-set-parameters", json::Object {{"max-bandwidth", json::Value(saveBandwidth())}});
            mon.executeWithFd("getfd", json::Object {{"fdname", kJobFd}}, fd);
            try {
                if (job->memoryOnly)
                    mon.execute("dump-guest-memory",
                        json::Object {{"paging", false}, {"protocol", std::string("fd:") + kJobFd}, {"detach", true},
                            {"format", dumpFormat}});
                else if (!job->cancelled)
                    mon.execute("migrate", json::Object {{"uri", std::string("fd:") + kJobFd}});
            } catch (const qemu::QmpError&) {
                try {
                    mon.execute("closefd", json::Object {{"fdname", kJobFd}});
                } catch (const std::exception&) { }
                throw;
            }
            if (job->cancelled)
                throw aborted(jobName);
            // AbortJob may have come between "migrate" and now, when there
            // was nothing to cancel yet: cancel again.
            auto delay = 5ms;
            for (;;) {
                last = mon.execute(job->memoryOnly ? "query-dump" : "query-migrate");
                std::string status = last.str("status");
                if (status == "completed")
                    break;
                if (status == "cancelled" || status == "cancelling" || job->cancelled) {
                    if (status != "cancelled") {
                        if (!job->memoryOnly && status != "cancelling")
                            mon.execute("migrate_cancel");
                        std::this_thread::sleep_for(delay);
                        continue;
                    }
                    throw aborted(jobName);
                }
                if (status == "failed" || status == "none") {
                    std::string why = last.str("error-desc", last.str("error", "unexpectedly failed"));
                    throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu, jobName + ": " + why);
                }
                std::this_thread::sleep_for(delay);
                delay = std::min(delay * 2, std::chrono::milliseconds(25));
            }
        } catch (const qemu::QmpError& e) {
            throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu, jobName + ": " + e.desc);
        } catch (const qemu::MonitorClosed&) {
            throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu, jobName + ": QEMU exited");
        }
    } catch (const VirtError& e) {
        finish(job->cancelled ? qemu::JobCancelled : qemu::JobFailed, e.what());
        throw;
    }
    finish(qemu::JobCompleted, "");
}

bool QemuDriver::pauseForJob(const DomPtr& d, int pausedReason)
{
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        if (d->state != qemu::Running)
            return false;
        // Set first: the STOP event that follows is then no news.
        d->state = qemu::Paused;
        d->reason = pausedReason;
        mon = d->mon;
    }
    try {
        mon->execute("stop");
    } catch (...) {
        std::lock_guard lock(mu_);
        if (d->active() && d->state == qemu::Paused && d->reason == pausedReason)
            d->state = qemu::Running;
        throw;
    }
    {
        std::lock_guard lock(mu_);
        emitLifecycle(*d, ev::Suspended, ev::SuspendedPaused);
    }
    writeStatus(*d);
    return true;
}

void QemuDriver::resumeAfterJob(const DomPtr& d, int runningReason)
{
    std::shared_ptr<qemu::Monitor> mon;
    int oldReason;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || d->state != qemu::Paused)
            return;
        oldReason = d->reason;
        d->state = qemu::Running;
        d->reason = runningReason;
        mon = d->mon;
    }
    try {
        mon->execute("cont");
    } catch (const std::exception&) {
        std::lock_guard lock(mu_);
        if (d->active()) {
            d->state = qemu::Paused;
            d->reason = oldReason;
        }
        return; // the job's own error is what the caller reports
    }
    {
        std::lock_guard lock(mu_);
        emitLifecycle(*d, ev::Resumed, ev::ResumedUnpaused);
    }
    writeStatus(*d);
}

void QemuDriver::stopAfterJob(const DomPtr& d, int detail, int reason)
{
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            return;
        d->exitDetail = detail;
        d->exitReason = reason;
        if (d->pidfd >= 0)
            ::syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, nullptr, 0);
    }
    if (!waitStopped(d, 10s))
        throw err::internal("QEMU of domain '" + d->name() + "' did not stop");
}

// ---- the API ----

std::tuple<int32_t, TypedParams> QemuDriver::domainGetJobStats(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kJobStatsCompleted | kJobStatsKeepCompleted, "qemuDomainGetJobStats");
    auto d = find(uuid);
    std::shared_ptr<qemu::AsyncJob> job;
    {
        std::lock_guard lock(mu_);
        if (flags & kJobStatsCompleted) {
            if (!d->completedJob)
                return {qemu::JobNone, {}};
            std::tuple<int32_t, TypedParams> out {d->completedJob->type, d->completedJob->stats};
            if (!(flags & kJobStatsKeepCompleted))
                d->completedJob.reset();
            return out;
        }
        if (!d->active())
            throw notRunning();
        job = d->asyncJob;
    }
    if (!job)
        return {qemu::JobNone, {}};
    json::Value reply;
    try {
        reply = job->mon->execute(job->memoryOnly ? "query-dump" : "query-migrate", {}, 5s);
    } catch (const std::exception&) {
        // The job is ending (QEMU gone or busy): what is known without it.
    }
    return {qemu::JobUnbounded, qemu::jobStatsFrom(*job, reply.isObject() ? &reply : nullptr)};
}

JobInfo QemuDriver::domainGetJobInfo(const std::string& uuid)
{
    // Not a structured binding: clang's C++20 cannot capture one.
    auto stats = domainGetJobStats(uuid, 0);
    int32_t type = std::get<0>(stats);
    const TypedParams& p = std::get<1>(stats);
    auto get = [&p](const char* name) -> uint64_t {
        const ParamValue* v = findParam(p, name);
        return v ? paramAsUnsigned(*v).value_or(0) : 0;
    };
    return {type, get("time_elapsed"), get("time_remaining"), get("data_total"), get("data_processed"),
        get("data_remaining"), get("memory_total"), get("memory_processed"), get("memory_remaining"), get("disk_total"),
        get("disk_processed"), get("disk_remaining")};
}

void QemuDriver::domainAbortJob(const std::string& uuid)
{
    auto d = find(uuid);
    std::shared_ptr<qemu::AsyncJob> job;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw notRunning();
        job = d->asyncJob;
        if (!job)
            throw err::operationInvalid("no job is active on the domain");
        if (job->memoryOnly)
            throw err::operationInvalid("cannot abort memory-only dump");
        job->cancelled = true;
    }
    try {
        job->mon->execute("migrate_cancel");
    } catch (const qemu::MonitorClosed&) {
        throw notRunning();
    }
}

} // namespace virtbus
