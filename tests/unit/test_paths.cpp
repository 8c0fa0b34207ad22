#include <gtest/gtest.h>

#include "paths.h"

using namespace virtbus;

TEST(Paths, EncodeMatchesWireContract)
{
    EXPECT_EQ(paths::encode("scsi_host2"), "scsi_5fhost2");
    EXPECT_EQ(paths::encode("aa:bb:cc:dd:ee:ff"), "aa_3abb_3acc_3add_3aee_3aff");
    EXPECT_EQ(paths::encode("/default-pool/a.img"), "_2fdefault_2dpool_2fa_2eimg");
    EXPECT_EQ(paths::encode("AZaz09"), "AZaz09");
    EXPECT_EQ(paths::encode(std::string("\xff\x00", 2)), "_ff_00");
}

TEST(Paths, DecodeIsInverseAndCanonical)
{
    for (std::string s : {"scsi_host2", "../etc/passwd", "a b\tc", "ünïcode", "x"})
        EXPECT_EQ(paths::decode(paths::encode(s)), s) << s;
    EXPECT_FALSE(paths::decode("_2"));       // truncated escape
    EXPECT_FALSE(paths::decode("_zz"));      // not hex
    EXPECT_FALSE(paths::decode("_2F"));      // upper case is never produced
    EXPECT_FALSE(paths::decode("_61"));      // 'a' would be written verbatim
    EXPECT_FALSE(paths::decode("a-b"));      // '-' is not a path character
}

TEST(Paths, DomainPathRoundTrip)
{
    const std::string uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    auto p = paths::domain("/org/libvirt/Test", uuid);
    EXPECT_EQ(p, "/org/libvirt/Test/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f");
    EXPECT_EQ(paths::domainUuid("/org/libvirt/Test", p), uuid);
}

TEST(Paths, DomainPathRejectsOthers)
{
    const std::string conn = "/org/libvirt/Test";
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/Test/domain"));
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/Test/domain/"));
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/Test/domain/test"));
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/QEMU/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f"));
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/Test/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f/x"));
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/Test/domain/_6695EB01_f6a4_8304_79aa_97f2502e193f"));
    EXPECT_FALSE(paths::domainUuid(conn, "/org/libvirt/Test/domain/_6695eb01f_6a4_8304_79aa_97f2502e193f"));
}

TEST(Paths, SnapshotPathRoundTrip)
{
    const std::string uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    auto p = paths::snapshot("/org/libvirt/Test", uuid, "before upgrade");
    EXPECT_EQ(p, "/org/libvirt/Test/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_before_20upgrade");
    auto k = paths::snapshotKey("/org/libvirt/Test", p);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->uuid, uuid);
    EXPECT_EQ(k->name, "before upgrade");
    EXPECT_FALSE(paths::snapshotKey("/org/libvirt/Test",
                                    "/org/libvirt/Test/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_"));
}
