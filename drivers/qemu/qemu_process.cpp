// Processes and host devices for guests: starting QEMU detached from
// virtbusd, recognising it again, tap devices, logs, ports.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "error.h"
#include "fileutil.h"
#include "qemu/qemu_internal.h"

namespace virtbus::qemu {

namespace {

VirtError sysErr(const std::string& what, int e)
{
    return systemError(ErrDomain::Qemu, what, e);
}

void writeErr(const char* what, int e)
{
    (void)!::write(2, what, strlen(what));
    const char* text = strerrordesc_np(e);
    (void)!::write(2, text, strlen(text));
    (void)!::write(2, "\n", 1);
}

// The grandchild, between fork and exec: only async-signal-safe calls.
// Raw syscalls for the identity: they change this (only) thread, and
// glibc's wrappers would try to signal threads that a fork left behind.
[[noreturn]] void execDetached(
    char* const* argv, int devnull, int logFd, const int* keep, size_t nkeep, const QemuUser* user)
{
    ::dup2(devnull, 0);
    ::dup2(logFd, 1);
    ::dup2(logFd, 2);
    unsigned next = 3;
    for (size_t i = 0; i < nkeep; ++i) {
        int fd = keep[i];
        if (fd < 3)
            continue;
        if (static_cast<unsigned>(fd) > next)
            ::syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0);
        ::fcntl(fd, F_SETFD, 0);
        next = static_cast<unsigned>(fd) + 1;
    }
    ::syscall(SYS_close_range, next, ~0u, 0);
    // virtbusd blocks SIGTERM/SIGINT for its signalfd and ignores SIGPIPE;
    // QEMU must get the defaults back.
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP})
        ::signal(s, SIG_DFL);
    if (user) {
        // Groups first: they need the privilege the uid switch drops.
        if (::syscall(SYS_setgroups, user->groups.size(), user->groups.data()) != 0
            || ::syscall(SYS_setresgid, user->gid, user->gid, user->gid) != 0) {
            writeErr("virtbusd: cannot switch to the QEMU user's groups: ", errno);
            ::_exit(126);
        }
        if (::syscall(SYS_setresuid, user->uid, user->uid, user->uid) != 0) {
            writeErr("virtbusd: cannot switch to the QEMU user: ", errno);
            ::_exit(126);
        }
        // virtbusd's working directory may be closed to the user.
        (void)!::chdir("/");
    }
    ::execv(argv[0], argv);
    writeErr("virtbusd: cannot execute the emulator: ", errno);
    ::_exit(127);
}

} // namespace

pid_t spawnDaemon(
    const std::vector<std::string>& argv, int logFd, const std::vector<int>& keepFds, const QemuUser* user)
{
    if (user && !user->switches())
        user = nullptr;
    // Everything the children need is prepared here: after fork() only
    // async-signal-safe calls are allowed in a threaded program.
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<int> keep = keepFds;
    std::sort(keep.begin(), keep.end());

    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        throw sysErr("cannot open /dev/null", errno);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        int e = errno;
        ::close(devnull);
        throw sysErr("cannot create pipe", e);
    }
    pid_t child = ::fork();
    if (child < 0) {
        int e = errno;
        ::close(devnull);
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        throw sysErr("cannot fork", e);
    }
    if (child == 0) {
        // The middle process: a new session so QEMU has no controlling
        // terminal and its own process group, then a second fork so QEMU is
        // reparented away from virtbusd and survives it.
        ::close(pipefd[0]);
        if (::setsid() < 0)
            ::_exit(126);
        pid_t gc = ::fork();
        if (gc < 0)
            ::_exit(126);
        if (gc == 0)
            execDetached(args.data(), devnull, logFd, keep.data(), keep.size(), user);
        (void)!::write(pipefd[1], &gc, sizeof gc);
        ::_exit(0);
    }
    ::close(pipefd[1]);
    ::close(devnull);
    pid_t pid = -1;
    ssize_t n;
    do {
        n = ::read(pipefd[0], &pid, sizeof pid);
    } while (n < 0 && errno == EINTR);
    ::close(pipefd[0]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof pid) || pid <= 0)
        throw err::internal("cannot start the emulator: the launcher process failed");
    return pid;
}

int listenUnix(const std::string& path, HostChange* created)
{
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw err::configUnsupported("UNIX socket path '" + path + "' too long");
    path.copy(addr.sun_path, path.size());
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
        ::unlink(path.c_str()); // left by a QEMU that died, as QEMU itself would
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw sysErr("Failed to create UNIX socket", errno);
    // Connecting needs write permission on the socket file: 0600 keeps
    // everyone but virtbusd's user out, whoever QEMU runs as.
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0600) != 0
        || ::stat(path.c_str(), &st) != 0 || ::listen(fd, 8) != 0) {
        int e = errno;
        ::close(fd);
        throw sysErr("Failed to bind socket to '" + path + "'", e);
    }
    if (created) {
        *created = HostChange {};
        created->kind = HostChange::Socket;
        created->path = path;
        created->dev = st.st_dev;
        created->ino = st.st_ino;
    }
    return fd;
}

uint64_t processStartTime(pid_t pid)
{
    auto stat = readFile("/proc/" + std::to_string(pid) + "/stat", 4096);
    if (!stat)
        return 0;
    // The command name may contain spaces and parentheses: fields start
    // after the last ')'.
    auto close = stat->rfind(')');
    if (close == std::string::npos || close + 2 >= stat->size())
        return 0;
    const char* p = stat->c_str() + close + 2;
    char state = *p;
    if (state == 'Z' || state == 'X' || state == 'x')
        return 0;
    // Field 3 is the state; start time is field 22.
    for (int field = 3; field < 22; ++field) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        ++p;
    }
    return strtoull(p, nullptr, 10);
}

std::string processCmdline(pid_t pid)
{
    auto c = readFile("/proc/" + std::to_string(pid) + "/cmdline", 1u << 20);
    return c ? *c : std::string();
}

int openPidfd(pid_t pid)
{
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

bool pidfdExited(int pidfd)
{
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

int createTap(std::string& name, const std::string& bridge, const std::string& mac)
{
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        throw sysErr("Unable to open /dev/net/tun, is tun module loaded?", errno);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::string wanted = name.empty() ? "vnet%d" : name;
    if (wanted.size() >= IFNAMSIZ) {
        ::close(fd);
        throw err::invalidArg("tap device name '" + wanted + "' is too long");
    }
    memcpy(ifr.ifr_name, wanted.c_str(), wanted.size() + 1);
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        ::close(fd);
        throw sysErr("Unable to create tap device " + wanted, e);
    }
    name = ifr.ifr_name;
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto fail = [&](const std::string& what) {
        int e = errno;
        if (sock >= 0)
            ::close(sock);
        ::close(fd);
        return sysErr(what, e);
    };
    if (sock < 0)
        throw fail("cannot open a control socket");
    // The tap gets the guest's MAC with a 0xfe first byte, as libvirt does,
    // so the bridge never adopts the guest's own address as its own.
    ifreq hw{};
    memcpy(hw.ifr_name, name.c_str(), name.size() + 1);
    hw.ifr_hwaddr.sa_family = 1; // ARPHRD_ETHER
    unsigned b[6];
    if (sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6) {
        b[0] = 0xfe;
        for (int i = 0; i < 6; ++i)
            hw.ifr_hwaddr.sa_data[i] = static_cast<char>(b[i]);
        if (::ioctl(sock, SIOCSIFHWADDR, &hw) < 0)
            throw fail("Cannot set interface MAC on '" + name + "'");
    }
    if (!bridge.empty()) {
        ifreq br{};
        if (bridge.size() >= IFNAMSIZ) {
            errno = EINVAL;
            throw fail("bridge name '" + bridge + "' is too long");
        }
        memcpy(br.ifr_name, bridge.c_str(), bridge.size() + 1);
        br.ifr_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
        if (::ioctl(sock, SIOCBRADDIF, &br) < 0)
            throw fail("Unable to add bridge " + bridge + " port " + name);
    }
    ifreq up{};
    memcpy(up.ifr_name, name.c_str(), name.size() + 1);
    if (::ioctl(sock, SIOCGIFFLAGS, &up) < 0)
        throw fail("Cannot get interface flags on '" + name + "'");
    up.ifr_flags = static_cast<short>(up.ifr_flags | IFF_UP);
    if (::ioctl(sock, SIOCSIFFLAGS, &up) < 0)
        throw fail("Cannot set interface flags on '" + name + "'");
    ::close(sock);
    return fd;
}

std::string logTail(const std::string& path, size_t maxBytes)
{
    auto text = readFile(path, 64u << 20);
    if (!text)
        return {};
    std::string t = *text;
    if (t.size() > maxBytes) {
        t = t.substr(t.size() - maxBytes);
        auto nl = t.find('\n');
        if (nl != std::string::npos)
            t = t.substr(nl + 1);
    }
    while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
        t.pop_back();
    return t;
}

int findFreePort(const std::string& address, int first, int last)
{
    for (int port = first; port <= last; ++port) {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return -1;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1)
            a.sin_addr.s_addr = htonl(INADDR_ANY);
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(s);
        if (ok)
            return port;
    }
    return -1;
}

} // namespace virtbus::qemu
