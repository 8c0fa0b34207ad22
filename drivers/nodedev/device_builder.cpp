// How libvirt's udev backend names and describes devices, re-derived from
// sysfs: the kernel's uevent file carries DEVTYPE, DRIVER, INTERFACE,
// PCI_CLASS, MINOR, DEVNAME, BUSNUM and DEVNUM, so only udev's own
// properties (ID_SERIAL, ID_TYPE, ID_BUS, hwdb names) need a udev database.
#include "nodedev/device_builder.h"

#include <cctype>
#include <cstdio>
#include <set>

namespace virtbus::nodedev {

namespace {

std::string prop(const BuildContext& ctx, const std::string& syspath, const char* key)
{
    return ctx.udev && ctx.udev->property ? ctx.udev->property(syspath, key) : std::string();
}

std::string attrOr(const std::string& dir, const std::string& name) { return Sysfs::attr(dir, name).value_or(""); }

std::optional<xml::PciAddressDef> parsePciAddress(const std::string& s)
{
    xml::PciAddressDef a;
    char tail = 0;
    if (sscanf(s.c_str(), "%x:%x:%x.%x%c", &a.domain, &a.bus, &a.slot, &a.function, &tail) != 4)
        return std::nullopt;
    return a;
}

std::string addressXML(const xml::PciAddressDef& a)
{
    char buf[96];
    snprintf(buf, sizeof buf, "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>", a.domain, a.bus,
        a.slot, a.function);
    return buf;
}

// SR-IOV relations (virNodeDeviceGetPCIDynamicCaps): physfn and virtfn*.
void addSriovCaps(const std::string& dir, xml::NodeDevPciCap& pci)
{
    if (auto pf = parsePciAddress(Sysfs::linkName(dir + "/physfn")))
        pci.capabilities.push_back(
            {"phys_function", "<capability type='phys_function'>" + addressXML(*pf) + "</capability>"});
    std::string vfs;
    for (const auto& n : Sysfs::list(dir))
        if (n.rfind("virtfn", 0) == 0)
            if (auto vf = parsePciAddress(Sysfs::linkName(dir + "/" + n)))
                vfs += addressXML(*vf);
    auto total = Sysfs::number(dir, "sriov_totalvfs", 10);
    if (!vfs.empty() || (total && *total > 0)) {
        std::string open = "<capability type='virt_functions'";
        if (total)
            open += " maxCount='" + std::to_string(*total) + "'";
        pci.capabilities.push_back({"virt_functions", open + ">" + vfs + "</capability>"});
    }
}

std::string escapeXml(const std::string& in)
{
    std::string out;
    for (char c : in) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

// The mediated device types a parent offers (mdev_supported_types/).
void addMdevTypes(const std::string& dir, xml::NodeDevPciCap& pci)
{
    std::string types = dir + "/mdev_supported_types";
    std::string body;
    for (const auto& id : Sysfs::list(types)) {
        std::string t = types + "/" + id;
        body += "<type id='" + escapeXml(id) + "'>";
        if (auto name = Sysfs::attr(t, "name"); name && !name->empty())
            body += "<name>" + escapeXml(*name) + "</name>";
        body += "<deviceAPI>" + escapeXml(Sysfs::attr(t, "device_api").value_or("")) + "</deviceAPI>";
        body += "<availableInstances>" + std::to_string(Sysfs::number(t, "available_instances", 10).value_or(0))
            + "</availableInstances></type>";
    }
    if (!body.empty())
        pci.capabilities.push_back({"mdev_types", "<capability type='mdev_types'>" + body + "</capability>"});
}

bool describePci(const BuildContext& ctx, const std::string& dir, const std::map<std::string, std::string>& ue,
    xml::NodeDeviceDef& def)
{
    auto addr = parsePciAddress(Sysfs::basename(dir));
    auto vendor = Sysfs::number(dir, "vendor", 16), device = Sysfs::number(dir, "device", 16);
    if (!addr || !vendor || !device)
        return false;
    xml::NodeDevPciCap pci;
    pci.domain = addr->domain;
    pci.bus = addr->bus;
    pci.slot = addr->slot;
    pci.function = addr->function;
    pci.vendorId = static_cast<unsigned>(*vendor);
    pci.productId = static_cast<unsigned>(*device);
    if (auto it = ue.find("PCI_CLASS"); it != ue.end())
        pci.pciClass = static_cast<unsigned>(strtoul(it->second.c_str(), nullptr, 16));
    pci.vendorName = prop(ctx, dir, "ID_VENDOR_FROM_DATABASE");
    pci.productName = prop(ctx, dir, "ID_MODEL_FROM_DATABASE");
    if (ctx.pciIds) {
        if (pci.vendorName.empty())
            pci.vendorName = ctx.pciIds->vendor(pci.vendorId);
        if (pci.productName.empty())
            pci.productName = ctx.pciIds->device(pci.vendorId, pci.productId);
    }
    if (auto numa = Sysfs::attr(dir, "numa_node"); numa && !numa->empty() && (*numa)[0] != '-')
        pci.numaNode = atoi(numa->c_str());
    if (std::string group = Sysfs::linkName(dir + "/iommu_group"); !group.empty()) {
        pci.iommuGroup = static_cast<unsigned>(strtoul(group.c_str(), nullptr, 10));
        for (const auto& member : Sysfs::list(Sysfs::resolve(dir + "/iommu_group") + "/devices"))
            if (auto a = parsePciAddress(member))
                pci.iommuGroupAddresses.push_back(*a);
    }
    addSriovCaps(dir, pci);
    addMdevTypes(dir, pci);
    def.name = deviceName("pci", Sysfs::basename(dir));
    def.caps.push_back({"pci", std::move(pci), {}});
    return true;
}

bool describeUsbDevice(const BuildContext& ctx, const std::string& dir, const std::map<std::string, std::string>& ue,
    xml::NodeDeviceDef& def)
{
    xml::NodeDevUsbDeviceCap usb;
    auto num = [&](const char* key) {
        auto it = ue.find(key);
        return it == ue.end() ? 0u : static_cast<unsigned>(strtoul(it->second.c_str(), nullptr, 10));
    };
    usb.bus = num("BUSNUM");
    usb.device = num("DEVNUM");
    usb.vendorId = static_cast<unsigned>(Sysfs::number(dir, "idVendor", 16).value_or(0));
    usb.productId = static_cast<unsigned>(Sysfs::number(dir, "idProduct", 16).value_or(0));
    usb.vendorName = prop(ctx, dir, "ID_VENDOR_FROM_DATABASE");
    if (usb.vendorName.empty())
        usb.vendorName = attrOr(dir, "manufacturer");
    usb.productName = prop(ctx, dir, "ID_MODEL_FROM_DATABASE");
    if (usb.productName.empty())
        usb.productName = attrOr(dir, "product");
    def.name = deviceName("usb", Sysfs::basename(dir));
    def.caps.push_back({"usb_device", std::move(usb), {}});
    return true;
}

bool describeUsbInterface(const std::string& dir, xml::NodeDeviceDef& def)
{
    xml::NodeDevUsbInterfaceCap usb;
    auto hex = [&](const char* a) { return static_cast<unsigned>(Sysfs::number(dir, a, 16).value_or(0)); };
    usb.number = hex("bInterfaceNumber");
    usb.usbClass = hex("bInterfaceClass");
    usb.subclass = hex("bInterfaceSubClass");
    usb.protocol = hex("bInterfaceProtocol");
    def.name = deviceName("usb", Sysfs::basename(dir));
    def.caps.push_back({"usb", std::move(usb), {}});
    return true;
}

bool describeNet(const BuildContext& ctx, const std::string& dir, const std::map<std::string, std::string>& ue,
    xml::NodeDeviceDef& def)
{
    xml::NodeDevNetCap net;
    auto it = ue.find("INTERFACE");
    net.interface = it != ue.end() ? it->second : Sysfs::basename(dir);
    net.address = attrOr(dir, "address");
    auto dt = ue.find("DEVTYPE");
    net.subtype = dt != ue.end() && dt->second == "wlan" ? "80211" : "80203";
    // virNetDevGetLinkInfo: operstate, and the speed a running link reports.
    net.link.state = attrOr(dir, "operstate");
    if (net.link.state == "up")
        if (auto speed = Sysfs::attr(dir, "speed"); speed && !speed->empty() && (*speed)[0] != '-')
            if (unsigned v = static_cast<unsigned>(strtoul(speed->c_str(), nullptr, 10)); v > 0)
                net.link.speed = v;
    if (ctx.liveKernel)
        net.features = netFeatures(net.interface);
    def.name = deviceName("net", net.interface, net.address);
    def.caps.push_back({"net", std::move(net), {}});
    return true;
}

bool describeScsiHost(const std::string& dir, xml::NodeDeviceDef& def)
{
    std::string sysname = Sysfs::basename(dir);
    if (sysname.rfind("host", 0) != 0 || sysname.size() == 4 || !isdigit(static_cast<unsigned char>(sysname[4])))
        return false;
    xml::NodeDevScsiHostCap host;
    host.host = static_cast<unsigned>(strtoul(sysname.c_str() + 4, nullptr, 10));
    if (auto id = Sysfs::number(dir + "/scsi_host/" + sysname, "unique_id", 10))
        host.uniqueId = static_cast<unsigned>(*id);
    // virNodeDeviceGetSCSIHostCaps: a Fibre Channel HBA and its vport ops.
    std::string fc = dir + "/fc_host/" + sysname;
    if (Sysfs::exists(fc)) {
        auto wwn = [&](const char* a) {
            std::string v = attrOr(fc, a);
            return v.rfind("0x", 0) == 0 ? v.substr(2) : v;
        };
        host.fcHost = xml::NodeDevFcHost {wwn("node_name"), wwn("port_name"), wwn("fabric_name")};
        if (Sysfs::exists(fc + "/vport_create"))
            host.vportOps
                = xml::NodeDevVportOps {static_cast<unsigned>(Sysfs::number(fc, "max_npiv_vports", 10).value_or(0)),
                    static_cast<unsigned>(Sysfs::number(fc, "npiv_vports_inuse", 10).value_or(0))};
    }
    def.name = deviceName("scsi", sysname);
    def.caps.push_back({"scsi_host", std::move(host), {}});
    return true;
}

bool describeScsiDevice(const std::string& dir, xml::NodeDeviceDef& def)
{
    xml::NodeDevScsiCap scsi;
    char tail = 0;
    if (sscanf(Sysfs::basename(dir).c_str(), "%u:%u:%u:%u%c", &scsi.host, &scsi.bus, &scsi.target, &scsi.lun, &tail)
        != 4)
        return false;
    static const char* const kTypes[] = {"disk", "tape", "printer", "processor", "worm", "cdrom", "scanner", "mod",
        "changer", "comm", "", "", "raid", "enclosure"};
    // libvirt names the SCSI peripheral types it knows, and no others.
    if (auto t = Sysfs::number(dir, "type", 0); t && *t < std::size(kTypes) && *t != 2 && *t != 9 && *kTypes[*t])
        scsi.type = kTypes[*t];
    def.name = deviceName("scsi", Sysfs::basename(dir));
    def.caps.push_back({"scsi", std::move(scsi), {}});
    return true;
}

} // namespace

std::string deviceName(const std::string& subsystem, const std::string& sysname, const std::string& suffix)
{
    std::string name = subsystem + "_" + sysname;
    if (!suffix.empty())
        name += "_" + suffix;
    for (char& c : name)
        if (!isalnum(static_cast<unsigned char>(c)))
            c = '_';
    return name;
}

std::optional<xml::NodeDeviceDef> describeDevice(const BuildContext& ctx, const std::string& syspath)
{
    auto ue = Sysfs::uevent(syspath);
    std::string subsystem = Sysfs::linkName(syspath + "/subsystem");
    if (subsystem.empty())
        return std::nullopt;
    auto get = [&](const char* k) {
        auto it = ue.find(k);
        return it == ue.end() ? std::string() : it->second;
    };
    std::string devtype = get("DEVTYPE");
    xml::NodeDeviceDef def;
    def.path = syspath;
    // The driver link (the kernel's DRIVER= says the same), as libvirt
    // rereads it after a detach.
    def.driver = Sysfs::linkName(syspath + "/driver");
    if (std::string devname = get("DEVNAME"); !devname.empty())
        def.devnode = devname[0] == '/' ? devname : "/dev/" + devname;
    if (ctx.udev && ctx.udev->devlinks)
        def.devlinks = ctx.udev->devlinks(syspath);

    bool ok = false;
    // udevGetDeviceType: DEVTYPE decides; without one, PCI_CLASS, INTERFACE
    // or the subsystem does.
    if (!devtype.empty()) {
        if (devtype == "usb_device")
            ok = describeUsbDevice(ctx, syspath, ue, def);
        else if (devtype == "usb_interface")
            ok = describeUsbInterface(syspath, def);
        else if (devtype == "scsi_host")
            ok = describeScsiHost(syspath, def);
        else if (devtype == "scsi_target") {
            def.name = deviceName("scsi", Sysfs::basename(syspath));
            def.caps.push_back({"scsi_target", xml::NodeDevScsiTargetCap {Sysfs::basename(syspath)}, {}});
            ok = true;
        } else if (devtype == "scsi_device")
            ok = describeScsiDevice(syspath, def);
        else if (devtype == "disk" && subsystem == "block")
            ok = describeStorage(ctx, syspath, ue, def);
        else if (devtype == "wlan")
            ok = describeNet(ctx, syspath, ue, def);
        else if (devtype == "drm_minor") {
            // The minor's top bits say which node it is: 0-63 primary,
            // 64-127 control, 128-191 render.
            static const char* const kDrm[] = {"primary", "control", "render"};
            long minor = get("MINOR").empty() ? -1 : strtol(get("MINOR").c_str(), nullptr, 10);
            if (minor >= 0 && (minor >> 6) < 3) {
                def.name = deviceName("drm", Sysfs::basename(syspath));
                def.caps.push_back({"drm", xml::NodeDevDrmCap {kDrm[minor >> 6]}, {}});
                ok = true;
            }
        }
    } else if (subsystem == "mdev") {
        xml::NodeDevMdevCap mdev;
        mdev.typeId = Sysfs::linkName(syspath + "/mdev_type");
        std::string group = Sysfs::linkName(syspath + "/iommu_group");
        if (!group.empty())
            mdev.iommuGroup = static_cast<unsigned>(strtoul(group.c_str(), nullptr, 10));
        mdev.uuid = Sysfs::basename(syspath);
        mdev.parentAddr = Sysfs::basename(Sysfs::dirname(syspath));
        def.name = deviceName("mdev", mdev.uuid, mdev.parentAddr);
        def.caps.push_back({"mdev", std::move(mdev), {}});
        ok = !def.caps.empty();
    } else if (ue.count("INTERFACE")) {
        ok = describeNet(ctx, syspath, ue, def);
    } else if (ue.count("PCI_CLASS")) {
        ok = describePci(ctx, syspath, ue, def);
    }
    if (!ok)
        return std::nullopt;
    return def;
}

xml::NodeDeviceDef describeComputer(const BuildContext& ctx)
{
    xml::NodeDeviceDef def;
    def.name = "computer";
    xml::NodeDevSystemCap sys;
    std::string dmi = ctx.fs.root() + "/devices/virtual/dmi/id";
    if (Sysfs::exists(dmi)) {
        def.path = dmi;
        sys.product = attrOr(dmi, "product_name");
        sys.hardwareVendor = attrOr(dmi, "sys_vendor");
        sys.hardwareVersion = attrOr(dmi, "product_version");
        sys.hardwareSerial = attrOr(dmi, "product_serial");
        sys.hardwareUUID = attrOr(dmi, "product_uuid");
        sys.firmwareVendor = attrOr(dmi, "bios_vendor");
        sys.firmwareVersion = attrOr(dmi, "bios_version");
        sys.firmwareReleaseDate = attrOr(dmi, "bios_date");
    }
    for (char& c : sys.hardwareUUID)
        c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    // No DMI (or no root to read product_uuid): libvirt prints a zero UUID.
    if (sys.hardwareUUID.size() != 36)
        sys.hardwareUUID = "00000000-0000-0000-0000-000000000000";
    def.caps.push_back({"system", std::move(sys), {}});
    return def;
}

std::vector<std::string> candidateDevices(const Sysfs& fs)
{
    std::set<std::string> seen;
    std::vector<std::string> out;
    auto add = [&](const std::string& dir) {
        for (const auto& n : Sysfs::list(dir)) {
            std::string p = Sysfs::resolve(dir + "/" + n);
            if (!p.empty() && seen.insert(p).second)
                out.push_back(p);
        }
    };
    for (const char* bus : {"pci", "usb", "scsi", "mdev"})
        add(fs.root() + "/bus/" + bus + "/devices");
    for (const char* cls : {"net", "block", "drm"})
        add(fs.root() + "/class/" + cls);
    return out;
}

} // namespace virtbus::nodedev
