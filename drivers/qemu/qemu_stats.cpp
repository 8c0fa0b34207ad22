// Domain statistics from what the host knows without asking QEMU: state,
// CPU time of the process, and the configured memory and vCPUs.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "fileutil.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

namespace virtbus {

namespace {

// VIR_DOMAIN_STATS_*.
constexpr uint32_t kStatsState = 1, kStatsCpuTotal = 2, kStatsBalloon = 4, kStatsVcpu = 8;

// utime and stime of a process, in nanoseconds.
std::pair<uint64_t, uint64_t> cpuTimes(pid_t pid)
{
    auto stat = readFile("/proc/" + std::to_string(pid) + "/stat", 4096);
    if (!stat)
        return {0, 0};
    auto close = stat->rfind(')');
    if (close == std::string::npos)
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
    uint64_t stt = strtoull(end, nullptr, 10);
    uint64_t tick = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
    uint64_t ns = 1000000000ull / (tick ? tick : 100);
    return {ut * ns, stt * ns};
}

} // namespace

TypedParams QemuDriver::domainGetStats(const std::string& uuid, uint32_t stats, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainGetStats");
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    if (stats == 0)
        stats = kStatsState | kStatsCpuTotal | kStatsBalloon | kStatsVcpu;
    TypedParams p;
    const xml::DomainDef& def = d->current();
    if (stats & kStatsState) {
        p.push_back({"state.state", int32_t(d->state)});
        p.push_back({"state.reason", int32_t(d->reason)});
    }
    if ((stats & kStatsCpuTotal) && d->active()) {
        auto [user, sys] = cpuTimes(d->pid);
        p.push_back({"cpu.time", user + sys});
        p.push_back({"cpu.user", user});
        p.push_back({"cpu.system", sys});
    }
    if (stats & kStatsBalloon) {
        p.push_back({"balloon.current", uint64_t(def.currentMemory ? def.currentMemory : def.memory)});
        p.push_back({"balloon.maximum", uint64_t(def.memory)});
    }
    if (stats & kStatsVcpu) {
        p.push_back({"vcpu.current", uint32_t(def.vcpu.current)});
        p.push_back({"vcpu.maximum", uint32_t(def.vcpu.max)});
    }
    return p;
}

std::vector<std::pair<DomainRef, TypedParams>> QemuDriver::allDomainStats(uint32_t stats, uint32_t flags)
{
    // The list filters of virConnectGetAllDomainStats are the listing's.
    std::vector<std::pair<DomainRef, TypedParams>> out;
    for (const auto& ref : listDomains(flags & 0xFF)) {
        try {
            out.emplace_back(ref, domainGetStats(ref.uuid, stats, 0));
        } catch (const VirtError&) {
            // Undefined meanwhile.
        }
    }
    return out;
}

} // namespace virtbus
