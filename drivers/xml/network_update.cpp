// virNetworkUpdate on a NetworkDef: one element added, changed or removed
// in one section, with libvirt's matching rules and messages
// (virNetworkDefUpdateSection and its helpers).
#include "xml/network_internal.h"

#include <algorithm>

namespace virtbus::xml {

namespace {

using namespace netdetail;
using Cmd = NetworkUpdateCommand;
using Section = NetworkUpdateSection;

VirtError invalid(std::string_view detail) { return netError(ErrCode::OperationInvalid, detail); }

VirtError unsupported(std::string_view detail) { return netError(ErrCode::OperationUnsupported, detail); }

VirtError unknownCommand(unsigned command)
{
    return unsupported("unrecognized network update command code " + std::to_string(command));
}

bool isAdd(unsigned command) { return command == unsigned(Cmd::AddFirst) || command == unsigned(Cmd::AddLast); }

template <typename T>
void insertEntry(std::vector<T>& list, unsigned command, T item)
{
    auto pos = command == unsigned(Cmd::AddFirst) ? list.begin() : list.end();
    list.insert(pos, std::move(item));
}

void checkElement(const NetworkDef& def, const xmlNode* node, std::string_view expected)
{
    std::string name = elemName(node);
    if (name != expected)
        throw netXml("unexpected element <" + name + ">, expecting <" + std::string(expected)
            + ">, while updating network " + q(def.name));
}

// glib's printf writes a missing string as "(null)", and libvirt's
// messages show it that way.
std::string orNull(const std::string& s) { return s.empty() ? "(null)" : s; }

std::string orUnknown(const std::string& s) { return s.empty() ? "unknown" : s; }

NetworkIpDef& dhcpIp(NetworkDef& def, int parentIndex)
{
    const NetworkIpDef* ip = findDhcpIp(def, parentIndex);
    if (ip)
        return def.ips[static_cast<size_t>(ip - def.ips.data())];
    if (parentIndex >= 0)
        throw invalid("couldn't update dhcp host entry - no <ip> element found at index " + std::to_string(parentIndex)
            + " in network " + q(def.name));
    throw invalid("couldn't update dhcp host entry - no <ip> element found in network " + q(def.name));
}

// dnsmasq serves DHCP on one subnet per address family.
void checkSingleDhcp(const NetworkDef& def, const NetworkIpDef& target)
{
    int family = ipAddressOf(target).family;
    for (const auto& ip : def.ips)
        if (&ip != &target && ipAddressOf(ip).family == family && ip.hasDhcp())
            throw invalid(std::string("dhcp is supported only for a single ") + (family == 4 ? "IPv4" : "IPv6")
                + " address on each network");
}

void updateDhcpHost(NetworkDef& def, unsigned command, int parentIndex, const xmlNode* node)
{
    checkElement(def, node, "host");
    NetworkIpDef& ip = dhcpIp(def, parentIndex);
    bool partial = command == unsigned(Cmd::Delete);
    NetworkDhcpHost host = parseDhcpHost(def.name, ip, node, partial);
    if (!partial && parseIpAddress(host.ip)->family != ipAddressOf(ip).family)
        throw invalid("the address family of a host entry IP must match the address family of "
                      "the dhcp element's parent");
    auto& hosts = ip.hosts;
    auto same = [](const std::string& a, const std::string& b) { return !a.empty() && a == b; };
    if (command == unsigned(Cmd::Modify)) {
        auto it = std::find_if(hosts.begin(), hosts.end(), [&](const NetworkDhcpHost& h) {
            return same(host.mac, h.mac) || same(host.ip, h.ip) || same(host.name, h.name);
        });
        if (it == hosts.end())
            throw invalid("couldn't locate an existing dhcp host entry with \"mac='" + orUnknown(host.mac)
                + "'\" \"name='" + orNull(host.name) + "'\" \"ip='" + orUnknown(host.ip) + "'\" in network "
                + q(def.name));
        *it = std::move(host);
    } else if (isAdd(command)) {
        checkSingleDhcp(def, ip);
        for (const auto& h : hosts)
            if (same(host.mac, h.mac) || same(host.name, h.name) || same(host.ip, h.ip))
                throw invalid("there is an existing dhcp host entry in network " + q(def.name)
                    + " that matches \"<host mac='" + orUnknown(host.mac) + "' name='" + orNull(host.name) + "' ip='"
                    + orUnknown(host.ip) + "'/>\"");
        insertEntry(hosts, command, std::move(host));
    } else if (command == unsigned(Cmd::Delete)) {
        // Every attribute the pattern gives must match.
        auto it = std::find_if(hosts.begin(), hosts.end(), [&](const NetworkDhcpHost& h) {
            return (host.mac.empty() || h.mac.empty() || host.mac == h.mac)
                && (host.name.empty() || host.name == h.name) && (host.ip.empty() || host.ip == h.ip);
        });
        if (it == hosts.end())
            throw invalid("couldn't locate a matching dhcp host entry in network " + q(def.name));
        hosts.erase(it);
    } else {
        throw unknownCommand(command);
    }
}

void updateDhcpRange(NetworkDef& def, unsigned command, int parentIndex, const xmlNode* node)
{
    checkElement(def, node, "range");
    NetworkIpDef& ip = dhcpIp(def, parentIndex);
    if (command == unsigned(Cmd::Modify))
        throw unsupported("dhcp ranges cannot be modified, only added or deleted");
    NetworkDhcpRange range = parseDhcpRange(def.name, ip, node);
    if (parseIpAddress(range.start)->family != ipAddressOf(ip).family)
        throw invalid("the address family of a dhcp range must match the address family of the "
                      "dhcp element's parent");
    auto& ranges = ip.ranges;
    auto it = std::find_if(ranges.begin(), ranges.end(),
        [&](const NetworkDhcpRange& r) { return r.start == range.start && r.end == range.end; });
    if (isAdd(command)) {
        checkSingleDhcp(def, ip);
        if (it != ranges.end())
            throw invalid("there is an existing dhcp range entry in network " + q(def.name)
                + " that matches \"<range start='" + range.start + "' end='" + range.end + "'/>\"");
        insertEntry(ranges, command, std::move(range));
    } else if (command == unsigned(Cmd::Delete)) {
        if (it == ranges.end())
            throw invalid("couldn't locate a matching dhcp range entry in network " + q(def.name));
        ranges.erase(it);
    } else {
        throw unknownCommand(command);
    }
}

void updateForwardInterface(NetworkDef& def, unsigned command, const xmlNode* node)
{
    checkElement(def, node, "interface");
    if (command == unsigned(Cmd::Modify))
        throw unsupported("forward interface entries cannot be modified, only added or deleted");
    auto dev = attr(node, "dev");
    if (!dev)
        throw netXml("missing dev attribute in <interface> element");
    auto& ifs = def.forward.interfaces;
    auto it = std::find_if(ifs.begin(), ifs.end(), [&](const NetworkForwardInterface& i) { return i.dev == *dev; });
    if (isAdd(command)) {
        if (it != ifs.end())
            throw invalid("there is an existing interface entry in network " + q(def.name)
                + " that matches \"<interface dev='" + *dev + "'>\"");
        insertEntry(ifs, command, NetworkForwardInterface {*dev, 0});
    } else if (command == unsigned(Cmd::Delete)) {
        if (it == ifs.end())
            throw invalid("couldn't find an interface entry in network " + q(def.name) + " matching <interface dev='"
                + *dev + "'>");
        if (it->connections > 0)
            throw invalid("unable to delete interface " + q(*dev) + " in network " + q(def.name)
                + ". It is currently being used by " + std::to_string(it->connections) + " domains.");
        ifs.erase(it);
    } else {
        throw unknownCommand(command);
    }
}

void updatePortgroup(NetworkDef& def, unsigned command, const xmlNode* node)
{
    checkElement(def, node, "portgroup");
    PortgroupKey key = portgroupKey(node);
    int foundName = -1, foundDefault = -1;
    for (size_t i = 0; i < def.portgroups.size(); ++i) {
        PortgroupKey existing = portgroupKey(def.portgroups[i]);
        if (existing.name == key.name)
            foundName = static_cast<int>(i);
        if (existing.isDefault)
            foundDefault = static_cast<int>(i);
    }
    bool add = isAdd(command);
    if (foundName < 0 && (command == unsigned(Cmd::Modify) || command == unsigned(Cmd::Delete)))
        throw invalid("couldn't find a portgroup entry in network " + q(def.name)
            + " matching <portgroup name=" + q(key.name) + ">");
    if (foundName >= 0 && add)
        throw invalid("there is an existing portgroup entry in network " + q(def.name)
            + " that matches \"<portgroup name=" + q(key.name) + ">\"");
    if (command != unsigned(Cmd::Delete) && key.isDefault && foundDefault >= 0 && foundDefault != foundName)
        throw invalid("a different portgroup entry in network " + q(def.name)
            + " is already set as the default. Only one default is allowed.");
    if (command == unsigned(Cmd::Modify))
        def.portgroups[static_cast<size_t>(foundName)] = rawXml(node);
    else if (add)
        insertEntry(def.portgroups, command, rawXml(node));
    else if (command == unsigned(Cmd::Delete))
        def.portgroups.erase(def.portgroups.begin() + foundName);
    else
        throw unknownCommand(command);
}

// Shared shape of the three DNS sections: find by `matches`, refuse
// duplicates on add, refuse an ambiguous delete.
template <typename T, typename Match>
void updateDnsList(std::vector<T>& list, unsigned command, T item, Match matches, const std::string& duplicate,
    const std::string& missing, const std::string& ambiguous)
{
    size_t count = 0, found = 0;
    for (size_t i = 0; i < list.size(); ++i) {
        if (matches(list[i])) {
            ++count;
            found = i;
        }
    }
    if (isAdd(command)) {
        if (count > 0)
            throw invalid(duplicate);
        insertEntry(list, command, std::move(item));
    } else if (command == unsigned(Cmd::Delete)) {
        if (count == 0)
            throw invalid(missing);
        if (count > 1)
            throw invalid(ambiguous);
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(found));
    } else {
        throw unknownCommand(command);
    }
}

void updateDnsHost(NetworkDef& def, unsigned command, const xmlNode* node)
{
    if (command == unsigned(Cmd::Modify))
        throw unsupported("DNS HOST records cannot be modified, only added or deleted");
    checkElement(def, node, "host");
    bool add = isAdd(command);
    NetworkDnsHost host = parseDnsHost(def.name, node, !add);
    auto matches = [&](const NetworkDnsHost& h) {
        if (!host.ip.empty() && host.ip == h.ip)
            return true;
        // Several addresses may share a name, so only a delete matches by name.
        if (add)
            return false;
        for (const auto& n : host.hostnames)
            if (std::find(h.hostnames.begin(), h.hostnames.end(), n) != h.hostnames.end())
                return true;
        return false;
    };
    // `matches` reads `host`, so the list gets a copy.
    updateDnsList(def.dns.hosts, command, NetworkDnsHost(host), matches,
        "there is already at least one DNS HOST record with a matching field in network " + def.name,
        "couldn't locate a matching DNS HOST record in network " + def.name,
        "multiple matching DNS HOST records were found in network " + def.name);
}

void updateDnsTxt(NetworkDef& def, unsigned command, const xmlNode* node)
{
    if (command == unsigned(Cmd::Modify))
        throw unsupported("DNS TXT records cannot be modified, only added or deleted");
    checkElement(def, node, "txt");
    NetworkDnsTxt txt = parseDnsTxt(def.name, node, !isAdd(command));
    std::string name = txt.name;
    updateDnsList(
        def.dns.txts, command, std::move(txt), [&](const NetworkDnsTxt& t) { return t.name == name; },
        "there is already a DNS TXT record with name " + q(name) + " in network " + def.name,
        "couldn't locate a matching DNS TXT record in network " + def.name,
        "couldn't locate a matching DNS TXT record in network " + def.name);
}

void updateDnsSrv(NetworkDef& def, unsigned command, const xmlNode* node)
{
    if (command == unsigned(Cmd::Modify))
        throw unsupported("DNS SRV records cannot be modified, only added or deleted");
    checkElement(def, node, "srv");
    NetworkDnsSrv srv = parseDnsSrv(def.name, node, !isAdd(command));
    auto field = [](const std::string& want, const std::string& have) { return want.empty() || want == have; };
    auto matches = [&](const NetworkDnsSrv& s) {
        return field(srv.domain, s.domain) && field(srv.service, s.service) && field(srv.protocol, s.protocol)
            && field(srv.target, s.target);
    };
    // `matches` reads `srv`, so the list gets a copy.
    updateDnsList(def.dns.srvs, command, NetworkDnsSrv(srv), matches,
        "there is already at least one DNS SRV record matching all specified fields in "
        "network "
            + def.name,
        "couldn't locate a matching DNS SRV record in network " + def.name,
        "multiple DNS SRV records matching all specified fields were found in network " + def.name);
}

void applyUpdate(NetworkDef& def, unsigned command, unsigned section, int parentIndex, const xmlNode* node)
{
    auto noSupport = [&](const char* name) {
        return unsupported("can't update " + q(name) + " section of network " + q(def.name));
    };
    switch (static_cast<Section>(section)) {
    case Section::Bridge: throw noSupport("bridge");
    case Section::Domain: throw noSupport("domain");
    case Section::Ip: throw noSupport("ip");
    case Section::Forward: throw noSupport("forward");
    case Section::ForwardPf: throw noSupport("forward pf");
    case Section::IpDhcpHost: return updateDhcpHost(def, command, parentIndex, node);
    case Section::IpDhcpRange: return updateDhcpRange(def, command, parentIndex, node);
    case Section::ForwardInterface: return updateForwardInterface(def, command, node);
    case Section::Portgroup: return updatePortgroup(def, command, node);
    case Section::DnsHost: return updateDnsHost(def, command, node);
    case Section::DnsTxt: return updateDnsTxt(def, command, node);
    case Section::DnsSrv: return updateDnsSrv(def, command, node);
    }
    throw unsupported("can't update unrecognized section of network");
}

} // namespace

const NetworkIpDef* findDhcpIp(const NetworkDef& def, int parentIndex)
{
    if (parentIndex >= 0)
        return static_cast<size_t>(parentIndex) < def.ips.size() ? &def.ips[size_t(parentIndex)] : nullptr;
    for (const auto& ip : def.ips)
        if (ip.hasDhcp())
            return &ip;
    for (int family : {4, 6})
        for (const auto& ip : def.ips)
            if (ipAddressOf(ip).family == family)
                return &ip;
    return nullptr;
}

void updateNetworkDef(NetworkDef& def, unsigned command, unsigned section, int parentIndex, std::string_view xml)
{
    XmlDoc doc = parseDocument(xml, "network_update_xml");
    const xmlNode* node = xmlDocGetRootElement(doc.get());
    if (!node)
        throw err::xml("missing root element");
    // Edit a copy so a failure leaves the definition as it was.
    NetworkDef updated = def;
    applyUpdate(updated, command, section, parentIndex, node);
    def = std::move(updated);
}

} // namespace virtbus::xml
