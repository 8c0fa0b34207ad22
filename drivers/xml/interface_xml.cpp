// Host interface XML <-> HostInterfaceDef, following libvirt's
// interface_conf.c: the same checks and messages where libvirt has them,
// the same element order on output.
#include "xml/interface_xml.h"

#include "xml/domain_internal.h"
#include "xml/interface_link.h"

#include <arpa/inet.h>

#include <charconv>
#include <set>

namespace virtbus::xml {

namespace {

using namespace detail;

// libvirt keeps an MTU up to this value (virInterfaceDefParseMtu).
constexpr unsigned kMaxMtu = 100000;

bool validIP(const std::string& family, const std::string& address)
{
    unsigned char buf[16];
    return inet_pton(family == "ipv6" ? AF_INET6 : AF_INET, address.c_str(), buf) == 1;
}

// The schema's "timeval": a non-negative decimal number.
bool validDelay(std::string_view v)
{
    double d = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    return !v.empty() && ec == std::errc() && end == v.data() + v.size() && d >= 0;
}

std::string requiredAttr(const xmlNode* n, const char* name, std::string_view what)
{
    auto v = attr(n, name);
    if (!v || v->empty())
        throw err::xml(std::string(what));
    return *v;
}

InterfaceProtocolDef parseProtocol(const xmlNode* n)
{
    InterfaceProtocolDef p;
    auto family = attr(n, "family");
    if (!family)
        throw err::xml("protocol misses the family attribute");
    p.family = *family;
    if (p.family != "ipv4" && p.family != "ipv6")
        throw err::xml("unsupported protocol family '" + p.family + "'");
    p.extra.attrs = otherAttrs(n, {"family"});
    bool haveRoute = false;
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "autoconf" && p.family == "ipv6" && !c->children && !c->properties) {
            p.autoconf = true;
        } else if (name == "dhcp" && !p.dhcp && !c->children && otherAttrs(c, {"peerdns"}).empty()) {
            p.dhcp = true;
            if (auto peerdns = attr(c, "peerdns"))
                p.peerdns = parseYesNo(*peerdns, "<dhcp peerdns>");
        } else if (name == "ip" && !c->children) {
            InterfaceIPDef ip;
            auto address = attr(c, "address");
            if (!address)
                throw err::xml("missing address attribute in <ip>");
            if (!validIP(p.family, *address))
                throw invalidValue(*address, "<ip address> (" + p.family + ")");
            ip.address = *address;
            if (auto prefix = attr(c, "prefix")) {
                ip.prefix = parseUInt(*prefix, "<ip prefix>");
                if (*ip.prefix > (p.family == "ipv6" ? 128u : 32u))
                    throw invalidValue(*prefix, "<ip prefix> (" + p.family + ")");
            }
            ip.extra.attrs = otherAttrs(c, {"address", "prefix"});
            p.ips.push_back(std::move(ip));
        } else if (name == "route" && !haveRoute && !c->children && otherAttrs(c, {"gateway"}).empty()) {
            haveRoute = true;
            p.gateway = requiredAttr(c, "gateway", "missing gateway attribute in <route>");
            if (!validIP(p.family, p.gateway))
                throw invalidValue(p.gateway, "<route gateway> (" + p.family + ")");
        } else {
            p.extra.children.push_back(rawXml(c));
        }
    }
    return p;
}

// <miimon>/<arpmon> are kept as written; only what libvirt insists on is
// checked here.
void checkBondMonitor(const xmlNode* n)
{
    auto uintAttr = [n](const char* name, const char* missing) {
        auto v = attr(n, name);
        if (!v) {
            if (missing)
                throw err::xml(missing);
            return;
        }
        parseUInt(*v, "<" + elemName(n) + " " + name + ">");
    };
    if (elemName(n) == "miimon") {
        uintAttr("freq", "bond interface miimon freq missing or invalid");
        uintAttr("downdelay", nullptr);
        uintAttr("updelay", nullptr);
        if (auto carrier = attr(n, "carrier"))
            checkEnum(*carrier, {"ioctl", "netif"}, "<miimon carrier>");
        return;
    }
    uintAttr("interval", "bond interface arpmon interval missing or invalid");
    auto target = attr(n, "target");
    if (!target)
        throw err::xml("bond interface arpmon target missing");
    if (!validIP("ipv4", *target))
        throw invalidValue(*target, "<arpmon target>");
    if (auto validate = attr(n, "validate"))
        checkEnum(*validate, {"none", "active", "backup", "all"}, "<arpmon validate>");
}

// The member rules bound recursion: bridge > bond > ethernet at most.
HostInterfaceDef parseInterface(const xmlNode* n, const std::string& parentType);

void parseMembers(const xmlNode* n, HostInterfaceDef& def, Preserved& extra)
{
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "interface") {
            def.members.push_back(parseInterface(c, def.type));
        } else if (def.type == "bond" && (name == "miimon" || name == "arpmon") && def.bondMonitor.empty()) {
            checkBondMonitor(c);
            def.bondMonitor = rawXml(c);
        } else {
            extra.children.push_back(rawXml(c));
        }
    }
}

void parseBridge(const xmlNode* n, HostInterfaceDef& def)
{
    if (auto stp = attr(n, "stp")) {
        if (*stp != "on" && *stp != "off")
            throw err::xml("bridge interface stp should be on or off got " + *stp);
        def.stp = *stp == "on";
    }
    def.delay = attrOr(n, "delay");
    if (attr(n, "delay") && !validDelay(def.delay))
        throw invalidValue(def.delay, "<bridge delay>");
    def.bridgeExtra.attrs = otherAttrs(n, {"stp", "delay"});
    parseMembers(n, def, def.bridgeExtra);
}

void parseBond(const xmlNode* n, HostInterfaceDef& def)
{
    def.bondMode = attrOr(n, "mode");
    if (attr(n, "mode"))
        checkEnum(def.bondMode,
            {"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"},
            "<bond mode>");
    def.bondExtra.attrs = otherAttrs(n, {"mode"});
    parseMembers(n, def, def.bondExtra);
}

void parseVlan(const xmlNode* n, HostInterfaceDef& def)
{
    auto tag = attr(n, "tag");
    if (!tag)
        throw err::xml("vlan interface misses the tag attribute");
    if (parseUInt(*tag, "<vlan tag>") > 4095)
        throw invalidValue(*tag, "<vlan tag>");
    def.vlanTag = *tag;
    def.vlanExtra.attrs = otherAttrs(n, {"tag"});
    for (const xmlNode* c : elementChildren(n)) {
        if (elemName(c) == "interface" && def.vlanDevice.empty() && !c->children && otherAttrs(c, {"name"}).empty())
            def.vlanDevice = attrOr(c, "name");
        else
            def.vlanExtra.children.push_back(rawXml(c));
    }
    if (def.vlanDevice.empty())
        throw err::xml("vlan interface misses name attribute");
}

// A child the model names but only takes plain (no unknown attributes, no
// children); anything richer is kept verbatim instead.
bool plain(const xmlNode* c, std::initializer_list<std::string_view> known)
{
    return !c->children && otherAttrs(c, known).empty();
}

HostInterfaceDef parseInterface(const xmlNode* n, const std::string& parentType)
{
    HostInterfaceDef def;
    auto type = attr(n, "type");
    if (!type)
        throw err::xml("missing type attribute in <interface>");
    def.type = *type;
    checkEnum(def.type, {"ethernet", "bridge", "bond", "vlan"}, "<interface type>");
    // Which kinds may be members of which (virInterfaceDefParseXML).
    if ((parentType == "bond" && def.type != "ethernet") || (parentType == "bridge" && def.type == "bridge"))
        throw err::xml("interface has unsupported type '" + def.type + "' inside a " + parentType);
    auto name = attr(n, "name");
    if (!name || name->empty())
        throw err::xml("interface has no name");
    def.name = *name;
    def.extra.attrs = otherAttrs(n, {"type", "name"});

    // The first plain <start>, <mtu>, <mac> and <link> are modeled. Like
    // libvirt, later plain ones are ignored rather than kept: a kept one
    // would take the place of a first one that formats to nothing (an empty
    // <link/>) on the next parse. Richer ones are kept verbatim.
    std::set<std::string> seen;
    bool haveBody = false;
    for (const xmlNode* c : elementChildren(n)) {
        std::string cn = elemName(c);
        bool single = (cn == "start" && plain(c, {"mode"})) || (cn == "mtu" && plain(c, {"size"}))
            || (cn == "mac" && def.type == "ethernet" && plain(c, {"address"}))
            || (cn == "link" && def.type != "bridge" && plain(c, {"speed", "state"}));
        if (single && !seen.insert(cn).second)
            continue;
        if (single && cn == "start") {
            def.startMode = requiredAttr(c, "mode", "missing mode attribute in <start>");
            checkEnum(def.startMode, {"onboot", "none", "hotplug"}, "<start mode>");
        } else if (single && cn == "mtu") {
            unsigned mtu = parseUInt(requiredAttr(c, "size", "missing size attribute in <mtu>"), "<mtu size>");
            if (mtu > kMaxMtu)
                throw err::xml("interface mtu value is improper");
            def.mtu = mtu;
        } else if (single && cn == "mac") {
            def.mac = requiredAttr(c, "address", "missing address attribute in <mac>");
            if (!isValidMAC(def.mac))
                throw invalidValue(def.mac, "<mac address>");
        } else if (single && cn == "link") {
            def.link = parseInterfaceLink(c);
        } else if (cn == "protocol") {
            def.protocols.push_back(parseProtocol(c));
        } else if (cn == def.type && !haveBody) {
            haveBody = true;
            if (cn == "bridge")
                parseBridge(c, def);
            else if (cn == "bond")
                parseBond(c, def);
            else if (cn == "vlan")
                parseVlan(c, def);
            else
                def.extra.children.push_back(rawXml(c)); // <ethernet> is no element
        } else {
            def.extra.children.push_back(rawXml(c));
        }
    }
    if (!haveBody && def.type != "ethernet")
        throw err::xml(def.type + " interface misses the " + def.type + " element");
    return def;
}

void formatInterface(XmlWriter& w, const HostInterfaceDef& def, const FormatOptions& opts);

void formatProtocol(XmlWriter& w, const InterfaceProtocolDef& p)
{
    w.open("protocol").attr("family", p.family);
    writeAttrs(w, p.extra);
    if (p.autoconf)
        w.open("autoconf").close();
    if (p.dhcp) {
        w.open("dhcp");
        if (p.peerdns)
            w.attr("peerdns", *p.peerdns ? "yes" : "no");
        w.close();
    }
    for (const auto& ip : p.ips) {
        w.open("ip").attr("address", ip.address);
        if (ip.prefix)
            w.attr("prefix", std::to_string(*ip.prefix));
        writeAttrs(w, ip.extra);
        w.close();
    }
    if (!p.gateway.empty())
        w.open("route").attr("gateway", p.gateway).close();
    writeChildren(w, p.extra);
    w.close();
}

void formatMembers(XmlWriter& w, const HostInterfaceDef& def, const FormatOptions& opts)
{
    for (const auto& m : def.members)
        formatInterface(w, m, opts);
}

void formatInterface(XmlWriter& w, const HostInterfaceDef& def, const FormatOptions& opts)
{
    w.open("interface").attr("type", def.type).attr("name", def.name);
    writeAttrs(w, def.extra);
    if (!def.startMode.empty())
        w.open("start").attr("mode", def.startMode).close();
    if (def.mtu)
        w.open("mtu").attr("size", std::to_string(*def.mtu)).close();
    for (const auto& p : def.protocols)
        formatProtocol(w, p);
    if (!opts.inactive && def.type != "bridge")
        formatInterfaceLink(w, def.link);
    if (def.type == "ethernet" && !def.mac.empty())
        w.open("mac").attr("address", def.mac).close();
    if (def.type == "bridge") {
        w.open("bridge");
        if (def.stp)
            w.attr("stp", *def.stp ? "on" : "off");
        w.attrIf("delay", def.delay);
        writeAttrs(w, def.bridgeExtra);
        formatMembers(w, def, opts);
        writeChildren(w, def.bridgeExtra);
        w.close();
    } else if (def.type == "bond") {
        w.open("bond").attrIf("mode", def.bondMode);
        writeAttrs(w, def.bondExtra);
        w.raw(def.bondMonitor);
        formatMembers(w, def, opts);
        writeChildren(w, def.bondExtra);
        w.close();
    } else if (def.type == "vlan") {
        w.open("vlan").attr("tag", def.vlanTag);
        writeAttrs(w, def.vlanExtra);
        w.open("interface").attr("name", def.vlanDevice).close();
        writeChildren(w, def.vlanExtra);
        w.close();
    }
    writeChildren(w, def.extra);
    w.close();
}

} // namespace

HostInterfaceDef parseInterfaceXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, INTERFACE_PARSE_VALIDATE, "parseInterfaceXML");
    XmlDoc doc = parseDocument(xml, "(interface_definition)");
    const xmlNode* root = rootElement(doc, "interface");
    if (flags & INTERFACE_PARSE_VALIDATE)
        validateSchema(doc, "interface.rng");
    return parseInterface(root, "");
}

std::string formatInterfaceXML(const HostInterfaceDef& def, const FormatOptions& opts)
{
    XmlWriter w;
    formatInterface(w, def, opts);
    return w.take();
}

FormatOptions interfaceFormatOptions(unsigned flags, std::string_view function)
{
    checkFlags(flags, INTERFACE_XML_INACTIVE, function);
    FormatOptions opts;
    opts.inactive = flags & INTERFACE_XML_INACTIVE;
    return opts;
}

} // namespace virtbus::xml
