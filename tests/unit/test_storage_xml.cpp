// Storage pool and volume XML: golden round trips over data/storagepool and
// data/storagevol, schema validity of what we emit, the rejection corpora,
// per-type defaults and requirements, units, the FindStoragePoolSources
// documents and the pool capabilities.
#include "xml/storage_vol_xml.h"

#include "xml_rejections.h"

using namespace virtbus;
using namespace virtbus::xml;
using namespace virtbus::xml::testing_support;

namespace {

const std::string kPoolDir = "storagepool";
const std::string kVolDir = "storagevol";

// Volume corpus files are named POOLTYPE_NAME: a volume reads and formats
// in the context of its pool.
std::string poolTypeOf(const std::string& volFile) { return volFile.substr(0, volFile.find('_')); }

} // namespace

class StoragePoolCorpus : public testing::TestWithParam<std::string> { };

TEST_P(StoragePoolCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    StoragePoolDef def = parseStoragePoolXML(corpusInput(kPoolDir, GetParam()));
    std::string out = formatStoragePoolXML(def);
    EXPECT_EQ(out, corpusGolden(kPoolDir, GetParam()));

    StoragePoolDef again = parseStoragePoolXML(out);
    EXPECT_TRUE(again == def) << "re-parsed structure differs";
    EXPECT_EQ(formatStoragePoolXML(again), out);
}

TEST_P(StoragePoolCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("storagepool.rng"))
        GTEST_SKIP() << schemaPath("storagepool.rng") << " is absent (install libvirt0)";
    EXPECT_NO_THROW(parseStoragePoolXML(corpusInput(kPoolDir, GetParam()), STORAGE_POOL_PARSE_VALIDATE));
    StoragePoolDef def = parseStoragePoolXML(corpusInput(kPoolDir, GetParam()));
    expectSchemaValid(formatStoragePoolXML(def), "storagepool.rng");
}

INSTANTIATE_TEST_SUITE_P(Corpus, StoragePoolCorpus, testing::ValuesIn(corpus(kPoolDir)), paramName);

class StoragePoolRejections : public testing::TestWithParam<std::string> { };

TEST_P(StoragePoolRejections, FailsWithLibvirtCodeAndMessage)
{
    expectRejected(kPoolDir, GetParam(), [](const std::string& doc) { parseStoragePoolXML(doc); });
}

INSTANTIATE_TEST_SUITE_P(Corpus, StoragePoolRejections, testing::ValuesIn(rejectionCorpus(kPoolDir)), paramName);

class StorageVolCorpus : public testing::TestWithParam<std::string> { };

TEST_P(StorageVolCorpus, RoundTripMatchesGoldenAndIsFixedPoint)
{
    const std::string pool = poolTypeOf(GetParam());
    StorageVolDef def = parseStorageVolXML(corpusInput(kVolDir, GetParam()), pool);
    std::string out = formatStorageVolXML(def, pool);
    EXPECT_EQ(out, corpusGolden(kVolDir, GetParam()));

    StorageVolDef again = parseStorageVolXML(out, pool);
    std::string out2 = formatStorageVolXML(again, pool);
    EXPECT_EQ(out2, out);
    EXPECT_TRUE(parseStorageVolXML(out2, pool) == again) << "re-parsed structure differs";
}

TEST_P(StorageVolCorpus, FormattedOutputValidatesAgainstLibvirtSchema)
{
    if (!haveSchema("storagevol.rng"))
        GTEST_SKIP() << schemaPath("storagevol.rng") << " is absent (install libvirt0)";
    const std::string pool = poolTypeOf(GetParam());
    EXPECT_NO_THROW(parseStorageVolXML(corpusInput(kVolDir, GetParam()), pool, STORAGE_VOL_PARSE_VALIDATE));
    StorageVolDef def = parseStorageVolXML(corpusInput(kVolDir, GetParam()), pool);
    expectSchemaValid(formatStorageVolXML(def, pool), "storagevol.rng");
}

INSTANTIATE_TEST_SUITE_P(Corpus, StorageVolCorpus, testing::ValuesIn(corpus(kVolDir)), paramName);

class StorageVolRejections : public testing::TestWithParam<std::string> { };

TEST_P(StorageVolRejections, FailsWithLibvirtCodeAndMessage)
{
    const std::string pool = poolTypeOf(GetParam());
    expectRejected(kVolDir, GetParam(), [&](const std::string& doc) { parseStorageVolXML(doc, pool); });
}

INSTANTIATE_TEST_SUITE_P(Corpus, StorageVolRejections, testing::ValuesIn(rejectionCorpus(kVolDir)), paramName);

TEST(StorageXml, CorporaAreLargeEnough)
{
    EXPECT_GE(corpus(kPoolDir).size(), 15u);
    EXPECT_GE(rejectionCorpus(kPoolDir).size(), 8u);
    EXPECT_GE(corpus(kVolDir).size(), 15u);
    EXPECT_GE(rejectionCorpus(kVolDir).size(), 8u);
}

TEST(StoragePoolXml, ModelsSourcesAndTargets)
{
    StoragePoolDef nfs = parseStoragePoolXML(corpusInput(kPoolDir, "netfs-nfs"));
    ASSERT_EQ(nfs.source.hosts.size(), 1u);
    EXPECT_EQ(nfs.source.hosts[0].name, "nfs.example.com");
    EXPECT_EQ(nfs.source.dir, "/export/images");
    EXPECT_EQ(nfs.source.format, "nfs");
    EXPECT_EQ(nfs.source.protocolVer, 4u);
    EXPECT_EQ(nfs.targetPath, "/mnt/nfs");
    EXPECT_EQ(nfs.targetPerms.mode, std::optional<unsigned>(0755));

    StoragePoolDef iscsi = parseStoragePoolXML(corpusInput(kPoolDir, "iscsi"));
    EXPECT_EQ(iscsi.source.hosts[0].port, 3260u);
    EXPECT_EQ(iscsi.source.devices[0].path, "iqn.2013-06.com.example:iscsi-pool");
    EXPECT_NE(iscsi.source.auth.find("username='admin'"), std::string::npos);

    StoragePoolDef perms = parseStoragePoolXML(corpusInput(kPoolDir, "dir-perms"));
    EXPECT_EQ(perms.targetPerms.owner, std::optional<int64_t>(107));
    EXPECT_EQ(perms.targetPerms.label, "system_u:object_r:svirt_image_t:s0");

    StoragePoolDef rbd = parseStoragePoolXML(corpusInput(kPoolDir, "rbd"));
    EXPECT_TRUE(rbd.targetPath.empty()) << "network pools have no local target";
    EXPECT_EQ(rbd.extra.children.size(), 1u) << "rbd:config_opts is kept";
}

TEST(StoragePoolXml, FillsLibvirtsDefaults)
{
    // A logical pool is named after its volume group and lives in /dev.
    StoragePoolDef lvm = parseStoragePoolXML("<pool type='logical'><source><name>vgx</name></source></pool>");
    EXPECT_EQ(lvm.name, "vgx");
    EXPECT_EQ(lvm.source.format, "lvm2");
    EXPECT_EQ(lvm.targetPath, "/dev/vgx");
    EXPECT_TRUE(isValidUUID(lvm.uuid));

    StoragePoolDef zfs = parseStoragePoolXML("<pool type='zfs'><name>tank</name></pool>");
    EXPECT_EQ(zfs.source.name, "tank");
    EXPECT_EQ(zfs.targetPath, "/dev/zvol/tank");

    StoragePoolDef fs = parseStoragePoolXML("<pool type='fs'><name>f</name><source><device path='/dev/sdz'/></source>"
                                            "<target><path>/mnt//f/</path></target></pool>");
    EXPECT_EQ(fs.source.format, "auto");
    EXPECT_EQ(fs.targetPath, "/mnt/f");

    StoragePoolDef gluster = parseStoragePoolXML(
        "<pool type='gluster'><name>g</name><source><host name='h'/><name>vol</name></source></pool>");
    EXPECT_EQ(gluster.source.dir, "/");

    StoragePoolDef a = parseStoragePoolXML("<pool type='mpath'><name>m</name>"
                                           "<target><path>/dev/mapper</path></target></pool>");
    StoragePoolDef b = parseStoragePoolXML("<pool type='mpath'><name>m</name>"
                                           "<target><path>/dev/mapper</path></target></pool>");
    EXPECT_NE(a.uuid, b.uuid);
}

TEST(StoragePoolXml, ScalesUnitsToBytes)
{
    const std::vector<std::pair<std::string, uint64_t>> sizes = {
        {"<capacity>5</capacity>", 5},
        {"<capacity unit='b'>5</capacity>", 5},
        {"<capacity unit='bytes'>5</capacity>", 5},
        {"<capacity unit='k'>5</capacity>", 5120},
        {"<capacity unit='KiB'>5</capacity>", 5120},
        {"<capacity unit='KB'>5</capacity>", 5000},
        {"<capacity unit='M'>1</capacity>", 1048576},
        {"<capacity unit='GB'>2</capacity>", 2000000000},
        {"<capacity unit='TiB'>1</capacity>", 1099511627776},
        {"<capacity unit='PiB'>1</capacity>", 1125899906842624},
        {"<capacity unit='EiB'>7</capacity>", 8070450532247928832},
    };
    for (const auto& [xml, bytes] : sizes) {
        SCOPED_TRACE(xml);
        StoragePoolDef def
            = parseStoragePoolXML("<pool type='dir'><name>u</name>" + xml + "<target><path>/u</path></target></pool>");
        EXPECT_EQ(def.capacity, bytes);
    }
    expectError(
        [] {
            parseStoragePoolXML("<pool type='dir'><name>u</name><capacity unit='EiB'>8</capacity>"
                                "<target><path>/u</path></target></pool>");
        },
        ErrCode::Overflow, "value '8' for <capacity> is too large");
    expectError(
        [] {
            parseStoragePoolXML("<pool type='dir'><name>u</name><available>-1</available>"
                                "<target><path>/u</path></target></pool>");
        },
        ErrCode::XmlError, "invalid value '-1' for <available>");
}

TEST(StoragePoolXml, SchemaValidationFlagAndLimits)
{
    expectError([] { parseStoragePoolXML("<pool type='dir'/>", 1u << 4); }, ErrCode::InvalidArg, "unsupported flags");
    expectError([] { parseStoragePoolXML(billionLaughs("pool", "<pool type='dir'><name>&e11;</name></pool>")); },
        ErrCode::XmlError, "DOCTYPE declarations are not allowed");
    if (!haveSchema("storagepool.rng"))
        GTEST_SKIP() << schemaPath("storagepool.rng") << " is absent (install libvirt0)";
    const std::string odd = "<pool type='dir'><name>odd</name><future/>"
                            "<target><path>/odd</path></target></pool>";
    StoragePoolDef def = parseStoragePoolXML(odd);
    EXPECT_EQ(def.extra.children.size(), 1u);
    expectError(
        [&] { parseStoragePoolXML(odd, STORAGE_POOL_PARSE_VALIDATE); }, ErrCode::XmlInvalidSchema, "storagepool.rng");
}

TEST(StoragePoolSources, ParsesASpecAndFormatsTheAnswer)
{
    StoragePoolSourceDef spec = parseStoragePoolSourceXML("<source><host name='nfs.example.com'/></source>", "netfs");
    ASSERT_EQ(spec.hosts.size(), 1u);
    EXPECT_EQ(spec.format, "auto");

    StoragePoolSourceDef a, b;
    a.hosts = {{"nfs.example.com", 0}};
    a.dir = "/export/a";
    a.format = "nfs";
    b = a;
    b.dir = "/export/b";
    std::string out = formatStoragePoolSourcesXML("netfs", {a, b});
    EXPECT_EQ(out,
        "<sources>\n"
        "  <source>\n"
        "    <host name='nfs.example.com'/>\n"
        "    <dir path='/export/a'/>\n"
        "    <format type='nfs'/>\n"
        "  </source>\n"
        "  <source>\n"
        "    <host name='nfs.example.com'/>\n"
        "    <dir path='/export/b'/>\n"
        "    <format type='nfs'/>\n"
        "  </source>\n"
        "</sources>\n");
    EXPECT_EQ(formatStoragePoolSourcesXML("logical", {}), "<sources>\n</sources>\n");

    StoragePoolSourceDef vg;
    vg.name = "vg0";
    vg.format = "lvm2";
    vg.devices = {{"/dev/sdb1", "", {}}};
    EXPECT_EQ(formatStoragePoolSourcesXML("logical", {vg}),
        "<sources>\n"
        "  <source>\n"
        "    <device path='/dev/sdb1'/>\n"
        "    <name>vg0</name>\n"
        "    <format type='lvm2'/>\n"
        "  </source>\n"
        "</sources>\n");
    expectError(
        [] { parseStoragePoolSourceXML("<pool/>", "netfs"); }, ErrCode::XmlError, "root element was not source");
    expectError([] { parseStoragePoolSourceXML("<source/>", "tape"); }, ErrCode::ConfigUnsupported,
        "unknown storage pool type tape");
}

TEST(StoragePoolCapabilities, ListsEveryTypeWithItsFormats)
{
    std::string caps = formatStoragePoolCapabilitiesXML({"dir", "fs", "logical", "disk"});
    for (const auto& type : storagePoolTypes())
        EXPECT_NE(caps.find("<pool type='" + type + "'"), std::string::npos) << type;
    EXPECT_NE(caps.find("<pool type='dir' supported='yes'>\n"
                        "    <volOptions>\n"
                        "      <defaultFormat type='raw'/>\n"
                        "      <enum name='targetFormatType'>\n"
                        "        <value>none</value>\n"
                        "        <value>raw</value>\n"),
        std::string::npos)
        << caps;
    EXPECT_NE(caps.find("<pool type='logical' supported='yes'>\n"
                        "    <poolOptions>\n"
                        "      <defaultFormat type='lvm2'/>\n"
                        "      <enum name='sourceFormatType'>\n"
                        "        <value>unknown</value>\n"
                        "        <value>lvm2</value>\n"
                        "      </enum>\n"
                        "    </poolOptions>\n"
                        "  </pool>\n"),
        std::string::npos)
        << caps;
    EXPECT_NE(caps.find("<pool type='iscsi' supported='no'>\n  </pool>\n"), std::string::npos);
    EXPECT_NE(caps.find("<pool type='rbd' supported='no'>\n"
                        "    <volOptions>\n"
                        "      <defaultFormat type='raw'/>\n"
                        "      <enum name='targetFormatType'>\n"
                        "      </enum>\n"),
        std::string::npos)
        << caps;
    EXPECT_NE(caps.find("<value>linux-swap</value>"), std::string::npos);
    EXPECT_TRUE(isStoragePoolType("iscsi-direct"));
    EXPECT_FALSE(isStoragePoolType("sheepdog"));
    if (haveSchema("storagepoolcaps.rng")) {
        expectSchemaValid(caps, "storagepoolcaps.rng");
        expectSchemaValid(formatStoragePoolCapabilitiesXML({}), "storagepoolcaps.rng");
    }
}

TEST(StorageVolXml, PoolTypeDecidesFormatsAndVolumeType)
{
    const std::string doc = "<volume><name>v</name><capacity>1</capacity>"
                            "<target><format type='qcow2'/></target></volume>";
    StorageVolDef file = parseStorageVolXML(doc, "dir");
    EXPECT_EQ(file.format, "qcow2");
    EXPECT_NE(formatStorageVolXML(file, "dir").find("<volume type='file'>"), std::string::npos);
    // Logical pools have no volume formats: the element is ignored.
    StorageVolDef lv = parseStorageVolXML(doc, "logical");
    EXPECT_TRUE(lv.format.empty());
    EXPECT_NE(formatStorageVolXML(lv, "logical").find("<volume type='block'>"), std::string::npos);
    EXPECT_NE(
        formatStorageVolXML(parseStorageVolXML(doc, "rbd"), "rbd").find("<volume type='network'>"), std::string::npos);
    EXPECT_EQ(parseStorageVolXML("<volume><name>p</name><capacity>1</capacity></volume>", "disk").format, "none");
    expectError([&] { parseStorageVolXML(doc, "tape"); }, ErrCode::ConfigUnsupported, "unknown storage pool type tape");
}

TEST(StorageVolXml, CapacityAndAllocation)
{
    StorageVolDef v = parseStorageVolXML("<volume><name>v</name><capacity unit='M'>2</capacity></volume>", "dir");
    EXPECT_EQ(v.capacity, 2097152u);
    EXPECT_FALSE(v.allocation.has_value()) << "drivers must see that none was asked for";
    EXPECT_NE(formatStorageVolXML(v, "dir").find("<allocation unit='bytes'>2097152</allocation>"), std::string::npos);

    // Capacity may be left out for a resize/upload, or when a backing
    // store provides it.
    const std::string noCap = "<volume><name>v</name></volume>";
    EXPECT_NO_THROW(parseStorageVolXML(noCap, "dir", STORAGE_VOL_PARSE_NO_CAPACITY));
    expectError([&] { parseStorageVolXML(noCap, "dir", STORAGE_VOL_PARSE_OPT_CAPACITY); }, ErrCode::XmlError,
        "missing capacity element");
    StorageVolDef overlay
        = parseStorageVolXML("<volume><name>o</name><backingStore><path>/b.qcow2</path></backingStore></volume>", "dir",
            STORAGE_VOL_PARSE_OPT_CAPACITY);
    ASSERT_TRUE(overlay.backingStore.has_value());
    EXPECT_EQ(overlay.backingStore->format, "raw");
    expectError([] { parseStorageVolXML("<volume><name>v</name></volume>", "dir", 1u << 6); }, ErrCode::InvalidArg,
        "unsupported flags");
}

TEST(StorageVolXml, TargetDetails)
{
    StorageVolDef v = parseStorageVolXML(corpusInput(kVolDir, "dir_qcow2-features"), "dir");
    EXPECT_EQ(v.compat, "1.1");
    ASSERT_TRUE(v.features.has_value());
    EXPECT_EQ(*v.features, (std::vector<std::string> {"lazy_refcounts", "extended_l2"}));
    EXPECT_EQ(v.perms.mode, std::optional<unsigned>(0600));
    EXPECT_EQ(v.physical, 196616u);
    EXPECT_NE(v.timestamps.find("<atime>1700000000.123456789</atime>"), std::string::npos);

    StorageVolDef nocow = parseStorageVolXML(corpusInput(kVolDir, "dir_nocow"), "dir");
    EXPECT_TRUE(nocow.nocow);
    EXPECT_EQ(nocow.clusterSize, 65536u);

    StorageVolDef lv = parseStorageVolXML(corpusInput(kVolDir, "logical_lv"), "logical");
    EXPECT_NE(lv.source.find("<extent start='0' end='1073741824'/>"), std::string::npos);

    StorageVolDef backed = parseStorageVolXML(corpusInput(kVolDir, "dir_backing"), "dir");
    ASSERT_TRUE(backed.backingStore.has_value());
    EXPECT_EQ(backed.backingStore->path, "/var/lib/libvirt/images/base.qcow2");
    EXPECT_EQ(backed.backingStore->perms.mode, std::optional<unsigned>(0444));
}

TEST(StorageVolXml, UnknownContentSurvives)
{
    const std::string in = "<volume type='file' x-origin='import'>\n"
                           "  <name>keep.img</name>\n"
                           "  <capacity unit='bytes'>1024</capacity>\n"
                           "  <allocation unit='bytes'>0</allocation>\n"
                           "  <target>\n"
                           "    <format type='raw'/>\n"
                           "    <x:hint xmlns:x='urn:example:vol'>sparse</x:hint>\n"
                           "  </target>\n"
                           "  <future/>\n"
                           "</volume>\n";
    StorageVolDef def = parseStorageVolXML(in, "dir");
    EXPECT_EQ(def.extra.attrs.size(), 1u);
    EXPECT_EQ(def.targetExtra.children.size(), 1u);
    EXPECT_EQ(def.extra.children.size(), 1u);
    EXPECT_EQ(formatStorageVolXML(def, "dir"), in);
}
