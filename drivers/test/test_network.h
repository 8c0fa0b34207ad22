// The networks of libvirt's "test:///default" connection: the `default`
// NAT network at start, then whatever clients define. Behaviour, checks,
// error texts and events follow libvirt 9.0's test driver (checked against
// the real library with virsh), including its quirks: Destroy never fails
// and never brings a pending definition into force, Undefine refuses a
// running network, GetXMLDesc takes no flags.
//
// The world is rebuilt by the constructor and nothing persists. One mutex
// guards all state; events are delivered after it is released, so an
// EventSink may call straight back into the driver.
#pragma once

#include "object_drivers.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace virtbus {

namespace xml {
struct NetworkDef;
}

class TestNetworkDriver : public NetworkDriver {
public:
    TestNetworkDriver();
    ~TestNetworkDriver() override;
    TestNetworkDriver(const TestNetworkDriver&) = delete;
    TestNetworkDriver& operator=(const TestNetworkDriver&) = delete;

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
    // networkGetDHCPLeases stays with the base: libvirt's test driver has no
    // networkGetDHCPLeases, so virNetworkGetDHCPLeases is not supported.

private:
    struct Net;

    Net& byUuid(const std::string& uuid);
    Net& byName(const std::string& name);
    // virNetworkObjAssignDef: add a network or replace one of its
    // definitions, with libvirt's duplicate-name and duplicate-UUID rules.
    // `live` says the definition is for a network about to run;
    // `checkLive` refuses to replace one that already runs.
    Net& assign(xml::NetworkDef&& def, bool live, bool checkLive);
    void remove(Net& n);
    void emit(const std::string& uuid, int32_t event);

    std::mutex mu_;
    std::unordered_map<std::string, std::unique_ptr<Net>> byUuid_; // canonical UUID -> network
    std::map<std::string, Net*> byName_; // sorted: listings come out by name
};

} // namespace virtbus
