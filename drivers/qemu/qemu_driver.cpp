// The QEMU driver's definitions, lookups and host queries; starting and
// stopping guests is in qemu_lifecycle.cpp, reconnecting in qemu_reconnect.cpp.
#include "qemu/qemu_driver.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>
#include <unordered_set>

#include "fileutil.h"
#include "qemu/qemu_caps.h"
#include "qemu/qemu_command.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"
#include "xml/domain_xml.h"

namespace virtbus {

using qemu::QemuDomain;

namespace {

std::string envOr(const char* name, const std::string& def)
{
    const char* v = getenv(name);
    return v && *v ? v : def;
}

std::string home() { return envOr("HOME", "/root"); }

// VIR_DOMAIN_XML_*.
constexpr uint32_t kXmlSecure = 1, kXmlInactive = 2, kXmlUpdateCpu = 4, kXmlMigratable = 8;

} // namespace

QemuConfig QemuConfig::defaults(bool system)
{
    QemuConfig c;
    c.system = system;
    if (system) {
        c.configDir = "/etc/virtbus/qemu";
        c.autostartDir = "/etc/virtbus/qemu/autostart";
        c.stateDir = "/run/virtbus/qemu";
        c.logDir = "/var/log/virtbus/qemu";
        c.cacheDir = "/var/cache/virtbus/qemu";
        c.saveDir = "/var/lib/virtbus/qemu/save";
        c.user = c.group = "virtbus-qemu";
    } else {
        std::string config = envOr("XDG_CONFIG_HOME", home() + "/.config");
        std::string state = envOr("XDG_STATE_HOME", home() + "/.local/state");
        std::string cache = envOr("XDG_CACHE_HOME", home() + "/.cache");
        c.configDir = config + "/virtbus/qemu";
        c.autostartDir = config + "/virtbus/qemu/autostart";
        c.stateDir = envOr("XDG_RUNTIME_DIR", cache) + "/virtbus/qemu";
        c.logDir = state + "/virtbus/qemu/log";
        c.cacheDir = cache + "/virtbus/qemu";
        c.saveDir = state + "/virtbus/qemu/save";
    }
    return c;
}

QemuConfig QemuConfig::fromEnvironment(bool system)
{
    QemuConfig c = defaults(system);
    c.configDir = envOr("VIRTBUS_QEMU_CONFIG_DIR", c.configDir);
    c.autostartDir = envOr("VIRTBUS_QEMU_AUTOSTART_DIR", c.configDir + "/autostart");
    c.stateDir = envOr("VIRTBUS_QEMU_STATE_DIR", c.stateDir);
    c.logDir = envOr("VIRTBUS_QEMU_LOG_DIR", c.logDir);
    c.cacheDir = envOr("VIRTBUS_QEMU_CACHE_DIR", c.cacheDir);
    c.saveDir = envOr("VIRTBUS_QEMU_SAVE_DIR", c.saveDir);
    if (system) {
        const char* user = getenv("VIRTBUS_QEMU_USER");
        if (user && *user) {
            c.user = user;
            c.group.clear(); // the user's own group unless one is named
        }
        c.group = envOr("VIRTBUS_QEMU_GROUP", c.group);
    }
    return c;
}

QemuDriver::QemuDriver(QemuConfig config) : cfg_(std::move(config))
{
    for (const auto* dir : {&cfg_.configDir, &cfg_.autostartDir, &cfg_.stateDir, &cfg_.logDir, &cfg_.cacheDir})
        makeDirs(*dir, 0700, ErrDomain::Qemu);
    caps_ = std::make_unique<qemu::CapsCache>(loop_, cfg_.cacheDir);
    loadConfigs();
    loadSnapshots();
    bgThread_ = std::thread([this] { backgroundLoop(); });
}

QemuDriver::~QemuDriver()
{
    {
        std::lock_guard lock(bgMu_);
        bgStop_ = true;
    }
    // The background thread may be probing an emulator (up to a second):
    // end the probe rather than wait for it.
    qemu::cancelProbes();
    bgCv_.notify_all();
    bgThread_.join();
    // Guests keep running: only our watches go. AUTODESTROY guests were
    // tied to this daemon's lifetime, as to a libvirt connection's.
    std::vector<std::shared_ptr<qemu::Monitor>> monitors;
    std::vector<int> watches;
    {
        std::lock_guard lock(mu_);
        for (auto& [uuid, d] : byUuid_)
            if (d->pidfdWatch >= 0)
                watches.push_back(std::exchange(d->pidfdWatch, -1));
    }
    // Outside mu_: remove() waits for a running callback, which may be
    // waiting for mu_.
    for (int w : watches)
        loop_.remove(w);
    {
        std::lock_guard lock(mu_);
        for (auto& [uuid, d] : byUuid_) {
            if (d->autodestroy && d->pid > 0 && d->startTime == qemu::processStartTime(d->pid))
                ::kill(d->pid, SIGKILL);
            if (d->pidfd >= 0)
                ::close(d->pidfd);
            d->pidfd = -1;
            if (d->mon)
                monitors.push_back(std::move(d->mon));
        }
    }
    for (auto& m : monitors)
        m->close();
}

void QemuDriver::background(std::function<void()> fn)
{
    {
        std::lock_guard lock(bgMu_);
        bgQueue_.push_back(std::move(fn));
    }
    bgCv_.notify_one();
}

void QemuDriver::backgroundLoop()
{
    for (;;) {
        std::function<void()> fn;
        {
            std::unique_lock lock(bgMu_);
            bgCv_.wait(lock, [this] { return bgStop_ || !bgQueue_.empty(); });
            if (bgStop_)
                return;
            fn = std::move(bgQueue_.front());
            bgQueue_.pop_front();
        }
        try {
            fn();
        } catch (const std::exception& e) {
            fprintf(stderr, "<4>qemu: background task failed: %s\n", e.what());
        }
    }
}

void QemuDriver::emitLifecycle(const Dom& d, int event, int detail)
{
    if (sink())
        sink()->domainLifecycle(d.uuid(), event, detail);
}

void QemuDriver::emitSignal(const Dom& d, const DomainSignal& s)
{
    if (sink())
        sink()->domainSignal(d.uuid(), s);
}

// ---- connection and host ----

uint64_t QemuDriver::version() { return version_.load(); }

uint64_t QemuDriver::libVersion()
{
    return 9000000; // the libvirt API level virtbus answers as
}

std::string QemuDriver::hostname()
{
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0)
        throw systemError(ErrDomain::Qemu, "failed to determine host name", errno);
    return buf;
}

std::string QemuDriver::capabilities() { return caps_->capabilitiesXML(); }

std::string QemuDriver::domainCapabilities(const std::string& emulator, const std::string& arch,
    const std::string& machine, const std::string& virttype, uint32_t flags)
{
    checkFlags(flags, 0, "virConnectGetDomainCapabilities");
    return caps_->domainCapabilitiesXML(emulator, arch, machine, virttype);
}

std::vector<std::string> QemuDriver::cpuModelNames(const std::string& arch, uint32_t flags)
{
    checkFlags(flags, 0, "virConnectGetCPUModelNames");
    std::string bin = qemu::CapsCache::emulatorForArch(arch);
    if (bin.empty())
        throw err::invalidArg("cannot find architecture " + arch);
    std::vector<std::string> out;
    for (const auto& m : caps_->get(bin)->cpuModels)
        out.push_back(m.name);
    return out;
}

std::vector<bool> QemuDriver::nodeCPUMap(uint32_t flags)
{
    checkFlags(flags, 0, "virNodeGetCPUMap");
    long n = sysconf(_SC_NPROCESSORS_CONF);
    std::vector<bool> map(static_cast<size_t>(n > 0 ? n : 1), false);
    auto online = readFile("/sys/devices/system/cpu/online");
    if (!online)
        return std::vector<bool>(map.size(), true);
    // "0-3,5,7-8"
    const char* p = online->c_str();
    while (*p) {
        char* end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p)
            break;
        p = end;
        if (*p == '-') {
            b = strtoul(p + 1, &end, 10);
            p = end;
        }
        for (unsigned long i = a; i <= b && i < map.size(); ++i)
            map[i] = true;
        if (*p == ',')
            ++p;
        else
            break;
    }
    return map;
}

uint64_t QemuDriver::nodeFreeMemory()
{
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit) {
        if (key == "MemFree:")
            return kib * 1024;
    }
    return 0;
}

std::tuple<std::string, std::string> QemuDriver::nodeSecurityModel() { return {"none", "0"}; }

// ---- lookups ----

QemuDriver::DomPtr QemuDriver::findLocked(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end())
        throw err::noDomain("no domain with matching uuid '" + uuid.substr(0, 64) + "'");
    return it->second;
}

QemuDriver::DomPtr QemuDriver::find(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return findLocked(uuid);
}

QemuDomain* QemuDriver::byNameLocked(const std::string& name)
{
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

DomainRef QemuDriver::refOf(const Dom& d) const { return {d.uuid(), d.name()}; }

std::vector<DomainRef> QemuDriver::listDomains(uint32_t flags)
{
    checkFlags(flags, 0xFFFF, "qemuConnectListAllDomains");
    std::lock_guard lock(mu_);
    std::vector<DomainRef> out;
    for (const auto& [name, d] : byName_) {
        if (matchesListFlags(flags,
                {.active = d->active(),
                    .persistent = d->persistent,
                    .managedSave = hasManagedSave(d->name()),
                    .autostart = d->autostart,
                    .state = d->state}))
            out.push_back(refOf(*d));
    }
    return out;
}

DomainRef QemuDriver::domainLookupByID(int32_t id)
{
    std::lock_guard lock(mu_);
    for (const auto& [uuid, d] : byUuid_)
        if (d->id == id && id >= 0)
            return refOf(*d);
    throw err::noDomain("no domain with matching id " + std::to_string(id));
}

DomainRef QemuDriver::domainLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    if (Dom* d = byNameLocked(name))
        return refOf(*d);
    throw err::noDomain("no domain with matching name '" + name.substr(0, 1024) + "'");
}

DomainRef QemuDriver::domainLookupByUUID(const std::string& uuid)
{
    if (!xml::isValidUUID(uuid))
        throw err::invalidArg("uuid");
    std::lock_guard lock(mu_);
    return refOf(*findLocked(xml::normalizeUUID(uuid)));
}

bool QemuDriver::domainExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return byUuid_.count(uuid) != 0;
}

DomainSummary QemuDriver::domainSummary(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    DomainSummary s;
    s.uuid = d->uuid();
    s.name = d->name();
    s.id = d->id;
    s.active = d->active();
    s.persistent = d->persistent;
    s.autostart = d->autostart;
    s.updated = d->active() && d->updated;
    s.osType = d->def->os.type.empty() ? "hvm" : d->def->os.type;
    s.schedulerType = "posix";
    s.schedulerParams = 1; // cpu_shares (qemu_sched.cpp)
    return s;
}

// ---- definitions ----

xml::DomainDef QemuDriver::parseForDefine(const std::string& xmlText, uint32_t flags)
{
    constexpr uint32_t kValidate = 1;
    unsigned parseFlags = xml::PARSE_INACTIVE | ((flags & kValidate) ? unsigned(xml::PARSE_VALIDATE) : 0u);
    xml::DomainDef def = xml::parseDomainXML(xmlText, parseFlags);
    qemu::checkDomainName(def.name);
    if (def.devices.emulator.empty()) {
        std::string arch = def.os.arch.empty() ? "x86_64" : def.os.arch;
        def.devices.emulator = qemu::CapsCache::emulatorForArch(arch);
        if (def.devices.emulator.empty())
            throw err::configUnsupported("No emulator found for arch '" + arch + "'");
    }
    if (def.os.arch.empty())
        def.os.arch = "x86_64";
    std::shared_ptr<const qemu::EmulatorCaps> caps;
    if (access(def.devices.emulator.c_str(), X_OK) == 0) {
        caps = caps_->get(def.devices.emulator);
        if (def.os.machine.empty() && caps->defaultMachine())
            def.os.machine = caps->defaultMachine()->name;
    }
    qemu::validateDefinition(def, caps.get());
    xml::assignMissingMACs(def);
    return def;
}

void QemuDriver::saveConfig(const xml::DomainDef& def)
{
    xml::FormatOptions o;
    o.inactive = true;
    o.secure = true;
    writeFileAtomic(cfg_.configDir + "/" + def.name + ".xml", xml::formatDomainXML(def, o),
        "cannot save the definition of domain '" + def.name + "'", ErrDomain::Qemu);
}

void QemuDriver::deleteConfig(const std::string& name)
{
    std::string path = cfg_.configDir + "/" + name + ".xml";
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw systemError(ErrDomain::Qemu, "cannot remove config " + path, errno);
    ::unlink((cfg_.autostartDir + "/" + name + ".xml").c_str());
}

namespace {

std::vector<std::string> xmlFilesIn(const std::string& dirPath)
{
    std::vector<std::string> out;
    DIR* dir = opendir(dirPath.c_str());
    if (!dir)
        return out;
    while (dirent* e = readdir(dir)) {
        std::string file = e->d_name;
        if (file.size() >= 5 && file.compare(file.size() - 4, 4, ".xml") == 0 && file[0] != '.')
            out.push_back(std::move(file));
    }
    closedir(dir);
    return out;
}

} // namespace

// Parsing is nearly all of a start with many definitions (about 65 us of
// CPU each), so the files are parsed on every core, then added in one pass.
void QemuDriver::loadConfigs()
{
    std::vector<std::string> files = xmlFilesIn(cfg_.configDir);
    auto marks = xmlFilesIn(cfg_.autostartDir);
    std::unordered_set<std::string> autostart(marks.begin(), marks.end());
    std::vector<std::optional<xml::DomainDef>> defs(files.size());
    std::vector<std::string> errors(files.size());
    auto parse = [&](size_t first, size_t step) {
        for (size_t i = first; i < files.size(); i += step) {
            try {
                auto text = readFile(cfg_.configDir + "/" + files[i]);
                if (!text)
                    throw systemError(ErrDomain::Qemu, "cannot read", errno);
                xml::DomainDef def = xml::parseDomainXML(*text, xml::PARSE_INACTIVE);
                if (def.name + ".xml" != files[i])
                    throw err::xml("its name '" + def.name + "' does not match the file name");
                defs[i] = std::move(def);
            } catch (const std::exception& ex) {
                errors[i] = ex.what();
            }
        }
    };
    size_t threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, files.size() / 200 + 1});
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t)
        pool.emplace_back(parse, t, threads);
    parse(0, threads);
    for (auto& t : pool)
        t.join();
    for (size_t i = 0; i < files.size(); ++i) {
        std::string path = cfg_.configDir + "/" + files[i];
        try {
            if (!defs[i])
                throw std::runtime_error(errors[i]);
            bool replaced = false;
            auto d = addDomain(std::move(*defs[i]), false, &replaced);
            d->persistent = true;
            d->autostart = autostart.count(files[i]) != 0;
        } catch (const std::exception& ex) {
            fprintf(stderr, "<4>qemu: ignoring domain config %s: %s\n", path.c_str(), ex.what());
        }
    }
}

QemuDriver::DomPtr QemuDriver::addDomain(xml::DomainDef def, bool live, bool* replacedConfig)
{
    *replacedConfig = false;
    if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
        auto d = it->second;
        if (d->name() != def.name)
            throw makeError(ErrCode::OperationFailed, ErrDomain::Domain,
                "domain '" + d->name() + "' is already defined with uuid " + d->uuid());
        if (live) {
            if (d->active())
                throw makeError(
                    ErrCode::OperationInvalid, ErrDomain::Domain, "domain '" + d->name() + "' is already active");
            if (!d->persistent)
                throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain,
                    "domain '" + d->name() + "' is already being started");
            return d; // started below with this definition as its live one
        }
        *replacedConfig = d->persistent;
        *d->def = std::move(def);
        d->updated = d->active();
        return d;
    }
    if (Dom* other = byNameLocked(def.name))
        throw makeError(ErrCode::OperationFailed, ErrDomain::Domain,
            "domain '" + def.name + "' already exists with uuid " + other->uuid());
    auto d = std::make_shared<QemuDomain>();
    d->def = std::make_unique<xml::DomainDef>(std::move(def));
    byName_[d->name()] = d.get();
    byUuid_[d->uuid()] = d;
    return d;
}

void QemuDriver::forgetLocked(Dom& d)
{
    std::string uuid = d.uuid();
    byName_.erase(d.name());
    byUuid_.erase(uuid); // may destroy d
    if (sink())
        sink()->objectRemoved({ObjectType::Domain, uuid, {}});
}

DomainRef QemuDriver::domainDefineXML(const std::string& xmlText, uint32_t flags)
{
    checkFlags(flags, 1, "qemuDomainDefineXMLFlags");
    xml::DomainDef def = parseForDefine(xmlText, flags);
    DomPtr d;
    bool replaced = false, added = false;
    {
        std::lock_guard lock(mu_);
        added = byUuid_.count(def.uuid) == 0;
        xml::DomainDef copy = def;
        d = addDomain(std::move(copy), false, &replaced);
        try {
            saveConfig(def);
        } catch (...) {
            if (added)
                forgetLocked(*d);
            throw;
        }
        bool wasPersistent = d->persistent;
        d->persistent = true;
        if (!added && !wasPersistent && sink())
            sink()->propertiesChanged({ObjectType::Domain, d->uuid(), {}}, prop::Persistent);
    }
    if (added && sink())
        sink()->objectAdded({ObjectType::Domain, d->uuid(), {}});
    emitLifecycle(*d, ev::Defined, replaced ? int(ev::DefinedUpdated) : int(ev::DefinedAdded));
    return refOf(*d);
}

void QemuDriver::domainUndefine(const std::string& uuid, uint32_t flags)
{
    // MANAGED_SAVE 1, SNAPSHOTS_METADATA 2 (the snapshots' metadata goes
    // with an inactive domain), NVRAM 4, KEEP_NVRAM 8, CHECKPOINTS_METADATA
    // 16, TPM 32, KEEP_TPM 64: nothing of these others exists yet here
    // (a managed save image is removed with MANAGED_SAVE, below).
    checkFlags(flags, 0x7F, "qemuDomainUndefineFlags");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::lock_guard lock(mu_);
    if (!d->persistent)
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "cannot undefine transient domain");
    const bool managedSave = hasManagedSave(d->name());
    if (managedSave && !(flags & 1))
        throw err::operationInvalid("Refusing to undefine while domain managed save image exists");
    if (!d->active())
        dropSnapshotsLocked(*d, flags);
    if (managedSave && ::unlink(managedSavePath(d->name()).c_str()) != 0 && errno != ENOENT)
        throw systemError(ErrDomain::Qemu, "Failed to remove domain managed save image", errno);
    deleteConfig(d->name());
    d->autostart = false;
    emitLifecycle(*d, ev::Undefined, ev::UndefinedRemoved);
    if (d->active()) {
        d->persistent = false;
        if (sink())
            sink()->propertiesChanged({ObjectType::Domain, d->uuid(), {}}, prop::Persistent | prop::Autostart);
        if (d->active())
            writeStatus(*d);
    } else {
        forgetLocked(*d);
    }
}

void QemuDriver::domainRename(const std::string& uuid, const std::string& name, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainRename");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    std::lock_guard lock(mu_);
    if (name.empty())
        throw err::invalidArg("new domain name cannot be empty");
    qemu::checkDomainName(name);
    if (d->active())
        throw err::operationInvalid("cannot rename active domain");
    if (!d->persistent)
        throw err::operationInvalid("cannot rename a transient domain");
    if (hasManagedSave(d->name()))
        throw err::operationInvalid("domain with a managed saved state can't be renamed");
    if (name == d->name())
        throw err::operationInvalid("cannot rename domain to its current name");
    if (!d->snapshots.empty())
        throw err::operationInvalid("cannot rename domain with snapshots");
    if (byNameLocked(name))
        throw makeError(ErrCode::OperationFailed, ErrDomain::Domain, "domain with name '" + name + "' already exists");
    std::string old = d->name();
    xml::DomainDef renamed = *d->def;
    renamed.name = name;
    saveConfig(renamed);
    bool autostart = d->autostart;
    deleteConfig(old);
    byName_.erase(old);
    d->def->name = name;
    byName_[name] = d.get();
    if (autostart)
        ::symlink((cfg_.configDir + "/" + name + ".xml").c_str(), (cfg_.autostartDir + "/" + name + ".xml").c_str());
    emitLifecycle(*d, ev::Undefined, ev::UndefinedRenamed);
    emitLifecycle(*d, ev::Defined, ev::DefinedRenamed);
    if (sink())
        sink()->propertiesChanged({ObjectType::Domain, d->uuid(), {}}, prop::Name);
}

void QemuDriver::domainSetAutostart(const std::string& uuid, bool autostart)
{
    auto d = find(uuid);
    std::lock_guard lock(mu_);
    if (!d->persistent)
        throw err::operationInvalid("cannot set autostart for transient domain");
    if (d->autostart == autostart)
        return;
    std::string mark = cfg_.autostartDir + "/" + d->name() + ".xml";
    if (autostart) {
        if (::symlink((cfg_.configDir + "/" + d->name() + ".xml").c_str(), mark.c_str()) != 0 && errno != EEXIST)
            throw systemError(ErrDomain::Qemu, "Failed to create symlink '" + mark + "'", errno);
    } else if (::unlink(mark.c_str()) != 0 && errno != ENOENT) {
        throw systemError(ErrDomain::Qemu, "Failed to delete symlink '" + mark + "'", errno);
    }
    d->autostart = autostart;
    if (sink())
        sink()->propertiesChanged({ObjectType::Domain, d->uuid(), {}}, prop::Autostart);
}

std::string QemuDriver::domainGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, kXmlSecure | kXmlInactive | kXmlUpdateCpu | kXmlMigratable, "qemuDomainGetXMLDesc");
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    xml::FormatOptions o;
    o.secure = flags & kXmlSecure;
    o.migratable = flags & kXmlMigratable;
    if (d->active() && d->live && !(flags & (kXmlInactive | kXmlMigratable))) {
        o.id = d->id;
        return xml::formatDomainXML(*d->live, o);
    }
    o.inactive = true;
    return xml::formatDomainXML(*d->def, o);
}

std::tuple<int32_t, int32_t> QemuDriver::domainGetState(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainGetState");
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    return {d->state, d->reason};
}

std::tuple<uint32_t, uint32_t, uint64_t> QemuDriver::domainGetControlInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainGetControlInfo");
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    if (!d->active())
        throw err::operationInvalid("domain is not running");
    // VIR_DOMAIN_CONTROL_OK / _ERROR (monitor lost).
    return {d->mon ? 0u : 4u, 0u, 0u};
}

uint32_t QemuDriver::domainGetVcpus(const std::string& uuid, uint32_t flags)
{
    // AFFECT_LIVE 1, AFFECT_CONFIG 2, VCPU_MAXIMUM 4, VCPU_GUEST 8.
    checkFlags(flags, 1 | 2 | 4, "qemuDomainGetVcpusFlags");
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    if ((flags & 1) && (flags & 2))
        throw err::invalidArg(
            "flags 'affect live' and 'affect config' in qemuDomainGetVcpusFlags are mutually exclusive");
    bool live = (flags & 1) || (!(flags & 2) && d->active());
    if ((flags & 1) && !d->active())
        throw err::operationInvalid("domain is not running");
    const xml::DomainDef& def = live && d->live ? *d->live : *d->def;
    return (flags & 4) ? def.vcpu.max : def.vcpu.current;
}

} // namespace virtbus
