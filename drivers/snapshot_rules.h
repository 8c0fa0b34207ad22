// Rules every driver applies to a domain's snapshots, as libvirt's shared
// moment-object code does: the tree (each snapshot names its parent), the
// list filters, which snapshots a delete takes along, the public API's flag
// checks, and the disk list a new snapshot gets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "error.h"
#include "xml/snapshot_xml.h"

namespace virtbus::snapshot {

// virDomainSnapshotCreateFlags.
enum : uint32_t {
    kRedefine = 1,
    kCurrent = 2,
    kNoMetadata = 4,
    kHalt = 8,
    kDiskOnly = 16,
    kReuseExt = 32,
    kQuiesce = 64,
    kAtomic = 128,
    kLive = 256,
    kValidate = 512
};
// virDomainSnapshotListFlags (ROOTS and DESCENDANTS share bit 0).
enum : uint32_t {
    kListRootsOrDescendants = 1,
    kListMetadata = 2,
    kListLeaves = 4,
    kListNoLeaves = 8,
    kListNoMetadata = 16,
    kListInactive = 32,
    kListActive = 64,
    kListDiskOnly = 128,
    kListInternal = 256,
    kListExternal = 512,
    kListTopological = 1024,
    kListAll = 2047
};
// virDomainSnapshotDeleteFlags.
enum : uint32_t { kDeleteChildren = 1, kDeleteMetadataOnly = 2, kDeleteChildrenOnly = 4 };
// virDomainSnapshotRevertFlags.
enum : uint32_t { kRevertRunning = 1, kRevertPaused = 2, kRevertForce = 4 };

// A tree is a map from name to an entry with `def` (xml::SnapshotDef) and
// `seq` (creation order: topological listings sort siblings by it); the
// tree functions below take any such map.
struct Entry {
    xml::SnapshotDef def;
    uint64_t seq = 0;
};
using Tree = std::map<std::string, Entry>;

// libvirt's domain state names, as a snapshot's <state> records them.
const char* stateName(int state);
bool isExternal(const xml::SnapshotDef& def);
template <class Map>
bool isDescendant(const Map& tree, const xml::SnapshotDef& s, const std::string& ancestor);
template <class Map>
bool hasChildren(const Map& tree, const std::string& name);

// virDomainSnapshotObjListGetNames: the names `flags` select, `from` ""
// for the whole domain (bit 0 = ROOTS) or a snapshot (bit 0 = DESCENDANTS).
template <class Map>
std::vector<std::string> list(const Map& tree, const std::string& from, uint32_t flags);

// The snapshots below `name`, by name.
template <class Map>
std::vector<std::string> descendants(const Map& tree, const std::string& name);

// Removes the metadata a delete with `flags` (CHILDREN, CHILDREN_ONLY)
// removes: `name` and/or its descendants; the children of a snapshot
// removed alone move up to its parent, and the current snapshot moves to
// what remains (the deleted one's parent, or `name` when only its children
// went). Returns the names removed.
template <class Map>
std::vector<std::string> removeMetadata(Map& tree, std::string& current, const std::string& name, uint32_t flags);

// Checks a redefinition's parent: it must exist and not create a cycle.
template <class Map>
void checkRedefineParent(const Map& tree, const xml::SnapshotDef& def);

// The public API's flag rules for create, delete and revert (libvirt.c),
// with the bare INVALID_ARG texts of `domain`.
void checkCreateFlags(uint32_t flags, ErrDomain domain);
void checkDeleteFlags(uint32_t flags, ErrDomain domain);
void checkRevertFlags(uint32_t flags, ErrDomain domain);
VirtError flagsExclusive(std::string_view a, std::string_view b, ErrDomain domain);
VirtError flagRequires(std::string_view flag, std::string_view required, ErrDomain domain);

VirtError noSuchSnapshot(const std::string& name);
VirtError noCurrent();
VirtError noParent(const std::string& name);

// libvirt's default name for an external snapshot of the image at `path`:
// its extension (if any) replaced by "." and the snapshot's name.
std::string defaultOverlayName(const std::string& path, const std::string& snapshot);

// ---- the tree functions ----

namespace detail {
template <class Map>
auto ordered(const Map& tree, bool topological)
{
    std::vector<const typename Map::mapped_type*> out;
    if (!topological) {
        for (const auto& [name, e] : tree)
            out.push_back(&e);
        return out;
    }
    std::function<void(const std::string&)> walk = [&](const std::string& parent) {
        std::vector<const typename Map::mapped_type*> kids;
        for (const auto& [name, e] : tree)
            if (e.def.parent == parent)
                kids.push_back(&e);
        std::sort(kids.begin(), kids.end(), [](const auto* a, const auto* b) { return a->seq < b->seq; });
        for (const auto* k : kids) {
            out.push_back(k);
            walk(k->def.name);
        }
    };
    walk("");
    return out;
}
} // namespace detail

template <class Map>
bool isDescendant(const Map& tree, const xml::SnapshotDef& s, const std::string& ancestor)
{
    std::string p = s.parent;
    for (size_t guard = 0; !p.empty() && guard <= tree.size(); ++guard) {
        if (p == ancestor)
            return true;
        auto it = tree.find(p);
        if (it == tree.end())
            break;
        p = it->second.def.parent;
    }
    return false;
}

template <class Map>
bool hasChildren(const Map& tree, const std::string& name)
{
    return std::any_of(tree.begin(), tree.end(), [&](const auto& e) { return e.second.def.parent == name; });
}

template <class Map>
std::vector<std::string> list(const Map& tree, const std::string& from, uint32_t flags)
{
    std::vector<std::string> out;
    if ((flags & (kListMetadata | kListNoMetadata)) == kListNoMetadata)
        return out; // every snapshot listed has metadata
    bool bit0 = flags & kListRootsOrDescendants;
    uint32_t leaves = flags & (kListLeaves | kListNoLeaves);
    uint32_t states = flags & (kListInactive | kListActive | kListDiskOnly);
    uint32_t location = flags & (kListInternal | kListExternal);
    for (const auto* e : detail::ordered(tree, flags & kListTopological)) {
        const auto& def = e->def;
        bool inScope = from.empty() ? (!bit0 || def.parent.empty())
                                    : (bit0 ? isDescendant(tree, def, from) : def.parent == from);
        if (!inScope)
            continue;
        if (leaves == kListLeaves && hasChildren(tree, def.name))
            continue;
        if (leaves == kListNoLeaves && !hasChildren(tree, def.name))
            continue;
        if (states) {
            bool inactive = def.state == "shutoff", diskOnly = def.state == "disk-snapshot";
            bool ok = ((states & kListInactive) && inactive) || ((states & kListDiskOnly) && diskOnly)
                || ((states & kListActive) && !inactive && !diskOnly);
            if (!ok)
                continue;
        }
        if (location && location != (kListInternal | kListExternal) && (location == kListExternal) != isExternal(def))
            continue;
        out.push_back(def.name);
    }
    return out;
}

template <class Map>
std::vector<std::string> descendants(const Map& tree, const std::string& name)
{
    std::vector<std::string> out;
    for (const auto& [other, e] : tree)
        if (isDescendant(tree, e.def, name))
            out.push_back(other);
    return out;
}

template <class Map>
std::vector<std::string> removeMetadata(Map& tree, std::string& current, const std::string& name, uint32_t flags)
{
    std::vector<std::string> removed;
    auto it = tree.find(name);
    if (it == tree.end())
        return removed;
    const std::string parent = it->second.def.parent;
    if (flags & (kDeleteChildren | kDeleteChildrenOnly)) {
        for (const auto& child : descendants(tree, name)) {
            if (current == child)
                current = name;
            tree.erase(child);
            removed.push_back(child);
        }
    } else {
        for (auto& [other, e] : tree)
            if (e.def.parent == name)
                e.def.parent = parent;
    }
    if (!(flags & kDeleteChildrenOnly)) {
        if (current == name)
            current = tree.count(parent) ? parent : "";
        tree.erase(name);
        removed.push_back(name);
    }
    return removed;
}

template <class Map>
void checkRedefineParent(const Map& tree, const xml::SnapshotDef& def)
{
    if (def.parent.empty())
        return;
    auto parent = tree.find(def.parent);
    if (parent == tree.end())
        throw err::invalidArg("parent " + def.parent + " for moment " + def.name + " not found");
    if (def.parent == def.name || isDescendant(tree, parent->second.def, def.name))
        throw err::invalidArg("parent " + def.parent + " would create cycle to " + def.name);
}

} // namespace virtbus::snapshot
