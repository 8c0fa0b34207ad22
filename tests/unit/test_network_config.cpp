// The network driver's generated input to dnsmasq and nft, its lease-file
// reader and its host-name checks. The rulesets are also handed to
// `nft --check` when nft is installed and we may use it (root), so the
// syntax is the real tool's verdict, not ours.
#include <gtest/gtest.h>
#include <unistd.h>

#include "error.h"
#include "network/network_config.h"
#include "network/network_host.h"
#include "xml/network_xml.h"

using namespace virtbus;

namespace {

const char* kDefault = "<network><name>default</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>"
                       "<forward mode='nat'/><bridge name='virbr0'/>"
                       "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>"
                       "<range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>";

bool has(const std::string& text, const std::string& line)
{
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

void nftCheck(const std::string& script)
{
    if (geteuid() != 0 || access("/usr/sbin/nft", X_OK) != 0)
        GTEST_SKIP() << "nft --check needs nft and root";
    net::CmdResult r = net::runTool({"nft", "--check", "-f", "-"}, script);
    EXPECT_EQ(r.status, 0) << r.output << "\n" << script;
}

TEST(DnsmasqConfig, DefaultNetwork)
{
    auto def = xml::parseNetworkXML(kDefault);
    std::string c = net::dnsmasqConfig(def, {"/run/n/default.pid", "/run/n/default.leases"});
    EXPECT_TRUE(has(c, "interface=virbr0")) << c;
    EXPECT_TRUE(has(c, "pid-file=/run/n/default.pid")) << c;
    EXPECT_TRUE(has(c, "dhcp-leasefile=/run/n/default.leases")) << c;
    EXPECT_TRUE(has(c, "dhcp-range=192.168.122.2,192.168.122.254,255.255.255.0")) << c;
    EXPECT_TRUE(has(c, "dhcp-lease-max=253")) << c;
    EXPECT_TRUE(has(c, "dhcp-authoritative")) << c;
    EXPECT_TRUE(has(c, "bind-dynamic")) << c;
    EXPECT_FALSE(has(c, "port=0")) << c;
    EXPECT_TRUE(net::needsDnsmasq(def));
    EXPECT_TRUE(net::needsFirewall(def));
}

TEST(DnsmasqConfig, HostsLeasesDomainAndDns)
{
    auto def = xml::parseNetworkXML(
        "<network><name>n1</name><bridge name='vb1'/><forward mode='route'/>"
        "<domain name='example.test' localOnly='yes'/>"
        "<dns forwardPlainNames='no'><forwarder addr='10.9.9.9'/><forwarder domain='corp.test' addr='10.8.8.8'/>"
        "<txt name='t1' value='hello world'/>"
        "<srv service='ldap' protocol='tcp' domain='example.test' target='srv1' port='389' priority='1' weight='5'/>"
        "<host ip='10.1.0.7'><hostname>h7</hostname><hostname>h7b</hostname></host></dns>"
        "<ip address='10.1.0.1' prefix='24'><dhcp>"
        "<range start='10.1.0.100' end='10.1.0.109'><lease expiry='30' unit='minutes'/></range>"
        "<host mac='52:54:00:AA:bb:01' name='g1' ip='10.1.0.50'><lease expiry='0'/></host>"
        "</dhcp></ip>"
        "<ip family='ipv6' address='fd00:1::1' prefix='64'/></network>");
    std::string c = net::dnsmasqConfig(def, {"/p", "/l"});
    EXPECT_TRUE(has(c, "dhcp-range=10.1.0.100,10.1.0.109,255.255.255.0,30m")) << c;
    EXPECT_TRUE(has(c, "dhcp-host=52:54:00:aa:bb:01,10.1.0.50,g1,infinite")) << c;
    EXPECT_TRUE(has(c, "dhcp-lease-max=11")) << c;
    EXPECT_TRUE(has(c, "domain=example.test")) << c;
    EXPECT_TRUE(has(c, "local=/example.test/")) << c;
    EXPECT_TRUE(has(c, "expand-hosts")) << c;
    EXPECT_TRUE(has(c, "domain-needed")) << c;
    EXPECT_TRUE(has(c, "server=10.9.9.9")) << c;
    EXPECT_TRUE(has(c, "server=/corp.test/10.8.8.8")) << c;
    EXPECT_TRUE(has(c, "no-resolv")) << c;
    EXPECT_TRUE(has(c, "txt-record=t1,\"hello world\"")) << c;
    EXPECT_TRUE(has(c, "srv-host=_ldap._tcp.example.test,srv1,389,1,5")) << c;
    EXPECT_TRUE(has(c, "host-record=h7,h7b,10.1.0.7")) << c;
    EXPECT_TRUE(has(c, "dhcp-range=fd00:1::,ra-only,64")) << c;
    EXPECT_TRUE(has(c, "enable-ra")) << c;
}

TEST(DnsmasqConfig, DnsDisabledAndIsolatedWithoutDhcp)
{
    auto def = xml::parseNetworkXML("<network><name>q</name><bridge name='vbq'/><dns enable='no'/>"
                                    "<ip address='10.2.0.1' prefix='24'/></network>");
    std::string c = net::dnsmasqConfig(def, {"/p", "/l"});
    EXPECT_TRUE(has(c, "port=0")) << c;
    EXPECT_FALSE(net::needsDnsmasq(def));
    EXPECT_TRUE(net::needsFirewall(def)); // isolated
}

TEST(DnsmasqConfig, RefusesValuesThatWouldInjectOptions)
{
    // A TXT value may hold anything in XML; in dnsmasq's file a quote or a
    // newline would end the option and start another.
    auto def = xml::parseNetworkXML("<network><name>x</name><bridge name='vbx'/><forward mode='nat'/>"
                                    "<dns><txt name='t' value='a&quot;&#10;dhcp-script=/tmp/evil'/></dns>"
                                    "<ip address='10.3.0.1' prefix='24'/></network>");
    try {
        net::dnsmasqConfig(def, {"/p", "/l"});
        FAIL() << "accepted";
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::ConfigUnsupported);
        EXPECT_NE(std::string(e.what()).find("TXT value"), std::string::npos) << e.what();
    }
    EXPECT_THROW(net::checkHostNames(def), VirtError);
}

TEST(HostNames, BridgeNames)
{
    EXPECT_TRUE(net::validIfName("virbr0"));
    EXPECT_TRUE(net::validIfName("abcdefghijklmno")); // 15
    EXPECT_FALSE(net::validIfName("abcdefghijklmnop")); // 16
    EXPECT_FALSE(net::validIfName("a:b"));
    EXPECT_FALSE(net::validIfName("a b"));
    EXPECT_FALSE(net::validIfName("a/b"));
    EXPECT_FALSE(net::validIfName("a\"b"));
    EXPECT_FALSE(net::validIfName(""));
    auto def = xml::parseNetworkXML("<network><name>long</name><bridge name='a-bridge-name-too-long'/>"
                                    "<ip address='10.4.0.1' prefix='24'/></network>");
    try {
        net::checkHostNames(def);
        FAIL() << "accepted";
    } catch (const VirtError& e) {
        EXPECT_EQ(e.code(), ErrCode::ConfigUnsupported);
        EXPECT_NE(std::string(e.what()).find("a-bridge-name-too-long"), std::string::npos);
    }
}

TEST(NftRuleset, Nat)
{
    auto def = xml::parseNetworkXML(kDefault);
    std::string s = net::nftRuleset(def, "virtbus_t1");
    EXPECT_EQ(s.rfind("table inet virtbus_t1 {\n", 0), 0u) << s;
    EXPECT_TRUE(has(s, "\t\tiifname \"virbr0\" udp dport 67 accept")) << s;
    EXPECT_TRUE(has(s, "\t\toifname \"virbr0\" ip daddr 192.168.122.0/24 ct state related,established accept")) << s;
    EXPECT_TRUE(has(s, "\t\tiifname \"virbr0\" ip saddr 192.168.122.0/24 accept")) << s;
    EXPECT_TRUE(has(s, "\t\tiifname \"virbr0\" reject")) << s;
    EXPECT_TRUE(has(s,
        "\t\tip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 meta l4proto { tcp, udp } "
        "masquerade to :1024-65535"))
        << s;
    EXPECT_TRUE(has(s, "\t\tip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 return")) << s;
    nftCheck(s);
}

TEST(NftRuleset, NatAddressRangeAndForwardDev)
{
    auto def = xml::parseNetworkXML(
        "<network><name>n2</name><bridge name='vb2'/><forward mode='nat' dev='uplink0'><nat>"
        "<address start='10.0.0.5' end='10.0.0.9'/><port start='500' end='1000'/></nat></forward>"
        "<ip address='10.5.0.1' prefix='24'/></network>");
    std::string s = net::nftRuleset(def, "virtbus_t2");
    EXPECT_TRUE(has(s,
        "\t\tip saddr 10.5.0.0/24 oifname \"uplink0\" ip daddr != 10.5.0.0/24 meta l4proto { tcp, udp } "
        "snat ip to 10.0.0.5-10.0.0.9:500-1000"))
        << s;
    EXPECT_TRUE(has(s, "\t\tiifname \"vb2\" oifname \"uplink0\" ip saddr 10.5.0.0/24 accept")) << s;
    nftCheck(s);
}

TEST(NftRuleset, RouteAndIsolated)
{
    auto route = xml::parseNetworkXML("<network><name>r</name><bridge name='vbr'/><forward mode='route'/>"
                                      "<ip address='10.6.0.1' prefix='24'/>"
                                      "<ip family='ipv6' address='fd00:6::1' prefix='64'/></network>");
    std::string s = net::nftRuleset(route, "virtbus_t3");
    EXPECT_TRUE(has(s, "\t\toifname \"vbr\" ip daddr 10.6.0.0/24 accept")) << s;
    EXPECT_TRUE(has(s, "\t\toifname \"vbr\" ip6 daddr fd00:6::/64 accept")) << s;
    EXPECT_EQ(s.find("postrouting"), std::string::npos) << s;
    nftCheck(s);

    auto iso = xml::parseNetworkXML("<network><name>i</name><bridge name='vbi'/>"
                                    "<ip address='10.7.0.1' prefix='24'/></network>");
    std::string t = net::nftRuleset(iso, "virtbus_t4");
    EXPECT_EQ(t.find("saddr"), std::string::npos) << t;
    EXPECT_TRUE(has(t, "\t\tiifname \"vbi\" oifname \"vbi\" accept")) << t;
    EXPECT_TRUE(has(t, "\t\toifname \"vbi\" reject")) << t;
    nftCheck(t);
}

TEST(Leases, ParsedFilteredAndExpired)
{
    auto def = xml::parseNetworkXML(kDefault);
    std::vector<const xml::NetworkIpDef*> ips {&def.ips[0]};
    std::string text = "2000 52:54:00:00:00:01 192.168.122.10 guest1 01:52:54:00:00:00:01\n"
                       "500 52:54:00:00:00:02 192.168.122.11 * *\n"
                       "0 52:54:00:00:00:03 192.168.122.12 * *\n"
                       "duid 00:01:00:01:2c:00:00:00:52:54:00:00:00:09\n"
                       "2000 1234 fd00::5 * 00:04:aa\n";
    auto all = net::parseLeases(text, "virbr0", ips, "", 1000);
    ASSERT_EQ(all.size(), 3u); // the lease that expired at 500 is gone
    EXPECT_EQ(all[0],
        DhcpLease("virbr0", 2000, 0, "52:54:00:00:00:01", "", "192.168.122.10", 24, "guest1", "01:52:54:00:00:00:01"));
    EXPECT_EQ(std::get<1>(all[1]), 0); // infinite
    EXPECT_EQ(std::get<7>(all[1]), "");
    EXPECT_EQ(std::get<2>(all[2]), 1); // IPv6
    EXPECT_EQ(std::get<4>(all[2]), "1234");
    auto one = net::parseLeases(text, "virbr0", ips, "52:54:00:00:00:0C", 1000);
    EXPECT_TRUE(one.empty());
    one = net::parseLeases(text, "virbr0", ips, "52:54:00:00:00:01", 1000);
    EXPECT_EQ(one.size(), 1u);
}

} // namespace
