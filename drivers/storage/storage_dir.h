// Pools whose volumes are files in a directory: `dir` itself, and the
// mounted kinds (`fs`, `netfs`) that add a mount around the same directory.
#pragma once

#include "storage/storage_backend.h"

namespace virtbus::storage {

class DirBackend : public Backend {
public:
    bool stillActive(const xml::StoragePoolDef& def) const override;
    void build(const xml::StoragePoolDef& def, uint32_t flags) override;
    void start(const xml::StoragePoolDef& def) override;
    void remove(const xml::StoragePoolDef& def, uint32_t flags) override;
    PoolSpace refresh(const xml::StoragePoolDef& def, std::vector<xml::StorageVolDef>& vols) override;
    void createVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol, uint32_t flags) override;
    void createVolFrom(const xml::StoragePoolDef& def, xml::StorageVolDef& vol, const xml::StorageVolDef& src,
        uint32_t flags) override;
    void deleteVol(const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint32_t flags) override;
    void resizeVol(
        const xml::StoragePoolDef& def, const xml::StorageVolDef& vol, uint64_t capacity, uint32_t flags) override;
    void refreshVol(const xml::StoragePoolDef& def, xml::StorageVolDef& vol) override;

protected:
    // mkdir -p of the target with the pool's <permissions>.
    static void makeTarget(const xml::StoragePoolDef& def);
};

// fs: a block device (or image file) with a file system, mounted on the
// target; netfs: an NFS or CIFS export mounted there.
class FsBackend : public DirBackend {
public:
    explicit FsBackend(bool network) : network_(network) { }
    void check(const xml::StoragePoolDef& def) const override;
    bool stillActive(const xml::StoragePoolDef& def) const override;
    void build(const xml::StoragePoolDef& def, uint32_t flags) override;
    void start(const xml::StoragePoolDef& def) override;
    void stop(const xml::StoragePoolDef& def) override;
    std::string findSources(const std::string& srcSpec, uint32_t flags) override;

private:
    std::string source(const xml::StoragePoolDef& def) const;
    bool network_;
};

// Whether `path` is a mount point (in /proc/self/mountinfo).
bool isMountPoint(const std::string& path);

} // namespace virtbus::storage
