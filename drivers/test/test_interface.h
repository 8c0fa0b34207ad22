// The host interfaces of libvirt's "test:///default" connection: `eth1` at
// start, then whatever clients define. Behaviour, flags, error texts and
// quirks follow libvirt 9.0's test driver (checked against the real library
// with virsh and ctypes): interfaces are keyed by name, DefineXML of a known
// name replaces its definition and keeps its state, Undefine removes even a
// running interface, only DefineXML (VALIDATE) and the listing take flags
// (GetXMLDesc refuses even INACTIVE), and rolling back a change transaction
// restores the definitions but leaves every interface inactive (libvirt's
// snapshot re-adds them as fresh objects).
//
// Where libvirt accepts what cannot be made safe, we refuse with an XML
// error and change nothing: names containing '/' or equal to "." or "..",
// and malformed MAC addresses (the model rejects those).
//
// Clients address an interface by its MAC (libvirt-dbus object paths use
// it), so lookups by MAC match case-insensitively as libvirt does, fail
// with MultipleInterfaces when several interfaces share the MAC, and always
// return the MAC as the definition spells it, so every way of finding an
// interface yields the same key.
//
// One mutex guards all state; notifications are delivered after it is
// released, so an EventSink may call straight back into the driver.
#pragma once

#include "object_drivers.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace virtbus {

class TestInterfaceDriver : public InterfaceDriver {
public:
    TestInterfaceDriver();
    ~TestInterfaceDriver() override;
    TestInterfaceDriver(const TestInterfaceDriver&) = delete;
    TestInterfaceDriver& operator=(const TestInterfaceDriver&) = delete;

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

private:
    struct Iface;
    // By name: libvirt's interface list is keyed by name, and a sorted map
    // gives listings a stable order.
    using Table = std::map<std::string, std::unique_ptr<Iface>>;
    // What clients can see per object path: for each non-empty MAC, how
    // many interfaces carry it and the name and state of the first.
    struct KeyView {
        size_t count = 0;
        std::string name;
        bool active = false;
    };
    using View = std::map<std::string, KeyView>;

    Iface& byMac(const std::string& mac);
    // libvirt's transaction snapshot (virInterfaceObjListClone): the same
    // definitions as new, inactive objects.
    static Table snapshot(const Table& from);
    View view() const;
    void publish(const View& before, const View& after);

    std::mutex mu_;
    Table ifaces_;
    // The definitions saved by changeBegin; set while a transaction runs.
    std::optional<Table> backup_;
};

} // namespace virtbus
