// Disk and interface throttles: <iotune> on disks and <bandwidth> on
// interfaces, with libvirt's test driver validation (including its rule
// that a rate may not exceed its unset maximum).
#include "test/test_internal.h"

#include "xml/xml_util.h"

#include <algorithm>
#include <array>

namespace virtbus {

using namespace testdrv;

namespace {

constexpr uint32_t kStringOkay = 4; // VIR_TYPED_PARAM_STRING_OKAY

// ---- disk <iotune> ----

constexpr std::array<const char*, 20> kIotune = {
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max", "total_iops_sec_max",
    "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec", "group_name", "total_bytes_sec_max_length",
    "read_bytes_sec_max_length", "write_bytes_sec_max_length", "total_iops_sec_max_length",
    "read_iops_sec_max_length", "write_iops_sec_max_length"};
constexpr size_t kGroupName = 13;
constexpr uint64_t kIotuneMax = 1000000000000000ULL; // TEST_BLOCK_IOTUNE_MAX

struct Iotune {
    std::array<uint64_t, 20> v{};
    std::string group;
    uint64_t& operator[](const char* name)
    {
        return v[static_cast<size_t>(std::find(kIotune.begin(), kIotune.end(), std::string_view(name)) - kIotune.begin())];
    }
};

Iotune iotuneOf(const xml::DiskDef& disk)
{
    Iotune t;
    for (const auto& [name, value] : disk.iotune) {
        auto it = std::find(kIotune.begin(), kIotune.end(), name);
        if (it == kIotune.end())
            continue;
        size_t i = static_cast<size_t>(it - kIotune.begin());
        if (i == kGroupName)
            t.group = value;
        else
            t.v[i] = xml::parseU64(value, "<iotune><" + name + ">");
    }
    return t;
}

void setIotune(xml::DiskDef& disk, const Iotune& t)
{
    disk.iotune.clear();
    for (size_t i = 0; i < kIotune.size(); ++i) {
        if (i == kGroupName) {
            if (!t.group.empty())
                disk.iotune.emplace_back(kIotune[i], t.group);
        } else if (t.v[i]) {
            disk.iotune.emplace_back(kIotune[i], std::to_string(t.v[i]));
        }
    }
}

// ---- interface <bandwidth> ----

struct Rate {
    uint64_t average = 0, peak = 0, burst = 0, floor = 0;
};
struct Bandwidth {
    std::optional<Rate> in, out;
};

Bandwidth bandwidthOf(const xml::InterfaceDef& net)
{
    Bandwidth b;
    if (auto raw = parseRaw(rawElement(net.extra.children, "bandwidth"))) {
        auto rate = [](const RawNode& n) {
            auto num = [&](const char* a) { return std::strtoull(n.attr(a).c_str(), nullptr, 10); };
            return Rate{num("average"), num("peak"), num("burst"), num("floor")};
        };
        if (const RawNode* n = raw->child("inbound"))
            b.in = rate(*n);
        if (const RawNode* n = raw->child("outbound"))
            b.out = rate(*n);
    }
    return b;
}

void setBandwidth(xml::InterfaceDef& net, const Bandwidth& b)
{
    xml::XmlWriter w;
    w.open("bandwidth");
    auto rate = [&](const char* name, const Rate& r) {
        w.open(name);
        auto a = [&](const char* n, uint64_t v) {
            if (v)
                w.attr(n, std::to_string(v));
        };
        a("average", r.average);
        a("peak", r.peak);
        a("floor", r.floor);
        a("burst", r.burst);
        w.close();
    };
    if (b.in)
        rate("inbound", *b.in);
    if (b.out)
        rate("outbound", *b.out);
    w.close();
    setRawElement(net.extra.children, "bandwidth", b.in || b.out ? w.take() : std::string());
}

const std::string& paramString(const ParamValue& v)
{
    static const std::string none;
    auto* s = std::get_if<std::string>(&v);
    return s ? *s : none;
}

} // namespace

// ---- disk throttling ----

TypedParams TestDriver::domainGetBlockIoTune(const std::string& uuid, const std::string& disk, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "testDomainGetBlockIoTune");
    std::lock_guard lock(mu_);
    xml::DomainDef& def = getOneDef(dom(uuid), flags & ~kStringOkay);
    const xml::DiskDef* d = diskByName(def, disk);
    if (!d)
        throw testError(ErrCode::InvalidArg, "disk '" + disk.substr(0, kMaxNameLength) + "' was not found in the domain config");
    Iotune t = iotuneOf(*d);
    TypedParams out;
    for (size_t i = 0; i < kIotune.size(); ++i) {
        if (i == kGroupName)
            out.push_back({kIotune[i], t.group});
        else
            out.push_back({kIotune[i], t.v[i]});
    }
    return out;
}

void TestDriver::domainSetBlockIoTune(const std::string& uuid, const std::string& disk, const TypedParams& p,
                                      uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetBlockIoTune");
    validateParams(p, {{"total_bytes_sec", ParamType::ULLong}, {"read_bytes_sec", ParamType::ULLong},
                       {"write_bytes_sec", ParamType::ULLong}, {"total_iops_sec", ParamType::ULLong},
                       {"read_iops_sec", ParamType::ULLong}, {"write_iops_sec", ParamType::ULLong},
                       {"total_bytes_sec_max", ParamType::ULLong}, {"read_bytes_sec_max", ParamType::ULLong},
                       {"write_bytes_sec_max", ParamType::ULLong}, {"total_iops_sec_max", ParamType::ULLong},
                       {"read_iops_sec_max", ParamType::ULLong}, {"write_iops_sec_max", ParamType::ULLong},
                       {"size_iops_sec", ParamType::ULLong}, {"group_name", ParamType::String},
                       {"total_bytes_sec_max_length", ParamType::ULLong},
                       {"read_bytes_sec_max_length", ParamType::ULLong},
                       {"write_bytes_sec_max_length", ParamType::ULLong},
                       {"total_iops_sec_max_length", ParamType::ULLong},
                       {"read_iops_sec_max_length", ParamType::ULLong},
                       {"write_iops_sec_max_length", ParamType::ULLong}});
    std::lock_guard lock(mu_);
    xml::DomainDef& def = getOneDef(dom(uuid), flags);
    xml::DiskDef* d = diskByName(def, disk);
    if (!d)
        throw testError(ErrCode::InvalidArg,
                        "missing persistent configuration for disk '" + disk.substr(0, kMaxNameLength) + "'");
    Iotune t = iotuneOf(*d);
    for (const auto& param : p) {
        if (param.name == "group_name") {
            t.group = paramString(param.value);
            continue;
        }
        uint64_t v = paramU64(param.value);
        if (v > kIotuneMax)
            throw testError(ErrCode::ArgumentUnsupported,
                            "block I/O throttle limit value must be no more than " + std::to_string(kIotuneMax));
        t[param.name.c_str()] = v;
    }
    for (const char* kind : {"bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"}) {
        std::string k(kind);
        if (t[("total_" + k).c_str()] && (t[("read_" + k).c_str()] || t[("write_" + k).c_str()]))
            throw testError(ErrCode::InvalidArg, "total and read/write of " + k + " cannot be set at the same time");
    }
    for (const char* kind : {"total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec",
                             "read_iops_sec", "write_iops_sec"}) {
        std::string max = std::string(kind) + "_max";
        // libvirt's message keeps its trailing blank.
        if (t[kind] > t[max.c_str()])
            throw testError(ErrCode::InvalidArg, std::string(kind) + " cannot be set higher than " + max + " ");
    }
    setIotune(*d, t);
}

// ---- interface bandwidth ----

TypedParams TestDriver::domainGetInterfaceParameters(const std::string& uuid, const std::string& dev, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "testDomainGetInterfaceParameters");
    std::lock_guard lock(mu_);
    Bandwidth b = bandwidthOf(netFind(getOneDef(dom(uuid), flags & ~kStringOkay), dev));
    Rate in = b.in.value_or(Rate{}), out = b.out.value_or(Rate{});
    auto u = [](uint64_t v) { return static_cast<uint32_t>(v); };
    return {{"inbound.average", u(in.average)},   {"inbound.peak", u(in.peak)},   {"inbound.burst", u(in.burst)},
            {"inbound.floor", u(in.floor)},       {"outbound.average", u(out.average)},
            {"outbound.peak", u(out.peak)},       {"outbound.burst", u(out.burst)}};
}

void TestDriver::domainSetInterfaceParameters(const std::string& uuid, const std::string& dev, const TypedParams& p,
                                              uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetInterfaceParameters");
    validateParams(p, {{"inbound.average", ParamType::UInt}, {"inbound.peak", ParamType::UInt},
                       {"inbound.burst", ParamType::UInt}, {"inbound.floor", ParamType::UInt},
                       {"outbound.average", ParamType::UInt}, {"outbound.peak", ParamType::UInt},
                       {"outbound.burst", ParamType::UInt}});
    std::lock_guard lock(mu_);
    xml::InterfaceDef& net = netFind(getOneDef(dom(uuid), flags), dev);
    Rate in, out;
    bool inSpecified = false, outSpecified = false;
    for (const auto& param : p) {
        uint64_t v = paramU64(param.value);
        const std::string& n = param.name;
        if (n == "inbound.average") {
            in.average = v;
            inSpecified = true;
        } else if (n == "inbound.peak") {
            in.peak = v;
        } else if (n == "inbound.burst") {
            in.burst = v;
        } else if (n == "inbound.floor") {
            in.floor = v;
            inSpecified = true;
        } else if (n == "outbound.average") {
            out.average = v;
            outSpecified = true;
        } else if (n == "outbound.peak") {
            out.peak = v;
        } else if (n == "outbound.burst") {
            out.burst = v;
        }
    }
    // An average (or an inbound floor) is mandatory; peak and burst alone
    // do not make a limit.
    std::optional<Rate> newIn = (in.average || in.floor) ? std::optional<Rate>(in) : std::nullopt;
    std::optional<Rate> newOut = out.average ? std::optional<Rate>(out) : std::nullopt;
    Bandwidth b = bandwidthOf(net);
    if (newIn)
        b.in = newIn;
    else if (inSpecified)
        b.in.reset();
    if (newOut)
        b.out = newOut;
    else if (outSpecified)
        b.out.reset();
    setBandwidth(net, b);
}

} // namespace virtbus
