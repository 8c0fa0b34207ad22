// The QEMU driver's save image (drivers/qemu/qemu_save_image.*): written
// atomically, read back, refused when foreign, unfinished or truncated,
// its XML replaced with the stream kept, and the ABI check of an
// alternative definition.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "qemu/qemu_save_image.h"
#include "xml/domain_xml.h"

using namespace virtbus;
using namespace virtbus::qemu;

namespace {

class SaveImageTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/virtbus-saveimage-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override { std::system(("rm -rf '" + dir + "'").c_str()); }

    std::vector<std::string> files() const
    {
        std::vector<std::string> out;
        DIR* d = opendir(dir.c_str());
        while (dirent* e = readdir(d))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
                out.push_back(e->d_name);
        closedir(d);
        return out;
    }
    static std::string slurp(const std::string& path)
    {
        std::ifstream f(path, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    // Stands in for QEMU: writes the "stream" at the fd's position.
    static void stream(const SaveImageWriter& w, const std::string& data)
    {
        ASSERT_EQ(::write(w.fd(), data.data(), data.size()), ssize_t(data.size()));
    }

    std::string dir;
};

const std::string kXml = "<domain type='qemu'><name>g</name></domain>";

TEST_F(SaveImageTest, WrittenAndReadBack)
{
    std::string path = dir + "/img";
    std::string data(10000, 'Q');
    {
        SaveImageWriter w(path, kXml, true);
        stream(w, data);
        // Nothing at the target until the image is complete.
        EXPECT_NE(::access(path.c_str(), F_OK), 0);
        w.commit(true);
    }
    EXPECT_EQ(files(), std::vector<std::string> {"img"});
    SaveImage img = readSaveImage(path);
    EXPECT_TRUE(img.wasRunning);
    EXPECT_EQ(img.xml, kXml);
    EXPECT_EQ(img.dataOffset % 4096, 0u);
    EXPECT_EQ(img.dataLength, data.size());
    EXPECT_EQ(slurp(path).substr(img.dataOffset), data);
    EXPECT_EQ(slurp(path).substr(0, 16), "VirtbusQemuSave\n");
}

TEST_F(SaveImageTest, AbandonedWriterLeavesNothingAndKeepsTheOldFile)
{
    std::string path = dir + "/img";
    {
        std::ofstream(path) << "old";
    }
    {
        SaveImageWriter w(path, kXml, false);
        stream(w, "partial");
    }
    EXPECT_EQ(files(), std::vector<std::string> {"img"});
    EXPECT_EQ(slurp(path), "old");
}

TEST_F(SaveImageTest, RefusesForeignPartialAndTruncatedImages)
{
    std::string path = dir + "/img";
    {
        std::ofstream(path) << std::string(100, 'x');
    }
    EXPECT_THROW(
        {
            try {
                readSaveImage(path);
            } catch (const VirtError& e) {
                EXPECT_STREQ(e.what(), "operation failed: image magic is incorrect");
                throw;
            }
        },
        VirtError);
    {
        SaveImageWriter w(path, kXml, false);
        stream(w, std::string(5000, 'Q'));
        w.commit(false);
    }
    std::string whole = slurp(path);
    // A crash before the header was completed: the partial magic.
    std::string partial = whole;
    partial.replace(0, 16, "VirtbusQemuPart\n");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << partial;
    EXPECT_TRUE(isPartialSaveImage(path));
    try {
        readSaveImage(path);
        ADD_FAILURE() << "partial image accepted";
    } catch (const VirtError& e) {
        EXPECT_STREQ(e.what(), "operation failed: save image is incomplete");
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() - 10);
    try {
        readSaveImage(path);
        ADD_FAILURE() << "truncated image accepted";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("is truncated"), std::string::npos) << e.what();
    }
}

TEST_F(SaveImageTest, SaveIntoMissingDirectoryFails)
{
    try {
        SaveImageWriter w(dir + "/missing/img", kXml, false);
        ADD_FAILURE() << "created a file in a missing directory";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("Failed to create file"), std::string::npos) << e.what();
    }
}

TEST_F(SaveImageTest, RewriteKeepsTheStream)
{
    std::string path = dir + "/img";
    std::string data(70000, 'S');
    data[0] = 'A';
    data.back() = 'Z';
    {
        SaveImageWriter w(path, kXml, true);
        stream(w, data);
        w.commit(false);
    }
    std::string bigger
        = "<domain type='qemu'><name>g</name><description>" + std::string(9000, 'd') + "</description></domain>";
    rewriteSaveImage(path, bigger, false);
    SaveImage img = readSaveImage(path);
    EXPECT_EQ(img.xml, bigger);
    EXPECT_FALSE(img.wasRunning);
    EXPECT_EQ(slurp(path).substr(img.dataOffset), data);
    EXPECT_EQ(files(), std::vector<std::string> {"img"});
    rewriteSaveImage(path, kXml, std::nullopt);
    EXPECT_FALSE(readSaveImage(path).wasRunning) << "the running flag is kept when not given";
}

TEST(SaveABI, ComparesWhatTheGuestSees)
{
    auto def = xml::parseDomainXML(R"(<domain type='qemu'><name>g</name>
        <uuid>8f3c2a4e-1b2d-4c5e-9f60-7a8b9c0d1e2f</uuid><memory>65536</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <devices><disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/></disk>
        </devices></domain>)");
    auto same = def;
    same.devices.disks[0].path = "/elsewhere.img"; // another file, same device
    same.description = "changed";
    EXPECT_NO_THROW(checkSaveABI(def, same));
    auto more = def;
    more.memory *= 2;
    EXPECT_THROW(checkSaveABI(def, more), VirtError);
    auto bus = def;
    bus.devices.disks[0].targetBus = "sata";
    try {
        checkSaveABI(def, bus);
        ADD_FAILURE() << "a disk moved to another bus was accepted";
    } catch (const VirtError& e) {
        EXPECT_STREQ(e.what(), "unsupported configuration: Target disk bus sata does not match source virtio");
    }
    auto other = def;
    other.uuid = "00000000-0000-4000-8000-000000000001";
    EXPECT_THROW(checkSaveABI(def, other), VirtError);
}

} // namespace
