// The host's storage pools and volumes (libvirt's storage driver): pools
// defined in a config directory, running pools recorded in a state
// directory so a restarted daemon finds them again, autostart, and volumes
// in each running pool, found by a refresh. The work on disks is done by a
// backend per pool type (storage_backend.h).
//
// Locking: mu_ guards the tables and is never held across disk work, so
// lookups and property reads (the bus thread's) never wait for a disk.
// Pool-level operations serialise on the pool's own opMu; volume jobs
// (create, clone, wipe, resize, transfer) count themselves in the pool's
// `jobs`, and a pool with jobs cannot be stopped, deleted or refreshed
// away under them, as libvirt's asyncjobs.
#pragma once

#include "object_drivers.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/storage_backend.h"
#include "xml/storage_pool_xml.h"
#include "xml/storage_vol_xml.h"

namespace virtbus {

struct StorageConfig {
    std::string configDir; // <name>.xml: persistent definitions
    std::string autostartDir; // <name>.xml: symlinks to the definitions of autostarted pools
    std::string stateDir; // <name>.xml: the live definition of each running pool
    // <configParent>/storage and <stateParent>/storage (next to the QEMU
    // driver's), each overridable: VIRTBUS_STORAGE_CONFIG_DIR,
    // VIRTBUS_STORAGE_AUTOSTART_DIR, VIRTBUS_STORAGE_STATE_DIR.
    static StorageConfig beside(const std::string& configParent, const std::string& stateParent);
};

class HostStorageDriver : public StorageDriver {
public:
    explicit HostStorageDriver(StorageConfig cfg);
    ~HostStorageDriver() override;
    HostStorageDriver(const HostStorageDriver&) = delete;
    HostStorageDriver& operator=(const HostStorageDriver&) = delete;

    // Whether a running guest uses the file or device at `path`; asked
    // before a volume is deleted, wiped or shrunk. Set before start().
    void setInUseCheck(std::function<bool(const std::string& path)> check) { inUse_ = std::move(check); }
    // Progress of long volume jobs (wipe, upload, download, clone): called
    // on the job's thread, at most every 250 ms per job and at its end.
    using ProgressFn
        = std::function<void(const std::string& key, const std::string& operation, uint64_t done, uint64_t total)>;
    void setProgress(ProgressFn fn) { progress_ = std::move(fn); }
    // The value of a secret by UUID, for the daemon's own use (encrypted
    // volumes); raises the secret driver's error when there is none.
    void setSecretLookup(std::function<std::vector<uint8_t>(const std::string& uuid)> fn)
    {
        secretValue_ = std::move(fn);
    }
    void start() override;

    // ---- pools (storage_driver.cpp, storage_pool_ops.cpp) ----
    std::vector<PoolRef> listStoragePools(uint32_t flags) override;
    PoolRef poolLookupByName(const std::string& name) override;
    PoolRef poolLookupByUUID(const std::string& uuid) override;
    bool poolExists(const std::string& uuid) override;
    PoolSummary poolSummary(const std::string& uuid) override;
    PoolRef poolCreateXML(const std::string& xml, uint32_t flags) override;
    PoolRef poolDefineXML(const std::string& xml, uint32_t flags) override;
    void poolBuild(const std::string& uuid, uint32_t flags) override;
    void poolCreate(const std::string& uuid, uint32_t flags) override;
    void poolDelete(const std::string& uuid, uint32_t flags) override;
    void poolDestroy(const std::string& uuid) override;
    void poolUndefine(const std::string& uuid) override;
    void poolRefresh(const std::string& uuid, uint32_t flags) override;
    void poolSetAutostart(const std::string& uuid, bool autostart) override;
    PoolInfo poolGetInfo(const std::string& uuid) override;
    std::string poolGetXMLDesc(const std::string& uuid, uint32_t flags) override;
    std::vector<VolRef> poolListVolumes(const std::string& uuid, uint32_t flags) override;
    std::string findStoragePoolSources(const std::string& type, const std::string& srcSpec, uint32_t flags) override;

    // ---- volumes (storage_vol_ops.cpp) ----
    VolRef volCreateXML(const std::string& poolUuid, const std::string& xml, uint32_t flags) override;
    VolRef volCreateXMLFrom(
        const std::string& poolUuid, const std::string& xml, const std::string& srcKey, uint32_t flags) override;
    VolRef volLookupByName(const std::string& poolUuid, const std::string& name) override;
    VolRef volLookupByKey(const std::string& key) override;
    VolRef volLookupByPath(const std::string& path) override;
    bool volExists(const std::string& key) override;
    void volDelete(const std::string& key, uint32_t flags) override;
    VolInfo volGetInfo(const std::string& key, uint32_t flags) override;
    std::string volGetXMLDesc(const std::string& key, uint32_t flags) override;
    void volResize(const std::string& key, uint64_t capacity, uint32_t flags) override;
    void volWipe(const std::string& key, uint32_t pattern, uint32_t flags) override;
    // Beyond libvirt-dbus: stream between a caller's fd and the volume.
    void volUpload(const std::string& key, int fd, uint64_t offset, uint64_t length, uint32_t flags) override;
    void volDownload(const std::string& key, int fd, uint64_t offset, uint64_t length, uint32_t flags) override;

    struct Pool;
    struct Vol;

private:
    class VolJob;

    std::shared_ptr<Pool> poolByUuid(const std::string& uuid);
    std::shared_ptr<Pool> poolByName(const std::string& name);
    Vol& volByKey(const std::string& key); // mu_ held; the pool must be running
    // <encryption format='luks'> on a new file volume (storage_encrypt.cpp):
    // made here with the secret's value; false when `vol` has none.
    bool createEncrypted(const std::string& poolType, xml::StorageVolDef& vol, uint32_t flags);
    // Holds a volume about to be changed or removed (delete, wipe,
    // upload): refused while a running guest uses it or another job holds it.
    std::unique_ptr<VolJob> holdForChange(const std::string& key);
    // A volume's facts read again from disk (no lock held meanwhile), kept
    // and returned; `poolType` gets its pool's type.
    xml::StorageVolDef probed(const std::string& key, std::string* poolType);
    // Accepts a definition (new pool or a new definition of one), with
    // libvirt's duplicate and conflict checks. mu_ held.
    std::shared_ptr<Pool> addPool(xml::StoragePoolDef&& def, bool forStart);
    void dropPool(const Pool& p); // mu_ held
    // Swaps in the volumes a backend's refresh found, noting the objects
    // that came and went. mu_ held.
    void applyRefresh(Pool& p, std::vector<xml::StorageVolDef>&& found, const storage::PoolSpace& space,
        std::vector<ObjectId>& added, std::vector<ObjectId>& removed);
    // Refreshes a pool (opMu held, mu_ not); on failure the pool is
    // stopped, as libvirt does, and the error raised.
    void refreshPool(const std::shared_ptr<Pool>& p);
    // Starts a pool that is not running: build if asked, backend start,
    // state file, refresh, events (`announce`: the pool is a new object).
    // opMu held, mu_ not.
    void startPool(const std::shared_ptr<Pool>& p, uint32_t buildFlags, bool build, bool announce);
    // Stops a running pool: backend stop, state file, events; a transient
    // pool goes. opMu held, mu_ not.
    void stopPool(const std::shared_ptr<Pool>& p);
    void saveConfig(const Pool& p);
    void saveState(const Pool& p);
    void loadAll();
    void deliver(const std::vector<ObjectId>& added, const std::vector<ObjectId>& removed,
        const std::vector<std::pair<ObjectId, uint32_t>>& changed);

    StorageConfig cfg_;
    std::function<bool(const std::string&)> inUse_;
    ProgressFn progress_;
    std::function<std::vector<uint8_t>(const std::string&)> secretValue_;
    std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<Pool>> byUuid_;
    std::map<std::string, Pool*> byName_; // sorted: listings come out by name
    std::unordered_map<std::string, Vol*> byKey_; // volumes of running pools
};

} // namespace virtbus
