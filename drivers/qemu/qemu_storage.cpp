// Where the QEMU driver meets the storage driver: volume disks resolved to
// their files or devices when a guest starts, and the check the storage
// driver makes before it removes a volume a guest still uses.
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

#include <climits>
#include <cstdlib>

namespace virtbus {

void QemuDriver::resolveVolumes(xml::DomainDef& live)
{
    for (auto& disk : live.devices.disks) {
        if (disk.type != "volume" || !disk.hasSource || disk.pool.empty() || disk.volume.empty())
            continue;
        // The storage driver's own errors (no such pool, pool not active,
        // no such volume) say what is wrong.
        PoolRef pool = storage().poolLookupByName(disk.pool);
        VolRef vol = storage().volLookupByName(pool.uuid, disk.volume);
        disk.path = vol.path;
    }
}

bool QemuDriver::pathInUse(const std::string& path)
{
    char buf[PATH_MAX];
    std::string canonical = ::realpath(path.c_str(), buf) ? std::string(buf) : path;
    std::lock_guard lock(mu_);
    for (const auto& [uuid, d] : byUuid_) {
        if (!d->active() || !d->live)
            continue;
        for (const auto& disk : d->live->devices.disks) {
            if (!disk.hasSource || disk.path.empty())
                continue;
            char db[PATH_MAX];
            if (disk.path == path || (::realpath(disk.path.c_str(), db) && canonical == db))
                return true;
        }
    }
    return false;
}

} // namespace virtbus
