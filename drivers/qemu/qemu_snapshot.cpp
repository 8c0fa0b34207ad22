// Domain snapshots of the QEMU driver: creation (internal through QMP jobs
// or qemu-img, external disk-only through overlay files), the tree and its
// lookups, and the metadata files that keep it across restarts
// (<configDir>/snapshot/<domain>/<snapshot>.xml, the current one marked
// <active>1</active>, as libvirt keeps them).
#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "fileutil.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"
#include "qemu/qemu_snapshot.h"
#include "qemu/qmp.h"
#include "snapshot_rules.h"

namespace virtbus {

using namespace snapshot;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kCreateAll
    = kRedefine | kCurrent | kNoMetadata | kHalt | kDiskOnly | kReuseExt | kQuiesce | kAtomic | kLive | kValidate;

// Snapshot names become file names ('/', "." and ".." are refused by the
// parser already).
void checkSnapshotName(const std::string& name)
{
    if (name.size() > 250)
        throw err::invalidArg("snapshot name is longer than 250 bytes");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f)
            throw err::xml("invalid snapshot name: control characters are not allowed");
}

// virDomainSnapshotAlignDisks for QEMU: every disk of the domain, in its
// order; disks without media or read-only are left out unless named.
void alignDisks(xml::SnapshotDef& snap, const xml::DomainDef& dom, const std::string& defaultMode)
{
    for (const auto& given : snap.disks)
        if (std::none_of(dom.devices.disks.begin(), dom.devices.disks.end(), [&](const xml::DiskDef& d) {
                return d.targetDev == given.name || (d.hasSource && d.path == given.name);
            }))
            throw err::configUnsupported("no disk named '" + given.name + "'");
    std::vector<xml::SnapshotDiskDef> disks;
    for (const auto& d : dom.devices.disks) {
        auto given = std::find_if(snap.disks.begin(), snap.disks.end(),
            [&](const xml::SnapshotDiskDef& s) { return s.name == d.targetDev || (d.hasSource && s.name == d.path); });
        xml::SnapshotDiskDef sd = given != snap.disks.end() ? *given : xml::SnapshotDiskDef {};
        sd.name = d.targetDev;
        bool empty = !d.hasSource || d.path.empty();
        if (sd.snapshot.empty())
            sd.snapshot = (empty || d.readonly) ? "no" : defaultMode;
        if (sd.snapshot == "external" && sd.sourceFile.empty()) {
            if (d.type != "file")
                throw err::configUnsupported("source for disk '" + d.targetDev
                    + "' is not a regular file; refusing to generate external snapshot name");
            sd.sourceFile = defaultOverlayName(d.path, snap.name);
        }
        disks.push_back(std::move(sd));
    }
    snap.disks = std::move(disks);
    snap.hasDisks = true;
}

uint64_t nextSeq(const Tree& tree)
{
    uint64_t seq = 0;
    for (const auto& [name, e] : tree)
        seq = std::max(seq, e.seq);
    return seq + 1;
}

} // namespace

// ---- metadata files ----

std::string QemuDriver::snapshotDir(const std::string& domain) const { return cfg_.configDir + "/snapshot/" + domain; }

void QemuDriver::saveSnapshotMeta(const Dom& d, const std::string& name)
{
    auto it = d.snapshots.find(name);
    if (it == d.snapshots.end())
        return;
    xml::SnapshotDef def = it->second.def;
    def.active = d.currentSnapshot == name;
    makeDirs(snapshotDir(d.name()), 0700, ErrDomain::Qemu);
    writeFileAtomic(snapshotDir(d.name()) + "/" + name + ".xml", xml::formatSnapshotXML(def),
        "cannot save the metadata of snapshot '" + name + "'", ErrDomain::Qemu);
}

void QemuDriver::deleteSnapshotMeta(const std::string& domain, const std::string& name)
{
    ::unlink((snapshotDir(domain) + "/" + name + ".xml").c_str());
    ::rmdir(snapshotDir(domain).c_str()); // only once empty
}

void QemuDriver::loadSnapshots()
{
    std::lock_guard lock(mu_);
    for (auto& [uuid, d] : byUuid_) {
        const std::string dirPath = snapshotDir(d->name());
        DIR* dir = opendir(dirPath.c_str());
        if (!dir)
            continue;
        std::vector<Entry> loaded;
        while (dirent* e = readdir(dir)) {
            std::string file = e->d_name;
            if (file.size() < 5 || file[0] == '.' || file.compare(file.size() - 4, 4, ".xml") != 0)
                continue;
            try {
                auto text = readFile(dirPath + "/" + file);
                if (!text)
                    throw systemError(ErrDomain::Qemu, "cannot read", errno);
                xml::SnapshotDef def = xml::parseSnapshotXML(*text, xml::SNAPSHOT_PARSE_REDEFINE);
                if (def.name + ".xml" != file)
                    throw err::xml("its name '" + def.name + "' does not match the file name");
                loaded.push_back({std::move(def), 0});
            } catch (const std::exception& ex) {
                fprintf(stderr, "virtbusd: ignoring snapshot metadata %s/%s: %s\n", dirPath.c_str(), file.c_str(),
                    ex.what());
            }
        }
        closedir(dir);
        std::sort(loaded.begin(), loaded.end(), [](const Entry& a, const Entry& b) {
            return std::pair(a.def.creationTime.value_or(0), a.def.name)
                < std::pair(b.def.creationTime.value_or(0), b.def.name);
        });
        for (auto& e : loaded) {
            if (e.def.active.value_or(false))
                d->currentSnapshot = e.def.name;
            e.def.active.reset();
            e.seq = nextSeq(d->snapshots);
            std::string name = e.def.name;
            d->snapshots.emplace(std::move(name), std::move(e));
        }
    }
}

std::vector<std::string> QemuDriver::dropSnapshotsLocked(Dom& d, uint32_t undefineFlags)
{
    constexpr uint32_t kUndefineSnapshotsMetadata = 2;
    std::vector<std::string> names;
    if (d.snapshots.empty())
        return names;
    if (!(undefineFlags & kUndefineSnapshotsMetadata))
        throw err::operationInvalid(
            "cannot delete inactive domain with " + std::to_string(d.snapshots.size()) + " snapshots");
    for (const auto& [name, e] : d.snapshots) {
        deleteSnapshotMeta(d.name(), name);
        names.push_back(name);
    }
    d.snapshots.clear();
    d.currentSnapshot.clear();
    if (sink())
        for (const auto& n : names)
            sink()->objectRemoved({ObjectType::DomainSnapshot, d.uuid(), n});
    return names;
}

// ---- creation ----

SnapshotRef QemuDriver::domainSnapshotCreateXML(const std::string& uuid, const std::string& xmlText, uint32_t flags)
{
    checkCreateFlags(flags, ErrDomain::DomainSnapshot);
    checkFlags(flags, kCreateAll, "qemuDomainSnapshotCreateXML");
    if ((flags & kQuiesce) && !(flags & kDiskOnly))
        throw flagRequires(
            "VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE", "VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY", ErrDomain::Qemu);
    if ((flags & kLive) && (flags & kRedefine))
        throw flagsExclusive("VIR_DOMAIN_SNAPSHOT_CREATE_LIVE", "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE", ErrDomain::Qemu);
    auto d = find(uuid);
    unsigned parseFlags = ((flags & kRedefine) ? xml::SNAPSHOT_PARSE_REDEFINE : 0u)
        | ((flags & kValidate) ? xml::SNAPSHOT_PARSE_VALIDATE : 0u);
    xml::SnapshotDef def = xml::parseSnapshotXML(xmlText, parseFlags);
    checkSnapshotName(def.name);
    std::lock_guard job(d->job);
    if (flags & kRedefine)
        return redefineSnapshot(d, std::move(def), flags);

    xml::DomainDef config, live;
    bool active, persistent;
    int state;
    {
        std::lock_guard lock(mu_);
        if (d->snapshots.count(def.name))
            throw err::operationFailed("domain moment " + def.name + " already exists");
        active = d->active();
        persistent = d->persistent;
        state = d->state;
        config = *d->def;
        if (active)
            live = *d->live;
    }
    if ((flags & kHalt) && !persistent)
        throw err::operationInvalid("cannot halt after transient domain snapshot");
    if (flags & kLive)
        throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
            "live snapshot creation is supported only during full system snapshots");
    const bool diskOnly = flags & kDiskOnly;
    if (def.memorySnapshot == "external")
        throw err::configUnsupported("external memory snapshots are not supported");
    if (diskOnly && !def.memorySnapshot.empty() && def.memorySnapshot != "no")
        throw err::xml("memory state cannot be saved with offline or disk-only snapshot");
    const xml::DomainDef& dom = active ? live : config;
    alignDisks(def, dom, diskOnly ? "external" : "internal");
    bool anyExternal = false, anyInternal = false;
    for (const auto& sd : def.disks) {
        anyExternal = anyExternal || sd.snapshot == "external";
        anyInternal = anyInternal || sd.snapshot == "internal";
        if (diskOnly && active && sd.snapshot == "internal")
            throw err::configUnsupported(
                "active qemu domains require external disk snapshots; disk " + sd.name + " requested internal");
    }
    // Internal memory with external disks would be a mix too.
    if ((anyInternal && anyExternal) || (active && !diskOnly && anyExternal))
        throw err::configUnsupported("mixing internal and external targets for a snapshot is not yet supported");
    if (flags & kQuiesce)
        throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu, "QEMU guest agent is not configured");

    def.state = diskOnly ? "disk-snapshot" : stateName(state);
    def.memorySnapshot = (active && !diskOnly) ? "internal" : "no";
    def.domain = config;

    if (anyExternal) {
        auto overlays = qemu::snap::planOverlays(dom, def, flags & kReuseExt);
        if (overlays.empty())
            throw err::configUnsupported("nothing selected for snapshot");
        std::shared_ptr<qemu::Monitor> mon;
        std::vector<const xml::DiskDef*> disks;
        for (const auto& o : overlays)
            disks.push_back(&dom.devices.disks[o.disk]);
        if (active) {
            std::lock_guard lock(mu_);
            mon = d->mon;
        }
        std::vector<std::string> tops;
        if (mon)
            tops = qemu::snap::topNodes(*mon, disks);
        const qemu::QemuUser user = qemu::resolveQemuUser(cfg_.user, cfg_.group);
        qemu::snap::createOverlays(overlays, active, active ? &user : nullptr);
        try {
            if (mon)
                qemu::snap::switchOverlays(*mon, overlays, tops);
        } catch (...) {
            qemu::snap::removeCreated(overlays);
            throw;
        }
        // From here the guest writes to the overlays: the definitions follow.
        {
            std::lock_guard lock(mu_);
            for (const auto& o : overlays) {
                const xml::DiskDef& old = dom.devices.disks[o.disk];
                for (auto* target : {d->live.get(), d->def.get()}) {
                    if (!target)
                        continue;
                    for (auto& disk : target->devices.disks)
                        if (disk.targetDev == old.targetDev && disk.path == old.path)
                            qemu::snap::pointAtOverlay(disk, o);
                }
            }
            if (d->persistent)
                saveConfig(*d->def);
        }
        // The live chain as QEMU now sees it (formats and all).
        if (mon)
            refreshBackingChains(d);
    } else {
        auto disks = qemu::snap::internalDisks(dom, def);
        if (disks.empty())
            throw err::configUnsupported("internal snapshots need a writable qcow2 disk");
        if (active) {
            std::shared_ptr<qemu::Monitor> mon;
            {
                std::lock_guard lock(mu_);
                mon = d->mon;
            }
            if (!mon)
                throw err::operationInvalid("domain is not running");
            qemu::snap::saveInternal(*mon, def.name, qemu::snap::topNodes(*mon, disks));
        } else {
            qemu::snap::qemuImgSnapshot('c', def.name, disks);
        }
    }
    if (active)
        writeStatus(*d);

    SnapshotRef ref {d->uuid(), def.name};
    if (!(flags & kNoMetadata)) {
        std::lock_guard lock(mu_);
        def.parent = d->currentSnapshot;
        std::string old = d->currentSnapshot, name = def.name;
        uint64_t seq = nextSeq(d->snapshots);
        d->snapshots[name] = Entry {std::move(def), seq};
        d->currentSnapshot = name;
        saveSnapshotMeta(*d, name);
        if (!old.empty())
            saveSnapshotMeta(*d, old);
    }
    if (!(flags & kNoMetadata) && sink())
        sink()->objectAdded({ObjectType::DomainSnapshot, ref.domainUuid, ref.name});
    if ((flags & kHalt) && active)
        stopForSnapshot(d);
    return ref;
}

SnapshotRef QemuDriver::redefineSnapshot(
    const std::shared_ptr<qemu::QemuDomain>& d, xml::SnapshotDef def, uint32_t flags)
{
    bool added;
    const std::string name = def.name;
    {
        std::lock_guard lock(mu_);
        if (!def.creationTime)
            throw makeError(
                ErrCode::InternalError, ErrDomain::DomainSnapshot, "missing creationTime from existing snapshot");
        if (def.state.empty())
            throw err::xml("missing state from existing snapshot");
        if (def.state == "shutoff" && !def.memorySnapshot.empty() && def.memorySnapshot != "no")
            throw err::xml("memory state cannot be saved with offline or disk-only snapshot");
        if (!def.domain)
            throw makeError(ErrCode::InternalError, ErrDomain::DomainSnapshot, "missing domain in snapshot");
        if (def.domain->uuid != d->uuid())
            throw err::invalidArg("definition for snapshot " + def.name + " must use uuid " + d->uuid());
        checkRedefineParent(d->snapshots, def);
        if (!def.hasDisks)
            alignDisks(def, *def.domain, def.state == "disk-snapshot" ? "external" : "internal");
        def.active.reset();
        auto existing = d->snapshots.find(name);
        added = existing == d->snapshots.end();
        if (added) {
            uint64_t seq = nextSeq(d->snapshots);
            d->snapshots[name] = Entry {std::move(def), seq};
        } else {
            existing->second.def = std::move(def);
        }
        std::string old = d->currentSnapshot;
        if (flags & kCurrent)
            d->currentSnapshot = name;
        saveSnapshotMeta(*d, name);
        if (!old.empty() && old != name && d->currentSnapshot != old)
            saveSnapshotMeta(*d, old);
    }
    if (added && sink())
        sink()->objectAdded({ObjectType::DomainSnapshot, d->uuid(), name});
    return {d->uuid(), name};
}

} // namespace virtbus
