// NodeDeviceDef -> XML in libvirt's layout (virNodeDeviceDefFormat): the
// same element order and number formats, preserved content after the
// modeled children.
#include "xml/nodedev_xml.h"

#include "xml/domain_internal.h"
#include "xml/interface_link.h"

#include <cstdio>

namespace virtbus::xml {

namespace {

using namespace detail;

std::string hex(unsigned value, int width)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*x", width, value);
    return buf;
}

void leafNumber(XmlWriter& w, std::string_view name, uint64_t value) { w.leaf(name, std::to_string(value)); }

void formatPciAddress(XmlWriter& w, const PciAddressDef& a)
{
    w.open("address").attr("domain", hex(a.domain, 4)).attr("bus", hex(a.bus, 2));
    w.attr("slot", hex(a.slot, 2)).attr("function", hex(a.function, 1)).close();
}

// <product id='0x1234'>name</product>, or empty without a name.
void formatIdName(XmlWriter& w, std::string_view element, unsigned id, const std::string& name)
{
    w.open(element).attr("id", hex(id, 4));
    if (!name.empty())
        w.text(name);
    w.close();
}

void formatSystem(XmlWriter& w, const NodeDevSystemCap& s)
{
    w.leafIf("product", s.product);
    w.open("hardware");
    writeAttrs(w, s.hardwareExtra);
    w.leafIf("vendor", s.hardwareVendor).leafIf("version", s.hardwareVersion);
    w.leafIf("serial", s.hardwareSerial).leaf("uuid", s.hardwareUUID);
    writeChildren(w, s.hardwareExtra);
    w.close();
    w.open("firmware");
    writeAttrs(w, s.firmwareExtra);
    w.leafIf("vendor", s.firmwareVendor).leafIf("version", s.firmwareVersion);
    w.leafIf("release_date", s.firmwareReleaseDate);
    writeChildren(w, s.firmwareExtra);
    w.close();
}

void formatPci(XmlWriter& w, const NodeDevPciCap& p)
{
    if (p.pciClass)
        w.leaf("class", hex(*p.pciClass, 6));
    leafNumber(w, "domain", p.domain);
    leafNumber(w, "bus", p.bus);
    leafNumber(w, "slot", p.slot);
    leafNumber(w, "function", p.function);
    formatIdName(w, "product", p.productId, p.productName);
    formatIdName(w, "vendor", p.vendorId, p.vendorName);
    for (const auto& c : p.capabilities)
        w.raw(c.xml);
    if (p.iommuGroup) {
        w.open("iommuGroup").attr("number", std::to_string(*p.iommuGroup));
        for (const auto& a : p.iommuGroupAddresses)
            formatPciAddress(w, a);
        w.close();
    }
    if (p.numaNode)
        w.open("numa").attr("node", std::to_string(*p.numaNode)).close();
    w.raw(p.pciExpress);
}

void formatNet(XmlWriter& w, const NodeDevNetCap& n)
{
    w.leaf("interface", n.interface);
    w.leafIf("address", n.address);
    formatInterfaceLink(w, n.link);
    for (const auto& f : n.features)
        w.open("feature").attr("name", f).close();
    if (!n.subtype.empty())
        w.open("capability").attr("type", n.subtype).close();
}

void formatScsiHost(XmlWriter& w, const NodeDevScsiHostCap& h)
{
    if (h.host)
        leafNumber(w, "host", *h.host);
    if (h.uniqueId)
        leafNumber(w, "unique_id", *h.uniqueId);
    if (h.fcHost) {
        w.open("capability").attr("type", "fc_host");
        w.leaf("wwnn", h.fcHost->wwnn).leaf("wwpn", h.fcHost->wwpn);
        w.leafIf("fabric_wwn", h.fcHost->fabricWWN).close();
    }
    if (h.vportOps) {
        w.open("capability").attr("type", "vport_ops");
        leafNumber(w, "max_vports", h.vportOps->maxVports);
        leafNumber(w, "vports", h.vportOps->vports);
        w.close();
    }
}

void formatBlockData(XmlWriter& w, const NodeDevStorageCap& s)
{
    if (s.logicalBlockSize)
        leafNumber(w, "logical_block_size", *s.logicalBlockSize);
    if (s.numBlocks)
        leafNumber(w, "num_blocks", *s.numBlocks);
}

void formatStorage(XmlWriter& w, const NodeDevStorageCap& s)
{
    w.leaf("block", s.block);
    w.leafIf("bus", s.bus).leafIf("drive_type", s.driveType).leafIf("model", s.model);
    w.leafIf("vendor", s.vendor).leafIf("serial", s.serial);
    if (s.removable) {
        w.open("capability").attr("type", "removable");
        w.leaf("media_available", s.mediaAvailable ? "1" : "0");
        leafNumber(w, "media_size", s.mediaSize);
        w.leafIf("media_label", s.mediaLabel);
        formatBlockData(w, s);
        w.close();
    } else {
        leafNumber(w, "size", s.size);
        formatBlockData(w, s);
    }
    if (s.hotpluggable)
        w.open("capability").attr("type", "hotpluggable").close();
}

void formatMdev(XmlWriter& w, const NodeDevMdevCap& m)
{
    w.open("type").attr("id", m.typeId).close();
    w.leafIf("uuid", m.uuid).leafIf("parent_addr", m.parentAddr);
    if (m.iommuGroup)
        w.open("iommuGroup").attr("number", std::to_string(*m.iommuGroup)).close();
    for (const auto& [name, value] : m.attrs)
        w.open("attr").attr("name", name).attr("value", value).close();
}

// One overload per capability kind, for std::visit.
struct CapFormatter {
    XmlWriter& w;
    void operator()(const NodeDevRawCap&) const { }
    void operator()(const NodeDevSystemCap& c) const { formatSystem(w, c); }
    void operator()(const NodeDevPciCap& c) const { formatPci(w, c); }
    void operator()(const NodeDevUsbDeviceCap& c) const
    {
        leafNumber(w, "bus", c.bus);
        leafNumber(w, "device", c.device);
        formatIdName(w, "product", c.productId, c.productName);
        formatIdName(w, "vendor", c.vendorId, c.vendorName);
    }
    void operator()(const NodeDevUsbInterfaceCap& c) const
    {
        leafNumber(w, "number", c.number);
        leafNumber(w, "class", c.usbClass);
        leafNumber(w, "subclass", c.subclass);
        leafNumber(w, "protocol", c.protocol);
        w.leafIf("description", c.description);
    }
    void operator()(const NodeDevNetCap& c) const { formatNet(w, c); }
    void operator()(const NodeDevScsiHostCap& c) const { formatScsiHost(w, c); }
    void operator()(const NodeDevScsiTargetCap& c) const
    {
        w.leaf("target", c.target);
        if (c.fcRemotePort) {
            w.open("capability").attr("type", "fc_remote_port");
            w.leaf("rport", c.rport).leaf("wwpn", c.wwpn).close();
        }
    }
    void operator()(const NodeDevScsiCap& c) const
    {
        leafNumber(w, "host", c.host);
        leafNumber(w, "bus", c.bus);
        leafNumber(w, "target", c.target);
        leafNumber(w, "lun", c.lun);
        w.leafIf("type", c.type);
    }
    void operator()(const NodeDevStorageCap& c) const { formatStorage(w, c); }
    void operator()(const NodeDevDrmCap& c) const { w.leaf("type", c.type); }
    void operator()(const NodeDevMdevCap& c) const { formatMdev(w, c); }
};

bool hasSubCap(const std::vector<RawSubCapability>& caps, std::string_view type)
{
    for (const auto& c : caps)
        if (c.type == type)
            return true;
    return false;
}

} // namespace

std::string formatNodeDeviceXML(const NodeDeviceDef& def, const FormatOptions&)
{
    XmlWriter w;
    w.open("device");
    writeAttrs(w, def.extra);
    // Only a creation request may lack a name; libvirt then writes none.
    w.leafIf("name", def.name);
    w.leafIf("path", def.path);
    if (!def.devnode.empty())
        w.open("devnode").attr("type", "dev").text(def.devnode).close();
    for (const auto& link : def.devlinks)
        w.open("devnode").attr("type", "link").text(link).close();
    if (!def.parent.empty() || !def.parentWWNN.empty() || !def.parentFabricWWN.empty()) {
        w.open("parent").attrIf("wwnn", def.parentWWNN).attrIf("wwpn", def.parentWWPN);
        w.attrIf("fabric_wwn", def.parentFabricWWN);
        if (!def.parent.empty())
            w.text(def.parent);
        w.close();
    }
    if (!def.driver.empty() || !def.driverExtra.empty()) {
        w.open("driver");
        writeAttrs(w, def.driverExtra);
        w.leafIf("name", def.driver);
        writeChildren(w, def.driverExtra);
        w.close();
    }
    for (const auto& cap : def.caps) {
        w.open("capability").attr("type", cap.type);
        writeAttrs(w, cap.extra);
        std::visit(CapFormatter {w}, cap.data);
        writeChildren(w, cap.extra);
        w.close();
    }
    writeChildren(w, def.extra);
    w.close();
    return w.take();
}

std::vector<std::string> nodeDeviceCapNames(const NodeDeviceDef& def)
{
    std::vector<std::string> out;
    for (const auto& cap : def.caps) {
        out.push_back(cap.type);
        if (const auto* h = std::get_if<NodeDevScsiHostCap>(&cap.data)) {
            if (h->fcHost)
                out.emplace_back("fc_host");
            if (h->vportOps)
                out.emplace_back("vports");
        } else if (const auto* p = std::get_if<NodeDevPciCap>(&cap.data)) {
            if (hasSubCap(p->capabilities, "mdev_types"))
                out.emplace_back("mdev_types");
            if (hasSubCap(p->capabilities, "vpd"))
                out.emplace_back("vpd");
        } else if (const auto* r = std::get_if<NodeDevRawCap>(&cap.data)) {
            for (const auto& sub : r->subCapabilities)
                if (sub == "mdev_types" && (cap.type == "css" || cap.type == "ap_matrix"))
                    out.emplace_back("mdev_types");
        }
    }
    return out;
}

std::pair<std::string, std::string> nodeDeviceWWNs(const NodeDeviceDef& def)
{
    for (const auto& cap : def.caps)
        if (const auto* h = std::get_if<NodeDevScsiHostCap>(&cap.data); h && h->fcHost)
            return {h->fcHost->wwnn, h->fcHost->wwpn};
    throw makeError(ErrCode::InternalError, ErrDomain::NodeDev, "Device is not a fibre channel HBA");
}

} // namespace virtbus::xml
