// The test connection's networks. Each network keeps libvirt's pair of
// definitions (virNetworkObj's def and newDef): `def` is what the network
// runs with and what GetXMLDesc shows; `newDef` is a persistent definition
// waiting for the next start. libvirt's test driver never swaps them (its
// Destroy only clears the active flag), so a pending definition only ever
// matters to later persistent-config updates; we keep it for that.
#include "test/test_network.h"

#include "tree_events.h"
#include "xml/domain_xml.h" // isValidUUID, normalizeUUID
#include "xml/network_xml.h"

#include <optional>
#include <utility>

namespace virtbus {

namespace {

// virConnectListAllNetworksFlags.
enum : uint32_t {
    kListInactive = 1u << 0,
    kListActive = 1u << 1,
    kListPersistent = 1u << 2,
    kListTransient = 1u << 3,
    kListAutostart = 1u << 4,
    kListNoAutostart = 1u << 5,
    kListAll = (1u << 6) - 1,
};

// virNetworkUpdateFlags (AFFECT_CURRENT is 0).
enum : uint32_t { kAffectLive = 1u << 0, kAffectConfig = 1u << 1 };

// The network libvirt's test driver starts with (defaultConnXML), given as
// libvirt gives it so the model fills in the same defaults libvirt does
// (forward mode nat, stp on, delay 0).
constexpr const char* kDefaultNetworkXML = "<network>"
                                           "  <name>default</name>"
                                           "  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>"
                                           "  <bridge name='virbr0'/>"
                                           "  <forward/>"
                                           "  <ip address='192.168.122.1' netmask='255.255.255.0'>"
                                           "    <dhcp>"
                                           "      <range start='192.168.122.2' end='192.168.122.254'/>"
                                           "    </dhcp>"
                                           "  </ip>"
                                           "</network>";

// Caller-supplied names are echoed in errors; cap what we echo so a huge
// argument cannot make a huge reply.
constexpr size_t kMaxEcho = 1024;
std::string echo(const std::string& s) { return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s; }

// Errors raised by test_driver.c itself carry VIR_FROM_TEST; those of the
// shared network object code (virnetworkobj.c) VIR_FROM_NETWORK.
VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }
VirtError netErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Network, detail); }

} // namespace

struct TestNetworkDriver::Net {
    xml::NetworkDef def;
    // Rarely set, hence on the heap: an idle network costs one definition.
    std::unique_ptr<xml::NetworkDef> newDef;
    bool active = false;
    bool persistent = false;
    bool autostart = false;

    const std::string& uuid() const { return def.uuid; }
    const std::string& name() const { return def.name; }
    NetworkRef ref() const { return {def.uuid, def.name}; }
    // The properties a call can change (Name and UUID are const), as
    // prop:: bits of those that are true: the bits a call flips are the
    // ones PropertiesChanged names.
    uint32_t shown() const
    {
        return (active ? prop::Active : 0u) | (persistent ? prop::Persistent : 0u) | (autostart ? prop::Autostart : 0u);
    }
};

TestNetworkDriver::TestNetworkDriver()
{
    // testParseNetworks: added as a persistent definition, then marked
    // active without any start-up processing.
    Net& n = assign(xml::parseNetworkXML(kDefaultNetworkXML), false, false);
    n.active = true;
}

TestNetworkDriver::~TestNetworkDriver() = default;

// ---- tables ----

TestNetworkDriver::Net& TestNetworkDriver::byUuid(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end() && xml::isValidUUID(uuid))
        it = byUuid_.find(xml::normalizeUUID(uuid));
    if (it == byUuid_.end())
        throw testErr(ErrCode::NoNetwork, "no network with matching uuid '" + echo(uuid) + "'");
    return *it->second;
}

TestNetworkDriver::Net& TestNetworkDriver::byName(const std::string& name)
{
    auto it = byName_.find(name);
    if (it == byName_.end())
        throw testErr(ErrCode::NoNetwork, "no network with matching name '" + echo(name) + "'");
    return *it->second;
}

TestNetworkDriver::Net& TestNetworkDriver::assign(xml::NetworkDef&& def, bool live, bool checkLive)
{
    if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
        Net& n = *it->second;
        if (n.name() != def.name)
            throw netErr(
                ErrCode::OperationFailed, "network '" + n.name() + "' is already defined with uuid " + n.uuid());
        if (checkLive && n.active)
            throw netErr(ErrCode::OperationInvalid, "network is already active as '" + n.name() + "'");
        // virNetworkObjUpdateAssignDef.
        if (live) {
            // Keep the persistent definition for after the run, unless
            // one is already waiting.
            if (n.persistent && !n.newDef)
                n.newDef = std::make_unique<xml::NetworkDef>(std::move(n.def));
            n.def = std::move(def);
        } else {
            if (n.active || !n.persistent) {
                // Running (or being started): the definition waits.
                n.newDef = std::make_unique<xml::NetworkDef>(std::move(def));
            } else {
                n.newDef.reset();
                n.def = std::move(def);
            }
            n.persistent = true;
        }
        return n;
    }
    if (auto it = byName_.find(def.name); it != byName_.end())
        throw netErr(
            ErrCode::OperationFailed, "network '" + def.name + "' already exists with uuid " + it->second->uuid());
    auto owned = std::make_unique<Net>();
    Net* n = owned.get();
    n->def = std::move(def);
    n->persistent = !live;
    byName_.emplace(n->name(), n);
    byUuid_.emplace(n->uuid(), std::move(owned));
    return *n;
}

void TestNetworkDriver::remove(Net& n)
{
    byName_.erase(n.name());
    byUuid_.erase(std::string(n.uuid())); // destroys n: erase by a copy of the key
}

void TestNetworkDriver::emit(const std::string& uuid, int32_t event)
{
    if (EventSink* s = sink())
        s->networkLifecycle(uuid, event);
}

// ---- listings and lookups ----
//
// Calls on one network find it first and check flags after: libvirt-dbus
// looks the network up by UUID before calling into libvirt, so a missing
// network is reported before a bad flag.

std::vector<NetworkRef> TestNetworkDriver::listNetworks(uint32_t flags)
{
    checkFlags(flags, kListAll, "testConnectListAllNetworks");
    // virNetworkObjMatch: within each pair of opposite flags, none given
    // means no filtering, one or both given means "matches one of them".
    auto pick = [flags](uint32_t yes, uint32_t no, bool value) {
        if (!(flags & (yes | no)))
            return true;
        return (value && (flags & yes)) || (!value && (flags & no));
    };
    std::lock_guard lock(mu_);
    std::vector<NetworkRef> out;
    out.reserve(byName_.size());
    for (const auto& [name, n] : byName_) {
        if (pick(kListActive, kListInactive, n->active) && pick(kListPersistent, kListTransient, n->persistent)
            && pick(kListAutostart, kListNoAutostart, n->autostart))
            out.push_back(n->ref());
    }
    return out;
}

NetworkRef TestNetworkDriver::networkLookupByName(const std::string& name)
{
    std::lock_guard lock(mu_);
    return byName(name).ref();
}

NetworkRef TestNetworkDriver::networkLookupByUUID(const std::string& uuid)
{
    // virNetworkLookupByUUIDString parses the text before the driver sees
    // it; its virReportInvalidArg message has no "invalid argument" prefix.
    if (!xml::isValidUUID(uuid))
        throw VirtError(
            ErrCode::InvalidArg, ErrDomain::None, "uuidstr in virNetworkLookupByUUIDString must be a valid UUID");
    std::string canonical = xml::normalizeUUID(uuid);
    std::lock_guard lock(mu_);
    auto it = byUuid_.find(canonical);
    if (it == byUuid_.end())
        throw testErr(ErrCode::NoNetwork, "no network with matching uuid '" + canonical + "'");
    return it->second->ref();
}

bool TestNetworkDriver::networkExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return byUuid_.count(uuid) != 0;
}

NetworkSummary TestNetworkDriver::networkSummary(const std::string& uuid)
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

NetworkRef TestNetworkDriver::networkCreateXML(const std::string& xml)
{
    xml::NetworkDef def = xml::parseNetworkXML(xml);
    NetworkRef ref;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        auto old = byUuid_.find(def.uuid);
        uint32_t before = old == byUuid_.end() ? TreeEvents::kNew : old->second->shown();
        Net& n = assign(std::move(def), true, true);
        n.active = true;
        ref = n.ref();
        tree.addedOrFlipped(ObjectType::Network, ref.uuid, before, n.shown());
    }
    tree.deliver(sink());
    // testNetworkCreateXMLFlags reports STARTED only, never DEFINED.
    emit(ref.uuid, ev::NetStarted);
    return ref;
}

NetworkRef TestNetworkDriver::networkDefineXML(const std::string& xml)
{
    xml::NetworkDef def = xml::parseNetworkXML(xml);
    NetworkRef ref;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        auto old = byUuid_.find(def.uuid);
        uint32_t before = old == byUuid_.end() ? TreeEvents::kNew : old->second->shown();
        Net& n = assign(std::move(def), false, false);
        ref = n.ref();
        tree.addedOrFlipped(ObjectType::Network, ref.uuid, before, n.shown());
    }
    tree.deliver(sink());
    emit(ref.uuid, ev::NetDefined);
    return ref;
}

void TestNetworkDriver::networkCreate(const std::string& uuid)
{
    std::string id;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        if (n.active)
            throw testErr(ErrCode::OperationInvalid, "Network '" + n.name() + "' is already running");
        uint32_t before = n.shown();
        n.active = true;
        id = n.uuid();
        tree.addedOrFlipped(ObjectType::Network, id, before, n.shown());
    }
    tree.deliver(sink());
    emit(id, ev::NetStarted);
}

void TestNetworkDriver::networkDestroy(const std::string& uuid)
{
    std::string id;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        // testNetworkDestroy checks nothing: destroying a stopped network
        // succeeds and reports STOPPED again. A transient one is gone.
        uint32_t before = n.shown();
        n.active = false;
        id = n.uuid();
        if (!n.persistent) {
            remove(n);
            tree.removed(ObjectType::Network, id);
        } else {
            tree.addedOrFlipped(ObjectType::Network, id, before, n.shown());
        }
    }
    tree.deliver(sink());
    emit(id, ev::NetStopped);
}

void TestNetworkDriver::networkUndefine(const std::string& uuid)
{
    std::string id;
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        // Unlike the real network driver, the test driver refuses to
        // undefine a running network instead of making it transient.
        if (n.active)
            throw testErr(ErrCode::OperationInvalid, "Network '" + n.name() + "' is still running");
        id = n.uuid();
        remove(n);
        tree.removed(ObjectType::Network, id);
    }
    tree.deliver(sink());
    emit(id, ev::NetUndefined);
}

void TestNetworkDriver::networkSetAutostart(const std::string& uuid, bool autostart)
{
    // testNetworkSetAutostart accepts transient networks too and emits no
    // lifecycle event.
    TreeEvents tree;
    {
        std::lock_guard lock(mu_);
        Net& n = byUuid(uuid);
        uint32_t before = n.shown();
        n.autostart = autostart;
        tree.addedOrFlipped(ObjectType::Network, n.uuid(), before, n.shown());
    }
    tree.deliver(sink());
}

std::string TestNetworkDriver::networkGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    std::lock_guard lock(mu_);
    const Net& n = byUuid(uuid);
    // testNetworkGetXMLDesc accepts no flags, not even
    // VIR_NETWORK_XML_INACTIVE.
    checkFlags(flags, 0, "testNetworkGetXMLDesc");
    return xml::formatNetworkXML(n.def);
}

void TestNetworkDriver::networkUpdate(const std::string& uuid, uint32_t command, uint32_t section, int32_t parentIndex,
    const std::string& xml, uint32_t flags)
{
    std::lock_guard lock(mu_);
    Net& n = byUuid(uuid);
    checkFlags(flags, kAffectLive | kAffectConfig, "testNetworkUpdate");
    if ((flags & (kAffectLive | kAffectConfig)) == 0)
        flags |= n.active ? kAffectLive : kAffectConfig;

    // virNetworkObjConfigChangeSetup.
    if (!n.active && (flags & kAffectLive))
        throw netErr(ErrCode::OperationInvalid, "network is not running");
    if (flags & kAffectConfig) {
        if (!n.persistent)
            throw netErr(ErrCode::OperationInvalid, "cannot change persistent config of a transient network");
        // virNetworkObjSetDefTransient: a running persistent network gets
        // a separate persistent copy before either is edited. libvirt does
        // not undo this when the edit fails; the copy equals `def`, so
        // nothing a client can see changes.
        if (n.active && !n.newDef)
            n.newDef = std::make_unique<xml::NetworkDef>(n.def);
    }

    // virNetworkObjUpdate: edit copies, check each by a format/parse round
    // trip, and replace the originals only when every edit succeeded.
    auto edited = [&](const xml::NetworkDef& from) {
        xml::NetworkDef copy = from;
        xml::updateNetworkDef(copy, command, section, parentIndex, xml);
        xml::parseNetworkXML(xml::formatNetworkXML(copy));
        return copy;
    };
    std::optional<xml::NetworkDef> live, config;
    if (flags & kAffectLive)
        live = edited(n.def);
    if (flags & kAffectConfig)
        config = edited(n.newDef ? *n.newDef : n.def);

    // virNetworkObjReplacePersistentDef: while running the persistent
    // definition is newDef, otherwise def itself.
    if (config) {
        if (n.active)
            n.newDef = std::make_unique<xml::NetworkDef>(std::move(*config));
        else
            n.def = std::move(*config);
    }
    if (live)
        n.def = std::move(*live);
    // libvirt's test driver reports no event for an update.
}

} // namespace virtbus
