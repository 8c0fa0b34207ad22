// Domain XML: golden round trips over the corpus in data/domain, schema
// validity of everything we emit, rejection of bad documents, and the
// helpers drivers use (identifiers, units, device lists).
#include "xml/domain_xml.h"
#include "xml/xml_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace virtbus;
using namespace virtbus::xml;
namespace fs = std::filesystem;

namespace {

const fs::path kData = XML_TEST_DATA_DIR;

std::string readFile(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> corpus(const std::string& dir)
{
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(kData / dir)) {
        std::string n = e.path().filename().string();
        if (n.ends_with(".xml") && !n.ends_with(".out.xml"))
            names.push_back(n.substr(0, n.size() - 4));
    }
    std::sort(names.begin(), names.end());
    return names;
}

const FormatOptions kSecure{.secure = true};

// Runs `fn`, expecting a VirtError with `code` whose message contains `part`.
template <typename F>
void expectError(F fn, ErrCode code, const std::string& part)
{
    try {
        fn();
        ADD_FAILURE() << "no error; expected one containing: " << part;
    } catch (const VirtError& e) {
        EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
            << "message: " << e.what() << "\nexpected to contain: " << part;
    }
}

bool haveSchema(const char* file)
{
    return fs::exists(schemaPath(file));
}

void expectSchemaValid(const std::string& text, const char* schema)
{
    XmlDoc doc = parseDocument(text, "(formatted)");
    EXPECT_NO_THROW(validateSchema(doc, schema)) << text;
}

} // namespace

class DomainCorpus : public testing::TestWithParam<std::string> {};

TEST_P(DomainCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    const fs::path in = kData / "domain" / (GetParam() + ".xml");
    const fs::path golden = kData / "domain" / (GetParam() + ".out.xml");
    DomainDef def = parseDomainXML(readFile(in));
    std::string out = formatDomainXML(def, kSecure);
    EXPECT_EQ(out, readFile(fs::exists(golden) ? golden : in));

    DomainDef again = parseDomainXML(out);
    EXPECT_TRUE(again == def) << "re-parsed structure differs";
    EXPECT_EQ(formatDomainXML(again, kSecure), out);
}

TEST_P(DomainCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("domain.rng"))
        GTEST_SKIP() << schemaPath("domain.rng") << " is absent (install libvirt0)";
    DomainDef def = parseDomainXML(readFile(kData / "domain" / (GetParam() + ".xml")));
    expectSchemaValid(formatDomainXML(def, kSecure), "domain.rng");
    expectSchemaValid(formatDomainXML(def, {.id = 3}), "domain.rng");
    expectSchemaValid(formatDomainXML(def, {.inactive = true}), "domain.rng");
}

INSTANTIATE_TEST_SUITE_P(Corpus, DomainCorpus, testing::ValuesIn(corpus("domain")),
                         [](const auto& info) {
                             std::string n = info.param;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

TEST(DomainXml, CorpusIsLargeEnough)
{
    EXPECT_GE(corpus("domain").size(), 30u);
}

TEST(DomainXml, ParsesModeledFields)
{
    DomainDef d = parseDomainXML(readFile(kData / "domain" / "vcpu-placement.xml"));
    EXPECT_EQ(d.type, "kvm");
    EXPECT_EQ(d.vcpu.max, 4u);
    EXPECT_EQ(d.vcpu.current, 2u);
    EXPECT_EQ(d.vcpu.cpuset, "0-3,^2");
    EXPECT_EQ(d.iothreads, 2u);
    EXPECT_EQ(d.cputune.shares, 2048u);
    EXPECT_EQ(d.cputune.quota, -1);
    ASSERT_EQ(d.cputune.vcpupins.size(), 2u);
    EXPECT_EQ(d.cputune.vcpupins[1].cpuset, "1");
    EXPECT_EQ(d.cputune.emulatorpin, "3");
    ASSERT_EQ(d.cputune.extra.children.size(), 1u); // <iothreadpin>

    DomainDef k = parseDomainXML(readFile(kData / "domain" / "direct-kernel.xml"));
    EXPECT_EQ(k.memory, 262144u);
    EXPECT_EQ(k.currentMemory, 262144u);
    EXPECT_EQ(k.os.kernel, "/var/lib/virtbus/boot/vmlinux");
    EXPECT_EQ(k.os.cmdline, "console=ttyS0 panic=-1 quiet init=/init");
    ASSERT_EQ(k.devices.consoles.size(), 1u);
    EXPECT_EQ(k.devices.consoles[0].targetType, "serial");

    DomainDef b = parseDomainXML(readFile(kData / "domain" / "boot-order.xml"));
    EXPECT_EQ(b.os.bootDevs, (std::vector<std::string>{"cdrom", "hd", "network"}));
    EXPECT_EQ(b.os.bootmenu, true);
    EXPECT_EQ(b.os.bootmenuTimeout, 3000u);
    EXPECT_EQ(b.os.machine, "pc-i440fx-7.2");

    DomainDef f = parseDomainXML(readFile(kData / "domain" / "features.xml"));
    EXPECT_TRUE(f.hasFeature("pae"));
    EXPECT_TRUE(f.hasFeature("hyperv"));
    EXPECT_FALSE(f.hasFeature("hpet"));
    EXPECT_EQ(f.features[0].raw, "");
    EXPECT_NE(f.features[4].raw.find("retries='8191'"), std::string::npos);
}

TEST(DomainXml, ParsesDevices)
{
    DomainDef d = parseDomainXML(readFile(kData / "domain" / "disk-network.xml"));
    ASSERT_EQ(d.devices.disks.size(), 3u);
    EXPECT_EQ(d.devices.disks[0].protocol, "rbd");
    ASSERT_EQ(d.devices.disks[0].hosts.size(), 2u);
    EXPECT_EQ(d.devices.disks[0].hosts[1].name, "mon2.example.org");
    EXPECT_EQ(d.devices.disks[1].hosts[0].socket, "/var/run/nbd.sock");
    EXPECT_EQ(d.devices.disks[0].sourceExtra.children.size(), 1u); // <auth>

    DomainDef n = parseDomainXML(readFile(kData / "domain" / "interfaces.xml"));
    ASSERT_EQ(n.devices.interfaces.size(), 4u);
    EXPECT_EQ(n.devices.interfaces[0].mac, "52:54:00:11:22:33");
    EXPECT_EQ(n.devices.interfaces[0].info.bootOrder, 1u);
    EXPECT_EQ(n.devices.interfaces[1].sourceBridge, "br0");
    EXPECT_EQ(n.devices.interfaces[1].linkState, "down");
    EXPECT_EQ(n.devices.interfaces[3].mac, "");
    assignMissingMACs(n);
    EXPECT_TRUE(n.devices.interfaces[3].mac.starts_with("52:54:00:"));
    EXPECT_EQ(n.devices.interfaces[0].mac, "52:54:00:11:22:33");

    DomainDef h = parseDomainXML(readFile(kData / "domain" / "hostdev.xml"));
    EXPECT_EQ(h.devices.hostdevs[0].pciBus, "0x06");
    EXPECT_EQ(h.devices.hostdevs[0].managed, true);
    EXPECT_EQ(h.devices.hostdevs[1].usbProduct, "0xbeef");
    EXPECT_EQ(h.devices.hostdevs[2].usbDevice, "5");

    DomainDef c = parseDomainXML(readFile(kData / "domain" / "controllers.xml"));
    EXPECT_EQ(c.devices.controllers[5].index, 0u); // first <controller type='ide'/>
    EXPECT_EQ(c.devices.controllers[6].index, 1u);

    DomainDef u = parseDomainXML(readFile(kData / "domain" / "unknown-elements.xml"));
    EXPECT_EQ(u.devices.others.size(), 6u);
    EXPECT_EQ(u.devices.others[0].name, "smartcard");
    EXPECT_EQ(u.seclabels.size(), 2u);
    EXPECT_NE(u.resource.find("/machine"), std::string::npos);
}

TEST(DomainXml, MetadataIsKeyedByNamespace)
{
    DomainDef d = parseDomainXML(readFile(kData / "domain" / "metadata.xml"));
    ASSERT_EQ(d.metadata.size(), 2u);
    EXPECT_EQ(d.metadata.at("http://app1.example.org/app1/"),
              "<app1:foo xmlns:app1='http://app1.example.org/app1/'>fooish</app1:foo>\n");
    EXPECT_NE(d.metadata.at("http://app2.example.org/app2/").find("mixed <app2:em>content</app2:em> here"),
              std::string::npos);
    EXPECT_EQ(d.title, "A \"titled\" domain & friends");
    EXPECT_NE(d.description.find("\n  Second line"), std::string::npos);

    d.metadata["urn:virtbus:test"] = "<t:x xmlns:t='urn:virtbus:test' a='1'/>";
    DomainDef again = parseDomainXML(formatDomainXML(d));
    EXPECT_EQ(again.metadata.size(), 3u);
}

TEST(DomainXml, DefaultsAreFilledIn)
{
    DomainDef d = parseDomainXML("<domain type='test'><name>n</name><memory unit='MiB'>1</memory>"
                                 "<os><type>hvm</type></os></domain>");
    EXPECT_TRUE(isValidUUID(d.uuid));
    EXPECT_EQ(d.uuid.size(), 36u);
    EXPECT_EQ(d.uuid[14], '4');
    EXPECT_EQ(d.currentMemory, 1024u);
    EXPECT_EQ(d.vcpu.max, 1u);
    EXPECT_EQ(d.vcpu.placement, "static");
    EXPECT_EQ(d.onReboot, "restart");
    EXPECT_EQ(d.clock.offset, "utc");
    DomainDef e = parseDomainXML("<domain type='test'><name>n</name><memory>1</memory>"
                                 "<os><type>hvm</type></os></domain>");
    EXPECT_NE(d.uuid, e.uuid);
}

TEST(DomainXml, FormatOptions)
{
    DomainDef d = parseDomainXML(readFile(kData / "domain" / "running-live.xml"));
    std::string live = formatDomainXML(d, {.id = 7});
    EXPECT_TRUE(live.starts_with("<domain type='kvm' id='7'>\n"));
    EXPECT_NE(live.find("<alias name='virtio-disk0'/>"), std::string::npos);
    EXPECT_NE(live.find("port='5900'"), std::string::npos);

    std::string inactive = formatDomainXML(d, {.id = 7, .inactive = true});
    EXPECT_TRUE(inactive.starts_with("<domain type='kvm'>\n"));
    EXPECT_EQ(inactive.find("virtio-disk0"), std::string::npos);
    EXPECT_NE(inactive.find("<alias name='ua-net0'/>"), std::string::npos);
    EXPECT_NE(inactive.find("port='-1' autoport='yes'"), std::string::npos);

    DomainDef p = parseDomainXML(readFile(kData / "domain" / "running-live.xml"), PARSE_INACTIVE);
    EXPECT_EQ(p.devices.disks[0].info.alias, "");
    EXPECT_EQ(p.devices.interfaces[0].info.alias, "ua-net0");
    EXPECT_FALSE(p.devices.graphics[0].port.has_value());

    DomainDef g = parseDomainXML(readFile(kData / "domain" / "input-graphics.xml"));
    EXPECT_EQ(g.devices.graphics[0].passwd, "s3cr&t");
    EXPECT_EQ(formatDomainXML(g).find("passwd"), std::string::npos);
    EXPECT_NE(formatDomainXML(g, kSecure).find("passwd='s3cr&amp;t'"), std::string::npos);
}

TEST(DomainXml, SchemaValidationFlag)
{
    if (!haveSchema("domain.rng"))
        GTEST_SKIP() << schemaPath("domain.rng") << " is absent (install libvirt0)";
    EXPECT_NO_THROW(parseDomainXML(readFile(kData / "domain" / "chardevs.xml"), PARSE_VALIDATE));
    std::string bad = "<domain type='test'><name>n</name><memory>1024</memory><os><type>hvm</type>"
                      "</os><devices><bogus/></devices></domain>";
    EXPECT_NO_THROW(parseDomainXML(bad)); // kept as an unknown device
    expectError([&] { parseDomainXML(bad, PARSE_VALIDATE); }, ErrCode::XmlInvalidSchema, "domain.rng");
}

struct BadDoc {
    const char* label;
    std::string xml;
    ErrCode code;
    const char* message;
};

std::string wrap(const std::string& inner)
{
    return "<domain type='test'>" + inner + "</domain>";
}

const std::string kOs = "<os><type>hvm</type></os>";
const std::string kBase = "<name>bad</name><memory>1024</memory>" + kOs;

TEST(DomainXml, RejectsBadDocuments)
{
    const std::vector<BadDoc> bad = {
        {"unclosed", "<domain type='test'>\n<name>x</name>", ErrCode::XmlError,
         "(domain_definition):2: Premature end of data in tag domain"},
        {"mismatch", "<domain type='test'>\n<name>x</nam></domain>", ErrCode::XmlError,
         ":2: Opening and ending tag mismatch"},
        {"billion laughs",
         "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
         "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
         "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
         "<domain type='test'><name>&lol3;</name></domain>",
         ErrCode::XmlError, "DOCTYPE declarations are not allowed"},
        {"external entity",
         "<!DOCTYPE domain [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
         "<domain type='test'><name>&xxe;</name></domain>",
         ErrCode::XmlError, "DOCTYPE declarations are not allowed"},
        {"external dtd", "<!DOCTYPE domain SYSTEM 'http://example.invalid/x.dtd'><domain/>",
         ErrCode::XmlError, "DOCTYPE"},
        {"undefined entity", wrap("<name>&foo;</name>"), ErrCode::XmlError, "Entity 'foo' not defined"},
        {"empty", "", ErrCode::XmlError, "empty document"},
        {"blank", " \n ", ErrCode::XmlError, "empty document"},
        {"wrong root", "<network><name>x</name></network>", ErrCode::XmlError,
         "unexpected root element <network>, expecting <domain>"},
        {"missing type", "<domain>" + kBase + "</domain>", ErrCode::XmlError,
         "missing domain type attribute"},
        {"bad type", "<domain type='bogus'>" + kBase + "</domain>", ErrCode::XmlError,
         "invalid value 'bogus' for <domain type>"},
        {"missing name", wrap("<memory>1024</memory>" + kOs), ErrCode::XmlError,
         "missing <name> in <domain>"},
        {"name with slash", wrap("<name>a/b</name><memory>1024</memory>" + kOs), ErrCode::XmlError,
         "name a/b cannot contain '/'"},
        {"name dotdot", wrap("<name>..</name><memory>1024</memory>" + kOs), ErrCode::XmlError,
         "name '..' is not allowed"},
        {"bad uuid", wrap(kBase + "<uuid>not-a-uuid</uuid>"), ErrCode::XmlError,
         "invalid value 'not-a-uuid' for <uuid>"},
        {"missing memory", wrap("<name>x</name>" + kOs), ErrCode::XmlError, "missing <memory>"},
        {"bad memory unit", wrap("<name>x</name><memory unit='XB'>1</memory>" + kOs),
         ErrCode::XmlError, "invalid value 'XB' for <memory> unit"},
        {"negative memory", wrap("<name>x</name><memory>-1</memory>" + kOs), ErrCode::XmlError,
         "invalid value '-1' for <memory>"},
        {"garbage memory", wrap("<name>x</name><memory>12abc</memory>" + kOs), ErrCode::XmlError,
         "invalid value '12abc' for <memory>"},
        {"overflowing memory",
         wrap("<name>x</name><memory unit='EiB'>9000</memory>" + kOs), ErrCode::Overflow,
         "too large"},
        {"memory beyond u64", wrap("<name>x</name><memory>99999999999999999999999</memory>" + kOs),
         ErrCode::Overflow, "too large"},
        {"zero memory", wrap("<name>x</name><memory>0</memory>" + kOs), ErrCode::XmlError,
         "invalid value '0' for <memory>"},
        {"missing os type", wrap("<name>x</name><memory>1</memory>"), ErrCode::XmlError,
         "missing <os><type>"},
        {"bad os type", wrap("<name>x</name><memory>1</memory><os><type>dos</type></os>"),
         ErrCode::XmlError, "invalid value 'dos' for <os><type>"},
        {"vcpu current > max", wrap(kBase + "<vcpu current='4'>2</vcpu>"), ErrCode::XmlError,
         "<vcpu current> (4) exceeds the maximum (2)"},
        {"bad boot dev", wrap("<name>x</name><memory>1</memory><os><type>hvm</type>"
                              "<boot dev='usb'/></os>"),
         ErrCode::XmlError, "invalid value 'usb' for <boot dev>"},
        {"duplicate disk targets",
         wrap(kBase + "<devices><disk><target dev='vda'/></disk><disk type='block'>"
                      "<target dev='vda'/></disk></devices>"),
         ErrCode::XmlError, "target 'vda' duplicated"},
        {"disk without target", wrap(kBase + "<devices><disk><source file='/x'/></disk></devices>"),
         ErrCode::XmlError, "missing <target dev=...> in <disk>"},
        {"bad mac", wrap(kBase + "<devices><interface type='user'><mac address='52:54:00:zz:00:01'/>"
                                 "</interface></devices>"),
         ErrCode::XmlError, "invalid value '52:54:00:zz:00:01' for <mac address>"},
        {"multicast mac", wrap(kBase + "<devices><interface type='user'><mac address='01:00:5e:00:00:01'/>"
                                       "</interface></devices>"),
         ErrCode::XmlError, "expected unicast mac address"},
        {"metadata without namespace", wrap(kBase + "<metadata><foo/></metadata>"), ErrCode::XmlError,
         "element <foo> in <metadata> has no namespace"},
        {"bad on_crash", wrap(kBase + "<on_crash>explode</on_crash>"), ErrCode::XmlError,
         "invalid value 'explode' for <on_crash>"},
        {"namespaced attribute",
         wrap(kBase + "<devices><disk xmlns:x='urn:x' x:y='1'><target dev='vda'/></disk></devices>"),
         ErrCode::XmlError, "unsupported attribute 'x:y' in <disk>"},
        {"tpm without backend", wrap(kBase + "<devices><tpm model='tpm-tis'/></devices>"),
         ErrCode::XmlError, "missing <backend> in <tpm>"},
        {"two memballoons",
         wrap(kBase + "<devices><memballoon model='virtio'/><memballoon model='none'/></devices>"),
         ErrCode::XmlError, "only one <memballoon>"},
    };
    for (const auto& b : bad) {
        SCOPED_TRACE(b.label);
        expectError([&] { parseDomainXML(b.xml); }, b.code, b.message);
    }
    EXPECT_GE(bad.size(), 15u);
}

TEST(DomainXml, RejectsHugeDocumentsBeforeParsing)
{
    std::string big = "<domain type='test'><description>" + std::string(kMaxDocumentSize, 'a') +
                      "</description></domain>";
    expectError([&] { parseDomainXML(big); }, ErrCode::XmlError, "document too large");
}

TEST(DomainXml, BillionLaughsFailsFast)
{
    std::string lol = "<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'>";
    for (int i = 1; i < 12; ++i) {
        std::string prev = "&e" + std::to_string(i - 1) + ";";
        lol += "<!ENTITY e" + std::to_string(i) + " '" + (i == 1 ? std::string("&a;") : prev) +
               std::string(9, ' ') + "'>";
    }
    lol += "]><domain type='test'><name>&e11;</name></domain>";
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(parseDomainXML(lol), VirtError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(DomainXml, ParserNeverPrints)
{
    testing::internal::CaptureStderr();
    EXPECT_THROW(parseDomainXML("<domain><name>x</nam></domain>"), VirtError);
    EXPECT_THROW(parseDomainXML("<domain type='test' a='1' a='2'/>"), VirtError);
    EXPECT_THROW(parseDomainXML("<d:domain xmlns:e='x'><f:x/></d:domain>"), VirtError);
    // Encoding failures come through libxml2's context-free error path.
    expectError([] { parseDomainXML("<?xml version='1.0' encoding='EUC-JP'?><domain>\xff\xfe\x80</domain>"); },
                ErrCode::XmlError, "input conversion failed");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(DomainXml, RejectsUnknownFlags)
{
    expectError([] { parseDomainXML("<domain/>", 1u << 20); }, ErrCode::InvalidArg, "unsupported flags");
}

TEST(Identifiers, Uuid)
{
    EXPECT_TRUE(isValidUUID("c7a5fdbd-edaf-9455-926a-d65c16db1809"));
    EXPECT_TRUE(isValidUUID("C7A5FDBDEDAF9455926AD65C16DB1809"));
    EXPECT_FALSE(isValidUUID("c7a5fdbd-edaf-9455-926a-d65c16db180"));
    EXPECT_FALSE(isValidUUID("c7a5fdbd-edaf-9455-926a-d65c16db180g"));
    EXPECT_FALSE(isValidUUID("c7a5fdbdedaf-9455-926a-d65c16db1809-"));
    EXPECT_FALSE(isValidUUID(""));
    EXPECT_EQ(normalizeUUID("C7A5FDBDEDAF9455926AD65C16DB1809"), "c7a5fdbd-edaf-9455-926a-d65c16db1809");
    expectError([] { normalizeUUID("nope"); }, ErrCode::InvalidArg, "malformed UUID 'nope'");
    std::string u = generateUUID();
    EXPECT_EQ(normalizeUUID(u), u);
    EXPECT_EQ(u[14], '4');
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
    EXPECT_NE(generateUUID(), u);
}

TEST(Identifiers, Mac)
{
    EXPECT_TRUE(isValidMAC("52:54:00:AB:cd:01"));
    EXPECT_FALSE(isValidMAC("52:54:00:ab:cd"));
    EXPECT_FALSE(isValidMAC("52-54-00-ab-cd-01"));
    EXPECT_EQ(normalizeMAC("52:54:00:AB:CD:01"), "52:54:00:ab:cd:01");
    expectError([] { normalizeMAC("xx"); }, ErrCode::InvalidMac, "xx");
    std::string m = generateMAC();
    EXPECT_TRUE(m.starts_with("52:54:00:"));
    EXPECT_EQ(normalizeMAC(m), m);
}

TEST(Units, MemoryScaling)
{
    struct Case { const char* value; const char* unit; uint64_t kib; };
    const Case cases[] = {
        {"1024", "", 1024}, {"1024", "KiB", 1024}, {"1024", "k", 1024}, {"1000", "KB", 977},
        {"1", "b", 1}, {"2048", "bytes", 2}, {"1", "M", 1024}, {"1", "MiB", 1024},
        {"1", "MB", 977}, {"1", "G", 1048576}, {"1", "gib", 1048576}, {"1", "GB", 976563},
        {"1", "T", 1073741824}, {"1", "TiB", 1073741824}, {"1", "TB", 976562500},
        {"1", "P", 1099511627776ULL}, {" 7 ", "KiB", 7}};
    for (const auto& c : cases)
        EXPECT_EQ(parseMemoryKiB(c.value, c.unit, "<memory>"), c.kib) << c.value << " " << c.unit;
    expectError([] { parseMemoryKiB("1", "KiBB", "<memory>"); }, ErrCode::XmlError,
                "invalid value 'KiBB' for <memory> unit");
    expectError([] { parseMemoryKiB("+1", "", "<memory>"); }, ErrCode::XmlError, "invalid value '+1'");
    expectError([] { parseMemoryKiB("", "", "<memory>"); }, ErrCode::XmlError, "invalid value ''");
    expectError([] { parseMemoryKiB("8", "EiB", "<memory>"); }, ErrCode::Overflow, "too large");
}
