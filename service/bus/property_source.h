#pragma once

#include <systemd/sd-bus.h>

namespace virtbus::bus {

// What every generated server offers besides its vtable: all its properties
// as a{sv} entries, for GetAll (doubleWrap: libvirt-dbus's variant-in-variant
// values) and GetManagedObjects (standard single variants).
class PropertySource {
public:
    virtual ~PropertySource() = default;
    virtual void appendAllProperties(sd_bus_message* m, const char* path, bool doubleWrap) = 0;
};

} // namespace virtbus::bus
