// Helpers every part of the test driver uses: libvirt's common error texts,
// the AFFECT_LIVE/CONFIG rules, CPU sets, typed-parameter validation and the
// raw tuning elements the XML model does not name.
#include "test/test_internal.h"

#include "domain_common.h"
#include "xml/xml_util.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace virtbus::testdrv {

// ---- errors ----

VirtError bareInvalidArg(std::string message)
{
    return VirtError(ErrCode::InvalidArg, ErrDomain::Test, std::move(message));
}

VirtError flagsExclusive(std::string_view a, std::string_view b)
{
    return bareInvalidArg("Flags '" + std::string(a) + "' and '" + std::string(b) + "' are mutually exclusive");
}

VirtError flagRequires(std::string_view flag, std::string_view required)
{
    return bareInvalidArg("Flag '" + std::string(required) + "' is required by flag '" + std::string(flag) + "'");
}

VirtError systemError(std::string message, int errnum)
{
    // VIR_ERR_SYSTEM_ERROR carries no prefix of its own.
    constexpr auto kSystemError = static_cast<ErrCode>(38);
    return VirtError(kSystemError, ErrDomain::Test, message + ": " + std::strerror(errnum));
}

VirtError notRunning()
{
    return makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
}

VirtError testError(ErrCode code, std::string_view detail)
{
    return makeError(code, ErrDomain::Test, detail);
}

VirtError revertRisky(std::string_view detail)
{
    constexpr auto kSnapshotRevertRisky = static_cast<ErrCode>(77);
    return VirtError(kSnapshotRevertRisky, ErrDomain::Test, "revert requires force: " + std::string(detail));
}

VirtError noDomainUuid(const std::string& uuid)
{
    return err::noDomain("no domain with matching uuid '" + uuid + "'");
}

void checkActive(const TestDomain& d)
{
    if (!d.active())
        throw notRunning();
}

void checkNameLength(std::string_view name, std::string_view what)
{
    if (name.size() > kMaxNameLength)
        throw err::invalidArg(std::string(what) + " is longer than " + std::to_string(kMaxNameLength) +
                              " bytes");
}

// ---- which definition ----

void updateImpact(const TestDomain& d, uint32_t& flags)
{
    if ((flags & (kAffectLive | kAffectConfig)) == 0)
        flags |= d.active() ? kAffectLive : kAffectConfig;
    if (!d.active() && (flags & kAffectLive))
        throw notRunning();
    if (!d.persistent && (flags & kAffectConfig))
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain,
                        "transient domains do not have any persistent config");
}

Defs getDefs(TestDomain& d, uint32_t flags)
{
    updateImpact(d, flags);
    Defs defs;
    if (flags & kAffectLive)
        defs.live = &d.def;
    if (flags & kAffectConfig)
        defs.config = &d.persistentDef();
    return defs;
}

xml::DomainDef& getOneDef(TestDomain& d, uint32_t flags, bool* live)
{
    if ((flags & kAffectLive) && (flags & kAffectConfig))
        throw flagsExclusive("VIR_DOMAIN_AFFECT_LIVE", "VIR_DOMAIN_AFFECT_CONFIG");
    updateImpact(d, flags);
    if (live)
        *live = flags & kAffectLive;
    return (flags & kAffectConfig) ? d.persistentDef() : d.def;
}

void postParse(xml::DomainDef& def)
{
    if (def.os.arch.empty())
        def.os.arch = "i686";
    auto hasBootOrder = [&] {
        for (const auto& disk : def.devices.disks)
            if (disk.info.bootOrder)
                return true;
        for (const auto& net : def.devices.interfaces)
            if (net.info.bootOrder)
                return true;
        for (const auto& h : def.devices.hostdevs)
            if (h.info.bootOrder)
                return true;
        return false;
    };
    if (def.os.type == "hvm" && def.os.bootDevs.empty() && def.os.kernel.empty() && !hasBootOrder())
        def.os.bootDevs.push_back("hd");
    // testDomainDevicesDefPostParse: the test hypervisor's default video.
    for (auto& v : def.devices.videos)
        if (v.model.empty())
            v.model = (def.os.type == "xen" || def.os.type == "linux") ? "xen" : "cirrus";
    xml::assignMissingMACs(def);
    // testDomainGenerateIfnames: the lowest free "testnetN".
    for (auto& net : def.devices.interfaces) {
        if (!net.targetDev.empty())
            continue;
        for (int n = 0;; ++n) {
            std::string name = "testnet" + std::to_string(n);
            bool used = std::any_of(def.devices.interfaces.begin(), def.devices.interfaces.end(),
                                    [&](const xml::InterfaceDef& o) { return o.targetDev == name; });
            if (!used) {
                net.targetDev = name;
                break;
            }
        }
    }
}

// ---- CPU sets ----

std::vector<bool> parseCpuset(std::string_view set)
{
    return domain::parseCpuset(set);
}

std::string formatCpuset(const std::vector<bool>& map)
{
    return domain::formatCpuset(map);
}

std::vector<bool> allCpus(unsigned n)
{
    return std::vector<bool>(n, true);
}

std::vector<bool> mapWidth(std::vector<bool> map, unsigned width)
{
    map.resize(width, false);
    return map;
}

bool anySet(const std::vector<bool>& map)
{
    return std::find(map.begin(), map.end(), true) != map.end();
}

// ---- typed parameters ----

namespace {

const char* typeName(ParamType t)
{
    switch (t) {
    case ParamType::Int: return "int";
    case ParamType::UInt: return "uint";
    case ParamType::LLong: return "llong";
    case ParamType::ULLong: return "ullong";
    case ParamType::Double: return "double";
    case ParamType::Boolean: return "boolean";
    case ParamType::String: return "string";
    }
    return "unknown";
}

ParamType typeOf(const ParamValue& v)
{
    constexpr ParamType kByIndex[] = {ParamType::Int,    ParamType::UInt,    ParamType::LLong, ParamType::ULLong,
                                      ParamType::Double, ParamType::Boolean, ParamType::String};
    return kByIndex[v.index()];
}

bool fits(const ParamValue& v, ParamType want)
{
    if (typeOf(v) == want)
        return true;
    auto u = paramAsUnsigned(v);
    auto s = paramAsSigned(v);
    switch (want) {
    case ParamType::Int: return s && *s >= INT32_MIN && *s <= INT32_MAX;
    case ParamType::UInt: return u && *u <= UINT32_MAX;
    case ParamType::LLong: return s.has_value();
    case ParamType::ULLong: return u.has_value();
    default: return false;
    }
}

} // namespace

void validateParams(const TypedParams& params,
                    std::initializer_list<std::pair<std::string_view, ParamType>> allowed)
{
    std::set<std::string_view> seen;
    for (const auto& p : params) {
        auto it = std::find_if(allowed.begin(), allowed.end(), [&](const auto& a) { return a.first == p.name; });
        if (it == allowed.end())
            throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Test,
                            "parameter '" + p.name.substr(0, 80) + "' not supported");
        if (!seen.insert(it->first).second)
            throw err::invalidArg("parameter '" + p.name + "' occurs multiple times");
        if (!fits(p.value, it->second))
            throw err::invalidArg(std::string("invalid type '") + typeName(typeOf(p.value)) + "' for parameter '" +
                                  p.name + "', expected '" + typeName(it->second) + "'");
    }
}

uint64_t paramU64(const ParamValue& v)
{
    return paramAsUnsigned(v).value_or(0);
}

int64_t paramI64(const ParamValue& v)
{
    return paramAsSigned(v).value_or(0);
}

// ---- raw elements ----

namespace {

std::string_view rawName(std::string_view xml)
{
    if (!xml.empty() && xml.front() == '<')
        xml.remove_prefix(1);
    return xml.substr(0, xml.find_first_of(" \t\n/>"));
}

RawNode toRaw(const xmlNode* n)
{
    RawNode r;
    r.name = xml::elemName(n);
    for (const xmlAttr* a = n->properties; a; a = a->next) {
        if (a->ns)
            continue;
        const char* name = reinterpret_cast<const char*>(a->name);
        r.attrs.emplace_back(name, xml::attrOr(n, name));
    }
    r.text = xml::textOf(n);
    for (const xmlNode* c : xml::elementChildren(n))
        r.children.push_back(toRaw(c));
    return r;
}

} // namespace

std::string RawNode::attr(std::string_view n) const
{
    for (const auto& [k, v] : attrs)
        if (k == n)
            return v;
    return {};
}

const RawNode* RawNode::child(std::string_view n) const
{
    for (const auto& c : children)
        if (c.name == n)
            return &c;
    return nullptr;
}

std::string rawElement(const std::vector<std::string>& list, std::string_view name)
{
    for (const auto& x : list)
        if (rawName(x) == name)
            return x;
    return {};
}

void setRawElement(std::vector<std::string>& list, std::string_view name, std::string xml)
{
    auto it = std::find_if(list.begin(), list.end(), [&](const std::string& x) { return rawName(x) == name; });
    if (xml.empty()) {
        if (it != list.end())
            list.erase(it);
    } else if (it != list.end()) {
        *it = std::move(xml);
    } else {
        list.push_back(std::move(xml));
    }
}

std::optional<RawNode> parseRaw(const std::string& xml)
{
    if (xml.empty())
        return std::nullopt;
    xml::XmlDoc doc = xml::parseDocument(xml, "(test_driver)");
    return toRaw(xmlDocGetRootElement(doc.get()));
}

// ---- I/O threads ----

std::vector<IOThread> ioThreads(const xml::DomainDef& def)
{
    std::vector<IOThread> out;
    if (auto ids = parseRaw(rawElement(def.extra.children, "iothreadids"))) {
        for (const auto& c : ids->children)
            if (c.name == "iothread")
                out.push_back({static_cast<unsigned>(std::strtoul(c.attr("id").c_str(), nullptr, 10)), {}});
    }
    for (unsigned i = 1; out.size() < def.iothreads; ++i)
        if (std::none_of(out.begin(), out.end(), [&](const IOThread& t) { return t.id == i; }))
            out.push_back({i, {}});
    for (const auto& x : def.cputune.extra.children) {
        if (rawName(x) != "iothreadpin")
            continue;
        auto pin = parseRaw(x);
        unsigned id = static_cast<unsigned>(std::strtoul(pin->attr("iothread").c_str(), nullptr, 10));
        for (auto& t : out)
            if (t.id == id)
                t.cpuset = pin->attr("cpuset");
    }
    return out;
}

void setIoThreads(xml::DomainDef& def, const std::vector<IOThread>& threads)
{
    def.iothreads = static_cast<unsigned>(threads.size());
    std::string ids;
    if (!threads.empty()) {
        xml::XmlWriter w;
        w.open("iothreadids");
        for (const auto& t : threads)
            w.open("iothread").attr("id", std::to_string(t.id)).close();
        w.close();
        ids = w.take();
    }
    setRawElement(def.extra.children, "iothreadids", std::move(ids));
    auto& extra = def.cputune.extra.children;
    extra.erase(std::remove_if(extra.begin(), extra.end(), [](const std::string& x) { return rawName(x) == "iothreadpin"; }),
                extra.end());
    for (const auto& t : threads) {
        if (t.cpuset.empty())
            continue;
        xml::XmlWriter w;
        w.open("iothreadpin").attr("iothread", std::to_string(t.id)).attr("cpuset", t.cpuset).close();
        extra.push_back(w.take());
    }
}

// ---- device lookups ----

xml::DiskDef* diskByName(xml::DomainDef& def, std::string_view name)
{
    for (auto& d : def.devices.disks)
        if (d.targetDev == name)
            return &d;
    for (auto& d : def.devices.disks)
        if (d.hasSource && !d.path.empty() && d.path == name)
            return &d;
    return nullptr;
}

xml::InterfaceDef& netFind(xml::DomainDef& def, std::string_view device)
{
    if (xml::isValidMAC(device)) {
        std::string mac = xml::normalizeMAC(device);
        xml::InterfaceDef* found = nullptr;
        for (auto& n : def.devices.interfaces) {
            if (n.mac != mac)
                continue;
            if (found)
                throw err::invalidArg("'" + std::string(device) + "' is not a unique interface");
            found = &n;
        }
        if (found)
            return *found;
    } else {
        for (auto& n : def.devices.interfaces)
            if (n.targetDev == device)
                return n;
    }
    throw err::invalidArg("'" + std::string(device) + "' is not a known interface");
}

} // namespace virtbus::testdrv
