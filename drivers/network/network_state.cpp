// Files of the network driver: persistent definitions, autostart marks and
// the status of running networks, read back at start so running networks
// are re-adopted; also Update and the DHCP leases.
#include "network/network_config.h"
#include "network/network_driver.h"
#include "network/network_host.h"
#include "network/network_net.h"

#include "fileutil.h"
#include "xml/domain_xml.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <sstream>

namespace virtbus {

using namespace netdrv;

namespace {

constexpr const char* kStatusMagic = "virtbus-network-status 1";

std::string envOr(const char* name, const std::string& fallback)
{
    const char* v = getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::string parentOf(const std::string& dir) { return dir.substr(0, dir.find_last_of('/')); }

std::vector<std::string> filesWithSuffix(const std::string& dir, const std::string& suffix)
{
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return out;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0 && n[0] != '.')
            out.push_back(n.substr(0, n.size() - suffix.size()));
    }
    ::closedir(d);
    return out;
}

} // namespace

NetworkConfig NetworkConfig::fromEnvironment(const std::string& qemuConfigDir, const std::string& qemuStateDir)
{
    NetworkConfig c;
    c.configDir = envOr("VIRTBUS_NETWORK_CONFIG_DIR", parentOf(qemuConfigDir) + "/network");
    c.autostartDir = envOr("VIRTBUS_NETWORK_AUTOSTART_DIR", c.configDir + "/autostart");
    c.stateDir = envOr("VIRTBUS_NETWORK_STATE_DIR", parentOf(qemuStateDir) + "/network");
    c.installedDefaults = envOr("VIRTBUS_NETWORK_DEFAULTS_DIR", "");
    return c;
}

BridgeNetworkDriver::BridgeNetworkDriver(NetworkConfig cfg) : cfg_(std::move(cfg))
{
    struct stat st { };
    bool fresh = ::stat(cfg_.configDir.c_str(), &st) != 0;
    makeDirs(cfg_.configDir, 0700, ErrDomain::Network);
    makeDirs(cfg_.stateDir, 0755, ErrDomain::Network);
    // libvirt's first start copies the installed `default` network into its
    // configuration; so do we, once, with a UUID and MAC of its own.
    if (fresh && !cfg_.installedDefaults.empty()) {
        for (const auto& name : filesWithSuffix(cfg_.installedDefaults, ".xml")) {
            try {
                auto text = readFile(cfg_.installedDefaults + "/" + name + ".xml");
                if (!text)
                    continue;
                xml::NetworkDef def = xml::parseNetworkXML(*text);
                prepareDef(def, def.uuid);
                saveConfig(def);
            } catch (const std::exception& e) {
                warnings_.push_back("installed network " + name + ": " + e.what());
            }
        }
    }
    loadConfigs();
    // Hand-written definitions without a bridge name or MAC get them now,
    // and keep them: a network's bridge must not change between starts.
    std::vector<xml::NetworkDef> incomplete;
    for (const auto& [u, n] : byUuid_) {
        const std::string& m = n->def.forward.mode;
        if ((m.empty() || m == "nat" || m == "route" || m == "open")
            && (n->def.bridge.name.empty() || n->def.mac.empty()))
            incomplete.push_back(n->def);
    }
    for (auto& def : incomplete) {
        try {
            prepareDef(def, def.uuid);
            saveConfig(def);
            byUuid_.at(def.uuid)->def = def;
        } catch (const std::exception& e) {
            warnings_.push_back("network " + def.name + ": " + e.what());
        }
    }
}

BridgeNetworkDriver::~BridgeNetworkDriver()
{
    {
        std::lock_guard lock(superviseMu_);
        stopping_ = true;
    }
    superviseCv_.notify_all();
    if (superviseThread_.joinable())
        superviseThread_.join();
}

std::string BridgeNetworkDriver::configPath(const std::string& name) const
{
    return cfg_.configDir + "/" + name + ".xml";
}
std::string BridgeNetworkDriver::autostartPath(const std::string& name) const
{
    return cfg_.autostartDir + "/" + name + ".xml";
}
std::string BridgeNetworkDriver::statePath(const std::string& name, const char* ext) const
{
    return cfg_.stateDir + "/" + name + ext;
}

void BridgeNetworkDriver::saveConfig(const xml::NetworkDef& def)
{
    writeFileAtomic(configPath(def.name), xml::formatNetworkXML(def, {.inactive = true}),
        "saving network '" + def.name + "' to '" + configPath(def.name) + "'", ErrDomain::Network);
}

void BridgeNetworkDriver::saveStatus(const xml::NetworkDef& live, const Runtime& rt)
{
    std::string s = std::string(kStatusMagic) + "\n";
    s += "bridge-created " + std::string(rt.bridgeCreated ? "1" : "0") + "\n";
    s += "table " + (rt.table.empty() ? std::string("-") : rt.table) + "\n";
    s += "dnsmasq-pid " + std::to_string(rt.dnsmasqPid) + "\n";
    s += xml::formatNetworkXML(live);
    try {
        writeFileAtomic(
            statePath(live.name, ".status"), s, "saving status of network '" + live.name + "'", ErrDomain::Network);
    } catch (const std::exception&) {
        // The network runs; only a daemon restart would lose track of it.
    }
}

void BridgeNetworkDriver::removeStateFiles(const std::string& name)
{
    for (const char* ext : {".status", ".conf", ".pid", ".leases"})
        ::unlink(statePath(name, ext).c_str());
}

void BridgeNetworkDriver::loadConfigs()
{
    for (const auto& name : filesWithSuffix(cfg_.configDir, ".xml")) {
        std::string path = configPath(name);
        try {
            auto text = readFile(path);
            if (!text)
                throw systemError(ErrDomain::Network, "cannot read '" + path + "'", errno);
            xml::NetworkDef def = xml::parseNetworkXML(*text);
            if (def.name != name)
                throw netErr(ErrCode::InternalError,
                    "network config filename '" + path + "' does not match network name '" + def.name + "'");
            if (byUuid_.count(def.uuid) || byName_.count(def.name))
                throw netErr(ErrCode::OperationFailed, "duplicate network " + def.name);
            auto n = std::make_unique<Net>();
            n->def = std::move(def);
            n->persistent = true;
            struct stat st { };
            n->autostart = ::stat(autostartPath(name).c_str(), &st) == 0;
            insert(std::move(n));
        } catch (const std::exception& e) {
            warnings_.push_back(path + ": " + e.what());
        }
    }
}

// Networks a previous daemon left running: adopted as they are when their
// bridge is still there (dnsmasq restarted and the table put back if they
// went), otherwise what is left of them is cleaned up.
void BridgeNetworkDriver::readopt()
{
    for (const auto& name : filesWithSuffix(cfg_.stateDir, ".status")) {
        std::string path = statePath(name, ".status");
        auto text = readFile(path);
        if (!text || text->rfind(kStatusMagic, 0) != 0)
            continue;
        Runtime rt;
        std::istringstream in(*text);
        std::string line;
        std::getline(in, line);
        size_t xmlStart = text->find('<');
        while (std::getline(in, line) && !line.empty() && line[0] != '<') {
            std::istringstream f(line);
            std::string key, value;
            f >> key >> value;
            if (key == "bridge-created")
                rt.bridgeCreated = value == "1";
            else if (key == "table")
                rt.table = value == "-" ? "" : value;
            else if (key == "dnsmasq-pid")
                rt.dnsmasqPid = static_cast<pid_t>(atoi(value.c_str()));
        }
        std::optional<xml::NetworkDef> live;
        try {
            if (xmlStart != std::string::npos)
                live = xml::parseNetworkXML(text->substr(xmlStart));
        } catch (const std::exception& e) {
            warnings_.push_back(path + ": " + e.what());
        }
        if (!live || live->name != name) {
            ::unlink(path.c_str());
            continue;
        }
        bool bridgeThere = net::linkExists(live->bridge.name);
        if (!bridgeThere) {
            stopHost(*live, rt);
            removeStateFiles(name);
            continue;
        }
        try {
            if (!rt.table.empty() && !net::nftTableExists(rt.table))
                net::nftApply(net::nftRuleset(*live, rt.table));
            if (net::needsDnsmasq(*live) && !net::dnsmasqAlive(rt.dnsmasqPid, statePath(name, ".conf")))
                restartDnsmasq(*live, rt);
        } catch (const std::exception& e) {
            warnings_.push_back("network " + name + ": " + e.what());
        }
        saveStatus(*live, rt);
        std::lock_guard lock(mu_);
        auto it = byUuid_.find(live->uuid);
        if (it != byUuid_.end()) {
            Net& n = *it->second;
            n.newDef = std::make_unique<xml::NetworkDef>(std::move(n.def));
            n.def = std::move(*live);
            n.active = true;
            n.rt = rt;
        } else if (!byName_.count(live->name)) {
            auto n = std::make_unique<Net>();
            n->def = std::move(*live);
            n->active = true;
            n->rt = rt;
            insert(std::move(n));
        }
    }
}

void BridgeNetworkDriver::start()
{
    {
        std::lock_guard ops(opsMu_);
        readopt();
    }
    std::vector<std::string> autostart;
    {
        std::lock_guard lock(mu_);
        for (const auto& [u, n] : byUuid_)
            if (n->autostart && !n->active)
                autostart.push_back(u);
    }
    for (const auto& u : autostart) {
        try {
            networkCreate(u);
        } catch (const std::exception& e) {
            warnings_.push_back("autostart of network " + u + ": " + e.what());
        }
    }
    if (cfg_.superviseSeconds)
        superviseThread_ = std::thread([this] { supervise(); });
}

// ---- Update and leases ----

void BridgeNetworkDriver::networkUpdate(const std::string& uuid, uint32_t command, uint32_t section,
    int32_t parentIndex, const std::string& xml, uint32_t flags)
{
    std::lock_guard ops(opsMu_);
    xml::NetworkDef live, config;
    bool active, persistent;
    Runtime rt;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        checkFlags(flags, kAffectLive | kAffectConfig, "networkUpdate");
        active = n.active;
        persistent = n.persistent;
        live = n.def;
        config = n.persistentDef();
        rt = n.rt;
    }
    if ((flags & (kAffectLive | kAffectConfig)) == 0)
        flags |= active ? kAffectLive : kAffectConfig;
    if (!active && (flags & kAffectLive))
        throw netErr(ErrCode::OperationInvalid, "network is not running");
    if ((flags & kAffectConfig) && !persistent)
        throw netErr(ErrCode::OperationInvalid, "cannot change persistent config of a transient network");

    auto edited = [&](const xml::NetworkDef& from) {
        xml::NetworkDef copy = from;
        xml::updateNetworkDef(copy, command, section, parentIndex, xml);
        xml::parseNetworkXML(xml::formatNetworkXML(copy));
        net::checkHostNames(copy);
        return copy;
    };
    std::optional<xml::NetworkDef> newLive, newConfig;
    if (flags & kAffectLive)
        newLive = edited(live);
    if (flags & kAffectConfig)
        newConfig = edited(config);

    if (newLive) {
        using S = xml::NetworkUpdateSection;
        auto sec = static_cast<S>(section);
        bool dns = sec == S::IpDhcpHost || sec == S::IpDhcpRange || sec == S::DnsHost || sec == S::DnsTxt
            || sec == S::DnsSrv;
        bool firewall = sec == S::ForwardInterface || sec == S::Forward;
        // dnsmasq rereads nothing it was given on its command line or in
        // its configuration on SIGHUP; a restart keeps the leases (file).
        if (dns && net::needsDnsmasq(*newLive))
            restartDnsmasq(*newLive, rt);
        if (firewall && !rt.table.empty())
            net::nftApply("delete table inet " + rt.table + "\n" + net::nftRuleset(*newLive, rt.table));
    }
    if (newConfig)
        saveConfig(*newConfig);
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        if (newConfig) {
            if (n.active)
                n.newDef = std::make_unique<xml::NetworkDef>(*newConfig);
            else
                n.def = *newConfig;
        }
        if (newLive) {
            n.def = *newLive;
            n.rt = rt;
        }
    }
    if (newLive)
        saveStatus(*newLive, rt);
}

std::vector<DhcpLease> BridgeNetworkDriver::networkGetDHCPLeases(
    const std::string& uuid, const std::string& mac, uint32_t flags)
{
    xml::NetworkDef def;
    bool active;
    {
        std::lock_guard lock(mu_);
        const Net& n = byUuid(uuid);
        checkFlags(flags, 0, "networkGetDHCPLeases");
        def = n.def;
        active = n.active;
    }
    if (!mac.empty()) {
        unsigned b[6];
        char tail;
        if (mac.size() != 17
            || sscanf(mac.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
            throw netErr(ErrCode::InvalidMac, "invalid MAC address: " + mac);
    }
    if (!active)
        return {};
    std::vector<const xml::NetworkIpDef*> ips;
    for (const auto& ip : def.ips)
        ips.push_back(&ip);
    return net::readLeases(statePath(def.name, ".leases"), def.bridge.name, ips, mac);
}

} // namespace virtbus
