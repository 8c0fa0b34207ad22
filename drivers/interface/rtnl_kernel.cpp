// Rtnl: the dumps (cached until the kernel announces a change) and the
// requests that change links, on real sockets.
#include "interface/rtnl.h"

#include "fileutil.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace virtbus::rtnl {

// ---- the kernel ----

const Link* Snapshot::byName(const std::string& name) const
{
    for (const auto& l : links)
        if (l.name == name)
            return &l;
    return nullptr;
}

const Link* Snapshot::byIndex(int index) const
{
    for (const auto& l : links)
        if (l.index == index)
            return &l;
    return nullptr;
}

nl::Socket& Rtnl::sock()
{
    if (!sock_) {
        try {
            sock_.emplace();
        } catch (const std::system_error& e) {
            throw systemError(ErrDomain::Interface, "cannot open a netlink socket", e.code().value());
        }
    }
    return *sock_;
}

Rtnl::~Rtnl()
{
    if (monitor_ >= 0)
        close(monitor_);
}

bool Rtnl::changed()
{
    if (!monitorTried_) {
        monitorTried_ = true;
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        sockaddr_nl local {};
        local.nl_family = AF_NETLINK;
        local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
        if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0)
            monitor_ = fd;
        else if (fd >= 0)
            close(fd);
        return true;
    }
    if (monitor_ < 0)
        return true; // no notifications: never trust the cache
    bool any = false;
    std::vector<uint8_t> buf(64 * 1024);
    for (;;) {
        ssize_t n = recv(monitor_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n > 0) {
            any = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS) { // notices were lost
            any = true;
            continue;
        }
        return any || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

std::shared_ptr<const Snapshot> Rtnl::snapshot(bool withAddresses)
{
    // Drained before the dump: a change racing with it shows up as a
    // notice next time, at worst one dump too many.
    bool stale = changed();
    if (stale || !cache_ || (withAddresses && !cacheHasAddresses_)) {
        cache_ = std::make_shared<const Snapshot>(dump(withAddresses));
        cacheHasAddresses_ = withAddresses;
    }
    return cache_;
}

Snapshot Rtnl::dump(bool withAddresses)
{
    Snapshot s;
    auto links = dumpRequest(RTM_GETLINK, AF_UNSPEC);
    if (auto e = sock().dump(links, [&](const nlmsghdr* h) {
            if (auto l = parseLink(h))
                s.links.push_back(std::move(*l));
        }))
        throw systemError(ErrDomain::Interface, "cannot list network interfaces", e->errnum);
    if (withAddresses) {
        auto addrs = dumpRequest(RTM_GETADDR, AF_UNSPEC);
        if (auto e = sock().dump(addrs, [&](const nlmsghdr* h) {
                if (auto a = parseAddress(h))
                    s.addresses.push_back(std::move(*a));
            }))
            throw systemError(ErrDomain::Interface, "cannot list interface addresses", e->errnum);
    }
    return s;
}

std::vector<Route> Rtnl::defaultRoutes()
{
    std::vector<Route> out;
    auto m = dumpRequest(RTM_GETROUTE, AF_UNSPEC);
    if (auto e = sock().dump(m, [&](const nlmsghdr* h) {
            if (auto r = parseDefaultRoute(h))
                out.push_back(std::move(*r));
        }))
        throw systemError(ErrDomain::Interface, "cannot list routes", e->errnum);
    return out;
}

VirtError requestError(const std::string& what, int errnum, const std::string& kernelText)
{
    std::string msg = what;
    if (!kernelText.empty())
        msg += " (" + kernelText + ")";
    VirtError err = systemError(ErrDomain::Interface, msg, errnum);
    if (errnum == EPERM || errnum == EACCES)
        return VirtError(
            err.code(), err.domain(), std::string(err.what()) + "; changing host interfaces needs CAP_NET_ADMIN");
    return err;
}

void Rtnl::run(nl::Message m, const std::string& what)
{
    if (auto e = sock().request(m))
        throw requestError(what, e->errnum, e->message);
}

} // namespace virtbus::rtnl
