// libvirt's node device <device> document: one host device (PCI function,
// USB device, NIC, SCSI host, disk, ...) and its capabilities. Capability
// kinds the model does not name (scsi_generic, ccw, css, vdpa, ap_*) and
// unknown content inside named ones are kept verbatim, so a parse/format
// round trip loses nothing the schema allows.
#pragma once

#include "xml/domain_xml.h"
#include "xml/interface_xml.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace virtbus::xml {

struct PciAddressDef {
    unsigned domain = 0, bus = 0, slot = 0, function = 0;
    bool operator==(const PciAddressDef&) const = default;
};

// A nested <capability> kept as written, with its type for listing.
struct RawSubCapability {
    std::string type;
    std::string xml;
    bool operator==(const RawSubCapability&) const = default;
};

struct NodeDevSystemCap {
    std::string product;
    std::string hardwareVendor, hardwareVersion, hardwareSerial;
    std::string hardwareUUID; // canonical lowercase, required
    std::string firmwareVendor, firmwareVersion, firmwareReleaseDate;
    Preserved hardwareExtra, firmwareExtra;
    bool operator==(const NodeDevSystemCap&) const = default;
};

struct NodeDevPciCap {
    std::optional<unsigned> pciClass; // 24 bits, written 0x%06x
    unsigned domain = 0, bus = 0, slot = 0, function = 0;
    unsigned productId = 0, vendorId = 0;
    std::string productName, vendorName;
    // phys_function, virt_functions, pci-bridge, mdev_types, vpd, ...
    std::vector<RawSubCapability> capabilities;
    std::optional<unsigned> iommuGroup;
    std::vector<PciAddressDef> iommuGroupAddresses;
    std::optional<int> numaNode; // <numa node=.../>
    std::string pciExpress; // raw <pci-express>, "" if none
    bool operator==(const NodeDevPciCap&) const = default;
};

struct NodeDevUsbDeviceCap {
    unsigned bus = 0, device = 0;
    unsigned productId = 0, vendorId = 0;
    std::string productName, vendorName;
    bool operator==(const NodeDevUsbDeviceCap&) const = default;
};

struct NodeDevUsbInterfaceCap {
    unsigned number = 0, usbClass = 0, subclass = 0, protocol = 0;
    std::string description;
    bool operator==(const NodeDevUsbInterfaceCap&) const = default;
};

struct NodeDevNetCap {
    std::string interface; // required
    std::string address; // MAC, "" if none
    InterfaceLinkDef link;
    std::vector<std::string> features; // rx, tx, sg, tso, ...
    std::string subtype; // 80203, 80211, "" if none
    bool operator==(const NodeDevNetCap&) const = default;
};

struct NodeDevFcHost {
    std::string wwnn, wwpn, fabricWWN; // 16 hex digits, optionally 0x-prefixed
    bool operator==(const NodeDevFcHost&) const = default;
};

struct NodeDevVportOps {
    unsigned maxVports = 0, vports = 0;
    bool operator==(const NodeDevVportOps&) const = default;
};

struct NodeDevScsiHostCap {
    std::optional<unsigned> host; // absent only in a creation request
    std::optional<unsigned> uniqueId;
    std::optional<NodeDevFcHost> fcHost;
    std::optional<NodeDevVportOps> vportOps;
    bool operator==(const NodeDevScsiHostCap&) const = default;
};

struct NodeDevScsiTargetCap {
    std::string target;
    bool fcRemotePort = false; // <capability type='fc_remote_port'>
    std::string rport, wwpn;
    bool operator==(const NodeDevScsiTargetCap&) const = default;
};

struct NodeDevScsiCap {
    unsigned host = 0, bus = 0, target = 0, lun = 0;
    std::string type; // "disk", "cdrom", ...; "" if none
    bool operator==(const NodeDevScsiCap&) const = default;
};

struct NodeDevStorageCap {
    std::string block; // device path, required
    std::string bus, driveType, model, vendor, serial;
    bool removable = false; // <capability type='removable'>
    bool mediaAvailable = false;
    uint64_t mediaSize = 0; // bytes, removable only
    std::string mediaLabel;
    uint64_t size = 0; // bytes, fixed disks only
    std::optional<uint64_t> logicalBlockSize, numBlocks;
    bool hotpluggable = false; // <capability type='hotpluggable'/>
    bool operator==(const NodeDevStorageCap&) const = default;
};

struct NodeDevDrmCap {
    std::string type; // primary, control, render
    bool operator==(const NodeDevDrmCap&) const = default;
};

struct NodeDevMdevCap {
    std::string typeId; // <type id=.../>
    std::optional<unsigned> iommuGroup;
    std::string uuid; // canonical lowercase, "" if none
    std::string parentAddr;
    std::vector<std::pair<std::string, std::string>> attrs; // <attr name value/>
    bool operator==(const NodeDevMdevCap&) const = default;
};

// A capability kind the model keeps verbatim (its content is all in
// NodeDevCapDef::extra).
struct NodeDevRawCap {
    std::vector<std::string> subCapabilities; // types of nested <capability> elements
    bool operator==(const NodeDevRawCap&) const = default;
};

using NodeDevCapData = std::variant<NodeDevRawCap, NodeDevSystemCap, NodeDevPciCap, NodeDevUsbDeviceCap,
    NodeDevUsbInterfaceCap, NodeDevNetCap, NodeDevScsiHostCap, NodeDevScsiTargetCap, NodeDevScsiCap, NodeDevStorageCap,
    NodeDevDrmCap, NodeDevMdevCap>;

struct NodeDevCapDef {
    std::string type; // the type= attribute: system, pci, usb_device, ...
    NodeDevCapData data;
    Preserved extra; // other attributes and children of <capability>
    bool operator==(const NodeDevCapDef&) const = default;
};

struct NodeDeviceDef {
    std::string name;
    std::string path; // sysfs path
    std::string devnode; // <devnode type='dev'>
    std::vector<std::string> devlinks; // <devnode type='link'>
    std::string parent;
    std::string parentWWNN, parentWWPN, parentFabricWWN; // <parent> attributes
    std::string driver; // <driver><name>
    Preserved driverExtra;
    std::vector<NodeDevCapDef> caps;
    Preserved extra; // other <device> attributes and children
    bool operator==(const NodeDeviceDef&) const = default;
};

enum NodeDeviceParseFlags : unsigned {
    // Validate against libvirt's nodedev.rng
    // (VIR_NODE_DEVICE_CREATE_XML_VALIDATE / DEFINE_XML_VALIDATE).
    NODEDEV_PARSE_VALIDATE = 1u << 0,
    // A creation request (NodeDeviceCreateXML): <name> is optional and a
    // scsi_host needs no <host>, as libvirt's CREATE_DEVICE parse.
    NODEDEV_PARSE_CREATE = 1u << 1,
};

// With NODEDEV_PARSE_CREATE, an fc_host missing <wwnn> or <wwpn> is
// refused unless `wwnOUI` is given; then the missing names are generated
// as libvirt's virRandomGenerateWWN does ("5" + OUI + 9 random hex digits;
// libvirt's test driver uses OUI "100000", QEMU "001a4a").
NodeDeviceDef parseNodeDeviceXML(std::string_view xml, unsigned flags = 0, std::string_view wwnOUI = {});
// No option changes a node device's XML; the parameter keeps every
// format's signature alike.
std::string formatNodeDeviceXML(const NodeDeviceDef& def, const FormatOptions& opts = {});

// Capability names as virNodeDeviceListCaps reports them: each top-level
// type, followed by fc_host/vports for a scsi_host, mdev_types/vpd for a
// pci device and mdev_types for css/ap_matrix devices that have them.
std::vector<std::string> nodeDeviceCapNames(const NodeDeviceDef& def);

// The scsi_host fc_host names {wwnn, wwpn} (virNodeDeviceGetWWNs); raises
// InternalError "Device is not a fibre channel HBA" otherwise.
std::pair<std::string, std::string> nodeDeviceWWNs(const NodeDeviceDef& def);

} // namespace virtbus::xml
