// Node device XML -> NodeDeviceDef, following libvirt's node_device_conf.c:
// the same required elements and, where libvirt words them, the same
// messages ("no PCI domain ID supplied for 'pci_0000_00_02_0'").
#include "xml/nodedev_xml.h"

#include "xml/child_picker.h"
#include "xml/interface_link.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <random>

namespace virtbus::xml {

namespace {

using namespace detail;

// Parse state shared by the capability parsers: the device name for
// libvirt-worded messages and the creation-request rules.
struct Context {
    std::string who; // device name, "new device" when creating
    bool create = false;
    std::string_view wwnOUI;
    std::string quoted() const { return "'" + who + "'"; }
};

unsigned requiredUInt(ChildPicker& ch, const char* element, std::string_view missing, const Context& ctx)
{
    auto v = ch.text(element);
    if (!v)
        throw err::xml(std::string(missing) + " supplied for " + ctx.quoted());
    return parseUInt(*v, "<" + std::string(element) + ">");
}

uint64_t requiredU64(ChildPicker& ch, const char* element, std::string_view missing, const Context& ctx)
{
    auto v = ch.text(element);
    if (!v)
        throw err::xml(std::string(missing) + " supplied for " + ctx.quoted());
    return parseU64(*v, "<" + std::string(element) + ">");
}

std::optional<uint64_t> optionalU64(ChildPicker& ch, const char* element)
{
    auto v = ch.text(element);
    if (!v)
        return std::nullopt;
    return parseU64(*v, "<" + std::string(element) + ">");
}

// A number in hex with or without "0x" (vendor and product ids, class).
unsigned parseHex(std::string_view value, std::string_view what)
{
    std::string_view v = value;
    if (v.starts_with("0x") || v.starts_with("0X"))
        v.remove_prefix(2);
    unsigned out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 16);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
        throw invalidValue(value, what);
    return out;
}

// "0x"-prefixed hex or decimal, as libvirt's PCI address attributes.
unsigned parseHexOrDec(std::string_view value, std::string_view what)
{
    if (value.starts_with("0x") || value.starts_with("0X"))
        return parseHex(value, what);
    return parseUInt(value, what);
}

bool allHex(std::string_view v)
{
    for (char c : v)
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            return false;
    return !v.empty();
}

// The schema's wwn: 16 hex digits, optionally 0x-prefixed.
bool isValidWWN(std::string_view v)
{
    if (v.starts_with("0x") || v.starts_with("0X"))
        v.remove_prefix(2);
    return v.size() == 16 && allHex(v);
}

std::string checkedWWN(std::string value, std::string_view what)
{
    if (!isValidWWN(value))
        throw invalidValue(value, what);
    return value;
}

std::string generateWWN(std::string_view oui)
{
    thread_local std::mt19937_64 gen {std::random_device {}()};
    char digits[16];
    std::snprintf(digits, sizeof digits, "%09llx", static_cast<unsigned long long>(gen() & 0xfffffffffULL));
    return "5" + std::string(oui) + digits;
}

PciAddressDef parsePciAddress(const xmlNode* n)
{
    PciAddressDef a;
    auto field = [n](const char* name) {
        auto v = attr(n, name);
        if (!v)
            throw err::xml("missing " + std::string(name) + " attribute in PCI <address>");
        return parseHexOrDec(*v, "<address " + std::string(name) + ">");
    };
    a.domain = field("domain");
    a.bus = field("bus");
    a.slot = field("slot");
    a.function = field("function");
    if (a.bus > 0xff || a.slot > 0x1f || a.function > 7)
        throw err::xml("invalid PCI address " + rawXml(n).substr(0, 80));
    return a;
}

// <product id=...>name</product> and <vendor ...> of pci and usb_device.
void parseIdName(
    ChildPicker& ch, const char* element, std::string_view bus, unsigned& id, std::string& name, const Context& ctx)
{
    const xmlNode* n = ch.firstLeaf(element);
    auto v = n ? attr(n, "id") : std::nullopt;
    if (!v)
        throw err::xml("no " + std::string(bus) + " " + element + " ID supplied for " + ctx.quoted());
    id = parseHex(*v, "<" + std::string(element) + " id>");
    name = textOf(n);
}

NodeDevSystemCap parseSystem(ChildPicker& ch, const Context& ctx)
{
    NodeDevSystemCap s;
    s.product = ch.textOr("product");
    const xmlNode* hw = ch.firstElement("hardware");
    if (!hw)
        throw err::xml("no system UUID supplied for " + ctx.quoted());
    ChildPicker h(hw);
    s.hardwareVendor = h.textOr("vendor");
    s.hardwareVersion = h.textOr("version");
    s.hardwareSerial = h.textOr("serial");
    auto uuid = h.text("uuid");
    if (!uuid)
        throw err::xml("no system UUID supplied for " + ctx.quoted());
    if (!isValidUUID(*uuid))
        throw err::xml("malformed uuid element '" + *uuid + "' for " + ctx.quoted());
    s.hardwareUUID = normalizeUUID(*uuid);
    s.hardwareExtra.attrs = otherAttrs(hw, {});
    h.rest(s.hardwareExtra);
    if (const xmlNode* fw = ch.firstElement("firmware")) {
        ChildPicker f(fw);
        s.firmwareVendor = f.textOr("vendor");
        s.firmwareVersion = f.textOr("version");
        s.firmwareReleaseDate = f.textOr("release_date");
        s.firmwareExtra.attrs = otherAttrs(fw, {});
        f.rest(s.firmwareExtra);
    }
    return s;
}

NodeDevPciCap parsePci(ChildPicker& ch, const Context& ctx)
{
    NodeDevPciCap p;
    if (auto cls = ch.text("class")) {
        p.pciClass = parseHex(*cls, "<class>");
        if (*p.pciClass > 0xffffff)
            throw err::xml("invalid PCI class supplied for " + ctx.quoted());
    }
    p.domain = requiredUInt(ch, "domain", "no PCI domain ID", ctx);
    p.bus = requiredUInt(ch, "bus", "no PCI bus ID", ctx);
    p.slot = requiredUInt(ch, "slot", "no PCI slot ID", ctx);
    p.function = requiredUInt(ch, "function", "no PCI function ID", ctx);
    parseIdName(ch, "vendor", "PCI", p.vendorId, p.vendorName, ctx);
    parseIdName(ch, "product", "PCI", p.productId, p.productName, ctx);
    for (const xmlNode* c : ch.all("capability")) {
        auto type = attr(c, "type");
        if (!type)
            throw err::xml("Missing capability type in PCI <capability>");
        p.capabilities.push_back({*type, rawXml(c)});
    }
    if (const xmlNode* g = ch.firstElement("iommuGroup")) {
        auto number = attr(g, "number");
        if (!number)
            throw err::xml("missing number attribute in <iommuGroup>");
        p.iommuGroup = parseUInt(*number, "<iommuGroup number>");
        for (const xmlNode* a : elementChildren(g)) {
            if (elemName(a) != "address")
                throw err::xml("unexpected element <" + elemName(a) + "> in <iommuGroup>");
            p.iommuGroupAddresses.push_back(parsePciAddress(a));
        }
    }
    if (const xmlNode* numa = ch.firstLeaf("numa")) {
        if (auto node = attr(numa, "node"))
            p.numaNode = parseInt(*node, "<numa node>");
    }
    if (const xmlNode* pcie = ch.firstElement("pci-express"))
        p.pciExpress = rawXml(pcie);
    return p;
}

NodeDevUsbDeviceCap parseUsbDevice(ChildPicker& ch, const Context& ctx)
{
    NodeDevUsbDeviceCap u;
    u.bus = requiredUInt(ch, "bus", "no USB bus number", ctx);
    u.device = requiredUInt(ch, "device", "no USB device number", ctx);
    parseIdName(ch, "vendor", "USB", u.vendorId, u.vendorName, ctx);
    parseIdName(ch, "product", "USB", u.productId, u.productName, ctx);
    return u;
}

NodeDevUsbInterfaceCap parseUsbInterface(ChildPicker& ch, const Context& ctx)
{
    NodeDevUsbInterfaceCap u;
    u.number = requiredUInt(ch, "number", "no USB interface number", ctx);
    u.usbClass = requiredUInt(ch, "class", "no USB interface class", ctx);
    u.subclass = requiredUInt(ch, "subclass", "no USB interface subclass", ctx);
    u.protocol = requiredUInt(ch, "protocol", "no USB interface protocol", ctx);
    u.description = ch.textOr("description");
    return u;
}

NodeDevNetCap parseNet(ChildPicker& ch, const Context& ctx)
{
    // libvirt's virNetDevFeature names.
    static constexpr std::string_view kFeatures[] = {"rx", "tx", "sg", "tso", "gso", "gro", "lro", "rxvlan", "txvlan",
        "ntuple", "rxhash", "rdma", "txudptnl", "switchdev"};
    NodeDevNetCap n;
    auto ifname = ch.text("interface");
    if (!ifname || ifname->empty())
        throw err::xml("no network interface supplied for " + ctx.quoted());
    n.interface = *ifname;
    n.address = ch.textOr("address");
    if (!n.address.empty() && !isValidMAC(n.address))
        throw invalidValue(n.address, "<address> (MAC) in net capability");
    if (const xmlNode* link = ch.firstLeaf("link"))
        n.link = parseInterfaceLink(link);
    while (const xmlNode* f = ch.leaf("feature")) {
        auto name = attr(f, "name");
        if (!name)
            throw err::xml("missing network device feature name");
        bool known = false;
        for (auto k : kFeatures)
            known = known || k == *name;
        if (!known)
            throw err::xml("unknown network device feature '" + *name + "'");
        n.features.push_back(*name);
    }
    if (const xmlNode* sub = ch.firstLeaf("capability")) {
        n.subtype = attrOr(sub, "type");
        if (n.subtype != "80203" && n.subtype != "80211")
            throw makeError(
                ErrCode::ConfigUnsupported, ErrDomain::NodeDev, "invalid network type supplied for " + ctx.quoted());
    }
    return n;
}

std::string fcName(ChildPicker& ch, const char* element, const char* label, const Context& ctx)
{
    if (auto v = ch.text(element))
        return checkedWWN(*v, "<" + std::string(element) + ">");
    if (ctx.create && !ctx.wwnOUI.empty())
        return generateWWN(ctx.wwnOUI);
    throw err::xml(std::string("no ") + label + " supplied for " + ctx.quoted());
}

NodeDevScsiHostCap parseScsiHost(ChildPicker& ch, const Context& ctx)
{
    NodeDevScsiHostCap h;
    if (auto host = ch.text("host"))
        h.host = parseUInt(*host, "<host>");
    else if (!ctx.create)
        throw err::xml("no SCSI host ID supplied for " + ctx.quoted());
    if (auto id = ch.text("unique_id"))
        h.uniqueId = parseUInt(*id, "<unique_id>");
    for (const xmlNode* c : ch.all("capability")) {
        std::string type = attrOr(c, "type");
        if (type.empty())
            throw err::xml("missing SCSI host capability type for " + ctx.quoted());
        ChildPicker sub(c);
        if (type == "fc_host" && !h.fcHost) {
            NodeDevFcHost fc;
            fc.wwnn = fcName(sub, "wwnn", "WWNN", ctx);
            fc.wwpn = fcName(sub, "wwpn", "WWPN", ctx);
            if (auto fabric = sub.text("fabric_wwn"))
                fc.fabricWWN = checkedWWN(*fabric, "<fabric_wwn>");
            h.fcHost = fc;
        } else if (type == "vport_ops" && !h.vportOps) {
            NodeDevVportOps ops;
            if (auto max = sub.text("max_vports"))
                ops.maxVports = parseUInt(*max, "<max_vports>");
            if (auto vports = sub.text("vports"))
                ops.vports = parseUInt(*vports, "<vports>");
            h.vportOps = ops;
        } else {
            throw err::xml("unknown SCSI host capability type '" + type + "' for " + ctx.quoted());
        }
        // Like libvirt, ignore anything else inside: the schema allows nothing.
    }
    return h;
}

NodeDevScsiTargetCap parseScsiTarget(ChildPicker& ch, const Context& ctx)
{
    NodeDevScsiTargetCap t;
    auto target = ch.text("target");
    if (!target)
        throw err::xml("no target name supplied for " + ctx.quoted());
    t.target = *target;
    for (const xmlNode* c : ch.all("capability")) {
        std::string type = attrOr(c, "type");
        if (type != "fc_remote_port")
            throw err::xml("unknown SCSI target capability type '" + type + "' for " + ctx.quoted());
        ChildPicker sub(c);
        t.fcRemotePort = true;
        auto rport = sub.text("rport");
        if (!rport)
            throw err::xml("missing rport name for " + ctx.quoted());
        auto wwpn = sub.text("wwpn");
        if (!wwpn)
            throw err::xml("missing wwpn identifier for " + ctx.quoted());
        t.rport = *rport;
        t.wwpn = checkedWWN(*wwpn, "<wwpn>");
    }
    return t;
}

NodeDevScsiCap parseScsi(ChildPicker& ch, const Context& ctx)
{
    NodeDevScsiCap s;
    s.host = requiredUInt(ch, "host", "no SCSI host ID", ctx);
    s.bus = requiredUInt(ch, "bus", "no SCSI bus ID", ctx);
    s.target = requiredUInt(ch, "target", "no SCSI target ID", ctx);
    s.lun = requiredUInt(ch, "lun", "no SCSI LUN ID", ctx);
    s.type = ch.textOr("type");
    return s;
}

NodeDevStorageCap parseStorage(ChildPicker& ch, const Context& ctx)
{
    NodeDevStorageCap s;
    auto block = ch.text("block");
    if (!block || block->empty())
        throw err::xml("no block device path supplied for " + ctx.quoted());
    s.block = *block;
    s.bus = ch.textOr("bus");
    s.driveType = ch.textOr("drive_type");
    s.model = ch.textOr("model");
    s.vendor = ch.textOr("vendor");
    s.serial = ch.textOr("serial");
    for (const xmlNode* c : ch.all("capability")) {
        std::string type = attrOr(c, "type");
        if (type == "hotpluggable") {
            s.hotpluggable = true;
        } else if (type == "removable") {
            s.removable = true;
            ChildPicker sub(c);
            if (auto avail = sub.text("media_available")) {
                checkEnum(*avail, {"0", "1"}, "<media_available>");
                s.mediaAvailable = *avail == "1";
            }
            s.mediaSize = requiredU64(sub, "media_size", "no removable media size", ctx);
            s.mediaLabel = sub.textOr("media_label");
            s.logicalBlockSize = optionalU64(sub, "logical_block_size");
            s.numBlocks = optionalU64(sub, "num_blocks");
        } else {
            throw err::xml("unknown storage capability type '" + type + "' for " + ctx.quoted());
        }
    }
    if (!s.removable) {
        s.size = requiredU64(ch, "size", "no size", ctx);
        s.logicalBlockSize = optionalU64(ch, "logical_block_size");
        s.numBlocks = optionalU64(ch, "num_blocks");
    }
    return s;
}

NodeDevMdevCap parseMdev(ChildPicker& ch, const Context& ctx)
{
    NodeDevMdevCap m;
    const xmlNode* type = ch.firstLeaf("type");
    if (!type || !attr(type, "id"))
        throw err::xml("missing type id attribute for " + ctx.quoted());
    m.typeId = *attr(type, "id");
    if (auto uuid = ch.text("uuid")) {
        if (!isValidUUID(*uuid))
            throw err::xml("Invalid uuid '" + *uuid + "' for new mdev device");
        m.uuid = normalizeUUID(*uuid);
    }
    m.parentAddr = ch.textOr("parent_addr");
    if (const xmlNode* g = ch.firstLeaf("iommuGroup")) {
        auto number = attr(g, "number");
        if (!number)
            throw err::xml("invalid iommuGroup number attribute for " + ctx.quoted());
        m.iommuGroup = parseUInt(*number, "<iommuGroup number>");
    }
    while (const xmlNode* a = ch.leaf("attr")) {
        auto name = attr(a, "name");
        auto value = attr(a, "value");
        if (!name || !value)
            throw err::xml("mdev attribute missing name or value");
        m.attrs.emplace_back(*name, *value);
    }
    return m;
}

NodeDevCapDef parseCapability(const xmlNode* n, const Context& ctx)
{
    NodeDevCapDef cap;
    auto type = attr(n, "type");
    if (!type)
        throw err::xml("missing type attribute in <capability>");
    cap.type = *type;
    cap.extra.attrs = otherAttrs(n, {"type"});
    ChildPicker ch(n);
    const std::string& t = cap.type;
    if (t == "system") {
        cap.data = parseSystem(ch, ctx);
    } else if (t == "pci") {
        cap.data = parsePci(ch, ctx);
    } else if (t == "usb_device") {
        cap.data = parseUsbDevice(ch, ctx);
    } else if (t == "usb") {
        cap.data = parseUsbInterface(ch, ctx);
    } else if (t == "net") {
        cap.data = parseNet(ch, ctx);
    } else if (t == "scsi_host") {
        cap.data = parseScsiHost(ch, ctx);
    } else if (t == "scsi_target") {
        cap.data = parseScsiTarget(ch, ctx);
    } else if (t == "scsi") {
        cap.data = parseScsi(ch, ctx);
    } else if (t == "storage") {
        cap.data = parseStorage(ch, ctx);
    } else if (t == "drm") {
        NodeDevDrmCap drm;
        drm.type = ch.textOr("type");
        if (drm.type != "primary" && drm.type != "control" && drm.type != "render")
            throw makeError(ErrCode::ConfigUnsupported, ErrDomain::NodeDev,
                "unknown drm type '" + drm.type + "' for " + ctx.quoted());
        cap.data = drm;
    } else if (t == "mdev") {
        cap.data = parseMdev(ch, ctx);
    } else if (t == "scsi_generic" || t == "ccw" || t == "css" || t == "vdpa" || t == "ap_card" || t == "ap_queue"
        || t == "ap_matrix") {
        // Kinds libvirt knows and the model keeps verbatim.
        NodeDevRawCap raw;
        for (const xmlNode* c : elementChildren(n))
            if (elemName(c) == "capability")
                raw.subCapabilities.push_back(attrOr(c, "type"));
        cap.data = raw;
    } else {
        // Includes fc_host, vports, mdev_types and vpd, which libvirt only
        // accepts nested in another capability.
        throw invalidValue(t, "<capability type>");
    }
    ch.rest(cap.extra);
    return cap;
}

void parseParent(const xmlNode* n, NodeDeviceDef& def)
{
    def.parent = textOf(n);
    auto wwnn = attr(n, "wwnn");
    auto wwpn = attr(n, "wwpn");
    if (wwnn && !wwpn)
        throw err::xml("when providing parent wwnn='" + *wwnn + "', the wwpn must also be provided");
    if (!wwnn && wwpn)
        throw err::xml("when providing parent wwpn='" + *wwpn + "', the wwnn must also be provided");
    if (wwnn) {
        def.parentWWNN = checkedWWN(*wwnn, "<parent wwnn>");
        def.parentWWPN = checkedWWN(*wwpn, "<parent wwpn>");
    }
    if (auto fabric = attr(n, "fabric_wwn"))
        def.parentFabricWWN = checkedWWN(*fabric, "<parent fabric_wwn>");
}

} // namespace

NodeDeviceDef parseNodeDeviceXML(std::string_view xml, unsigned flags, std::string_view wwnOUI)
{
    checkFlags(flags, NODEDEV_PARSE_VALIDATE | NODEDEV_PARSE_CREATE, "parseNodeDeviceXML");
    if (!wwnOUI.empty() && (wwnOUI.size() != 6 || !allHex(wwnOUI)))
        throw err::invalidArg("WWN OUI must be 6 hex digits, got '" + std::string(wwnOUI) + "'");
    XmlDoc doc = parseDocument(xml, "(node_device_definition)");
    const xmlNode* root = rootElement(doc, "device");
    if (flags & NODEDEV_PARSE_VALIDATE)
        validateSchema(doc, "nodedev.rng");

    NodeDeviceDef def;
    Context ctx;
    ctx.create = flags & NODEDEV_PARSE_CREATE;
    ctx.wwnOUI = wwnOUI;
    def.extra.attrs = otherAttrs(root, {});
    ChildPicker ch(root);
    def.name = ch.textOr("name");
    if (def.name.empty() && !ctx.create)
        throw err::xml("missing <name> in <device>");
    // libvirt names every device being created "new device" until the
    // driver knows its real name.
    ctx.who = ctx.create ? "new device" : def.name;
    def.path = ch.textOr("path");
    while (const xmlNode* d = ch.leaf("devnode")) {
        std::string type = attrOr(d, "type");
        if (type == "dev")
            def.devnode = textOf(d);
        else if (type == "link")
            def.devlinks.push_back(textOf(d));
        else
            throw invalidValue(type, "<devnode type>");
    }
    if (const xmlNode* p = ch.firstLeaf("parent"))
        parseParent(p, def);
    if (const xmlNode* d = ch.firstElement("driver")) {
        ChildPicker dc(d);
        def.driver = dc.textOr("name");
        def.driverExtra.attrs = otherAttrs(d, {});
        dc.rest(def.driverExtra);
    }
    for (const xmlNode* c : ch.all("capability"))
        def.caps.push_back(parseCapability(c, ctx));
    if (def.caps.empty())
        throw err::xml("no device capabilities for " + ctx.quoted());
    ch.rest(def.extra);
    return def;
}

} // namespace virtbus::xml
