// The host interface driver's pure parts: rtnetlink messages built and
// parsed byte by byte (no kernel), interface names, derived MACs, the live
// description of a synthetic link set, and the definition store's files
// and checkpoints on a temporary directory.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "interface/iface_driver.h"

using namespace virtbus;
namespace fs = std::filesystem;

namespace {

const nlmsghdr* hdr(const nl::Message& m) { return reinterpret_cast<const nlmsghdr*>(m.bytes().data()); }

// A kernel-style RTM_NEWLINK for parseLink, built with the same builder.
nl::Message linkMessage(int index, const std::string& name, unsigned flags, const std::string& kind, int master = 0)
{
    nl::Message m(RTM_NEWLINK, 0);
    auto& ifi = m.header<ifinfomsg>();
    ifi.ifi_index = index;
    ifi.ifi_flags = flags;
    m.putString(IFLA_IFNAME, name);
    uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, static_cast<uint8_t>(index)};
    m.put(IFLA_ADDRESS, mac, sizeof mac);
    m.putU32(IFLA_MTU, 1500);
    m.putU8(IFLA_OPERSTATE, IF_OPER_UP);
    if (master)
        m.putU32(IFLA_MASTER, static_cast<uint32_t>(master));
    if (!kind.empty()) {
        size_t info = m.beginNest(IFLA_LINKINFO);
        m.putString(IFLA_INFO_KIND, kind);
        size_t data = m.beginNest(IFLA_INFO_DATA);
        if (kind == "vlan")
            m.putU16(IFLA_VLAN_ID, 42);
        if (kind == "bond")
            m.putU8(IFLA_BOND_MODE, 1);
        if (kind == "bridge") {
            m.putU32(IFLA_BR_STP_STATE, 1);
            m.putU32(IFLA_BR_FORWARD_DELAY, 300);
        }
        m.endNest(data);
        m.endNest(info);
    }
    return m;
}

} // namespace

TEST(Netlink, AttributesArePaddedAndNested)
{
    nl::Message m(RTM_NEWLINK, NLM_F_ACK);
    m.header<ifinfomsg>().ifi_index = 7;
    m.putString(IFLA_IFNAME, "br0"); // 4 bytes with NUL: no padding
    m.putU8(IFLA_OPERSTATE, 6); // 1 byte: padded to 4
    size_t nest = m.beginNest(IFLA_LINKINFO);
    m.putString(IFLA_INFO_KIND, "bridge");
    m.endNest(nest);
    const auto& b = m.bytes();
    EXPECT_EQ(b.size() % 4, 0u);
    EXPECT_EQ(hdr(m)->nlmsg_len, b.size());
    EXPECT_EQ(hdr(m)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    auto a = nl::attrsOf<ifinfomsg>(hdr(m), IFLA_MAX);
    EXPECT_EQ(a[IFLA_IFNAME].str(), "br0");
    EXPECT_EQ(a[IFLA_OPERSTATE].u8(), 6);
    ASSERT_TRUE(a[IFLA_LINKINFO]);
    // The nest's length covers its content: kind header + "bridge\0" padded.
    EXPECT_EQ(a[IFLA_LINKINFO].len, size_t {NLA_HDRLEN + NLA_ALIGN(7)});
    EXPECT_EQ(nl::Attrs::nested(a[IFLA_LINKINFO], IFLA_INFO_MAX)[IFLA_INFO_KIND].str(), "bridge");
    EXPECT_EQ(nl::headerOf<ifinfomsg>(hdr(m))->ifi_index, 7);
}

TEST(Netlink, MalformedAttributesStopParsing)
{
    uint8_t buf[16] = {};
    nlattr a {8, IFLA_MTU};
    std::memcpy(buf, &a, sizeof a);
    uint32_t mtu = 9000;
    std::memcpy(buf + 4, &mtu, 4);
    nlattr bad {200, IFLA_IFNAME}; // claims more than there is
    std::memcpy(buf + 8, &bad, sizeof bad);
    nl::Attrs attrs(buf, sizeof buf, IFLA_MAX);
    EXPECT_EQ(attrs[IFLA_MTU].u32(), 9000u);
    EXPECT_FALSE(attrs[IFLA_IFNAME]);
    // Short values read as nothing rather than past the end.
    nl::Attr shortAttr {buf + 4, 2};
    EXPECT_FALSE(shortAttr.u32());
    EXPECT_FALSE(attrs[IFLA_MAX + 5]);
}

TEST(Netlink, SplitsDatagramsAndReadsErrors)
{
    auto one = linkMessage(1, "lo", IFF_UP, "");
    nl::Message err(NLMSG_ERROR, 0);
    err.header<nlmsgerr>().error = -EEXIST;
    std::vector<uint8_t> datagram = one.bytes();
    datagram.insert(datagram.end(), err.bytes().begin(), err.bytes().end());
    datagram.resize(datagram.size() + 3); // a torn tail is ignored
    auto msgs = nl::splitMessages(datagram.data(), datagram.size());
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_FALSE(nl::errorOf(msgs[0]));
    EXPECT_EQ(nl::errorOf(msgs[1]), EEXIST);
    EXPECT_EQ(nl::extackOf(msgs[1]), "");
}

TEST(Netlink, ExtendedAckText)
{
    nl::Message m(NLMSG_ERROR, 0);
    m.header<nlmsgerr>().error = -EINVAL;
    m.putString(NLMSGERR_ATTR_MSG, "Unknown device type");
    auto* h = reinterpret_cast<nlmsghdr*>(const_cast<uint8_t*>(m.bytes().data()));
    h->nlmsg_flags = NLM_F_ACK_TLVS | NLM_F_CAPPED;
    // Capped: the echoed request is only its header.
    reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->msg.nlmsg_len = NLMSG_HDRLEN;
    EXPECT_EQ(nl::extackOf(h), "Unknown device type");
}

TEST(Rtnl, ParsesLinksWithKinds)
{
    auto vlan = linkMessage(5, "br0.42", IFF_UP, "vlan");
    auto l = rtnl::parseLink(hdr(vlan));
    ASSERT_TRUE(l);
    EXPECT_EQ(l->index, 5);
    EXPECT_EQ(l->name, "br0.42");
    EXPECT_EQ(rtnl::formatMac(l->address), "52:54:00:00:00:05");
    EXPECT_EQ(l->kind, "vlan");
    EXPECT_EQ(l->vlanId, 42u);
    EXPECT_EQ(l->mtu, 1500u);
    auto bridge = rtnl::parseLink(hdr(linkMessage(3, "br0", 0, "bridge")));
    EXPECT_EQ(bridge->stp, true);
    EXPECT_EQ(bridge->forwardDelay, 300u);
    EXPECT_EQ(rtnl::parseLink(hdr(linkMessage(4, "bond0", 0, "bond")))->bondMode, 1u);
    nl::Message other(RTM_NEWADDR, 0);
    other.header<ifaddrmsg>();
    EXPECT_FALSE(rtnl::parseLink(hdr(other)));
}

TEST(Rtnl, NewLinkRequestCarriesTheDefinition)
{
    rtnl::NewLink n;
    n.name = "v42";
    n.kind = "vlan";
    n.parent = 9;
    n.vlanId = 42;
    n.mtu = 1400;
    n.address = *rtnl::parseMac("02:00:00:00:00:01");
    auto m = rtnl::newLinkRequest(n);
    EXPECT_EQ(hdr(m)->nlmsg_type, RTM_NEWLINK);
    EXPECT_EQ(hdr(m)->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    auto a = nl::attrsOf<ifinfomsg>(hdr(m), IFLA_MAX);
    EXPECT_EQ(a[IFLA_IFNAME].str(), "v42");
    EXPECT_EQ(a[IFLA_LINK].u32(), 9u);
    EXPECT_EQ(a[IFLA_MTU].u32(), 1400u);
    EXPECT_EQ(rtnl::formatMac(a[IFLA_ADDRESS].raw()), "02:00:00:00:00:01");
    auto info = nl::Attrs::nested(a[IFLA_LINKINFO], IFLA_INFO_MAX);
    EXPECT_EQ(info[IFLA_INFO_KIND].str(), "vlan");
    EXPECT_EQ(nl::Attrs::nested(info[IFLA_INFO_DATA], IFLA_VLAN_MAX)[IFLA_VLAN_ID].u16(), 42);
    // And the parser reads back what the builder wrote.
    auto* h = reinterpret_cast<nlmsghdr*>(const_cast<uint8_t*>(m.bytes().data()));
    h->nlmsg_flags = 0;
    auto l = rtnl::parseLink(h);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->vlanId, 42u);
    EXPECT_EQ(l->parent, 9);
}

TEST(Rtnl, SetLinkChangesOnlyWhatIsAsked)
{
    rtnl::LinkChange c;
    c.index = 3;
    c.up = true;
    c.master = 0;
    auto m = rtnl::setLinkRequest(c);
    const auto* ifi = nl::headerOf<ifinfomsg>(hdr(m));
    EXPECT_EQ(ifi->ifi_index, 3);
    EXPECT_EQ(ifi->ifi_change, unsigned {IFF_UP});
    EXPECT_EQ(ifi->ifi_flags, unsigned {IFF_UP});
    auto a = nl::attrsOf<ifinfomsg>(hdr(m), IFLA_MAX);
    EXPECT_EQ(a[IFLA_MASTER].u32(), 0u); // releasing is explicit
    EXPECT_FALSE(a[IFLA_MTU]);
    EXPECT_FALSE(a[IFLA_ADDRESS]);
}

TEST(Rtnl, AddressesAndRoutes)
{
    auto m = rtnl::addressRequest(true, 4, AF_INET6, "2001:db8::1", 64);
    const auto* ifa = nl::headerOf<ifaddrmsg>(hdr(m));
    EXPECT_EQ(ifa->ifa_index, 4u);
    EXPECT_EQ(ifa->ifa_prefixlen, 64);
    auto* h = reinterpret_cast<nlmsghdr*>(const_cast<uint8_t*>(m.bytes().data()));
    auto parsed = rtnl::parseAddress(h);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->address, "2001:db8::1");
    EXPECT_EQ(parsed->family, AF_INET6);

    auto r = rtnl::defaultRouteRequest(true, AF_INET, "10.0.0.1", 4);
    h = reinterpret_cast<nlmsghdr*>(const_cast<uint8_t*>(r.bytes().data()));
    h->nlmsg_type = RTM_NEWROUTE;
    auto route = rtnl::parseDefaultRoute(h);
    ASSERT_TRUE(route);
    EXPECT_EQ(route->gateway, "10.0.0.1");
    EXPECT_EQ(route->oif, 4);
    EXPECT_FALSE(rtnl::addressBytes(AF_INET, "10.0.0.300"));
}

TEST(Rtnl, MacsAndBondModes)
{
    EXPECT_EQ(rtnl::parseMac("AA:bb:0c:00:01:ff"), (std::vector<uint8_t> {0xaa, 0xbb, 0x0c, 0x00, 0x01, 0xff}));
    EXPECT_FALSE(rtnl::parseMac("aa:bb:cc:dd:ee"));
    EXPECT_FALSE(rtnl::parseMac("aa:bb:cc:dd:ee:ff:00"));
    EXPECT_EQ(rtnl::bondModeNumber("802.3ad"), 4u);
    EXPECT_EQ(rtnl::bondModeName(1), "active-backup");
    EXPECT_FALSE(rtnl::bondModeNumber("fastest"));
}

TEST(Iface, NamesFollowTheKernelsRules)
{
    EXPECT_NO_THROW(iface::checkName("br0.100"));
    EXPECT_NO_THROW(iface::checkName("exactly15chars_"));
    EXPECT_THROW(iface::checkName("sixteen_chars_xx"), VirtError);
    EXPECT_THROW(iface::checkName("a/b"), VirtError);
    EXPECT_THROW(iface::checkName(".."), VirtError);
    EXPECT_THROW(iface::checkName("eth0:1"), VirtError);
    EXPECT_THROW(iface::checkName("a b"), VirtError);
    auto def = xml::parseInterfaceXML("<interface type='vlan' name='v1'><vlan tag='5'>"
                                      "<interface name='much_too_long_parent'/></vlan></interface>");
    try {
        iface::checkNames(def);
        FAIL() << "a parent name over 15 characters passed";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("longer than 15"), std::string::npos) << e.what();
    }
}

TEST(Iface, DerivedMacsAreStableLocalUnicast)
{
    std::string a = iface::derivedMac("br0");
    EXPECT_EQ(a, iface::derivedMac("br0"));
    EXPECT_NE(a, iface::derivedMac("br1"));
    auto b = rtnl::parseMac(a);
    ASSERT_TRUE(b);
    EXPECT_EQ((*b)[0] & 0x03, 0x02);
}

TEST(Iface, DescribesABridgeWithMembersAndAddresses)
{
    rtnl::Snapshot s;
    s.links.push_back(*rtnl::parseLink(hdr(linkMessage(3, "br0", IFF_UP, "bridge"))));
    s.links.push_back(*rtnl::parseLink(hdr(linkMessage(4, "veth0", IFF_UP, "veth", 3))));
    s.links.push_back(*rtnl::parseLink(hdr(linkMessage(5, "other", IFF_UP, ""))));
    s.addresses.push_back({3, AF_INET, "192.0.2.1", 24, RT_SCOPE_UNIVERSE});
    s.addresses.push_back({3, AF_INET6, "fe80::1", 64, RT_SCOPE_LINK});
    s.addresses.push_back({5, AF_INET, "198.51.100.1", 24, RT_SCOPE_UNIVERSE});
    std::vector<rtnl::Route> routes {{3, AF_INET, "192.0.2.254"}};
    auto d = iface::describe(s, s.links[0], routes, nullptr);
    EXPECT_EQ(d.type, "bridge");
    EXPECT_EQ(d.stp, true);
    EXPECT_EQ(d.delay, "3");
    ASSERT_EQ(d.members.size(), 1u);
    EXPECT_EQ(d.members[0].name, "veth0");
    EXPECT_EQ(d.members[0].type, "ethernet");
    EXPECT_EQ(d.members[0].mac, "52:54:00:00:00:04");
    ASSERT_EQ(d.protocols.size(), 1u); // link-local IPv6 is left out
    EXPECT_EQ(d.protocols[0].ips.at(0).address, "192.0.2.1");
    EXPECT_EQ(d.protocols[0].gateway, "192.0.2.254");
    // The description is a document libvirt's parser takes back.
    auto again = xml::parseInterfaceXML(xml::formatInterfaceXML(d));
    EXPECT_EQ(again.members.size(), 1u);
}

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/virtbus-ifstore-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    static xml::HostInterfaceDef def(const std::string& name, unsigned mtu)
    {
        return xml::parseInterfaceXML("<interface type='bridge' name='" + name + "'><mtu size='" + std::to_string(mtu)
            + "'/><bridge/></interface>");
    }
    std::string dir_;
};

TEST_F(StoreTest, CheckpointSurvivesARestartAndRollsBack)
{
    {
        InterfaceStore st(dir_);
        st.put(def("br0", 1500));
        st.begin();
        st.put(def("br0", 9000));
        st.put(def("br1", 1500));
    }
    InterfaceStore st(dir_); // a restart mid-transaction
    EXPECT_TRUE(st.inTransaction());
    EXPECT_EQ(st.find("br0")->mtu, 9000u);
    auto changed = st.rollback();
    EXPECT_EQ(changed.size(), 2u);
    EXPECT_FALSE(st.inTransaction());
    EXPECT_EQ(st.find("br0")->mtu, 1500u);
    EXPECT_FALSE(st.find("br1"));
    EXPECT_TRUE(fs::exists(dir_ + "/br0.xml"));
    EXPECT_FALSE(fs::exists(dir_ + "/br1.xml"));
    EXPECT_FALSE(fs::exists(dir_ + "/.checkpoint"));
    EXPECT_EQ(
        fs::status(dir_ + "/br0.xml").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(StoreTest, UnfinishedCheckpointIsIgnored)
{
    {
        InterfaceStore st(dir_);
        st.put(def("br0", 1500));
    }
    fs::create_directory(dir_ + "/.checkpoint"); // begin() died before its marker
    InterfaceStore st(dir_);
    EXPECT_FALSE(st.inTransaction());
    EXPECT_FALSE(fs::exists(dir_ + "/.checkpoint"));
}
