// <network> -> NetworkDef, with the checks virNetworkDefParseXML makes
// before libvirt accepts a definition (forward mode versus bridge, MTU
// and addresses, reachable route gateways, ...).
#include "xml/domain_internal.h"
#include "xml/network_internal.h"

#include <algorithm>
#include <map>

namespace virtbus::xml {

bool NetworkDnsDef::empty() const
{
    return enable.empty() && forwardPlainNames.empty() && forwarders.empty() && txts.empty() && srvs.empty()
        && hosts.empty() && extra.empty();
}

namespace {

using namespace netdetail;
using detail::preservedOf;

VirtError netConfig(std::string_view detail) { return netError(ErrCode::ConfigUnsupported, detail); }

std::string yesNoAttr(const xmlNode* n, const char* name, std::string_view what)
{
    std::string v = attrOr(n, name);
    if (!v.empty())
        checkEnum(v, {"yes", "no"}, what);
    return v;
}

NetworkNatDef parseNat(const std::string& net, const xmlNode* n)
{
    NetworkNatDef nat;
    nat.ipv6 = yesNoAttr(n, "ipv6", "<nat ipv6>");
    const xmlNode* addr = nullptr;
    const xmlNode* port = nullptr;
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name != "address" && name != "port")
            throw netXml("unexpected element <" + name + "> in <nat> of network " + net);
        const xmlNode*& slot = name == "address" ? addr : port;
        if (slot)
            throw netXml("Only one <" + name
                + "> element is allowed in <nat> in <forward> in "
                  "network "
                + net);
        slot = c;
    }
    if (addr) {
        std::string where = " in <nat> in <forward> in network " + q(net);
        auto start = attr(addr, "start");
        auto end = attr(addr, "end");
        if (!start)
            throw netXml("missing 'start' attribute in <address> element in <nat> in <forward> "
                         "in network "
                + net);
        if (!end)
            throw netXml("missing 'end' attribute in <address> element in <nat> in <forward> "
                         "in network "
                + net);
        auto s = parseIpAddress(*start);
        if (!s || s->family != 4)
            throw netXml("Bad ipv4 start address " + q(*start) + where);
        auto e = parseIpAddress(*end);
        if (!e || e->family != 4)
            throw netXml("Bad ipv4 end address " + q(*end) + where);
        nat.addressStart = formatIpAddress(*s);
        nat.addressEnd = formatIpAddress(*e);
        if (compareIp(*s, *e) > 0)
            throw makeError(ErrCode::InternalError, ErrDomain::None,
                "range " + nat.addressStart + " - " + nat.addressEnd + " is reversed ");
    }
    if (port) {
        auto bound = [&](const char* which, unsigned min) {
            auto v = attr(port, which);
            unsigned value = 0;
            bool ok = v.has_value();
            try {
                if (ok)
                    value = parseUInt(*v, which);
            } catch (const VirtError&) {
                ok = false;
            }
            if (!ok || value > 65535 || value < min)
                throw netXml(std::string("Missing or invalid '") + which
                    + "' attribute in <port> in <nat> in <forward> in network " + net);
            return value;
        };
        nat.portStart = bound("start", 0);
        nat.portEnd = bound("end", nat.portStart);
    }
    return nat;
}

NetworkForwardDef parseForward(const std::string& net, const xmlNode* n)
{
    NetworkForwardDef fwd;
    fwd.mode = attrOr(n, "mode", "nat");
    static constexpr std::string_view modes[]
        = {"nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"};
    if (std::find(std::begin(modes), std::end(modes), fwd.mode) == std::end(modes))
        throw netConfig("unknown forwarding type " + q(fwd.mode));
    fwd.managed = yesNoAttr(n, "managed", "<forward managed>");
    fwd.extra.attrs = otherAttrs(n, {"mode", "managed", "dev"});

    std::vector<const xmlNode*> ifs, pfs, nats;
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "interface") {
            ifs.push_back(c);
        } else if (name == "pf") {
            pfs.push_back(c);
        } else if (name == "nat") {
            nats.push_back(c);
        } else if (name == "address") {
            std::string type = attrOr(c, "type");
            if (type.empty())
                throw netXml("missing address type in network " + net);
            if (type != "pci")
                throw netConfig("unknown address type " + q(type) + " in network " + net);
            std::string raw = rawXml(c);
            if (std::find(fwd.addresses.begin(), fwd.addresses.end(), raw) != fwd.addresses.end())
                throw netXml("PCI device " + raw + " can only be listed once in network " + net);
            fwd.addresses.push_back(raw);
        } else if (name == "driver") {
            fwd.driverName = attrOr(c, "name");
            if (fwd.driverName != "kvm" && fwd.driverName != "vfio")
                throw netConfig("Unknown forward <driver name=" + q(fwd.driverName) + "/> in network " + net);
        } else {
            fwd.extra.children.push_back(rawXml(c));
        }
    }
    if (nats.size() > 1)
        throw netXml("Only one <nat> element is allowed in <forward> of network " + net);
    if (nats.size() == 1) {
        if (fwd.mode != "nat")
            throw netXml("The <nat> element can only be used when <forward> 'mode' is 'nat' in "
                         "network "
                + net);
        fwd.nat = parseNat(net, nats.front());
    }
    auto dev = attr(n, "dev");
    if (dev && (!fwd.addresses.empty() || !pfs.empty()))
        throw netXml("the <forward> 'dev' attribute cannot be used when <address> or <pf> "
                     "sub-elements are present in network "
            + net);
    // The schema offers <interface> and <address> lists as alternatives.
    if (!ifs.empty() && !fwd.addresses.empty())
        throw netXml("<forward> of network " + net + " cannot list both <interface> and <address> elements");
    if (dev)
        fwd.interfaces.push_back({*dev, 0});
    for (size_t i = 0; i < ifs.size(); ++i) {
        auto d = attr(ifs[i], "dev");
        if (!d)
            throw netXml("Missing required dev attribute in <forward> <interface> element of "
                         "network "
                + net);
        if (i == 0 && dev) {
            if (*d != *dev)
                throw netXml(
                    "<forward dev=" + q(*dev) + "> must match first <interface dev=" + q(*d) + "/> in network " + net);
            continue;
        }
        for (const auto& existing : fwd.interfaces)
            if (existing.dev == *d)
                throw netXml("interface " + q(*d) + " can only be listed once in network " + net);
        fwd.interfaces.push_back({*d, 0});
    }
    if (pfs.size() > 1)
        throw netXml("Only one <pf> element is allowed in <forward> of network " + net);
    if (pfs.size() == 1) {
        auto d = attr(pfs.front(), "dev");
        if (!d)
            throw netXml("Missing required dev attribute in <pf> element of network " + q(net));
        fwd.pf = *d;
    }
    return fwd;
}

NetworkBridgeDef parseBridge(const std::string& net, const xmlNode* n)
{
    NetworkBridgeDef b;
    b.name = attrOr(n, "name");
    b.zone = attrOr(n, "zone");
    if (auto stp = attr(n, "stp")) {
        checkEnum(*stp, {"on", "off"}, "<bridge stp>");
        b.stp = *stp == "on";
    }
    if (auto delay = attr(n, "delay")) {
        try {
            b.delay = parseU64(*delay, "<bridge delay>");
        } catch (const VirtError&) {
            throw netXml("Invalid delay value in network " + q(net));
        }
    }
    b.macTableManager = attrOr(n, "macTableManager");
    if (attr(n, "macTableManager") && b.macTableManager != "kernel" && b.macTableManager != "libvirt")
        throw netXml("Invalid macTableManager setting " + q(b.macTableManager) + " in network " + q(net));
    b.extra = preservedOf(n, {"name", "zone", "stp", "delay", "macTableManager"});
    return b;
}

NetworkDnsDef parseDns(const std::string& net, const xmlNode* n)
{
    NetworkDnsDef dns;
    dns.enable = yesNoAttr(n, "enable", "<dns enable>");
    dns.forwardPlainNames = yesNoAttr(n, "forwardPlainNames", "<dns forwardPlainNames>");
    dns.extra.attrs = otherAttrs(n, {"enable", "forwardPlainNames"});
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "forwarder") {
            NetworkDnsForwarder f;
            if (auto a = attr(c, "addr")) {
                auto ip = parseIpAddress(*a);
                if (!ip)
                    throw netXml("Invalid forwarder IP address " + q(*a) + " in network " + q(net));
                f.addr = formatIpAddress(*ip);
            }
            f.domain = attrOr(c, "domain");
            if (!attr(c, "addr") && !attr(c, "domain"))
                throw netXml("Invalid forwarder element, must contain at least one of addr or "
                             "domain");
            dns.forwarders.push_back(std::move(f));
        } else if (name == "host") {
            dns.hosts.push_back(parseDnsHost(net, c, false));
        } else if (name == "srv") {
            dns.srvs.push_back(parseDnsSrv(net, c, false));
        } else if (name == "txt") {
            dns.txts.push_back(parseDnsTxt(net, c, false));
        } else {
            dns.extra.children.push_back(rawXml(c));
        }
    }
    if (dns.enable == "no" && (!dns.forwarders.empty() || !dns.hosts.empty() || !dns.srvs.empty() || !dns.txts.empty()))
        throw netXml("Extra data in disabled network " + q(net));
    return dns;
}

NetworkIpDef parseIp(const std::string& net, const xmlNode* n)
{
    NetworkIpDef ip;
    ip.family = attrOr(n, "family");
    auto address = attr(n, "address");
    if (!address)
        throw netXml("Missing required address attribute in network " + q(net));
    auto addr = parseIpAddress(*address);
    if (!addr)
        throw netXml("Invalid address " + q(*address) + " in network " + q(net));
    ip.address = formatIpAddress(*addr);
    auto netmask = attr(n, "netmask");
    std::optional<IpAddress> mask;
    if (netmask && !(mask = parseIpAddress(*netmask)))
        throw netXml("Invalid netmask " + q(*netmask) + " in network " + q(net));
    if (auto p = attr(n, "prefix"))
        ip.prefix = parseUInt(*p, "<ip prefix>");
    ip.localPtr = yesNoAttr(n, "localPtr", "<ip localPtr>");

    if (ip.family.empty() || ip.family == "ipv4") {
        if (addr->family != 4)
            throw netConfig((ip.family.empty() ? "no" : "ipv4") + std::string(" family specified for non-IPv4 address ")
                + q(*address) + " in network " + q(net));
        if (mask) {
            if (mask->family != 4)
                throw netConfig("Invalid netmask " + q(*netmask) + " for address " + q(*address) + " in network "
                    + q(net) + " (both must be IPv4)");
            if (ip.prefix > 0)
                throw netConfig("Network " + q(net) + " IP address cannot have both a prefix and a netmask");
            if (netmaskPrefix(*mask) < 0)
                throw netXml("Invalid netmask " + q(*netmask) + " in network " + q(net));
            ip.netmask = formatIpAddress(*mask);
        } else if (ip.prefix > 32) {
            throw netConfig("Invalid IPv4 prefix '" + std::to_string(ip.prefix) + "' in network " + q(net));
        }
    } else if (ip.family == "ipv6") {
        if (addr->family != 6)
            throw netConfig("Family 'ipv6' specified for non-IPv6 address " + q(*address) + " in network " + q(net));
        if (netmask)
            throw netConfig("netmask not allowed for IPv6 address " + q(*address) + " in network " + q(net));
        if (ip.prefix > 128)
            throw netConfig("Invalid IPv6 prefix '" + std::to_string(ip.prefix) + "' in network " + q(net));
    } else {
        throw netXml("Unrecognized family " + q(ip.family) + " in network " + q(net));
    }
    ip.extra.attrs = otherAttrs(n, {"family", "address", "netmask", "prefix", "localPtr"});

    bool haveDhcp = false;
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "dhcp" && !haveDhcp) {
            haveDhcp = true;
            ip.dhcpExtra.attrs = otherAttrs(c, {});
            for (const xmlNode* d : elementChildren(c)) {
                std::string dn = elemName(d);
                if (dn == "range") {
                    ip.ranges.push_back(parseDhcpRange(net, ip, d));
                } else if (dn == "host") {
                    ip.hosts.push_back(parseDhcpHost(net, ip, d, false));
                } else if (dn == "bootp" && addr->family == 4 && ip.bootpFile.empty()) {
                    auto file = attr(d, "file");
                    if (!file)
                        throw netXml("Missing required attribute 'file' in element 'bootp'");
                    ip.bootpFile = *file;
                    if (auto server = attr(d, "server")) {
                        auto s = parseIpAddress(*server);
                        if (!s)
                            throw netXml("Invalid bootp server address " + q(*server) + " in network " + q(net));
                        ip.bootpServer = formatIpAddress(*s);
                    }
                } else if (dn != "bootp") {
                    ip.dhcpExtra.children.push_back(rawXml(d));
                }
            }
        } else if (name == "tftp" && ip.tftpRoot.empty()) {
            if (addr->family != 4)
                throw netConfig("Unsupported <tftp> element in an IPv6 element in network " + q(net));
            ip.tftpRoot = attrOr(c, "root");
        } else {
            ip.extra.children.push_back(rawXml(c));
        }
    }
    return ip;
}

// A static route is only usable through a gateway on one of the
// network's own subnets.
void checkRouteGateways(const NetworkDef& def)
{
    for (const auto& r : def.routes) {
        IpAddress gw = *parseIpAddress(r.gateway);
        bool reachable = std::any_of(def.ips.begin(), def.ips.end(), [&](const NetworkIpDef& ip) {
            int prefix = ipPrefixOf(ip);
            return prefix >= 0 && sameNetwork(ipAddressOf(ip), gw, static_cast<unsigned>(prefix));
        });
        if (!reachable)
            throw netConfig(
                "unreachable static route gateway " + q(r.gateway) + " specified for network " + q(def.name));
    }
}

void checkForwardMode(const NetworkDef& def)
{
    const auto& fwd = def.forward;
    const std::string& mode = fwd.mode;
    std::string net = q(def.name);
    bool l3 = mode.empty() || mode == "nat" || mode == "route" || mode == "open";
    if (mode == "nat" || mode == "route" || mode == "open") {
        if (def.ips.empty())
            throw netXml(mode + " forwarding requested, but no IP address provided for network " + net);
        if (fwd.interfaces.size() > 1)
            throw netXml("multiple forwarding interfaces specified for network " + net + ", only one is supported");
        if (mode == "open" && !fwd.interfaces.empty())
            throw netXml("forward dev not allowed for network " + net + " with forward mode=" + q(mode));
    } else if (!l3) {
        const auto& b = def.bridge;
        if (mode != "bridge") {
            std::string where = " not allowed in " + mode + " mode (network " + net + ")";
            if (!b.name.empty())
                throw netXml("bridge name" + where);
            if (!b.zone.empty())
                throw netXml("bridge zone" + where);
            if (!b.macTableManager.empty())
                throw netXml("bridge macTableManager setting" + where);
        }
        if (b.delay || b.stp || !b.zone.empty())
            throw netXml("bridge delay/stp/zone options only allowed in route, nat, and isolated "
                         "mode, not in "
                + mode + " (network " + net + ")");
        if (!b.name.empty() && (!fwd.interfaces.empty() || !fwd.pf.empty()))
            throw netXml("A network with forward mode=" + q(mode)
                + " can specify a bridge name or a forward dev, but not both (network " + net + ")");
    }
    if (def.mtu && !l3)
        throw netXml(
            "mtu size only allowed in open, route, nat, and isolated mode, not in " + mode + " (network " + net + ")");
}

void parseMetadata(const xmlNode* n, NetworkDef& def)
{
    for (const xmlNode* c : elementChildren(n)) {
        // Metadata is addressed by namespace URI, as for domains.
        if (!c->ns || !c->ns->href || !*c->ns->href)
            throw err::xml("element <" + elemName(c) + "> in <metadata> has no namespace");
        std::string uri(reinterpret_cast<const char*>(c->ns->href));
        if (!def.metadata.emplace(uri, rawXml(c)).second)
            throw err::xml("duplicate namespace '" + uri + "' in <metadata>");
    }
}

void parseTop(const xmlNode* root, NetworkDef& def)
{
    static constexpr std::string_view singles[] = {"name", "uuid", "title", "description", "metadata", "forward",
        "bridge", "mtu", "mac", "domain", "dns", "vlan", "bandwidth", "port", "virtualport"};
    std::map<std::string, const xmlNode*> one;
    std::vector<const xmlNode*> ips, routes;
    for (const xmlNode* c : elementChildren(root)) {
        std::string name = elemName(c);
        if (std::find(std::begin(singles), std::end(singles), name) != std::end(singles)) {
            if (!one.emplace(name, c).second)
                throw err::xml("duplicate <" + name + "> element in <network>");
        } else if (name == "ip") {
            ips.push_back(c);
        } else if (name == "route") {
            routes.push_back(c);
        } else if (name == "portgroup") {
            portgroupKey(c); // a portgroup without a name could never be updated
            def.portgroups.push_back(rawXml(c));
        } else {
            def.extra.children.push_back(rawXml(c));
        }
    }
    auto get = [&](const char* name) -> const xmlNode* {
        auto it = one.find(name);
        return it == one.end() ? nullptr : it->second;
    };

    if (const xmlNode* n = get("name"))
        def.name = textOf(n);
    if (def.name.empty())
        throw err::xml("missing <name> in <network>");
    if (def.name.find('/') != std::string::npos)
        throw err::xml("invalid char in name: /");
    const std::string& net = def.name;
    if (const xmlNode* n = get("uuid")) {
        std::string u = textOf(n);
        if (!isValidUUID(u))
            throw netXml("malformed uuid element " + q(u));
        def.uuid = normalizeUUID(u);
    } else {
        def.uuid = generateUUID();
    }
    if (const xmlNode* n = get("title")) {
        def.title = textOf(n);
        if (def.title.find('\n') != std::string::npos)
            throw netXml("Network title can't contain newlines");
    }
    if (const xmlNode* n = get("description"))
        def.description = textOf(n);
    if (auto v = attr(root, "ipv6")) {
        if (*v != "yes" && *v != "no")
            throw netXml("Invalid ipv6 setting " + q(*v) + " in network " + q(net));
        def.ipv6 = *v;
    }
    def.trustGuestRxFilters = yesNoAttr(root, "trustGuestRxFilters", "<network trustGuestRxFilters>");
    def.extra.attrs = otherAttrs(root, {"ipv6", "trustGuestRxFilters", "connections"});
    if (const xmlNode* n = get("domain")) {
        auto name = attr(n, "name");
        if (!name)
            throw netXml("missing name attribute in <domain> of network " + q(net));
        def.domainName = *name;
        def.domainLocalOnly = yesNoAttr(n, "localOnly", "<domain localOnly>");
    }
    static constexpr std::pair<const char*, std::string NetworkDef::*> raws[] = {{"bandwidth", &NetworkDef::bandwidth},
        {"vlan", &NetworkDef::vlan}, {"port", &NetworkDef::port}, {"virtualport", &NetworkDef::virtualport}};
    for (const auto& [element, member] : raws)
        if (const xmlNode* n = get(element))
            def.*member = rawXml(n);
    if (const xmlNode* n = get("bridge"))
        def.bridge = parseBridge(net, n);
    if (const xmlNode* n = get("mac")) {
        std::string mac = attrOr(n, "address");
        if (!isValidMAC(mac))
            throw netXml("Invalid bridge mac address " + q(mac) + " in network " + q(net));
        def.mac = normalizeMAC(mac);
        if (std::stoi(def.mac.substr(0, 2), nullptr, 16) & 1)
            throw netXml("Invalid multicast bridge mac address " + q(mac) + " in network " + q(net));
    }
    if (const xmlNode* n = get("mtu")) {
        std::string size = attrOr(n, "size");
        try {
            def.mtu = parseUInt(size, "<mtu size>");
        } catch (const VirtError&) {
            throw netXml("Invalid mtu size " + q(size) + " in network " + q(net));
        }
    }
    if (const xmlNode* n = get("dns"))
        def.dns = parseDns(net, n);
    for (const xmlNode* n : ips)
        def.ips.push_back(parseIp(net, n));
    for (const xmlNode* n : routes)
        def.routes.push_back(parseRoute(net, n));
    checkRouteGateways(def);
    if (const xmlNode* n = get("forward"))
        def.forward = parseForward(net, n);
    checkForwardMode(def);
    if (const xmlNode* n = get("metadata"))
        parseMetadata(n, def);
}

} // namespace

NetworkDef parseNetworkXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, NETWORK_PARSE_VALIDATE, "parseNetworkXML");
    XmlDoc doc = parseDocument(xml, "(network_definition)");
    const xmlNode* root = rootElement(doc, "network");
    if (flags & NETWORK_PARSE_VALIDATE)
        validateSchema(doc, "network.rng");
    NetworkDef def;
    parseTop(root, def);
    return def;
}

} // namespace virtbus::xml
