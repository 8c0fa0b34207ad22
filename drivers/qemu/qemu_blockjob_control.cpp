// Block job control: abort (cancel, or pivot with job-complete), speed,
// progress, and the disk lookup every block operation starts with.
// libvirt's checks and texts (qemuDomainBlockJobAbort,
// qemuDomainBlockJobSetSpeed, qemuDomainGetBlockJobInfo).
#include <cstring>

#include "qemu/qemu_blockjob.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kAbortAsync = 1, kAbortPivot = 2; // virDomainBlockJobAbortFlags
// VIR_ERR_BLOCK_COPY_ACTIVE, with its prefix in the message.
constexpr ErrCode kBlockCopyActive = static_cast<ErrCode>(83);
constexpr uint32_t kSpeedBytes = 1; // VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES, ..._INFO_BANDWIDTH_BYTES

const char* typeName(int type)
{
    switch (type) {
    case qemu::kJobPull: return "pull";
    case qemu::kJobCopy: return "copy";
    case qemu::kJobCommit: return "commit";
    case qemu::kJobActiveCommit: return "active-commit";
    }
    return "unknown";
}

VirtError noJob(const std::string& target)
{
    return err::operationInvalid("disk " + target + " does not have an active block job");
}

// Drops the jobs of an earlier run of the domain (mu_ held).
void pruneJobs(qemu::QemuDomain& d)
{
    std::erase_if(d.blockJobs, [&](const auto& j) { return j.second.runId != d.id; });
}

} // namespace

qemu::BlockDisk QemuDriver::blockDisk(const DomPtr& d, const std::string& name, bool idle)
{
    std::lock_guard lock(mu_);
    if (!d->active() || !d->live || !d->mon)
        throw err::operationInvalid("domain is not running");
    xml::DiskDef* disk = qemu::findDisk(*d->live, name, true);
    if (!disk)
        throw qemu::diskNotFound(name);
    pruneJobs(*d);
    if (idle && d->blockJobs.count(disk->targetDev))
        throw qemu::diskBusy(disk->targetDev);
    return {d->mon, disk->targetDev, disk->info.alias, disk->path, disk->driverType.empty() ? "raw" : disk->driverType};
}

void QemuDriver::domainBlockJobAbort(const std::string& uuid, const std::string& name, uint32_t flags)
{
    checkFlags(flags, kAbortAsync | kAbortPivot, "qemuDomainBlockJobAbort");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    qemu::BlockDisk disk = blockDisk(d, name, false);
    std::string id;
    bool alreadyEnding;
    {
        std::lock_guard lock(mu_);
        auto it = d->blockJobs.find(disk.target);
        if (it == d->blockJobs.end())
            throw noJob(disk.target);
        auto& j = it->second;
        id = j.id;
        alreadyEnding = j.finishing || j.aborting || j.pivoting;
        if ((flags & kAbortPivot) && !alreadyEnding) {
            if (!j.ready)
                throw VirtError(kBlockCopyActive, ErrDomain::Qemu,
                    "block copy still active: block job '" + id + "' not ready for pivot yet");
            if (j.type != qemu::kJobCopy && j.type != qemu::kJobActiveCommit)
                throw err::operationInvalid(std::string("job type '") + typeName(j.type) + "' does not support pivot");
            j.pivoting = true;
        } else if (!alreadyEnding) {
            j.aborting = true;
        }
        d->blockJobResults.erase(disk.target);
    }
    if (!alreadyEnding) {
        try {
            if (flags & kAbortPivot)
                qemu::qmpCall(*disk.mon, "job-complete", json::Object {{"id", id}});
            else
                qemu::qmpCall(*disk.mon, "block-job-cancel", json::Object {{"device", id}, {"force", false}});
        } catch (...) {
            std::lock_guard lock(mu_);
            if (auto it = d->blockJobs.find(disk.target); it != d->blockJobs.end())
                it->second.pivoting = it->second.aborting = false;
            throw;
        }
    }
    if (flags & kAbortAsync)
        return;
    // libvirt waits for the job to be gone; so does a synchronous abort here.
    std::unique_lock lock(mu_);
    auto gone = [&] {
        auto it = d->blockJobs.find(disk.target);
        return !d->active() || it == d->blockJobs.end() || it->second.id != id;
    };
    // In slices: a guest that dies meanwhile ends the wait without a notify.
    auto deadline = std::chrono::steady_clock::now() + 10min;
    while (!d->blockJobEnded.wait_for(lock, 1s, gone))
        if (std::chrono::steady_clock::now() > deadline)
            throw err::operationFailed("block job '" + id + "' did not end");
    auto r = d->blockJobResults.find(disk.target);
    if ((flags & kAbortPivot) && r != d->blockJobResults.end() && r->second == qemu::kJobFailed)
        throw err::operationFailed("block job '" + id + "' failed while pivoting");
}

void QemuDriver::domainBlockJobSetSpeed(
    const std::string& uuid, const std::string& name, uint64_t bandwidth, uint32_t flags)
{
    checkFlags(flags, kSpeedBytes, "qemuDomainBlockJobSetSpeed");
    uint64_t bytes = (flags & kSpeedBytes) ? bandwidth : qemu::mebibytesToBytes(bandwidth);
    auto d = find(uuid);
    std::lock_guard job(d->job);
    qemu::BlockDisk disk = blockDisk(d, name, false);
    std::string id;
    {
        std::lock_guard lock(mu_);
        auto it = d->blockJobs.find(disk.target);
        if (it == d->blockJobs.end())
            throw noJob(disk.target);
        id = it->second.id;
    }
    qemu::qmpCall(*disk.mon, "block-job-set-speed", json::Object {{"device", id}, {"speed", bytes}});
}

BlockJobInfo QemuDriver::domainGetBlockJobInfo(const std::string& uuid, const std::string& name, uint32_t flags)
{
    checkFlags(flags, kSpeedBytes, "qemuDomainGetBlockJobInfo");
    auto d = find(uuid);
    // No domain job: a synchronous abort holds it while it waits, and
    // this only reads.
    qemu::BlockDisk disk = blockDisk(d, name, false);
    std::string id;
    int type;
    {
        std::lock_guard lock(mu_);
        auto it = d->blockJobs.find(disk.target);
        if (it == d->blockJobs.end())
            return {0, 0, 0, 0};
        id = it->second.id;
        type = it->second.type;
    }
    json::Value jobs = qemu::qmpCall(*disk.mon, "query-block-jobs");
    if (!jobs.isArray())
        return {0, 0, 0, 0};
    for (const auto& j : jobs.asArray()) {
        if (j.str("device") != id)
            continue;
        uint64_t cur = uint64_t(j.integer("offset")), end = uint64_t(j.integer("len"));
        uint64_t speed = uint64_t(j.integer("speed"));
        bool ready = j.boolean("ready");
        // libvirt's rules: cur == end only once the job is ready.
        if (cur == 0 && end == 0 && j.find("ready")) {
            end = 1;
            cur = ready ? 1 : 0;
        }
        if (!ready && cur == end && cur > 0 && (type == qemu::kJobCopy || type == qemu::kJobActiveCommit))
            --cur;
        if (!(flags & kSpeedBytes))
            speed = (speed + (1u << 20) - 1) >> 20;
        return {type, speed, cur, end};
    }
    return {0, 0, 0, 0};
}

void QemuDriver::adoptBlockJobs(const DomPtr& d)
{
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        mon = d->mon;
    }
    json::Value jobs;
    try {
        jobs = mon->execute("query-block-jobs");
    } catch (const std::exception&) {
        return;
    }
    if (!jobs.isArray() || jobs.asArray().empty())
        return;
    std::vector<std::string> copyTargets;
    try {
        copyTargets = qemu::unusedCopyTargets(*mon);
    } catch (const std::exception&) { }
    static const std::pair<const char*, int> kinds[] = {{"active-commit-", qemu::kJobActiveCommit},
        {"commit-", qemu::kJobCommit}, {"pull-", qemu::kJobPull}, {"copy-", qemu::kJobCopy}};
    for (const auto& q : jobs.asArray()) {
        const std::string id = q.str("device");
        for (const auto& [prefix, type] : kinds) {
            if (!id.starts_with(prefix))
                continue;
            const std::string target = id.substr(std::strlen(prefix));
            std::lock_guard lock(mu_);
            xml::DiskDef* disk = d->live ? qemu::findDisk(*d->live, target, false) : nullptr;
            if (!disk || d->blockJobs.count(target))
                break;
            Dom::BlockJob j;
            j.id = id;
            j.type = type;
            j.runId = d->id;
            j.topPath = disk->path;
            j.ready = q.boolean("ready");
            j.finishing = q.str("status") == "concluded";
            // A copy's target: the copy node no disk runs on (one copy per
            // disk, and a finished copy's target is deleted).
            if (type == qemu::kJobCopy && copyTargets.size() == 1) {
                j.destNode = copyTargets[0];
                j.destStorageNode = copyTargets[0].substr(0, copyTargets[0].size() - 7) + "-storage";
            }
            d->blockJobs[target] = j;
            if (j.finishing) {
                std::weak_ptr<Dom> w = d;
                background([this, w, target] {
                    if (auto dd = w.lock())
                        finishBlockJob(dd, target);
                });
            }
            break;
        }
    }
}

} // namespace virtbus
