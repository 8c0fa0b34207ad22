// libvirt's host <interface> document (virInterface*): a physical NIC,
// bridge, bond or VLAN as the host configures it. Not the domain's
// <interface> device, which is InterfaceDef in domain_xml.h; hence the
// Host prefix. Whatever the model does not name is kept in Preserved
// records so a parse/format round trip loses nothing.
#pragma once

#include "xml/domain_xml.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::xml {

struct InterfaceIPDef {
    std::string address;
    std::optional<unsigned> prefix; // <= 32 (ipv4) or 128 (ipv6)
    Preserved extra;
    bool operator==(const InterfaceIPDef&) const = default;
};

struct InterfaceProtocolDef {
    std::string family; // ipv4, ipv6
    bool autoconf = false; // <autoconf/> (ipv6)
    bool dhcp = false;
    std::optional<bool> peerdns; // <dhcp peerdns='yes|no'/>
    std::vector<InterfaceIPDef> ips;
    std::string gateway; // <route gateway=.../>, "" if none
    Preserved extra;
    bool operator==(const InterfaceProtocolDef&) const = default;
};

// <link speed state/>: runtime status, left out of inactive output.
struct InterfaceLinkDef {
    std::optional<unsigned> speed; // Mbit/s
    std::string state; // unknown, notpresent, down, ..., up; "" if none
    bool empty() const { return !speed && state.empty(); }
    bool operator==(const InterfaceLinkDef&) const = default;
};

struct HostInterfaceDef {
    std::string type; // ethernet, bridge, bond, vlan
    std::string name;
    std::string startMode; // onboot, none, hotplug, "" if unspecified
    std::optional<unsigned> mtu;
    std::string mac; // ethernet only, as given
    InterfaceLinkDef link; // not for bridges
    std::vector<InterfaceProtocolDef> protocols;

    // type='bridge': <bridge stp delay> and its member interfaces
    std::optional<bool> stp;
    std::string delay; // seconds, a decimal number as given
    // type='bond': <bond mode>, its <miimon>/<arpmon> element kept as
    // written, and its member interfaces
    std::string bondMode; // balance-rr, active-backup, ...; "" if none
    std::string bondMonitor; // raw <miimon .../> or <arpmon .../>, "" if none
    // members of a bridge or bond, in document order
    std::vector<HostInterfaceDef> members;
    // type='vlan': <vlan tag><interface name/></vlan>
    std::string vlanTag;
    std::string vlanDevice;

    Preserved bridgeExtra, bondExtra, vlanExtra; // unknown content of those elements
    Preserved extra; // other <interface> attributes and children
    bool operator==(const HostInterfaceDef&) const = default;
};

enum InterfaceParseFlags : unsigned {
    // Also validate against libvirt's interface.rng
    // (VIR_INTERFACE_DEFINE_VALIDATE); failures raise XmlInvalidSchema.
    INTERFACE_PARSE_VALIDATE = 1u << 0,
};

enum InterfaceXMLFlags : unsigned {
    // VIR_INTERFACE_XML_INACTIVE: the configuration without runtime state.
    INTERFACE_XML_INACTIVE = 1u << 0,
};

HostInterfaceDef parseInterfaceXML(std::string_view xml, unsigned flags = 0);

// Live output includes <link>; FormatOptions::inactive leaves it out, as
// libvirt does for VIR_INTERFACE_XML_INACTIVE.
std::string formatInterfaceXML(const HostInterfaceDef& def, const FormatOptions& opts = {});

// virInterfaceGetXMLDesc flags -> FormatOptions; rejects unknown bits
// (InvalidArg naming `function`).
FormatOptions interfaceFormatOptions(unsigned flags, std::string_view function);

} // namespace virtbus::xml
