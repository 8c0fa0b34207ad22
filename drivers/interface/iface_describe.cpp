// Names, derived MACs, and the live XML description of a link.
#include "interface/iface_driver.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstdio>

namespace virtbus::iface {

namespace {
constexpr size_t kMaxEcho = 64;
std::string echo(const std::string& s) { return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) + "..." : s; }

constexpr const char* kOperStates[] = {"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"};
} // namespace

void checkName(const std::string& name)
{
    // IFNAMSIZ is 16 with the NUL.
    if (name.size() > 15)
        throw err::xml("interface name '" + echo(name) + "' is longer than 15 characters");
    if (name.find('/') != std::string::npos)
        throw err::xml("interface name '" + echo(name) + "' must not contain '/'");
    if (name == "." || name == "..")
        throw err::xml("interface name '" + name + "' is not allowed");
    for (char c : name)
        if (c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            throw err::xml("interface name '" + echo(name) + "' must not contain whitespace or ':'");
}

void checkNames(const xml::HostInterfaceDef& def)
{
    checkName(def.name);
    for (const auto& m : def.members)
        checkNames(m);
    if (def.type == "vlan")
        checkName(def.vlanDevice);
}

std::string derivedMac(const std::string& name)
{
    // FNV-1a: stable across runs and builds, unlike std::hash.
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : "virtbus-interface:" + name) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    std::vector<uint8_t> b(6);
    for (int i = 0; i < 6; ++i)
        b[i] = static_cast<uint8_t>(h >> (8 * i));
    b[0] = static_cast<uint8_t>((b[0] & 0xfe) | 0x02); // unicast, locally administered
    return rtnl::formatMac(b);
}

xml::HostInterfaceDef describe(const rtnl::Snapshot& s, const rtnl::Link& l, const std::vector<rtnl::Route>& routes,
    const xml::HostInterfaceDef* def, bool member)
{
    xml::HostInterfaceDef d;
    d.name = l.name;
    // A bond takes only ethernet members and a bridge no bridges; a
    // member the XML cannot express is shown as the plain link it is.
    bool plain = member && (l.kind == "bridge" || l.kind == "bond");
    if (!plain && (l.kind == "bridge" || l.kind == "bond" || l.kind == "vlan"))
        d.type = l.kind;
    else
        d.type = "ethernet";
    if (def && !member)
        d.startMode = def->startMode;
    if (l.mtu)
        d.mtu = l.mtu;
    if (d.type == "ethernet")
        d.mac
            = rtnl::formatMac(l.slaveKind == "bond" && !l.bondSlavePermAddr.empty() ? l.bondSlavePermAddr : l.address);
    if (d.type != "bridge" && l.operstate < std::size(kOperStates))
        d.link.state = kOperStates[l.operstate];

    if (d.type == "bridge" || d.type == "bond") {
        for (const auto& m : s.links)
            if (m.master == l.index)
                d.members.push_back(describe(s, m, routes, nullptr, true));
    }
    if (d.type == "bridge") {
        d.stp = l.stp.value_or(false);
        if (l.forwardDelay) {
            char b[32];
            std::snprintf(b, sizeof b, "%u", *l.forwardDelay / 100);
            d.delay = b;
        }
    } else if (d.type == "bond") {
        if (l.bondMode)
            d.bondMode = rtnl::bondModeName(*l.bondMode);
        if (l.bondMiimon && *l.bondMiimon)
            d.bondMonitor = "<miimon freq='" + std::to_string(*l.bondMiimon) + "'/>";
    } else if (d.type == "vlan") {
        d.vlanTag = std::to_string(l.vlanId.value_or(0));
        const rtnl::Link* parent = s.byIndex(l.parent);
        d.vlanDevice = parent ? parent->name : "";
        if (d.vlanDevice.empty())
            d.type = "ethernet"; // its lower device is in another namespace
    }
    if (member)
        return d;

    for (int family : {AF_INET, AF_INET6}) {
        xml::InterfaceProtocolDef p;
        p.family = family == AF_INET ? "ipv4" : "ipv6";
        for (const auto& a : s.addresses) {
            // Link-local IPv6 addresses are the kernel's own, never configured.
            if (a.index != l.index || a.family != family || (family == AF_INET6 && a.scope == RT_SCOPE_LINK))
                continue;
            xml::InterfaceIPDef ip;
            ip.address = a.address;
            ip.prefix = a.prefix;
            p.ips.push_back(std::move(ip));
        }
        for (const auto& r : routes)
            if (r.oif == l.index && r.family == family) {
                p.gateway = r.gateway;
                break;
            }
        if (def && (l.flags & IFF_UP))
            for (const auto& dp : def->protocols)
                if (dp.family == p.family) {
                    p.dhcp = dp.dhcp;
                    p.peerdns = dp.peerdns;
                    p.autoconf = dp.autoconf;
                }
        if (!p.ips.empty() || !p.gateway.empty() || p.dhcp || p.autoconf)
            d.protocols.push_back(std::move(p));
    }
    return d;
}

} // namespace virtbus::iface
