// The test connection's node devices: parsed definitions by name. Nothing
// here touches the host; the FC parent checks run against this table only.
#include "test/test_nodedev.h"

#include "xml/nodedev_xml.h"

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

namespace virtbus {

namespace {

// The devices libvirt's test driver starts with, as virsh shows them. The
// vport_ops counts are 0 although libvirt's defaultConnXML says 127 and 1:
// libvirt's parser ignores them (they are read from sysfs on a real host),
// and clients see the zeros.
constexpr std::array kWorldXML = {
    "<device><name>computer</name>"
    "<capability type='system'>"
    "<hardware><vendor>Libvirt</vendor><version>Test driver</version><serial>123456</serial>"
    "<uuid>11111111-2222-3333-4444-555555555555</uuid></hardware>"
    "<firmware><vendor>Libvirt</vendor><version>Test Driver</version>"
    "<release_date>01/22/2007</release_date></firmware>"
    "</capability></device>",

    "<device><name>scsi_host1</name><parent>computer</parent>"
    "<capability type='scsi_host'><host>1</host><unique_id>0</unique_id>"
    "<capability type='fc_host'><wwnn>2000000012341234</wwnn><wwpn>1000000012341234</wwpn>"
    "<fabric_wwn>2000000043214321</fabric_wwn></capability>"
    "<capability type='vport_ops'><max_vports>0</max_vports><vports>0</vports></capability>"
    "</capability></device>",

    "<device><name>scsi_host2</name><parent>computer</parent>"
    "<capability type='scsi_host'><host>2</host><unique_id>1</unique_id>"
    "<capability type='fc_host'><wwnn>2000000056785678</wwnn><wwpn>1000000056785678</wwpn>"
    "<fabric_wwn>2000000087658765</fabric_wwn></capability>"
    "<capability type='vport_ops'><max_vports>0</max_vports><vports>0</vports></capability>"
    "</capability></device>",

    "<device><name>scsi_host11</name><parent>scsi_host1</parent>"
    "<capability type='scsi_host'><host>11</host><unique_id>10</unique_id>"
    "<capability type='fc_host'><wwnn>2000000034563456</wwnn><wwpn>1000000034563456</wwpn>"
    "<fabric_wwn>2000000043214321</fabric_wwn></capability>"
    "</capability></device>",
};

// testNodeDeviceMockCreateVport copies this device and renames the copy.
constexpr const char* kVhbaTemplate = "scsi_host11";
constexpr const char* kVhbaName = "scsi_host12";

// virConnectListAllNodeDeviceFlags: bit i filters on the capability
// virNodeDeviceListCaps-style name kCapFilter[i]. libvirt 9.0's test driver
// accepts these bits only (not ACTIVE/INACTIVE).
constexpr std::array<std::string_view, 22> kCapFilter = {
    "system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target", "scsi", "storage", "fc_host",
    "vports", "scsi_generic", "drm", "mdev_types", "mdev", "ccw", "css", "vdpa", "ap_card", "ap_queue",
    "ap_matrix", "vpd",
};
constexpr uint32_t kListCapFilters = (1u << kCapFilter.size()) - 1;

// virNodeDeviceCreateXMLFlags.
enum : uint32_t { kCreateValidate = 1u << 0 };

// Caller-supplied names are echoed in errors; cap what we echo so a huge
// argument cannot make a huge reply.
constexpr size_t kMaxEcho = 1024;
std::string echo(const std::string& s) { return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s; }

// test_driver.c's own errors carry VIR_FROM_TEST, those of the shared node
// device object code (virnodedeviceobj.c) VIR_FROM_NODEDEV.
VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }
VirtError nodedevInternal(std::string_view detail)
{
    return makeError(ErrCode::InternalError, ErrDomain::NodeDev, detail);
}

const xml::NodeDevScsiHostCap* fcHostCap(const xml::NodeDeviceDef& def)
{
    for (const auto& cap : def.caps)
        if (const auto* h = std::get_if<xml::NodeDevScsiHostCap>(&cap.data); h && h->fcHost)
            return h;
    return nullptr;
}

bool vportCapable(const xml::NodeDeviceDef& def)
{
    for (const auto& cap : def.caps)
        if (const auto* h = std::get_if<xml::NodeDevScsiHostCap>(&cap.data); h && h->vportOps)
            return true;
    return false;
}

// virNodeDeviceObjMatch: a device passes when it has any of the requested
// capabilities, counting fc_host/vports (and mdev_types, vpd) as libvirt's
// virNodeDeviceObjHasCap does.
bool matches(const xml::NodeDeviceDef& def, uint32_t flags)
{
    if (!(flags & kListCapFilters))
        return true;
    for (const std::string& name : xml::nodeDeviceCapNames(def)) {
        auto it = std::find(kCapFilter.begin(), kCapFilter.end(), name);
        if (it != kCapFilter.end() && (flags & (1u << (it - kCapFilter.begin()))))
            return true;
    }
    return false;
}

} // namespace

TestNodeDeviceDriver::TestNodeDeviceDriver()
{
    for (const char* xml : kWorldXML) {
        auto def = std::make_unique<xml::NodeDeviceDef>(xml::parseNodeDeviceXML(xml));
        std::string name = def->name;
        devs_.emplace(std::move(name), std::move(def));
    }
}

TestNodeDeviceDriver::~TestNodeDeviceDriver() = default;

const xml::NodeDeviceDef& TestNodeDeviceDriver::byName(const std::string& name) const
{
    auto it = devs_.find(name);
    if (it == devs_.end())
        throw testErr(ErrCode::NoNodeDevice, "no node device with matching name '" + echo(name) + "'");
    return *it->second;
}

void TestNodeDeviceDriver::checkVportParent(const xml::NodeDeviceDef& request) const
{
    // A creation request is always called 'new device' in these messages.
    const std::string notFound = "Could not find parent device for 'new device'";
    const xml::NodeDeviceDef* parent = nullptr;
    auto find = [this](auto&& pred) -> const xml::NodeDeviceDef* {
        for (const auto& [name, d] : devs_)
            if (pred(*d))
                return d.get();
        return nullptr;
    };
    if (!request.parent.empty()) {
        auto it = devs_.find(request.parent);
        if (it == devs_.end())
            throw nodedevInternal(notFound);
        parent = it->second.get();
    } else if (!request.parentWWNN.empty() && !request.parentWWPN.empty()) {
        parent = find([&](const xml::NodeDeviceDef& d) {
            const auto* h = fcHostCap(d);
            return h && h->fcHost->wwnn == request.parentWWNN && h->fcHost->wwpn == request.parentWWPN
                && vportCapable(d);
        });
        if (!parent)
            throw nodedevInternal(notFound);
    } else if (!request.parentFabricWWN.empty()) {
        parent = find([&](const xml::NodeDeviceDef& d) {
            const auto* h = fcHostCap(d);
            return h && h->fcHost->fabricWWN == request.parentFabricWWN && vportCapable(d);
        });
        if (!parent)
            throw nodedevInternal(notFound);
    } else {
        parent = find(vportCapable);
        if (!parent)
            throw nodedevInternal("Could not find any vport capable device");
    }
    // virNodeDeviceFindFCParentHost.
    if (!vportCapable(*parent))
        throw nodedevInternal("Parent device " + parent->name + " is not capable of vport operations");
}

// ---- listings and lookups ----

std::vector<std::string> TestNodeDeviceDriver::listNodeDevices(uint32_t flags)
{
    checkFlags(flags, kListCapFilters, "testConnectListAllNodeDevices");
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, d] : devs_)
        if (matches(*d, flags))
            out.push_back(name);
    return out;
}

std::string TestNodeDeviceDriver::nodeDeviceLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    return byName(name).name;
}

bool TestNodeDeviceDriver::nodeDeviceExists(const std::string& name)
{
    std::lock_guard lock(mu_);
    return devs_.count(name) != 0;
}

NodeDeviceSummary TestNodeDeviceDriver::nodeDeviceSummary(const std::string& name)
{
    std::lock_guard lock(mu_);
    const xml::NodeDeviceDef& d = byName(name);
    // "" for `computer`, where virNodeDeviceGetParent fails with "no parent
    // for this device".
    return {d.name, d.parent};
}

std::string TestNodeDeviceDriver::nodeDeviceGetXMLDesc(const std::string& name, uint32_t flags)
{
    std::lock_guard lock(mu_);
    // The device first: libvirt-dbus looks it up before calling libvirt.
    const xml::NodeDeviceDef& d = byName(name);
    checkFlags(flags, 0, "testNodeDeviceGetXMLDesc");
    return xml::formatNodeDeviceXML(d);
}

std::vector<std::string> TestNodeDeviceDriver::nodeDeviceListCaps(const std::string& name)
{
    std::lock_guard lock(mu_);
    // testNodeDeviceListCaps names the top-level capabilities only; the
    // fc_host/vports extras are the real node device driver's.
    std::vector<std::string> out;
    for (const auto& cap : byName(name).caps)
        out.push_back(cap.type);
    return out;
}

// ---- vHBA creation and removal ----

std::string TestNodeDeviceDriver::nodeDeviceCreateXML(const std::string& xml, uint32_t flags)
{
    checkFlags(flags, kCreateValidate, "testNodeDeviceCreateXML");
    // No WWN OUI: libvirt's test driver has no virt type to generate
    // missing WWNs for, so a request without both names fails.
    unsigned parseFlags = xml::NODEDEV_PARSE_CREATE;
    if (flags & kCreateValidate)
        parseFlags |= xml::NODEDEV_PARSE_VALIDATE;
    xml::NodeDeviceDef request = xml::parseNodeDeviceXML(xml, parseFlags);
    auto [wwnn, wwpn] = xml::nodeDeviceWWNs(request); // refuses anything but an FC HBA

    bool added = false;
    {
        std::lock_guard lock(mu_);
        checkVportParent(request);
        auto tmpl = devs_.find(kVhbaTemplate);
        // libvirt fails here without saying why ("An error occurred, but
        // the cause is unknown"); say it.
        if (tmpl == devs_.end())
            throw nodedevInternal(std::string("cannot create a vHBA: the test driver's template device '")
                + kVhbaTemplate + "' is gone");
        auto dev = std::make_unique<xml::NodeDeviceDef>(*tmpl->second);
        dev->name = kVhbaName;
        for (auto& cap : dev->caps)
            if (auto* h = std::get_if<xml::NodeDevScsiHostCap>(&cap.data); h && h->fcHost) {
                h->fcHost->wwnn = wwnn;
                h->fcHost->wwpn = wwpn;
            }
        // virNodeDeviceObjListAssignDef: an existing scsi_host12 gets the
        // new definition.
        std::unique_ptr<xml::NodeDeviceDef>& slot = devs_[kVhbaName];
        added = !slot;
        slot = std::move(dev);
    }
    if (EventSink* s = sink()) {
        if (added)
            s->objectAdded({ObjectType::NodeDevice, kVhbaName, {}});
        // libvirt reports CREATED for a replacement too.
        s->nodeDeviceLifecycle(kVhbaName, ev::NodeDevCreated, 0);
    }
    return kVhbaName;
}

void TestNodeDeviceDriver::nodeDeviceDestroy(const std::string& name)
{
    // libvirt 9.0's testNodeDeviceDestroy sets the two errors below but
    // still returns success, leaving the device in place; we report them.
    {
        std::lock_guard lock(mu_);
        const xml::NodeDeviceDef& d = byName(name);
        xml::nodeDeviceWWNs(d); // "Device is not a fibre channel HBA"
        if (!devs_.count(d.parent))
            throw testErr(ErrCode::InternalError, "cannot find parent '" + d.parent + "' definition");
        devs_.erase(name);
    }
    if (EventSink* s = sink()) {
        s->objectRemoved({ObjectType::NodeDevice, name, {}});
        s->nodeDeviceLifecycle(name, ev::NodeDevDeleted, 0);
    }
}

} // namespace virtbus
