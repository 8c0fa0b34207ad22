// Host interface XML: golden round trips over data/interface, schema
// validity of everything we emit (live and inactive), preservation of
// unknown content and rejection of bad documents.
#include "xml/interface_xml.h"

#include "xml_corpus.h"

#include <chrono>

using namespace virtbus;
using namespace virtbus::xml;
using namespace virtbus::xml::testing_support;

namespace {

const std::string kDir = "interface";

} // namespace

class InterfaceCorpus : public testing::TestWithParam<std::string> { };

TEST_P(InterfaceCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    HostInterfaceDef def = parseInterfaceXML(corpusInput(kDir, GetParam()));
    std::string out = formatInterfaceXML(def);
    EXPECT_EQ(out, corpusGolden(kDir, GetParam()));

    HostInterfaceDef again = parseInterfaceXML(out);
    EXPECT_TRUE(again == def) << "re-parsed structure differs";
    EXPECT_EQ(formatInterfaceXML(again), out);
}

TEST_P(InterfaceCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("interface.rng"))
        GTEST_SKIP() << schemaPath("interface.rng") << " is absent (install libvirt0)";
    HostInterfaceDef def = parseInterfaceXML(corpusInput(kDir, GetParam()));
    expectSchemaValid(formatInterfaceXML(def), "interface.rng");
    expectSchemaValid(formatInterfaceXML(def, {.inactive = true}), "interface.rng");
    // What we emit also passes our own validating parse.
    EXPECT_NO_THROW(parseInterfaceXML(formatInterfaceXML(def), INTERFACE_PARSE_VALIDATE));
}

INSTANTIATE_TEST_SUITE_P(Corpus, InterfaceCorpus, testing::ValuesIn(corpus(kDir)), paramName);

TEST(InterfaceXml, CorpusIsLargeEnough) { EXPECT_GE(corpus(kDir).size(), 15u); }

TEST(InterfaceXml, ParsesModeledFields)
{
    HostInterfaceDef e = parseInterfaceXML(corpusInput(kDir, "ethernet-dual-stack"));
    EXPECT_EQ(e.type, "ethernet");
    EXPECT_EQ(e.name, "enp1s0");
    EXPECT_EQ(e.startMode, "hotplug");
    ASSERT_EQ(e.protocols.size(), 2u);
    EXPECT_EQ(e.protocols[0].family, "ipv4");
    EXPECT_TRUE(e.protocols[0].dhcp);
    EXPECT_FALSE(e.protocols[0].peerdns.has_value());
    const auto& v6 = e.protocols[1];
    EXPECT_TRUE(v6.autoconf);
    EXPECT_EQ(v6.peerdns, true);
    ASSERT_EQ(v6.ips.size(), 2u);
    EXPECT_EQ(v6.ips[0].address, "2001:db8::5");
    EXPECT_EQ(v6.ips[0].prefix, 64u);
    EXPECT_EQ(v6.gateway, "2001:db8::1");

    HostInterfaceDef s = parseInterfaceXML(corpusInput(kDir, "ethernet-static"));
    EXPECT_EQ(s.mtu, 1492u);
    EXPECT_EQ(s.mac, "aa:bb:cc:dd:ee:ff");

    HostInterfaceDef br = parseInterfaceXML(corpusInput(kDir, "bridge-bond"));
    EXPECT_EQ(br.stp, false);
    EXPECT_EQ(br.delay, "2");
    ASSERT_EQ(br.members.size(), 1u);
    const HostInterfaceDef& bond = br.members[0];
    EXPECT_EQ(bond.type, "bond");
    EXPECT_EQ(bond.bondMode, "active-backup");
    EXPECT_EQ(bond.bondMonitor, "<miimon freq='100' updelay='10' carrier='ioctl'/>\n");
    ASSERT_EQ(bond.members.size(), 2u);
    EXPECT_EQ(bond.members[1].mac, "ab:bb:cc:dd:ee:fe");

    HostInterfaceDef vlan = parseInterfaceXML(corpusInput(kDir, "vlan-link"));
    EXPECT_EQ(vlan.vlanTag, "4095");
    EXPECT_EQ(vlan.vlanDevice, "bond0");
    EXPECT_EQ(vlan.link.speed, 100u);
    EXPECT_EQ(vlan.link.state, "lowerlayerdown");
}

TEST(InterfaceXml, InactiveOutputLeavesOutLinkStatus)
{
    HostInterfaceDef def = parseInterfaceXML(corpusInput(kDir, "bond-miimon"));
    std::string live = formatInterfaceXML(def);
    EXPECT_NE(live.find("<link speed='2000' state='up'/>"), std::string::npos);
    EXPECT_NE(live.find("<link speed='1000' state='up'/>"), std::string::npos);

    std::string inactive = formatInterfaceXML(def, interfaceFormatOptions(INTERFACE_XML_INACTIVE, "f"));
    EXPECT_EQ(inactive.find("<link"), std::string::npos) << inactive;
    EXPECT_NE(inactive.find("<miimon"), std::string::npos);

    EXPECT_FALSE(interfaceFormatOptions(0, "f").inactive);
    expectError([] { interfaceFormatOptions(2, "virInterfaceGetXMLDesc"); }, ErrCode::InvalidArg,
        "unsupported flags (0x2) in function virInterfaceGetXMLDesc");
}

TEST(InterfaceXml, PreservesUnknownContent)
{
    const std::string in = "<interface type='bridge' name='br5' vendor='x'>\n"
                           "  <start mode='onboot'/>\n"
                           "  <protocol family='ipv4' scope='global'>\n"
                           "    <ip address='10.0.0.1' prefix='8' label='a'/>\n"
                           "    <lease time='3600'/>\n"
                           "  </protocol>\n"
                           "  <bridge stp='on' hello='2'>\n"
                           "    <interface type='ethernet' name='eth0'>\n"
                           "      <ethtool gso='off'/>\n"
                           "    </interface>\n"
                           "    <fdb>static</fdb>\n"
                           "  </bridge>\n"
                           "  <x:tuning xmlns:x='urn:example:tuning' level='3'/>\n"
                           "</interface>\n";
    HostInterfaceDef def = parseInterfaceXML(in);
    EXPECT_EQ(def.extra.attrs.size(), 1u);
    EXPECT_EQ(def.bridgeExtra.children.size(), 1u);
    EXPECT_EQ(def.members.at(0).extra.children.size(), 1u);
    std::string out = formatInterfaceXML(def);
    EXPECT_EQ(out, in);
    EXPECT_TRUE(parseInterfaceXML(out) == def);
}

TEST(InterfaceXml, RepeatedElementsAreIgnoredLikeLibvirt)
{
    // A kept second <link> would take the place of an empty first one on
    // the next parse; libvirt reads only the first anyway.
    const std::string in = "<interface type='ethernet' name='eth0'><link/><mtu size='1500'/>"
                           "<link state='up'/><mtu size='9000'/></interface>";
    HostInterfaceDef def = parseInterfaceXML(in);
    EXPECT_TRUE(def.link.empty());
    EXPECT_EQ(def.mtu, 1500u);
    EXPECT_TRUE(def.extra.children.empty());
    std::string out = formatInterfaceXML(def);
    EXPECT_EQ(formatInterfaceXML(parseInterfaceXML(out)), out);
}

TEST(InterfaceXml, SchemaValidationFlag)
{
    if (!haveSchema("interface.rng"))
        GTEST_SKIP() << schemaPath("interface.rng") << " is absent (install libvirt0)";
    // The model keeps an unknown element; the schema does not allow it.
    const std::string odd = "<interface type='ethernet' name='eth0'><foo/></interface>";
    EXPECT_NO_THROW(parseInterfaceXML(odd));
    expectError([&] { parseInterfaceXML(odd, INTERFACE_PARSE_VALIDATE); }, ErrCode::XmlInvalidSchema, "interface.rng");
    EXPECT_NO_THROW(parseInterfaceXML(corpusInput(kDir, "bridge"), INTERFACE_PARSE_VALIDATE));
}

TEST(InterfaceXml, RejectsBadDocuments)
{
    struct Bad {
        const char* what;
        std::string xml;
        ErrCode code;
        std::string message;
    };
    auto eth
        = [](const std::string& body) { return "<interface type='ethernet' name='eth0'>" + body + "</interface>"; };
    const std::vector<Bad> bad = {
        {"malformed", "<interface type='ethernet' name='eth0'>\n<mac address='x'>", ErrCode::XmlError,
            "(interface_definition):2: Premature end of data"},
        {"wrong root", "<network/>", ErrCode::XmlError, "unexpected root element <network>, expecting <interface>"},
        {"missing type", "<interface name='eth0'/>", ErrCode::XmlError, "missing type attribute in <interface>"},
        {"bad type", "<interface type='tap' name='t0'/>", ErrCode::XmlError,
            "invalid value 'tap' for <interface type>"},
        {"missing name", "<interface type='ethernet'/>", ErrCode::XmlError, "interface has no name"},
        {"bad mac", eth("<mac address='00:11:22:33:44'/>"), ErrCode::XmlError,
            "invalid value '00:11:22:33:44' for <mac address>"},
        {"bad ipv4", eth("<protocol family='ipv4'><ip address='300.1.1.1' prefix='24'/></protocol>"), ErrCode::XmlError,
            "invalid value '300.1.1.1' for <ip address> (ipv4)"},
        {"ipv6 address in ipv4", eth("<protocol family='ipv4'><ip address='fe80::1'/></protocol>"), ErrCode::XmlError,
            "invalid value 'fe80::1' for <ip address> (ipv4)"},
        {"bad prefix", eth("<protocol family='ipv4'><ip address='10.0.0.1' prefix='33'/></protocol>"),
            ErrCode::XmlError, "invalid value '33' for <ip prefix> (ipv4)"},
        {"non-numeric prefix", eth("<protocol family='ipv6'><ip address='::1' prefix='x'/></protocol>"),
            ErrCode::XmlError, "invalid value 'x' for <ip prefix>"},
        {"bad gateway", eth("<protocol family='ipv6'><route gateway='10.0.0.1'/></protocol>"), ErrCode::XmlError,
            "invalid value '10.0.0.1' for <route gateway> (ipv6)"},
        {"bad family", eth("<protocol family='ipx'/>"), ErrCode::XmlError, "unsupported protocol family 'ipx'"},
        {"no family", eth("<protocol/>"), ErrCode::XmlError, "protocol misses the family attribute"},
        {"bad start mode", eth("<start mode='always'/>"), ErrCode::XmlError, "invalid value 'always' for <start mode>"},
        {"mtu too large", eth("<mtu size='100001'/>"), ErrCode::XmlError, "interface mtu value is improper"},
        {"bad link state", eth("<link state='sideways'/>"), ErrCode::XmlError,
            "invalid value 'sideways' for <link state>"},
        {"bad peerdns", eth("<protocol family='ipv4'><dhcp peerdns='maybe'/></protocol>"), ErrCode::XmlError,
            "invalid value 'maybe' for <dhcp peerdns>"},
        {"bridge without body", "<interface type='bridge' name='br0'/>", ErrCode::XmlError,
            "bridge interface misses the bridge element"},
        {"bad stp", "<interface type='bridge' name='br0'><bridge stp='yes'/></interface>", ErrCode::XmlError,
            "bridge interface stp should be on or off got yes"},
        {"bad delay", "<interface type='bridge' name='br0'><bridge delay='-1'/></interface>", ErrCode::XmlError,
            "invalid value '-1' for <bridge delay>"},
        {"bridge in bridge",
            "<interface type='bridge' name='br0'><bridge><interface type='bridge' name='br1'><bridge/>"
            "</interface></bridge></interface>",
            ErrCode::XmlError, "interface has unsupported type 'bridge' inside a bridge"},
        {"vlan in bond",
            "<interface type='bond' name='bond0'><bond><interface type='vlan' name='v'/></bond></interface>",
            ErrCode::XmlError, "interface has unsupported type 'vlan' inside a bond"},
        {"bad bond mode", "<interface type='bond' name='b'><bond mode='fast'/></interface>", ErrCode::XmlError,
            "invalid value 'fast' for <bond mode>"},
        {"miimon without freq", "<interface type='bond' name='b'><bond><miimon/></bond></interface>", ErrCode::XmlError,
            "bond interface miimon freq missing or invalid"},
        {"arpmon without target", "<interface type='bond' name='b'><bond><arpmon interval='1'/></bond></interface>",
            ErrCode::XmlError, "bond interface arpmon target missing"},
        {"vlan without tag", "<interface type='vlan' name='v'><vlan><interface name='eth0'/></vlan></interface>",
            ErrCode::XmlError, "vlan interface misses the tag attribute"},
        {"vlan tag too large",
            "<interface type='vlan' name='v'><vlan tag='4096'><interface name='eth0'/></vlan></interface>",
            ErrCode::XmlError, "invalid value '4096' for <vlan tag>"},
        {"vlan without device", "<interface type='vlan' name='v'><vlan tag='1'/></interface>", ErrCode::XmlError,
            "vlan interface misses name attribute"},
        {"billion laughs", billionLaughs("interface", "<interface type='ethernet' name='&e11;'/>"), ErrCode::XmlError,
            "DOCTYPE declarations are not allowed"},
        {"external entity",
            "<!DOCTYPE interface [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><interface type='ethernet' name='&x;'/>",
            ErrCode::XmlError, "DOCTYPE declarations are not allowed"},
    };
    EXPECT_GE(bad.size(), 8u);
    for (const auto& b : bad) {
        SCOPED_TRACE(b.what);
        expectError([&] { parseInterfaceXML(b.xml); }, b.code, b.message);
    }
}

TEST(InterfaceXml, BillionLaughsFailsFast)
{
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(parseInterfaceXML(billionLaughs("interface", "<interface type='ethernet' name='&e11;'/>")), VirtError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(InterfaceXml, RejectsHugeDocumentsAndUnknownFlags)
{
    std::string big = "<interface type='ethernet' name='" + std::string(kMaxDocumentSize, 'a') + "'/>";
    expectError([&] { parseInterfaceXML(big); }, ErrCode::XmlError, "document too large");
    expectError([] { parseInterfaceXML("<interface/>", 1u << 9); }, ErrCode::InvalidArg, "unsupported flags");
}
