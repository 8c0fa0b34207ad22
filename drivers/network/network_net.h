// The driver's record of one network, shared by its source files.
#pragma once

#include "network/network_driver.h"
#include "xml/network_xml.h"

#include <memory>

namespace virtbus {

struct BridgeNetworkDriver::Net {
    // Running: the live definition; stopped: the persistent one.
    xml::NetworkDef def;
    // Running and persistent: the persistent definition, for the next
    // start and GetXMLDesc(INACTIVE). Null otherwise.
    std::unique_ptr<xml::NetworkDef> newDef;
    bool active = false;
    bool persistent = false;
    bool autostart = false;
    Runtime rt;

    const std::string& uuid() const { return def.uuid; }
    const std::string& name() const { return def.name; }
    NetworkRef ref() const { return {def.uuid, def.name}; }
    const xml::NetworkDef& persistentDef() const { return newDef ? *newDef : def; }
    uint32_t shown() const
    {
        return (active ? prop::Active : 0u) | (persistent ? prop::Persistent : 0u) | (autostart ? prop::Autostart : 0u);
    }
};

namespace netdrv {
// virNetworkUpdateFlags and virNetworkXMLFlags.
enum : uint32_t { kAffectLive = 1u << 0, kAffectConfig = 1u << 1 };
enum : uint32_t { kXmlInactive = 1u << 0 };
inline VirtError netErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Network, detail); }
} // namespace netdrv

} // namespace virtbus
