// libvirt's <network> document as plain structures, and the element-level
// edits of virNetworkUpdate. Addresses are kept as canonical text (a
// parsed document's "2001:DB8::1" becomes "2001:db8::1"), MAC addresses in
// lowercase. What the model does not name (portgroups, virtualport,
// bandwidth, vlan, namespaced extensions, unknown elements and
// attributes) is kept verbatim so a definition survives a round trip.
#pragma once

#include "xml/domain_xml.h" // Preserved

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::xml {

struct NetworkNatDef {
    std::string addressStart, addressEnd; // IPv4 SNAT range, both or neither
    unsigned portStart = 0, portEnd = 0; // 0: not given
    std::string ipv6; // yes, no, ""
    bool operator==(const NetworkNatDef&) const = default;
};

struct NetworkForwardInterface {
    std::string dev;
    unsigned connections = 0; // runtime: domains using it (live XML only)
    bool operator==(const NetworkForwardInterface&) const = default;
};

struct NetworkForwardDef {
    // "" means no <forward> (an isolated network); otherwise nat, route,
    // open, bridge, private, vepa, passthrough or hostdev.
    std::string mode;
    std::string managed; // hostdev only: yes, no ("" = no)
    std::string driverName; // <driver name='kvm|vfio'/>
    std::optional<NetworkNatDef> nat;
    // <forward dev='x'> is the first interface, as in libvirt.
    std::vector<NetworkForwardInterface> interfaces;
    std::vector<std::string> addresses; // raw <address type='pci' .../>
    std::string pf; // <pf dev=.../>
    Preserved extra;
    bool operator==(const NetworkForwardDef&) const = default;
};

struct NetworkBridgeDef {
    std::string name, zone;
    std::optional<bool> stp; // formatted as stp='on' when absent
    uint64_t delay = 0;
    std::string macTableManager; // kernel, libvirt, ""
    Preserved extra;
    bool operator==(const NetworkBridgeDef&) const = default;
};

struct NetworkDnsForwarder {
    std::string addr, domain; // at least one
    bool operator==(const NetworkDnsForwarder&) const = default;
};

struct NetworkDnsTxt {
    std::string name, value;
    bool operator==(const NetworkDnsTxt&) const = default;
};

struct NetworkDnsSrv {
    std::string service, protocol, domain, target;
    unsigned port = 0, priority = 0, weight = 0; // 0: not given
    bool operator==(const NetworkDnsSrv&) const = default;
};

struct NetworkDnsHost {
    std::string ip;
    std::vector<std::string> hostnames;
    bool operator==(const NetworkDnsHost&) const = default;
};

struct NetworkDnsDef {
    std::string enable; // yes, no, ""
    std::string forwardPlainNames; // yes, no, ""
    std::vector<NetworkDnsForwarder> forwarders;
    std::vector<NetworkDnsTxt> txts;
    std::vector<NetworkDnsSrv> srvs;
    std::vector<NetworkDnsHost> hosts;
    Preserved extra;
    bool empty() const;
    bool operator==(const NetworkDnsDef&) const = default;
};

struct NetworkDhcpLease {
    uint64_t expiry = 0; // 0: infinite
    std::string unit; // seconds, minutes, hours ("" when expiry is 0)
    bool operator==(const NetworkDhcpLease&) const = default;
};

struct NetworkDhcpRange {
    std::string start, end;
    std::optional<NetworkDhcpLease> lease;
    bool operator==(const NetworkDhcpRange&) const = default;
};

struct NetworkDhcpHost {
    std::string mac; // IPv4 networks
    std::string id; // DUID, IPv6 networks
    std::string name;
    std::string ip;
    std::optional<NetworkDhcpLease> lease;
    bool operator==(const NetworkDhcpHost&) const = default;
};

struct NetworkIpDef {
    std::string family; // ipv4, ipv6, "" (= ipv4)
    std::string address;
    std::string netmask; // IPv4 only, exclusive with prefix
    unsigned prefix = 0; // 0: not given
    std::string localPtr; // yes, no, ""
    std::string tftpRoot;
    std::vector<NetworkDhcpRange> ranges;
    std::vector<NetworkDhcpHost> hosts;
    std::string bootpFile, bootpServer;
    Preserved dhcpExtra;
    Preserved extra;
    bool isIPv6() const { return family == "ipv6"; }
    bool hasDhcp() const { return !ranges.empty() || !hosts.empty(); }
    bool operator==(const NetworkIpDef&) const = default;
};

struct NetworkRouteDef {
    std::string family; // ipv4, ipv6, ""
    std::string address, netmask, gateway;
    std::optional<unsigned> prefix;
    unsigned metric = 0; // 0: not given
    bool operator==(const NetworkRouteDef&) const = default;
};

struct NetworkDef {
    std::string name;
    std::string uuid; // canonical lowercase
    std::string title, description;
    std::map<std::string, std::string> metadata; // namespace URI -> element XML
    std::string ipv6; // <network ipv6='yes|no'>
    std::string trustGuestRxFilters;
    NetworkForwardDef forward;
    NetworkBridgeDef bridge;
    unsigned mtu = 0; // 0: not given
    std::string mac; // bridge MAC, lowercase
    std::string domainName; // <domain name=...>
    std::string domainLocalOnly;
    NetworkDnsDef dns;
    std::vector<NetworkIpDef> ips;
    std::vector<NetworkRouteDef> routes;
    std::string vlan, bandwidth, port, virtualport; // raw elements, "" if none
    std::vector<std::string> portgroups; // raw <portgroup> elements
    unsigned connections = 0; // runtime: domains attached (live XML only)
    Preserved extra; // other <network> attributes and elements
    bool operator==(const NetworkDef&) const = default;
};

struct NetworkFormatOptions {
    bool inactive = false; // leave out connection counts and PF-derived interfaces
};

enum NetworkParseFlags : unsigned {
    // Also validate against libvirt's network.rng
    // (VIR_NETWORK_DEFINE_VALIDATE); failures raise XmlInvalidSchema.
    NETWORK_PARSE_VALIDATE = 1u << 0,
};

// Raises VirtError with libvirt's code and wording; a missing <uuid> gets
// a random one.
NetworkDef parseNetworkXML(std::string_view xml, unsigned flags = 0);
std::string formatNetworkXML(const NetworkDef& def, const NetworkFormatOptions& opts = {});

// virNetworkUpdateCommand and virNetworkUpdateSection values.
enum class NetworkUpdateCommand : unsigned { Modify = 1, Delete = 2, AddLast = 3, AddFirst = 4 };
enum class NetworkUpdateSection : unsigned {
    Bridge = 1,
    Domain = 2,
    Ip = 3,
    IpDhcpHost = 4,
    IpDhcpRange = 5,
    Forward = 6,
    ForwardInterface = 7,
    ForwardPf = 8,
    Portgroup = 9,
    DnsHost = 10,
    DnsTxt = 11,
    DnsSrv = 12,
};

// virNetworkUpdate on a definition: `xml` is one element of `section`
// (<host>, <range>, <interface>, <portgroup>, <txt>, <srv>). For the DHCP
// sections `parentIndex` picks the <ip> element; -1 picks the one <ip>
// that already has DHCP, else the first IPv4 one, else the first IPv6
// one. Matching, duplicate detection and every error follow libvirt's
// virNetworkDefUpdateSection; `def` is unchanged when it throws. The
// section and command come from the caller unchecked, hence unsigned.
void updateNetworkDef(NetworkDef& def, unsigned command, unsigned section, int parentIndex, std::string_view xml);

// The <ip> element DHCP edits apply to (see updateNetworkDef), or nullptr.
const NetworkIpDef* findDhcpIp(const NetworkDef& def, int parentIndex);

} // namespace virtbus::xml
