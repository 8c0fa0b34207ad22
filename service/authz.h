// The authorizer of one connection: turns the table's checks into polkit
// actions (org.libvirt.api.<object>.<permission>) with the details of the
// object concerned (connect_driver, domain_name, domain_uuid, ... as
// permissions.md lists them), read from the driver by the object's path or
// from the XML of an object being created, and asks polkit for all of them
// at once. Runs on the bus thread.
#pragma once

#include <string>
#include <vector>

#include "bus/authorizer.h"
#include "polkit.h"

namespace virtbus {

class Connection;

class ConnectionAuthorizer : public bus::Authorizer {
public:
    ConnectionAuthorizer(Polkit& polkit, Connection& conn) : polkit_(polkit), conn_(conn) { }

    void authorize(sd_bus_message* call, const std::vector<bus::Check>& checks, Done done) override;
    void checkPaths(sd_bus_message* call, const char* object, const char* permission, std::vector<std::string> paths,
        std::function<void(std::vector<bool>)> done) override;
    void checkDomainNames(sd_bus_message* call, const char* permission, std::vector<std::string> names,
        std::function<void(std::vector<bool>)> done) override;

    // The polkit details of `object` ("domain", ...) at `path`, or described
    // by `xml`; raises the driver's error when there is no such object.
    Polkit::Details details(const char* object, const std::string& path, const std::string* xml) const;

private:
    struct Query {
        std::string action;
        Polkit::Details details;
    };
    // Asks every query (in parallel); `done` gets one verdict per query.
    void askAll(sd_bus_message* call, std::vector<Query> queries, std::function<void(std::vector<bool>)> done);
    std::string driverDetail(const std::string& object) const;

    Polkit& polkit_;
    Connection& conn_;
};

// "org.libvirt.api.domain.read-secure"
std::string actionId(const char* object, const char* permission);

} // namespace virtbus
