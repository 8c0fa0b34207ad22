// The snapshot tree of the QEMU driver: lookups, listings and Delete.
#include <algorithm>

#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_snapshot.h"
#include "qemu/qmp.h"
#include "snapshot_rules.h"

namespace virtbus {

using namespace snapshot;

namespace {

const Entry& entry(const qemu::QemuDomain& d, const std::string& name)
{
    auto it = d.snapshots.find(name);
    if (it == d.snapshots.end())
        throw noSuchSnapshot(name);
    return it->second;
}

std::vector<SnapshotRef> refs(const std::string& uuid, std::vector<std::string> names)
{
    std::vector<SnapshotRef> out;
    for (auto& n : names)
        out.push_back({uuid, std::move(n)});
    return out;
}

} // namespace

std::vector<SnapshotRef> QemuDriver::domainListSnapshots(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kListAll, "qemuDomainListAllSnapshots");
    auto d = find(uuid);
    std::lock_guard lock(mu_);
    return refs(d->uuid(), list(d->snapshots, "", flags));
}

std::vector<SnapshotRef> QemuDriver::snapshotListChildren(const SnapshotRef& s, uint32_t flags)
{
    checkFlags(flags, kListAll, "qemuDomainSnapshotListAllChildren");
    auto d = find(s.domainUuid);
    std::lock_guard lock(mu_);
    entry(*d, s.name);
    return refs(d->uuid(), list(d->snapshots, s.name, flags));
}

SnapshotRef QemuDriver::domainSnapshotLookupByName(const std::string& uuid, const std::string& name, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainSnapshotLookupByName");
    auto d = find(uuid);
    std::lock_guard lock(mu_);
    entry(*d, name);
    return {d->uuid(), name};
}

SnapshotRef QemuDriver::domainSnapshotCurrent(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainSnapshotCurrent");
    auto d = find(uuid);
    std::lock_guard lock(mu_);
    if (d->currentSnapshot.empty())
        throw noCurrent();
    return {d->uuid(), d->currentSnapshot};
}

bool QemuDriver::snapshotExists(const std::string& uuid, const std::string& name)
{
    std::lock_guard lock(mu_);
    auto it = byUuid_.find(uuid);
    return it != byUuid_.end() && it->second->snapshots.count(name);
}

SnapshotRef QemuDriver::snapshotGetParent(const SnapshotRef& s, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainSnapshotGetParent");
    auto d = find(s.domainUuid);
    std::lock_guard lock(mu_);
    const Entry& e = entry(*d, s.name);
    if (e.def.parent.empty())
        throw noParent(s.name);
    return {d->uuid(), e.def.parent};
}

std::string QemuDriver::snapshotGetXMLDesc(const SnapshotRef& s, uint32_t flags)
{
    constexpr uint32_t kXmlSecure = 1;
    checkFlags(flags, kXmlSecure, "qemuDomainSnapshotGetXMLDesc");
    auto d = find(s.domainUuid);
    std::lock_guard lock(mu_);
    xml::FormatOptions opts;
    opts.secure = flags & kXmlSecure;
    return xml::formatSnapshotXML(entry(*d, s.name).def, opts);
}

bool QemuDriver::snapshotIsCurrent(const SnapshotRef& s, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainSnapshotIsCurrent");
    auto d = find(s.domainUuid);
    std::lock_guard lock(mu_);
    entry(*d, s.name);
    return d->currentSnapshot == s.name;
}

void QemuDriver::snapshotDelete(const SnapshotRef& s, uint32_t flags)
{
    checkDeleteFlags(flags, ErrDomain::DomainSnapshot);
    checkFlags(flags, kDeleteChildren | kDeleteMetadataOnly | kDeleteChildrenOnly, "qemuDomainSnapshotDelete");
    auto d = find(s.domainUuid);
    std::lock_guard job(d->job);
    // The snapshots whose data goes, deepest first.
    std::vector<xml::SnapshotDef> doomed;
    std::shared_ptr<qemu::Monitor> mon;
    xml::DomainDef dom;
    {
        std::lock_guard lock(mu_);
        entry(*d, s.name);
        std::vector<std::string> names;
        if (flags & (kDeleteChildren | kDeleteChildrenOnly))
            names = descendants(d->snapshots, s.name);
        if (!(flags & kDeleteChildrenOnly))
            names.push_back(s.name);
        for (const auto& n : names)
            doomed.push_back(d->snapshots.at(n).def);
        mon = d->active() ? d->mon : nullptr;
        dom = d->current();
    }
    if (!(flags & kDeleteMetadataOnly)) {
        auto external = std::count_if(doomed.begin(), doomed.end(), [](const auto& def) { return isExternal(def); });
        if (external)
            throw err::configUnsupported(
                "deletion of " + std::to_string(external) + " external disk snapshots not supported yet");
        for (const auto& def : doomed) {
            auto disks = qemu::snap::internalDisks(dom, def);
            if (disks.empty())
                continue;
            if (mon)
                qemu::snap::deleteInternal(*mon, def.name, qemu::snap::topNodes(*mon, disks));
            else
                qemu::snap::qemuImgSnapshot('d', def.name, disks);
        }
    }
    std::vector<std::string> removed;
    {
        std::lock_guard lock(mu_);
        removed = removeMetadata(d->snapshots, d->currentSnapshot, s.name, flags);
        for (const auto& n : removed)
            deleteSnapshotMeta(d->name(), n);
        // Children moved up to a new parent, and maybe a new current.
        for (const auto& [name, e] : d->snapshots)
            saveSnapshotMeta(*d, name);
    }
    if (sink())
        for (const auto& n : removed)
            sink()->objectRemoved({ObjectType::DomainSnapshot, s.domainUuid, n});
}

} // namespace virtbus
