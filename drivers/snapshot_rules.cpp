#include "snapshot_rules.h"

#include <algorithm>

namespace virtbus::snapshot {

const char* stateName(int state)
{
    constexpr const char* kNames[]
        = {"nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"};
    return state >= 0 && state < 8 ? kNames[state] : "nostate";
}

bool isExternal(const xml::SnapshotDef& def)
{
    return def.memorySnapshot == "external"
        || std::any_of(
            def.disks.begin(), def.disks.end(), [](const xml::SnapshotDiskDef& d) { return d.snapshot == "external"; });
}

VirtError flagsExclusive(std::string_view a, std::string_view b, ErrDomain domain)
{
    return VirtError(ErrCode::InvalidArg, domain,
        "Flags '" + std::string(a) + "' and '" + std::string(b) + "' are mutually exclusive");
}

VirtError flagRequires(std::string_view flag, std::string_view required, ErrDomain domain)
{
    return VirtError(ErrCode::InvalidArg, domain,
        "Flag '" + std::string(required) + "' is required by flag '" + std::string(flag) + "'");
}

void checkCreateFlags(uint32_t flags, ErrDomain domain)
{
    if ((flags & kCurrent) && !(flags & kRedefine))
        throw flagRequires("VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT", "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE", domain);
    if ((flags & kRedefine) && (flags & kNoMetadata))
        throw flagsExclusive("VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE", "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA", domain);
    if ((flags & kRedefine) && (flags & kHalt))
        throw flagsExclusive("VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE", "VIR_DOMAIN_SNAPSHOT_CREATE_HALT", domain);
}

void checkDeleteFlags(uint32_t flags, ErrDomain domain)
{
    if ((flags & kDeleteChildren) && (flags & kDeleteChildrenOnly))
        throw flagsExclusive("VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN", "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY", domain);
}

void checkRevertFlags(uint32_t flags, ErrDomain domain)
{
    if ((flags & kRevertRunning) && (flags & kRevertPaused))
        throw flagsExclusive("VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING", "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED", domain);
}

VirtError noSuchSnapshot(const std::string& name)
{
    return err::noSnapshot("no domain snapshot with matching name '" + name + "'");
}

VirtError noCurrent() { return err::noSnapshot("the domain does not have a current snapshot"); }

VirtError noParent(const std::string& name)
{
    return err::noSnapshot("snapshot '" + name + "' does not have a parent");
}

std::string defaultOverlayName(const std::string& path, const std::string& snapshot)
{
    std::string base = path;
    size_t dot = base.rfind('.');
    if (dot != std::string::npos && base.find('/', dot) == std::string::npos)
        base.resize(dot);
    return base + "." + snapshot;
}

} // namespace virtbus::snapshot
