// The connection, the node and the domain tables: lookups, listings and the
// state transitions every lifecycle call shares.
#include "test/test_internal.h"

#include <unistd.h>

#include <climits>

namespace virtbus {

using namespace testdrv;

TestDriver::TestDriver()
{
    buildWorld();
}

TestDriver::~TestDriver() = default;

void TestDriver::flush(Events& events)
{
    EventSink* s = sink();
    if (!s)
        return;
    events.tree.deliver(s);
    for (const auto& e : events.list) {
        if (auto* l = std::get_if<Events::Lifecycle>(&e))
            s->domainLifecycle(l->uuid, l->event, l->detail);
        else if (auto* sig = std::get_if<Events::Signal>(&e))
            s->domainSignal(sig->uuid, sig->signal);
    }
}

// ---- connection and node ----

std::string TestDriver::hostname()
{
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0)
        throw systemError("failed to determine host name", errno);
    return buf;
}

std::vector<bool> TestDriver::nodeCPUMap(uint32_t flags)
{
    checkFlags(flags, 0, "testNodeGetCPUMap");
    // testNodeGetCPUMap: 8 CPUs, map 0x15 (CPUs 0, 2 and 4 online).
    return {true, false, true, false, true, false, false, false};
}

std::vector<std::pair<std::string, uint64_t>> TestDriver::nodeCPUStats(int32_t, uint32_t flags)
{
    checkFlags(flags, 0, "testNodeGetCPUStats");
    return {{"user", 9797400000ULL}, {"kernel", 34678723400000ULL}, {"idle", 87264900000ULL},
            {"iowait", 763600000ULL}};
}

uint64_t TestDriver::nodeFreeMemory()
{
    // The two cells' free memory (1 GiB + 2 GiB in KiB), which libvirt's
    // test driver returns as is.
    return 1048576 + 2097152;
}

std::tuple<std::string, std::string> TestDriver::nodeSecurityModel()
{
    return {"testSecurity", ""};
}

// ---- tables ----

TestDomain& TestDriver::dom(const std::string& uuid)
{
    auto it = byUuid_.find(uuid);
    if (it == byUuid_.end() && xml::isValidUUID(uuid))
        it = byUuid_.find(xml::normalizeUUID(uuid));
    if (it == byUuid_.end())
        throw noDomainUuid(uuid.substr(0, kMaxNameLength));
    return *it->second;
}

TestDomain* TestDriver::findByName(const std::string& name)
{
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

DomainRef TestDriver::refOf(const TestDomain& d) const
{
    return {d.uuid(), d.name()};
}

uint32_t DomainProps::changedIn(const TestDomain& now) const
{
    uint32_t props = 0;
    if (active != now.active())
        props |= prop::Active;
    if (id != now.id)
        props |= prop::Id;
    if (persistent != now.persistent)
        props |= prop::Persistent;
    if (autostart != now.autostart)
        props |= prop::Autostart;
    if (name != now.name())
        props |= prop::Name;
    return props;
}

void TestDriver::noteChanges(Events& ev, const DomainProps& before)
{
    if (auto it = byUuid_.find(before.uuid); it != byUuid_.end())
        ev.tree.changed(ObjectType::Domain, before.uuid, before.changedIn(*it->second));
}

TestDriver::AddResult TestDriver::addDomain(xml::DomainDef def, bool live, Events& ev)
{
    if (auto it = byUuid_.find(def.uuid); it != byUuid_.end()) {
        TestDomain& d = *it->second;
        if (d.name() != def.name)
            throw makeError(ErrCode::OperationFailed, ErrDomain::Domain,
                            "domain '" + d.name() + "' is already defined with uuid " + d.uuid());
        if (live) {
            if (d.active())
                throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain,
                                "domain '" + d.name() + "' is already active");
            if (!d.persistent)
                throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain,
                                "domain '" + d.name() + "' is already being started");
        }
        // virDomainObjAssignDef.
        bool hadConfig = false;
        if (d.active()) {
            hadConfig = d.newDef != nullptr;
            d.newDef = std::make_unique<xml::DomainDef>(std::move(def));
        } else if (live) {
            if (!d.newDef)
                d.newDef = std::make_unique<xml::DomainDef>(std::move(d.def));
            d.def = std::move(def);
        } else {
            hadConfig = true;
            d.def = std::move(def);
        }
        return {&d, hadConfig};
    }
    if (TestDomain* other = findByName(def.name))
        throw makeError(ErrCode::OperationFailed, ErrDomain::Domain,
                        "domain '" + def.name + "' already exists with uuid " + other->uuid());
    auto owned = std::make_unique<TestDomain>();
    TestDomain* d = owned.get();
    d->def = std::move(def);
    byName_[d->name()] = d;
    byUuid_[d->uuid()] = std::move(owned);
    // Delivered after the lock, when the caller has completed the domain.
    ev.tree.added(ObjectType::Domain, d->uuid());
    return {d, false};
}

void TestDriver::removeDomain(TestDomain& d, Events& ev)
{
    for (const auto& [name, snap] : d.snapshots)
        ev.tree.removed(ObjectType::DomainSnapshot, d.uuid(), name);
    ev.tree.removed(ObjectType::Domain, d.uuid());
    if (d.active())
        byId_.erase(d.id);
    byName_.erase(d.name());
    byUuid_.erase(std::string(d.uuid())); // destroys d: erase by a copy of the key
}

void TestDriver::rename(TestDomain& d, const std::string& name)
{
    byName_.erase(d.name());
    d.def.name = name;
    if (d.newDef)
        d.newDef->name = name;
    byName_[name] = &d;
}

void TestDriver::startDomain(TestDomain& d, int reason)
{
    // testDomainStartState.
    d.state = kRunning;
    d.reason = reason;
    d.id = nextId_++;
    byId_[d.id] = &d;
    // virDomainObjSetDefTransient: keep the persistent config aside so live
    // changes vanish at shutdown.
    if (d.persistent && !d.newDef)
        d.newDef = std::make_unique<xml::DomainDef>(d.def);
    d.managedSave = false;
}

void TestDriver::stopDomain(TestDomain& d, int reason)
{
    // testDomainShutdownState / virDomainObjRemoveTransientDef.
    if (d.newDef) {
        d.def = std::move(*d.newDef);
        d.newDef.reset();
    }
    if (d.active())
        byId_.erase(d.id);
    d.id = -1;
    d.state = kShutoff;
    d.reason = reason;
}

void TestDriver::stopAndReap(TestDomain& d, int reason, Events& ev)
{
    stopDomain(d, reason);
    if (!d.persistent)
        removeDomain(d, ev);
}

// ---- lookups and listings ----

std::vector<DomainRef> TestDriver::listDomains(uint32_t flags)
{
    // VIR_CONNECT_LIST_DOMAINS_FILTERS_ALL.
    checkFlags(flags, 0xFFFF, "testConnectListAllDomains");
    std::lock_guard lock(mu_);
    std::vector<DomainRef> out;
    for (const auto& [name, d] : byName_) {
        if (!matchesListFlags(flags, {.active = d->active(), .persistent = d->persistent,
                                      .managedSave = d->managedSave, .autostart = d->autostart,
                                      .hasSnapshot = !d->snapshots.empty(), .hasCheckpoint = false,
                                      .state = d->state}))
            continue;
        out.push_back(refOf(*d));
    }
    return out;
}

DomainRef TestDriver::domainLookupByID(int32_t id)
{
    std::lock_guard lock(mu_);
    auto it = byId_.find(id);
    if (it == byId_.end())
        throw err::noDomain("no domain with matching id " + std::to_string(id));
    return refOf(*it->second);
}

DomainRef TestDriver::domainLookupByName(const std::string& name)
{
    checkNameLength(name, "domain name");
    std::lock_guard lock(mu_);
    TestDomain* d = findByName(name);
    if (!d)
        throw err::noDomain("no domain with matching name '" + name + "'");
    return refOf(*d);
}

DomainRef TestDriver::domainLookupByUUID(const std::string& uuid)
{
    if (!xml::isValidUUID(uuid))
        throw bareInvalidArg("Invalid UUID");
    std::string canonical = xml::normalizeUUID(uuid);
    std::lock_guard lock(mu_);
    auto it = byUuid_.find(canonical);
    if (it == byUuid_.end())
        throw err::noDomain("no domain with matching uuid '" + canonical + "'");
    return refOf(*it->second);
}

bool TestDriver::domainExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    if (byUuid_.count(uuid))
        return true;
    return xml::isValidUUID(uuid) && byUuid_.count(xml::normalizeUUID(uuid));
}

DomainSummary TestDriver::domainSummary(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    DomainSummary s;
    s.uuid = d.uuid();
    s.name = d.name();
    s.id = d.id;
    s.active = d.active();
    s.persistent = d.persistent;
    s.autostart = d.autostart;
    s.updated = false;         // testDomainIsUpdated
    s.osType = "linux";        // testDomainGetOSType answers this for every domain
    s.schedulerType = "fair";  // testDomainGetSchedulerType
    s.schedulerParams = 1;
    return s;
}

} // namespace virtbus
