// Typed-parameter tunables (memtune, blkiotune, numatune, perf,
// scheduler). The XML model keeps the elements it does
// not name as raw XML; these functions read and rewrite them so every value
// set here shows in the domain XML exactly as libvirt would write it.
#include "test/test_internal.h"

#include "xml/xml_util.h"

#include <algorithm>
#include <array>

namespace virtbus {

using namespace testdrv;

namespace {

constexpr uint32_t kStringOkay = 4; // VIR_TYPED_PARAM_STRING_OKAY

// ---- <memtune> ----

struct MemTune {
    uint64_t hard = kMemoryUnlimited, soft = kMemoryUnlimited, swap = kMemoryUnlimited;
};

MemTune memTune(const xml::DomainDef& def)
{
    MemTune t;
    if (auto raw = parseRaw(rawElement(def.extra.children, "memtune"))) {
        auto read = [&](const char* name, uint64_t& out) {
            if (const RawNode* n = raw->child(name))
                out = xml::parseMemoryKiB(n->text, n->attr("unit"), std::string("<") + name + ">");
        };
        read("hard_limit", t.hard);
        read("soft_limit", t.soft);
        read("swap_hard_limit", t.swap);
    }
    return t;
}

void setMemTune(xml::DomainDef& def, const MemTune& t)
{
    auto old = parseRaw(rawElement(def.extra.children, "memtune"));
    xml::XmlWriter w;
    w.open("memtune");
    bool any = false;
    auto limit = [&](const char* name, uint64_t v) {
        if (v >= kMemoryUnlimited)
            return;
        w.open(name).attr("unit", "KiB").text(std::to_string(v)).close();
        any = true;
    };
    limit("hard_limit", t.hard);
    limit("soft_limit", t.soft);
    limit("swap_hard_limit", t.swap);
    if (old) {
        if (const RawNode* g = old->child("min_guarantee")) {
            w.open("min_guarantee").attr("unit", "KiB")
                .text(std::to_string(xml::parseMemoryKiB(g->text, g->attr("unit"), "<min_guarantee>"))).close();
            any = true;
        }
    }
    w.close();
    setRawElement(def.extra.children, "memtune", any ? w.take() : std::string());
}

// ---- <blkiotune> ----

constexpr std::array<const char*, 5> kBlkioDeviceParams = {"device_weight", "device_read_iops_sec",
                                                           "device_write_iops_sec", "device_read_bytes_sec",
                                                           "device_write_bytes_sec"};
constexpr std::array<const char*, 5> kBlkioDeviceElems = {"weight", "read_iops_sec", "write_iops_sec",
                                                          "read_bytes_sec", "write_bytes_sec"};

struct BlkioDevice {
    std::string path;
    std::array<uint64_t, 5> values{};
};
struct BlkioTune {
    uint64_t weight = 0;
    std::vector<BlkioDevice> devices;
};

BlkioTune blkioTune(const xml::DomainDef& def)
{
    BlkioTune t;
    if (auto raw = parseRaw(rawElement(def.extra.children, "blkiotune"))) {
        for (const auto& c : raw->children) {
            if (c.name == "weight") {
                t.weight = xml::parseU64(c.text, "<blkiotune><weight>");
            } else if (c.name == "device") {
                BlkioDevice dev;
                if (const RawNode* p = c.child("path"))
                    dev.path = p->text;
                for (size_t i = 0; i < kBlkioDeviceElems.size(); ++i)
                    if (const RawNode* v = c.child(kBlkioDeviceElems[i]))
                        dev.values[i] = xml::parseU64(v->text, kBlkioDeviceElems[i]);
                t.devices.push_back(std::move(dev));
            }
        }
    }
    return t;
}

void setBlkioTune(xml::DomainDef& def, const BlkioTune& t)
{
    xml::XmlWriter w;
    w.open("blkiotune");
    if (t.weight)
        w.leaf("weight", std::to_string(t.weight));
    for (const auto& dev : t.devices) {
        w.open("device").leaf("path", dev.path);
        for (size_t i = 0; i < kBlkioDeviceElems.size(); ++i)
            if (dev.values[i])
                w.leaf(kBlkioDeviceElems[i], std::to_string(dev.values[i]));
        w.close();
    }
    w.close();
    setRawElement(def.extra.children, "blkiotune", t.weight || !t.devices.empty() ? w.take() : std::string());
}

// ---- <numatune> ----

constexpr std::array<const char*, 4> kNumaModes = {"strict", "preferred", "interleave", "restrictive"};

struct NumaTune {
    std::optional<int> mode;
    std::string nodeset;
    std::optional<RawNode> raw;
};

NumaTune numaTune(const xml::DomainDef& def)
{
    NumaTune t;
    t.raw = parseRaw(rawElement(def.extra.children, "numatune"));
    if (t.raw) {
        if (const RawNode* m = t.raw->child("memory")) {
            std::string mode = m->attr("mode");
            auto it = std::find(kNumaModes.begin(), kNumaModes.end(), mode.empty() ? "strict" : mode);
            t.mode = it == kNumaModes.end() ? 0 : static_cast<int>(it - kNumaModes.begin());
            t.nodeset = m->attr("nodeset");
        }
    }
    return t;
}

void setNumaTune(xml::DomainDef& def, const NumaTune& t)
{
    xml::XmlWriter w;
    w.open("numatune");
    w.open("memory").attr("mode", kNumaModes[static_cast<size_t>(t.mode.value_or(0))]).attrIf("nodeset", t.nodeset);
    w.close();
    // <memnode> children describe guest NUMA cells, which this API leaves alone.
    if (t.raw) {
        for (const auto& c : t.raw->children) {
            if (c.name != "memnode")
                continue;
            w.open("memnode");
            for (const auto& [k, v] : c.attrs)
                w.attr(k, v);
            w.close();
        }
    }
    w.close();
    setRawElement(def.extra.children, "numatune", w.take());
}

// ---- <perf> ----

constexpr std::array<const char*, 22> kPerfEvents = {
    "cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references", "cache_misses",
    "branch_instructions", "branch_misses", "bus_cycles", "stalled_cycles_frontend", "stalled_cycles_backend",
    "ref_cpu_cycles", "cpu_clock", "task_clock", "page_faults", "context_switches", "cpu_migrations",
    "page_faults_min", "page_faults_maj", "alignment_faults", "emulation_faults"};

// Event name -> enabled, for the events the configuration names.
std::map<std::string, bool> perfEvents(const xml::DomainDef& def)
{
    std::map<std::string, bool> out;
    if (auto raw = parseRaw(rawElement(def.extra.children, "perf")))
        for (const auto& c : raw->children)
            if (c.name == "event")
                out[c.attr("name")] = c.attr("enabled") == "yes";
    return out;
}

void setPerfEvents(xml::DomainDef& def, const std::map<std::string, bool>& events)
{
    xml::XmlWriter w;
    w.open("perf");
    for (const char* name : kPerfEvents)
        if (auto it = events.find(name); it != events.end())
            w.open("event").attr("name", name).attr("enabled", it->second ? "yes" : "no").close();
    w.close();
    setRawElement(def.extra.children, "perf", events.empty() ? std::string() : w.take());
}

const std::string& paramString(const ParamValue& v)
{
    static const std::string none;
    auto* s = std::get_if<std::string>(&v);
    return s ? *s : none;
}

} // namespace

// ---- memory ----

TypedParams TestDriver::domainGetMemoryParameters(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "testDomainGetMemoryParameters");
    std::lock_guard lock(mu_);
    MemTune t = memTune(getOneDef(dom(uuid), flags & ~kStringOkay));
    return {{"hard_limit", t.hard}, {"soft_limit", t.soft}, {"swap_hard_limit", t.swap}};
}

void TestDriver::domainSetMemoryParameters(const std::string& uuid, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetMemoryParameters");
    validateParams(p, {{"hard_limit", ParamType::ULLong}, {"soft_limit", ParamType::ULLong},
                       {"swap_hard_limit", ParamType::ULLong}});
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    xml::DomainDef& def = getOneDef(d, flags);
    const ParamValue* hard = findParam(p, "hard_limit");
    const ParamValue* soft = findParam(p, "soft_limit");
    const ParamValue* swap = findParam(p, "swap_hard_limit");
    if (hard || swap) {
        // libvirt compares against the live definition's limits here.
        MemTune current = memTune(d.def);
        uint64_t mem = hard ? paramU64(*hard) : current.hard;
        uint64_t sw = swap ? paramU64(*swap) : current.swap;
        if (mem > sw)
            throw testError(ErrCode::InvalidArg,
                            "memory hard_limit tunable value must be lower than or equal to swap_hard_limit");
    }
    MemTune t = memTune(def);
    if (soft)
        t.soft = paramU64(*soft);
    if (hard)
        t.hard = paramU64(*hard);
    if (swap)
        t.swap = paramU64(*swap);
    setMemTune(def, t);
}

// ---- blkio ----

TypedParams TestDriver::domainGetBlkioParameters(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "testDomainGetBlkioParameters");
    std::lock_guard lock(mu_);
    BlkioTune t = blkioTune(getOneDef(dom(uuid), flags & ~kStringOkay));
    TypedParams out{{"weight", static_cast<uint32_t>(t.weight)}};
    for (size_t i = 0; i < kBlkioDeviceParams.size(); ++i) {
        std::string list;
        for (const auto& dev : t.devices) {
            if (!dev.values[i])
                continue;
            if (!list.empty())
                list += ',';
            list += dev.path + ',' + std::to_string(dev.values[i]);
        }
        out.push_back({kBlkioDeviceParams[i], list});
    }
    return out;
}

void TestDriver::domainSetBlkioParameters(const std::string& uuid, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetBlkioParameters");
    validateParams(p, {{"weight", ParamType::UInt}, {"device_weight", ParamType::String},
                       {"device_read_iops_sec", ParamType::String}, {"device_write_iops_sec", ParamType::String},
                       {"device_read_bytes_sec", ParamType::String}, {"device_write_bytes_sec", ParamType::String}});
    std::lock_guard lock(mu_);
    xml::DomainDef& def = getOneDef(dom(uuid), flags);
    BlkioTune t = blkioTune(def);
    for (const auto& param : p) {
        if (param.name == "weight") {
            t.weight = paramU64(param.value);
            continue;
        }
        size_t field = static_cast<size_t>(
            std::find(kBlkioDeviceParams.begin(), kBlkioDeviceParams.end(), param.name) - kBlkioDeviceParams.begin());
        const std::string& text = paramString(param.value);
        auto bad = [&] {
            return testError(ErrCode::InvalidArg, "unable to parse blkio device '" + param.name + "' '" + text + "'");
        };
        std::vector<std::string> parts;
        for (size_t pos = 0; !text.empty() && pos <= text.size();) {
            size_t comma = text.find(',', pos);
            parts.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
            pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
        }
        if (parts.size() % 2)
            throw bad();
        for (size_t i = 0; i < parts.size(); i += 2) {
            const std::string& path = parts[i];
            const std::string& num = parts[i + 1];
            if (path.empty() || num.empty() || num.size() > 19 || num.find_first_not_of("0123456789") != std::string::npos)
                throw bad();
            uint64_t value = std::stoull(num);
            auto dev = std::find_if(t.devices.begin(), t.devices.end(), [&](const BlkioDevice& b) { return b.path == path; });
            if (dev == t.devices.end()) {
                if (!value)
                    continue;
                t.devices.push_back({path, {}});
                dev = t.devices.end() - 1;
            }
            dev->values[field] = value;
        }
    }
    t.devices.erase(std::remove_if(t.devices.begin(), t.devices.end(),
                                   [](const BlkioDevice& b) {
                                       return std::all_of(b.values.begin(), b.values.end(), [](uint64_t v) { return v == 0; });
                                   }),
                    t.devices.end());
    setBlkioTune(def, t);
}

// ---- NUMA ----

TypedParams TestDriver::domainGetNumaParameters(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "testDomainGetNumaParameters");
    std::lock_guard lock(mu_);
    NumaTune t = numaTune(getOneDef(dom(uuid), flags & ~kStringOkay));
    return {{"numa_mode", static_cast<int32_t>(t.mode.value_or(0))}, {"numa_nodeset", t.nodeset}};
}

void TestDriver::domainSetNumaParameters(const std::string& uuid, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetNumaParameters");
    validateParams(p, {{"numa_mode", ParamType::Int}, {"numa_nodeset", ParamType::String}});
    std::lock_guard lock(mu_);
    bool live = false;
    xml::DomainDef& def = getOneDef(dom(uuid), flags, &live);
    std::optional<int> mode;
    std::optional<std::string> nodeset;
    for (const auto& param : p) {
        if (param.name == "numa_mode") {
            int64_t m = paramI64(param.value);
            if (m < 0 || m >= static_cast<int64_t>(kNumaModes.size()))
                throw testError(ErrCode::InvalidArg, "unsupported numatune mode: '" + std::to_string(m) + "'");
            mode = static_cast<int>(m);
        } else {
            const std::string& text = paramString(param.value);
            if (!anySet(parseCpuset(text)))
                throw testError(ErrCode::OperationInvalid, "Invalid nodeset of 'numatune': " + text);
            nodeset = formatCpuset(parseCpuset(text));
        }
    }
    NumaTune t = numaTune(def);
    if (live && mode && t.mode && *t.mode != *mode)
        throw testError(ErrCode::OperationInvalid, "can't change numatune mode for running domain");
    if (mode)
        t.mode = mode;
    if (nodeset)
        t.nodeset = *nodeset;
    if (!mode && !nodeset)
        return;
    if (t.nodeset.empty() && def.vcpu.placement == "static")
        throw err::xml("nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    setNumaTune(def, t);
}

// ---- perf ----

TypedParams TestDriver::domainGetPerfEvents(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "testDomainGetPerfEvents");
    std::lock_guard lock(mu_);
    auto events = perfEvents(getOneDef(dom(uuid), flags & ~kStringOkay));
    TypedParams out;
    for (const char* name : kPerfEvents) {
        auto it = events.find(name);
        out.push_back({name, it != events.end() && it->second});
    }
    return out;
}

void TestDriver::domainSetPerfEvents(const std::string& uuid, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetPerfEvents");
    validateParams(p, {{"cmt", ParamType::Boolean}, {"mbmt", ParamType::Boolean}, {"mbml", ParamType::Boolean},
                       {"cpu_cycles", ParamType::Boolean}, {"instructions", ParamType::Boolean},
                       {"cache_references", ParamType::Boolean}, {"cache_misses", ParamType::Boolean},
                       {"branch_instructions", ParamType::Boolean}, {"branch_misses", ParamType::Boolean},
                       {"bus_cycles", ParamType::Boolean}, {"stalled_cycles_frontend", ParamType::Boolean},
                       {"stalled_cycles_backend", ParamType::Boolean}, {"ref_cpu_cycles", ParamType::Boolean},
                       {"cpu_clock", ParamType::Boolean}, {"task_clock", ParamType::Boolean},
                       {"page_faults", ParamType::Boolean}, {"context_switches", ParamType::Boolean},
                       {"cpu_migrations", ParamType::Boolean}, {"page_faults_min", ParamType::Boolean},
                       {"page_faults_maj", ParamType::Boolean}, {"alignment_faults", ParamType::Boolean},
                       {"emulation_faults", ParamType::Boolean}});
    std::lock_guard lock(mu_);
    xml::DomainDef& def = getOneDef(dom(uuid), flags);
    auto events = perfEvents(def);
    for (const auto& param : p)
        events[param.name] = std::get<bool>(param.value);
    setPerfEvents(def, events);
}

// ---- scheduler: libvirt's test driver reports a fixed weight and keeps nothing ----

TypedParams TestDriver::domainGetSchedulerParameters(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetSchedulerParametersFlags");
    std::lock_guard lock(mu_);
    dom(uuid);
    return {{"weight", uint32_t{50}}};
}

void TestDriver::domainSetSchedulerParameters(const std::string& uuid, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainSetSchedulerParametersFlags");
    validateParams(p, {{"weight", ParamType::UInt}});
    std::lock_guard lock(mu_);
    dom(uuid);
}

} // namespace virtbus
