// The node devices of libvirt's "test:///default" connection: `computer`,
// the FC HBAs `scsi_host1` and `scsi_host2` and the vHBA `scsi_host11`, plus
// the vHBA clients create. Behaviour, flags, error texts and events follow
// libvirt 9.0's test driver (checked against the real library), including
// its mock of vHBA creation: whatever parent the request names (it is only
// validated), the new device is a copy of scsi_host11 named `scsi_host12`
// carrying the requested WWNN/WWPN, so a second creation replaces the first.
// Destroy removes any FC HBA whose parent exists, as libvirt's test driver
// does, vHBA or not.
//
// Not implemented, because libvirt's test driver does not implement them
// either (the base class answers with libvirt's not-supported error):
// LookupSCSIHostByWWN, Detach, ReAttach and Reset.
//
// One mutex guards all state; notifications are delivered after it is
// released, so an EventSink may call straight back into the driver.
#pragma once

#include "object_drivers.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace virtbus {

namespace xml {
struct NodeDeviceDef;
}

class TestNodeDeviceDriver : public NodeDeviceDriver {
public:
    TestNodeDeviceDriver();
    ~TestNodeDeviceDriver() override;
    TestNodeDeviceDriver(const TestNodeDeviceDriver&) = delete;
    TestNodeDeviceDriver& operator=(const TestNodeDeviceDriver&) = delete;

    std::vector<std::string> listNodeDevices(uint32_t flags) override;
    std::string nodeDeviceLookupByName(const std::string& name) override;
    bool nodeDeviceExists(const std::string& name) override;
    NodeDeviceSummary nodeDeviceSummary(const std::string& name) override;
    std::string nodeDeviceCreateXML(const std::string& xml, uint32_t flags) override;
    void nodeDeviceDestroy(const std::string& name) override;
    std::string nodeDeviceGetXMLDesc(const std::string& name, uint32_t flags) override;
    std::vector<std::string> nodeDeviceListCaps(const std::string& name) override;

private:
    const xml::NodeDeviceDef& byName(const std::string& name) const;
    // virNodeDeviceObjListGetParentHost: checks that a creation request
    // names (or lets us find) a vport-capable parent.
    void checkVportParent(const xml::NodeDeviceDef& request) const;

    mutable std::mutex mu_;
    // By name; sorted, so listings come out in a stable order.
    std::map<std::string, std::unique_ptr<xml::NodeDeviceDef>> devs_;
};

} // namespace virtbus
