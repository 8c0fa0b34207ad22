// The test connection's host interfaces. Each interface is a parsed
// definition plus libvirt's one runtime bit, `active`; the test driver never
// touches a real NIC, so starting and stopping only flips that bit.
//
// Object-tree notifications are derived, not hand-placed: every mutation
// takes a before/after view of what each MAC-keyed object path shows and
// publishes the difference. That keeps the paths right in the cases libvirt
// makes awkward (a redefinition that changes an interface's MAC, several
// interfaces sharing one MAC, a rollback that rewrites the whole set).
#include "test/test_interface.h"

#include "xml/interface_xml.h"

#include <utility>

namespace virtbus {

namespace {

// virConnectListAllInterfacesFlags.
enum : uint32_t { kListInactive = 1u << 0, kListActive = 1u << 1 };
// virInterfaceDefineFlags.
enum : uint32_t { kDefineValidate = 1u << 0 };

// The interface libvirt's test driver starts with (defaultConnXML), as
// libvirt writes it; the model orders the elements on output as libvirt's
// formatter does.
constexpr const char* kEth1XML = "<interface type='ethernet' name='eth1'>"
                                 "  <start mode='onboot'/>"
                                 "  <mac address='aa:bb:cc:dd:ee:ff'/>"
                                 "  <mtu size='1492'/>"
                                 "  <protocol family='ipv4'>"
                                 "    <ip address='192.168.0.5' prefix='24'/>"
                                 "    <route gateway='192.168.0.1'/>"
                                 "  </protocol>"
                                 "</interface>";

// Caller-supplied names are echoed in errors; cap what we echo so a huge
// argument cannot make a huge reply.
constexpr size_t kMaxEcho = 1024;
std::string echo(const std::string& s) { return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s; }

// Errors raised by test_driver.c itself carry VIR_FROM_TEST.
VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }

// libvirt compares MAC strings with STRCASEEQ.
bool sameMac(const std::string& a, const std::string& b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

// libvirt takes any interface name; we refuse the ones that would be
// dangerous wherever a name becomes a file or path component, with the
// wording virtbus uses for other objects' names.
void checkName(const std::string& name)
{
    if (name.find('/') != std::string::npos)
        throw err::xml("name " + echo(name) + " cannot contain '/'");
    if (name == "." || name == "..")
        throw err::xml("name '" + name + "' is not allowed");
}

} // namespace

struct TestInterfaceDriver::Iface {
    xml::HostInterfaceDef def;
    bool active = false;

    IfaceRef ref() const { return {def.name, def.mac}; }
};

TestInterfaceDriver::TestInterfaceDriver()
{
    // testParseInterfaces: assigned, then marked active.
    auto eth1 = std::make_unique<Iface>();
    eth1->def = xml::parseInterfaceXML(kEth1XML);
    eth1->active = true;
    std::string name = eth1->def.name;
    ifaces_.emplace(std::move(name), std::move(eth1));
}

TestInterfaceDriver::~TestInterfaceDriver() = default;

// ---- tables and notifications ----

TestInterfaceDriver::Iface& TestInterfaceDriver::byMac(const std::string& mac)
{
    // virInterfaceObjListFindByMACString; an interface without a MAC (a
    // bridge, bond or vlan) has no object path and cannot be found by one.
    Iface* found = nullptr;
    bool several = false;
    for (auto& [name, i] : ifaces_) {
        if (i->def.mac.empty() || !sameMac(i->def.mac, mac))
            continue;
        several = found != nullptr;
        if (several)
            break;
        found = i.get();
    }
    if (!found)
        throw testErr(ErrCode::NoInterface, "no interface with matching mac '" + echo(mac) + "'");
    if (several)
        throw testErr(ErrCode::MultipleInterfaces, ""); // libvirt gives no detail
    return *found;
}

TestInterfaceDriver::Table TestInterfaceDriver::snapshot(const Table& from)
{
    Table out;
    for (const auto& [name, i] : from) {
        auto copy = std::make_unique<Iface>();
        copy->def = i->def;
        out.emplace(name, std::move(copy));
    }
    return out;
}

TestInterfaceDriver::View TestInterfaceDriver::view() const
{
    View v;
    for (const auto& [name, i] : ifaces_) {
        if (i->def.mac.empty())
            continue;
        KeyView& k = v[i->def.mac];
        if (k.count++ == 0) {
            k.name = name;
            k.active = i->active;
        }
    }
    return v;
}

void TestInterfaceDriver::publish(const View& before, const View& after)
{
    EventSink* s = sink();
    if (!s)
        return;
    auto id = [](const std::string& mac) { return ObjectId{ObjectType::Interface, mac, {}}; };
    for (const auto& [mac, k] : before)
        if (!after.count(mac))
            s->objectRemoved(id(mac));
    for (const auto& [mac, k] : after) {
        auto old = before.find(mac);
        if (old == before.end()) {
            s->objectAdded(id(mac));
            continue;
        }
        // Name is const on the bus (sd-bus refuses the whole signal for
        // it): another interface answering at this MAC's path is another
        // object.
        if (old->second.name != k.name) {
            s->objectRemoved(id(mac));
            s->objectAdded(id(mac));
        } else if (old->second.active != k.active) {
            s->propertiesChanged(id(mac), prop::Active);
        }
    }
}

// ---- listings and lookups ----
//
// Calls on one interface find it first and check flags after: libvirt-dbus
// looks the interface up by MAC before calling into libvirt, so a missing
// interface is reported before a bad flag.

std::vector<IfaceRef> TestInterfaceDriver::listInterfaces(uint32_t flags)
{
    checkFlags(flags, kListInactive | kListActive, "testConnectListAllInterfaces");
    std::lock_guard lock(mu_);
    std::vector<IfaceRef> out;
    out.reserve(ifaces_.size());
    for (const auto& [name, i] : ifaces_) {
        // virInterfaceObjMatch: neither or both flags list everything.
        bool pick = !(flags & (kListInactive | kListActive)) || (i->active && (flags & kListActive))
            || (!i->active && (flags & kListInactive));
        if (pick)
            out.push_back(i->ref());
    }
    return out;
}

IfaceRef TestInterfaceDriver::ifaceLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    auto it = ifaces_.find(name);
    if (it == ifaces_.end())
        throw testErr(ErrCode::NoInterface, "no interface with matching name '" + echo(name) + "'");
    return it->second->ref();
}

IfaceRef TestInterfaceDriver::ifaceLookupByMAC(const std::string& mac)
{
    std::lock_guard lock(mu_);
    // The definition's spelling of the MAC, not the caller's: the key of
    // the object path must not depend on how it was looked up.
    return byMac(mac).ref();
}

bool TestInterfaceDriver::ifaceExists(const std::string& mac)
{
    std::lock_guard lock(mu_);
    for (const auto& [name, i] : ifaces_)
        if (!i->def.mac.empty() && sameMac(i->def.mac, mac))
            return true;
    return false;
}

IfaceSummary TestInterfaceDriver::ifaceSummary(const std::string& mac)
{
    std::lock_guard lock(mu_);
    const Iface& i = byMac(mac);
    return {i.def.name, i.def.mac, i.active};
}

std::string TestInterfaceDriver::ifaceGetXMLDesc(const std::string& mac, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Iface& i = byMac(mac);
    // testInterfaceGetXMLDesc accepts no flags, not even
    // VIR_INTERFACE_XML_INACTIVE.
    checkFlags(flags, 0, "testInterfaceGetXMLDesc");
    return xml::formatInterfaceXML(i.def);
}

// ---- definitions and state ----

IfaceRef TestInterfaceDriver::ifaceDefineXML(const std::string& xml, uint32_t flags)
{
    checkFlags(flags, kDefineValidate, "testInterfaceDefineXML");
    unsigned parseFlags = (flags & kDefineValidate) ? unsigned{xml::INTERFACE_PARSE_VALIDATE} : 0u;
    xml::HostInterfaceDef def = xml::parseInterfaceXML(xml, parseFlags);
    checkName(def.name);
    IfaceRef ref;
    View before, after;
    {
        std::lock_guard lock(mu_);
        // D-Bus paths name interfaces by MAC, so a second interface with a
        // MAC already in use would share another's object path; libvirt
        // accepts it, virtbus refuses it to keep one path per object.
        if (!def.mac.empty())
            for (const auto& [name, other] : ifaces_)
                if (name != def.name && !other->def.mac.empty() && sameMac(other->def.mac, def.mac))
                    throw makeError(ErrCode::OperationFailed, ErrDomain::Interface,
                                    "interface '" + name + "' already uses MAC address " + other->def.mac);
        before = view();
        // virInterfaceObjListAssignDef: a known name gets the new
        // definition and keeps its state; a new one starts inactive.
        std::unique_ptr<Iface>& slot = ifaces_[def.name];
        if (!slot)
            slot = std::make_unique<Iface>();
        slot->def = std::move(def);
        ref = slot->ref();
        after = view();
    }
    publish(before, after);
    return ref;
}

void TestInterfaceDriver::ifaceCreate(const std::string& mac, uint32_t flags)
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        Iface& i = byMac(mac);
        checkFlags(flags, 0, "testInterfaceCreate");
        // libvirt reports this without any detail.
        if (i.active)
            throw testErr(ErrCode::OperationInvalid, "");
        before = view();
        i.active = true;
        after = view();
    }
    publish(before, after);
}

void TestInterfaceDriver::ifaceDestroy(const std::string& mac, uint32_t flags)
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        Iface& i = byMac(mac);
        checkFlags(flags, 0, "testInterfaceDestroy");
        if (!i.active)
            throw testErr(ErrCode::OperationInvalid, "");
        before = view();
        i.active = false;
        after = view();
    }
    publish(before, after);
}

void TestInterfaceDriver::ifaceUndefine(const std::string& mac)
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        Iface& i = byMac(mac);
        before = view();
        // testInterfaceUndefine removes a running interface too.
        ifaces_.erase(std::string(i.def.name)); // destroys i: erase by a copy of the key
        after = view();
    }
    publish(before, after);
}

// ---- change transactions ----
//
// These take no object, so libvirt's flag check comes first.

void TestInterfaceDriver::changeBegin(uint32_t flags)
{
    checkFlags(flags, 0, "testInterfaceChangeBegin");
    std::lock_guard lock(mu_);
    if (backup_)
        throw testErr(ErrCode::OperationInvalid, "there is another transaction running.");
    backup_ = snapshot(ifaces_);
}

void TestInterfaceDriver::changeCommit(uint32_t flags)
{
    checkFlags(flags, 0, "testInterfaceChangeCommit");
    std::lock_guard lock(mu_);
    if (!backup_)
        throw testErr(ErrCode::OperationInvalid, "no transaction running, nothing to be committed.");
    backup_.reset();
}

void TestInterfaceDriver::changeRollback(uint32_t flags)
{
    checkFlags(flags, 0, "testInterfaceChangeRollback");
    View before, after;
    {
        std::lock_guard lock(mu_);
        if (!backup_)
            throw testErr(ErrCode::OperationInvalid, "no transaction running, nothing to rollback.");
        before = view();
        ifaces_ = std::move(*backup_);
        backup_.reset();
        after = view();
    }
    publish(before, after);
}

} // namespace virtbus
