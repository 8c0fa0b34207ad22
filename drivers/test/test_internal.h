// What the test driver's source files share: the domain and snapshot
// records, the event batch, and helpers that reproduce libvirt's common
// checks and error texts. Not part of any driver's API.
#pragma once

#include "test/test_driver.h"
#include "tree_events.h"
#include "xml/domain_xml.h"
#include "xml/snapshot_xml.h"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace virtbus::testdrv {

// virDomainState and the reasons the test driver uses.
enum State : int { kNoState = 0, kRunning = 1, kBlocked = 2, kPaused = 3, kShutdown = 4, kShutoff = 5,
                   kCrashed = 6, kPMSuspended = 7 };
enum : int { kRunningUnknown = 0, kRunningBooted = 1, kRunningRestored = 3, kRunningFromSnapshot = 4,
             kRunningUnpaused = 5 };
enum : int { kPausedUser = 1, kPausedFromSnapshot = 7 };
enum : int { kShutoffUnknown = 0, kShutoffShutdown = 1, kShutoffDestroyed = 2, kShutoffCrashed = 3,
             kShutoffSaved = 5, kShutoffFromSnapshot = 7 };

// virDomainModificationImpact.
enum : uint32_t { kAffectLive = 1, kAffectConfig = 2 };

// The fake host: libvirt's defaultNodeInfo (2 nodes x 2 sockets x 2 cores x
// 2 threads = 16 CPUs) while virNodeGetCPUMap reports 8 CPUs, so every
// cpumap handed to clients is 8 wide.
inline constexpr unsigned kNodeCpus = 16;
inline constexpr unsigned kMapCpus = 8;
inline constexpr unsigned kMaxVcpus = 32; // testConnectGetMaxVcpus
inline constexpr int64_t kDefaultGuestTime = 627319920;
inline constexpr uint64_t kMemoryUnlimited = 9007199254740991ULL; // VIR_DOMAIN_MEMORY_PARAM_UNLIMITED
inline constexpr uint64_t kTotalCpuTime = 48772617035ULL;          // TEST_TOTAL_CPUTIME

struct TestSnapshot {
    xml::SnapshotDef def;
    uint64_t seq = 0; // creation order
};

struct TestDomain {
    // The running configuration while active, the only one otherwise.
    xml::DomainDef def;
    // The persistent configuration while a persistent domain runs.
    // Boxed: an empty optional would still cost a whole DomainDef (2.5 KB)
    // in every domain, and most domains never have a second definition.
    std::unique_ptr<xml::DomainDef> newDef;
    int id = -1;
    int state = kShutoff;
    int reason = kShutoffUnknown;
    bool persistent = false;
    bool autostart = false;
    bool managedSave = false;
    // testDomainObjPrivate: what the fake guest agent remembers.
    bool frozen[2] = {false, false}; // "/" and "/boot"
    int64_t seconds = kDefaultGuestTime;
    uint32_t nseconds = 0;

    std::map<std::string, TestSnapshot> snapshots;
    std::string currentSnapshot;

    bool active() const { return id >= 0; }
    const std::string& uuid() const { return def.uuid; }
    const std::string& name() const { return def.name; }
    // virDomainObjGetPersistentDef.
    xml::DomainDef& persistentDef() { return active() && newDef ? *newDef : def; }
};

// What org.libvirt.Domain shows of a domain that a call can change (UUID,
// OSType, SchedulerType and Updated never change in the test world). Taken
// before a call and compared after it, so that PropertiesChanged names
// exactly the properties whose value changed.
struct DomainProps {
    explicit DomainProps(const TestDomain& d)
        : uuid(d.uuid()), name(d.name()), id(d.id), active(d.active()), persistent(d.persistent),
          autostart(d.autostart)
    {
    }
    // prop:: bits of what differs in `now`.
    uint32_t changedIn(const TestDomain& now) const;

    std::string uuid, name;
    int id;
    bool active, persistent, autostart;
};

// Lifecycle events and domain signals gathered under the lock and handed to
// the sink once it is released, after the object tree's notifications so
// that a client mirroring the tree already has the new state when a
// lifecycle event makes it look.
class Events {
public:
    struct Lifecycle {
        std::string uuid;
        int32_t event, detail;
    };
    struct Signal {
        std::string uuid;
        DomainSignal signal;
    };
    void lifecycle(const std::string& uuid, int32_t event, int32_t detail)
    {
        list.emplace_back(Lifecycle{uuid, event, detail});
    }
    void signal(const std::string& uuid, DomainSignal s) { list.emplace_back(Signal{uuid, std::move(s)}); }
    std::vector<std::variant<Lifecycle, Signal>> list;
    TreeEvents tree;
};

// ---- libvirt's error texts ----
// virReportInvalidArg and friends: code INVALID_ARG without the "invalid
// argument: " prefix, as libvirt 9 words them.
VirtError bareInvalidArg(std::string message);
VirtError flagsExclusive(std::string_view a, std::string_view b);
VirtError flagRequires(std::string_view flag, std::string_view required);
// virReportSystemError: "<message>: <strerror(errnum)>".
VirtError systemError(std::string message, int errnum);
VirtError notRunning();                           // virDomainObjCheckActive
VirtError testError(ErrCode code, std::string_view detail); // VIR_FROM_TEST
VirtError revertRisky(std::string_view detail);    // VIR_ERR_SNAPSHOT_REVERT_RISKY
VirtError noDomainUuid(const std::string& uuid);

void checkActive(const TestDomain& d);
// Caller-supplied names (lookups, renames, snapshot names) longer than this
// are refused before they are echoed in errors or stored.
inline constexpr size_t kMaxNameLength = 1024;
void checkNameLength(std::string_view name, std::string_view what);

// ---- which definition a call affects (virDomainObjGetDefs & co.) ----
struct Defs {
    xml::DomainDef* live = nullptr;
    xml::DomainDef* config = nullptr;
};
// virDomainObjUpdateModificationImpact: resolves AFFECT_CURRENT in *flags.
void updateImpact(const TestDomain& d, uint32_t& flags);
Defs getDefs(TestDomain& d, uint32_t flags);
// virDomainObjGetOneDefState: LIVE and CONFIG together are refused.
xml::DomainDef& getOneDef(TestDomain& d, uint32_t flags, bool* live = nullptr);

// What libvirt's test driver adds to every parsed definition
// (defArch i686, default boot device, default video model, testnetN
// interface names, MAC addresses).
void postParse(xml::DomainDef& def);

// ---- CPU sets ----
std::vector<bool> parseCpuset(std::string_view set);   // "0-3,^2,8"
std::string formatCpuset(const std::vector<bool>& map); // "0-1,3"
std::vector<bool> allCpus(unsigned n = kNodeCpus);
std::vector<bool> mapWidth(std::vector<bool> map, unsigned width = kMapCpus);
bool anySet(const std::vector<bool>& map);

// ---- typed parameters ----
enum class ParamType { Int, UInt, LLong, ULLong, Double, Boolean, String };
// virTypedParamsValidate: unknown names, duplicates and wrong types fail.
// Integer values of another integer type are accepted when they fit,
// because D-Bus clients cannot always choose the wire type.
void validateParams(const TypedParams& params, std::initializer_list<std::pair<std::string_view, ParamType>> allowed);
uint64_t paramU64(const ParamValue& v);
int64_t paramI64(const ParamValue& v);

// ---- tunables the XML model keeps as raw elements ----
// A raw top-level element of `def` (<memtune>, <blkiotune>, ...) by name,
// or "" when absent; setRawElement replaces it (or drops it when `xml` is
// empty).
std::string rawElement(const std::vector<std::string>& list, std::string_view name);
void setRawElement(std::vector<std::string>& list, std::string_view name, std::string xml);
// Child elements of a raw element, as (name, attributes, text).
struct RawNode {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::string text;
    std::vector<RawNode> children;
    std::string attr(std::string_view n) const;
    const RawNode* child(std::string_view n) const;
};
std::optional<RawNode> parseRaw(const std::string& xml);

// I/O threads: ids from <iothreadids> (or 1..N) and pins from <cputune>.
struct IOThread {
    unsigned id = 0;
    std::string cpuset;
};
std::vector<IOThread> ioThreads(const xml::DomainDef& def);
void setIoThreads(xml::DomainDef& def, const std::vector<IOThread>& threads);

// Disk lookup as virDomainDiskByName: target name or source path.
xml::DiskDef* diskByName(xml::DomainDef& def, std::string_view name);
// virDomainNetFind: by MAC address or by target (ifname).
xml::InterfaceDef& netFind(xml::DomainDef& def, std::string_view device);

} // namespace virtbus::testdrv
