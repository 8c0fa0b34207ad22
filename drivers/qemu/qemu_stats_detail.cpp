// The finer keys of the statistics groups (qemu_stats.cpp asks): the
// guest's balloon figures, vCPU scheduling delays, and which groups exist
// at all (ENFORCE_STATS).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fileutil.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus::qemu {

namespace {

constexpr uint32_t kStatsEnforce = 1u << 31; // VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS

uint64_t statusKiB(pid_t pid, const char* field)
{
    auto status = readFile("/proc/" + std::to_string(pid) + "/status", 16384);
    if (!status)
        return 0;
    auto at = status->find(field);
    return at == std::string::npos ? 0 : std::strtoull(status->c_str() + at + std::strlen(field), nullptr, 10);
}

} // namespace

uint32_t resolveStatsGroups(uint32_t stats, uint32_t flags)
{
    if ((flags & kStatsEnforce) && (stats & ~kStatsGroupsSupported)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "0x%x", stats & ~kStatsGroupsSupported);
        throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu,
            std::string("Stats types bits ") + buf + " are not supported by this daemon or QEMU");
    }
    return stats ? stats & kStatsGroupsSupported : kStatsGroupsSupported;
}

void addBalloonDetail(TypedParams& p, Monitor* mon, const std::string& balloonPath, pid_t pid)
{
    if (mon && !balloonPath.empty()) {
        json::Value guest;
        try {
            guest = mon->execute("qom-get", json::Object {{"path", balloonPath}, {"property", "guest-stats"}});
        } catch (const std::exception&) {
            // No answer (the guest stopped meanwhile): no guest figures.
        }
        // libvirt's keys, in KiB for sizes; a figure the guest does not
        // report (-1, or no statistics period yet) has no key.
        static const struct {
            const char* qemu;
            const char* key;
            bool bytes;
        } kKeys[] = {{"stat-swap-in", "balloon.swap_in", true}, {"stat-swap-out", "balloon.swap_out", true},
            {"stat-major-faults", "balloon.major_fault", false}, {"stat-minor-faults", "balloon.minor_fault", false},
            {"stat-free-memory", "balloon.unused", true}, {"stat-total-memory", "balloon.available", true},
            {"stat-available-memory", "balloon.usable", true}, {"stat-disk-caches", "balloon.disk_caches", true},
            {"stat-htlb-pgalloc", "balloon.hugetlb_pgalloc", false},
            {"stat-htlb-pgfail", "balloon.hugetlb_pgfail", false}};
        const json::Value* st = guest.find("stats");
        int64_t updated = guest.integer("last-update", 0);
        if (st && updated > 0) {
            for (const auto& k : kKeys) {
                int64_t v = st->integer(k.qemu, -1);
                if (v >= 0)
                    p.push_back({k.key, uint64_t(k.bytes ? v >> 10 : v)});
            }
            p.push_back({"balloon.last-update", uint64_t(updated)});
        }
    }
    if (pid > 0)
        p.push_back({"balloon.rss", statusKiB(pid, "VmRSS:")});
}

void addVcpuSched(TypedParams& p, const std::string& prefix, pid_t pid, pid_t tid)
{
    std::string task = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
    // schedstat: time on the CPU, time waiting on a run queue, slices (ns).
    if (auto s = readFile(task + "/schedstat", 256)) {
        unsigned long long run = 0, queued = 0;
        if (std::sscanf(s->c_str(), "%llu %llu", &run, &queued) == 2) {
            p.push_back({prefix + "wait", uint64_t(queued)});
            p.push_back({prefix + "delay", uint64_t(queued)});
        }
    }
}

} // namespace virtbus::qemu
