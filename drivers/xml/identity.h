// The identity an XML document gives the object it describes (name, UUID,
// MAC, secret usage), read without validating the rest: what an
// authorization check needs to know about an object before it exists
// (DomainDefineXML checks the new domain's name and UUID).
#pragma once

#include <optional>
#include <string>

namespace virtbus::xml {

struct Identity {
    std::string root; // the root element: "domain", "network", "secret", ...
    std::string name, uuid, mac;
    // <secret>: the usage type ("volume", "ceph", ...) and what it names.
    std::string usageType, usageId;
};

// nullopt when the text is not a well-formed document; then the real parse
// reports the error to the caller.
std::optional<Identity> peekIdentity(const std::string& text);

} // namespace virtbus::xml
