// Live and persistent tuning: balloon size and statistics, vCPU counts and
// pinning (libvirt's qemuDomainSetMemoryFlags, qemuDomainSetVcpusFlags,
// qemuDomainPinVcpuFlags... with their flags, checks and error texts).
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "domain_common.h"
#include "fileutil.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

using domain::kAffectConfig;
using domain::kAffectLive;

namespace {

constexpr uint32_t kMemMaximum = 4;  // VIR_DOMAIN_MEM_MAXIMUM
constexpr uint32_t kVcpuMaximum = 4; // VIR_DOMAIN_VCPU_MAXIMUM
constexpr uint32_t kVcpuGuest = 8;   // VIR_DOMAIN_VCPU_GUEST
// QEMU's own limit for x86 machines (q35 with x2APIC); a bound on absurd
// counts before the definition is touched.
constexpr uint32_t kMaxVcpus = 4096;

VirtError bareInvalidArg(std::string message)
{
    return VirtError(ErrCode::InvalidArg, ErrDomain::Domain, std::move(message));
}

VirtError qemuError(ErrCode code, std::string_view detail)
{
    return makeError(code, ErrDomain::Qemu, detail);
}

bool hasVirtioBalloon(const xml::DomainDef& def)
{
    return def.devices.memballoon && def.devices.memballoon->model == "virtio";
}

bool hasBalloon(const xml::DomainDef& def)
{
    return def.devices.memballoon && def.devices.memballoon->model != "none";
}

// VmRSS of a process, in KiB (0 when it is gone).
uint64_t processRss(pid_t pid)
{
    auto status = readFile("/proc/" + std::to_string(pid) + "/status", 16384);
    if (!status)
        return 0;
    auto at = status->find("VmRSS:");
    return at == std::string::npos ? 0 : std::strtoull(status->c_str() + at + 6, nullptr, 10);
}

std::vector<bool> hostCpus(size_t n)
{
    return std::vector<bool>(n ? n : 1, true);
}

std::vector<bool> widthOf(std::vector<bool> map, size_t n)
{
    map.resize(n, false);
    return map;
}

} // namespace

// ---- helpers shared with qemu_stats.cpp ----

namespace qemu {

std::vector<pid_t> vcpuThreads(Monitor& mon)
{
    std::vector<pid_t> out;
    json::Value cpus = mon.execute("query-cpus-fast");
    if (!cpus.isArray())
        return out;
    for (const auto& c : cpus.asArray()) {
        int64_t idx = c.integer("cpu-index", -1);
        if (idx < 0 || idx >= static_cast<int64_t>(kMaxVcpus))
            continue;
        if (out.size() <= static_cast<size_t>(idx))
            out.resize(static_cast<size_t>(idx) + 1, -1);
        out[static_cast<size_t>(idx)] = static_cast<pid_t>(c.integer("thread-id", -1));
    }
    return out;
}

// What the definition asks of a guest that QEMU's command line cannot
// say: <vcpupin> affinities and the balloon's statistics period. Applied
// while the guest is still paused at start.
void applyBootTuning(Monitor& mon, const xml::DomainDef& def)
{
    if (!def.cputune.vcpupins.empty()) {
        std::vector<pid_t> threads = vcpuThreads(mon);
        for (const auto& pin : def.cputune.vcpupins) {
            if (pin.vcpu >= threads.size() || threads[pin.vcpu] <= 0)
                throw makeError(ErrCode::OperationInvalid, ErrDomain::Qemu,
                                "failed to find thread of vcpu " + std::to_string(pin.vcpu));
            std::vector<bool> map = domain::parseCpuset(pin.cpuset);
            cpu_set_t set;
            CPU_ZERO(&set);
            for (size_t i = 0; i < map.size() && i < CPU_SETSIZE; ++i)
                if (map[i])
                    CPU_SET(i, &set);
            if (sched_setaffinity(threads[pin.vcpu], sizeof set, &set) != 0)
                throw systemError(ErrDomain::Qemu,
                                  "cannot set CPU affinity on process " + std::to_string(threads[pin.vcpu]), errno);
        }
    }
    applyBootIotune(mon, def);
    applyBootBandwidth(def);
    std::string path = balloonPath(def);
    if (!path.empty() && def.devices.memballoon->statsPeriod && *def.devices.memballoon->statsPeriod > 0)
        mon.execute("qom-set", json::Object{{"path", path},
                                            {"property", "guest-stats-polling-interval"},
                                            {"value", json::Value(int64_t(*def.devices.memballoon->statsPeriod))}});
}

std::string balloonPath(const xml::DomainDef& def)
{
    if (!hasVirtioBalloon(def) || def.devices.memballoon->info.alias.empty())
        return {};
    return "/machine/peripheral/" + def.devices.memballoon->info.alias;
}

std::pair<uint64_t, uint64_t> cpuTimes(const std::string& statPath)
{
    auto stat = readFile(statPath, 4096);
    if (!stat)
        return {0, 0};
    auto close = stat->rfind(')');
    if (close == std::string::npos || close + 2 > stat->size())
        return {0, 0};
    const char* p = stat->c_str() + close + 2;
    // Fields 14 (utime) and 15 (stime), counting from field 3 here.
    for (int field = 3; field < 14 && p; ++field) {
        p = strchr(p, ' ');
        if (p)
            ++p;
    }
    if (!p)
        return {0, 0};
    char* end;
    uint64_t ut = strtoull(p, &end, 10);
    uint64_t st = strtoull(end, nullptr, 10);
    auto tick = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
    uint64_t ns = 1000000000ull / (tick ? tick : 100);
    return {ut * ns, st * ns};
}

} // namespace qemu

// ---- memory ----

void QemuDriver::domainSetMemory(const std::string& uuid, uint64_t kib, uint32_t flags)
{
    if (kib == 0)
        throw bareInvalidArg("memory in virDomainSetMemoryFlags must not be zero");
    checkFlags(flags, kAffectLive | kAffectConfig | kMemMaximum, "qemuDomainSetMemoryFlags");
    // QMP's balloon takes bytes in an int64.
    if (kib > (uint64_t(INT64_MAX) >> 10))
        throw qemuError(ErrCode::Overflow, "memory size " + std::to_string(kib) + " KiB is too large");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        const xml::DomainDef* live = (flags & kAffectLive) ? d->live.get() : nullptr;
        xml::DomainDef* config = (flags & kAffectConfig) ? d->def.get() : nullptr;
        if (flags & kMemMaximum) {
            if (live)
                throw qemuError(ErrCode::OperationInvalid, "cannot resize the maximum memory on an active domain");
            bool numa = std::any_of(config->cpu.extra.children.begin(), config->cpu.extra.children.end(),
                                    [](const std::string& x) { return x.starts_with("<numa"); });
            if (numa)
                throw qemuError(ErrCode::OperationInvalid,
                                "initial memory size of a domain with NUMA nodes cannot be modified with this API");
            if (config->maxMemory && config->maxMemory->kib < kib)
                throw qemuError(ErrCode::OperationInvalid,
                                "cannot set initial memory size greater than the maximum memory size");
            config->memory = kib;
            if (config->currentMemory > kib || config->currentMemory == 0)
                config->currentMemory = kib;
            saveConfig(*config);
            return;
        }
        uint64_t oldMax = live ? live->memory : config->memory;
        if (kib > oldMax)
            throw qemuError(ErrCode::InvalidArg, "cannot set memory higher than max memory");
        if (live) {
            if (!hasBalloon(*live))
                throw qemuError(ErrCode::OperationInvalid, "Unable to change memory of active domain without the "
                                                           "balloon device and guest OS balloon driver");
            mon = d->mon;
        }
    }
    if (mon) {
        // The live size follows BALLOON_CHANGE, when the guest complies.
        try {
            mon->execute("balloon", json::Object{{"value", json::Value(kib << 10)}});
        } catch (const qemu::QmpError& e) {
            if (e.cls == "DeviceNotActive")
                throw qemuError(ErrCode::OperationInvalid, "Unable to change memory of active domain without the "
                                                           "balloon device and guest OS balloon driver");
            throw qemuError(ErrCode::InternalError, "unable to set balloon: " + e.desc);
        }
    }
    if (flags & kAffectConfig) {
        std::lock_guard lock(mu_);
        d->def->currentMemory = kib;
        saveConfig(*d->def);
    }
}

void QemuDriver::domainSetMemoryStatsPeriod(const std::string& uuid, int32_t period, uint32_t flags)
{
    if (period < 0)
        throw bareInvalidArg("period in virDomainSetMemoryStatsPeriod must be zero or greater");
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainSetMemoryStatsPeriod");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    std::string path;
    const auto noBalloon = [] {
        return qemuError(ErrCode::OperationInvalid,
                         "No memory balloon device configured, can not set the collection period");
    };
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        if ((flags & kAffectLive) && !hasBalloon(*d->live))
            throw noBalloon();
        if ((flags & kAffectConfig) && !hasBalloon(*d->def))
            throw noBalloon();
        if (flags & kAffectLive) {
            mon = d->mon;
            path = qemu::balloonPath(*d->live);
        }
    }
    if (mon) {
        try {
            if (path.empty())
                throw qemu::QmpError("GenericError", "no virtio balloon");
            mon->execute("qom-set", json::Object{{"path", path},
                                                 {"property", "guest-stats-polling-interval"},
                                                 {"value", json::Value(int64_t(period))}});
        } catch (const qemu::QmpError&) {
            throw qemuError(ErrCode::OperationInvalid, "unable to set balloon driver collection period");
        }
    }
    {
        std::lock_guard lock(mu_);
        auto apply = [&](xml::DomainDef& def) {
            if (!def.devices.memballoon)
                return;
            if (period > 0)
                def.devices.memballoon->statsPeriod = static_cast<unsigned>(period);
            else
                def.devices.memballoon->statsPeriod.reset();
        };
        if ((flags & kAffectLive) && d->live)
            apply(*d->live);
        if (flags & kAffectConfig) {
            apply(*d->def);
            saveConfig(*d->def);
        }
    }
    if (flags & kAffectLive)
        writeStatus(*d);
}

std::vector<std::pair<int32_t, uint64_t>> QemuDriver::domainMemoryStats(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainMemoryStats");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    std::string path;
    pid_t pid;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        pid = d->pid;
        if (hasVirtioBalloon(*d->live)) {
            mon = d->mon;
            path = qemu::balloonPath(*d->live);
        }
    }
    std::vector<std::pair<int32_t, uint64_t>> out;
    if (mon) {
        // qemuMonitorJSONGetMemoryStats: the guest's figures (bytes, -1
        // when the guest driver does not report one), then "actual".
        try {
            json::Value guest = mon->execute("qom-get", json::Object{{"path", path}, {"property", "guest-stats"}});
            if (const json::Value* st = guest.find("stats")) {
                static const struct {
                    const char* key;
                    int32_t tag;
                    bool bytes;
                } kStats[] = {{"stat-swap-in", 0, true},           {"stat-swap-out", 1, true},
                              {"stat-major-faults", 2, false},     {"stat-minor-faults", 3, false},
                              {"stat-free-memory", 4, true},       {"stat-total-memory", 5, true},
                              {"stat-available-memory", 8, true},  {"stat-disk-caches", 10, true},
                              {"stat-htlb-pgalloc", 11, false},    {"stat-htlb-pgfail", 12, false}};
                for (const auto& s : kStats) {
                    const json::Value* v = st->find(s.key);
                    if (!v || !v->isNumber() || v->asDouble() < 0)
                        continue;
                    uint64_t n = v->asUInt();
                    out.emplace_back(s.tag, s.bytes ? n >> 10 : n);
                }
            }
            int64_t last = guest.integer("last-update", 0);
            if (last > 0)
                out.emplace_back(9, static_cast<uint64_t>(last));
        } catch (const qemu::QmpError&) {
            // Older QEMU or a balloon without guest statistics: only "actual".
        }
        json::Value b = mon->execute("query-balloon");
        out.emplace_back(6, static_cast<uint64_t>(b.integer("actual")) >> 10);
    }
    out.emplace_back(7, processRss(pid));
    return out;
}

// ---- vCPUs ----

void QemuDriver::domainSetVcpus(const std::string& uuid, uint32_t count, uint32_t flags)
{
    if ((flags & kVcpuMaximum) && !(flags & kAffectConfig))
        throw bareInvalidArg("Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'");
    if (count == 0)
        throw bareInvalidArg("nvcpus in virDomainSetVcpusFlags must not be zero");
    checkFlags(flags, kAffectLive | kAffectConfig | kVcpuMaximum | kVcpuGuest, "qemuDomainSetVcpusFlags");
    if (flags & kVcpuGuest)
        throw qemuError(ErrCode::OperationUnsupported, "changing guest vCPUs needs the guest agent, which "
                                                       "virtbus's QEMU driver does not support");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::unique_lock lock(mu_);
    domain::updateImpact(flags, d->active(), d->persistent);
    xml::DomainDef* live = (flags & kAffectLive) ? d->live.get() : nullptr;
    xml::DomainDef* config = (flags & kAffectConfig) ? d->def.get() : nullptr;
    if (live && (flags & kVcpuMaximum))
        throw qemuError(ErrCode::InvalidArg, "maximum vcpu count of a live domain can't be modified");
    if (live && count > live->vcpu.max)
        throw qemuError(ErrCode::InvalidArg, "requested vcpus is greater than max allowable vcpus for the live "
                                             "domain: " + std::to_string(count) + " > " +
                                                 std::to_string(live->vcpu.max));
    if (config && !(flags & kVcpuMaximum) && count > config->vcpu.max)
        throw qemuError(ErrCode::InvalidArg, "requested vcpus is greater than max allowable vcpus for the "
                                             "persistent domain: " + std::to_string(count) + " > " +
                                                 std::to_string(config->vcpu.max));
    if (config && (flags & kVcpuMaximum) && count > kMaxVcpus)
        throw qemuError(ErrCode::InvalidArg, "requested vcpus is greater than max allowable vcpus for the domain: " +
                                                 std::to_string(count) + " > " + std::to_string(kMaxVcpus));
    if (live && count != live->vcpu.current) {
        lock.unlock(); // QMP round trips; the job keeps others out
        setLiveVcpus(d, count);
        lock.lock();
        config = (flags & kAffectConfig) ? d->def.get() : nullptr;
    }
    if (!config)
        return;
    if (flags & kVcpuMaximum) {
        config->vcpu.max = count;
        config->vcpu.current = std::min(config->vcpu.current, count);
        auto& pins = config->cputune.vcpupins;
        pins.erase(std::remove_if(pins.begin(), pins.end(), [&](const xml::VcpuPin& p) { return p.vcpu >= count; }),
                   pins.end());
    } else {
        config->vcpu.current = count;
    }
    saveConfig(*config);
}

std::vector<std::vector<bool>> QemuDriver::domainGetVcpuPinInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainGetVcpuPinInfo");
    domain::checkOneDef(flags);
    size_t width = nodeCPUMap(0).size();
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    domain::updateImpact(flags, d->active(), d->persistent);
    const xml::DomainDef& def = (flags & kAffectConfig) ? *d->def : *d->live;
    std::vector<bool> fallback = def.vcpu.cpuset.empty() ? hostCpus(width) : domain::parseCpuset(def.vcpu.cpuset);
    std::vector<std::vector<bool>> out;
    for (unsigned v = 0; v < def.vcpu.max; ++v) {
        auto pin = std::find_if(def.cputune.vcpupins.begin(), def.cputune.vcpupins.end(),
                                [&](const xml::VcpuPin& p) { return p.vcpu == v; });
        out.push_back(widthOf(pin != def.cputune.vcpupins.end() ? domain::parseCpuset(pin->cpuset) : fallback, width));
    }
    return out;
}

void QemuDriver::domainPinVcpu(const std::string& uuid, uint32_t vcpu, const std::vector<bool>& map, uint32_t flags)
{
    if (map.empty())
        throw bareInvalidArg("maplen in virDomainPinVcpuFlags must be greater than zero");
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainPinVcpuFlags");
    size_t width = nodeCPUMap(0).size();
    // Bits past the host's CPUs name nothing; libvirt drops them too.
    std::vector<bool> pin(map.begin(), map.begin() + static_cast<std::ptrdiff_t>(std::min(map.size(), width)));
    if (std::none_of(pin.begin(), pin.end(), [](bool b) { return b; }))
        throw qemuError(ErrCode::InvalidArg, "Empty cpu list for pinning");
    std::string cpuset = domain::formatCpuset(pin);
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        if ((flags & kAffectLive) && vcpu >= d->live->vcpu.current)
            throw qemuError(ErrCode::InvalidArg, "vcpu " + std::to_string(vcpu) +
                                                     " is out of range of live cpu count " +
                                                     std::to_string(d->live->vcpu.current));
        if ((flags & kAffectConfig) && vcpu >= d->def->vcpu.max)
            throw qemuError(ErrCode::InvalidArg, "vcpu " + std::to_string(vcpu) +
                                                     " is out of range of persistent cpu count " +
                                                     std::to_string(d->def->vcpu.max));
        if (flags & kAffectLive)
            mon = d->mon;
    }
    if (mon) {
        std::vector<pid_t> threads = qemu::vcpuThreads(*mon);
        if (vcpu >= threads.size() || threads[vcpu] <= 0)
            throw qemuError(ErrCode::OperationInvalid, "failed to find thread of vcpu " + std::to_string(vcpu));
        cpu_set_t set;
        CPU_ZERO(&set);
        for (size_t i = 0; i < pin.size() && i < CPU_SETSIZE; ++i)
            if (pin[i])
                CPU_SET(i, &set);
        if (sched_setaffinity(threads[vcpu], sizeof set, &set) != 0)
            throw systemError(ErrDomain::Qemu, "cannot set CPU affinity on process " + std::to_string(threads[vcpu]),
                              errno);
    }
    {
        std::lock_guard lock(mu_);
        auto apply = [&](xml::DomainDef& def) {
            auto& pins = def.cputune.vcpupins;
            auto it = std::find_if(pins.begin(), pins.end(), [&](const xml::VcpuPin& p) { return p.vcpu == vcpu; });
            if (it != pins.end())
                it->cpuset = cpuset;
            else
                pins.push_back({vcpu, cpuset});
        };
        if ((flags & kAffectLive) && d->live)
            apply(*d->live);
        if (flags & kAffectConfig) {
            apply(*d->def);
            saveConfig(*d->def);
        }
    }
    if (flags & kAffectLive)
        writeStatus(*d);
}

std::vector<bool> QemuDriver::domainGetEmulatorPinInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainGetEmulatorPinInfo");
    domain::checkOneDef(flags);
    size_t width = nodeCPUMap(0).size();
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    domain::updateImpact(flags, d->active(), d->persistent);
    const xml::DomainDef& def = (flags & kAffectConfig) ? *d->def : *d->live;
    if (!def.cputune.emulatorpin.empty())
        return widthOf(domain::parseCpuset(def.cputune.emulatorpin), width);
    if (!def.vcpu.cpuset.empty())
        return widthOf(domain::parseCpuset(def.vcpu.cpuset), width);
    return hostCpus(width);
}

} // namespace virtbus
