// Secret XML: golden round trips over data/secret, schema validity of
// everything we emit, the usage type mapping and rejection of bad
// documents.
#include "xml/secret_xml.h"

#include "xml_corpus.h"

#include <chrono>

using namespace virtbus;
using namespace virtbus::xml;
using namespace virtbus::xml::testing_support;

namespace {

const std::string kDir = "secret";

} // namespace

class SecretCorpus : public testing::TestWithParam<std::string> { };

TEST_P(SecretCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    SecretDef def = parseSecretXML(corpusInput(kDir, GetParam()));
    std::string out = formatSecretXML(def);
    EXPECT_EQ(out, corpusGolden(kDir, GetParam()));

    SecretDef again = parseSecretXML(out);
    EXPECT_TRUE(again == def) << "re-parsed structure differs";
    EXPECT_EQ(formatSecretXML(again), out);
}

TEST_P(SecretCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("secret.rng"))
        GTEST_SKIP() << schemaPath("secret.rng") << " is absent (install libvirt0)";
    SecretDef def = parseSecretXML(corpusInput(kDir, GetParam()));
    expectSchemaValid(formatSecretXML(def), "secret.rng");
    EXPECT_NO_THROW(parseSecretXML(formatSecretXML(def), SECRET_PARSE_VALIDATE));
}

INSTANTIATE_TEST_SUITE_P(Corpus, SecretCorpus, testing::ValuesIn(corpus(kDir)), paramName);

TEST(SecretXml, CorpusIsLargeEnough) { EXPECT_GE(corpus(kDir).size(), 15u); }

TEST(SecretXml, UsageTypesMapToLibvirtNumbers)
{
    const std::vector<std::pair<std::string, int>> expected
        = {{"none", 0}, {"volume", 1}, {"ceph", 2}, {"iscsi", 3}, {"tls", 4}, {"vtpm", 5}};
    for (const auto& [name, number] : expected) {
        auto type = secretUsageTypeFromString(name);
        ASSERT_TRUE(type.has_value()) << name;
        EXPECT_EQ(static_cast<int>(*type), number);
        EXPECT_EQ(secretUsageTypeToString(*type), name);
    }
    EXPECT_FALSE(secretUsageTypeFromString("nfs").has_value());
    EXPECT_FALSE(secretUsageTypeFromString("").has_value());
}

TEST(SecretXml, UsageIDIsWhatLibvirtReports)
{
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"usage-volume", "/var/lib/libvirt/images/guest.luks"},
        {"usage-ceph", "client.libvirt secret"},
        {"usage-iscsi", "iqn.2013-07.com.example:iscsi-pool"},
        {"usage-tls", "TLS_example"},
        {"usage-vtpm", "VTPM_example"},
        {"no-usage", ""},
        {"usage-none", ""},
    };
    for (const auto& [file, id] : expected) {
        SecretDef def = parseSecretXML(corpusInput(kDir, file));
        EXPECT_EQ(def.usageID, id) << file;
    }
    SecretDef v = parseSecretXML(corpusInput(kDir, "usage-volume"));
    EXPECT_EQ(v.usageType, SecretUsageType::Volume);
    EXPECT_FALSE(v.ephemeral);
    EXPECT_TRUE(v.isPrivate);
    EXPECT_EQ(v.uuid, "c1f11a6d-8c5d-4a3e-ac7a-4e171c5e0d4a");
    EXPECT_EQ(v.description, "LUKS passphrase for the guest disk");
    EXPECT_EQ(parseSecretXML(corpusInput(kDir, "usage-none")).usageType, SecretUsageType::None);
}

TEST(SecretXml, MissingUUIDIsGenerated)
{
    SecretDef a = parseSecretXML("<secret><description>x</description></secret>");
    SecretDef b = parseSecretXML("<secret/>");
    EXPECT_TRUE(isValidUUID(a.uuid));
    EXPECT_EQ(a.uuid, normalizeUUID(a.uuid));
    EXPECT_NE(a.uuid, b.uuid);
}

TEST(SecretXml, PreservesUnknownContent)
{
    const std::string in = "<secret ephemeral='no' private='no' owner='ops'>\n"
                           "  <uuid>77777777-8888-9999-aaaa-bbbbbbbbbbbb</uuid>\n"
                           "  <usage type='volume' pool='default'>\n"
                           "    <volume>/var/lib/images/a.img</volume>\n"
                           "    <hint>rotate yearly</hint>\n"
                           "  </usage>\n"
                           "  <meta:owner xmlns:meta='urn:example:meta'>team</meta:owner>\n"
                           "</secret>\n";
    SecretDef def = parseSecretXML(in);
    EXPECT_EQ(def.usageExtra.attrs.size(), 1u);
    EXPECT_EQ(def.usageExtra.children.size(), 1u);
    EXPECT_EQ(def.extra.children.size(), 1u);
    std::string out = formatSecretXML(def);
    EXPECT_EQ(out, in);
    EXPECT_TRUE(parseSecretXML(out) == def);
}

TEST(SecretXml, RepeatedElementsAreIgnoredLikeLibvirt)
{
    // Found by fuzz_secret_xml: a kept second <description> took the place
    // of an empty first one on the next parse, so output was no fixed point.
    const std::string in = "<secret><uuid>66666666-7777-8888-9999-aaaaaaaaaaaa</uuid>"
                           "<description></description><usage type='none'/>"
                           "<uuid>00000000-0000-0000-0000-000000000000</uuid>"
                           "<description>second</description>"
                           "<usage type='tls'><name>t</name></usage></secret>";
    SecretDef def = parseSecretXML(in);
    EXPECT_EQ(def.uuid, "66666666-7777-8888-9999-aaaaaaaaaaaa");
    EXPECT_EQ(def.description, "");
    EXPECT_EQ(def.usageType, SecretUsageType::None);
    EXPECT_TRUE(def.extra.children.empty());
    std::string out = formatSecretXML(def);
    EXPECT_EQ(formatSecretXML(parseSecretXML(out)), out);
}

TEST(SecretXml, SchemaValidationFlag)
{
    if (!haveSchema("secret.rng"))
        GTEST_SKIP() << schemaPath("secret.rng") << " is absent (install libvirt0)";
    const std::string none = corpusInput(kDir, "usage-none"); // libvirt's parser takes it, the schema not
    EXPECT_NO_THROW(parseSecretXML(none));
    expectError([&] { parseSecretXML(none, SECRET_PARSE_VALIDATE); }, ErrCode::XmlInvalidSchema, "secret.rng");
}

TEST(SecretXml, RejectsBadDocuments)
{
    struct Bad {
        const char* what;
        std::string xml;
        ErrCode code;
        std::string message;
    };
    auto uuid = std::string("<uuid>c1f11a6d-8c5d-4a3e-ac7a-4e171c5e0d4a</uuid>");
    const std::vector<Bad> bad = {
        {"malformed", "<secret>\n<uuid>x</uuid>", ErrCode::XmlError, "(definition_of_secret):2: Premature end"},
        {"wrong root", "<secrets/>", ErrCode::XmlError, "unexpected root element <secrets>, expecting <secret>"},
        {"bad uuid", "<secret><uuid>c1f11a6d-8c5d-4a3e-ac7a</uuid></secret>", ErrCode::XmlError,
            "malformed uuid element 'c1f11a6d-8c5d-4a3e-ac7a'"},
        {"bad ephemeral", "<secret ephemeral='maybe'/>", ErrCode::XmlError, "invalid value of 'ephemeral'"},
        {"bad private", "<secret private='1'/>", ErrCode::XmlError, "invalid value of 'private'"},
        {"bad usage type", "<secret>" + uuid + "<usage type='nfs'><name>x</name></usage></secret>",
            ErrCode::ConfigUnsupported, "unknown secret usage type nfs"},
        {"usage without type", "<secret><usage><volume>/a</volume></usage></secret>", ErrCode::XmlError,
            "unknown secret usage type"},
        {"volume without path", "<secret><usage type='volume'/></secret>", ErrCode::XmlError,
            "volume usage specified, but volume path is missing"},
        {"ceph without name", "<secret><usage type='ceph'><target>t</target></usage></secret>", ErrCode::XmlError,
            "Ceph usage specified, but name is missing"},
        {"iscsi without target", "<secret><usage type='iscsi'><name>n</name></usage></secret>", ErrCode::XmlError,
            "iSCSI usage specified, but target is missing"},
        {"tls with empty name", "<secret><usage type='tls'><name></name></usage></secret>", ErrCode::XmlError,
            "TLS usage specified, but name is missing"},
        {"vtpm without name", "<secret><usage type='vtpm'/></secret>", ErrCode::XmlError,
            "vTPM usage specified, but name is missing"},
        {"billion laughs", billionLaughs("secret", "<secret><description>&e11;</description></secret>"),
            ErrCode::XmlError, "DOCTYPE declarations are not allowed"},
        {"undefined entity", "<secret><description>&nope;</description></secret>", ErrCode::XmlError,
            "Entity 'nope' not defined"},
    };
    EXPECT_GE(bad.size(), 8u);
    for (const auto& b : bad) {
        SCOPED_TRACE(b.what);
        expectError([&] { parseSecretXML(b.xml); }, b.code, b.message);
    }
}

TEST(SecretXml, BillionLaughsFailsFast)
{
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(
        parseSecretXML(billionLaughs("secret", "<secret><description>&e11;</description></secret>")), VirtError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(SecretXml, RejectsHugeDocumentsAndUnknownFlags)
{
    std::string big = "<secret><description>" + std::string(kMaxDocumentSize, 'a') + "</description></secret>";
    expectError([&] { parseSecretXML(big); }, ErrCode::XmlError, "document too large");
    expectError([] { parseSecretXML("<secret/>", 1u << 3); }, ErrCode::InvalidArg, "unsupported flags");
}
