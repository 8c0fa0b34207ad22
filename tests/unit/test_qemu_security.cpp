// Guests without root: which files a guest's QEMU gets, the record of
// their original owners (<name>.host) and giving them back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "error.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"
#include "xml/domain_xml.h"

using namespace virtbus;
using namespace virtbus::qemu;
namespace fs = std::filesystem;

namespace {

xml::DomainDef domain(const std::string& os, const std::string& devices)
{
    return xml::parseDomainXML("<domain type='qemu'><name>t</name><memory>65536</memory><os><type>hvm</type>" + os
        + "</os><devices>" + devices + "</devices></domain>");
}

class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/virtbus-security-XXXXXX";
        path_ = ::mkdtemp(tmpl) ? tmpl : "";
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name, mode_t mode) const
    {
        std::string p = path_ + "/" + name;
        std::ofstream(p) << "data";
        ::chmod(p.c_str(), mode);
        return p;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Someone who owns none of the test's files.
QemuUser stranger()
{
    QemuUser u;
    u.name = "stranger";
    u.uid = 54321;
    u.gid = 54321;
    u.groups = {54321};
    return u;
}

struct stat statOf(const std::string& path)
{
    struct stat st { };
    ::stat(path.c_str(), &st);
    return st;
}

} // namespace

TEST(HostPaths, WhatQemuOpensAndHow)
{
    auto def = domain("<kernel>/boot/k</kernel><initrd>/boot/i</initrd>",
        "<disk type='file' device='disk'><source file='/img/rw.qcow2'/><target dev='vda'/></disk>"
        "<disk type='file' device='disk'><source file='/img/ro.img'/><target dev='vdb'/><readonly/>"
        "</disk>"
        "<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vdc'/></disk>"
        "<disk type='file' device='cdrom'><source file='/iso/a.iso'/><target dev='hdc' bus='ide'/>"
        "</disk>"
        "<disk type='file' device='cdrom'><target dev='hdd' bus='ide'/></disk>"
        "<disk type='network' device='disk'><source protocol='nbd' name='x'><host name='h'/></source>"
        "<target dev='vdd'/></disk>"
        "<serial type='file'><source path='/log/serial.log'/></serial>"
        "<serial type='unix'><source mode='bind' path='/run/s.sock'/></serial>"
        "<serial type='unix'><source mode='connect' path='/run/c.sock'/></serial>"
        "<serial type='pty'/>"
        "<rng model='virtio'><backend model='random'/></rng>");
    std::vector<HostPath> want = {
        {"/img/rw.qcow2", true, false},
        {"/img/ro.img", false, false},
        {"/dev/sdz", true, false},
        {"/iso/a.iso", false, false},
        {"/boot/k", false, false},
        {"/boot/i", false, false},
        {"/log/serial.log", true, true},
        {"/run/c.sock", true, false},
        {"/dev/urandom", false, false},
    };
    EXPECT_EQ(hostPaths(def), want);
}

TEST(HostPaths, OnePathOnceWithTheWidestAccess)
{
    auto def = domain("",
        "<disk type='file' device='disk'><source file='/img/a'/><target dev='vda'/><readonly/>"
        "</disk>"
        "<disk type='file' device='disk'><source file='/img/a'/><target dev='vdb'/><shareable/>"
        "</disk>");
    std::vector<HostPath> want = {{"/img/a", true, false}};
    EXPECT_EQ(hostPaths(def), want);
}

TEST(HostChanges, RoundTrip)
{
    HostChange owner;
    owner.path = "/var/lib/images/with space/100%\nnew line.img";
    owner.uid = 0;
    owner.gid = 6;
    owner.mode = 04640;
    owner.dev = 2049;
    owner.ino = 1234567890123ull;
    owner.grantMode = 0777; // not recorded
    HostChange sock;
    sock.kind = HostChange::Socket;
    sock.path = "/run/virtbus/qemu/g.agent";
    sock.dev = 25;
    sock.ino = 99;
    auto text = formatHostChanges({owner, sock});
    auto back = parseHostChanges(text);
    ASSERT_TRUE(back) << text;
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[0].kind, HostChange::Owner);
    EXPECT_EQ((*back)[0].path, owner.path);
    EXPECT_EQ((*back)[0].uid, 0u);
    EXPECT_EQ((*back)[0].gid, 6u);
    EXPECT_EQ((*back)[0].mode, 04640u);
    EXPECT_EQ((*back)[0].dev, 2049u);
    EXPECT_EQ((*back)[0].ino, 1234567890123ull);
    EXPECT_EQ((*back)[0].grantMode, 0u);
    EXPECT_EQ((*back)[1].kind, HostChange::Socket);
    EXPECT_EQ((*back)[1].path, sock.path);
    EXPECT_TRUE((*back)[1].sameFile(sock));
    EXPECT_TRUE(parseHostChanges("")->empty());
}

TEST(HostChanges, DamagedFilesAreRefused)
{
    for (const char* bad : {"chmod 0 0 644 1 2 /x\n", "owner 0 0 644 1 2 relative\n", "owner 0 0 99999 1 2 /x\n",
             "owner x 0 644 1 2 /x\n", "owner 0 0 644 1 2 /x%zz\n", "socket 1\n"})
        EXPECT_FALSE(parseHostChanges(bad)) << bad;
}

TEST(Ownership, WritableFilesAlwaysReadOnlyOnlyWhenUnreadable)
{
    TempDir dir;
    std::string rw = dir.file("rw.img", 0666), readable = dir.file("kernel", 0644), secret = dir.file("initrd", 0600),
                log = dir.path() + "/serial.log";
    auto changes = planOwnership({{rw, true, false}, {readable, false, false}, {secret, false, false},
                                     {log, true, true}, {dir.path() + "/missing", true, false}},
        stranger(), {});
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0].path, rw);
    EXPECT_EQ(changes[0].mode, 0666u);
    EXPECT_EQ(changes[0].grantMode, 0666u);
    EXPECT_EQ(changes[1].path, secret);
    EXPECT_EQ(changes[1].mode, 0600u);
    EXPECT_EQ(changes[1].grantMode, 0600u);
    EXPECT_EQ(changes[2].path, log);
    EXPECT_EQ(changes[2].uid, geteuid());
    EXPECT_EQ(changes[2].mode, 0600u); // created for QEMU
    EXPECT_TRUE(fs::exists(log));
}

TEST(Ownership, OwnerBitsAreAdded)
{
    TempDir dir;
    std::string locked = dir.file("locked.img", 0040);
    auto changes = planOwnership({{locked, true, false}}, stranger(), {});
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].mode, 0040u);
    EXPECT_EQ(changes[0].grantMode, 0640u);
}

TEST(Ownership, AFileAnotherGuestHoldsKeepsItsRealOriginal)
{
    TempDir dir;
    std::string iso = dir.file("a.iso", 0644);
    HostChange theirs;
    theirs.path = iso;
    theirs.uid = 1;
    theirs.gid = 2;
    theirs.mode = 0400;
    theirs.dev = statOf(iso).st_dev;
    theirs.ino = statOf(iso).st_ino;
    // Readable as it is, but held: still recorded, with the holder's original.
    auto changes = planOwnership({{iso, false, false}}, stranger(), {theirs});
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].uid, 1u);
    EXPECT_EQ(changes[0].gid, 2u);
    EXPECT_EQ(changes[0].mode, 0400u);
}

TEST(Ownership, SymlinksAreRecordedByTheirTarget)
{
    TempDir dir;
    std::string real = dir.file("real.img", 0600), link = dir.path() + "/link.img";
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    auto changes = planOwnership({{link, true, false}, {real, true, false}}, stranger(), {});
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].path, real);
}

TEST(Ownership, AccessByPermissionBits)
{
    struct stat st { };
    QemuUser u = stranger();
    u.groups = {54321, 108};
    st.st_uid = 0;
    st.st_gid = 108;
    st.st_mode = S_IFREG | 0660;
    EXPECT_TRUE(accessibleBy(st, u, true));
    st.st_mode = S_IFREG | 0640;
    EXPECT_TRUE(accessibleBy(st, u, false));
    EXPECT_FALSE(accessibleBy(st, u, true));
    st.st_gid = 0;
    EXPECT_FALSE(accessibleBy(st, u, false));
    st.st_uid = u.uid;
    st.st_mode = S_IFREG | 0044; // the owner class decides, even when others may
    EXPECT_FALSE(accessibleBy(st, u, false));
}

TEST(Ownership, AppliedAndUndone)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "chown needs root";
    TempDir dir;
    std::string img = dir.file("disk.img", 0640), gone = dir.file("gone.img", 0600), kept = dir.file("kept.img", 0600);
    ASSERT_EQ(::chown(img.c_str(), 0, 7), 0);
    QemuUser u = stranger();
    auto changes = planOwnership({{img, true, false}, {gone, true, false}, {kept, true, false}}, u, {});
    ASSERT_EQ(changes.size(), 3u);
    applyOwnership(changes, u);
    EXPECT_EQ(statOf(img).st_uid, u.uid);
    EXPECT_EQ(statOf(img).st_gid, u.gid);
    EXPECT_EQ(statOf(img).st_mode & 07777, 0640u);
    // Replaced while the guest ran: not the file that was changed.
    std::string other = dir.file("other.img", 0600);
    ASSERT_EQ(::chown(other.c_str(), 4, 4), 0);
    ASSERT_EQ(::rename(other.c_str(), gone.c_str()), 0);
    undoChanges(changes, [&](const HostChange& c) { return c.path == kept; });
    EXPECT_EQ(statOf(img).st_uid, 0u);
    EXPECT_EQ(statOf(img).st_gid, 7u);
    EXPECT_EQ(statOf(img).st_mode & 07777, 0640u);
    EXPECT_EQ(statOf(gone).st_uid, 4u);
    EXPECT_EQ(statOf(kept).st_uid, u.uid) << "another guest still uses it";
}

TEST(Ownership, ListeningSocketsAreRemovedOnUndo)
{
    TempDir dir;
    std::string path = dir.path() + "/agent.sock";
    HostChange created;
    int fd = listenUnix(path, &created);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(S_ISSOCK(statOf(path).st_mode));
    EXPECT_EQ(statOf(path).st_mode & 0777, 0600u);
    EXPECT_EQ(created.kind, HostChange::Socket);
    // A stale socket of a dead QEMU is replaced.
    ::close(fd);
    fd = listenUnix(path, &created);
    ASSERT_GE(fd, 0);
    int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a {};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, path.size());
    EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(c);
    ::close(fd);
    undoChange(created);
    EXPECT_FALSE(fs::exists(path));
}

TEST(BackingChain, FollowsQcow2Headers)
{
    if (::access("/usr/bin/qemu-img", X_OK) != 0)
        GTEST_SKIP() << "qemu-img is not installed";
    TempDir dir;
    const std::string d = dir.path();
    std::string cmd = "cd " + d + " && qemu-img create -q -f raw base.raw 1M && qemu-img create -q -f qcow2 -F raw "
        + "-b base.raw mid.qcow2 && qemu-img create -q -f qcow2 -F qcow2 -b " + d + "/mid.qcow2 top.qcow2";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::vector<std::string> want = {d + "/mid.qcow2", d + "/base.raw"};
    EXPECT_EQ(backingChain(d + "/top.qcow2", "qcow2"), want);
    EXPECT_TRUE(backingChain(d + "/top.qcow2", "raw").empty()) << "the format given decides";
    EXPECT_TRUE(backingChain(d + "/base.raw", "qcow2").empty());
    EXPECT_TRUE(backingChain(d + "/missing.qcow2", "qcow2").empty());
}

TEST(QemuUserLookup, RootMeansNoSwitchAndMissingUsersAreNamed)
{
    EXPECT_FALSE(resolveQemuUser("", "").switches());
    QemuUser root = resolveQemuUser("root", "");
    EXPECT_EQ(root.uid, 0u);
    EXPECT_FALSE(root.switches());
    QemuUser nobody = resolveQemuUser("nobody", "");
    EXPECT_TRUE(nobody.switches());
    EXPECT_FALSE(nobody.groups.empty());
    try {
        resolveQemuUser("no-such-virtbus-user", "");
        FAIL() << "no error";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("'no-such-virtbus-user'"), std::string::npos) << e.what();
    }
    try {
        resolveQemuUser("nobody", "no-such-virtbus-group");
        FAIL() << "no error";
    } catch (const VirtError& e) {
        EXPECT_NE(std::string(e.what()).find("'no-such-virtbus-group'"), std::string::npos) << e.what();
    }
}
