// Domain snapshot XML: golden round trips over data/snapshot, schema
// validity, what a new (not redefined) snapshot keeps, and rejections.
#include "xml/snapshot_xml.h"
#include "xml/xml_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace virtbus;
using namespace virtbus::xml;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(XML_TEST_DATA_DIR) / "snapshot";

std::string readFile(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> corpus()
{
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(kDir)) {
        std::string n = e.path().filename().string();
        if (n.ends_with(".xml") && !n.ends_with(".out.xml"))
            names.push_back(n.substr(0, n.size() - 4));
    }
    std::sort(names.begin(), names.end());
    return names;
}

template <typename F>
void expectError(F fn, ErrCode code, const std::string& part)
{
    try {
        fn();
        ADD_FAILURE() << "no error; expected: " << part;
    } catch (const VirtError& e) {
        EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

const FormatOptions kSecure{.secure = true};

} // namespace

class SnapshotCorpus : public testing::TestWithParam<std::string> {};

TEST_P(SnapshotCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    const fs::path in = kDir / (GetParam() + ".xml");
    const fs::path golden = kDir / (GetParam() + ".out.xml");
    SnapshotDef def = parseSnapshotXML(readFile(in), SNAPSHOT_PARSE_REDEFINE);
    std::string out = formatSnapshotXML(def, kSecure);
    EXPECT_EQ(out, readFile(fs::exists(golden) ? golden : in));
    SnapshotDef again = parseSnapshotXML(out, SNAPSHOT_PARSE_REDEFINE);
    EXPECT_TRUE(again == def);
    EXPECT_EQ(formatSnapshotXML(again, kSecure), out);
}

TEST_P(SnapshotCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!fs::exists(schemaPath("domainsnapshot.rng")))
        GTEST_SKIP() << schemaPath("domainsnapshot.rng") << " is absent (install libvirt0)";
    SnapshotDef def = parseSnapshotXML(readFile(kDir / (GetParam() + ".xml")), SNAPSHOT_PARSE_REDEFINE);
    for (const FormatOptions& o : {kSecure, FormatOptions{.id = 4}, FormatOptions{.inactive = true}}) {
        std::string text = formatSnapshotXML(def, o);
        XmlDoc doc = parseDocument(text, "(formatted)");
        EXPECT_NO_THROW(validateSchema(doc, "domainsnapshot.rng")) << text;
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, SnapshotCorpus, testing::ValuesIn(corpus()), [](const auto& info) {
    std::string n = info.param;
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
});

TEST(SnapshotXml, CorpusIsLargeEnough)
{
    EXPECT_GE(corpus().size(), 6u);
}

TEST(SnapshotXml, ParsesFields)
{
    SnapshotDef s = parseSnapshotXML(readFile(kDir / "running.xml"), SNAPSHOT_PARSE_REDEFINE);
    EXPECT_EQ(s.name, "before-upgrade");
    EXPECT_EQ(s.state, "running");
    EXPECT_EQ(s.parent, "installed");
    EXPECT_EQ(s.creationTime, 1700000000);
    EXPECT_EQ(s.memorySnapshot, "internal");
    ASSERT_EQ(s.disks.size(), 2u);
    EXPECT_EQ(s.disks[1].snapshot, "no");
    ASSERT_TRUE(s.domain);
    EXPECT_EQ(s.domain->devices.disks.size(), 2u);
    EXPECT_EQ(s.domain->devices.graphics[0].passwd, "hidden");
    EXPECT_EQ(formatSnapshotXML(s).find("passwd"), std::string::npos);
    EXPECT_EQ(formatSnapshotXML(s, {.id = 3}).find("id='3'"), std::string::npos);

    SnapshotDef e = parseSnapshotXML(readFile(kDir / "external-memory.xml"), SNAPSHOT_PARSE_REDEFINE);
    EXPECT_EQ(e.memoryFile, "/var/lib/libvirt/qemu/snapshot/guest/mem.save");
    EXPECT_EQ(e.disks[0].type, "block");
    EXPECT_EQ(e.disks[0].sourceFile, "/dev/vg0/guest-snap");

    SnapshotDef d = parseSnapshotXML(readFile(kDir / "disk-only.xml"), SNAPSHOT_PARSE_REDEFINE);
    EXPECT_EQ(d.disks[0].driverType, "qcow2");
    EXPECT_FALSE(d.domain);

    SnapshotDef i = parseSnapshotXML(readFile(kDir / "inactive-domain.xml"), SNAPSHOT_PARSE_REDEFINE);
    ASSERT_TRUE(i.inactiveDomain);
    EXPECT_EQ(i.inactiveDomain->vcpu.max, 4u);
    EXPECT_EQ(i.active, true);
}

TEST(SnapshotXml, NewSnapshotDropsWhatTheDriverDecides)
{
    auto before = std::time(nullptr);
    SnapshotDef s = parseSnapshotXML(readFile(kDir / "running.xml"));
    EXPECT_EQ(s.name, "before-upgrade");
    EXPECT_EQ(s.description, "Taken while running, before the upgrade");
    EXPECT_EQ(s.state, "");
    EXPECT_EQ(s.parent, "");
    EXPECT_FALSE(s.domain);
    ASSERT_TRUE(s.creationTime);
    EXPECT_GE(*s.creationTime, before);
    EXPECT_EQ(s.disks.size(), 2u);

    SnapshotDef unnamed = parseSnapshotXML("<domainsnapshot><description>x</description></domainsnapshot>");
    EXPECT_EQ(unnamed.name, std::to_string(*unnamed.creationTime));
}

TEST(SnapshotXml, RejectsBadDocuments)
{
    struct Bad { const char* xml; unsigned flags; ErrCode code; const char* message; };
    const Bad bad[] = {
        {"", 0, ErrCode::XmlError, "empty document"},
        {"<domainsnapshot><name>x</name>", 0, ErrCode::XmlError, "(domain_snapshot):1:"},
        {"<domain type='test'/>", 0, ErrCode::XmlError, "unexpected root element <domain>"},
        {"<domainsnapshot/>", SNAPSHOT_PARSE_REDEFINE, ErrCode::XmlError, "must have a name"},
        {"<domainsnapshot><name>a/b</name></domainsnapshot>", 0, ErrCode::XmlError, "cannot contain '/'"},
        {"<domainsnapshot><name>x</name><state>dancing</state></domainsnapshot>", SNAPSHOT_PARSE_REDEFINE,
         ErrCode::XmlError, "invalid value 'dancing' for <state>"},
        {"<domainsnapshot><memory snapshot='external'/></domainsnapshot>", 0, ErrCode::XmlError,
         "external memory snapshots require a filename"},
        {"<domainsnapshot><memory snapshot='internal' file='/x'/></domainsnapshot>", 0, ErrCode::XmlError,
         "requires external snapshot"},
        {"<domainsnapshot><memory file='rel'/></domainsnapshot>", 0, ErrCode::XmlError, "must be absolute"},
        {"<domainsnapshot><disks><disk snapshot='no'/></disks></domainsnapshot>", 0, ErrCode::XmlError,
         "missing name attribute in snapshot <disk>"},
        {"<domainsnapshot><disks><disk name='vda' snapshot='maybe'/></disks></domainsnapshot>", 0,
         ErrCode::XmlError, "invalid value 'maybe' for <disk snapshot>"},
        {"<domainsnapshot><creationTime>yesterday</creationTime></domainsnapshot>", 0, ErrCode::XmlError,
         "invalid value 'yesterday' for <creationTime>"},
        {"<domainsnapshot><name>x</name><domain type='test'><name>g</name></domain></domainsnapshot>",
         SNAPSHOT_PARSE_REDEFINE, ErrCode::XmlError, "missing <memory> in <domain>"},
        {"<!DOCTYPE x [<!ENTITY a 'b'>]><domainsnapshot/>", 0, ErrCode::XmlError, "DOCTYPE"},
        {"<domainsnapshot/>", 1u << 9, ErrCode::InvalidArg, "unsupported flags"},
    };
    for (const auto& b : bad) {
        SCOPED_TRACE(b.xml);
        expectError([&] { parseSnapshotXML(b.xml, b.flags); }, b.code, b.message);
    }
}
