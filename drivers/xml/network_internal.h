// What network parsing shares with the virNetworkUpdate code: the element
// parsers (an update document is one such element) and libvirt's error
// shapes. Not part of the drivers' API.
#pragma once

#include "xml/ip_address.h"
#include "xml/network_xml.h"
#include "xml/xml_util.h"

#include <string>
#include <string_view>

namespace virtbus::xml::netdetail {

// Errors the network code raises carry libvirt's VIR_FROM_NETWORK domain.
VirtError netError(ErrCode code, std::string_view detail);
inline VirtError netXml(std::string_view detail) { return netError(ErrCode::XmlError, detail); }

// "'<value>'" quoting used by most of libvirt's messages.
inline std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

// The parsed address of an <ip> element (validated when it was parsed).
IpAddress ipAddressOf(const NetworkIpDef& ip);
// Its prefix per libvirt's rules (explicit, netmask, classful), or -1.
int ipPrefixOf(const NetworkIpDef& ip);

// Element parsers. `partial` is libvirt's partialOkay: a DELETE only needs
// enough attributes to find the entry, so required ones may be missing.
NetworkDhcpHost parseDhcpHost(const std::string& net, const NetworkIpDef& ip, const xmlNode* n, bool partial);
NetworkDhcpRange parseDhcpRange(const std::string& net, const NetworkIpDef& ip, const xmlNode* n);
NetworkDnsHost parseDnsHost(const std::string& net, const xmlNode* n, bool partial);
NetworkDnsTxt parseDnsTxt(const std::string& net, const xmlNode* n, bool partial);
NetworkDnsSrv parseDnsSrv(const std::string& net, const xmlNode* n, bool partial);
NetworkRouteDef parseRoute(const std::string& net, const xmlNode* n);

// A <portgroup>'s name and default='yes', read from its stored XML.
struct PortgroupKey {
    std::string name;
    bool isDefault = false;
};
PortgroupKey portgroupKey(const xmlNode* n);
PortgroupKey portgroupKey(std::string_view rawXml);

} // namespace virtbus::xml::netdetail
