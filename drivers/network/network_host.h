// The host side of a virtual network: the bridge and its addresses (through
// iproute2's `ip`), the nftables table (through `nft -f`), dnsmasq, the
// routing table checks and IP forwarding. Every call blocks briefly and is
// meant for the QEMU connection's worker threads. Errors are VirtErrors
// quoting the tool's own message.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "object_drivers.h"
#include "xml/network_xml.h"

namespace virtbus::net {

struct CmdResult {
    int status = -1; // exit status, or -1 when it did not run or was killed
    std::string output; // stdout and stderr together
};
// Runs argv[0] (looked up in PATH, then /usr/sbin and /sbin) with `input`
// on its stdin; never through a shell.
CmdResult runTool(const std::vector<std::string>& argv, const std::string& input = {});

bool linkExists(const std::string& name);
// Creates the bridge of a routed/NATed/isolated network with its STP,
// forward delay, MTU, MAC and addresses, and brings it up; on failure
// nothing is left. Raises VirtError.
void createBridge(const xml::NetworkDef& def);
void deleteBridge(const std::string& name);

// libvirt's networkCheckRouteCollision: a subnet of `def` that overlaps a
// route of the host (another network's bridge among them) is refused.
void checkRouteCollision(const xml::NetworkDef& def);

// A free name for "virbr%d" not in `taken` and not an existing link.
std::string freeBridgeName(const std::vector<std::string>& taken);

void nftApply(const std::string& script);
bool nftTableExists(const std::string& table);
void nftDeleteTable(const std::string& table);

// ip_forward (and IPv6 forwarding) on, as a forwarding network needs.
void enableForwarding(bool ipv6);

// dnsmasq: starts it on `confPath` (it daemonizes and writes its pid
// file), returns its pid. Raises with dnsmasq's message when it refuses.
pid_t startDnsmasq(const std::string& confPath, const std::string& pidFile);
// Is `pid` a live dnsmasq started on `confPath` (not a zombie, not a
// recycled pid)?
bool dnsmasqAlive(pid_t pid, const std::string& confPath);
void stopDnsmasq(pid_t pid, const std::string& confPath);

// dnsmasq's lease file as GetDHCPLeases records, for interface `bridge`;
// `mac` filters (case-insensitive) when not empty; expired leases are left
// out.
std::vector<DhcpLease> readLeases(const std::string& leaseFile, const std::string& bridge,
    const std::vector<const xml::NetworkIpDef*>& ips, const std::string& mac);
std::vector<DhcpLease> parseLeases(const std::string& text, const std::string& bridge,
    const std::vector<const xml::NetworkIpDef*>& ips, const std::string& mac, int64_t now);

} // namespace virtbus::net
