// The repeatable items of a <network>: DHCP ranges and static hosts, DNS
// records, static routes and portgroups. Network.Update documents are single items, so
// these parsers serve both the definition and the update path, with
// libvirt's virNetwork*DefParseXML checks and messages.
#include "xml/network_internal.h"

#include "xml/domain_xml.h"

#include <cctype>

namespace virtbus::xml::netdetail {

VirtError netError(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Network, detail); }

IpAddress ipAddressOf(const NetworkIpDef& ip) { return parseIpAddress(ip.address).value_or(IpAddress {}); }

int ipPrefixOf(const NetworkIpDef& ip)
{
    std::optional<IpAddress> mask;
    if (!ip.netmask.empty())
        mask = parseIpAddress(ip.netmask);
    return effectivePrefix(ipAddressOf(ip), mask, ip.prefix);
}

namespace {

// virSocketAddrGetRange's checks; libvirt reports them as internal errors
// without a domain, and clients see exactly that.
void checkRange(const IpAddress& start, const IpAddress& end, const NetworkIpDef& ip)
{
    auto fail = [](const std::string& msg) { return makeError(ErrCode::InternalError, ErrDomain::None, msg); };
    std::string s = formatIpAddress(start), e = formatIpAddress(end);
    IpAddress net = ipAddressOf(ip);
    if (start.family != end.family)
        throw fail("mismatch of address family in range " + s + " - " + e);
    if (start.family != net.family)
        throw fail("mismatch of address family in range " + s + " - " + e + " for network " + ip.address);
    int prefix = ipPrefixOf(ip);
    std::string netPrefix = ip.address + "/" + std::to_string(prefix);
    if (prefix < 0)
        throw fail("bad prefix " + std::to_string(prefix) + " for network " + ip.address + " when checking range " + s
            + " - " + e);
    unsigned p = static_cast<unsigned>(prefix);
    if (!sameNetwork(start, net, p) || !sameNetwork(end, net, p))
        throw fail("range " + s + " - " + e + " is not entirely within network " + netPrefix);
    if (start.family == 4) {
        if (start == maskByPrefix(net, p))
            throw fail("start of range " + s + " - " + e + " in network " + netPrefix + " is the network address");
        if (end == broadcastByPrefix(net, p))
            throw fail("end of range " + s + " - " + e + " in network " + netPrefix + " is the broadcast address");
    }
    // libvirt's legacy limit: only the last 16 bits may differ.
    size_t fixed = start.size() - 2;
    for (size_t i = 0; i < fixed; ++i)
        if (start.bytes[i] != end.bytes[i])
            throw fail("range " + s + " - " + e + " is too large (> 65535)");
    if (compareIp(start, end) > 0)
        throw fail("range " + s + " - " + e + (start.family == 4 ? " is reversed " : " start larger than end"));
}

std::optional<NetworkDhcpLease> parseLease(const xmlNode* parent)
{
    const xmlNode* n = nullptr;
    for (const xmlNode* c : elementChildren(parent))
        if (!n && elemName(c) == "lease")
            n = c;
    auto expiry = n ? attr(n, "expiry") : std::nullopt;
    if (!expiry)
        return std::nullopt; // libvirt ignores a <lease> without expiry
    NetworkDhcpLease lease;
    lease.expiry = parseU64(*expiry, "<lease expiry>");
    std::string unit = attrOr(n, "unit", "minutes");
    checkEnum(unit, {"seconds", "minutes", "hours"}, "<lease unit>");
    // dnsmasq refuses leases shorter than two minutes.
    if (lease.expiry > 0 && ((unit == "seconds" && lease.expiry < 120) || (unit == "minutes" && lease.expiry < 2)))
        throw netError(ErrCode::ConfigUnsupported, "The minimum lease time should be greater than 2 minutes");
    if (lease.expiry > 0)
        lease.unit = unit;
    return lease;
}

} // namespace

NetworkDhcpRange parseDhcpRange(const std::string& net, const NetworkIpDef& ip, const xmlNode* n)
{
    auto start = attr(n, "start");
    if (!start)
        throw netXml("Missing 'start' attribute in dhcp range for network " + q(net));
    auto s = parseIpAddress(*start);
    if (!s)
        throw netXml("Invalid dhcp range start address " + q(*start) + " in network " + q(net));
    auto end = attr(n, "end");
    if (!end)
        throw netXml("Missing 'end' attribute in dhcp range for network " + q(net));
    auto e = parseIpAddress(*end);
    if (!e)
        throw netXml("Invalid dhcp range end address " + q(*end) + " in network " + q(net));
    checkRange(*s, *e, ip);
    return {formatIpAddress(*s), formatIpAddress(*e), parseLease(n)};
}

NetworkDhcpHost parseDhcpHost(const std::string& net, const NetworkIpDef& ip, const xmlNode* n, bool partial)
{
    NetworkDhcpHost h;
    bool v6 = ipAddressOf(ip).family == 6;
    auto mac = attr(n, "mac");
    if (mac) {
        if (v6)
            throw netXml(
                "Invalid to specify MAC address " + q(*mac) + " in network " + q(net) + " IPv6 static host definition");
        if (!isValidMAC(*mac))
            throw netXml("Cannot parse MAC address " + q(*mac) + " in network " + q(net));
        h.mac = normalizeMAC(*mac);
        if (std::stoi(h.mac.substr(0, 2), nullptr, 16) & 1)
            throw netXml("expected unicast mac address, found multicast " + q(*mac) + " in network " + q(net));
    }
    auto id = attr(n, "id");
    if (id) {
        size_t bad = id->find_first_not_of("0123456789abcdefABCDEF:");
        if (bad != std::string::npos)
            throw netXml(
                std::string("Invalid character '") + (*id)[bad] + "' in id " + q(*id) + " of network " + q(net));
        h.id = *id;
    }
    auto name = attr(n, "name");
    if (name) {
        if (name->empty() || !std::isalnum(static_cast<unsigned char>(name->front())))
            throw netXml("Cannot use host name " + q(*name) + " in network " + q(net));
        h.name = *name;
    }
    auto ipText = attr(n, "ip");
    if (ipText) {
        auto a = parseIpAddress(*ipText);
        if (!a)
            throw netXml("Invalid IP address in static host definition for network " + q(net));
        h.ip = formatIpAddress(*a);
    }
    if (partial) {
        if (!mac && !name && !ipText)
            throw netXml("At least one of name, mac, or ip attribute must be specified for "
                         "static host definition in network "
                + q(net));
    } else {
        if (v6 && !id && !name)
            throw netXml("Static host definition in IPv6 network " + q(net) + " must have id or name attribute");
        if (!v6 && !mac && !name)
            throw netXml("Static host definition in IPv4 network " + q(net) + " must have mac or name attribute");
        if (!ipText)
            throw netXml("Missing IP address in static host definition for network " + q(net));
    }
    h.lease = parseLease(n);
    return h;
}

NetworkDnsHost parseDnsHost(const std::string& net, const xmlNode* n, bool partial)
{
    NetworkDnsHost h;
    for (const xmlNode* c : elementChildren(n)) {
        if (elemName(c) != "hostname")
            continue;
        std::string name = textOf(c);
        if (name.empty())
            throw netXml("Missing hostname in network " + q(net) + " DNS HOST record");
        h.hostnames.push_back(name);
    }
    if (h.hostnames.empty() && !partial)
        throw netXml("Missing hostname in network " + q(net) + " DNS HOST record");
    if (auto ip = attr(n, "ip")) {
        auto a = parseIpAddress(*ip);
        if (!a)
            throw netXml("Invalid IP address in network " + q(net) + " DNS HOST record");
        h.ip = formatIpAddress(*a);
    } else if (!partial) {
        throw netXml("Missing IP address in network " + q(net) + " DNS HOST record");
    } else if (h.hostnames.empty()) {
        throw netXml("Missing ip and hostname in network " + q(net) + " DNS HOST record");
    }
    return h;
}

NetworkDnsTxt parseDnsTxt(const std::string& net, const xmlNode* n, bool partial)
{
    auto name = attr(n, "name");
    if (!name)
        throw netXml("missing required name attribute in DNS TXT record of network " + net);
    if (name->find_first_of(" ,") != std::string::npos)
        throw netXml("prohibited character in DNS TXT record name " + q(*name) + " of network " + net);
    auto value = attr(n, "value");
    if (!value && !partial)
        throw netXml("missing required value attribute in DNS TXT record named " + q(*name) + " of network " + net);
    return {*name, value.value_or("")};
}

NetworkDnsSrv parseDnsSrv(const std::string& net, const xmlNode* n, bool partial)
{
    // Characters of /etc/services and /etc/protocols names; '.' separates
    // the fields of an SRV name, so it cannot appear in them.
    static constexpr std::string_view protocolChars
        = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/";
    static constexpr std::string_view serviceChars
        = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/*";
    constexpr size_t maxService = 512 - 30; // RFC 2782 limit minus overhead

    NetworkDnsSrv srv;
    auto service = attr(n, "service");
    if (!service && !partial)
        throw netXml("missing required service attribute in DNS SRV record of network " + q(net));
    srv.service = service.value_or("");
    if (service) {
        if (service->size() > maxService)
            throw netXml("service attribute " + q(*service) + " in network " + q(net) + " is too long, limit is "
                + std::to_string(maxService) + " bytes");
        if (service->find_first_not_of(serviceChars) != std::string::npos)
            throw netXml(
                "invalid character in service attribute " + q(*service) + " in DNS SRV record of network " + q(net));
    }
    auto protocol = attr(n, "protocol");
    if (!protocol && !partial)
        throw netXml(
            "missing required protocol attribute in DNS SRV record " + q(srv.service) + " of network " + q(net));
    srv.protocol = protocol.value_or("");
    if (protocol && protocol->find_first_not_of(protocolChars) != std::string::npos)
        throw netXml(
            "invalid character in protocol attribute " + q(*protocol) + " in DNS SRV record of network " + q(net));
    srv.domain = attrOr(n, "domain");
    srv.target = attrOr(n, "target");

    auto numeric = [&](const char* name, const char* label, unsigned min, unsigned& out) {
        auto v = attr(n, name);
        if (!v)
            return;
        unsigned value = 0;
        bool parsed = true;
        try {
            value = parseUInt(*v, name);
        } catch (const VirtError&) {
            parsed = false;
        }
        if (parsed && !attr(n, "target"))
            throw netXml(std::string("DNS SRV ") + name + " attribute not permitted without target for service "
                + q(srv.service) + " in network " + q(net));
        if (!parsed || value < min || value > 65535)
            throw netXml(std::string(label) + " attribute for service " + q(srv.service) + " in network " + q(net));
        out = value;
    };
    numeric("port", "invalid DNS SRV port", 1, srv.port);
    numeric("priority", "Invalid DNS SRV priority", 0, srv.priority);
    numeric("weight", "invalid DNS SRV weight", 0, srv.weight);
    return srv;
}

NetworkRouteDef parseRoute(const std::string& net, const xmlNode* n)
{
    NetworkRouteDef r;
    std::string pfx = net + ": ";
    r.family = attrOr(n, "family");
    auto address = attr(n, "address");
    auto netmask = attr(n, "netmask");
    auto gateway = attr(n, "gateway");
    if (auto p = attr(n, "prefix")) {
        try {
            r.prefix = parseUInt(*p, "<route prefix>");
        } catch (const VirtError&) {
            throw netXml(pfx + "Invalid prefix specified in route definition");
        }
    }
    if (auto m = attr(n, "metric")) {
        try {
            r.metric = parseUInt(*m, "<route metric>");
        } catch (const VirtError&) {
            throw netXml(pfx + "Invalid metric specified in route definition");
        }
        if (r.metric == 0)
            throw netXml(pfx + "Invalid metric value, must be > 0 in route definition");
    }
    if (!address)
        throw netXml(pfx + "Missing required address attribute in route definition");
    if (!gateway)
        throw netXml(pfx + "Missing required gateway attribute in route definition");
    auto a = parseIpAddress(*address);
    if (!a)
        throw netXml(pfx + "Bad network address " + q(*address) + " in route definition");
    auto g = parseIpAddress(*gateway);
    if (!g)
        throw netXml(pfx + "Bad gateway address " + q(*gateway) + " in route definition");
    unsigned prefix = r.prefix.value_or(0);
    std::optional<IpAddress> mask;
    if (r.family.empty() || r.family == "ipv4") {
        std::string fam = r.family.empty() ? "No family" : "IPv4 family";
        if (a->family != 4)
            throw netXml(pfx + fam + " specified for non-IPv4 address " + q(*address) + " in route definition");
        if (g->family != 4)
            throw netXml(pfx + fam + " specified for non-IPv4 gateway " + q(*address) + " in route definition");
        if (netmask) {
            mask = parseIpAddress(*netmask);
            if (!mask)
                throw netXml(pfx + "Bad netmask address " + q(*netmask) + " in route definition");
            if (mask->family != 4)
                throw netXml(
                    pfx + "Invalid netmask " + q(*netmask) + " for address " + q(*address) + " (both must be IPv4)");
            if (r.prefix)
                throw netXml(pfx + "Route definition cannot have both a prefix and a netmask");
            int bits = netmaskPrefix(*mask);
            if (bits < 0)
                throw netXml(pfx + "Bad netmask address " + q(*netmask) + " in route definition");
            prefix = static_cast<unsigned>(bits);
            r.netmask = formatIpAddress(*mask);
        }
        if (prefix > 32)
            throw netXml(
                pfx + "Invalid prefix " + std::to_string(prefix) + " specified in route definition, must be 0 - 32");
    } else if (r.family == "ipv6") {
        if (a->family != 6)
            throw netXml(pfx + "ipv6 family specified for non-IPv6 address " + q(*address) + " in route definition");
        if (netmask)
            throw netXml(pfx + "Specifying netmask invalid for IPv6 address " + q(*address) + " in route definition");
        if (g->family != 6)
            throw netXml(pfx + "ipv6 specified for non-IPv6 gateway address " + q(*gateway) + " in route definition");
        if (prefix > 128)
            throw netXml(
                pfx + "Invalid prefix " + std::to_string(prefix) + " specified in route definition, must be 0 - 128");
    } else {
        throw netXml(pfx + "Unrecognized family " + q(r.family) + " in route definition");
    }
    if (!(maskByPrefix(*a, prefix) == *a))
        throw netXml(pfx + "Address " + q(*address)
            + " in route definition is not a network "
              "address");
    r.address = formatIpAddress(*a);
    r.gateway = formatIpAddress(*g);
    return r;
}

PortgroupKey portgroupKey(const xmlNode* n)
{
    auto name = attr(n, "name");
    if (!name)
        throw netXml("Missing required name attribute in portgroup");
    std::string isDefault = attrOr(n, "default");
    if (!isDefault.empty())
        checkEnum(isDefault, {"yes", "no"}, "<portgroup default>");
    return {*name, isDefault == "yes"};
}

PortgroupKey portgroupKey(std::string_view rawXml)
{
    XmlDoc doc = parseDocument(rawXml, "(portgroup)");
    return portgroupKey(xmlDocGetRootElement(doc.get()));
}

} // namespace virtbus::xml::netdetail
