// Defining, starting, stopping and renaming domains: libvirt's test driver
// state machine with its events (testDomainCreateXML ... testDomainRename).
#include "test/test_internal.h"

#include <cstdio>

namespace virtbus {

using namespace testdrv;

namespace {

// virDomainDefParseString with the test driver's xmlopt.
xml::DomainDef parseDefinition(const std::string& text, bool validate)
{
    unsigned parseFlags = xml::PARSE_INACTIVE | (validate ? xml::PARSE_VALIDATE : 0u);
    xml::DomainDef def = xml::parseDomainXML(text, parseFlags);
    checkNameLength(def.name, "domain name");
    for (unsigned char c : def.name) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "0x%02x", c);
            throw err::xml(std::string("invalid char in name: ") + buf);
        }
    }
    postParse(def);
    return def;
}

bool restarts(const std::string& action)
{
    return action == "restart" || action == "rename-restart";
}

} // namespace

DomainRef TestDriver::domainCreateXML(const std::string& xml, uint32_t flags)
{
    constexpr uint32_t kStartValidate = 16;
    checkFlags(flags, kStartValidate, "testDomainCreateXML");
    xml::DomainDef def = parseDefinition(xml, flags & kStartValidate);
    Events ev;
    DomainRef ref;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = *addDomain(std::move(def), true, ev).dom;
        DomainProps before(d);
        startDomain(d, kRunningBooted);
        ev.lifecycle(d.uuid(), ev::Started, ev::StartedBooted);
        noteChanges(ev, before);
        ref = refOf(d);
    }
    flush(ev);
    return ref;
}

DomainRef TestDriver::domainDefineXML(const std::string& xml, uint32_t flags)
{
    constexpr uint32_t kDefineValidate = 1;
    checkFlags(flags, kDefineValidate, "testDomainDefineXMLFlags");
    xml::DomainDef def = parseDefinition(xml, flags & kDefineValidate);
    Events ev;
    DomainRef ref;
    {
        std::lock_guard lock(mu_);
        AddResult added = addDomain(std::move(def), false, ev);
        TestDomain& d = *added.dom;
        DomainProps before(d);
        d.persistent = true;
        ev.lifecycle(d.uuid(), ev::Defined, added.hadConfig ? ev::DefinedUpdated : ev::DefinedAdded);
        noteChanges(ev, before);
        ref = refOf(d);
    }
    flush(ev);
    return ref;
}

void TestDriver::domainSetAutostart(const std::string& uuid, bool autostart)
{
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        DomainProps before(d);
        d.autostart = autostart;
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainCreate(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainCreateWithFlags");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (d.state != kShutoff)
            throw testError(ErrCode::InternalError, "Domain '" + d.name() + "' is already running");
        DomainProps before(d);
        startDomain(d, kRunningBooted);
        ev.lifecycle(d.uuid(), ev::Started, ev::StartedBooted);
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainDestroy(const std::string& uuid, uint32_t flags)
{
    constexpr uint32_t kDestroyGraceful = 1;
    checkFlags(flags, kDestroyGraceful, "testDomainDestroyFlags");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        checkActive(d);
        DomainProps before(d);
        ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedDestroyed);
        stopAndReap(d, kShutoffDestroyed, ev);
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainShutdown(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainShutdownFlags");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (d.state == kShutoff)
            throw testError(ErrCode::InternalError, "domain '" + d.name() + "' not running");
        DomainProps before(d);
        // testDomainActionSetState with on_poweroff.
        if (restarts(d.def.onPoweroff)) {
            d.state = kRunning;
            d.reason = kRunningBooted;
        } else {
            ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedShutdown);
            stopAndReap(d, kShutoffShutdown, ev);
        }
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainReboot(const std::string& uuid, uint32_t flags)
{
    // DEFAULT, ACPI_POWER_BTN, GUEST_AGENT, INITCTL, SIGNAL, PARAVIRT.
    checkFlags(flags, 0x1f, "testDomainReboot");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        checkActive(d);
        DomainProps before(d);
        if (restarts(d.def.onReboot)) {
            d.state = kRunning;
            d.reason = kRunningBooted;
        } else {
            ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedShutdown);
            stopAndReap(d, kShutoffShutdown, ev);
        }
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainReset(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainReset");
    std::lock_guard lock(mu_);
    checkActive(dom(uuid));
}

void TestDriver::domainSuspend(const std::string& uuid)
{
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (d.state == kShutoff || d.state == kPaused)
            throw testError(ErrCode::InternalError, "domain '" + d.name() + "' not running");
        d.state = kPaused;
        d.reason = kPausedUser;
        ev.lifecycle(d.uuid(), ev::Suspended, ev::SuspendedPaused);
    }
    flush(ev);
}

void TestDriver::domainResume(const std::string& uuid)
{
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (d.state != kPaused)
            throw testError(ErrCode::InternalError, "domain '" + d.name() + "' not paused");
        d.state = kRunning;
        d.reason = kRunningUnpaused;
        ev.lifecycle(d.uuid(), ev::Resumed, ev::ResumedUnpaused);
    }
    flush(ev);
}

void TestDriver::domainUndefine(const std::string& uuid, uint32_t flags)
{
    constexpr uint32_t kManagedSave = 1, kSnapshotsMetadata = 2;
    checkFlags(flags, kManagedSave | kSnapshotsMetadata, "testDomainUndefineFlags");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (d.managedSave && !(flags & kManagedSave))
            throw testError(ErrCode::OperationInvalid, "Refusing to undefine while domain managed save image exists");
        // Requiring an inactive domain is part of the documented API for
        // UNDEFINE_SNAPSHOTS_METADATA.
        if (!d.active() && !d.snapshots.empty() && !(flags & kSnapshotsMetadata))
            throw testError(ErrCode::OperationInvalid, "cannot delete inactive domain with " +
                                                           std::to_string(d.snapshots.size()) + " snapshots");
        DomainProps before(d);
        ev.lifecycle(d.uuid(), ev::Undefined, ev::UndefinedRemoved);
        d.managedSave = false;
        if (d.active())
            d.persistent = false;
        else
            removeDomain(d, ev);
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainRename(const std::string& uuid, const std::string& name, uint32_t flags)
{
    if (name.empty())
        throw bareInvalidArg("string new_name in virDomainRename must not be empty");
    checkNameLength(name, "new domain name");
    checkFlags(flags, 0, "testDomainRename");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        if (d.active())
            throw testError(ErrCode::OperationInvalid, "cannot rename active domain");
        if (!d.persistent)
            throw testError(ErrCode::OperationInvalid, "cannot rename a transient domain");
        if (d.state != kShutoff)
            throw testError(ErrCode::OperationInvalid, "domain has to be shutoff before renaming");
        if (d.name() == name)
            throw testError(ErrCode::OperationInvalid, "Can't rename domain to itself");
        if (findByName(name))
            throw testError(ErrCode::OperationInvalid, "domain with name '" + name + "' already exists");
        if (name.find('/') != std::string::npos)
            throw err::xml("name " + name + " cannot contain '/'");
        // libvirt takes control characters here; virtbus refuses them as
        // it does on define, since names end up in object properties.
        for (unsigned char c : name)
            if (c < 0x20 || c == 0x7f)
                throw err::xml("name must not contain control characters");
        DomainProps before(d);
        ev.lifecycle(d.uuid(), ev::Undefined, ev::UndefinedRenamed);
        rename(d, name);
        ev.lifecycle(d.uuid(), ev::Defined, ev::DefinedRenamed);
        noteChanges(ev, before);
    }
    flush(ev);
}

std::string TestDriver::domainGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    constexpr uint32_t kSecure = 1, kInactive = 2, kMigratable = 8;
    checkFlags(flags, kSecure | kInactive | kMigratable, "testDomainGetXMLDesc");
    std::lock_guard lock(mu_);
    TestDomain& d = dom(uuid);
    bool config = (flags & kInactive) && d.newDef;
    xml::FormatOptions opts;
    opts.id = d.active() && !config ? d.id : -1;
    opts.inactive = flags & kInactive;
    opts.secure = flags & kSecure;
    opts.migratable = flags & kMigratable;
    return xml::formatDomainXML(config ? *d.newDef : d.def, opts);
}

std::tuple<int32_t, int32_t> TestDriver::domainGetState(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetState");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    return {d.state, d.reason};
}

std::tuple<uint32_t, uint32_t, uint64_t> TestDriver::domainGetControlInfo(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainGetControlInfo");
    std::lock_guard lock(mu_);
    const TestDomain& d = dom(uuid);
    checkActive(d);
    // testDomainGetControlInfo encodes a control state in the guest clock
    // (SetTime) so clients can exercise every answer.
    enum : uint32_t { kOk = 0, kJob = 1, kOccupied = 2, kError = 3 };
    int64_t s = d.seconds;
    if (s > 0 && s < 10000)
        return {kJob, 0, static_cast<uint64_t>(s)};
    if (s >= 10000 && s < 30000)
        return {kOccupied, 0, static_cast<uint64_t>(s - 10000)};
    if (s >= 30000 && s < 60000)
        return {kError, static_cast<uint32_t>(s % 4), static_cast<uint64_t>(s - 30000)};
    return {kOk, 0, 0};
}

} // namespace virtbus
