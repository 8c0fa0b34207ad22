// Virtual networks on the QEMU connection, natively: libvirt's network
// driver semantics (bridge_driver.c) over a bridge made with iproute2, a
// dnsmasq per network and an nftables table per network.
//
// Persistent definitions are <configDir>/<name>.xml (atomic writes), with
// autostart marks as symlinks in <configDir>/autostart. An active network
// has <stateDir>/<name>.status (its live definition and what was created
// for it), so a new daemon re-adopts the bridge, dnsmasq and the nft table
// of a network the previous one left running instead of touching them.
//
// Locking: mu_ guards the tables and is held only briefly (lookups never
// wait for the host); opsMu_ serializes the calls that change the host or
// the files (start, stop, define, update), which run the tools unlocked
// from mu_. Events go out after both are released.
#pragma once

#include "object_drivers.h"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace virtbus {

namespace xml {
struct NetworkDef;
}

struct NetworkConfig {
    std::string configDir; // <name>.xml
    std::string autostartDir; // <name>.xml symlinks
    std::string stateDir; // <name>.status, dnsmasq's <name>.conf/.pid/.leases
    // Installed definitions copied into configDir the first time it is
    // created (libvirt's "default" network); may be empty.
    std::string installedDefaults;
    // Seconds between checks that every dnsmasq is still alive; 0: none.
    unsigned superviseSeconds = 1;

    // /etc/virtbus/network or $XDG_CONFIG_HOME/virtbus/network beside the
    // QEMU directories, overridden by VIRTBUS_NETWORK_CONFIG_DIR,
    // VIRTBUS_NETWORK_AUTOSTART_DIR and VIRTBUS_NETWORK_STATE_DIR.
    static NetworkConfig fromEnvironment(const std::string& qemuConfigDir, const std::string& qemuStateDir);
};

class BridgeNetworkDriver : public NetworkDriver {
public:
    explicit BridgeNetworkDriver(NetworkConfig cfg);
    ~BridgeNetworkDriver() override;
    BridgeNetworkDriver(const BridgeNetworkDriver&) = delete;
    BridgeNetworkDriver& operator=(const BridgeNetworkDriver&) = delete;

    // Re-adopts networks left running, then starts autostart ones.
    void start() override;

    std::vector<NetworkRef> listNetworks(uint32_t flags) override;
    NetworkRef networkLookupByName(const std::string& name) override;
    NetworkRef networkLookupByUUID(const std::string& uuid) override;
    bool networkExists(const std::string& uuid) override;
    NetworkSummary networkSummary(const std::string& uuid) override;
    NetworkRef networkCreateXML(const std::string& xml) override;
    NetworkRef networkDefineXML(const std::string& xml) override;
    void networkCreate(const std::string& uuid) override;
    void networkDestroy(const std::string& uuid) override;
    void networkUndefine(const std::string& uuid) override;
    void networkSetAutostart(const std::string& uuid, bool autostart) override;
    std::string networkGetXMLDesc(const std::string& uuid, uint32_t flags) override;
    void networkUpdate(const std::string& uuid, uint32_t command, uint32_t section, int32_t parentIndex,
        const std::string& xml, uint32_t flags) override;
    std::vector<DhcpLease> networkGetDHCPLeases(
        const std::string& uuid, const std::string& mac, uint32_t flags) override;

    const std::vector<std::string>& loadWarnings() const { return warnings_; }

    struct Net;
    // What was made on the host for a running network.
    struct Runtime {
        bool bridgeCreated = false;
        std::string table; // nft table (family inet), "" if none
        pid_t dnsmasqPid = 0;
    };

private:
    Net& byUuid(const std::string& uuid);
    Net& byName(const std::string& name);
    void insert(std::unique_ptr<Net> n);
    void erase(const std::string& uuid);

    // Host work, called with opsMu_ held and mu_ not held.
    Runtime startHost(xml::NetworkDef& live);
    void stopHost(const xml::NetworkDef& live, const Runtime& rt);
    void restartDnsmasq(const xml::NetworkDef& live, Runtime& rt);
    void prepareDef(xml::NetworkDef& def, const std::string& exceptUuid);

    std::string configPath(const std::string& name) const;
    std::string autostartPath(const std::string& name) const;
    std::string statePath(const std::string& name, const char* ext) const;
    void saveConfig(const xml::NetworkDef& def);
    void saveStatus(const xml::NetworkDef& live, const Runtime& rt);
    void removeStateFiles(const std::string& name);
    void loadConfigs();
    void readopt();
    void supervise();

    void emit(const std::string& uuid, int32_t event);

    NetworkConfig cfg_;
    std::vector<std::string> warnings_;
    std::mutex opsMu_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<Net>> byUuid_; // canonical UUID
    std::map<std::string, Net*> byName_; // sorted listings

    std::mutex superviseMu_;
    std::condition_variable superviseCv_;
    bool stopping_ = false;
    std::thread superviseThread_;
};

} // namespace virtbus
