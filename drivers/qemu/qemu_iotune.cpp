// Disk I/O throttling: <iotune> in the definition, QEMU's
// block_set_io_throttle on the running disk (at start too, right after
// QEMU is up and before the guest runs), with libvirt's typed parameter
// names and rules (qemuDomainSetBlockIoTune / qemuDomainGetBlockIoTune).
#include <algorithm>
#include <array>
#include <cstdlib>

#include "domain_common.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;
using domain::kAffectConfig;
using domain::kAffectLive;

namespace {

constexpr uint32_t kStringOkay = 4; // VIR_TYPED_PARAM_STRING_OKAY
constexpr uint64_t kIotuneMax = 1000000000000000ULL; // QEMU_BLOCK_IOTUNE_MAX

// libvirt's parameter (and <iotune> element) name, QEMU's argument.
struct Field {
    const char* name;
    const char* qmp;
};
constexpr std::array<Field, 20> kFields = {{
    {"total_bytes_sec", "bps"},
    {"read_bytes_sec", "bps_rd"},
    {"write_bytes_sec", "bps_wr"},
    {"total_iops_sec", "iops"},
    {"read_iops_sec", "iops_rd"},
    {"write_iops_sec", "iops_wr"},
    {"total_bytes_sec_max", "bps_max"},
    {"read_bytes_sec_max", "bps_rd_max"},
    {"write_bytes_sec_max", "bps_wr_max"},
    {"total_iops_sec_max", "iops_max"},
    {"read_iops_sec_max", "iops_rd_max"},
    {"write_iops_sec_max", "iops_wr_max"},
    {"size_iops_sec", "iops_size"},
    {"group_name", "group"},
    {"total_bytes_sec_max_length", "bps_max_length"},
    {"read_bytes_sec_max_length", "bps_rd_max_length"},
    {"write_bytes_sec_max_length", "bps_wr_max_length"},
    {"total_iops_sec_max_length", "iops_max_length"},
    {"read_iops_sec_max_length", "iops_rd_max_length"},
    {"write_iops_sec_max_length", "iops_wr_max_length"},
}};
constexpr size_t kGroup = 13;

struct Tune {
    std::array<uint64_t, 20> v {};
    std::string group;
    bool any() const
    {
        return !group.empty() || std::any_of(v.begin(), v.end(), [](uint64_t x) { return x; });
    }
};

size_t fieldIndex(std::string_view name)
{
    for (size_t i = 0; i < kFields.size(); ++i)
        if (name == kFields[i].name)
            return i;
    return kFields.size();
}

Tune tuneOf(const xml::DiskDef& disk)
{
    Tune t;
    for (const auto& [name, value] : disk.iotune) {
        size_t i = fieldIndex(name);
        if (i == kGroup)
            t.group = value;
        else if (i < kFields.size())
            t.v[i] = std::strtoull(value.c_str(), nullptr, 10);
    }
    return t;
}

void setTune(xml::DiskDef& disk, const Tune& t)
{
    disk.iotune.clear();
    for (size_t i = 0; i < kFields.size(); ++i) {
        if (i == kGroup && !t.group.empty())
            disk.iotune.emplace_back(kFields[i].name, t.group);
        else if (i != kGroup && t.v[i])
            disk.iotune.emplace_back(kFields[i].name, std::to_string(t.v[i]));
    }
}

json::Object throttleArgs(const std::string& alias, const Tune& t)
{
    json::Object o {{"id", alias}};
    for (size_t i = 0; i < kFields.size(); ++i) {
        if (i == kGroup) {
            if (!t.group.empty())
                o.emplace_back("group", t.group);
        } else if (i < 6 || t.v[i]) { // QEMU requires the first six
            o.emplace_back(kFields[i].qmp, json::Value(t.v[i]));
        }
    }
    return o;
}

xml::DiskDef* diskByName(xml::DomainDef& def, const std::string& name)
{
    for (auto& d : def.devices.disks)
        if (d.targetDev == name || (!d.path.empty() && d.path == name))
            return &d;
    return nullptr;
}

VirtError iotuneError(ErrCode code, const std::string& text) { return makeError(code, ErrDomain::Qemu, text); }

} // namespace

namespace qemu {

void applyBootIotune(Monitor& mon, const xml::DomainDef& def)
{
    for (const auto& disk : def.devices.disks) {
        Tune t = tuneOf(disk);
        if (!t.any() || !disk.hasSource || disk.path.empty())
            continue;
        try {
            mon.execute("block_set_io_throttle", throttleArgs(qemu::diskQomName(disk), t));
        } catch (const QmpError& e) {
            throw err::configUnsupported("<iotune> of disk '" + disk.targetDev + "': " + e.desc);
        }
    }
}

} // namespace qemu

TypedParams QemuDriver::domainGetBlockIoTune(const std::string& uuid, const std::string& disk, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig | kStringOkay, "qemuDomainGetBlockIoTune");
    flags &= ~kStringOkay;
    domain::checkOneDef(flags);
    auto d = find(uuid);
    std::lock_guard job(d->job);
    Tune t;
    std::shared_ptr<qemu::Monitor> mon;
    std::string alias, qom;
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        xml::DomainDef& def = (flags & kAffectLive) ? *d->live : *d->def;
        const xml::DiskDef* dd = diskByName(def, disk);
        if (!dd)
            throw iotuneError(ErrCode::InvalidArg, "disk '" + disk + "' was not found in the domain config");
        t = tuneOf(*dd);
        if (flags & kAffectLive) {
            mon = d->mon;
            alias = dd->info.alias;
            qom = qemu::diskQomName(*dd);
        }
    }
    if (mon) {
        // The running values are QEMU's (query-block), not the XML's.
        json::Value blocks = mon->execute("query-block");
        for (const auto& b : blocks.asArray()) {
            std::string qdev = b.str("qdev");
            if (qdev != alias && qdev != qom && qdev != "/machine/peripheral/" + alias)
                continue;
            const json::Value* in = b.find("inserted");
            if (!in)
                throw iotuneError(ErrCode::OperationInvalid, "block device '" + disk + "' has no medium");
            for (size_t i = 0; i < kFields.size(); ++i) {
                if (i == kGroup)
                    t.group = in->str("group");
                else
                    t.v[i] = static_cast<uint64_t>(in->integer(kFields[i].qmp, 0));
            }
        }
    }
    TypedParams out;
    for (size_t i = 0; i < kFields.size(); ++i) {
        if (i == kGroup)
            out.push_back({kFields[i].name, t.group});
        else
            out.push_back({kFields[i].name, t.v[i]});
    }
    return out;
}

void QemuDriver::domainSetBlockIoTune(
    const std::string& uuid, const std::string& disk, const TypedParams& p, uint32_t flags)
{
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainSetBlockIoTune");
    // virTypedParamsValidate: known names, the right types, each once.
    std::array<bool, 20> given {};
    for (const auto& param : p) {
        size_t i = fieldIndex(param.name);
        if (i == kFields.size())
            throw makeError(
                ErrCode::ArgumentUnsupported, ErrDomain::None, "parameter '" + param.name + "' not supported");
        if (given[i])
            throw err::invalidArg("parameter '" + param.name + "' occurs multiple times");
        given[i] = true;
        bool isString = std::holds_alternative<std::string>(param.value);
        if ((i == kGroup) != isString || (!isString && !paramAsUnsigned(param.value)))
            throw err::invalidArg("invalid type for parameter '" + param.name + "', expected '"
                + (i == kGroup ? "string" : "ullong") + "'");
        if (!isString && *paramAsUnsigned(param.value) > kIotuneMax)
            throw iotuneError(ErrCode::InvalidArg,
                "block I/O throttle limit value must be no more than " + std::to_string(kIotuneMax));
    }
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::shared_ptr<qemu::Monitor> mon;
    std::string alias;
    Tune liveTune, configTune;
    {
        std::lock_guard lock(mu_);
        domain::updateImpact(flags, d->active(), d->persistent);
        if (flags & kAffectLive) {
            xml::DiskDef* dd = diskByName(*d->live, disk);
            if (!dd)
                throw iotuneError(ErrCode::InvalidArg, "disk '" + disk + "' was not found in the domain config");
            if (!dd->hasSource || dd->path.empty())
                throw iotuneError(ErrCode::OperationInvalid, "disk '" + disk + "' does not have any media");
            liveTune = tuneOf(*dd);
            alias = qemu::diskQomName(*dd);
            mon = d->mon;
        }
        if (flags & kAffectConfig) {
            xml::DiskDef* dd = diskByName(*d->def, disk);
            if (!dd)
                throw iotuneError(ErrCode::InvalidArg, "missing persistent configuration for disk '" + disk + "'");
            configTune = tuneOf(*dd);
        }
    }
    // libvirt's merge: what is given replaces; a total clears its read and
    // write (and the other way round) unless those are given too.
    auto merge = [&](Tune& t) {
        for (size_t base : {0, 3, 6, 9, 14, 17}) { // total, read, write triples
            bool total = given[base], rw = given[base + 1] || given[base + 2];
            if (total && !rw)
                t.v[base + 1] = t.v[base + 2] = 0;
            if (rw && !total)
                t.v[base] = 0;
        }
        for (const auto& param : p) {
            size_t i = fieldIndex(param.name);
            if (i == kGroup)
                t.group = std::get<std::string>(param.value);
            else
                t.v[i] = *paramAsUnsigned(param.value);
        }
        for (const char* kind : {"bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"}) {
            std::string k(kind);
            size_t total = fieldIndex("total_" + k);
            if (t.v[total] && (t.v[total + 1] || t.v[total + 2]))
                throw iotuneError(
                    ErrCode::InvalidArg, "total and read/write of " + k + " cannot be set at the same time");
        }
    };
    if (flags & kAffectLive)
        merge(liveTune);
    if (flags & kAffectConfig)
        merge(configTune);
    if (mon) {
        try {
            mon->execute("block_set_io_throttle", throttleArgs(alias, liveTune));
        } catch (const qemu::QmpError& e) {
            throw iotuneError(
                ErrCode::InternalError, "unable to execute QEMU command 'block_set_io_throttle': " + e.desc);
        }
    }
    {
        std::lock_guard lock(mu_);
        if ((flags & kAffectLive) && d->live)
            if (xml::DiskDef* dd = diskByName(*d->live, disk))
                setTune(*dd, liveTune);
        if (flags & kAffectConfig) {
            xml::DomainDef copy = *d->def;
            setTune(*diskByName(copy, disk), configTune);
            saveConfig(copy);
            *d->def = std::move(copy);
        }
    }
    if (flags & kAffectLive)
        writeStatus(*d);
}

} // namespace virtbus
