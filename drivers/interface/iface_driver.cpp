// Listing, lookups, definitions and change transactions. Every call reads
// the kernel afresh: one link dump (plus one address dump where addresses
// are shown), never a query per interface.
#include "interface/iface_driver.h"

#include <linux/if.h>

#include <algorithm>

namespace virtbus {

namespace {

// virConnectListAllInterfacesFlags, virInterfaceDefineFlags.
enum : uint32_t { kListInactive = 1u << 0, kListActive = 1u << 1 };
enum : uint32_t { kDefineValidate = 1u << 0 };

constexpr size_t kMaxEcho = 1024;
std::string echo(const std::string& s) { return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s; }

bool sameMac(const std::string& a, const std::string& b)
{
    return a.size() == b.size()
        && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return tolower(x) == tolower(y); });
}

VirtError ifaceErr(ErrCode code, const std::string& detail) { return makeError(code, ErrDomain::Interface, detail); }

} // namespace

HostInterfaceDriver::HostInterfaceDriver(
    std::string configDir, std::string stateDir, std::unique_ptr<rtnl::Rtnl> kernel) :
    stateDir_(std::move(stateDir)),
    store_(std::move(configDir)),
    nl_(kernel ? std::move(kernel) : std::make_unique<rtnl::Rtnl>())
{ }

std::vector<HostInterfaceDriver::Entry> HostInterfaceDriver::entries(const rtnl::Snapshot& s) const
{
    std::vector<Entry> out;
    out.reserve(s.links.size() + store_.defs().size());
    for (const auto& l : s.links) {
        Entry e;
        e.name = l.name;
        e.link = &l;
        e.def = store_.find(l.name);
        e.active = l.flags & IFF_UP;
        const auto& addr = l.slaveKind == "bond" && !l.bondSlavePermAddr.empty() ? l.bondSlavePermAddr : l.address;
        e.mac = rtnl::formatMac(addr);
        out.push_back(std::move(e));
    }
    for (const auto& [name, def] : store_.defs()) {
        if (s.byName(name))
            continue;
        Entry e;
        e.name = name;
        e.def = &def;
        e.mac = def.type == "ethernet" && !def.mac.empty() ? def.mac : iface::derivedMac(name);
        out.push_back(std::move(e));
    }
    return out;
}

const HostInterfaceDriver::Entry& HostInterfaceDriver::byMac(
    const std::vector<Entry>& all, const std::string& mac) const
{
    const Entry* found = nullptr;
    for (const auto& e : all) {
        if (e.mac.empty() || !sameMac(e.mac, mac))
            continue;
        if (found)
            throw ifaceErr(
                ErrCode::MultipleInterfaces, "the MAC address '" + echo(mac) + "' matches multiple interfaces");
        found = &e;
    }
    if (!found)
        throw ifaceErr(ErrCode::NoInterface, "couldn't find interface with MAC address '" + echo(mac) + "'");
    return *found;
}

HostInterfaceDriver::View HostInterfaceDriver::view(const std::vector<Entry>& all) const
{
    View v;
    for (const auto& e : all)
        if (!e.mac.empty())
            v.emplace(e.mac, KeyView {e.name, e.active}); // the first one answers at the path
    return v;
}

HostInterfaceDriver::View HostInterfaceDriver::viewNow()
{
    auto s = nl_->snapshot(false);
    return view(entries(*s));
}

void HostInterfaceDriver::publish(const View& before, const View& after)
{
    EventSink* s = sink();
    if (!s)
        return;
    auto id = [](const std::string& mac) { return ObjectId {ObjectType::Interface, mac, {}}; };
    for (const auto& [mac, k] : before)
        if (!after.count(mac))
            s->objectRemoved(id(mac));
    for (const auto& [mac, k] : after) {
        auto old = before.find(mac);
        if (old == before.end()) {
            s->objectAdded(id(mac));
        } else if (old->second.name != k.name) {
            s->objectRemoved(id(mac));
            s->objectAdded(id(mac));
        } else if (old->second.active != k.active) {
            s->propertiesChanged(id(mac), prop::Active);
        }
    }
}

// ---- listings and lookups ----

std::vector<IfaceRef> HostInterfaceDriver::listInterfaces(uint32_t flags)
{
    checkFlags(flags, kListInactive | kListActive, "virConnectListAllInterfaces");
    std::lock_guard lock(mu_);
    auto s = nl_->snapshot(false);
    std::vector<IfaceRef> out;
    for (const auto& e : entries(*s)) {
        bool pick = !(flags & (kListInactive | kListActive)) || (e.active && (flags & kListActive))
            || (!e.active && (flags & kListInactive));
        if (pick)
            out.push_back({e.name, e.mac});
    }
    return out;
}

IfaceRef HostInterfaceDriver::ifaceLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    auto s = nl_->snapshot(false);
    for (const auto& e : entries(*s))
        if (e.name == name)
            return {e.name, e.mac};
    throw ifaceErr(ErrCode::NoInterface, "couldn't find interface named '" + echo(name) + "'");
}

IfaceRef HostInterfaceDriver::ifaceLookupByMAC(const std::string& mac)
{
    std::lock_guard lock(mu_);
    auto s = nl_->snapshot(false);
    auto all = entries(*s);
    const Entry& e = byMac(all, mac);
    return {e.name, e.mac};
}

bool HostInterfaceDriver::ifaceExists(const std::string& mac)
{
    std::lock_guard lock(mu_);
    auto s = nl_->snapshot(false);
    for (const auto& e : entries(*s))
        if (sameMac(e.mac, mac))
            return true;
    return false;
}

IfaceSummary HostInterfaceDriver::ifaceSummary(const std::string& mac)
{
    std::lock_guard lock(mu_);
    auto s = nl_->snapshot(false);
    auto all = entries(*s);
    const Entry& e = byMac(all, mac);
    return {e.name, e.mac, e.active};
}

std::string HostInterfaceDriver::ifaceGetXMLDesc(const std::string& mac, uint32_t flags)
{
    std::lock_guard lock(mu_);
    auto s = nl_->snapshot(true);
    auto all = entries(*s);
    const Entry& e = byMac(all, mac);
    xml::FormatOptions opts = xml::interfaceFormatOptions(flags, "virInterfaceGetXMLDesc");
    // The stored definition when asked for it, or when there is nothing live.
    if (e.def && (opts.inactive || !e.link))
        return xml::formatInterfaceXML(*e.def, opts);
    auto routes = nl_->defaultRoutes();
    return xml::formatInterfaceXML(iface::describe(*s, *e.link, routes, e.def), opts);
}

// ---- definitions ----

IfaceRef HostInterfaceDriver::ifaceDefineXML(const std::string& xml, uint32_t flags)
{
    checkFlags(flags, kDefineValidate, "virInterfaceDefineXML");
    unsigned parseFlags = (flags & kDefineValidate) ? unsigned {xml::INTERFACE_PARSE_VALIDATE} : 0u;
    xml::HostInterfaceDef def = xml::parseInterfaceXML(xml, parseFlags);
    iface::checkNames(def);
    if (def.type == "bond" && !def.bondMode.empty() && !rtnl::bondModeNumber(def.bondMode))
        throw err::configUnsupported("bond mode '" + def.bondMode + "'");
    IfaceRef ref;
    View before, after;
    {
        std::lock_guard lock(mu_);
        before = viewNow();
        store_.put(def);
        auto s = nl_->snapshot(false);
        auto all = entries(*s);
        for (const auto& e : all)
            if (e.name == def.name)
                ref = {e.name, e.mac};
        after = view(all);
    }
    publish(before, after);
    return ref;
}

void HostInterfaceDriver::ifaceUndefine(const std::string& mac)
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        auto s = nl_->snapshot(false);
        auto all = entries(*s);
        const Entry& e = byMac(all, mac);
        if (!e.def)
            throw ifaceErr(ErrCode::OperationInvalid, "interface '" + e.name + "' is not defined");
        before = view(all);
        store_.remove(e.name);
        after = view(entries(*s));
    }
    publish(before, after);
}

// ---- change transactions ----

void HostInterfaceDriver::changeBegin(uint32_t flags)
{
    checkFlags(flags, 0, "virInterfaceChangeBegin");
    std::lock_guard lock(mu_);
    if (store_.inTransaction())
        throw ifaceErr(ErrCode::OperationInvalid, "there is another transaction running.");
    store_.begin();
}

void HostInterfaceDriver::changeCommit(uint32_t flags)
{
    checkFlags(flags, 0, "virInterfaceChangeCommit");
    std::lock_guard lock(mu_);
    if (!store_.inTransaction())
        throw ifaceErr(ErrCode::OperationInvalid, "no transaction running, nothing to be committed.");
    store_.commit();
}

void HostInterfaceDriver::changeRollback(uint32_t flags)
{
    checkFlags(flags, 0, "virInterfaceChangeRollback");
    View before, after;
    {
        std::lock_guard lock(mu_);
        if (!store_.inTransaction())
            throw ifaceErr(ErrCode::OperationInvalid, "no transaction running, nothing to rollback.");
        before = viewNow();
        store_.rollback();
        after = viewNow();
    }
    publish(before, after);
}

} // namespace virtbus
