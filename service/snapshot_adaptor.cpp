#include "adaptors.h"
#include "connection.h"
#include "paths.h"

namespace virtbus {

SnapshotRef SnapshotAdaptor::ref(const char* path) const
{
    auto k = paths::snapshotKey(c_.path(), path);
    if (!k)
        throw err::noSnapshot(std::string("no domain snapshot with matching path '") + path + "'");
    return {k->uuid, k->name};
}

void SnapshotAdaptor::Delete(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().snapshotDelete(ref(r.path()), flags);
    r.ok();
}

void SnapshotAdaptor::GetParent(bus::Reply<bus::ObjectPath>& r, uint32_t flags)
{
    r.ok({c_.snapshotPath(c_.driver().snapshotGetParent(ref(r.path()), flags))});
}

void SnapshotAdaptor::GetXMLDesc(bus::Reply<std::string>& r, uint32_t flags)
{
    r.ok(c_.driver().snapshotGetXMLDesc(ref(r.path()), flags));
}

void SnapshotAdaptor::IsCurrent(bus::Reply<bool>& r, uint32_t flags)
{
    r.ok(c_.driver().snapshotIsCurrent(ref(r.path()), flags));
}

void SnapshotAdaptor::ListChildren(bus::Reply<std::vector<bus::ObjectPath>>& r, uint32_t flags)
{
    r.ok(c_.snapshotPaths(c_.driver().snapshotListChildren(ref(r.path()), flags)));
}

void SnapshotAdaptor::Revert(bus::Reply<>& r, uint32_t flags)
{
    c_.driver().snapshotRevert(ref(r.path()), flags);
    r.ok();
}

} // namespace virtbus
