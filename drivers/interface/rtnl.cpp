#include "interface/rtnl.h"

#include "fileutil.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace virtbus::rtnl {

namespace {

constexpr const char* kBondModes[]
    = {"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"};

void parseLinkInfo(const nl::Attr& info, Link& l)
{
    auto li = nl::Attrs::nested(info, IFLA_INFO_MAX);
    l.kind = li[IFLA_INFO_KIND].str();
    l.slaveKind = li[IFLA_INFO_SLAVE_KIND].str();
    if (auto data = li[IFLA_INFO_DATA]) {
        if (l.kind == "vlan") {
            auto d = nl::Attrs::nested(data, IFLA_VLAN_MAX);
            if (auto id = d[IFLA_VLAN_ID].u16())
                l.vlanId = *id;
        } else if (l.kind == "bond") {
            auto d = nl::Attrs::nested(data, IFLA_BOND_MAX);
            if (auto m = d[IFLA_BOND_MODE].u8())
                l.bondMode = *m;
            if (auto m = d[IFLA_BOND_MIIMON].u32())
                l.bondMiimon = *m;
        } else if (l.kind == "bridge") {
            auto d = nl::Attrs::nested(data, IFLA_BR_MAX);
            if (auto s = d[IFLA_BR_STP_STATE].u32())
                l.stp = *s != 0;
            if (auto f = d[IFLA_BR_FORWARD_DELAY].u32())
                l.forwardDelay = *f;
        }
    }
    if (auto sdata = li[IFLA_INFO_SLAVE_DATA]; sdata && l.slaveKind == "bond") {
        auto d = nl::Attrs::nested(sdata, IFLA_BOND_SLAVE_MAX);
        l.bondSlavePermAddr = d[IFLA_BOND_SLAVE_PERM_HWADDR].raw();
    }
}

std::string ntop(int family, const nl::Attr& a)
{
    size_t need = family == AF_INET ? 4 : 16;
    if (!a || a.len < need)
        return {};
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family, a.data, buf, sizeof buf))
        return {};
    return buf;
}

} // namespace

std::optional<Link> parseLink(const nlmsghdr* h)
{
    if (h->nlmsg_type != RTM_NEWLINK)
        return std::nullopt;
    const auto* ifi = nl::headerOf<ifinfomsg>(h);
    if (!ifi)
        return std::nullopt;
    Link l;
    l.index = ifi->ifi_index;
    l.flags = ifi->ifi_flags;
    auto a = nl::attrsOf<ifinfomsg>(h, IFLA_MAX);
    l.name = a[IFLA_IFNAME].str();
    if (l.name.empty())
        return std::nullopt;
    l.address = a[IFLA_ADDRESS].raw();
    l.mtu = a[IFLA_MTU].u32().value_or(0);
    l.operstate = a[IFLA_OPERSTATE].u8().value_or(0);
    l.master = static_cast<int>(a[IFLA_MASTER].u32().value_or(0));
    l.parent = static_cast<int>(a[IFLA_LINK].u32().value_or(0));
    if (auto info = a[IFLA_LINKINFO])
        parseLinkInfo(info, l);
    return l;
}

std::optional<Address> parseAddress(const nlmsghdr* h)
{
    if (h->nlmsg_type != RTM_NEWADDR)
        return std::nullopt;
    const auto* ifa = nl::headerOf<ifaddrmsg>(h);
    if (!ifa || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
        return std::nullopt;
    auto a = nl::attrsOf<ifaddrmsg>(h, IFA_MAX);
    Address out;
    out.index = static_cast<int>(ifa->ifa_index);
    out.family = ifa->ifa_family;
    out.prefix = ifa->ifa_prefixlen;
    out.scope = ifa->ifa_scope;
    // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
    out.address = ntop(out.family, a[IFA_LOCAL] ? a[IFA_LOCAL] : a[IFA_ADDRESS]);
    if (out.address.empty())
        return std::nullopt;
    return out;
}

std::optional<Route> parseDefaultRoute(const nlmsghdr* h)
{
    if (h->nlmsg_type != RTM_NEWROUTE)
        return std::nullopt;
    const auto* rt = nl::headerOf<rtmsg>(h);
    if (!rt || rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST)
        return std::nullopt;
    auto a = nl::attrsOf<rtmsg>(h, RTA_MAX);
    uint32_t table = a[RTA_TABLE].u32().value_or(rt->rtm_table);
    if (table != RT_TABLE_MAIN)
        return std::nullopt;
    Route r;
    r.family = rt->rtm_family;
    r.oif = static_cast<int>(a[RTA_OIF].u32().value_or(0));
    r.gateway = ntop(r.family, a[RTA_GATEWAY]);
    if (r.gateway.empty())
        return std::nullopt;
    return r;
}

std::string formatMac(const std::vector<uint8_t>& a)
{
    std::string out;
    for (size_t i = 0; i < a.size(); ++i) {
        char b[4];
        std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", a[i]);
        out += b;
    }
    return out;
}

std::optional<std::vector<uint8_t>> parseMac(const std::string& s)
{
    unsigned v[6];
    char tail;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6
        || s.size() != 17)
        return std::nullopt;
    std::vector<uint8_t> out;
    for (unsigned x : v)
        out.push_back(static_cast<uint8_t>(x));
    return out;
}

std::optional<unsigned> bondModeNumber(const std::string& name)
{
    for (unsigned i = 0; i < std::size(kBondModes); ++i)
        if (name == kBondModes[i])
            return i;
    return std::nullopt;
}

std::string bondModeName(unsigned mode) { return mode < std::size(kBondModes) ? kBondModes[mode] : ""; }

std::optional<std::vector<uint8_t>> addressBytes(int family, const std::string& address)
{
    std::vector<uint8_t> out(family == AF_INET ? 4 : 16);
    if (inet_pton(family, address.c_str(), out.data()) != 1)
        return std::nullopt;
    return out;
}

// ---- requests ----

nl::Message newLinkRequest(const NewLink& l)
{
    nl::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    m.header<ifinfomsg>().ifi_family = AF_UNSPEC;
    m.putString(IFLA_IFNAME, l.name);
    if (l.mtu)
        m.putU32(IFLA_MTU, *l.mtu);
    if (!l.address.empty())
        m.put(IFLA_ADDRESS, l.address.data(), l.address.size());
    if (l.parent)
        m.putU32(IFLA_LINK, static_cast<uint32_t>(l.parent));
    size_t info = m.beginNest(IFLA_LINKINFO);
    m.putString(IFLA_INFO_KIND, l.kind);
    size_t data = m.beginNest(IFLA_INFO_DATA);
    if (l.vlanId)
        m.putU16(IFLA_VLAN_ID, static_cast<uint16_t>(*l.vlanId));
    if (l.bondMode)
        m.putU8(IFLA_BOND_MODE, static_cast<uint8_t>(*l.bondMode));
    if (l.miimon)
        m.putU32(IFLA_BOND_MIIMON, *l.miimon);
    if (l.updelay)
        m.putU32(IFLA_BOND_UPDELAY, *l.updelay);
    if (l.downdelay)
        m.putU32(IFLA_BOND_DOWNDELAY, *l.downdelay);
    if (l.stp)
        m.putU32(IFLA_BR_STP_STATE, *l.stp ? 1 : 0);
    if (l.forwardDelay)
        m.putU32(IFLA_BR_FORWARD_DELAY, *l.forwardDelay);
    m.endNest(data);
    m.endNest(info);
    return m;
}

nl::Message setLinkRequest(const LinkChange& c)
{
    nl::Message m(RTM_NEWLINK, NLM_F_ACK);
    auto& ifi = m.header<ifinfomsg>();
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = c.index;
    if (c.up) {
        ifi.ifi_change = IFF_UP;
        ifi.ifi_flags = *c.up ? IFF_UP : 0;
    }
    if (c.mtu)
        m.putU32(IFLA_MTU, *c.mtu);
    if (!c.address.empty())
        m.put(IFLA_ADDRESS, c.address.data(), c.address.size());
    if (c.master)
        m.putU32(IFLA_MASTER, static_cast<uint32_t>(*c.master));
    return m;
}

nl::Message delLinkRequest(int index)
{
    nl::Message m(RTM_DELLINK, NLM_F_ACK);
    auto& ifi = m.header<ifinfomsg>();
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    return m;
}

nl::Message addressRequest(bool add, int index, int family, const std::string& address, unsigned prefix)
{
    nl::Message m(add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK : NLM_F_ACK);
    auto& ifa = m.header<ifaddrmsg>();
    ifa.ifa_family = static_cast<uint8_t>(family);
    ifa.ifa_prefixlen = static_cast<uint8_t>(prefix);
    ifa.ifa_index = static_cast<uint32_t>(index);
    auto bytes = addressBytes(family, address).value_or(std::vector<uint8_t> {});
    m.put(IFA_LOCAL, bytes.data(), bytes.size());
    m.put(IFA_ADDRESS, bytes.data(), bytes.size());
    return m;
}

nl::Message defaultRouteRequest(bool add, int family, const std::string& gateway, int oif)
{
    nl::Message m(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK : NLM_F_ACK);
    auto& rt = m.header<rtmsg>();
    rt.rtm_family = static_cast<uint8_t>(family);
    rt.rtm_table = RT_TABLE_MAIN;
    rt.rtm_protocol = RTPROT_STATIC;
    rt.rtm_scope = RT_SCOPE_UNIVERSE;
    rt.rtm_type = RTN_UNICAST;
    auto bytes = addressBytes(family, gateway).value_or(std::vector<uint8_t> {});
    m.put(RTA_GATEWAY, bytes.data(), bytes.size());
    m.putU32(RTA_OIF, static_cast<uint32_t>(oif));
    return m;
}

nl::Message dumpRequest(uint16_t type, int family)
{
    nl::Message m(type, NLM_F_DUMP);
    if (type == RTM_GETLINK) {
        m.header<ifinfomsg>().ifi_family = static_cast<uint8_t>(family);
        // Counters are most of a link's bytes and nobody here reads them.
        m.putU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    } else if (type == RTM_GETADDR) {
        m.header<ifaddrmsg>().ifa_family = static_cast<uint8_t>(family);
    } else {
        m.header<rtmsg>().rtm_family = static_cast<uint8_t>(family);
    }
    return m;
}

} // namespace virtbus::rtnl
