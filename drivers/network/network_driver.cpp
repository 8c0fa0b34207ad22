// Lookups and the lifecycle calls of the native network driver. Checks,
// error texts and events follow libvirt 9.0's network driver: Destroy of a
// stopped network and Create of a running one fail, Undefine of a running
// network leaves it running as a transient one, autostart needs a
// persistent network, CreateXML reports STARTED only.
#include "network/network_driver.h"

#include "fileutil.h"
#include "network/network_config.h"
#include "network/network_host.h"
#include "network/network_net.h"
#include "tree_events.h"
#include "xml/domain_xml.h" // isValidUUID, normalizeUUID

#include <random>
#include <unistd.h>

namespace virtbus {

using namespace netdrv;

namespace {

enum : uint32_t {
    kListInactive = 1u << 0,
    kListActive = 1u << 1,
    kListPersistent = 1u << 2,
    kListTransient = 1u << 3,
    kListAutostart = 1u << 4,
    kListNoAutostart = 1u << 5,
    kListAll = (1u << 6) - 1,
};

constexpr size_t kMaxEcho = 1024;
std::string echo(const std::string& s) { return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s; }

std::string randomMac()
{
    std::random_device rd;
    char buf[32];
    snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", rd() & 255, rd() & 255, rd() & 255);
    return buf;
}

} // namespace

// ---- tables ----

BridgeNetworkDriver::Net& BridgeNetworkDriver::byUuid(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end() && xml::isValidUUID(uuid))
        it = byUuid_.find(xml::normalizeUUID(uuid));
    if (it == byUuid_.end())
        throw netErr(ErrCode::NoNetwork, "no network with matching uuid '" + echo(uuid) + "'");
    return *it->second;
}

BridgeNetworkDriver::Net& BridgeNetworkDriver::byName(const std::string& name)
{
    auto it = byName_.find(name);
    if (it == byName_.end())
        throw netErr(ErrCode::NoNetwork, "no network with matching name '" + echo(name) + "'");
    return *it->second;
}

void BridgeNetworkDriver::insert(std::unique_ptr<Net> n)
{
    byName_[n->name()] = n.get();
    std::string key = n->uuid();
    byUuid_[key] = std::move(n);
}

void BridgeNetworkDriver::erase(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end())
        return;
    byName_.erase(it->second->name());
    byUuid_.erase(it);
}

void BridgeNetworkDriver::emit(const std::string& uuid, int32_t event)
{
    if (EventSink* s = sink())
        s->networkLifecycle(uuid, event);
}

// Fills in what libvirt fills in at define time (bridge name, MAC of a
// network that gets a bridge of its own) and refuses names and values the
// host cannot take, before anything is written or created.
void BridgeNetworkDriver::prepareDef(xml::NetworkDef& def, const std::string& exceptUuid)
{
    const std::string& mode = def.forward.mode;
    bool ownBridge = mode.empty() || mode == "nat" || mode == "route" || mode == "open";
    if (!ownBridge && mode != "bridge")
        throw makeError(ErrCode::ConfigUnsupported, ErrDomain::Network,
            "forward mode '" + mode + "' is not supported by virtbus's network driver");
    if (mode == "bridge" && def.bridge.name.empty())
        throw makeError(ErrCode::ConfigUnsupported, ErrDomain::Network,
            "forward mode 'bridge' needs <bridge name='...'/> (forward dev is not supported)");
    std::vector<std::string> taken;
    {
        std::lock_guard lock(mu_);
        for (const auto& [u, n] : byUuid_) {
            if (u == exceptUuid)
                continue;
            for (const xml::NetworkDef* d : {&n->def, n->newDef.get()})
                if (d && !d->bridge.name.empty() && d->forward.mode != "bridge")
                    taken.push_back(d->bridge.name);
        }
    }
    if (ownBridge) {
        if (def.bridge.name.empty())
            def.bridge.name = net::freeBridgeName(taken);
        else if (std::find(taken.begin(), taken.end(), def.bridge.name) != taken.end())
            throw netErr(ErrCode::InternalError, "bridge name '" + def.bridge.name + "' already in use.");
        if (def.mac.empty())
            def.mac = randomMac();
    }
    net::checkHostNames(def);
}

// ---- listings and lookups ----

std::vector<NetworkRef> BridgeNetworkDriver::listNetworks(uint32_t flags)
{
    checkFlags(flags, kListAll, "networkConnectListAllNetworks");
    auto pick = [flags](uint32_t yes, uint32_t no, bool value) {
        if (!(flags & (yes | no)))
            return true;
        return (value && (flags & yes)) || (!value && (flags & no));
    };
    std::lock_guard lock(mu_);
    std::vector<NetworkRef> out;
    for (const auto& [name, n] : byName_)
        if (pick(kListActive, kListInactive, n->active) && pick(kListPersistent, kListTransient, n->persistent)
            && pick(kListAutostart, kListNoAutostart, n->autostart))
            out.push_back(n->ref());
    return out;
}

NetworkRef BridgeNetworkDriver::networkLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    return byName(name).ref();
}

NetworkRef BridgeNetworkDriver::networkLookupByUUID(const std::string& uuid)
{
    if (!xml::isValidUUID(uuid))
        throw VirtError(
            ErrCode::InvalidArg, ErrDomain::None, "uuidstr in virNetworkLookupByUUIDString must be a valid UUID");
    std::lock_guard lock(mu_);
    return byUuid(xml::normalizeUUID(uuid)).ref();
}

bool BridgeNetworkDriver::networkExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return byUuid_.count(uuid) != 0;
}

NetworkSummary BridgeNetworkDriver::networkSummary(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    const Net& n = byUuid(uuid);
    NetworkSummary s;
    s.uuid = n.uuid();
    s.name = n.name();
    s.bridge = n.def.bridge.name;
    s.active = n.active;
    s.persistent = n.persistent;
    s.autostart = n.autostart;
    return s;
}

// ---- lifecycle ----

NetworkRef BridgeNetworkDriver::networkCreateXML(const std::string& xml)
{
    xml::NetworkDef def = xml::parseNetworkXML(xml);
    std::lock_guard ops(opsMu_);
    bool existed = false;
    uint32_t before = TreeEvents::kNew;
    {
        std::lock_guard lock(mu_);
        if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
            Net& n = *it->second;
            if (n.name() != def.name)
                throw netErr(
                    ErrCode::OperationFailed, "network '" + n.name() + "' is already defined with uuid " + n.uuid());
            if (n.active)
                throw netErr(ErrCode::OperationInvalid, "network is already active as '" + n.name() + "'");
            existed = true;
            before = n.shown();
        } else if (auto it2 = byName_.find(def.name); it2 != byName_.end()) {
            throw netErr(
                ErrCode::OperationFailed, "network '" + def.name + "' already exists with uuid " + it2->second->uuid());
        }
    }
    prepareDef(def, def.uuid);
    Runtime rt = startHost(def);
    NetworkRef ref {def.uuid, def.name};
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        if (existed) {
            Net& n = byUuid(def.uuid);
            n.newDef = std::make_unique<xml::NetworkDef>(std::move(n.def));
            n.def = def;
            n.active = true;
            n.rt = rt;
            tree.addedOrFlipped(ObjectType::Network, ref.uuid, before, n.shown());
        } else {
            auto n = std::make_unique<Net>();
            n->def = def;
            n->active = true;
            n->rt = rt;
            insert(std::move(n));
            tree.added(ObjectType::Network, ref.uuid);
        }
    }
    saveStatus(def, rt);
    tree.deliver(sink());
    emit(ref.uuid, ev::NetStarted);
    return ref;
}

NetworkRef BridgeNetworkDriver::networkDefineXML(const std::string& xml)
{
    xml::NetworkDef def = xml::parseNetworkXML(xml);
    std::lock_guard ops(opsMu_);
    {
        std::lock_guard lock(mu_);
        if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
            if (it->second->name() != def.name)
                throw netErr(ErrCode::OperationFailed,
                    "network '" + it->second->name() + "' is already defined with uuid " + it->second->uuid());
        } else if (auto it2 = byName_.find(def.name); it2 != byName_.end()) {
            throw netErr(
                ErrCode::OperationFailed, "network '" + def.name + "' already exists with uuid " + it2->second->uuid());
        }
    }
    prepareDef(def, def.uuid);
    saveConfig(def);
    NetworkRef ref {def.uuid, def.name};
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        auto it = byUuid_.find(def.uuid);
        if (it == byUuid_.end()) {
            auto n = std::make_unique<Net>();
            n->def = std::move(def);
            n->persistent = true;
            insert(std::move(n));
            tree.added(ObjectType::Network, ref.uuid);
        } else {
            Net& n = *it->second;
            uint32_t before = n.shown();
            if (n.active)
                n.newDef = std::make_unique<xml::NetworkDef>(std::move(def));
            else
                n.def = std::move(def);
            n.persistent = true;
            tree.addedOrFlipped(ObjectType::Network, ref.uuid, before, n.shown());
        }
    }
    tree.deliver(sink());
    emit(ref.uuid, ev::NetDefined);
    return ref;
}

void BridgeNetworkDriver::networkCreate(const std::string& uuid)
{
    std::lock_guard ops(opsMu_);
    xml::NetworkDef def;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        if (n.active)
            throw netErr(ErrCode::OperationInvalid, "network is already active");
        def = n.def;
    }
    Runtime rt = startHost(def);
    std::string id = def.uuid;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(id);
        uint32_t before = n.shown();
        n.newDef = std::make_unique<xml::NetworkDef>(std::move(n.def));
        n.def = def;
        n.active = true;
        n.rt = rt;
        tree.addedOrFlipped(ObjectType::Network, id, before, n.shown());
    }
    saveStatus(def, rt);
    tree.deliver(sink());
    emit(id, ev::NetStarted);
}

void BridgeNetworkDriver::networkDestroy(const std::string& uuid)
{
    std::lock_guard ops(opsMu_);
    xml::NetworkDef live;
    Runtime rt;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        if (!n.active)
            throw netErr(ErrCode::OperationInvalid, "network '" + n.name() + "' is not active");
        live = n.def;
        rt = n.rt;
    }
    stopHost(live, rt);
    removeStateFiles(live.name);
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(live.uuid);
        uint32_t before = n.shown();
        n.active = false;
        n.rt = {};
        if (!n.persistent) {
            erase(live.uuid);
            tree.removed(ObjectType::Network, live.uuid);
        } else {
            if (n.newDef) {
                n.def = std::move(*n.newDef);
                n.newDef.reset();
            }
            tree.addedOrFlipped(ObjectType::Network, live.uuid, before, n.shown());
        }
    }
    tree.deliver(sink());
    emit(live.uuid, ev::NetStopped);
}

void BridgeNetworkDriver::networkUndefine(const std::string& uuid)
{
    std::lock_guard ops(opsMu_);
    std::string name, id;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        if (!n.persistent)
            throw netErr(ErrCode::OperationInvalid, "network '" + n.name() + "' is not persistent");
        name = n.name();
        id = n.uuid();
    }
    ::unlink(autostartPath(name).c_str());
    if (::unlink(configPath(name).c_str()) != 0 && errno != ENOENT)
        throw systemError(ErrDomain::Network, "cannot remove config file '" + configPath(name) + "'", errno);
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(id);
        uint32_t before = n.shown();
        if (n.active) {
            // Keeps running, now transient.
            n.persistent = false;
            n.autostart = false;
            n.newDef.reset();
            tree.addedOrFlipped(ObjectType::Network, id, before, n.shown());
        } else {
            erase(id);
            tree.removed(ObjectType::Network, id);
        }
    }
    tree.deliver(sink());
    emit(id, ev::NetUndefined);
}

void BridgeNetworkDriver::networkSetAutostart(const std::string& uuid, bool autostart)
{
    std::lock_guard ops(opsMu_);
    std::string name, id;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        if (!n.persistent)
            throw netErr(ErrCode::OperationInvalid, "cannot set autostart for transient network");
        if (n.autostart == autostart)
            return;
        name = n.name();
        id = n.uuid();
    }
    std::string link = autostartPath(name);
    if (autostart) {
        makeDirs(cfg_.autostartDir, 0700, ErrDomain::Network);
        ::unlink(link.c_str());
        if (::symlink(configPath(name).c_str(), link.c_str()) != 0)
            throw systemError(
                ErrDomain::Network, "Failed to create symlink '" + link + "' to '" + configPath(name) + "'", errno);
    } else if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
        throw systemError(ErrDomain::Network, "Failed to delete symlink '" + link + "'", errno);
    }
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(id);
        uint32_t before = n.shown();
        n.autostart = autostart;
        tree.addedOrFlipped(ObjectType::Network, id, before, n.shown());
    }
    tree.deliver(sink());
}

std::string BridgeNetworkDriver::networkGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Net& n = byUuid(uuid);
    checkFlags(flags, kXmlInactive, "networkGetXMLDesc");
    if ((flags & kXmlInactive) && n.newDef)
        return xml::formatNetworkXML(*n.newDef, {.inactive = true});
    return xml::formatNetworkXML(n.def, {.inactive = (flags & kXmlInactive) != 0});
}

} // namespace virtbus
