// Interface bandwidth (Get/SetInterfaceParameters, <bandwidth>): applied
// on the host side of the guest's tap with iproute2's tc, the way libvirt
// shapes it. "inbound" is traffic to the guest: an htb class on the tap's
// egress. "outbound" is traffic from the guest: a police filter on the
// tap's ingress. Rates are libvirt's (kilobytes/s, tc's "kbps"), bursts in
// kilobytes.
#include <optional>

#include "command.h"
#include "domain_common.h"
#include "qemu/qemu_command_priv.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

namespace virtbus {

using domain::kAffectConfig;
using domain::kAffectLive;

namespace {

constexpr uint32_t kStringOkay = 4;

struct Rate {
    uint64_t average = 0, peak = 0, burst = 0, floor = 0;
};
struct Bandwidth {
    std::optional<Rate> in, out;
};

std::string* bandwidthElement(std::vector<std::string>& children)
{
    for (auto& c : children)
        if (qemu::detail::rawElementName(c) == "bandwidth")
            return &c;
    return nullptr;
}

std::optional<Rate> rateIn(const std::string& raw, const char* name)
{
    auto at = raw.find(std::string("<") + name);
    if (at == std::string::npos)
        return std::nullopt;
    auto attrs = qemu::detail::rawAttrs(std::string_view(raw).substr(at));
    auto num = [&](const char* a) {
        auto it = attrs.find(a);
        return it == attrs.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
    };
    return Rate {num("average"), num("peak"), num("burst"), num("floor")};
}

Bandwidth bandwidthOf(const xml::InterfaceDef& net)
{
    auto children = net.extra.children;
    Bandwidth b;
    if (std::string* raw = bandwidthElement(children)) {
        b.in = rateIn(*raw, "inbound");
        b.out = rateIn(*raw, "outbound");
    }
    return b;
}

void setBandwidth(xml::InterfaceDef& net, const Bandwidth& b)
{
    auto rate = [](const char* name, const Rate& r) {
        std::string s = std::string("<") + name;
        auto a = [&](const char* n, uint64_t v) {
            if (v)
                s += std::string(" ") + n + "='" + std::to_string(v) + "'";
        };
        a("average", r.average);
        a("peak", r.peak);
        a("floor", r.floor);
        a("burst", r.burst);
        return s + "/>";
    };
    std::string text;
    if (b.in || b.out)
        text = "<bandwidth>" + (b.in ? rate("inbound", *b.in) : "") + (b.out ? rate("outbound", *b.out) : "")
            + "</bandwidth>";
    auto& children = net.extra.children;
    std::string* raw = bandwidthElement(children);
    if (raw && text.empty())
        children.erase(children.begin() + (raw - children.data()));
    else if (raw)
        *raw = text;
    else if (!text.empty())
        children.push_back(text);
}

bool hasTap(const xml::InterfaceDef& n) { return n.type == "bridge" || n.type == "ethernet" || n.type == "network"; }

void applyTc(const std::string& tap, const Bandwidth& b)
{
    // Old settings go first; a tap without them answers "no such file".
    runCommand({"tc", "qdisc", "del", "dev", tap, "root"}, {}, ErrDomain::Qemu);
    runCommand({"tc", "qdisc", "del", "dev", tap, "ingress"}, {}, ErrDomain::Qemu);
    auto kbps = [](uint64_t v) { return std::to_string(v) + "kbps"; };
    auto kb = [](uint64_t v) { return std::to_string(v) + "kb"; };
    if (b.in && b.in->average) {
        const Rate& r = *b.in;
        runChecked({"tc", "qdisc", "add", "dev", tap, "root", "handle", "1:", "htb", "default", "1"}, ErrDomain::Qemu);
        std::vector<std::string> cls {
            "tc", "class", "add", "dev", tap, "parent", "1:", "classid", "1:1", "htb", "rate", kbps(r.average)};
        if (r.peak)
            cls.insert(cls.end(), {"ceil", kbps(r.peak)});
        if (r.burst)
            cls.insert(cls.end(), {"burst", kb(r.burst)});
        runChecked(cls, ErrDomain::Qemu);
        // Fairness inside the class, as libvirt adds it; the limit holds
        // without it on kernels built without sch_sfq / cls_fw.
        runCommand({"tc", "qdisc", "add", "dev", tap, "parent", "1:1", "handle", "2:", "sfq", "perturb", "10"}, {},
            ErrDomain::Qemu);
        runCommand({"tc", "filter", "add", "dev", tap, "parent", "1:0", "protocol", "all", "prio", "1", "handle", "1",
                       "fw", "flowid", "1"},
            {}, ErrDomain::Qemu);
    }
    if (b.out && b.out->average) {
        const Rate& r = *b.out;
        runChecked({"tc", "qdisc", "add", "dev", tap, "ingress"}, ErrDomain::Qemu);
        runChecked({"tc", "filter", "add", "dev", tap, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0",
                       "0", "police", "rate", kbps(r.average), "burst", kb(r.burst ? r.burst : r.average), "mtu",
                       "64kb", "drop", "flowid", ":1"},
            ErrDomain::Qemu);
    }
}

xml::InterfaceDef* netByName(xml::DomainDef& def, const std::string& dev)
{
    for (auto& n : def.devices.interfaces)
        if ((!n.targetDev.empty() && n.targetDev == dev) || n.mac == dev)
            return &n;
    return nullptr;
}

VirtError noNet(const std::string& dev)
{
    return makeError(ErrCode::InvalidArg, ErrDomain::Qemu, "Can't find device " + dev);
}

} // namespace

namespace qemu {

void applyBootBandwidth(const xml::DomainDef& def)
{
    for (const auto& n : def.devices.interfaces) {
        Bandwidth b = bandwidthOf(n);
        if ((b.in || b.out) && hasTap(n) && !n.targetDev.empty())
            applyTc(n.targetDev, b);
    }
}

} // namespace qemu

TypedParams QemuDriver::domainGetInterfaceParameters(const std::string& uuid, const std::string& dev, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "qemuDomainGetInterfaceParameters");
    flags &= ~kStringOkay;
    domain::checkOneDef(flags);
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    domain::updateImpact(flags, d->active(), d->persistent);
    xml::InterfaceDef* net = netByName((flags & kAffectLive) ? *d->live : *d->def, dev);
    if (!net)
        throw noNet(dev);
    Bandwidth b = bandwidthOf(*net);
    Rate in = b.in.value_or(Rate {}), out = b.out.value_or(Rate {});
    auto u = [](uint64_t v) { return static_cast<uint32_t>(v); };
    return {{"inbound.average", u(in.average)}, {"inbound.peak", u(in.peak)}, {"inbound.burst", u(in.burst)},
        {"inbound.floor", u(in.floor)}, {"outbound.average", u(out.average)}, {"outbound.peak", u(out.peak)},
        {"outbound.burst", u(out.burst)}};
}

void QemuDriver::domainSetInterfaceParameters(
    const std::string& uuid, const std::string& dev, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainSetInterfaceParameters");
    static const char* names[] = {"inbound.average", "inbound.peak", "inbound.burst", "inbound.floor",
        "outbound.average", "outbound.peak", "outbound.burst"};
    Rate in, out;
    bool inGiven = false, outGiven = false;
    std::vector<std::string> seen;
    for (const auto& param : p) {
        auto it = std::find_if(std::begin(names), std::end(names), [&](const char* n) { return param.name == n; });
        if (it == std::end(names))
            throw makeError(
                ErrCode::ArgumentUnsupported, ErrDomain::None, "parameter '" + param.name + "' not supported");
        if (std::find(seen.begin(), seen.end(), param.name) != seen.end())
            throw err::invalidArg("parameter '" + param.name + "' occurs multiple times");
        seen.push_back(param.name);
        auto v = paramAsUnsigned(param.value);
        if (!v || *v > UINT32_MAX)
            throw err::invalidArg("invalid type for parameter '" + param.name + "', expected 'uint'");
        const std::string& n = param.name;
        bool inbound = n.starts_with("inbound.");
        Rate& r = inbound ? in : out;
        (inbound ? inGiven : outGiven) = true;
        std::string field = n.substr(n.find('.') + 1);
        (field == "average" ? r.average : field == "peak" ? r.peak : field == "burst" ? r.burst : r.floor) = *v;
    }
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::string tap;
    Bandwidth liveBw;
    auto merged = [&](const xml::InterfaceDef& net) {
        Bandwidth b = bandwidthOf(net);
        // An average (or a floor) makes a limit; a zero average clears it.
        if (inGiven)
            b.in = (in.average || in.floor) ? std::optional<Rate>(in) : std::nullopt;
        if (outGiven)
            b.out = out.average ? std::optional<Rate>(out) : std::nullopt;
        return b;
    };
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        if (flags & kAffectLive) {
            xml::InterfaceDef* net = netByName(*d->live, dev);
            if (!net)
                throw noNet(dev);
            if (!hasTap(*net))
                throw err::configUnsupported(
                    "Setting bandwidth on interface '" + dev + "' of type '" + net->type + "' is not implemented yet");
            if (in.floor)
                throw err::configUnsupported("Invalid use of 'floor' on interface with MAC address '" + net->mac
                    + "' - 'floor' is only supported for interface type 'network' with "
                      "forward type 'nat', 'route', 'open' or none");
            liveBw = merged(*net);
            tap = net->targetDev;
        }
        if ((flags & kAffectConfig) && !netByName(*d->def, dev))
            throw noNet(dev);
    }
    if (flags & kAffectLive)
        applyTc(tap, liveBw);
    std::lock_guard lock(mu_);
    if ((flags & kAffectLive) && d->live)
        if (auto* net = netByName(*d->live, dev))
            setBandwidth(*net, liveBw);
    if (flags & kAffectConfig) {
        xml::DomainDef copy = *d->def;
        auto* net = netByName(copy, dev);
        setBandwidth(*net, merged(*net));
        saveConfig(copy);
        *d->def = std::move(copy);
    }
}

} // namespace virtbus
