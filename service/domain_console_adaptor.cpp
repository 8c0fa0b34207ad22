#include "domain_console_adaptor.h"

#include "connection.h"
#include "paths.h"

namespace virtbus {

std::string DomainConsoleAdaptor::uuid(const char* path) const
{
    auto u = paths::domainUuid(c_.path(), path);
    if (!u)
        throw err::noDomain(std::string("no domain with matching path '") + path + "'");
    return *u;
}

void DomainConsoleAdaptor::OpenConsole(bus::Reply<bus::UnixFd>& r, std::string devname, uint32_t flags)
{
    // The reply may be written later on the bus thread: it owns the fd.
    r.ok(bus::UnixFd::owned(c_.driver().domainOpenConsole(uuid(r.path()), devname, flags)));
}

void DomainConsoleAdaptor::Screenshot(bus::Reply<std::string, bus::UnixFd>& r, uint32_t screen, uint32_t flags)
{
    auto [mime, fd] = c_.driver().domainScreenshot(uuid(r.path()), screen, flags);
    r.ok(mime, bus::UnixFd::owned(fd));
}

} // namespace virtbus
