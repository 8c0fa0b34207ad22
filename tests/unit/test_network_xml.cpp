// Network XML: golden round trips over data/network, schema validity of
// what we emit, the rejection corpus, runtime-only state, preserved
// content, and Network.Update with libvirt's semantics and wording.
#include "xml/network_xml.h"

#include "xml_rejections.h"

using namespace virtbus;
using namespace virtbus::xml;
using namespace virtbus::xml::testing_support;

namespace {

const std::string kDir = "network";

NetworkFormatOptions inactive()
{
    NetworkFormatOptions o;
    o.inactive = true;
    return o;
}

} // namespace

class NetworkCorpus : public testing::TestWithParam<std::string> { };

TEST_P(NetworkCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    NetworkDef def = parseNetworkXML(corpusInput(kDir, GetParam()));
    std::string out = formatNetworkXML(def, inactive());
    EXPECT_EQ(out, corpusGolden(kDir, GetParam()));

    NetworkDef again = parseNetworkXML(out);
    std::string out2 = formatNetworkXML(again, inactive());
    EXPECT_EQ(out2, out);
    EXPECT_TRUE(parseNetworkXML(out2) == again) << "re-parsed structure differs";
    // Nothing runtime-only is set, so the live form is the same document.
    EXPECT_EQ(formatNetworkXML(def), out);
}

TEST_P(NetworkCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("network.rng"))
        GTEST_SKIP() << schemaPath("network.rng") << " is absent (install libvirt0)";
    EXPECT_NO_THROW(parseNetworkXML(corpusInput(kDir, GetParam()), NETWORK_PARSE_VALIDATE));
    NetworkDef def = parseNetworkXML(corpusInput(kDir, GetParam()));
    expectSchemaValid(formatNetworkXML(def, inactive()), "network.rng");
    EXPECT_NO_THROW(parseNetworkXML(formatNetworkXML(def), NETWORK_PARSE_VALIDATE));
}

INSTANTIATE_TEST_SUITE_P(Corpus, NetworkCorpus, testing::ValuesIn(corpus(kDir)), paramName);

class NetworkRejections : public testing::TestWithParam<std::string> { };

TEST_P(NetworkRejections, FailsWithLibvirtCodeAndMessage)
{
    expectRejected(kDir, GetParam(), [](const std::string& doc) { parseNetworkXML(doc); });
}

INSTANTIATE_TEST_SUITE_P(Corpus, NetworkRejections, testing::ValuesIn(rejectionCorpus(kDir)), paramName);

TEST(NetworkXml, CorporaAreLargeEnough)
{
    EXPECT_GE(corpus(kDir).size(), 15u);
    EXPECT_GE(rejectionCorpus(kDir).size(), 8u);
}

TEST(NetworkXml, ModelsTheDefaultNetwork)
{
    NetworkDef def = parseNetworkXML(corpusInput(kDir, "default-nat"));
    EXPECT_EQ(def.name, "default");
    EXPECT_EQ(def.forward.mode, "nat");
    EXPECT_EQ(def.bridge.name, "virbr0");
    EXPECT_EQ(def.bridge.stp, std::optional<bool>(true));
    ASSERT_EQ(def.ips.size(), 1u);
    EXPECT_EQ(def.ips[0].netmask, "255.255.255.0");
    ASSERT_EQ(def.ips[0].ranges.size(), 1u);
    EXPECT_EQ(def.ips[0].ranges[0].start, "192.168.122.2");

    NetworkDef dual = parseNetworkXML(corpusInput(kDir, "dual-stack"));
    ASSERT_EQ(dual.ips.size(), 2u);
    EXPECT_TRUE(dual.ips[1].isIPv6());
    EXPECT_EQ(dual.ips[1].hosts[0].id, "0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63");
    EXPECT_EQ(dual.domainLocalOnly, "yes");

    NetworkDef pool = parseNetworkXML(corpusInput(kDir, "macvtap-pool"));
    ASSERT_EQ(pool.forward.interfaces.size(), 3u);
    EXPECT_EQ(pool.forward.interfaces[2].dev, "eth4");
}

TEST(NetworkXml, MissingUUIDIsGenerated)
{
    NetworkDef a = parseNetworkXML("<network><name>a</name></network>");
    NetworkDef b = parseNetworkXML("<network><name>b</name></network>");
    EXPECT_TRUE(isValidUUID(a.uuid));
    EXPECT_EQ(a.uuid, normalizeUUID(a.uuid));
    EXPECT_NE(a.uuid, b.uuid);
    EXPECT_TRUE(a.forward.mode.empty()); // isolated
}

TEST(NetworkXml, ConnectionCountsAppearOnlyInLiveXML)
{
    NetworkDef def = parseNetworkXML(corpusInput(kDir, "route"));
    def.connections = 3;
    def.forward.interfaces[0].connections = 2;
    std::string live = formatNetworkXML(def);
    EXPECT_NE(live.find("<network connections='3'>"), std::string::npos) << live;
    EXPECT_NE(live.find("<interface dev='eth1' connections='2'/>"), std::string::npos) << live;
    std::string config = formatNetworkXML(def, inactive());
    EXPECT_EQ(config.find("connections"), std::string::npos) << config;
    if (haveSchema("network.rng"))
        expectSchemaValid(live, "network.rng");
}

TEST(NetworkXml, InterfacesFoundFromAPfAreRuntimeState)
{
    NetworkDef def = parseNetworkXML(corpusInput(kDir, "passthrough-pf"));
    def.forward.interfaces = {{"eth5v0", 1}, {"eth5v1", 0}};
    std::string live = formatNetworkXML(def);
    EXPECT_NE(live.find("<interface dev='eth5v1'/>"), std::string::npos) << live;
    EXPECT_EQ(live.find("<forward dev="), std::string::npos) << "a PF network has no forward dev";
    std::string config = formatNetworkXML(def, inactive());
    EXPECT_EQ(config.find("<interface"), std::string::npos) << config;
}

TEST(NetworkXml, TitleDescriptionAndUnknownContentSurvive)
{
    // libvirt 9.0's network.rng predates <title>; the model keeps it anyway.
    const std::string in = "<network ipv6='yes' x-vendor='acme'>\n"
                           "  <name>kept</name>\n"
                           "  <uuid>01234567-89ab-4cde-8f01-23456789abcd</uuid>\n"
                           "  <title>Lab network</title>\n"
                           "  <description>Multi\nline &amp; escaped</description>\n"
                           "  <bridge name='virbr20' stp='on' delay='0' x-hint='1'/>\n"
                           "  <dns>\n"
                           "    <x:rec xmlns:x='urn:example:dns'>1</x:rec>\n"
                           "  </dns>\n"
                           "  <ip address='10.20.30.1' prefix='24' x-tag='a'>\n"
                           "    <dhcp>\n"
                           "      <range start='10.20.30.10' end='10.20.30.20'/>\n"
                           "      <x:opt xmlns:x='urn:example:dhcp'/>\n"
                           "    </dhcp>\n"
                           "    <future/>\n"
                           "  </ip>\n"
                           "  <vendor:thing xmlns:vendor='urn:example:vendor'/>\n"
                           "</network>\n";
    NetworkDef def = parseNetworkXML(in);
    EXPECT_EQ(def.title, "Lab network");
    EXPECT_EQ(def.extra.attrs.size(), 1u);
    EXPECT_EQ(def.ips[0].extra.children.size(), 1u);
    EXPECT_EQ(def.ips[0].dhcpExtra.children.size(), 1u);
    std::string out = formatNetworkXML(def, inactive());
    EXPECT_EQ(out, in);
    EXPECT_TRUE(parseNetworkXML(out) == def);
    expectError([] { parseNetworkXML("<network><name>t</name><title>a\nb</title></network>"); }, ErrCode::XmlError,
        "Network title can't contain newlines");
}

TEST(NetworkXml, SchemaValidationFlag)
{
    if (!haveSchema("network.rng"))
        GTEST_SKIP() << schemaPath("network.rng") << " is absent (install libvirt0)";
    const std::string odd = "<network><name>odd</name><future/></network>";
    EXPECT_NO_THROW(parseNetworkXML(odd));
    expectError([&] { parseNetworkXML(odd, NETWORK_PARSE_VALIDATE); }, ErrCode::XmlInvalidSchema, "network.rng");
}

TEST(NetworkXml, RejectsHugeDocumentsUnknownFlagsAndEntities)
{
    std::string big = "<network><name>" + std::string(kMaxDocumentSize, 'a') + "</name></network>";
    expectError([&] { parseNetworkXML(big); }, ErrCode::XmlError, "document too large");
    expectError([] { parseNetworkXML("<network/>", 1u << 5); }, ErrCode::InvalidArg, "unsupported flags");
    expectError([] { parseNetworkXML(billionLaughs("network", "<network><name>&e11;</name></network>")); },
        ErrCode::XmlError, "DOCTYPE declarations are not allowed");
}

TEST(NetworkXml, ChecksLibvirtsForwardModeRules)
{
    struct Bad {
        std::string xml;
        ErrCode code;
        std::string message;
    };
    const std::vector<Bad> bad = {
        {"<network><name>n</name><forward mode='tunnel'/></network>", ErrCode::ConfigUnsupported,
            "unknown forwarding type 'tunnel'"},
        {"<network><name>n</name><forward mode='open' dev='eth0'/>"
         "<ip address='10.0.0.1' prefix='24'/></network>",
            ErrCode::XmlError, "forward dev not allowed for network 'n' with forward mode='open'"},
        {"<network><name>n</name><forward mode='route'><interface dev='a'/><interface dev='b'/>"
         "</forward><ip address='10.0.0.1' prefix='24'/></network>",
            ErrCode::XmlError, "multiple forwarding interfaces specified for network 'n'"},
        {"<network><name>n</name><forward mode='bridge'/><mtu size='9000'/></network>", ErrCode::XmlError,
            "mtu size only allowed in open, route, nat, and isolated mode"},
        {"<network><name>n</name><forward mode='vepa'/><bridge name='br0'/></network>", ErrCode::XmlError,
            "bridge name not allowed in vepa mode (network 'n')"},
        {"<network><name>n</name><forward mode='bridge' dev='eth0'/><bridge name='br0'/></network>", ErrCode::XmlError,
            "can specify a bridge name or a forward dev, but not both"},
        {"<network><name>n</name><forward dev='eth0'><interface dev='eth1'/></forward>"
         "<ip address='10.0.0.1' prefix='24'/></network>",
            ErrCode::XmlError, "<forward dev='eth0'> must match first <interface dev='eth1'/>"},
        {"<network><name>n</name><forward mode='route'><nat/></forward>"
         "<ip address='10.0.0.1' prefix='24'/></network>",
            ErrCode::XmlError, "The <nat> element can only be used when <forward> 'mode' is 'nat'"},
        {"<network><name>n</name><ip family='ipv6' address='fd00::1' prefix='64'><dhcp>"
         "<host mac='52:54:00:00:00:01' ip='fd00::5'/></dhcp></ip></network>",
            ErrCode::XmlError, "Invalid to specify MAC address '52:54:00:00:00:01' in network 'n'"},
        {"<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp>"
         "<range start='10.0.0.50' end='10.0.0.10'/></dhcp></ip></network>",
            ErrCode::InternalError, "range 10.0.0.50 - 10.0.0.10 is reversed"},
        {"<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp>"
         "<range start='10.0.0.0' end='10.0.0.10'/></dhcp></ip></network>",
            ErrCode::InternalError, "is the network address"},
        {"<network><name>n</name><dns><srv service='ldap' protocol='tcp' port='389'/></dns></network>",
            ErrCode::XmlError, "DNS SRV port attribute not permitted without target"},
        {"<network><name>n</name><dns><txt name='a b' value='x'/></dns></network>", ErrCode::XmlError,
            "prohibited character in DNS TXT record name 'a b'"},
        {"<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.5' "
         "end='10.0.0.9'><lease expiry='30' unit='seconds'/></range></dhcp></ip></network>",
            ErrCode::ConfigUnsupported, "The minimum lease time should be greater than 2 minutes"},
    };
    for (const auto& b : bad) {
        SCOPED_TRACE(b.xml);
        expectError([&] { parseNetworkXML(b.xml); }, b.code, b.message);
    }
}

// Network.Update -------------------------------------------------------

namespace {

constexpr unsigned kModify = unsigned(NetworkUpdateCommand::Modify);
constexpr unsigned kDelete = unsigned(NetworkUpdateCommand::Delete);
constexpr unsigned kAddLast = unsigned(NetworkUpdateCommand::AddLast);
constexpr unsigned kAddFirst = unsigned(NetworkUpdateCommand::AddFirst);
constexpr unsigned kDhcpHost = unsigned(NetworkUpdateSection::IpDhcpHost);
constexpr unsigned kDhcpRange = unsigned(NetworkUpdateSection::IpDhcpRange);
constexpr unsigned kForwardIf = unsigned(NetworkUpdateSection::ForwardInterface);
constexpr unsigned kDnsHost = unsigned(NetworkUpdateSection::DnsHost);
constexpr unsigned kDnsTxt = unsigned(NetworkUpdateSection::DnsTxt);
constexpr unsigned kDnsSrv = unsigned(NetworkUpdateSection::DnsSrv);
constexpr unsigned kPortgroup = unsigned(NetworkUpdateSection::Portgroup);

NetworkDef defaultNetwork() { return parseNetworkXML(corpusInput(kDir, "default-nat")); }

void update(NetworkDef& def, unsigned command, unsigned section, const std::string& xml, int parentIndex = -1)
{
    updateNetworkDef(def, command, section, parentIndex, xml);
}

// The update must fail with `code`/`message` and leave `def` as it was.
void expectUpdateError(NetworkDef& def, unsigned command, unsigned section, const std::string& xml, ErrCode code,
    const std::string& message, int parentIndex = -1)
{
    NetworkDef before = def;
    expectError([&] { update(def, command, section, xml, parentIndex); }, code, message);
    EXPECT_TRUE(def == before) << "a failed update changed the definition";
}

} // namespace

TEST(NetworkUpdate, DhcpHostAddModifyDelete)
{
    NetworkDef def = defaultNetwork();
    update(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:01' name='a' ip='192.168.122.10'/>");
    update(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:02' name='b' ip='192.168.122.11'/>");
    update(def, kAddFirst, kDhcpHost, "<host mac='52:54:00:00:00:03' name='c' ip='192.168.122.12'/>");
    const auto& hosts = def.ips[0].hosts;
    ASSERT_EQ(hosts.size(), 3u);
    EXPECT_EQ(hosts[0].name, "c");
    EXPECT_EQ(hosts[2].name, "b");
    // Hosts are written inside <dhcp>, after the ranges.
    std::string out = formatNetworkXML(def, inactive());
    EXPECT_NE(out.find("      <range start='192.168.122.2' end='192.168.122.254'/>\n"
                       "      <host mac='52:54:00:00:00:03' name='c' ip='192.168.122.12'/>\n"),
        std::string::npos)
        << out;
    if (haveSchema("network.rng"))
        expectSchemaValid(out, "network.rng");

    // MODIFY finds the entry by MAC, name or IP and replaces it.
    update(def, kModify, kDhcpHost, "<host mac='52:54:00:00:00:01' name='a2' ip='192.168.122.20'/>");
    EXPECT_EQ(def.ips[0].hosts[1].name, "a2");
    EXPECT_EQ(def.ips[0].hosts[1].ip, "192.168.122.20");

    // DELETE needs only enough to match; every given attribute must match.
    expectUpdateError(def, kDelete, kDhcpHost, "<host mac='52:54:00:00:00:02' name='zzz'/>", ErrCode::OperationInvalid,
        "couldn't locate a matching dhcp host entry in network 'default'");
    update(def, kDelete, kDhcpHost, "<host mac='52:54:00:00:00:02'/>");
    update(def, kDelete, kDhcpHost, "<host ip='192.168.122.12'/>");
    ASSERT_EQ(def.ips[0].hosts.size(), 1u);
    EXPECT_EQ(def.ips[0].hosts[0].name, "a2");
}

TEST(NetworkUpdate, DhcpHostDuplicatesAndMisses)
{
    NetworkDef def = defaultNetwork();
    update(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:0a' name='a' ip='192.168.122.10'/>");
    expectUpdateError(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:0a' name='other' ip='192.168.122.99'/>",
        ErrCode::OperationInvalid,
        "there is an existing dhcp host entry in network 'default' that matches "
        "\"<host mac='52:54:00:00:00:0a' name='other' ip='192.168.122.99'/>\"");
    // MACs compare without regard to case; a name or an IP alone is a
    // duplicate too.
    expectUpdateError(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:0A' ip='192.168.122.30'/>",
        ErrCode::OperationInvalid, "there is an existing dhcp host entry");
    expectUpdateError(def, kAddFirst, kDhcpHost, "<host mac='52:54:00:00:00:09' ip='192.168.122.10'/>",
        ErrCode::OperationInvalid, "there is an existing dhcp host entry");
    expectUpdateError(def, kAddLast, kDhcpHost, "<host name='a' ip='192.168.122.31'/>", ErrCode::OperationInvalid,
        "name='a' ip='192.168.122.31'");
    expectUpdateError(def, kModify, kDhcpHost, "<host mac='52:54:00:00:00:77' name='x' ip='192.168.122.77'/>",
        ErrCode::OperationInvalid,
        "couldn't locate an existing dhcp host entry with \"mac='52:54:00:00:00:77'\" "
        "\"name='x'\" \"ip='192.168.122.77'\" in network 'default'");
    expectUpdateError(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:05' ip='fd00::5'/>",
        ErrCode::OperationInvalid,
        "the address family of a host entry IP must match the address family of the "
        "dhcp element's parent");
    expectUpdateError(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:05'/>", ErrCode::XmlError,
        "Missing IP address in static host definition for network 'default'");
    expectUpdateError(def, kDelete, kDhcpHost, "<host/>", ErrCode::XmlError,
        "At least one of name, mac, or ip attribute must be specified");
    expectUpdateError(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:05' ip='192.168.122.5'/>",
        ErrCode::OperationInvalid,
        "couldn't update dhcp host entry - no <ip> element found at index 4 in network "
        "'default'",
        4);
    expectUpdateError(def, kAddLast, kDhcpHost, "<range start='192.168.122.5' end='192.168.122.6'/>", ErrCode::XmlError,
        "unexpected element <range>, expecting <host>, while updating network 'default'");
    expectUpdateError(def, 9, kDhcpHost, "<host mac='52:54:00:00:00:05' ip='192.168.122.5'/>",
        ErrCode::OperationUnsupported, "unrecognized network update command code 9");
}

TEST(NetworkUpdate, ParentIndexPicksTheIpElement)
{
    NetworkDef def = parseNetworkXML("<network><name>two</name>"
                                     "<ip family='ipv6' address='fd00::1' prefix='64'/>"
                                     "<ip address='10.0.0.1' prefix='24'/>"
                                     "<ip address='10.0.1.1' prefix='24'/></network>");
    // -1 without any DHCP yet: the first IPv4 element.
    update(def, kAddLast, kDhcpRange, "<range start='10.0.0.10' end='10.0.0.20'/>");
    EXPECT_EQ(def.ips[1].ranges.size(), 1u);
    // dnsmasq serves one DHCP subnet per family.
    expectUpdateError(def, kAddLast, kDhcpHost, "<host mac='52:54:00:00:00:01' ip='10.0.1.5'/>",
        ErrCode::OperationInvalid, "dhcp is supported only for a single IPv4 address on each network", 2);
    update(def, kAddLast, kDhcpHost, "<host id='0:1:2' name='v6' ip='fd00::5'/>", 0);
    EXPECT_EQ(def.ips[0].hosts.size(), 1u);
    // Now -1 is the first element with DHCP, the IPv6 one.
    EXPECT_EQ(findDhcpIp(def, -1), &def.ips[0]);
}

TEST(NetworkUpdate, DhcpRangeAddDeleteOnly)
{
    NetworkDef def = defaultNetwork();
    update(def, kAddFirst, kDhcpRange, "<range start='192.168.122.2' end='192.168.122.9'/>");
    ASSERT_EQ(def.ips[0].ranges.size(), 2u);
    EXPECT_EQ(def.ips[0].ranges[0].end, "192.168.122.9");
    expectUpdateError(def, kAddLast, kDhcpRange, "<range start='192.168.122.2' end='192.168.122.9'/>",
        ErrCode::OperationInvalid,
        "there is an existing dhcp range entry in network 'default' that matches "
        "\"<range start='192.168.122.2' end='192.168.122.9'/>\"");
    expectUpdateError(def, kModify, kDhcpRange, "<range start='192.168.122.2' end='192.168.122.9'/>",
        ErrCode::OperationUnsupported, "dhcp ranges cannot be modified, only added or deleted");
    expectUpdateError(def, kAddLast, kDhcpRange, "<range start='192.168.123.2' end='192.168.123.9'/>",
        ErrCode::InternalError, "is not entirely within network 192.168.122.1/24");
    update(def, kDelete, kDhcpRange, "<range start='192.168.122.2' end='192.168.122.254'/>");
    ASSERT_EQ(def.ips[0].ranges.size(), 1u);
    expectUpdateError(def, kDelete, kDhcpRange, "<range start='192.168.122.2' end='192.168.122.254'/>",
        ErrCode::OperationInvalid, "couldn't locate a matching dhcp range entry in network 'default'");
}

TEST(NetworkUpdate, DnsHostTxtSrv)
{
    NetworkDef def = defaultNetwork();
    update(def, kAddLast, kDnsHost, "<host ip='192.168.122.50'><hostname>db</hostname></host>");
    // Several addresses may share a name; only the address must be new.
    update(def, kAddLast, kDnsHost, "<host ip='192.168.122.51'><hostname>db</hostname></host>");
    expectUpdateError(def, kAddFirst, kDnsHost, "<host ip='192.168.122.50'><hostname>other</hostname></host>",
        ErrCode::OperationInvalid,
        "there is already at least one DNS HOST record with a matching field in "
        "network default");
    expectUpdateError(def, kModify, kDnsHost, "<host ip='192.168.122.50'><hostname>x</hostname></host>",
        ErrCode::OperationUnsupported, "DNS HOST records cannot be modified, only added or deleted");
    expectUpdateError(def, kDelete, kDnsHost, "<host><hostname>db</hostname></host>", ErrCode::OperationInvalid,
        "multiple matching DNS HOST records were found in network default");
    update(def, kDelete, kDnsHost, "<host ip='192.168.122.51'/>");
    ASSERT_EQ(def.dns.hosts.size(), 1u);
    expectUpdateError(def, kDelete, kDnsHost, "<host><hostname>web</hostname></host>", ErrCode::OperationInvalid,
        "couldn't locate a matching DNS HOST record in network default");

    update(def, kAddLast, kDnsTxt, "<txt name='example' value='hello'/>");
    expectUpdateError(def, kAddLast, kDnsTxt, "<txt name='example' value='again'/>", ErrCode::OperationInvalid,
        "there is already a DNS TXT record with name 'example' in network default");
    update(def, kAddLast, kDnsSrv, "<srv service='ldap' protocol='tcp' target='db' port='389'/>");
    expectUpdateError(def, kAddLast, kDnsSrv, "<srv service='ldap' protocol='tcp'/>", ErrCode::OperationInvalid,
        "there is already at least one DNS SRV record matching all specified fields");
    std::string out = formatNetworkXML(def, inactive());
    if (haveSchema("network.rng"))
        expectSchemaValid(out, "network.rng");
    update(def, kDelete, kDnsTxt, "<txt name='example'/>");
    update(def, kDelete, kDnsSrv, "<srv service='ldap'/>");
    EXPECT_TRUE(def.dns.txts.empty());
    EXPECT_TRUE(def.dns.srvs.empty());
}

TEST(NetworkUpdate, ForwardInterfaces)
{
    NetworkDef def = parseNetworkXML(corpusInput(kDir, "macvtap-pool"));
    update(def, kAddFirst, kForwardIf, "<interface dev='eth9'/>");
    EXPECT_EQ(def.forward.interfaces.front().dev, "eth9");
    EXPECT_NE(formatNetworkXML(def, inactive()).find("<forward dev='eth9' mode='bridge'>"), std::string::npos);
    expectUpdateError(def, kAddLast, kForwardIf, "<interface dev='eth3'/>", ErrCode::OperationInvalid,
        "there is an existing interface entry in network 'macvtap' that matches "
        "\"<interface dev='eth3'>\"");
    expectUpdateError(def, kModify, kForwardIf, "<interface dev='eth3'/>", ErrCode::OperationUnsupported,
        "forward interface entries cannot be modified, only added or deleted");
    expectUpdateError(
        def, kAddLast, kForwardIf, "<interface/>", ErrCode::XmlError, "missing dev attribute in <interface> element");
    def.forward.interfaces[1].connections = 2; // eth2 is in use
    expectUpdateError(def, kDelete, kForwardIf, "<interface dev='eth2'/>", ErrCode::OperationInvalid,
        "unable to delete interface 'eth2' in network 'macvtap'. It is currently being "
        "used by 2 domains.");
    update(def, kDelete, kForwardIf, "<interface dev='eth4'/>");
    expectUpdateError(def, kDelete, kForwardIf, "<interface dev='eth4'/>", ErrCode::OperationInvalid,
        "couldn't find an interface entry in network 'macvtap' matching "
        "<interface dev='eth4'>");
    EXPECT_EQ(def.forward.interfaces.size(), 3u);
}

TEST(NetworkUpdate, Portgroups)
{
    NetworkDef def = parseNetworkXML(corpusInput(kDir, "portgroups"));
    update(def, kAddLast, kPortgroup, "<portgroup name='ops'><vlan><tag id='7'/></vlan></portgroup>");
    ASSERT_EQ(def.portgroups.size(), 3u);
    expectUpdateError(def, kAddLast, kPortgroup, "<portgroup name='ops'/>", ErrCode::OperationInvalid,
        "there is an existing portgroup entry in network 'ovs' that matches "
        "\"<portgroup name='ops'>\"");
    expectUpdateError(def, kModify, kPortgroup, "<portgroup name='ops' default='yes'/>", ErrCode::OperationInvalid,
        "a different portgroup entry in network 'ovs' is already set as the default");
    update(def, kModify, kPortgroup, "<portgroup name='ops'><vlan><tag id='8'/></vlan></portgroup>");
    EXPECT_NE(def.portgroups[2].find("id='8'"), std::string::npos);
    update(def, kDelete, kPortgroup, "<portgroup name='engineering'/>");
    expectUpdateError(def, kDelete, kPortgroup, "<portgroup name='engineering'/>", ErrCode::OperationInvalid,
        "couldn't find a portgroup entry in network 'ovs' matching "
        "<portgroup name='engineering'>");
    if (haveSchema("network.rng"))
        expectSchemaValid(formatNetworkXML(def, inactive()), "network.rng");
}

TEST(NetworkUpdate, SectionsLibvirtCannotUpdate)
{
    NetworkDef def = defaultNetwork();
    const std::vector<std::pair<NetworkUpdateSection, std::string>> sections
        = {{NetworkUpdateSection::Bridge, "bridge"}, {NetworkUpdateSection::Domain, "domain"},
            {NetworkUpdateSection::Ip, "ip"}, {NetworkUpdateSection::Forward, "forward"},
            {NetworkUpdateSection::ForwardPf, "forward pf"}};
    for (const auto& [section, name] : sections)
        expectUpdateError(def, kAddLast, unsigned(section), "<x/>", ErrCode::OperationUnsupported,
            "can't update '" + name + "' section of network 'default'");
    expectUpdateError(
        def, kAddLast, 99, "<x/>", ErrCode::OperationUnsupported, "can't update unrecognized section of network");
    expectUpdateError(def, kAddLast, kDhcpHost, "<host", ErrCode::XmlError, "network_update_xml");
}
