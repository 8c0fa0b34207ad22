// Scheduler parameters (Get/SetSchedulerParameters, <cputune><shares>):
// cpu_shares through a cgroup virtbusd makes for each running guest and
// moves its QEMU into, <cgroup mount>/virtbus/<name>: cgroup v2's
// cpu.weight when the unified hierarchy has the cpu controller, else
// cgroup v1's cpu.shares. Where the tree is not writable (a container
// without delegation) the calls say so. Per-vCPU period/quota would need a
// cgroup per vCPU thread and are not implemented.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "domain_common.h"
#include "fileutil.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

namespace virtbus {

using domain::kAffectConfig;
using domain::kAffectLive;

namespace {

struct CpuCgroup {
    std::string base; // the hierarchy's virtbus directory
    bool v2 = false;
};

// The cpu controller's hierarchy, or why there is none.
CpuCgroup cpuHierarchy()
{
    auto controllers = readFile("/sys/fs/cgroup/cgroup.controllers", 4096);
    if (controllers && (" " + *controllers).find(" cpu") != std::string::npos)
        return {"/sys/fs/cgroup/virtbus", true};
    for (const char* dir : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
        struct stat st;
        if (::stat((std::string(dir) + "/cpu.shares").c_str(), &st) == 0)
            return {std::string(dir) + "/virtbus", false};
    }
    throw makeError(ErrCode::OperationInvalid, ErrDomain::Qemu, "cgroup CPU controller is not mounted");
}

void writeKnob(const std::string& path, const std::string& value)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        int e = errno;
        if (fd >= 0)
            ::close(fd);
        throw systemError(ErrDomain::Qemu,
            "Unable to write to '" + path + "'"
                + (e == EROFS || e == EACCES || e == EPERM
                        ? " (the cgroup tree is not writable here: scheduler parameters need a cgroup "
                          "virtbusd may create)"
                        : ""),
            e);
    }
    ::close(fd);
}

// The guest's cgroup with `pid` in it, made on first use.
std::string guestCgroup(const CpuCgroup& h, const std::string& name, pid_t pid)
{
    auto mk = [](const std::string& dir) {
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            throw systemError(ErrDomain::Qemu,
                "Unable to create cgroup '" + dir
                    + "' (scheduler parameters need a writable cgroup "
                      "tree)",
                errno);
    };
    mk(h.base);
    if (h.v2) {
        // Controllers reach a child only through every parent's subtree_control.
        auto root = readFile("/sys/fs/cgroup/cgroup.subtree_control", 4096).value_or("");
        if ((" " + root).find(" cpu") == std::string::npos)
            writeKnob("/sys/fs/cgroup/cgroup.subtree_control", "+cpu");
        writeKnob(h.base + "/cgroup.subtree_control", "+cpu");
    }
    std::string dir = h.base + "/" + name;
    mk(dir);
    writeKnob(dir + "/cgroup.procs", std::to_string(pid));
    return dir;
}

std::string sharesKnob(const CpuCgroup& h) { return h.v2 ? "cpu.weight" : "cpu.shares"; }

void checkShares(const CpuCgroup& h, uint64_t v)
{
    uint64_t lo = h.v2 ? 1 : 2, hi = h.v2 ? 10000 : 262144;
    if (v < lo || v > hi)
        throw makeError(ErrCode::InvalidArg, ErrDomain::Qemu,
            "shares '" + std::to_string(v) + "' must be in range [" + std::to_string(lo) + ", " + std::to_string(hi)
                + "]");
}

} // namespace

namespace qemu {

void applyBootCgroup(pid_t pid, const xml::DomainDef& def)
{
    if (!def.cputune.shares)
        return;
    CpuCgroup h = cpuHierarchy();
    checkShares(h, *def.cputune.shares);
    writeKnob(guestCgroup(h, def.name, pid) + "/" + sharesKnob(h), std::to_string(*def.cputune.shares));
}

void removeCgroup(const std::string& name)
{
    for (const char* base :
        {"/sys/fs/cgroup/virtbus/", "/sys/fs/cgroup/cpu/virtbus/", "/sys/fs/cgroup/cpu,cpuacct/virtbus/"})
        ::rmdir((base + name).c_str());
}

} // namespace qemu

TypedParams QemuDriver::domainGetSchedulerParameters(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainGetSchedulerParametersFlags");
    domain::checkOneDef(flags);
    CpuCgroup h = cpuHierarchy();
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    domain::updateImpact(flags, d->active(), d->persistent);
    const xml::DomainDef& def = (flags & kAffectLive) ? *d->live : *d->def;
    uint64_t shares = def.cputune.shares.value_or(h.v2 ? 100 : 1024);
    if (flags & kAffectLive)
        if (auto v = readFile(h.base + "/" + def.name + "/" + sharesKnob(h), 64))
            shares = std::strtoull(v->c_str(), nullptr, 10);
    return {{"cpu_shares", shares}};
}

void QemuDriver::domainSetSchedulerParameters(const std::string& uuid, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainSetSchedulerParametersFlags");
    std::optional<uint64_t> shares;
    for (const auto& param : p) {
        if (param.name != "cpu_shares")
            throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu,
                "parameter '" + param.name
                    + "' not supported (virtbus's QEMU driver sets cpu_shares "
                      "only; per-vCPU cgroups are not implemented)");
        if (shares)
            throw err::invalidArg("parameter 'cpu_shares' occurs multiple times");
        shares = paramAsUnsigned(param.value);
        if (!shares)
            throw err::invalidArg("invalid type for parameter 'cpu_shares', expected 'ullong'");
    }
    if (!shares)
        return;
    CpuCgroup h = cpuHierarchy();
    checkShares(h, *shares);
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::lock_guard lock(mu_);
    domain::updateImpact(flags, d->active(), d->persistent);
    if (flags & kAffectLive) {
        writeKnob(guestCgroup(h, d->name(), d->pid) + "/" + sharesKnob(h), std::to_string(*shares));
        d->live->cputune.shares = *shares;
    }
    if (flags & kAffectConfig) {
        xml::DomainDef copy = *d->def;
        copy.cputune.shares = *shares;
        saveConfig(copy);
        *d->def = std::move(copy);
    }
}

} // namespace virtbus
