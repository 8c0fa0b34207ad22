// Host operations of the network driver, through the standard tools:
// iproute2 for links and addresses (`ip`), nft for the firewall, dnsmasq
// for DHCP and DNS. posix_spawn keeps the daemon's threads out of the way
// of fork; output goes to a memfd, so a tool that daemonizes (dnsmasq) and
// keeps its stdout does not hold us up.
#include "network/network_host.h"

#include "fileutil.h"
#include "network/network_config.h"
#include "xml/ip_address.h"

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace virtbus::net {

namespace {

VirtError netErr(ErrCode code, const std::string& detail) { return makeError(code, ErrDomain::Network, detail); }

std::string findTool(const std::string& name)
{
    if (name.find('/') != std::string::npos)
        return name;
    std::string path = getenv("PATH") ? getenv("PATH") : "";
    path += ":/usr/sbin:/sbin:/usr/bin:/bin";
    std::stringstream ss(path);
    for (std::string dir; std::getline(ss, dir, ':');) {
        if (dir.empty())
            continue;
        std::string p = dir + "/" + name;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    return name;
}

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// "ip link add ...": the tool's message, or the exit status.
VirtError toolError(const std::string& what, const CmdResult& r)
{
    std::string msg = trimmed(r.output);
    if (msg.empty())
        msg = r.status < 0 ? "could not run" : "exit status " + std::to_string(r.status);
    return netErr(ErrCode::InternalError, what + ": " + msg);
}

void check(const std::string& what, const std::vector<std::string>& argv, const std::string& input = {})
{
    CmdResult r = runTool(argv, input);
    if (r.status != 0)
        throw toolError(what, r);
}

std::string procText(pid_t pid, const char* file)
{
    auto t = readFile("/proc/" + std::to_string(pid) + "/" + file, 1u << 16);
    return t ? *t : std::string();
}

} // namespace

CmdResult runTool(const std::vector<std::string>& argv, const std::string& input)
{
    CmdResult res;
    int out = ::memfd_create("virtbus-tool", MFD_CLOEXEC);
    int in[2] = {-1, -1};
    if (out < 0 || ::pipe2(in, O_CLOEXEC) != 0) {
        res.output = std::string("cannot prepare to run ") + argv[0] + ": " + strerror(errno);
        if (out >= 0)
            ::close(out);
        return res;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, out, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    std::string exe = findTool(argv[0]);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, exe.c_str(), &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    if (rc != 0) {
        ::close(in[1]);
        ::close(out);
        res.output = "cannot run " + exe + ": " + strerror(rc);
        return res;
    }
    // The tool reads all of its input before it acts (nft -f -).
    const char* p = input.data();
    size_t left = input.size();
    while (left > 0) {
        ssize_t n = ::write(in[1], p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= static_cast<size_t>(n);
    }
    ::close(in[1]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    res.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ::lseek(out, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out, buf, sizeof buf)) > 0 && res.output.size() < (1u << 20))
        res.output.append(buf, static_cast<size_t>(n));
    ::close(out);
    return res;
}

bool linkExists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

void createBridge(const xml::NetworkDef& def)
{
    const std::string& br = def.bridge.name;
    if (linkExists(br))
        throw netErr(ErrCode::InternalError, "Unable to create bridge " + br + ": File exists");
    std::vector<std::string> add {"ip", "link", "add", "name", br};
    if (def.mtu)
        add.insert(add.end(), {"mtu", std::to_string(def.mtu)});
    if (!def.mac.empty())
        add.insert(add.end(), {"address", def.mac});
    // The kernel takes the forward delay in hundredths of a second.
    add.insert(add.end(),
        {"type", "bridge", "stp_state", def.bridge.stp.value_or(true) ? "1" : "0", "forward_delay",
            std::to_string(def.bridge.delay * 100)});
    check("Unable to create bridge " + br, add);
    try {
        for (const auto& ip : def.ips) {
            std::string a = ip.address + "/" + std::to_string(prefixOf(ip));
            std::vector<std::string> cmd {"ip", ip.isIPv6() ? "-6" : "-4", "addr", "add", a, "dev", br};
            if (ip.isIPv6())
                cmd.push_back("nodad");
            else
                cmd.insert(cmd.end(), {"broadcast", "+"});
            check("Unable to set IP address " + a + " on " + br, cmd);
        }
        check("Unable to bring up " + br, {"ip", "link", "set", "dev", br, "up"});
    } catch (...) {
        deleteBridge(br);
        throw;
    }
}

void deleteBridge(const std::string& name)
{
    if (linkExists(name))
        runTool({"ip", "link", "del", "dev", name});
}

void checkRouteCollision(const xml::NetworkDef& def)
{
    struct Route {
        xml::IpAddress net;
        unsigned prefix;
        std::string dev;
    };
    std::vector<Route> routes;
    if (auto t = readFile("/proc/net/route")) {
        std::istringstream in(*t);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string dev, dest, gw, flags, refc, use, metric, mask;
            if (!(f >> dev >> dest >> gw >> flags >> refc >> use >> metric >> mask))
                continue;
            uint32_t d = static_cast<uint32_t>(std::stoul(dest, nullptr, 16));
            uint32_t m = static_cast<uint32_t>(std::stoul(mask, nullptr, 16));
            if (m == 0)
                continue; // a default route collides with nothing
            xml::IpAddress a;
            a.family = 4;
            memcpy(a.bytes.data(), &d, 4); // /proc/net/route is in network order already
            xml::IpAddress mk;
            mk.family = 4;
            memcpy(mk.bytes.data(), &m, 4);
            routes.push_back({a, static_cast<unsigned>(std::max(0, xml::netmaskPrefix(mk))), dev});
        }
    }
    if (auto t = readFile("/proc/net/ipv6_route")) {
        std::istringstream in(*t);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string dest, plen, src, slen, nh, metric, refc, use, flags, dev;
            if (!(f >> dest >> plen >> src >> slen >> nh >> metric >> refc >> use >> flags >> dev) || dest.size() != 32)
                continue;
            unsigned prefix = static_cast<unsigned>(std::stoul(plen, nullptr, 16));
            if (prefix == 0 || dev == "lo" || dest.rfind("fe80", 0) == 0 || dest.rfind("ff", 0) == 0)
                continue;
            xml::IpAddress a;
            a.family = 6;
            for (size_t i = 0; i < 16; ++i)
                a.bytes[i] = static_cast<uint8_t>(std::stoul(dest.substr(2 * i, 2), nullptr, 16));
            routes.push_back({a, prefix, dev});
        }
    }
    for (const auto& ip : def.ips) {
        auto a = xml::parseIpAddress(ip.address);
        int prefix = prefixOf(ip);
        if (!a || prefix < 0)
            continue;
        for (const auto& r : routes) {
            if (r.net.family != a->family)
                continue;
            unsigned p = std::min(r.prefix, static_cast<unsigned>(prefix));
            if (xml::sameNetwork(r.net, *a, p))
                throw netErr(ErrCode::InternalError, "Network is already in use by interface " + r.dev);
        }
    }
}

std::string freeBridgeName(const std::vector<std::string>& taken)
{
    std::set<std::string> used(taken.begin(), taken.end());
    for (int i = 0; i < 4096; ++i) {
        std::string n = "virbr" + std::to_string(i);
        if (!used.count(n) && !linkExists(n))
            return n;
    }
    throw netErr(ErrCode::InternalError, "Bridge generation exceeded max id 4096");
}

void nftApply(const std::string& script) { check("cannot set up the firewall rules", {"nft", "-f", "-"}, script); }

bool nftTableExists(const std::string& table) { return runTool({"nft", "list", "table", "inet", table}).status == 0; }

void nftDeleteTable(const std::string& table)
{
    if (nftTableExists(table))
        runTool({"nft", "delete", "table", "inet", table});
}

void enableForwarding(bool ipv6)
{
    auto set = [](const char* path) {
        int fd = ::open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            throw systemError(ErrDomain::Network, std::string("cannot enable ") + path, errno);
        bool ok = ::write(fd, "1\n", 2) == 2;
        int e = errno;
        ::close(fd);
        if (!ok)
            throw systemError(ErrDomain::Network, std::string("cannot enable ") + path, e);
    };
    set("/proc/sys/net/ipv4/ip_forward");
    if (ipv6)
        set("/proc/sys/net/ipv6/conf/all/forwarding");
}

pid_t startDnsmasq(const std::string& confPath, const std::string& pidFile)
{
    ::unlink(pidFile.c_str());
    CmdResult r = runTool({"dnsmasq", "--conf-file=" + confPath});
    if (r.status != 0)
        throw toolError("dnsmasq did not start", r);
    // dnsmasq writes its pid file before its parent exits.
    auto t = readFile(pidFile);
    pid_t pid = t ? static_cast<pid_t>(atoi(t->c_str())) : 0;
    if (pid <= 0)
        throw netErr(ErrCode::InternalError, "dnsmasq started but wrote no pid file " + pidFile);
    return pid;
}

bool dnsmasqAlive(pid_t pid, const std::string& confPath)
{
    if (pid <= 0)
        return false;
    std::string cmd = procText(pid, "cmdline"); // empty for a zombie
    return cmd.find("--conf-file=" + confPath + '\0') != std::string::npos;
}

namespace {
// Has `pid` finished exiting (its sockets closed)? Its command line empties
// earlier in the exit than its files close, so only the zombie state (or
// no process at all) says a new dnsmasq may bind the same addresses.
bool exited(pid_t pid)
{
    std::string stat = procText(pid, "stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size())
        return true;
    char state = stat[paren + 2];
    return state == 'Z' || state == 'X';
}
} // namespace

void stopDnsmasq(pid_t pid, const std::string& confPath)
{
    if (!dnsmasqAlive(pid, confPath))
        return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 400 && !exited(pid); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!exited(pid)) {
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 400 && !exited(pid); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::vector<DhcpLease> parseLeases(const std::string& text, const std::string& bridge,
    const std::vector<const xml::NetworkIpDef*>& ips, const std::string& mac, int64_t now)
{
    auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
        return s;
    };
    std::string want = lower(mac);
    std::vector<DhcpLease> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string expiry, hw, ip, host, client;
        if (!(f >> expiry >> hw >> ip >> host >> client) || expiry == "duid")
            continue;
        int64_t exp = std::atoll(expiry.c_str());
        if (exp != 0 && exp < now)
            continue;
        auto a = xml::parseIpAddress(ip);
        if (!a)
            continue;
        bool v6 = a->family == 6;
        // An IPv6 line's second field is the IAID, not a MAC.
        std::string leaseMac = v6 ? "" : lower(hw);
        if (!want.empty() && leaseMac != want)
            continue;
        unsigned prefix = v6 ? 64 : 24;
        for (const auto* def : ips) {
            int p = prefixOf(*def);
            auto da = xml::parseIpAddress(def->address);
            if (da && p >= 0 && da->family == a->family && xml::sameNetwork(*da, *a, static_cast<unsigned>(p)))
                prefix = static_cast<unsigned>(p);
        }
        out.emplace_back(bridge, exp, v6 ? 1 : 0, leaseMac, v6 ? hw : "", ip, prefix, host == "*" ? "" : host,
            client == "*" ? "" : client);
    }
    return out;
}

std::vector<DhcpLease> readLeases(const std::string& leaseFile, const std::string& bridge,
    const std::vector<const xml::NetworkIpDef*>& ips, const std::string& mac)
{
    auto t = readFile(leaseFile);
    if (!t)
        return {};
    return parseLeases(*t, bridge, ips, mac, static_cast<int64_t>(::time(nullptr)));
}

} // namespace virtbus::net
