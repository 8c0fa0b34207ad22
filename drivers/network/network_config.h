// What a running virtual network asks of the host, as text: dnsmasq's
// configuration file and the nftables ruleset of the network's own table.
// Pure functions of the definition, so they are unit-tested without root.
#pragma once

#include <string>
#include <vector>

#include "xml/network_xml.h"

namespace virtbus::net {

// Where a network's dnsmasq keeps its files (all under the state dir).
struct DnsmasqPaths {
    std::string pidFile;
    std::string leaseFile;
};

// Does this network run a dnsmasq (DNS, or DHCP on one of its addresses)?
bool needsDnsmasq(const xml::NetworkDef& def);

// dnsmasq's configuration. Every value taken from the definition is checked
// for characters that would end a line or an option in dnsmasq's syntax;
// such a definition raises ConfigUnsupported instead of producing a
// configuration with options the caller smuggled in.
std::string dnsmasqConfig(const xml::NetworkDef& def, const DnsmasqPaths& paths);

// Does the network get firewall rules of its own (nat, route, isolated)?
bool needsFirewall(const xml::NetworkDef& def);

// The nft script that creates the network's table `table` (family inet):
// DHCP/DNS input from the bridge, forwarding for the subnets (nat:
// replies only inward; route: both ways), isolation otherwise, and the
// masquerade/SNAT rules of a nat network. Deleting the table removes it
// all. `comment` names the network in `nft list ruleset`.
std::string nftRuleset(const xml::NetworkDef& def, const std::string& table);

// Checks applied to a definition before anything is created: the bridge
// name (length, characters) and the definition's values that end up in
// dnsmasq's or nft's input. Raises VirtError.
void checkHostNames(const xml::NetworkDef& def);

// An interface name the kernel takes (1..15 bytes, no '/', ':' or space)
// and nft's quoted strings can carry.
bool validIfName(const std::string& name);

// "network/prefix" of an <ip>, e.g. 192.168.122.0/24.
std::string subnetOf(const xml::NetworkIpDef& ip);
int prefixOf(const xml::NetworkIpDef& ip);

} // namespace virtbus::net
