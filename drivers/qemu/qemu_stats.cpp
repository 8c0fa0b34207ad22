// Domain statistics (virConnectGetAllDomainStats's groups and key names).
// What needs QMP (balloon, vCPU threads, block counters) is asked without
// the driver lock, and only when the domain job is free: a domain busy
// starting or stopping reports its configured figures instead, as libvirt
// does for a domain whose job it cannot take without waiting.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include "fileutil.h"
#include "qemu/qemu_blockjob.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

namespace {

// VIR_DOMAIN_STATS_*.
constexpr uint32_t kStatsState = 1, kStatsCpuTotal = 2, kStatsBalloon = 4, kStatsVcpu = 8, kStatsInterface = 16,
                   kStatsBlock = 32;
constexpr int32_t kVcpuRunning = 1; // VIR_VCPU_RUNNING
// virConnectGetAllDomainStatsFlags: the list filters, NOWAIT (figures
// come without waiting for a busy job anyway), BACKING (accepted: no
// backing chain entries), ENFORCE_STATS.
constexpr uint32_t kStatsFilters = 0xFF;
constexpr uint32_t kStatsFlags = kStatsFilters | (1u << 29) | (1u << 30) | (1u << 31);

// What a stats call needs from the domain, copied under mu_.
struct Snapshot {
    int state = 0, reason = 0;
    pid_t pid = -1;
    bool active = false;
    std::shared_ptr<qemu::Monitor> mon;
    uint64_t memory = 0, currentMemory = 0;
    unsigned vcpuCurrent = 0, vcpuMax = 0;
    std::vector<xml::DiskDef> disks;
    std::vector<xml::InterfaceDef> nets;
    std::string balloonPath;
};

uint64_t sysfsCounter(const std::string& dev, const char* name)
{
    auto v = readFile("/sys/class/net/" + dev + "/statistics/" + name, 64);
    return v ? std::strtoull(v->c_str(), nullptr, 10) : 0;
}

// query-blockstats' entry for a disk: by qdev id (-blockdev) or by the
// legacy "drive-<alias>" device name.
const json::Value* blockEntry(const json::Value& all, const std::string& alias)
{
    if (!all.isArray() || alias.empty())
        return nullptr;
    for (const auto& e : all.asArray()) {
        std::string qdev = e.str("qdev");
        if (qdev == alias || qdev.starts_with("/machine/peripheral/" + alias + "/") ||
            e.str("device") == "drive-" + alias)
            return &e;
    }
    return nullptr;
}

void addBlock(TypedParams& p, const Snapshot& s, const json::Value& blockstats, const json::Value& blocks)
{
    p.push_back({"block.count", uint32_t(s.disks.size())});
    for (size_t i = 0; i < s.disks.size(); ++i) {
        const auto& disk = s.disks[i];
        std::string k = "block." + std::to_string(i) + ".";
        p.push_back({k + "name", disk.targetDev});
        if (!disk.path.empty())
            p.push_back({k + "path", disk.path});
        const json::Value* e = blockEntry(blockstats, disk.info.alias);
        const json::Value* st = e ? e->find("stats") : nullptr;
        if (!st)
            continue;
        auto u = [&](const char* key) { return uint64_t(st->integer(key)); };
        p.push_back({k + "rd.reqs", u("rd_operations")});
        p.push_back({k + "rd.bytes", u("rd_bytes")});
        p.push_back({k + "rd.times", u("rd_total_time_ns")});
        p.push_back({k + "wr.reqs", u("wr_operations")});
        p.push_back({k + "wr.bytes", u("wr_bytes")});
        p.push_back({k + "wr.times", u("wr_total_time_ns")});
        p.push_back({k + "fl.reqs", u("flush_operations")});
        p.push_back({k + "fl.times", u("flush_total_time_ns")});
        qemu::addBlockSizes(p, k, *e, blocks, disk.info.alias);
    }
}

void addNet(TypedParams& p, const Snapshot& s)
{
    p.push_back({"net.count", uint32_t(s.nets.size())});
    for (size_t i = 0; i < s.nets.size(); ++i) {
        const auto& net = s.nets[i];
        std::string k = "net." + std::to_string(i) + ".";
        p.push_back({k + "name", net.targetDev});
        // A user-mode NIC has no host device to count on.
        if (net.type == "user" || net.targetDev.empty() || !s.active)
            continue;
        // The tap's transmit is the guest's receive (libvirt swaps too).
        p.push_back({k + "rx.bytes", sysfsCounter(net.targetDev, "tx_bytes")});
        p.push_back({k + "rx.pkts", sysfsCounter(net.targetDev, "tx_packets")});
        p.push_back({k + "rx.errs", sysfsCounter(net.targetDev, "tx_errors")});
        p.push_back({k + "rx.drop", sysfsCounter(net.targetDev, "tx_dropped")});
        p.push_back({k + "tx.bytes", sysfsCounter(net.targetDev, "rx_bytes")});
        p.push_back({k + "tx.pkts", sysfsCounter(net.targetDev, "rx_packets")});
        p.push_back({k + "tx.errs", sysfsCounter(net.targetDev, "rx_errors")});
        p.push_back({k + "tx.drop", sysfsCounter(net.targetDev, "rx_dropped")});
    }
}

} // namespace

TypedParams QemuDriver::domainGetStats(const std::string& uuid, uint32_t stats, uint32_t flags)
{
    // virDomainListGetStats: the list filters apply to the one domain too.
    checkFlags(flags, kStatsFlags, "qemuConnectGetAllDomainStats");
    stats = qemu::resolveStatsGroups(stats, flags);
    if (flags & kStatsFilters) {
        auto refs = listDomains(flags & kStatsFilters);
        if (std::none_of(refs.begin(), refs.end(), [&](const DomainRef& r) { return r.uuid == uuid; }))
            return {};
    }
    auto d = find(uuid);
    std::unique_lock job(d->job, std::try_to_lock);
    Snapshot s;
    {
        std::lock_guard lock(mu_);
        const xml::DomainDef& def = d->current();
        s.state = d->state;
        s.reason = d->reason;
        s.active = d->active();
        s.pid = d->pid;
        if (s.active && job.owns_lock())
            s.mon = d->mon;
        s.memory = def.memory;
        s.currentMemory = def.currentMemory ? def.currentMemory : def.memory;
        s.vcpuCurrent = def.vcpu.current;
        s.vcpuMax = def.vcpu.max;
        if (s.active && (stats & kStatsBalloon))
            s.balloonPath = qemu::balloonPath(def);
        if (stats & kStatsBlock)
            s.disks = def.devices.disks;
        if (stats & kStatsInterface)
            s.nets = def.devices.interfaces;
    }
    // The monitor may close under us (the guest stops): configured figures.
    auto query = [&](const char* cmd) -> json::Value {
        if (!s.mon)
            return {};
        try {
            return s.mon->execute(cmd);
        } catch (const std::exception&) {
            return {};
        }
    };
    TypedParams p;
    if (stats & kStatsState) {
        p.push_back({"state.state", int32_t(s.state)});
        p.push_back({"state.reason", int32_t(s.reason)});
    }
    if ((stats & kStatsCpuTotal) && s.active) {
        auto [user, sys] = qemu::cpuTimes("/proc/" + std::to_string(s.pid) + "/stat");
        p.push_back({"cpu.time", user + sys});
        p.push_back({"cpu.user", user});
        p.push_back({"cpu.system", sys});
    }
    if (stats & kStatsBalloon) {
        uint64_t current = s.currentMemory;
        json::Value b = query("query-balloon");
        if (b.isObject() && b.find("actual"))
            current = uint64_t(b.integer("actual")) >> 10;
        p.push_back({"balloon.current", current});
        p.push_back({"balloon.maximum", s.memory});
        qemu::addBalloonDetail(p, s.mon.get(), s.balloonPath, s.active ? s.pid : -1);
    }
    if (stats & kStatsVcpu) {
        p.push_back({"vcpu.current", uint32_t(s.vcpuCurrent)});
        p.push_back({"vcpu.maximum", uint32_t(s.vcpuMax)});
        json::Value cpus = query("query-cpus-fast");
        if (cpus.isArray()) {
            for (const auto& c : cpus.asArray()) {
                std::string k = "vcpu." + std::to_string(c.integer("cpu-index")) + ".";
                auto [user, sys] = qemu::cpuTimes("/proc/" + std::to_string(s.pid) + "/task/" +
                                                  std::to_string(c.integer("thread-id")) + "/stat");
                p.push_back({k + "state", kVcpuRunning});
                p.push_back({k + "time", user + sys});
                qemu::addVcpuSched(p, k, s.pid, pid_t(c.integer("thread-id")));
            }
        }
    }
    if (stats & kStatsInterface)
        addNet(p, s);
    if (stats & kStatsBlock)
        addBlock(p, s, query("query-blockstats"), query("query-block"));
    return p;
}

std::vector<std::pair<DomainRef, TypedParams>> QemuDriver::allDomainStats(uint32_t stats, uint32_t flags)
{
    // The list filters of virConnectGetAllDomainStats are the listing's.
    checkFlags(flags, kStatsFlags, "qemuConnectGetAllDomainStats");
    stats = qemu::resolveStatsGroups(stats, flags);
    std::vector<DomainRef> refs = listDomains(flags & kStatsFilters);
    std::vector<std::optional<TypedParams>> got(refs.size());
    // Most of the time goes to QMP round trips, each guest's own QEMU
    // answering: a few guests are asked at once.
    std::atomic<size_t> next {0};
    auto work = [&] {
        for (size_t i; (i = next++) < refs.size();) {
            try {
                got[i] = domainGetStats(refs[i].uuid, stats, flags & ~kStatsFilters);
            } catch (const std::exception&) {
                // Undefined meanwhile (and nothing may escape a helper
                // thread).
            }
        }
    };
    std::vector<std::thread> helpers;
    for (size_t t = 1; t < std::min<size_t>(4, refs.size()); ++t)
        helpers.emplace_back(work);
    work();
    for (auto& h : helpers)
        h.join();
    std::vector<std::pair<DomainRef, TypedParams>> out;
    for (size_t i = 0; i < refs.size(); ++i)
        if (got[i])
            out.emplace_back(std::move(refs[i]), std::move(*got[i]));
    return out;
}

} // namespace virtbus
