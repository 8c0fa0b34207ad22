// What a backend does not do fails with libvirt's storage driver wording
// for a backend without that callback.
#include "storage/storage_backend.h"

#include "storage/storage_dir.h"
#include "storage/storage_disk.h"
#include "storage/storage_logical.h"

namespace virtbus::storage {

namespace {

VirtError noSupport(std::string_view detail) { return makeError(ErrCode::NoSupport, ErrDomain::Storage, detail); }

} // namespace

// libvirt's storagePoolBuild does nothing for a backend without buildPool.
void Backend::build(const xml::StoragePoolDef&, uint32_t) { }

void Backend::remove(const xml::StoragePoolDef&, uint32_t) { throw noSupport("pool does not support pool deletion"); }

std::string Backend::findSources(const std::string&, uint32_t)
{
    throw noSupport("pool type does not support source discovery");
}

std::string Backend::volPath(const xml::StoragePoolDef& def, const std::string& name) const
{
    return def.targetPath + "/" + name;
}

void Backend::createVol(const xml::StoragePoolDef&, xml::StorageVolDef&, uint32_t)
{
    throw noSupport("storage pool does not support volume creation");
}

void Backend::createVolFrom(const xml::StoragePoolDef&, xml::StorageVolDef&, const xml::StorageVolDef&, uint32_t)
{
    throw noSupport("storage pool does not support volume creation");
}

void Backend::deleteVol(const xml::StoragePoolDef&, const xml::StorageVolDef&, uint32_t)
{
    throw noSupport("storage pool does not support vol deletion");
}

void Backend::resizeVol(const xml::StoragePoolDef&, const xml::StorageVolDef&, uint64_t, uint32_t)
{
    throw noSupport("storage pool does not support changing of volume capacity");
}

std::unique_ptr<Backend> makeBackend(const std::string& type)
{
    if (type == "dir")
        return std::make_unique<DirBackend>();
    if (type == "fs")
        return std::make_unique<FsBackend>(false);
    if (type == "netfs")
        return std::make_unique<FsBackend>(true);
    if (type == "disk")
        return std::make_unique<DiskBackend>();
    if (type == "logical")
        return std::make_unique<LogicalBackend>();
    return nullptr;
}

const std::vector<std::string>& supportedPoolTypes()
{
    static const std::vector<std::string> types {"dir", "fs", "netfs", "logical", "disk"};
    return types;
}

} // namespace virtbus::storage
