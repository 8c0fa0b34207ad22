// Domain snapshots: a tree per domain (each snapshot names its parent), a
// current snapshot, libvirt's list filters, and revert with the events
// libvirt 9.0's test driver emits.
#include "test/test_internal.h"

#include "snapshot_rules.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>

namespace virtbus {

using namespace testdrv;

namespace {

using namespace snapshot;

void checkSnapshotName(const std::string& name)
{
    checkNameLength(name, "snapshot name");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f)
            throw err::xml("invalid snapshot name: control characters are not allowed");
}

// virDomainSnapshotAlignDisks for the test driver: every disk of the
// domain, internal unless it has nothing to snapshot.
void alignDisksInternal(xml::SnapshotDef& snap, const xml::DomainDef& dom)
{
    for (const auto& given : snap.disks) {
        auto it = std::find_if(dom.devices.disks.begin(), dom.devices.disks.end(), [&](const xml::DiskDef& d) {
            return d.targetDev == given.name || (d.hasSource && d.path == given.name);
        });
        if (it == dom.devices.disks.end())
            throw err::configUnsupported("no disk named '" + given.name + "'");
        if (given.snapshot != "internal" && !given.snapshot.empty())
            throw err::configUnsupported("disk '" + it->targetDev + "' must use snapshot mode 'internal'");
    }
    std::vector<xml::SnapshotDiskDef> disks;
    for (const auto& d : dom.devices.disks) {
        xml::SnapshotDiskDef sd;
        sd.name = d.targetDev;
        sd.snapshot = (!d.hasSource || d.path.empty() || d.readonly) ? "no" : "internal";
        disks.push_back(std::move(sd));
    }
    snap.disks = std::move(disks);
    snap.hasDisks = true;
}

// External memory: each disk gets an external overlay next to its image.
void alignDisksExternal(xml::SnapshotDef& snap, const xml::DomainDef& dom)
{
    std::vector<xml::SnapshotDiskDef> disks;
    for (const auto& d : dom.devices.disks) {
        auto given = std::find_if(snap.disks.begin(), snap.disks.end(), [&](const xml::SnapshotDiskDef& s) {
            return s.name == d.targetDev || (d.hasSource && s.name == d.path);
        });
        xml::SnapshotDiskDef sd = given != snap.disks.end() ? *given : xml::SnapshotDiskDef{};
        sd.name = d.targetDev;
        if (sd.snapshot.empty())
            sd.snapshot = (!d.hasSource || d.path.empty() || d.readonly) ? "no" : "external";
        if (sd.snapshot == "external" && sd.sourceFile.empty()) {
            struct stat st {};
            if (d.type != "file" || ::stat(d.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                throw err::configUnsupported("source for disk '" + d.targetDev +
                                             "' is not a regular file; refusing to generate external snapshot name");
            sd.sourceFile = defaultOverlayName(d.path, snap.name);
        }
        disks.push_back(std::move(sd));
    }
    for (const auto& given : snap.disks)
        if (std::none_of(disks.begin(), disks.end(), [&](const xml::SnapshotDiskDef& s) { return s.name == given.name; }))
            throw err::configUnsupported("no disk named '" + given.name + "'");
    snap.disks = std::move(disks);
    snap.hasDisks = true;
}

// The filtered names as references.
std::vector<SnapshotRef> refs(const TestDomain& d, const std::string& from, uint32_t flags)
{
    std::vector<SnapshotRef> out;
    for (auto& name : list(d.snapshots, from, flags))
        out.push_back({d.uuid(), std::move(name)});
    return out;
}

} // namespace

SnapshotRef TestDriver::domainSnapshotCreateXML(const std::string& uuid, const std::string& xml, uint32_t flags)
{
    checkCreateFlags(flags, ErrDomain::Test);
    checkFlags(flags, kRedefine | kCurrent | kHalt | kQuiesce | kAtomic | kLive | kValidate,
               "testDomainSnapshotCreateXML");
    bool redefine = flags & kRedefine;
    unsigned parseFlags = (redefine ? xml::SNAPSHOT_PARSE_REDEFINE : 0u) |
                          ((flags & kValidate) ? xml::SNAPSHOT_PARSE_VALIDATE : 0u);
    Events ev;
    SnapshotRef ref;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (!d.persistent && (flags & kHalt))
            throw testError(ErrCode::OperationInvalid, "cannot halt after transient domain snapshot");
        xml::SnapshotDef def = xml::parseSnapshotXML(xml, parseFlags);
        checkSnapshotName(def.name);
        const std::string name = def.name;
        if (redefine) {
            if (!def.creationTime)
                throw testError(ErrCode::InternalError, "missing creationTime from existing snapshot");
            if (def.state.empty())
                throw err::xml("missing state from existing snapshot");
            if (def.state == "shutoff" && def.memorySnapshot != "" && def.memorySnapshot != "no")
                throw err::xml("memory state cannot be saved with offline or disk-only snapshot");
            if (!def.domain)
                throw testError(ErrCode::InternalError, "missing domain in snapshot");
            if (def.domain->uuid != d.uuid())
                throw err::invalidArg("definition for snapshot " + def.name + " must use uuid " + d.uuid());
            checkRedefineParent(d.snapshots, def);
            if (!def.hasDisks)
                alignDisksInternal(def, *def.domain);
            auto existing = d.snapshots.find(name);
            if (existing != d.snapshots.end()) {
                existing->second.def = std::move(def);
            } else {
                d.snapshots[name] = TestSnapshot{std::move(def), ++snapshotSeq_};
                ev.tree.added(ObjectType::DomainSnapshot, d.uuid(), name);
            }
            if (flags & kCurrent)
                d.currentSnapshot = name;
        } else {
            if (d.snapshots.count(def.name))
                throw err::operationFailed("domain moment " + def.name + " already exists");
            def.state = stateName(d.state);
            if (def.memorySnapshot == "external") {
                alignDisksExternal(def, d.def);
            } else {
                def.memorySnapshot = d.state == kShutoff ? "no" : "internal";
                alignDisksInternal(def, d.def);
            }
            def.domain = d.def;
            def.parent = d.currentSnapshot;
            d.snapshots[name] = TestSnapshot{std::move(def), ++snapshotSeq_};
            ev.tree.added(ObjectType::DomainSnapshot, d.uuid(), name);
            d.currentSnapshot = name;
            if ((flags & kHalt) && d.active()) {
                DomainProps before(d);
                stopDomain(d, kShutoffFromSnapshot);
                ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedFromSnapshot);
                noteChanges(ev, before);
            }
        }
        ref = {d.uuid(), name};
    }
    flush(ev);
    return ref;
}

std::vector<SnapshotRef> TestDriver::domainListSnapshots(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kListAll, "testDomainListAllSnapshots");
    std::lock_guard lock(mu_);
    return refs(dom(uuid), "", flags);
}

std::vector<SnapshotRef> TestDriver::snapshotListChildren(const SnapshotRef& s, uint32_t flags)
{
    checkFlags(flags, kListAll, "testDomainSnapshotListAllChildren");
    checkNameLength(s.name, "snapshot name");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(s.domainUuid);
    if (!d.snapshots.count(s.name))
        throw noSuchSnapshot(s.name);
    return refs(d, s.name, flags);
}

SnapshotRef TestDriver::domainSnapshotLookupByName(const std::string& uuid, const std::string& name, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainSnapshotLookupByName");
    checkNameLength(name, "snapshot name");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    if (!d.snapshots.count(name))
        throw noSuchSnapshot(name);
    return {d.uuid(), name};
}

SnapshotRef TestDriver::domainSnapshotCurrent(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainSnapshotCurrent");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    if (d.currentSnapshot.empty())
        throw noCurrent();
    return {d.uuid(), d.currentSnapshot};
}

bool TestDriver::snapshotExists(const std::string& uuid, const std::string& name)
{
    std::lock_guard lock(mu_);
    auto it = byUuid_.find(uuid);
    return it != byUuid_.end() && it->second->snapshots.count(name);
}

void TestDriver::snapshotDelete(const SnapshotRef& s, uint32_t flags)
{
    checkDeleteFlags(flags, ErrDomain::Test);
    checkFlags(flags, kDeleteChildren | kDeleteChildrenOnly, "testDomainSnapshotDelete");
    checkNameLength(s.name, "snapshot name");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(s.domainUuid);
        auto it = d.snapshots.find(s.name);
        if (it == d.snapshots.end())
            throw noSuchSnapshot(s.name);
        for (const auto& name : removeMetadata(d.snapshots, d.currentSnapshot, s.name, flags))
            ev.tree.removed(ObjectType::DomainSnapshot, d.uuid(), name);
    }
    flush(ev);
}

SnapshotRef TestDriver::snapshotGetParent(const SnapshotRef& s, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainSnapshotGetParent");
    checkNameLength(s.name, "snapshot name");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(s.domainUuid);
    auto it = d.snapshots.find(s.name);
    if (it == d.snapshots.end())
        throw noSuchSnapshot(s.name);
    if (it->second.def.parent.empty())
        throw noParent(s.name);
    return {d.uuid(), it->second.def.parent};
}

std::string TestDriver::snapshotGetXMLDesc(const SnapshotRef& s, uint32_t flags)
{
    constexpr uint32_t kXmlSecure = 1;
    checkFlags(flags, kXmlSecure, "testDomainSnapshotGetXMLDesc");
    checkNameLength(s.name, "snapshot name");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(s.domainUuid);
    auto it = d.snapshots.find(s.name);
    if (it == d.snapshots.end())
        throw noSuchSnapshot(s.name);
    xml::FormatOptions opts;
    opts.secure = flags & kXmlSecure;
    return xml::formatSnapshotXML(it->second.def, opts);
}

bool TestDriver::snapshotIsCurrent(const SnapshotRef& s, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainSnapshotIsCurrent");
    checkNameLength(s.name, "snapshot name");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(s.domainUuid);
    if (!d.snapshots.count(s.name))
        throw noSuchSnapshot(s.name);
    return d.currentSnapshot == s.name;
}

void TestDriver::snapshotRevert(const SnapshotRef& s, uint32_t flags)
{
    checkRevertFlags(flags, ErrDomain::Test);
    checkFlags(flags, kRevertRunning | kRevertPaused | kRevertForce, "testDomainRevertToSnapshot");
    checkNameLength(s.name, "snapshot name");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(s.domainUuid);
        auto it = d.snapshots.find(s.name);
        if (it == d.snapshots.end())
            throw noSuchSnapshot(s.name);
        const xml::SnapshotDef& snap = it->second.def;
        bool snapActive = snap.state == "running" || snap.state == "paused";
        bool startFlags = flags & (kRevertRunning | kRevertPaused);
        if (!d.persistent && !snapActive && !startFlags)
            throw testError(ErrCode::OperationInvalid,
                            "transient domain needs to request run or pause to revert to inactive snapshot");
        if (!snap.domain && !(flags & kRevertForce))
            throw revertRisky("snapshot '" + snap.name + "' lacks domain '" + d.name() + "' rollback info");

        // libvirt 9.0 stops a running guest and starts it afresh from the
        // snapshot's configuration, which becomes the persistent one too.
        // The domain keeps its name: it may have been renamed since, and
        // the name index must go on finding it.
        xml::DomainDef config = snap.domain ? *snap.domain : d.persistentDef();
        config.name = d.name();
        DomainProps before(d);
        if (d.active()) {
            stopDomain(d, kShutoffFromSnapshot);
            ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedFromSnapshot);
        }
        d.def = std::move(config);
        d.newDef.reset();
        if (snapActive || startFlags) {
            // libvirt emits these events for an inactive snapshot with
            // RUNNING/PAUSED yet leaves the domain off; virtbus starts it.
            startDomain(d, kRunningFromSnapshot);
            ev.lifecycle(d.uuid(), ev::Started, ev::StartedFromSnapshot);
            bool paused = (flags & kRevertPaused) || (snap.state == "paused" && !(flags & kRevertRunning));
            if (paused) {
                d.state = kPaused;
                d.reason = kPausedFromSnapshot;
                ev.lifecycle(d.uuid(), ev::Suspended, ev::SuspendedFromSnapshot);
            }
        }
        d.currentSnapshot = s.name;
        noteChanges(ev, before);
    }
    flush(ev);
}

} // namespace virtbus
