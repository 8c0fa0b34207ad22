// NetworkDef -> <network>, in virNetworkDefFormatBuf's element order and
// with its defaults written out (the bridge's stp/delay for routed
// networks, a DHCP lease's unit), so our output reads like libvirt's.
#include "xml/domain_internal.h"
#include "xml/network_internal.h"
#include "xml/open_close_pair.h"

namespace virtbus::xml {

namespace {

using detail::writeAttrs;
using detail::writeChildren;

void formatLease(XmlWriter& w, const std::optional<NetworkDhcpLease>& lease)
{
    if (!lease)
        return;
    w.open("lease").attr("expiry", std::to_string(lease->expiry));
    if (lease->expiry)
        w.attr("unit", lease->unit.empty() ? "minutes" : lease->unit);
    w.close();
}

void formatForward(XmlWriter& w, const NetworkForwardDef& fwd, const NetworkFormatOptions& opts)
{
    w.open("forward");
    if (fwd.pf.empty() && !fwd.interfaces.empty())
        w.attr("dev", fwd.interfaces.front().dev);
    w.attr("mode", fwd.mode);
    if (fwd.mode == "hostdev")
        w.attr("managed", fwd.managed == "yes" ? "yes" : "no");
    writeAttrs(w, fwd.extra);
    if (!fwd.driverName.empty())
        w.open("driver").attr("name", fwd.driverName).close();
    if (fwd.nat && fwd.mode == "nat") {
        const NetworkNatDef& nat = *fwd.nat;
        bool addr = !nat.addressStart.empty(), port = nat.portStart || nat.portEnd;
        if (addr || port || !nat.ipv6.empty()) {
            w.open("nat").attrIf("ipv6", nat.ipv6);
            if (addr)
                w.open("address").attr("start", nat.addressStart).attr("end", nat.addressEnd).close();
            if (port) {
                w.open("port").attr("start", std::to_string(nat.portStart));
                if (nat.portEnd)
                    w.attr("end", std::to_string(nat.portEnd));
                w.close();
            }
            w.close();
        }
    }
    if (!fwd.pf.empty())
        w.open("pf").attr("dev", fwd.pf).close();
    // With a PF the interface list is what libvirt found on the host when
    // the network started: state, not configuration.
    if (fwd.pf.empty() || !opts.inactive) {
        for (const auto& i : fwd.interfaces) {
            w.open("interface").attr("dev", i.dev);
            if (!opts.inactive && i.connections)
                w.attr("connections", std::to_string(i.connections));
            w.close();
        }
        w.raws(fwd.addresses);
    }
    writeChildren(w, fwd.extra);
    w.close();
}

void formatBridge(XmlWriter& w, const NetworkDef& def)
{
    const NetworkBridgeDef& b = def.bridge;
    const std::string& mode = def.forward.mode;
    // Routed and isolated networks always get a bridge of their own.
    bool routed = mode.empty() || mode == "nat" || mode == "route" || mode == "open";
    if (!routed && b.name.empty() && b.macTableManager.empty() && b.extra.empty())
        return;
    w.open("bridge").attrIf("name", b.name).attrIf("zone", b.zone);
    if (routed) {
        w.attr("stp", b.stp.value_or(true) ? "on" : "off");
        w.attr("delay", std::to_string(b.delay));
    }
    w.attrIf("macTableManager", b.macTableManager);
    writeAttrs(w, b.extra);
    writeChildren(w, b.extra);
    w.close();
}

void formatDns(XmlWriter& w, const NetworkDnsDef& dns)
{
    if (dns.empty())
        return;
    w.open("dns").attrIf("enable", dns.enable).attrIf("forwardPlainNames", dns.forwardPlainNames);
    writeAttrs(w, dns.extra);
    for (const auto& f : dns.forwarders)
        w.open("forwarder").attrIf("domain", f.domain).attrIf("addr", f.addr).close();
    for (const auto& t : dns.txts)
        w.open("txt").attr("name", t.name).attr("value", t.value).close();
    for (const auto& s : dns.srvs) {
        if (s.service.empty() || s.protocol.empty())
            continue;
        w.open("srv").attr("service", s.service).attr("protocol", s.protocol);
        w.attrIf("domain", s.domain).attrIf("target", s.target);
        if (s.port)
            w.attr("port", std::to_string(s.port));
        if (s.priority)
            w.attr("priority", std::to_string(s.priority));
        if (s.weight)
            w.attr("weight", std::to_string(s.weight));
        w.close();
    }
    for (const auto& h : dns.hosts) {
        w.open("host").attr("ip", h.ip);
        for (const auto& name : h.hostnames)
            w.leaf("hostname", name);
        w.close();
    }
    writeChildren(w, dns.extra);
    w.close();
}

void formatIp(XmlWriter& out, const NetworkIpDef& ip)
{
    writeOpenClosePair(out, "ip", [&](XmlWriter& w) {
        w.attrIf("family", ip.family).attr("address", ip.address);
        w.attrIf("netmask", ip.netmask);
        if (ip.prefix)
            w.attr("prefix", std::to_string(ip.prefix));
        w.attrIf("localPtr", ip.localPtr);
        writeAttrs(w, ip.extra);
        if (!ip.tftpRoot.empty())
            w.open("tftp").attr("root", ip.tftpRoot).close();
        if (ip.hasDhcp() || !ip.bootpFile.empty() || !ip.dhcpExtra.empty()) {
            w.open("dhcp");
            writeAttrs(w, ip.dhcpExtra);
            for (const auto& r : ip.ranges) {
                w.open("range").attr("start", r.start).attr("end", r.end);
                formatLease(w, r.lease);
                w.close();
            }
            for (const auto& h : ip.hosts) {
                w.open("host").attrIf("mac", h.mac).attrIf("id", h.id).attrIf("name", h.name);
                w.attrIf("ip", h.ip);
                formatLease(w, h.lease);
                w.close();
            }
            if (!ip.bootpFile.empty())
                w.open("bootp").attr("file", ip.bootpFile).attrIf("server", ip.bootpServer).close();
            writeChildren(w, ip.dhcpExtra);
            w.close();
        }
        writeChildren(w, ip.extra);
    });
}

void formatRoute(XmlWriter& w, const NetworkRouteDef& r)
{
    w.open("route").attrIf("family", r.family).attr("address", r.address);
    w.attrIf("netmask", r.netmask);
    if (r.prefix)
        w.attr("prefix", std::to_string(*r.prefix));
    w.attr("gateway", r.gateway);
    if (r.metric)
        w.attr("metric", std::to_string(r.metric));
    w.close();
}

} // namespace

std::string formatNetworkXML(const NetworkDef& def, const NetworkFormatOptions& opts)
{
    XmlWriter w;
    w.open("network");
    if (!opts.inactive && def.connections)
        w.attr("connections", std::to_string(def.connections));
    w.attrIf("ipv6", def.ipv6).attrIf("trustGuestRxFilters", def.trustGuestRxFilters);
    writeAttrs(w, def.extra);
    w.leaf("name", def.name);
    w.leaf("uuid", def.uuid);
    w.leafIf("title", def.title);
    w.leafIf("description", def.description);
    if (!def.metadata.empty()) {
        w.open("metadata");
        for (const auto& [uri, xml] : def.metadata)
            w.raw(xml);
        w.close();
    }
    if (!def.forward.mode.empty())
        formatForward(w, def.forward, opts);
    formatBridge(w, def);
    if (def.mtu)
        w.open("mtu").attr("size", std::to_string(def.mtu)).close();
    if (!def.mac.empty())
        w.open("mac").attr("address", def.mac).close();
    if (!def.domainName.empty())
        w.open("domain").attr("name", def.domainName).attrIf("localOnly", def.domainLocalOnly).close();
    formatDns(w, def.dns);
    w.raw(def.vlan);
    w.raw(def.bandwidth);
    w.raw(def.port);
    for (const auto& ip : def.ips)
        formatIp(w, ip);
    for (const auto& r : def.routes)
        formatRoute(w, r);
    w.raw(def.virtualport);
    w.raws(def.portgroups);
    writeChildren(w, def.extra);
    w.close();
    return w.take();
}

} // namespace virtbus::xml
