// The data side of snapshots: QMP snapshot jobs on a running guest,
// qemu-img on a shut-off one, and the overlay files of external snapshots.
#include "qemu/qemu_snapshot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

#include "command.h"
#include "fileutil.h"
#include "qemu/json.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"
#include "xml/xml_util.h"

namespace virtbus::qemu::snap {

using namespace std::chrono_literals;

namespace {

std::string formatOf(const xml::DiskDef& d) { return d.driverType.empty() ? "raw" : d.driverType; }

bool isBlock(const std::string& path)
{
    struct stat st { };
    return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

// Starts a snapshot-* job, polls query-jobs until it concluded (the job's
// own state, not an event that might be missed), dismisses it, and turns
// its error into libvirt's wording.
void runJob(Monitor& mon, const std::string& cmd, json::Value args, const std::string& failure)
{
    static std::atomic<unsigned> seq {0};
    const std::string id = "virtbus-snapshot-" + std::to_string(++seq);
    args.set("job-id", id);
    try {
        mon.execute(cmd, args);
    } catch (const QmpError& e) {
        throw err::operationFailed(failure + ": " + e.desc);
    }
    auto deadline = std::chrono::steady_clock::now() + 30min;
    auto pause = 2ms;
    while (true) {
        json::Value jobs = mon.execute("query-jobs");
        const json::Value* job = nullptr;
        for (const auto& j : jobs.asArray())
            if (j.str("id") == id)
                job = &j;
        if (!job)
            throw err::internal("QEMU lost the " + cmd + " job '" + id + "'");
        if (job->str("status") == "concluded") {
            std::string error = job->str("error");
            mon.execute("job-dismiss", json::Object {{"id", id}});
            if (!error.empty())
                throw err::operationFailed(failure + ": " + error);
            return;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw err::operationFailed(failure + ": the " + cmd + " job did not finish");
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::milliseconds>(pause * 2, 50ms);
    }
}

json::Value nodeArray(const std::vector<std::string>& nodes)
{
    json::Array a;
    for (const auto& n : nodes)
        a.emplace_back(n);
    return a;
}

std::string randomNodeName()
{
    static std::mt19937 rng {std::random_device {}()};
    static std::mutex mu;
    std::lock_guard lock(mu);
    char buf[16];
    snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rng()));
    return std::string("snap-") + buf;
}

} // namespace

std::vector<const xml::DiskDef*> internalDisks(const xml::DomainDef& dom, const xml::SnapshotDef& def)
{
    std::vector<const xml::DiskDef*> out;
    for (const auto& sd : def.disks) {
        if (sd.snapshot != "internal")
            continue;
        for (const auto& d : dom.devices.disks) {
            if (d.targetDev != sd.name)
                continue;
            if (formatOf(d) != "qcow2")
                throw err::configUnsupported(
                    "internal snapshot for disk " + d.targetDev + " unsupported for storage type " + formatOf(d));
            out.push_back(&d);
        }
    }
    return out;
}

std::vector<std::string> topNodes(Monitor& mon, const std::vector<const xml::DiskDef*>& disks)
{
    json::Value blocks = mon.execute("query-block");
    std::vector<std::string> out;
    for (const xml::DiskDef* d : disks) {
        const std::string dev = "/machine/peripheral/" + d->info.alias;
        std::string node;
        for (const auto& b : blocks.asArray()) {
            std::string qdev = b.str("qdev");
            if (qdev != d->info.alias && qdev != dev && qdev.rfind(dev + "/", 0) != 0)
                continue;
            if (const json::Value* ins = b.find("inserted"))
                node = ins->str("node-name");
        }
        if (node.empty())
            throw err::internal("cannot find the block node of disk '" + d->targetDev + "'");
        out.push_back(node);
    }
    return out;
}

void saveInternal(Monitor& mon, const std::string& tag, const std::vector<std::string>& nodes)
{
    runJob(mon, "snapshot-save", json::Object {{"tag", tag}, {"vmstate", nodes.front()}, {"devices", nodeArray(nodes)}},
        "Failed to take snapshot");
}

void loadInternal(Monitor& mon, const std::string& tag, const std::vector<std::string>& nodes)
{
    runJob(mon, "snapshot-load", json::Object {{"tag", tag}, {"vmstate", nodes.front()}, {"devices", nodeArray(nodes)}},
        "Failed to load snapshot");
}

void deleteInternal(Monitor& mon, const std::string& tag, const std::vector<std::string>& nodes)
{
    runJob(mon, "snapshot-delete", json::Object {{"tag", tag}, {"devices", nodeArray(nodes)}},
        "Failed to delete snapshot");
}

void qemuImgSnapshot(char op, const std::string& tag, const std::vector<const xml::DiskDef*>& disks)
{
    std::vector<const xml::DiskDef*> done;
    for (const xml::DiskDef* d : disks) {
        try {
            runChecked({"qemu-img", "snapshot", std::string("-") + op, tag, d->path}, ErrDomain::Qemu);
            done.push_back(d);
        } catch (const VirtError&) {
            if (op == 'd')
                continue; // best effort: the rest still go
            if (op == 'c')
                for (const xml::DiskDef* u : done)
                    runCommand({"qemu-img", "snapshot", "-d", tag, u->path});
            throw;
        }
    }
}

std::vector<Overlay> planOverlays(const xml::DomainDef& dom, const xml::SnapshotDef& def, bool reuse)
{
    std::vector<Overlay> out;
    for (size_t i = 0; i < dom.devices.disks.size(); ++i) {
        const xml::DiskDef& d = dom.devices.disks[i];
        for (const auto& sd : def.disks) {
            if (sd.name != d.targetDev || sd.snapshot != "external")
                continue;
            if (d.type != "file" && d.type != "block")
                throw err::configUnsupported(
                    "external snapshot of disk '" + d.targetDev + "' of type '" + d.type + "' is not supported");
            if (!sd.driverType.empty() && sd.driverType != "qcow2")
                throw err::configUnsupported(
                    "external snapshot format for disk " + d.targetDev + " is unsupported: " + sd.driverType);
            if (sd.sourceFile.empty() || sd.sourceFile.front() != '/')
                throw err::configUnsupported(
                    "external snapshot file for disk " + d.targetDev + " must use absolute path");
            struct stat st { };
            bool exists = ::stat(sd.sourceFile.c_str(), &st) == 0;
            if (!reuse && exists && !S_ISBLK(st.st_mode))
                throw err::configUnsupported("external snapshot file for disk " + d.targetDev
                    + " already exists and is not a block device: " + sd.sourceFile);
            if (reuse && !exists)
                throw systemError(
                    ErrDomain::Qemu, "unable to stat for disk " + d.targetDev + ": " + sd.sourceFile, errno);
            for (const Overlay& o : out)
                if (o.path == sd.sourceFile)
                    throw err::configUnsupported("cannot create snapshot: disk " + d.targetDev
                        + " and another disk use the same file " + o.path);
            out.push_back({i, sd.sourceFile, d.path, formatOf(d), false});
        }
    }
    return out;
}

void removeCreated(const std::vector<Overlay>& overlays)
{
    for (const Overlay& o : overlays)
        if (o.created)
            ::unlink(o.path.c_str());
}

void createOverlays(std::vector<Overlay>& overlays, bool live, const QemuUser* owner)
{
    try {
        for (Overlay& o : overlays) {
            if (isBlock(o.path))
                continue; // an existing block device is formatted as is (libvirt does the same)
            std::vector<std::string> argv {
                "qemu-img", "create", "-f", "qcow2", "-F", o.backingFormat, "-b", o.backingPath};
            if (live) {
                // The running QEMU holds the image's write lock: read its
                // size with force-share and keep qemu-img from opening it.
                auto info = runChecked(
                    {"qemu-img", "info", "-U", "--output=json", "-f", o.backingFormat, o.backingPath}, ErrDomain::Qemu);
                int64_t size = json::parse(info.out).integer("virtual-size", -1);
                if (size <= 0)
                    throw err::internal("cannot read the size of '" + o.backingPath + "'");
                argv.insert(argv.end(), {"-u", o.path, std::to_string(size)});
            } else {
                argv.push_back(o.path);
            }
            runChecked(argv, ErrDomain::Qemu);
            o.created = true;
            if (owner && owner->switches() && ::chown(o.path.c_str(), owner->uid, owner->gid) != 0)
                throw systemError(ErrDomain::Qemu, "cannot give '" + o.path + "' to " + owner->name, errno);
        }
    } catch (...) {
        removeCreated(overlays);
        throw;
    }
}

void switchOverlays(Monitor& mon, const std::vector<Overlay>& overlays, const std::vector<std::string>& tops)
{
    std::vector<std::string> added;
    try {
        json::Array actions;
        for (size_t i = 0; i < overlays.size(); ++i) {
            const Overlay& o = overlays[i];
            std::string node = randomNodeName();
            json::Value file
                = json::Object {{"driver", isBlock(o.path) ? "host_device" : "file"}, {"filename", o.path}};
            mon.execute("blockdev-add",
                json::Object {{"driver", "qcow2"}, {"node-name", node}, {"file", file}, {"backing", nullptr}});
            added.push_back(node);
            actions.emplace_back(json::Object {
                {"type", "blockdev-snapshot"}, {"data", json::Object {{"node", tops[i]}, {"overlay", node}}}});
        }
        mon.execute("transaction", json::Object {{"actions", actions}});
    } catch (const QmpError& e) {
        for (const auto& node : added) {
            try {
                mon.execute("blockdev-del", json::Object {{"node-name", node}});
            } catch (const std::exception&) { }
        }
        throw err::operationFailed(std::string("cannot switch to the snapshot overlays: ") + e.desc);
    }
}

void pointAtOverlay(xml::DiskDef& disk, const Overlay& o)
{
    bool wasBlock = disk.type == "block";
    std::string chain = std::string("<backingStore type='") + (wasBlock ? "block" : "file") + "'><format type='"
        + xml::escapeAttr(o.backingFormat) + "'/><source " + (wasBlock ? "dev" : "file") + "='"
        + xml::escapeAttr(o.backingPath) + "'/>" + disk.backingStore + "</backingStore>";
    disk.backingStore = chain;
    disk.type = isBlock(o.path) ? "block" : "file";
    disk.path = o.path;
    disk.driverType = "qcow2";
}

} // namespace virtbus::qemu::snap
