// The secret store on a temporary directory: what reaches the disk (and
// what never does), reloading, libvirt's conflict rules and messages.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "secret/secret_store.h"

using namespace virtbus;
namespace fs = std::filesystem;

namespace {

const char* kUuid = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f";

std::string xmlOf(const std::string& uuid, const std::string& path, const char* attrs = "")
{
    return "<secret" + std::string(attrs) + "><uuid>" + uuid + "</uuid><usage type='volume'><volume>" + path
        + "</volume></usage></secret>";
}

class SecretStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/virtbus-secrets-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        dir_ = root_ + "/secrets";
    }
    void TearDown() override { fs::remove_all(root_); }
    unsigned mode(const std::string& p)
    {
        struct stat st { };
        EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 07777;
    }
    std::string root_, dir_;
};

std::string message(const std::function<void()>& f)
{
    try {
        f();
    } catch (const VirtError& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_F(SecretStoreTest, PersistsDefinitionAndValueRootOnly)
{
    {
        SecretStore s(dir_);
        EXPECT_EQ(s.secretDefineXML(xmlOf(kUuid, "/img/a.img"), 0), kUuid);
        s.secretSetValue(kUuid, {0, 1, 2, 255, 'x'}, 0);
    }
    EXPECT_EQ(mode(dir_), 0700u);
    EXPECT_EQ(mode(dir_ + "/" + kUuid + ".xml"), 0600u);
    EXPECT_EQ(mode(dir_ + "/" + kUuid + ".base64"), 0600u);
    SecretStore again(dir_);
    EXPECT_TRUE(again.loadWarnings().empty());
    EXPECT_EQ(again.secretGetValue(kUuid, 0), (std::vector<uint8_t> {0, 1, 2, 255, 'x'}));
    EXPECT_EQ(again.secretLookupByUsage(1, "/img/a.img"), kUuid);
    again.secretUndefine(kUuid);
    EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SecretStoreTest, EphemeralNeverWrittenPrivateNeverRead)
{
    SecretStore s(dir_);
    s.secretDefineXML(xmlOf(kUuid, "/img/e.img", " ephemeral='yes' private='yes'"), 0);
    s.secretSetValue(kUuid, {'k'}, 0);
    EXPECT_TRUE(fs::is_empty(dir_));
    EXPECT_EQ(message([&] { s.secretGetValue(kUuid, 0); }), "Invalid secret: secret is private");
    EXPECT_EQ(s.internalValue(kUuid), std::vector<uint8_t> {'k'});
    EXPECT_EQ(SecretStore(dir_).listSecrets(0).size(), 0u);
}

TEST_F(SecretStoreTest, LibvirtConflictRules)
{
    SecretStore s(dir_);
    s.secretDefineXML(xmlOf(kUuid, "/img/a.img", " private='yes'"), 0);
    EXPECT_EQ(message([&] { s.secretDefineXML(xmlOf("1a81f5b2-8403-7b23-c8d6-21ccc2f80d6f", "/img/a.img"), 0); }),
        std::string("internal error: a secret with UUID ") + kUuid + " already defined for use with /img/a.img");
    EXPECT_EQ(message([&] { s.secretDefineXML(xmlOf(kUuid, "/img/b.img", " private='yes'"), 0); }),
        std::string("internal error: a secret with UUID ") + kUuid
            + " is already defined for use with volume /img/a.img");
    EXPECT_EQ(message([&] { s.secretDefineXML(xmlOf(kUuid, "/img/a.img"), 0); }),
        "internal error: cannot change private flag on existing secret");
    EXPECT_EQ(message([&] { s.secretGetValue(kUuid, 1); }), "unsupported flags (0x1) in function virSecretGetValue");
    EXPECT_EQ(message([&] { s.secretSetValue(kUuid, std::vector<uint8_t>(SecretStore::kMaxValue + 1), 0); }),
        "invalid argument: secret value of 65537 bytes exceeds the limit of 65536");
    EXPECT_EQ(message([&] { s.secretLookupByUUID("2a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"); }),
        "Secret not found: no secret with matching uuid '2a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'");
    EXPECT_EQ(s.listSecrets(4).size(), 1u);
    EXPECT_EQ(s.listSecrets(8).size(), 0u);
}

TEST_F(SecretStoreTest, ForeignFilesAreSkipped)
{
    fs::create_directories(dir_);
    std::ofstream(dir_ + "/broken.xml") << "<secret><uuid>nope";
    std::ofstream(dir_ + "/3a81f5b2-8403-7b23-c8d6-21ccc2f80d6f.xml") << xmlOf(kUuid, "/img/a.img");
    SecretStore s(dir_);
    EXPECT_EQ(s.loadWarnings().size(), 2u);
    EXPECT_TRUE(s.listSecrets(0).empty());
}
