#include "domain_console_adaptor.h"

#include "connection.h"
#include "fileutil.h"
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
    // sd-bus duplicates the fd into the reply; ours is closed either way.
    UniqueFd fd(c_.driver().domainOpenConsole(uuid(r.path()), devname, flags));
    r.ok(bus::UnixFd {fd.get()});
}

void DomainConsoleAdaptor::Screenshot(bus::Reply<std::string, bus::UnixFd>& r, uint32_t screen, uint32_t flags)
{
    auto [mime, raw] = c_.driver().domainScreenshot(uuid(r.path()), screen, flags);
    UniqueFd fd(raw);
    r.ok(mime, bus::UnixFd {fd.get()});
}

} // namespace virtbus
