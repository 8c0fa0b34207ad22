// Create and Destroy: making the kernel match a definition, and undoing
// exactly that. Everything is checked against one snapshot before the
// first request; every request that succeeds pushes its inverse, and a
// failure runs the inverses newest first, so nothing is left half made.
#include "interface/iface_driver.h"

#include <linux/if.h>
#include <sys/socket.h>

#include <cstdio>
#include <functional>
#include <regex>

namespace virtbus {

namespace {

VirtError ifaceErr(ErrCode code, const std::string& detail) { return makeError(code, ErrDomain::Interface, detail); }

std::optional<unsigned> monitorAttr(const std::string& raw, const char* name)
{
    std::smatch m;
    std::regex re(std::string("\\b") + name + "=['\"]([0-9]+)['\"]");
    if (std::regex_search(raw, m, re))
        return static_cast<unsigned>(std::stoul(m[1].str()));
    return std::nullopt;
}

// The kernel's kind for a definition's type; "" for ethernet (not made).
std::string kindOf(const std::string& type) { return type == "ethernet" ? "" : type; }

class Transaction {
public:
    Transaction(rtnl::Rtnl& nl, const rtnl::Snapshot& s) : nl_(nl), s_(s) { }
    ~Transaction()
    {
        if (!done_)
            for (auto it = undo_.rbegin(); it != undo_.rend(); ++it)
                try {
                    (*it)();
                } catch (const std::exception&) {
                    // Best effort: the original error is the one to report.
                }
    }
    void commit() { done_ = true; }

    void check(const xml::HostInterfaceDef& def, const std::string& enslaver)
    {
        const rtnl::Link* l = s_.byName(def.name);
        std::string kind = kindOf(def.type);
        if (kind.empty() && !l)
            throw ifaceErr(ErrCode::OperationFailed, "interface '" + def.name + "' does not exist on this host");
        if (l && !kind.empty() && l->kind != kind)
            throw ifaceErr(
                ErrCode::OperationFailed, "interface '" + def.name + "' already exists and is not a " + def.type);
        if (l && l->master) {
            const rtnl::Link* m = s_.byIndex(l->master);
            std::string mname = m ? m->name : std::to_string(l->master);
            if (mname != enslaver)
                throw ifaceErr(
                    ErrCode::OperationInvalid, "interface '" + def.name + "' is already enslaved to '" + mname + "'");
        }
        if (def.type == "vlan" && !s_.byName(def.vlanDevice))
            throw ifaceErr(ErrCode::OperationFailed,
                "VLAN parent interface '" + def.vlanDevice + "' of '" + def.name + "' does not exist");
        if (def.type == "bond" && def.bondMonitor.find("<arpmon") != std::string::npos)
            throw err::configUnsupported("bond ARP monitoring (<arpmon>) on '" + def.name + "'");
        for (const auto& p : def.protocols) {
            int family = p.family == "ipv6" ? AF_INET6 : AF_INET;
            if (p.dhcp && family == AF_INET6)
                throw err::configUnsupported("DHCPv6 on '" + def.name + "'");
            if (p.dhcp && iface::dhcpClient().empty())
                throw err::operationFailed("no DHCP client found for '" + def.name + "' (busybox udhcpc)");
            for (const auto& ip : p.ips)
                if (!rtnl::addressBytes(family, ip.address))
                    throw err::xml("invalid " + p.family + " address '" + ip.address + "' on '" + def.name + "'");
            if (!p.gateway.empty() && !rtnl::addressBytes(family, p.gateway))
                throw err::xml("invalid " + p.family + " gateway '" + p.gateway + "' on '" + def.name + "'");
        }
        for (const auto& m : def.members)
            check(m, def.name);
    }

    // Makes or adopts the link of `def`; returns its ifindex.
    int link(const xml::HostInterfaceDef& def)
    {
        const rtnl::Link* l = s_.byName(def.name);
        if (l)
            return l->index;
        rtnl::NewLink n;
        n.name = def.name;
        n.kind = def.type;
        n.address = *rtnl::parseMac(iface::derivedMac(def.name));
        if (def.type == "vlan") {
            n.parent = s_.byName(def.vlanDevice)->index;
            n.vlanId = static_cast<unsigned>(std::stoul(def.vlanTag));
        } else if (def.type == "bond") {
            n.bondMode = rtnl::bondModeNumber(def.bondMode.empty() ? "balance-rr" : def.bondMode);
            n.miimon = monitorAttr(def.bondMonitor, "freq");
            n.updelay = monitorAttr(def.bondMonitor, "updelay");
            n.downdelay = monitorAttr(def.bondMonitor, "downdelay");
        } else if (def.type == "bridge") {
            n.stp = def.stp.value_or(false);
            if (!def.delay.empty())
                n.forwardDelay = static_cast<unsigned>(std::stod(def.delay) * 100 + 0.5);
        }
        nl_.run(rtnl::newLinkRequest(n), "cannot create " + def.type + " '" + def.name + "'");
        auto now = nl_.snapshot(false);
        const rtnl::Link* made = now->byName(def.name);
        if (!made)
            throw ifaceErr(ErrCode::InternalError, "interface '" + def.name + "' vanished after its creation");
        int index = made->index;
        undo_.push_back([this, index] { nl_.run(rtnl::delLinkRequest(index), "cleanup"); });
        return index;
    }

    void set(const rtnl::LinkChange& c, const rtnl::LinkChange& inverse, const std::string& what)
    {
        nl_.run(rtnl::setLinkRequest(c), what);
        undo_.push_back([this, inverse] { nl_.run(rtnl::setLinkRequest(inverse), "cleanup"); });
    }

    // Brings `def` up; `master` is the bridge or bond it joins, 0 if none.
    int up(const xml::HostInterfaceDef& def, int master, bool intoBond)
    {
        const rtnl::Link* before = s_.byName(def.name);
        int index = link(def);
        if (def.mtu && (!before || before->mtu != *def.mtu)) {
            rtnl::LinkChange c {index, {}, def.mtu, {}, {}}, inv {index, {}, before ? before->mtu : *def.mtu, {}, {}};
            set(c, inv, "cannot set the MTU of '" + def.name + "'");
        }
        if (!def.mac.empty() && before) {
            auto mac = rtnl::parseMac(def.mac);
            if (mac && *mac != before->address) {
                rtnl::LinkChange c {index, {}, {}, *mac, {}}, inv {index, {}, {}, before->address, {}};
                set(c, inv, "cannot set the MAC address of '" + def.name + "'");
            }
        }
        for (const auto& m : def.members)
            up(m, index, def.type == "bond");
        if (master && (!before || before->master != master)) {
            // The bonding driver takes only members that are down.
            if (intoBond && before && (before->flags & IFF_UP)) {
                rtnl::LinkChange c {index, false, {}, {}, {}}, inv {index, true, {}, {}, {}};
                set(c, inv, "cannot bring '" + def.name + "' down to enslave it");
            }
            rtnl::LinkChange c {index, {}, {}, {}, master}, inv {index, {}, {}, {}, 0};
            set(c, inv, "cannot enslave '" + def.name + "'");
        }
        for (const auto& p : def.protocols) {
            int family = p.family == "ipv6" ? AF_INET6 : AF_INET;
            for (const auto& ip : p.ips) {
                unsigned prefix = ip.prefix.value_or(family == AF_INET ? 24 : 64);
                nl_.run(rtnl::addressRequest(true, index, family, ip.address, prefix),
                    "cannot add address " + ip.address + "/" + std::to_string(prefix) + " to '" + def.name + "'");
                undo_.push_back([this, index, family, ip, prefix] {
                    nl_.run(rtnl::addressRequest(false, index, family, ip.address, prefix), "cleanup");
                });
            }
        }
        if (!before || !(before->flags & IFF_UP)) {
            rtnl::LinkChange c {index, true, {}, {}, {}}, inv {index, false, {}, {}, {}};
            set(c, inv, "cannot bring '" + def.name + "' up");
        }
        for (const auto& p : def.protocols) {
            if (p.gateway.empty())
                continue;
            int family = p.family == "ipv6" ? AF_INET6 : AF_INET;
            nl_.run(rtnl::defaultRouteRequest(true, family, p.gateway, index),
                "cannot add the default route via " + p.gateway + " on '" + def.name + "'");
            std::string gw = p.gateway;
            undo_.push_back(
                [this, family, gw, index] { nl_.run(rtnl::defaultRouteRequest(false, family, gw, index), "cleanup"); });
        }
        return index;
    }

private:
    rtnl::Rtnl& nl_;
    const rtnl::Snapshot& s_;
    std::vector<std::function<void()>> undo_;
    bool done_ = false;
};

} // namespace

void HostInterfaceDriver::bringUp(const xml::HostInterfaceDef& def, const rtnl::Snapshot& s)
{
    Transaction t(*nl_, s);
    t.check(def, "");
    t.up(def, 0, false);
    for (const auto& p : def.protocols)
        if (p.dhcp)
            startDhcp(def.name, p.family);
    t.commit();
}

void HostInterfaceDriver::bringDown(const Entry& e, const rtnl::Snapshot& s)
{
    const rtnl::Link& l = *e.link;
    stopDhcp(e.name);
    // What Create made goes: the device of a bridge, bond or VLAN (its
    // members are released with it, and made members deleted too).
    if (e.def && e.def->type != "ethernet" && l.kind == e.def->type) {
        for (const auto& m : e.def->members) {
            const rtnl::Link* ml = s.byName(m.name);
            if (ml && m.type != "ethernet" && ml->kind == m.type && ml->master == l.index)
                nl_->run(rtnl::delLinkRequest(ml->index), "cannot delete '" + m.name + "'");
        }
        nl_->run(rtnl::delLinkRequest(l.index), "cannot delete '" + e.name + "'");
        return;
    }
    // A NIC stays; what the definition added to it goes, and it goes down.
    if (e.def) {
        for (const auto& p : e.def->protocols) {
            int family = p.family == "ipv6" ? AF_INET6 : AF_INET;
            for (const auto& ip : p.ips) {
                unsigned prefix = ip.prefix.value_or(family == AF_INET ? 24 : 64);
                bool present = false;
                for (const auto& a : s.addresses)
                    present |= a.index == l.index && a.family == family && a.address == ip.address;
                if (present)
                    nl_->run(rtnl::addressRequest(false, l.index, family, ip.address, prefix),
                        "cannot remove address " + ip.address + " from '" + e.name + "'");
            }
        }
    }
    rtnl::LinkChange c {l.index, false, {}, {}, {}};
    nl_->run(rtnl::setLinkRequest(c), "cannot bring '" + e.name + "' down");
}

void HostInterfaceDriver::start()
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        before = viewNow();
        std::vector<std::string> onboot;
        for (const auto& [name, def] : store_.defs())
            if (def.startMode == "onboot")
                onboot.push_back(name);
        for (const auto& name : onboot) {
            // Afresh for each: the one before may have taken members.
            auto s = nl_->snapshot(true);
            const rtnl::Link* l = s->byName(name);
            if (l && (l->flags & IFF_UP))
                continue;
            try {
                bringUp(*store_.find(name), *s);
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "<4>interfaces: cannot bring '%s' up at start: %s\n", name.c_str(), ex.what());
            }
        }
        after = viewNow();
    }
    publish(before, after);
}

void HostInterfaceDriver::ifaceCreate(const std::string& mac, uint32_t flags)
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        auto s = nl_->snapshot(true);
        auto all = entries(*s);
        const Entry& e = byMac(all, mac);
        checkFlags(flags, 0, "virInterfaceCreate");
        if (e.active)
            throw ifaceErr(ErrCode::OperationInvalid, "interface '" + e.name + "' is already running");
        before = view(all);
        if (e.def) {
            bringUp(*e.def, *s);
        } else {
            rtnl::LinkChange c {e.link->index, true, {}, {}, {}};
            nl_->run(rtnl::setLinkRequest(c), "cannot bring '" + e.name + "' up");
        }
        after = viewNow();
    }
    publish(before, after);
}

void HostInterfaceDriver::ifaceDestroy(const std::string& mac, uint32_t flags)
{
    View before, after;
    {
        std::lock_guard lock(mu_);
        auto s = nl_->snapshot(true);
        auto all = entries(*s);
        const Entry& e = byMac(all, mac);
        checkFlags(flags, 0, "virInterfaceDestroy");
        if (!e.active)
            throw ifaceErr(ErrCode::OperationInvalid, "interface '" + e.name + "' is not running");
        before = view(all);
        bringDown(e, *s);
        after = viewNow();
    }
    publish(before, after);
}

} // namespace virtbus
