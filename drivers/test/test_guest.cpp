// What the fake guest and its agent answer: statistics, addresses, file
// systems, clock, keys and signals. Values are libvirt's test driver's
// fixed ones, so clients see the same numbers against either.
#include "test/test_internal.h"

#include "xml/xml_util.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace virtbus {

using namespace testdrv;

namespace {

// virDomainStatsTypes the test driver produces.
constexpr uint32_t kStatsState = 1, kStatsIOThread = 128;
constexpr uint32_t kStatsSupported = kStatsState | kStatsIOThread;
constexpr uint32_t kStatsNoWait = 1u << 29, kStatsBacking = 1u << 30, kStatsEnforce = 1u << 31;

uint32_t resolveStats(uint32_t stats, uint32_t flags)
{
    if ((flags & kStatsEnforce) && (stats & ~kStatsSupported)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "0x%x", stats & ~kStatsSupported);
        throw testError(ErrCode::ArgumentUnsupported,
                        std::string("Stats types bits ") + buf + " are not supported by this daemon");
    }
    return stats ? stats & kStatsSupported : kStatsSupported;
}

// libvirt's keycode set names, by virKeycodeSet.
constexpr std::array<const char*, 10> kCodesets = {"linux", "xt", "atset1", "atset2", "atset3",
                                                  "os_x",  "xt_kbd", "usb", "win32", "qnum"};

// The largest code each set's keymap knows. libvirt checks membership in
// its (sparse) tables; virtbus checks the range they span.
constexpr std::array<uint32_t, 10> kCodesetMax = {0x2fe, 0xffff, 0xffff, 0xffff, 0xffff,
                                                  0x7f,  0xffff, 0xffff, 0xff,   0xffff};

std::string addOffset(const std::string& address, bool ipv6, size_t offset)
{
    if (ipv6) {
        in6_addr a{};
        if (inet_pton(AF_INET6, address.c_str(), &a) != 1)
            throw err::internal("invalid network address '" + address + "'");
        a.s6_addr[15] = static_cast<uint8_t>(a.s6_addr[15] + offset);
        char buf[INET6_ADDRSTRLEN];
        return inet_ntop(AF_INET6, &a, buf, sizeof buf);
    }
    in_addr a{};
    if (inet_pton(AF_INET, address.c_str(), &a) != 1)
        throw err::internal("invalid network address '" + address + "'");
    a.s_addr = htonl(ntohl(a.s_addr) + static_cast<uint32_t>(offset));
    char buf[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

unsigned prefixOf(const std::string& netmask)
{
    in_addr m{};
    if (inet_pton(AF_INET, netmask.c_str(), &m) != 1)
        return 0;
    return static_cast<unsigned>(__builtin_popcount(ntohl(m.s_addr)));
}

} // namespace

TypedParams TestDriver::statsOf(const TestDomain& d, uint32_t stats) const
{
    TypedParams out;
    if (stats & kStatsState) {
        out.push_back({"state.state", int32_t{d.state}});
        out.push_back({"state.reason", int32_t{d.reason}});
    }
    if (stats & kStatsIOThread) {
        auto threads = ioThreads(d.def);
        if (!threads.empty()) {
            out.push_back({"iothread.count", static_cast<uint32_t>(threads.size())});
            for (const auto& t : threads) {
                std::string p = "iothread." + std::to_string(t.id) + ".";
                out.push_back({p + "poll-max-ns", uint64_t{32768}});
                out.push_back({p + "poll-grow", uint32_t{0}});
                out.push_back({p + "poll-shrink", uint32_t{0}});
            }
        }
    }
    return out;
}

std::vector<std::pair<DomainRef, TypedParams>> TestDriver::allDomainStats(uint32_t stats, uint32_t flags)
{
    checkFlags(flags, 0xFF | kStatsNoWait | kStatsBacking | kStatsEnforce, "testConnectGetAllDomainStats");
    stats = resolveStats(stats, flags);
    // The list filters are listDomains' own (one pass over the name index).
    std::vector<DomainRef> doms = listDomains(flags & 0xFF);
    std::lock_guard lock(mu_);
    std::vector<std::pair<DomainRef, TypedParams>> out;
    out.reserve(doms.size());
    for (auto& ref : doms) {
        auto it = byUuid_.find(ref.uuid);
        if (it != byUuid_.end())
            out.emplace_back(std::move(ref), statsOf(*it->second, stats));
    }
    return out;
}

TypedParams TestDriver::domainGetStats(const std::string& uuid, uint32_t stats, uint32_t flags)
{
    checkFlags(flags, kStatsNoWait | kStatsBacking | kStatsEnforce, "testConnectGetAllDomainStats");
    stats = resolveStats(stats, flags);
    std::lock_guard lock(mu_);
    return statsOf(dom(uuid), stats);
}

std::string TestDriver::domainGetHostname(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetHostname");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    checkActive(d);
    return d.name() + "host";
}

std::tuple<uint64_t, uint32_t> TestDriver::domainGetTime(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetTime");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    if (d.state != kRunning)
        throw testError(ErrCode::OperationInvalid, "domain is not running");
    return {static_cast<uint64_t>(d.seconds), d.nseconds};
}

void TestDriver::domainSetTime(const std::string& uuid, uint64_t seconds, uint32_t nseconds, uint32_t flags)
{
    constexpr uint32_t kTimeSync = 1;
    checkFlags(flags, kTimeSync, "testDomainSetTime");
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    checkActive(d);
    d.seconds = static_cast<int64_t>(seconds);
    d.nseconds = nseconds;
}

std::vector<std::tuple<std::string, int32_t>> TestDriver::domainGetDiskErrors(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetDiskErrors");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    checkActive(d);
    // Every disk reports an error, cycling through UNSPEC and NO_SPACE.
    std::vector<std::tuple<std::string, int32_t>> out;
    int32_t i = 0;
    for (const auto& disk : d.def.devices.disks)
        out.emplace_back(disk.targetDev, i++ % 2 + 1);
    return out;
}

std::vector<uint8_t> TestDriver::domainMemoryPeek(const std::string& uuid, uint64_t offset, uint64_t size,
                                                  uint32_t flags)
{
    constexpr uint32_t kVirtual = 1, kPhysical = 2;
    constexpr uint64_t kMaxPeek = 65536; // libvirt's remote protocol limit
    if ((flags & kVirtual) && (flags & kPhysical))
        throw flagsExclusive("VIR_MEMORY_VIRTUAL", "VIR_MEMORY_PHYSICAL");
    checkFlags(flags, kVirtual | kPhysical, "testDomainMemoryPeek");
    if (flags != kVirtual && flags != kPhysical)
        throw err::invalidArg("flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL");
    if (size > kMaxPeek)
        throw bareInvalidArg("memory peek request too large for remote protocol, " + std::to_string(size) + " > " +
                             std::to_string(kMaxPeek));
    std::lock_guard lock(mu_);
    checkActive(dom(uuid));
    std::vector<uint8_t> out(size);
    auto b = static_cast<uint8_t>(offset);
    for (auto& byte : out)
        byte = b++;
    return out;
}

TestDriver::NetAddress TestDriver::networkFirstAddress(const std::string& network)
{
    try {
        NetworkDriver& nets = networks();
        NetworkRef ref = nets.networkLookupByName(network);
        auto raw = parseRaw(nets.networkGetXMLDesc(ref.uuid, 0));
        const RawNode* ip = raw ? raw->child("ip") : nullptr;
        if (!ip)
            throw err::internal("network '" + network + "' has no IP address");
        NetAddress a;
        a.ipv6 = ip->attr("family") == "ipv6";
        a.address = ip->attr("address");
        std::string prefix = ip->attr("prefix");
        a.prefix = !prefix.empty() ? static_cast<unsigned>(std::stoul(prefix)) : prefixOf(ip->attr("netmask"));
        if (const RawNode* dhcp = ip->child("dhcp"))
            if (const RawNode* range = dhcp->child("range"))
                a.address = range->attr("start");
        return a;
    } catch (const VirtError& e) {
        if (e.code() != ErrCode::NoSupport)
            throw;
    }
    // No network driver attached: the world's default network.
    if (network == "default")
        return {"192.168.122.2", 24, false};
    throw makeError(ErrCode::NoNetwork, ErrDomain::Test, "no network with matching name '" + network + "'");
}

std::vector<IfaceAddrs> TestDriver::domainInterfaceAddresses(const std::string& uuid, uint32_t source, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainInterfaceAddresses");
    if (source >= 3)
        throw testError(ErrCode::ArgumentUnsupported, "Unknown IP address data source " + std::to_string(source));
    int id = -1;
    std::vector<xml::InterfaceDef> nets;
    {
        std::lock_guard lock(mu_);
        const TestDomain& d = dom(uuid);
        checkActive(d);
        id = d.id;
        nets = d.def.devices.interfaces;
    }
    // Network lookups happen unlocked: they may call into another driver.
    std::vector<IfaceAddrs> out;
    for (size_t i = 0; i < nets.size(); ++i) {
        const auto& net = nets[i];
        std::vector<std::tuple<int32_t, std::string, uint32_t>> addrs;
        if (net.type == "network") {
            // Different addresses per interface and per domain.
            size_t offset = 20 * static_cast<size_t>(id - 1) + i + 1;
            NetAddress base = networkFirstAddress(net.sourceNetwork);
            addrs.emplace_back(base.ipv6 ? 1 : 0, addOffset(base.address, base.ipv6, offset), base.prefix);
        } else {
            addrs.emplace_back(0, "192.168.0." + std::to_string(1 + i), 24);
        }
        out.emplace_back(net.targetDev, net.mac, std::move(addrs));
    }
    return out;
}

std::vector<FsInfo> TestDriver::domainGetFSInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetFSInfo");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    checkActive(d);
    for (const auto& disk : d.def.devices.disks) {
        if (disk.device != "disk")
            continue;
        const std::string& dst = disk.targetDev;
        return {FsInfo{"/", dst + "1", "ext4", {dst}}, FsInfo{"/boot", dst + "2", "ext4", {dst}}};
    }
    return {};
}

uint32_t TestDriver::domainFSFreeze(const std::string& uuid, const std::vector<std::string>& mounts, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainFSFreeze");
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    checkActive(d);
    if (mounts.empty()) {
        uint32_t n = 2 - (d.frozen[0] + d.frozen[1]);
        d.frozen[0] = d.frozen[1] = true;
        return n;
    }
    bool frozen[2] = {d.frozen[0], d.frozen[1]};
    uint32_t n = 0;
    for (const auto& m : mounts) {
        int i = m == "/" ? 0 : m == "/boot" ? 1 : -1;
        if (i < 0)
            throw testError(ErrCode::OperationInvalid, "mount point not found: " + m.substr(0, kMaxNameLength));
        if (!frozen[i]) {
            frozen[i] = true;
            ++n;
        }
    }
    d.frozen[0] = frozen[0];
    d.frozen[1] = frozen[1];
    return n;
}

uint32_t TestDriver::domainFSThaw(const std::string& uuid, const std::vector<std::string>& mounts, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainFSThaw");
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    checkActive(d);
    if (mounts.empty()) {
        uint32_t n = d.frozen[0] + d.frozen[1];
        d.frozen[0] = d.frozen[1] = false;
        return n;
    }
    bool frozen[2] = {d.frozen[0], d.frozen[1]};
    uint32_t n = 0;
    for (const auto& m : mounts) {
        int i = m == "/" ? 0 : m == "/boot" ? 1 : -1;
        if (i < 0)
            throw testError(ErrCode::OperationInvalid, "mount point not found: " + m.substr(0, kMaxNameLength));
        if (frozen[i]) {
            frozen[i] = false;
            ++n;
        }
    }
    d.frozen[0] = frozen[0];
    d.frozen[1] = frozen[1];
    return n;
}

void TestDriver::domainFSTrim(const std::string& uuid, const std::string& mount, uint64_t, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainFSTrim");
    std::lock_guard lock(mu_);
    checkActive(dom(uuid));
    if (!mount.empty() && mount != "/" && mount != "/boot")
        throw testError(ErrCode::OperationInvalid, "mount point not found: " + mount.substr(0, kMaxNameLength));
}

void TestDriver::domainInjectNMI(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainInjectNMI");
    std::lock_guard lock(mu_);
    checkActive(dom(uuid));
}

void TestDriver::domainSendKey(const std::string& uuid, uint32_t codeset, uint32_t, const std::vector<uint32_t>& keycodes,
                               uint32_t flags)
{
    constexpr size_t kMaxKeys = 16; // VIR_DOMAIN_SEND_KEY_MAX_KEYS
    if (keycodes.empty())
        throw bareInvalidArg("nkeycodes in virDomainSendKey must be greater than zero");
    if (keycodes.size() > kMaxKeys)
        throw bareInvalidArg("nkeycodes must be <= 16");
    if (codeset >= kCodesets.size())
        throw bareInvalidArg("Unsupported codeset '" + std::to_string(codeset) + "'");
    checkFlags(flags, 0, "testDomainSendKey");
    std::lock_guard lock(mu_);
    checkActive(dom(uuid));
    for (uint32_t code : keycodes)
        if (code > kCodesetMax[codeset])
            throw testError(ErrCode::InternalError, "invalid keycode " + std::to_string(code) + " of " +
                                                        kCodesets[codeset] + " codeset");
}

void TestDriver::domainSendProcessSignal(const std::string& uuid, int64_t pid, uint32_t sig, uint32_t flags)
{
    constexpr uint32_t kSignalLast = 65; // VIR_DOMAIN_PROCESS_SIGNAL_LAST
    checkFlags(flags, 0, "testDomainSendProcessSignal");
    if (pid != 1)
        throw testError(ErrCode::InvalidArg, "only sending a signal to pid 1 is supported");
    if (sig >= kSignalLast)
        throw testError(ErrCode::InvalidArg, "signum value " + std::to_string(sig) + " is out of range");
    std::lock_guard lock(mu_);
    dom(uuid);
}

void TestDriver::domainSetUserPassword(const std::string& uuid, const std::string&, const std::string&, uint32_t flags)
{
    constexpr uint32_t kPasswordEncrypted = 1;
    checkFlags(flags, kPasswordEncrypted, "testDomainSetUserPassword");
    std::lock_guard lock(mu_);
    checkActive(dom(uuid));
}

} // namespace virtbus
