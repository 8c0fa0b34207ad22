// Host interfaces of the QEMU connection, natively: the kernel's links over
// rtnetlink, and virtbus's own store of definitions (libvirt's netcf
// backend keeps them in the distribution's network scripts; virtbus keeps
// libvirt's XML). An interface is active when its link exists and is up.
//
// Objects are keyed by MAC. So that an interface keeps its object path
// across Create and Destroy, a bridge, bond or VLAN defined here gets a
// MAC derived from its name (locally administered) that Create gives the
// device, and a bond's member is known by its own MAC (the bond reports
// it), not the bond's MAC it carries while enslaved.
#pragma once

#include "interface/iface_store.h"
#include "interface/rtnl.h"
#include "object_drivers.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace virtbus {

class HostInterfaceDriver : public InterfaceDriver {
public:
    // `stateDir` holds runtime files (the DHCP hook script); `kernel`
    // replaces the real rtnetlink in tests.
    HostInterfaceDriver(std::string configDir, std::string stateDir, std::unique_ptr<rtnl::Rtnl> kernel = nullptr);
    ~HostInterfaceDriver() override;

    const std::vector<std::string>& loadWarnings() const { return store_.loadWarnings(); }

    // Brings up the definitions with <start mode='onboot'/> that are not
    // up yet: virtbus's store plays the part of the distribution's network
    // scripts. Failures are logged, not fatal.
    void start() override;

    std::vector<IfaceRef> listInterfaces(uint32_t flags) override;
    IfaceRef ifaceLookupByName(const std::string& name) override;
    IfaceRef ifaceLookupByMAC(const std::string& mac) override;
    bool ifaceExists(const std::string& mac) override;
    IfaceSummary ifaceSummary(const std::string& mac) override;
    IfaceRef ifaceDefineXML(const std::string& xml, uint32_t flags) override;
    void ifaceCreate(const std::string& mac, uint32_t flags) override;
    void ifaceDestroy(const std::string& mac, uint32_t flags) override;
    void ifaceUndefine(const std::string& mac) override;
    std::string ifaceGetXMLDesc(const std::string& mac, uint32_t flags) override;
    void changeBegin(uint32_t flags) override;
    void changeCommit(uint32_t flags) override;
    void changeRollback(uint32_t flags) override;

    // One interface as the bus sees it: a live link, a definition, or both.
    struct Entry {
        std::string name, mac;
        bool active = false;
        const rtnl::Link* link = nullptr;
        const xml::HostInterfaceDef* def = nullptr;
    };

private:
    struct KeyView {
        std::string name;
        bool active = false;
    };
    using View = std::map<std::string, KeyView>;

    std::vector<Entry> entries(const rtnl::Snapshot& s) const;
    const Entry& byMac(const std::vector<Entry>& all, const std::string& mac) const;
    View view(const std::vector<Entry>& all) const;
    View viewNow();
    void publish(const View& before, const View& after);

    // iface_apply.cpp
    void bringUp(const xml::HostInterfaceDef& def, const rtnl::Snapshot& s);
    void bringDown(const Entry& e, const rtnl::Snapshot& s);
    void startDhcp(const std::string& ifname, const std::string& family);
    void stopDhcp(const std::string& ifname);

    std::string stateDir_;
    std::map<std::string, int> dhcp_; // interface -> udhcpc pid, our children
    std::mutex mu_;
    InterfaceStore store_;
    std::unique_ptr<rtnl::Rtnl> nl_;
};

// Exposed for tests.
namespace iface {
// The kernel's rules for link names (dev_valid_name), checked before any
// request; throws XML errors naming the rule.
void checkName(const std::string& name);
// Every name a definition would make or use.
void checkNames(const xml::HostInterfaceDef& def);
// The DHCP client's binary (busybox, for udhcpc), "" if there is none.
std::string dhcpClient();
// The MAC a bridge, bond or VLAN defined as `name` is given.
std::string derivedMac(const std::string& name);
// The live interface `link` described as libvirt's XML model.
xml::HostInterfaceDef describe(const rtnl::Snapshot& s, const rtnl::Link& link, const std::vector<rtnl::Route>& routes,
    const xml::HostInterfaceDef* def, bool member = false);
} // namespace iface

} // namespace virtbus
