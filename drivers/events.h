// Changes a driver reports. Numbers are libvirt's (virDomainEventType and
// its detail enums); the service turns each into the org.libvirt signal of
// the same name and shape.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "typed_params.h"

namespace virtbus {

namespace ev {
enum DomainEventType : int32_t {
    Defined = 0, Undefined = 1, Started = 2, Suspended = 3, Resumed = 4,
    Stopped = 5, Shutdown = 6, PMSuspended = 7, Crashed = 8,
};
// Details, by event.
enum : int32_t { DefinedAdded = 0, DefinedUpdated = 1, DefinedRenamed = 2, DefinedFromSnapshot = 3 };
enum : int32_t { UndefinedRemoved = 0, UndefinedRenamed = 1 };
enum : int32_t { StartedBooted = 0, StartedMigrated = 1, StartedRestored = 2, StartedFromSnapshot = 3,
                 StartedWakeup = 4 };
enum : int32_t { SuspendedPaused = 0, SuspendedMigrated = 1, SuspendedIOError = 2, SuspendedWatchdog = 3,
                 SuspendedRestored = 4, SuspendedFromSnapshot = 5, SuspendedAPIError = 6 };
enum : int32_t { ResumedUnpaused = 0, ResumedMigrated = 1, ResumedFromSnapshot = 2 };
enum : int32_t { StoppedShutdown = 0, StoppedDestroyed = 1, StoppedCrashed = 2, StoppedMigrated = 3,
                 StoppedSaved = 4, StoppedFailed = 5, StoppedFromSnapshot = 6 };
enum : int32_t { ShutdownFinished = 0, ShutdownGuest = 1, ShutdownHost = 2 };
enum : int32_t { PMSuspendedMemory = 0, PMSuspendedDisk = 1 };

// virNetworkEventLifecycleType, virStoragePoolEventLifecycleType,
// virNodeDeviceEventLifecycleType, virSecretEventLifecycleType.
enum NetworkEventType : int32_t { NetDefined = 0, NetUndefined = 1, NetStarted = 2, NetStopped = 3 };
enum PoolEventType : int32_t { PoolDefined = 0, PoolUndefined = 1, PoolStarted = 2, PoolStopped = 3,
                               PoolCreated = 4, PoolDeleted = 5 };
enum NodeDeviceEventType : int32_t { NodeDevCreated = 0, NodeDevDeleted = 1, NodeDevDefined = 2,
                                     NodeDevUndefined = 3 };
enum SecretEventType : int32_t { SecretDefined = 0, SecretUndefined = 1 };
} // namespace ev

// Per-domain signals (org.libvirt.Domain), one struct per signal.
namespace sig {
struct BalloonChange { uint64_t actual; };
struct DeviceAdded { std::string device; };
struct DeviceRemoved { std::string device; };
struct DeviceRemovalFailed { std::string device; };
struct MetadataChange { int32_t type; std::string nsuri; };
struct Reboot {};
struct RTCChange { int64_t utcoffset; };
struct TrayChange { std::string device; int32_t reason; };
struct DiskChange { std::string oldSrcPath, newSrcPath, device; int32_t reason; };
struct Watchdog { int32_t action; };
struct IOError { std::string srcPath, device; int32_t action; std::string reason; };
struct JobCompleted { TypedParams params; };
struct Tunable { TypedParams params; };
struct BlockJob { std::string disk; int32_t type, status; };
struct PMSuspend { int32_t reason; };
struct PMWakeup { int32_t reason; };
} // namespace sig

using DomainSignal = std::variant<sig::BalloonChange, sig::DeviceAdded, sig::DeviceRemoved,
                                  sig::DeviceRemovalFailed, sig::MetadataChange, sig::Reboot, sig::RTCChange,
                                  sig::TrayChange, sig::DiskChange, sig::Watchdog, sig::IOError,
                                  sig::JobCompleted, sig::Tunable, sig::BlockJob, sig::PMSuspend, sig::PMWakeup>;

// Object identities for the object-tree notifications below. `key` is the
// object's stable key (UUID, volume key, device name, MAC); `sub` is the
// snapshot name for snapshots.
enum class ObjectType { Domain, DomainSnapshot, Network, StoragePool, StorageVol, Interface, NodeDevice, Secret,
                        NWFilter };
struct ObjectId {
    ObjectType type;
    std::string key;
    std::string sub;
};

// Which of an object's properties changed; the service names them per
// interface (Active, Id, Persistent, ...).
namespace prop {
enum : uint32_t { Active = 1, Id = 2, Persistent = 4, Autostart = 8, Name = 16, Updated = 32, OSType = 64,
                  SchedulerType = 128 };
}

class EventSink {
public:
    virtual ~EventSink() = default;
    // A domain's lifecycle changed (Connect.DomainEvent). Called after the
    // change is complete, so a lookup from the handler sees the new state.
    virtual void domainLifecycle(const std::string& uuid, int32_t event, int32_t detail) = 0;
    virtual void domainSignal(const std::string& uuid, const DomainSignal& signal) = 0;

    // The other object kinds; no-ops by default so a sink that only cares
    // about domains (a unit test's) stays small.
    virtual void networkLifecycle(const std::string& /*uuid*/, int32_t /*event*/) {}
    virtual void storagePoolLifecycle(const std::string& /*uuid*/, int32_t /*event*/, int32_t /*detail*/) {}
    virtual void storagePoolRefresh(const std::string& /*uuid*/) {}
    virtual void nodeDeviceLifecycle(const std::string& /*name*/, int32_t /*event*/, int32_t /*detail*/) {}
    virtual void secretLifecycle(const std::string& /*uuid*/, int32_t /*event*/, int32_t /*detail*/) {}

    // The object tree: an object appeared (call once it is complete), went
    // away, or some of its properties (prop:: bits) really changed value.
    virtual void objectAdded(const ObjectId& /*id*/) {}
    virtual void objectRemoved(const ObjectId& /*id*/) {}
    virtual void propertiesChanged(const ObjectId& /*id*/, uint32_t /*props*/) {}
};

} // namespace virtbus
