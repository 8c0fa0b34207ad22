// Memory, vCPU counts, CPU pinning and I/O threads. Pin maps given to
// clients are 8 CPUs wide (the width virNodeGetCPUMap reports); defaults
// cover libvirt's 16 host CPUs and are cut to that width.
#include "test/test_internal.h"

#include <algorithm>

namespace virtbus {

using namespace testdrv;

namespace {

constexpr uint32_t kMemMaximum = 4;  // VIR_DOMAIN_MEM_MAXIMUM
constexpr uint32_t kVcpuMaximum = 4; // VIR_DOMAIN_VCPU_MAXIMUM

bool hasBalloon(const xml::DomainDef& def)
{
    return def.devices.memballoon && def.devices.memballoon->model != "none";
}

std::vector<bool> defaultCpus(const xml::DomainDef& def)
{
    return def.vcpu.cpuset.empty() ? allCpus() : parseCpuset(def.vcpu.cpuset);
}

void checkNonEmptyMap(const std::vector<bool>& map, std::string_view api)
{
    if (map.empty())
        throw bareInvalidArg("maplen in " + std::string(api) + " must be greater than zero");
}

} // namespace

void TestDriver::domainSetMemory(const std::string& uuid, uint64_t kib, uint32_t flags)
{
    if (kib == 0)
        throw bareInvalidArg("memory in virDomainSetMemoryFlags must not be zero");
    checkFlags(flags, kAffectLive | kAffectConfig | kMemMaximum, "testDomainSetMemoryFlags");
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    bool live = false;
    xml::DomainDef& def = getOneDef(d, flags, &live);
    if (flags & kMemMaximum) {
        if (live)
            throw testError(ErrCode::OperationInvalid, "cannot resize the maximum memory on an active domain");
        bool numa = std::any_of(def.cpu.extra.children.begin(), def.cpu.extra.children.end(),
                                [](const std::string& x) { return x.starts_with("<numa"); });
        if (numa)
            throw testError(ErrCode::OperationInvalid,
                            "initial memory size of a domain with NUMA nodes cannot be modified with this API");
        if (def.maxMemory && def.maxMemory->kib < kib)
            throw testError(ErrCode::OperationInvalid,
                            "cannot set initial memory size greater than the maximum memory size");
        def.memory = kib;
        def.currentMemory = std::min(def.currentMemory, kib);
    } else {
        if (kib > def.memory)
            throw testError(ErrCode::InvalidArg, "cannot set memory higher than max memory");
        def.currentMemory = kib;
    }
}

void TestDriver::domainSetMemoryStatsPeriod(const std::string& uuid, int32_t period, uint32_t flags)
{
    if (period < 0)
        throw bareInvalidArg("period in virDomainSetMemoryStatsPeriod must be zero or greater");
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetMemoryStatsPeriod");
    std::lock_guard lock(mu_);
    xml::DomainDef& def = getOneDef(dom(uuid), flags);
    if (!hasBalloon(def))
        throw testError(ErrCode::InternalError,
                        "No memory balloon device configured, can not set the collection period");
    if (period > 0)
        def.devices.memballoon->statsPeriod = static_cast<unsigned>(period);
    else
        def.devices.memballoon->statsPeriod.reset();
}

std::vector<std::pair<int32_t, uint64_t>> TestDriver::domainMemoryStats(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainMemoryStats");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    checkActive(d);
    if (!hasBalloon(d.def))
        return {};
    // virDomainMemoryStatTags in testDomainMemoryStats's order and values.
    uint64_t cur = d.def.currentMemory;
    return {{6, cur},          {0, 0},       {1, 0},         {2, 0}, {3, 0}, {4, cur / 2},
            {5, cur},          {8, cur / 2}, {9, static_cast<uint64_t>(kDefaultGuestTime)},
            {10, cur / 8},     {11, 0},      {12, 0},        {7, cur / 2}};
}

uint32_t TestDriver::domainGetVcpus(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kVcpuMaximum, "testDomainGetVcpusFlags");
    std::lock_guard lock(mu_);
    const xml::DomainDef& def = getOneDef(dom(uuid), flags);
    return (flags & kVcpuMaximum) ? def.vcpu.max : def.vcpu.current;
}

void TestDriver::domainSetVcpus(const std::string& uuid, uint32_t count, uint32_t flags)
{
    if (count == 0)
        throw bareInvalidArg("nvcpus in virDomainSetVcpusFlags must not be zero");
    if ((flags & kVcpuMaximum) && !(flags & kAffectConfig))
        throw flagRequires("VIR_DOMAIN_VCPU_MAXIMUM", "VIR_DOMAIN_AFFECT_CONFIG");
    checkFlags(flags, kAffectLive | kAffectConfig | kVcpuMaximum, "testDomainSetVcpusFlags");
    if (count > kMaxVcpus)
        throw testError(ErrCode::InvalidArg, "requested cpu amount exceeds maximum supported amount (" +
                                                 std::to_string(count) + " > " + std::to_string(kMaxVcpus) + ")");
    std::lock_guard lock(mu_);
    Defs defs = getDefs(dom(uuid), flags);
    auto tooMany = [&](const xml::DomainDef& def) {
        return testError(ErrCode::InvalidArg, "requested cpu amount exceeds maximum (" + std::to_string(count) +
                                                  " > " + std::to_string(def.vcpu.max) + ")");
    };
    if (defs.live && defs.live->vcpu.max < count)
        throw tooMany(*defs.live);
    if (defs.config && !(flags & kVcpuMaximum) && defs.config->vcpu.max < count)
        throw tooMany(*defs.config);
    if (defs.live)
        defs.live->vcpu.current = count;
    if (defs.config) {
        if (flags & kVcpuMaximum) {
            defs.config->vcpu.max = count;
            defs.config->vcpu.current = std::min(defs.config->vcpu.current, count);
            auto& pins = defs.config->cputune.vcpupins;
            pins.erase(std::remove_if(pins.begin(), pins.end(), [&](const xml::VcpuPin& p) { return p.vcpu >= count; }),
                       pins.end());
        } else {
            defs.config->vcpu.current = count;
        }
    }
}

std::vector<std::vector<bool>> TestDriver::domainGetVcpuPinInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainGetVcpuPinInfo");
    std::lock_guard lock(mu_);
    const xml::DomainDef& def = getOneDef(dom(uuid), flags);
    std::vector<std::vector<bool>> out;
    for (unsigned v = 0; v < def.vcpu.max; ++v) {
        auto pin = std::find_if(def.cputune.vcpupins.begin(), def.cputune.vcpupins.end(),
                                [&](const xml::VcpuPin& p) { return p.vcpu == v; });
        out.push_back(mapWidth(pin != def.cputune.vcpupins.end() ? parseCpuset(pin->cpuset) : defaultCpus(def)));
    }
    return out;
}

namespace {
// Bits past the host's CPUs name nothing; libvirt drops them too, and
// keeping them would store a cpuset no later read can parse back.
std::vector<bool> hostMap(const std::vector<bool>& map)
{
    return {map.begin(), map.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(map.size(), kNodeCpus))};
}
} // namespace

void TestDriver::domainPinVcpu(const std::string& uuid, uint32_t vcpu, const std::vector<bool>& map, uint32_t flags)
{
    checkNonEmptyMap(map, "virDomainPinVcpuFlags");
    checkFlags(flags, 0, "testDomainPinVcpuFlags");
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    if (!d.active())
        throw testError(ErrCode::OperationInvalid, "cannot pin vcpus on an inactive domain");
    if (vcpu >= d.def.vcpu.current)
        throw testError(ErrCode::InvalidArg, "requested vcpu '" + std::to_string(vcpu) + "' is not present in the domain");
    // libvirt stores an all-clear map as cpuset=''; that is not a valid
    // configuration, so virtbus refuses it like PinEmulator does.
    if (!anySet(hostMap(map)))
        throw testError(ErrCode::InvalidArg, "Empty cpu list for pinning");
    auto& pins = d.def.cputune.vcpupins;
    auto it = std::find_if(pins.begin(), pins.end(), [&](const xml::VcpuPin& p) { return p.vcpu == vcpu; });
    if (it != pins.end())
        it->cpuset = formatCpuset(hostMap(map));
    else
        pins.push_back({vcpu, formatCpuset(hostMap(map))});
}

std::vector<bool> TestDriver::domainGetEmulatorPinInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainGetEmulatorPinInfo");
    std::lock_guard lock(mu_);
    const xml::DomainDef& def = getOneDef(dom(uuid), flags);
    return mapWidth(def.cputune.emulatorpin.empty() ? defaultCpus(def) : parseCpuset(def.cputune.emulatorpin));
}

void TestDriver::domainPinEmulator(const std::string& uuid, const std::vector<bool>& map, uint32_t flags)
{
    checkNonEmptyMap(map, "virDomainPinEmulator");
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainPinEmulator");
    std::lock_guard lock(mu_);
    xml::DomainDef& def = getOneDef(dom(uuid), flags);
    if (!anySet(hostMap(map)))
        throw testError(ErrCode::InvalidArg, "Empty cpu list for pinning");
    def.cputune.emulatorpin = formatCpuset(hostMap(map));
}

std::vector<std::tuple<uint32_t, std::vector<bool>>> TestDriver::domainGetIOThreadInfo(const std::string& uuid,
                                                                                       uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainGetIOThreadInfo");
    std::lock_guard lock(mu_);
    const xml::DomainDef& def = getOneDef(dom(uuid), flags);
    std::vector<std::tuple<uint32_t, std::vector<bool>>> out;
    for (const auto& t : ioThreads(def))
        out.emplace_back(t.id, mapWidth(t.cpuset.empty() ? defaultCpus(def) : parseCpuset(t.cpuset)));
    return out;
}

void TestDriver::domainAddIOThread(const std::string& uuid, uint32_t id, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainAddIOThread");
    if (id == 0)
        throw testError(ErrCode::InvalidArg, "invalid value of 0 for iothread_id");
    std::lock_guard lock(mu_);
    Defs defs = getDefs(dom(uuid), flags);
    for (xml::DomainDef* def : {defs.live, defs.config}) {
        if (!def)
            continue;
        auto threads = ioThreads(*def);
        if (std::any_of(threads.begin(), threads.end(), [&](const IOThread& t) { return t.id == id; }))
            throw testError(ErrCode::InvalidArg,
                            "an IOThread is already using iothread_id '" + std::to_string(id) + "'");
    }
    for (xml::DomainDef* def : {defs.live, defs.config}) {
        if (!def)
            continue;
        auto threads = ioThreads(*def);
        threads.push_back({id, {}});
        setIoThreads(*def, threads);
    }
}

void TestDriver::domainDelIOThread(const std::string& uuid, uint32_t id, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainDelIOThread");
    if (id == 0)
        throw testError(ErrCode::InvalidArg, "invalid value of 0 for iothread_id");
    std::lock_guard lock(mu_);
    Defs defs = getDefs(dom(uuid), flags);
    for (xml::DomainDef* def : {defs.live, defs.config}) {
        if (!def)
            continue;
        auto threads = ioThreads(*def);
        if (std::none_of(threads.begin(), threads.end(), [&](const IOThread& t) { return t.id == id; }))
            throw testError(ErrCode::InvalidArg,
                            "cannot find IOThread '" + std::to_string(id) + "' in iothreadids list");
        for (const auto& disk : def->devices.disks)
            for (const auto& [k, v] : disk.driverExtra.attrs)
                if (k == "iothread" && v == std::to_string(id))
                    throw testError(ErrCode::InvalidArg, "cannot remove IOThread " + std::to_string(id) +
                                                             " since it is being used by disk '" + disk.targetDev + "'");
    }
    for (xml::DomainDef* def : {defs.live, defs.config}) {
        if (!def)
            continue;
        auto threads = ioThreads(*def);
        threads.erase(std::remove_if(threads.begin(), threads.end(), [&](const IOThread& t) { return t.id == id; }),
                      threads.end());
        setIoThreads(*def, threads);
    }
}

void TestDriver::domainPinIOThread(const std::string& uuid, uint32_t id, const std::vector<bool>& map,
                                   uint32_t flags)
{
    checkNonEmptyMap(map, "virDomainPinIOThread");
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainPinIOThread");
    std::lock_guard lock(mu_);
    Defs defs = getDefs(dom(uuid), flags);
    for (xml::DomainDef* def : {defs.live, defs.config}) {
        if (!def)
            continue;
        auto threads = ioThreads(*def);
        if (std::none_of(threads.begin(), threads.end(), [&](const IOThread& t) { return t.id == id; }))
            throw testError(ErrCode::InvalidArg, "iothreadid " + std::to_string(id) + " not found");
    }
    if (!anySet(hostMap(map)))
        throw testError(ErrCode::InvalidArg, "Empty iothread cpumap list for pinning");
    for (xml::DomainDef* def : {defs.live, defs.config}) {
        if (!def)
            continue;
        auto threads = ioThreads(*def);
        for (auto& t : threads)
            if (t.id == id)
                t.cpuset = formatCpuset(hostMap(map));
        setIoThreads(*def, threads);
    }
}

} // namespace virtbus
