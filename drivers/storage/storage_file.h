// Volumes that are files or devices on the host: what one is (format,
// sizes, backing store, read from its header as libvirt's probe does, no
// process per file), and making, copying, resizing and removing them, raw
// natively and every other format with qemu-img. Shared by the dir, fs and
// netfs backends; the disk and logical backends use the probe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "error.h"
#include "xml/storage_vol_xml.h"

namespace virtbus::storage {

// What a header says.
struct ImageFacts {
    std::string format; // raw, qcow2, qcow, qed, vmdk, vdi, vpc, vhdx, iso, ...
    std::optional<uint64_t> virtualSize; // when the header gives one
    std::string backingPath, backingFormat;
    std::string compat; // qcow2: "0.10" or "1.1"
    uint64_t clusterSize = 0;
    bool lazyRefcounts = false;
};

// Reads the header of the open file `fd`.
ImageFacts probeImage(int fd);

// Fills `vol`'s type, format, capacity, allocation, physical size and
// backing store from the file at vol.targetPath, never following a
// symlink at the last component. Raises NoStorageVol if it is gone.
void probeVolume(xml::StorageVolDef& vol);

// Volume contents on files. `path` names a file inside a pool's target.
void createFileVolume(const xml::StorageVolDef& vol, uint32_t flags);
void cloneFileVolume(const xml::StorageVolDef& vol, const xml::StorageVolDef& src, uint32_t flags);
void resizeFileVolume(const xml::StorageVolDef& vol, uint64_t capacity, uint32_t flags);
void deleteFileVolume(const xml::StorageVolDef& vol);

// A name from a caller that becomes a file name in a pool: no '/', not
// "." or "..", not empty, no NUL, at most 255 bytes.
void checkVolumeName(const std::string& name);

// The size of a block device (BLKGETSIZE64), or of a file.
uint64_t deviceSize(int fd);

} // namespace virtbus::storage
