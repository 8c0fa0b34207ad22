// How block jobs end: QEMU's JOB_STATUS_CHANGE and BLOCK_JOB_* events
// (loop thread) mark a job ready or concluded; the conclusion is handled on
// the background thread: job-dismiss, the nodes a copy or pivot leaves
// behind, the disk's new source and backing chain in the live XML (and, as
// libvirt rewrites it, in the definition after a pivot), the status file,
// then the BlockJob signal.
#include "qemu/qemu_blockjob.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

void QemuDriver::blockJobEventLocked(const DomPtr& d, const qemu::QmpMessage& ev)
{
    const json::Value& data = ev.body;
    const std::string id = ev.event == "JOB_STATUS_CHANGE" ? data.str("id") : data.str("device");
    auto it = d->blockJobs.begin();
    while (it != d->blockJobs.end() && (it->second.id != id || it->second.runId != d->id))
        ++it;
    if (it == d->blockJobs.end())
        return;
    auto& j = it->second;
    const std::string target = it->first;
    std::string status = data.str("status");
    if (ev.event == "BLOCK_JOB_COMPLETED") {
        j.error = data.str("error");
    } else if (ev.event == "BLOCK_JOB_CANCELLED") {
        j.qemuCanceled = true;
    } else if ((ev.event == "BLOCK_JOB_READY" || status == "ready") && !j.ready) {
        j.ready = true;
        emitSignal(*d, sig::BlockJob {target, j.type, qemu::kJobReady});
    } else if (status == "concluded" && !j.finishing) {
        j.finishing = true;
        std::weak_ptr<Dom> w = d;
        background([this, w, target] {
            if (auto dd = w.lock())
                finishBlockJob(dd, target);
        });
    }
}

void QemuDriver::finishBlockJob(const DomPtr& d, const std::string& target)
{
    Dom::BlockJob j;
    std::shared_ptr<qemu::Monitor> mon;
    std::string alias;
    {
        std::lock_guard lock(mu_);
        auto it = d->blockJobs.find(target);
        if (it == d->blockJobs.end())
            return;
        j = it->second;
        if (!d->active() || !d->live || !d->mon || j.runId != d->id) {
            d->blockJobs.erase(it);
            d->blockJobEnded.notify_all();
            return;
        }
        mon = d->mon;
        if (auto* disk = qemu::findDisk(*d->live, target, false))
            alias = disk->info.alias;
    }
    // QEMU's own verdict, in case the completion event carried none.
    std::string error = j.error;
    try {
        json::Value jobs = mon->execute("query-jobs");
        if (jobs.isArray())
            for (const auto& q : jobs.asArray())
                if (q.str("id") == j.id && error.empty())
                    error = q.str("error");
    } catch (const std::exception&) { }
    int status;
    if (j.aborting || (j.qemuCanceled && !j.pivoting))
        status = qemu::kJobCanceled;
    else if (!error.empty() && error != "Operation canceled")
        status = qemu::kJobFailed;
    else if (j.qemuCanceled)
        status = qemu::kJobCanceled;
    else
        status = qemu::kJobCompleted;
    // Mirrors (copy, active commit) switch the disk only when pivoted.
    const bool mirror = j.type == qemu::kJobCopy || j.type == qemu::kJobActiveCommit;
    const bool switched = mirror && j.pivoting && status == qemu::kJobCompleted;
    auto drop = [&](const std::string& node) {
        if (node.empty())
            return;
        try {
            mon->execute("blockdev-del", json::Object {{"node-name", node}});
        } catch (const std::exception&) {
            // Still in use (an auto-opened backing image), or gone.
        }
    };
    try {
        mon->execute("job-dismiss", json::Object {{"id", j.id}});
    } catch (const std::exception&) { }
    if (switched) {
        drop(j.oldNode);
        drop(j.oldStorageNode);
    } else if (j.type == qemu::kJobCopy) {
        drop(j.destNode);
        drop(j.destStorageNode);
    }
    std::vector<qemu::Layer> chain;
    try {
        if (!alias.empty())
            chain = qemu::diskChain(*mon, alias);
    } catch (const std::exception&) { }
    bool saveDef = false;
    {
        std::lock_guard lock(mu_);
        if (d->active() && d->live && !chain.empty()) {
            if (auto* disk = qemu::findDisk(*d->live, target, false)) {
                disk->path = chain[0].path;
                disk->driverType = chain[0].format;
                disk->backingStore = qemu::backingStoreXML(chain, 1);
            }
            // libvirt rewrites the persistent disk's source after a pivot
            // when it still names the image the job started from.
            xml::DiskDef* cfg = d->persistent && d->def ? qemu::findDisk(*d->def, target, false) : nullptr;
            if (switched && cfg && cfg->path == j.topPath) {
                cfg->path = chain[0].path;
                cfg->driverType = chain[0].format;
                cfg->backingStore.clear();
                saveDef = true;
            }
        }
        d->blockJobs.erase(target);
        d->blockJobResults[target] = status;
        d->blockJobEnded.notify_all();
    }
    if (saveDef) {
        try {
            std::lock_guard lock(mu_);
            saveConfig(*d->def);
        } catch (const std::exception&) {
            // The live change stands; the next define rewrites the file.
        }
    }
    try {
        writeStatus(*d);
    } catch (const std::exception&) { }
    emitSignal(*d, sig::BlockJob {target, j.type, status});
}

void QemuDriver::refreshBackingChains(const DomPtr& d)
{
    std::shared_ptr<qemu::Monitor> mon;
    std::vector<std::pair<std::string, std::string>> disks; // target, alias
    {
        std::lock_guard lock(mu_);
        if (!d->live || !d->mon)
            return;
        mon = d->mon;
        for (const auto& disk : d->live->devices.disks)
            if (disk.hasSource && !disk.path.empty() && disk.device != "cdrom")
                disks.emplace_back(disk.targetDev, disk.info.alias);
    }
    for (const auto& [target, alias] : disks) {
        try {
            auto chain = qemu::diskChain(*mon, alias);
            std::lock_guard lock(mu_);
            xml::DiskDef* disk = d->live ? qemu::findDisk(*d->live, target, false) : nullptr;
            if (disk && !chain.empty() && disk->path == chain[0].path)
                disk->backingStore = qemu::backingStoreXML(chain, 1);
        } catch (const std::exception&) {
            // The XML then shows no chain; nothing depends on it.
        }
    }
}

} // namespace virtbus
