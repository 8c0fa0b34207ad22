// The host interface driver against a stand-in kernel. The development
// machine's kernel has no bonding or 8021q driver, so bonds and VLANs
// cannot be made for real here (tests/integration/test_host_interfaces.py
// makes them where the kernel can); this fake applies the driver's actual
// rtnetlink requests, decoded with the same parsers, to an in-memory link
// table with the kernel's rules that matter (a bond gives its slaves its
// MAC and reports their own; deleting a master releases its slaves).
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>

#include "interface/iface_driver.h"

using namespace virtbus;
namespace fs = std::filesystem;

namespace {

class FakeKernel : public rtnl::Rtnl {
public:
    std::vector<rtnl::Link> links;
    std::vector<rtnl::Address> addrs;
    std::vector<rtnl::Route> routes;
    std::set<std::string> kinds {"bridge", "bond", "vlan"};
    int refuseWith = 0; // every change fails with this errno when set
    std::vector<std::string> log;

    void addVeth(const std::string& name, const std::string& mac, bool up)
    {
        rtnl::Link l;
        l.index = next_++;
        l.name = name;
        l.kind = "veth";
        l.address = *rtnl::parseMac(mac);
        l.mtu = 1500;
        l.flags = up ? IFF_UP : 0;
        links.push_back(l);
    }
    rtnl::Link* byName(const std::string& n)
    {
        for (auto& l : links)
            if (l.name == n)
                return &l;
        return nullptr;
    }
    rtnl::Link* byIndex(int i)
    {
        for (auto& l : links)
            if (l.index == i)
                return &l;
        return nullptr;
    }

    std::shared_ptr<const rtnl::Snapshot> snapshot(bool) override
    {
        auto s = std::make_shared<rtnl::Snapshot>();
        s->links = links;
        s->addresses = addrs;
        return s;
    }
    std::vector<rtnl::Route> defaultRoutes() override { return routes; }

    void run(nl::Message m, const std::string& what) override
    {
        std::vector<uint8_t> bytes = m.bytes();
        auto* h = reinterpret_cast<nlmsghdr*>(bytes.data());
        if (refuseWith)
            throw rtnl::requestError(what, refuseWith, "");
        switch (h->nlmsg_type) {
        case RTM_NEWLINK:
            if (h->nlmsg_flags & NLM_F_CREATE)
                create(h, what);
            else
                change(h, what);
            break;
        case RTM_DELLINK: remove(nl::headerOf<ifinfomsg>(h)->ifi_index); break;
        case RTM_NEWADDR:
        case RTM_DELADDR: {
            bool add = h->nlmsg_type == RTM_NEWADDR;
            h->nlmsg_type = RTM_NEWADDR;
            auto a = *rtnl::parseAddress(h);
            log.push_back(std::string(add ? "add " : "del ") + a.address);
            std::erase_if(addrs, [&](const auto& x) { return x.index == a.index && x.address == a.address; });
            if (add)
                addrs.push_back(a);
            break;
        }
        case RTM_NEWROUTE:
        case RTM_DELROUTE: {
            bool add = h->nlmsg_type == RTM_NEWROUTE;
            h->nlmsg_type = RTM_NEWROUTE;
            auto r = *rtnl::parseDefaultRoute(h);
            std::erase_if(routes, [&](const auto& x) { return x.gateway == r.gateway; });
            if (add)
                routes.push_back(r);
            break;
        }
        default: FAIL() << "unexpected request " << h->nlmsg_type;
        }
    }

private:
    void create(const nlmsghdr* h, const std::string& what)
    {
        auto l = *rtnl::parseLink(h);
        if (!kinds.count(l.kind))
            throw rtnl::requestError(what, EOPNOTSUPP, "Unknown device type");
        if (byName(l.name))
            throw rtnl::requestError(what, EEXIST, "");
        if (l.kind == "vlan" && !byIndex(l.parent))
            throw rtnl::requestError(what, ENODEV, "");
        l.index = next_++;
        l.flags = 0;
        log.push_back("new " + l.kind + " " + l.name);
        links.push_back(l);
    }

    void change(const nlmsghdr* h, const std::string& what)
    {
        const auto* ifi = nl::headerOf<ifinfomsg>(h);
        rtnl::Link* l = byIndex(ifi->ifi_index);
        if (!l)
            throw rtnl::requestError(what, ENODEV, "");
        auto a = nl::attrsOf<ifinfomsg>(h, IFLA_MAX);
        if (auto mtu = a[IFLA_MTU].u32())
            l->mtu = *mtu;
        if (a[IFLA_ADDRESS])
            l->address = a[IFLA_ADDRESS].raw();
        if (auto master = a[IFLA_MASTER].u32()) {
            enslave(*l, static_cast<int>(*master), what);
            l = byIndex(ifi->ifi_index);
        } else if (a[IFLA_MASTER]) {
            release(*l);
        }
        if (ifi->ifi_change & IFF_UP) {
            l->flags = (l->flags & ~unsigned {IFF_UP}) | (ifi->ifi_flags & IFF_UP);
            log.push_back(std::string(l->flags & IFF_UP ? "up " : "down ") + l->name);
        }
    }

    void enslave(rtnl::Link& l, int master, const std::string& what)
    {
        rtnl::Link* m = byIndex(master);
        if (!m)
            throw rtnl::requestError(what, ENODEV, "");
        if (l.master)
            throw rtnl::requestError(what, EBUSY, "");
        l.master = master;
        l.slaveKind = m->kind;
        log.push_back("enslave " + l.name + " to " + m->name);
        if (m->kind == "bond") {
            if (l.flags & IFF_UP) // the bonding driver wants its slaves down
                throw rtnl::requestError(what, EBUSY, "");
            l.bondSlavePermAddr = l.address;
            l.address = m->address;
            l.flags |= IFF_UP; // and opens them itself
        }
    }

    void release(rtnl::Link& l)
    {
        if (l.slaveKind == "bond")
            l.address = l.bondSlavePermAddr;
        l.bondSlavePermAddr.clear();
        l.master = 0;
        l.slaveKind.clear();
    }

    void remove(int index)
    {
        rtnl::Link* l = byIndex(index);
        ASSERT_NE(l, nullptr);
        log.push_back("del " + l->name);
        for (auto& s : links)
            if (s.master == index)
                release(s);
        std::erase_if(addrs, [&](const auto& a) { return a.index == index; });
        std::erase_if(routes, [&](const auto& r) { return r.oif == index; });
        std::vector<int> vlans;
        for (auto& v : links)
            if (v.kind == "vlan" && v.parent == index)
                vlans.push_back(v.index);
        std::erase_if(links, [&](const auto& x) { return x.index == index; });
        for (int v : vlans)
            remove(v);
    }

    int next_ = 2;
};

struct Recorder : EventSink {
    std::vector<std::string> seen;
    void domainLifecycle(const std::string&, int32_t, int32_t) override { }
    void domainSignal(const std::string&, const DomainSignal&) override { }
    void objectAdded(const ObjectId& id) override { seen.push_back("added " + id.key); }
    void objectRemoved(const ObjectId& id) override { seen.push_back("removed " + id.key); }
    void propertiesChanged(const ObjectId& id, uint32_t) override { seen.push_back("changed " + id.key); }
};

// What a failed call must leave as it was.
std::string state(const FakeKernel& k)
{
    std::string out;
    for (const auto& l : k.links)
        out += l.name + "/" + std::to_string(l.master) + "/" + rtnl::formatMac(l.address) + "/"
            + std::to_string(l.flags) + "/" + std::to_string(l.mtu) + ";";
    for (const auto& a : k.addrs)
        out += a.address + ";";
    return out;
}

class DriverTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/virtbus-ifdrv-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        auto k = std::make_unique<FakeKernel>();
        k->addVeth("veth2", "52:54:00:00:00:02", true);
        k->addVeth("veth3", "52:54:00:00:00:03", false);
        kernel_ = k.get();
        drv_ = std::make_unique<HostInterfaceDriver>(dir_ + "/cfg", dir_ + "/state", std::move(k));
        drv_->setEventSink(&events_);
    }
    void TearDown() override
    {
        drv_.reset();
        fs::remove_all(dir_);
    }
    std::string define(const std::string& xml) { return drv_->ifaceDefineXML(xml, 0).mac; }

    std::string dir_;
    FakeKernel* kernel_ = nullptr;
    Recorder events_;
    std::unique_ptr<HostInterfaceDriver> drv_;
};

constexpr const char* kBond = "<interface type='bond' name='bond0'><mtu size='1400'/>"
                              "<protocol family='ipv4'><ip address='10.1.0.2' prefix='16'/>"
                              "<route gateway='10.1.0.1'/></protocol>"
                              "<bond mode='active-backup'><miimon freq='100' updelay='200'/>"
                              "<interface type='ethernet' name='veth2'/><interface type='ethernet' name='veth3'/>"
                              "</bond></interface>";

} // namespace

TEST_F(DriverTest, BondOfTwoVeths)
{
    std::string mac = define(kBond);
    EXPECT_EQ(mac, iface::derivedMac("bond0"));
    EXPECT_FALSE(drv_->ifaceSummary(mac).active);
    events_.seen.clear();
    drv_->ifaceCreate(mac, 0);

    const rtnl::Link* bond = kernel_->byName("bond0");
    ASSERT_NE(bond, nullptr);
    EXPECT_EQ(bond->bondMode, 1u);
    EXPECT_EQ(bond->bondMiimon, 100u);
    EXPECT_EQ(rtnl::formatMac(bond->address), mac);
    EXPECT_EQ(bond->mtu, 1400u);
    EXPECT_TRUE(bond->flags & IFF_UP);
    EXPECT_EQ(kernel_->byName("veth2")->master, bond->index);
    EXPECT_EQ(kernel_->byName("veth3")->master, bond->index);
    ASSERT_EQ(kernel_->routes.size(), 1u);
    EXPECT_EQ(kernel_->routes[0].gateway, "10.1.0.1");
    // veth2 was up: it went down to be enslaved.
    EXPECT_NE(std::find(kernel_->log.begin(), kernel_->log.end(), "down veth2"), kernel_->log.end());
    // The bond's object is the one it had before Create (same path); the
    // members keep theirs although they carry the bond's MAC now, and
    // veth3, down before, was brought up by the bond.
    std::sort(events_.seen.begin(), events_.seen.end());
    EXPECT_EQ(events_.seen, (std::vector<std::string> {"changed 52:54:00:00:00:03", "changed " + mac}));
    EXPECT_TRUE(drv_->ifaceSummary(mac).active);
    EXPECT_EQ(drv_->ifaceLookupByName("veth2").mac, "52:54:00:00:00:02");
    EXPECT_EQ(drv_->ifaceLookupByMAC("52:54:00:00:00:03").name, "veth3");

    auto live = xml::parseInterfaceXML(drv_->ifaceGetXMLDesc(mac, 0));
    EXPECT_EQ(live.type, "bond");
    EXPECT_EQ(live.bondMode, "active-backup");
    EXPECT_EQ(live.bondMonitor.rfind("<miimon freq='100'/>", 0), 0u) << live.bondMonitor;
    ASSERT_EQ(live.members.size(), 2u);
    EXPECT_EQ(live.members[0].mac, "52:54:00:00:00:02");
    EXPECT_EQ(live.protocols.at(0).ips.at(0).address, "10.1.0.2");
    EXPECT_EQ(live.protocols.at(0).gateway, "10.1.0.1");

    drv_->ifaceDestroy(mac, 0);
    EXPECT_EQ(kernel_->byName("bond0"), nullptr);
    EXPECT_EQ(kernel_->byName("veth2")->master, 0);
    EXPECT_EQ(rtnl::formatMac(kernel_->byName("veth2")->address), "52:54:00:00:00:02");
    EXPECT_TRUE(kernel_->routes.empty());
    EXPECT_FALSE(drv_->ifaceSummary(mac).active);
}

TEST_F(DriverTest, VlanOnAVeth)
{
    std::string mac = define("<interface type='vlan' name='veth3.7'><vlan tag='7'><interface name='veth3'/>"
                             "</vlan></interface>");
    drv_->ifaceCreate(mac, 0);
    const rtnl::Link* v = kernel_->byName("veth3.7");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->vlanId, 7u);
    EXPECT_EQ(v->parent, kernel_->byName("veth3")->index);
    auto live = xml::parseInterfaceXML(drv_->ifaceGetXMLDesc(mac, 0));
    EXPECT_EQ(live.type, "vlan");
    EXPECT_EQ(live.vlanTag, "7");
    EXPECT_EQ(live.vlanDevice, "veth3");
    drv_->ifaceDestroy(mac, 0);
    EXPECT_EQ(kernel_->byName("veth3.7"), nullptr);
}

TEST_F(DriverTest, FailedCreateUndoesEverything)
{
    kernel_->kinds.erase("vlan"); // as on a kernel without 8021q
    std::string mac = define("<interface type='bridge' name='brv'><mtu size='1300'/>"
                             "<protocol family='ipv4'><ip address='10.2.0.1' prefix='24'/></protocol><bridge>"
                             "<interface type='ethernet' name='veth2'/>"
                             "<interface type='vlan' name='vx9'><vlan tag='9'><interface name='veth3'/></vlan>"
                             "</interface></bridge></interface>");
    std::string before = state(*kernel_);
    try {
        drv_->ifaceCreate(mac, 0);
        FAIL() << "Create succeeded without the vlan kind";
    } catch (const VirtError& e) {
        EXPECT_STREQ(e.what(), "cannot create vlan 'vx9' (Unknown device type): Operation not supported");
    }
    EXPECT_EQ(state(*kernel_), before);
    EXPECT_NE(std::find(kernel_->log.begin(), kernel_->log.end(), "del brv"), kernel_->log.end());
}

TEST_F(DriverTest, ChecksComeBeforeAnyRequest)
{
    std::string br = define("<interface type='bridge' name='br0'><bridge><interface type='ethernet' name='veth3'/>"
                            "</bridge></interface>");
    drv_->ifaceCreate(br, 0);
    kernel_->log.clear();
    std::string before = state(*kernel_);
    std::string bond = define(kBond);
    EXPECT_THROW(
        {
            try {
                drv_->ifaceCreate(bond, 0);
            } catch (const VirtError& e) {
                EXPECT_STREQ(
                    e.what(), "Requested operation is not valid: interface 'veth3' is already enslaved to 'br0'");
                throw;
            }
        },
        VirtError);
    std::string vlan = define("<interface type='vlan' name='v5'><vlan tag='5'><interface name='nope0'/></vlan>"
                              "</interface>");
    EXPECT_THROW(drv_->ifaceCreate(vlan, 0), VirtError);
    std::string arp = define("<interface type='bond' name='bond1'><bond><arpmon interval='100' target='10.0.0.1'/>"
                             "<interface type='ethernet' name='veth2'/></bond></interface>");
    EXPECT_THROW(drv_->ifaceCreate(arp, 0), VirtError);
    EXPECT_TRUE(kernel_->log.empty());
    EXPECT_EQ(state(*kernel_), before);
}

TEST_F(DriverTest, RefusalsNameTheMissingCapability)
{
    std::string mac = define(kBond);
    kernel_->refuseWith = EPERM;
    std::string before = state(*kernel_);
    try {
        drv_->ifaceCreate(mac, 0);
        FAIL();
    } catch (const VirtError& e) {
        EXPECT_STREQ(e.what(),
            "cannot create bond 'bond0': Operation not permitted; changing host interfaces needs "
            "CAP_NET_ADMIN");
    }
    EXPECT_EQ(state(*kernel_), before);
}

TEST_F(DriverTest, SharedMacsAreAmbiguous)
{
    kernel_->byName("veth3")->address = kernel_->byName("veth2")->address;
    try {
        drv_->ifaceLookupByMAC("52:54:00:00:00:02");
        FAIL();
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::MultipleInterfaces);
        EXPECT_EQ(e.domain(), ErrDomain::Interface);
    }
    EXPECT_THROW(drv_->ifaceSummary("52:54:00:00:00:02"), VirtError);
    EXPECT_EQ(drv_->listInterfaces(0).size(), 2u);
}
