// libvirt's <domainsnapshot> document: what a snapshot holds (its disks,
// memory mode and the domain configuration it was taken from).
#pragma once

#include "xml/domain_xml.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::xml {

struct SnapshotDiskDef {
    std::string name;             // target dev (vda) or source path
    std::string snapshot;         // no, internal, external, manual, ""
    std::string type;             // file, block, network, ""
    std::string sourceFile;       // <source file=.../> (or dev= for block)
    std::string driverType;       // <driver type='qcow2'/>
    Preserved sourceExtra;
    Preserved extra;
    bool operator==(const SnapshotDiskDef&) const = default;
};

struct SnapshotDef {
    std::string name;             // defaults to creationTime in epoch seconds
    std::string description;
    std::string state;            // running, paused, shutoff, disk-snapshot, ...
    std::optional<int64_t> creationTime; // epoch seconds
    std::string parent;           // parent snapshot name, "" for a root
    std::string memorySnapshot;   // no, internal, external, ""
    std::string memoryFile;
    bool hasDisks = false;        // <disks> was given (even empty)
    std::vector<SnapshotDiskDef> disks;
    std::optional<bool> active;   // <active>0|1</active> (redefine only)
    std::optional<DomainDef> domain;
    std::optional<DomainDef> inactiveDomain;
    Preserved extra;              // <cookie>, a uuid-only <domain>, ...
    bool operator==(const SnapshotDef&) const = default;
};

enum SnapshotParseFlags : unsigned {
    // Keep state, creationTime, parent, active and the domains as given
    // (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE); a name is then required.
    // Without it those are dropped: the driver fills them in.
    SNAPSHOT_PARSE_REDEFINE = 1u << 0,
    // Validate against libvirt's domainsnapshot.rng.
    SNAPSHOT_PARSE_VALIDATE = 1u << 1,
};

SnapshotDef parseSnapshotXML(std::string_view xml, unsigned flags = 0);
std::string formatSnapshotXML(const SnapshotDef& def, const FormatOptions& opts = {});

} // namespace virtbus::xml
