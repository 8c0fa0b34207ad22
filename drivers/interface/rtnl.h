// What the host interface driver reads from and asks of rtnetlink: links,
// addresses and default routes as plain structs, and the requests that
// change them. Parsing and building are pure; Rtnl runs them on a socket.
#pragma once

#include "error.h"
#include "interface/netlink.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace virtbus::rtnl {

struct Link {
    int index = 0;
    std::string name;
    std::vector<uint8_t> address; // IFLA_ADDRESS, empty if the link has none
    unsigned flags = 0; // IFF_*
    unsigned mtu = 0;
    uint8_t operstate = 0; // IF_OPER_*
    int master = 0; // ifindex of the bridge or bond it is enslaved to
    int parent = 0; // IFLA_LINK: a VLAN's lower device
    std::string kind; // IFLA_INFO_KIND: bridge, bond, vlan, veth, ...; "" for NICs
    std::string slaveKind; // IFLA_INFO_SLAVE_KIND: bridge, bond
    std::optional<unsigned> vlanId;
    std::optional<unsigned> bondMode; // BOND_MODE_*
    std::optional<unsigned> bondMiimon;
    std::optional<bool> stp;
    std::optional<unsigned> forwardDelay; // centiseconds (USER_HZ)
    std::vector<uint8_t> bondSlavePermAddr; // a bond slave's own MAC
};

struct Address {
    int index = 0;
    int family = 0; // AF_INET, AF_INET6
    std::string address; // printable
    unsigned prefix = 0;
    unsigned scope = 0; // RT_SCOPE_*
};

struct Route {
    int oif = 0;
    int family = 0;
    std::string gateway;
};

std::optional<Link> parseLink(const nlmsghdr* h);
std::optional<Address> parseAddress(const nlmsghdr* h);
// Only default routes with a gateway in the main table; others nullopt.
std::optional<Route> parseDefaultRoute(const nlmsghdr* h);

std::string formatMac(const std::vector<uint8_t>& a); // "aa:bb:..", "" if empty
std::optional<std::vector<uint8_t>> parseMac(const std::string& s);

// Bond modes by libvirt's names, as numbered in the kernel.
std::optional<unsigned> bondModeNumber(const std::string& name);
std::string bondModeName(unsigned mode);

// ---- requests ----
// A new link of `kind`; the optional fields are set only when given.
struct NewLink {
    std::string name, kind;
    std::optional<unsigned> mtu;
    std::vector<uint8_t> address;
    int parent = 0; // vlan
    std::optional<unsigned> vlanId;
    std::optional<unsigned> bondMode, miimon, updelay, downdelay;
    std::optional<bool> stp;
    std::optional<unsigned> forwardDelay; // centiseconds
    std::string peer; // veth
};
nl::Message newLinkRequest(const NewLink& l);

// Changes of an existing link; unset fields are left alone.
struct LinkChange {
    int index = 0;
    std::optional<bool> up;
    std::optional<unsigned> mtu;
    std::vector<uint8_t> address;
    std::optional<int> master; // 0 releases
};
nl::Message setLinkRequest(const LinkChange& c);
nl::Message delLinkRequest(int index);
nl::Message addressRequest(bool add, int index, int family, const std::string& address, unsigned prefix);
nl::Message defaultRouteRequest(bool add, int family, const std::string& gateway, int oif);
nl::Message dumpRequest(uint16_t type, int family);

// Parses a printable address of `family`; nullopt when it is none.
std::optional<std::vector<uint8_t>> addressBytes(int family, const std::string& address);

// The kernel's view in one go: one dump per object type, however many
// links there are.
struct Snapshot {
    std::vector<Link> links;
    std::vector<Address> addresses;
    const Link* byName(const std::string& name) const;
    const Link* byIndex(int index) const;
};

// Dumps are cached: a second socket listens to the kernel's link and
// address notifications, and any notice (or a lost one: ENOBUFS) since the
// last dump makes the next call dump again. So repeated reads of an
// unchanged host (a client reading each object's properties) cost no
// dump, and a change by anyone is seen on the next call.
// The error of a refused request: SYSTEM_ERROR, "<what> (<kernel's
// text>): <strerror>", plus a note when the refusal is for lack of
// CAP_NET_ADMIN.
VirtError requestError(const std::string& what, int errnum, const std::string& kernelText);

// Virtual so tests can stand in a kernel where the machine lacks one (a
// kernel without the bonding or 8021q drivers).
class Rtnl {
public:
    Rtnl() = default;
    virtual ~Rtnl();
    Rtnl(const Rtnl&) = delete;
    Rtnl& operator=(const Rtnl&) = delete;

    // Links (and addresses when `withAddresses`). The snapshot stays valid
    // for its holder whatever happens to the cache.
    virtual std::shared_ptr<const Snapshot> snapshot(bool withAddresses);
    virtual std::vector<Route> defaultRoutes();
    // Runs one change; a failure throws VirtError(SYSTEM_ERROR) whose
    // message starts with `what` and says when CAP_NET_ADMIN is missing.
    virtual void run(nl::Message m, const std::string& what);

private:
    nl::Socket& sock();
    Snapshot dump(bool withAddresses);
    bool changed(); // drains the notification socket
    std::optional<nl::Socket> sock_;
    int monitor_ = -1;
    bool monitorTried_ = false;
    std::shared_ptr<const Snapshot> cache_;
    bool cacheHasAddresses_ = false;
};

} // namespace virtbus::rtnl
