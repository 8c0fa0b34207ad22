// Which files a guest's QEMU opens, and handing them to its user for the
// run (see qemu_security.h).
#include "qemu/qemu_security.h"
#include "qemu/qemu_internal.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.h"
#include "fileutil.h"

namespace virtbus::qemu {

namespace {

VirtError accessError(const std::string& what, const HostChange& c, const QemuUser& user, int e)
{
    return systemError(
        ErrDomain::Qemu, "cannot " + what + " '" + c.path + "' for the QEMU user '" + user.name + "'", e);
}

uint32_t be32(const unsigned char* p)
{
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

uint64_t be64(const unsigned char* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }

bool isQcow2(const unsigned char* h, size_t n)
{
    return n >= 4 && h[0] == 'Q' && h[1] == 'F' && h[2] == 'I' && h[3] == 0xfb;
}

// The backing file named in a qcow2 header, and its format ("" when the
// header does not say: QEMU then probes it).
bool qcow2Backing(const std::string& image, std::string& backing, std::string& format)
{
    int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    std::vector<unsigned char> h(64 * 1024);
    ssize_t n = ::pread(fd, h.data(), h.size(), 0);
    bool found = false;
    if (n >= 72 && isQcow2(h.data(), static_cast<size_t>(n))) {
        uint64_t offset = be64(&h[8]);
        uint32_t size = be32(&h[16]);
        if (offset != 0 && size > 0 && size < 4096) {
            std::string name(size, '\0');
            if (::pread(fd, name.data(), size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size)) {
                backing = name;
                found = true;
            }
        }
        // Header extensions follow the header (72 bytes in version 2,
        // header_length in 3); 0xe2792aca names the backing format.
        size_t pos = be32(&h[4]) >= 3 && n >= 104 ? be32(&h[100]) : 72;
        while (found && pos + 8 <= static_cast<size_t>(n)) {
            uint32_t type = be32(&h[pos]), len = be32(&h[pos + 4]);
            if (type == 0 || pos + 8 + len > static_cast<size_t>(n))
                break;
            if (type == 0xe2792aca)
                format.assign(reinterpret_cast<const char*>(&h[pos + 8]), len);
            pos += 8 + ((len + 7u) & ~7u);
        }
    }
    ::close(fd);
    return found;
}

std::string probeFormat(const std::string& path)
{
    unsigned char h[4] = {};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? ::pread(fd, h, sizeof h, 0) : 0;
    if (fd >= 0)
        ::close(fd);
    return n == 4 && isQcow2(h, 4) ? "qcow2" : "raw";
}

bool inGroups(gid_t gid, const QemuUser& user)
{
    return gid == user.gid || std::find(user.groups.begin(), user.groups.end(), gid) != user.groups.end();
}

} // namespace

std::vector<HostPath> hostPaths(const xml::DomainDef& def)
{
    std::vector<HostPath> out;
    auto add = [&](const std::string& path, bool write, bool create = false) {
        if (path.empty())
            return;
        for (auto& p : out) {
            if (p.path == path) {
                p.write = p.write || write;
                p.create = p.create || create;
                return;
            }
        }
        out.push_back({path, write, create});
    };
    for (const auto& d : def.devices.disks)
        if (d.hasSource && (d.type == "file" || d.type == "block" || d.type == "volume"))
            add(d.path, !d.readonly && d.device != "cdrom");
    for (const std::string* f : {&def.os.kernel, &def.os.initrd, &def.os.dtb})
        add(*f, false);
    if (def.os.loader)
        add(def.os.loader->path, false);
    const auto& dev = def.devices;
    for (const auto* list : {&dev.serials, &dev.parallels, &dev.consoles, &dev.channels}) {
        for (const auto& c : *list) {
            if (c.sources.empty())
                continue;
            if (auto log = chardevLog(c); !log.file.empty())
                add(log.file, true, true);
            const xml::ChardevSource& s = c.sources[0];
            if (c.type == "file") {
                add(s.path, true, true);
            } else if (c.type == "pipe") {
                // QEMU uses path.in and path.out when both exist, else path.
                add(s.path + ".in", true);
                add(s.path + ".out", true);
                add(s.path, true);
            } else if (c.type == "dev" || (c.type == "unix" && s.mode != "bind")) {
                add(s.path, true);
            }
        }
    }
    for (const auto& r : dev.rngs)
        if (r.backendModel == "random")
            add(r.backendPath.empty() ? "/dev/urandom" : r.backendPath, false);
    return out;
}

std::vector<std::string> backingChain(const std::string& image, const std::string& format)
{
    std::vector<std::string> chain;
    std::string current = image, fmt = format;
    // QEMU refuses chains deeper than this too.
    while (fmt == "qcow2" && chain.size() < 16) {
        std::string backing, backingFormat;
        if (!qcow2Backing(current, backing, backingFormat))
            break;
        // json: and protocol (nbd:, http:) backings are not files.
        if (backing.starts_with("json:") || (backing.find(':') != std::string::npos && backing.front() != '/'))
            break;
        if (backing.front() != '/')
            backing = current.substr(0, current.rfind('/') + 1) + backing;
        if (std::find(chain.begin(), chain.end(), backing) != chain.end() || backing == image)
            break;
        chain.push_back(backing);
        current = backing;
        fmt = backingFormat.empty() ? probeFormat(backing) : backingFormat;
    }
    return chain;
}

QemuUser resolveQemuUser(const std::string& userName, const std::string& groupName)
{
    QemuUser u;
    if (userName.empty())
        return u;
    std::vector<char> buf(16384);
    passwd pw {};
    passwd* pwFound = nullptr;
    int e = getpwnam_r(userName.c_str(), &pw, buf.data(), buf.size(), &pwFound);
    if (!pwFound)
        throw err::operationFailed("the QEMU user '" + userName + "' does not exist"
            + (e ? std::string(" (") + strerror(e) + ")" : "")
            + "; create it (systemd-sysusers) or choose another with VIRTBUS_QEMU_USER");
    u.name = userName;
    u.uid = pw.pw_uid;
    u.gid = pw.pw_gid;
    if (!groupName.empty()) {
        group gr {};
        group* grFound = nullptr;
        getgrnam_r(groupName.c_str(), &gr, buf.data(), buf.size(), &grFound);
        if (!grFound)
            throw err::operationFailed("the QEMU group '" + groupName
                + "' does not exist; create it or choose another with VIRTBUS_QEMU_GROUP");
        u.gid = gr.gr_gid;
    }
    // The user's own groups (kvm, for /dev/kvm), as a login would get them.
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    while (getgrouplist(userName.c_str(), u.gid, groups.data(), &n) < 0)
        groups.resize(static_cast<size_t>(n));
    groups.resize(static_cast<size_t>(n));
    u.groups = std::move(groups);
    return u;
}

bool accessibleBy(const struct stat& st, const QemuUser& user, bool write)
{
    mode_t need = write ? 6 : 4;
    int shift = st.st_uid == user.uid ? 6 : inGroups(st.st_gid, user) ? 3 : 0;
    return ((st.st_mode >> shift) & need) == need;
}

std::vector<HostChange> planOwnership(
    const std::vector<HostPath>& paths, const QemuUser& user, const std::vector<HostChange>& held)
{
    std::vector<HostChange> out;
    for (const auto& p : paths) {
        if (p.create) {
            int fd = ::open(p.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
            if (fd >= 0)
                ::close(fd);
        }
        // Missing files are QEMU's to report (disks were checked before).
        char resolved[PATH_MAX];
        struct stat st;
        if (!::realpath(p.path.c_str(), resolved) || ::stat(resolved, &st) != 0)
            continue;
        HostChange c;
        c.path = resolved;
        c.uid = st.st_uid;
        c.gid = st.st_gid;
        c.mode = st.st_mode & 07777;
        c.dev = st.st_dev;
        c.ino = st.st_ino;
        auto other = std::find_if(held.begin(), held.end(),
            [&](const HostChange& h) { return h.kind == HostChange::Owner && h.sameFile(c); });
        if (other != held.end()) {
            c.uid = other->uid;
            c.gid = other->gid;
            c.mode = other->mode;
        } else if (!p.write && accessibleBy(st, user, false)) {
            continue; // readable as it is: nothing to give, nothing to restore
        }
        auto dup = std::find_if(out.begin(), out.end(), [&](const HostChange& h) { return h.sameFile(c); });
        mode_t bits = p.write ? (S_IRUSR | S_IWUSR) : S_IRUSR;
        if (dup != out.end()) {
            dup->grantMode |= bits;
            continue;
        }
        c.grantMode = (st.st_mode & 07777) | bits;
        out.push_back(std::move(c));
    }
    return out;
}

void applyOwnership(const std::vector<HostChange>& changes, const QemuUser& user)
{
    for (const auto& c : changes) {
        if (c.kind != HostChange::Owner)
            continue;
        if (::chown(c.path.c_str(), user.uid, user.gid) != 0)
            throw accessError("change the owner of", c, user, errno);
        if (::chmod(c.path.c_str(), c.grantMode) != 0)
            throw accessError("change the permissions of", c, user, errno);
    }
}

void undoChange(const HostChange& c)
{
    struct stat st;
    if (::lstat(c.path.c_str(), &st) != 0 || st.st_dev != c.dev || st.st_ino != c.ino)
        return; // gone or replaced: not the file we changed
    if (c.kind == HostChange::Socket) {
        if (S_ISSOCK(st.st_mode))
            ::unlink(c.path.c_str());
        return;
    }
    if (::chown(c.path.c_str(), c.uid, c.gid) != 0 || ::chmod(c.path.c_str(), c.mode) != 0)
        fprintf(stderr, "<4>qemu: cannot restore the owner %u:%u and mode %o of '%s': %s\n", c.uid, c.gid, c.mode,
            c.path.c_str(), strerror(errno));
}

} // namespace virtbus::qemu
