// What the QEMU driver's snapshot files share: the disk operations
// (qemu_snapshot_disk.cpp) behind create, revert and delete.
#pragma once

#include <string>
#include <vector>

#include "xml/domain_xml.h"
#include "xml/snapshot_xml.h"

namespace virtbus::qemu {

class Monitor;
struct QemuUser;

namespace snap {

// The domain's disks a snapshot of `def` covers internally: writable
// disks with media. Refuses (libvirt's text) any that is not qcow2.
std::vector<const xml::DiskDef*> internalDisks(const xml::DomainDef& dom, const xml::SnapshotDef& def);

// ---- internal snapshots of a running guest: QMP snapshot-* jobs ----
// The top block node of each disk (query-block), by target dev order of
// `disks`.
std::vector<std::string> topNodes(Monitor& mon, const std::vector<const xml::DiskDef*>& disks);
// snapshot-save with the vmstate in the first node; snapshot-load;
// snapshot-delete. Each waits until the job concluded and dismisses it;
// the job's error becomes an operation-failed error.
void saveInternal(Monitor& mon, const std::string& tag, const std::vector<std::string>& nodes);
void loadInternal(Monitor& mon, const std::string& tag, const std::vector<std::string>& nodes);
void deleteInternal(Monitor& mon, const std::string& tag, const std::vector<std::string>& nodes);

// ---- internal snapshots of a shut-off guest: qemu-img snapshot ----
// op is 'c' (create), 'a' (apply) or 'd' (delete). Creating undoes what
// it did when one disk fails; deleting goes on past failures (a disk may
// lack the snapshot), applying stops at the first.
void qemuImgSnapshot(char op, const std::string& tag, const std::vector<const xml::DiskDef*>& disks);

// ---- external (disk-only) snapshots ----
struct Overlay {
    size_t disk = 0; // index in the domain's disks
    std::string path; // the new image
    std::string backingPath; // the image it covers
    std::string backingFormat;
    bool created = false; // made here (removed again on failure)
};
// Resolves each external disk of `def` (aligned) to an overlay and checks
// the files: a new one must not exist (libvirt's text), a reused one must.
std::vector<Overlay> planOverlays(const xml::DomainDef& dom, const xml::SnapshotDef& def, bool reuse);
// Creates the overlay files that are not reused (qemu-img create -b).
// `live`: the images are in use, so their size is read with force-share
// and qemu-img does not open them.
void createOverlays(std::vector<Overlay>& overlays, bool live, const QemuUser* owner);
// Running guest: adds the overlays as block nodes and switches every disk
// in one transaction (all or nothing).
void switchOverlays(Monitor& mon, const std::vector<Overlay>& overlays, const std::vector<std::string>& tops);
void removeCreated(const std::vector<Overlay>& overlays);
// The definition's disk now is the overlay, with the old image as its
// backing store.
void pointAtOverlay(xml::DiskDef& disk, const Overlay& o);

} // namespace snap
} // namespace virtbus::qemu
