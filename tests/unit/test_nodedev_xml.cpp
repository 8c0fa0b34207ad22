// Node device XML: golden round trips over data/nodedev, schema validity
// of everything we emit, vHBA creation requests, capability listing and
// rejection of bad documents.
#include "xml/nodedev_xml.h"

#include "xml_corpus.h"

#include <chrono>

using namespace virtbus;
using namespace virtbus::xml;
using namespace virtbus::xml::testing_support;

namespace {

const std::string kDir = "nodedev";

const std::string kVhba = "<device>\n"
                          "  <parent>scsi_host1</parent>\n"
                          "  <capability type='scsi_host'>\n"
                          "    <capability type='fc_host'>\n"
                          "      <wwnn>2001001b32a9da4e</wwnn>\n"
                          "      <wwpn>2101001b32a9da4e</wwpn>\n"
                          "    </capability>\n"
                          "  </capability>\n"
                          "</device>\n";

} // namespace

class NodeDeviceCorpus : public testing::TestWithParam<std::string> { };

TEST_P(NodeDeviceCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    NodeDeviceDef def = parseNodeDeviceXML(corpusInput(kDir, GetParam()));
    std::string out = formatNodeDeviceXML(def);
    EXPECT_EQ(out, corpusGolden(kDir, GetParam()));

    NodeDeviceDef again = parseNodeDeviceXML(out);
    EXPECT_TRUE(again == def) << "re-parsed structure differs";
    EXPECT_EQ(formatNodeDeviceXML(again), out);
}

TEST_P(NodeDeviceCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("nodedev.rng"))
        GTEST_SKIP() << schemaPath("nodedev.rng") << " is absent (install libvirt0)";
    NodeDeviceDef def = parseNodeDeviceXML(corpusInput(kDir, GetParam()));
    expectSchemaValid(formatNodeDeviceXML(def), "nodedev.rng");
    EXPECT_NO_THROW(parseNodeDeviceXML(formatNodeDeviceXML(def), NODEDEV_PARSE_VALIDATE));
}

INSTANTIATE_TEST_SUITE_P(Corpus, NodeDeviceCorpus, testing::ValuesIn(corpus(kDir)), paramName);

TEST(NodeDeviceXml, CorpusIsLargeEnough) { EXPECT_GE(corpus(kDir).size(), 15u); }

TEST(NodeDeviceXml, ParsesModeledFields)
{
    NodeDeviceDef pf = parseNodeDeviceXML(corpusInput(kDir, "pci-sriov-pf"));
    EXPECT_EQ(pf.name, "pci_0000_02_00_0");
    EXPECT_EQ(pf.parent, "pci_0000_00_04_0");
    EXPECT_EQ(pf.driver, "igb");
    ASSERT_EQ(pf.caps.size(), 1u);
    const auto& pci = std::get<NodeDevPciCap>(pf.caps[0].data);
    EXPECT_EQ(pci.pciClass, 0x020000u);
    EXPECT_EQ(pci.bus, 2u);
    EXPECT_EQ(pci.vendorId, 0x8086u);
    EXPECT_EQ(pci.productId, 0x10c9u);
    EXPECT_EQ(pci.productName, "82576 Gigabit Network Connection");
    ASSERT_EQ(pci.capabilities.size(), 1u);
    EXPECT_EQ(pci.capabilities[0].type, "virt_functions");
    EXPECT_EQ(pci.iommuGroup, 12u);
    ASSERT_EQ(pci.iommuGroupAddresses.size(), 2u);
    EXPECT_EQ(pci.iommuGroupAddresses[1], (PciAddressDef {0, 2, 0, 1}));
    EXPECT_EQ(pci.numaNode, 0);
    EXPECT_NE(pci.pciExpress.find("validity='sta'"), std::string::npos);

    NodeDeviceDef sys = parseNodeDeviceXML(corpusInput(kDir, "computer"));
    const auto& s = std::get<NodeDevSystemCap>(sys.caps[0].data);
    EXPECT_EQ(s.hardwareUUID, "4c4c4544-0044-4410-8030-b2c04f4e4c31");
    EXPECT_EQ(s.firmwareReleaseDate, "04/01/2014");

    NodeDeviceDef net = parseNodeDeviceXML(corpusInput(kDir, "net-ethernet"));
    const auto& n = std::get<NodeDevNetCap>(net.caps[0].data);
    EXPECT_EQ(n.interface, "eth0");
    EXPECT_EQ(n.address, "00:13:02:b9:f9:d3");
    EXPECT_EQ(n.link.speed, 1000u);
    EXPECT_EQ(n.link.state, "up");
    EXPECT_EQ(n.features.size(), 9u);
    EXPECT_EQ(n.subtype, "80203");

    NodeDeviceDef disk = parseNodeDeviceXML(corpusInput(kDir, "storage-removable"));
    const auto& st = std::get<NodeDevStorageCap>(disk.caps[0].data);
    EXPECT_TRUE(st.removable);
    EXPECT_TRUE(st.mediaAvailable);
    EXPECT_EQ(st.mediaSize, 3654957056u);
    EXPECT_EQ(st.logicalBlockSize, 2048u);
    EXPECT_TRUE(st.hotpluggable);

    NodeDeviceDef fixed = parseNodeDeviceXML(corpusInput(kDir, "storage-fixed"));
    EXPECT_EQ(fixed.devnode, "/dev/sda");
    EXPECT_EQ(fixed.devlinks.size(), 2u);
    EXPECT_EQ(std::get<NodeDevStorageCap>(fixed.caps[0].data).size, 500107862016u);

    NodeDeviceDef mdev = parseNodeDeviceXML(corpusInput(kDir, "mdev"));
    const auto& m = std::get<NodeDevMdevCap>(mdev.caps[0].data);
    EXPECT_EQ(m.typeId, "i915-GVTg_V5_8");
    EXPECT_EQ(m.iommuGroup, 12u);
    ASSERT_EQ(m.attrs.size(), 2u);
    EXPECT_EQ(m.attrs[1], (std::pair<std::string, std::string> {"assign_domain", "0xab"}));

    NodeDeviceDef drm = parseNodeDeviceXML(corpusInput(kDir, "drm"));
    EXPECT_EQ(std::get<NodeDevDrmCap>(drm.caps[0].data).type, "render");

    NodeDeviceDef sg = parseNodeDeviceXML(corpusInput(kDir, "scsi-generic"));
    EXPECT_TRUE(std::holds_alternative<NodeDevRawCap>(sg.caps[0].data));
    EXPECT_EQ(sg.caps[0].extra.children, (std::vector<std::string> {"<char>/dev/sg0</char>\n"}));

    NodeDeviceDef vhba = parseNodeDeviceXML(corpusInput(kDir, "vhba"));
    EXPECT_EQ(vhba.parent, "");
    EXPECT_EQ(vhba.parentWWNN, "20000000c9848140");
    EXPECT_EQ(vhba.parentWWPN, "10000000c9848140");
}

TEST(NodeDeviceXml, CapabilityNamesIncludeNestedOnes)
{
    auto names = [](const char* file) { return nodeDeviceCapNames(parseNodeDeviceXML(corpusInput(kDir, file))); };
    using V = std::vector<std::string>;
    EXPECT_EQ(names("scsi-host-fc"), (V {"scsi_host", "fc_host", "vports"}));
    EXPECT_EQ(names("scsi-host"), (V {"scsi_host"}));
    EXPECT_EQ(names("pci-mdev-types"), (V {"pci", "mdev_types"}));
    EXPECT_EQ(names("pci-sriov-pf"), (V {"pci"}));
    EXPECT_EQ(names("css-mdev-types"), (V {"css", "mdev_types"}));
    EXPECT_EQ(names("storage-fixed"), (V {"storage"}));
}

TEST(NodeDeviceXml, VhbaCreationRequest)
{
    NodeDeviceDef def = parseNodeDeviceXML(kVhba, NODEDEV_PARSE_CREATE);
    EXPECT_EQ(def.name, "");
    EXPECT_EQ(def.parent, "scsi_host1");
    const auto& host = std::get<NodeDevScsiHostCap>(def.caps.at(0).data);
    EXPECT_FALSE(host.host.has_value());
    EXPECT_EQ(nodeDeviceWWNs(def), (std::pair<std::string, std::string> {"2001001b32a9da4e", "2101001b32a9da4e"}));
    EXPECT_EQ(formatNodeDeviceXML(def), kVhba);

    // Outside a creation request a name and a host number are required.
    expectError([] { parseNodeDeviceXML(kVhba); }, ErrCode::XmlError, "missing <name> in <device>");
    std::string named = kVhba;
    named.insert(named.find("  <parent>"), "  <name>scsi_host9</name>\n");
    expectError([&] { parseNodeDeviceXML(named); }, ErrCode::XmlError, "no SCSI host ID supplied for 'scsi_host9'");
    EXPECT_EQ(parseNodeDeviceXML(named, NODEDEV_PARSE_CREATE).name, "scsi_host9");

    // The names of the new port are required unless the caller lets them be
    // generated like libvirt does.
    std::string noWwnn = kVhba;
    noWwnn.erase(noWwnn.find("      <wwnn>"), std::string("      <wwnn>2001001b32a9da4e</wwnn>\n").size());
    expectError([&] { parseNodeDeviceXML(noWwnn, NODEDEV_PARSE_CREATE); }, ErrCode::XmlError,
        "no WWNN supplied for 'new device'");
    NodeDeviceDef gen = parseNodeDeviceXML(noWwnn, NODEDEV_PARSE_CREATE, "100000");
    auto [wwnn, wwpn] = nodeDeviceWWNs(gen);
    EXPECT_EQ(wwnn.size(), 16u);
    EXPECT_TRUE(wwnn.starts_with("5100000")) << wwnn;
    EXPECT_EQ(wwpn, "2101001b32a9da4e");
    expectError([&] { parseNodeDeviceXML(noWwnn, NODEDEV_PARSE_CREATE, "10000"); }, ErrCode::InvalidArg,
        "WWN OUI must be 6 hex digits");

    std::string noFc = "<device><capability type='scsi_host'/></device>";
    NodeDeviceDef plain = parseNodeDeviceXML(noFc, NODEDEV_PARSE_CREATE);
    expectError([&] { nodeDeviceWWNs(plain); }, ErrCode::InternalError, "Device is not a fibre channel HBA");
    expectError([] { parseNodeDeviceXML("<device/>", NODEDEV_PARSE_CREATE); }, ErrCode::XmlError,
        "no device capabilities for 'new device'");
}

TEST(NodeDeviceXml, PreservesUnknownContent)
{
    const std::string in = "<device origin='udev'>\n"
                           "  <name>usb_3_1</name>\n"
                           "  <parent>usb_usb3</parent>\n"
                           "  <capability type='usb_device' speed='5000'>\n"
                           "    <bus>3</bus>\n"
                           "    <device>2</device>\n"
                           "    <product id='0x5583'/>\n"
                           "    <vendor id='0x0bda'>Realtek</vendor>\n"
                           "    <port>1</port>\n"
                           "  </capability>\n"
                           "  <capability type='ccw'>\n"
                           "    <cssid>0xfe</cssid>\n"
                           "    <ssid>0x0</ssid>\n"
                           "    <devno>0x0001</devno>\n"
                           "  </capability>\n"
                           "  <x:labels xmlns:x='urn:example:labels'>lab</x:labels>\n"
                           "</device>\n";
    NodeDeviceDef def = parseNodeDeviceXML(in);
    ASSERT_EQ(def.caps.size(), 2u);
    EXPECT_EQ(def.caps[0].extra.attrs.size(), 1u);
    EXPECT_EQ(def.caps[0].extra.children.size(), 1u);
    EXPECT_EQ(def.caps[1].extra.children.size(), 3u);
    EXPECT_EQ(def.extra.children.size(), 1u);
    std::string out = formatNodeDeviceXML(def);
    EXPECT_EQ(out, in);
    EXPECT_TRUE(parseNodeDeviceXML(out) == def);
}

TEST(NodeDeviceXml, SchemaValidationFlag)
{
    if (!haveSchema("nodedev.rng"))
        GTEST_SKIP() << schemaPath("nodedev.rng") << " is absent (install libvirt0)";
    // libvirt's schema wants a <name> even in a creation request.
    expectError([] { parseNodeDeviceXML(kVhba, NODEDEV_PARSE_CREATE | NODEDEV_PARSE_VALIDATE); },
        ErrCode::XmlInvalidSchema, "nodedev.rng");
    EXPECT_NO_THROW(parseNodeDeviceXML(corpusInput(kDir, "vhba"), NODEDEV_PARSE_VALIDATE));
}

TEST(NodeDeviceXml, RejectsBadDocuments)
{
    struct Bad {
        const char* what;
        std::string xml;
        ErrCode code;
        std::string message;
    };
    auto dev = [](const std::string& cap) { return "<device><name>d</name>" + cap + "</device>"; };
    const std::string pciHead = "<capability type='pci'><domain>0</domain><bus>0</bus><slot>1</slot>"
                                "<function>0</function>";
    const std::vector<Bad> bad = {
        {"malformed", "<device>\n<name>x</name", ErrCode::XmlError, "(node_device_definition):2:"},
        {"wrong root", "<nodedev/>", ErrCode::XmlError, "unexpected root element <nodedev>, expecting <device>"},
        {"missing name", "<device><capability type='drm'><type>render</type></capability></device>", ErrCode::XmlError,
            "missing <name> in <device>"},
        {"no capabilities", "<device><name>d</name></device>", ErrCode::XmlError, "no device capabilities for 'd'"},
        {"unknown capability type (no 'block' in libvirt)", dev("<capability type='block'/>"), ErrCode::XmlError,
            "invalid value 'block' for <capability type>"},
        {"nested-only type at top", dev("<capability type='fc_host'/>"), ErrCode::XmlError,
            "invalid value 'fc_host' for <capability type>"},
        {"capability without type", dev("<capability/>"), ErrCode::XmlError, "missing type attribute in <capability>"},
        {"bad system uuid",
            dev("<capability type='system'><hardware><uuid>1234</uuid></hardware><firmware/></capability>"),
            ErrCode::XmlError, "malformed uuid element '1234' for 'd'"},
        {"system without uuid", dev("<capability type='system'><hardware/><firmware/></capability>"), ErrCode::XmlError,
            "no system UUID supplied for 'd'"},
        {"pci without domain", dev("<capability type='pci'><bus>0</bus></capability>"), ErrCode::XmlError,
            "no PCI domain ID supplied for 'd'"},
        {"pci bad vendor id", dev(pciHead + "<product id='0x1'/><vendor id='intel'/></capability>"), ErrCode::XmlError,
            "invalid value 'intel' for <vendor id>"},
        {"pci without product", dev(pciHead + "<vendor id='0x8086'/></capability>"), ErrCode::XmlError,
            "no PCI product ID supplied for 'd'"},
        {"pci bad iommu address",
            dev(pciHead
                + "<product id='1'/><vendor id='2'/><iommuGroup number='1'>"
                  "<address domain='0' bus='0' slot='0x20' function='0'/></iommuGroup></capability>"),
            ErrCode::XmlError, "invalid PCI address"},
        {"bad net mac", dev("<capability type='net'><interface>e</interface><address>zz</address></capability>"),
            ErrCode::XmlError, "invalid value 'zz' for <address> (MAC)"},
        {"net without interface", dev("<capability type='net'/>"), ErrCode::XmlError,
            "no network interface supplied for 'd'"},
        {"unknown net feature",
            dev("<capability type='net'><interface>e</interface><feature name='warp'/></capability>"),
            ErrCode::XmlError, "unknown network device feature 'warp'"},
        {"bad net subtype",
            dev("<capability type='net'><interface>e</interface><capability type='80212'/></capability>"),
            ErrCode::ConfigUnsupported, "invalid network type supplied for 'd'"},
        {"bad wwnn",
            dev("<capability type='scsi_host'><host>1</host><capability type='fc_host'><wwnn>12</wwnn>"
                "<wwpn>2101001b32a9da4e</wwpn></capability></capability>"),
            ErrCode::XmlError, "invalid value '12' for <wwnn>"},
        {"unknown scsi_host sub-capability",
            dev("<capability type='scsi_host'><host>1</host><capability type='iscsi'/></capability>"),
            ErrCode::XmlError, "unknown SCSI host capability type 'iscsi' for 'd'"},
        {"parent wwnn alone",
            "<device><name>d</name><parent wwnn='2001001b32a9da4e'/>"
            "<capability type='drm'><type>render</type></capability></device>",
            ErrCode::XmlError, "when providing parent wwnn='2001001b32a9da4e', the wwpn must also be provided"},
        {"storage without block", dev("<capability type='storage'><size>1</size></capability>"), ErrCode::XmlError,
            "no block device path supplied for 'd'"},
        {"storage without size", dev("<capability type='storage'><block>/dev/sda</block></capability>"),
            ErrCode::XmlError, "no size supplied for 'd'"},
        {"bad drm type", dev("<capability type='drm'><type>overlay</type></capability>"), ErrCode::ConfigUnsupported,
            "unknown drm type 'overlay' for 'd'"},
        {"bad mdev uuid", dev("<capability type='mdev'><type id='t'/><uuid>nope</uuid></capability>"),
            ErrCode::XmlError, "Invalid uuid 'nope' for new mdev device"},
        {"scsi negative lun",
            dev("<capability type='scsi'><host>0</host><bus>0</bus><target>0</target><lun>-1</lun></capability>"),
            ErrCode::XmlError, "invalid value '-1' for <lun>"},
        {"bad devnode type",
            "<device><name>d</name><devnode type='sym'>/dev/x</devnode>"
            "<capability type='drm'><type>render</type></capability></device>",
            ErrCode::XmlError, "invalid value 'sym' for <devnode type>"},
        {"billion laughs", billionLaughs("device", "<device><name>&e11;</name></device>"), ErrCode::XmlError,
            "DOCTYPE declarations are not allowed"},
    };
    EXPECT_GE(bad.size(), 8u);
    for (const auto& b : bad) {
        SCOPED_TRACE(b.what);
        expectError([&] { parseNodeDeviceXML(b.xml); }, b.code, b.message);
    }
}

TEST(NodeDeviceXml, BillionLaughsFailsFast)
{
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(parseNodeDeviceXML(billionLaughs("device", "<device><name>&e11;</name></device>")), VirtError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(NodeDeviceXml, RejectsHugeDocumentsAndUnknownFlags)
{
    std::string big = "<device><name>" + std::string(kMaxDocumentSize, 'a') + "</name></device>";
    expectError([&] { parseNodeDeviceXML(big); }, ErrCode::XmlError, "document too large");
    expectError([] { parseNodeDeviceXML("<device/>", 1u << 5); }, ErrCode::InvalidArg, "unsupported flags");
}
