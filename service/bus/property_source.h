#pragma once

#include <systemd/sd-bus.h>

#include "dispatcher.h"

namespace virtbus::bus {

// What every generated server offers besides its vtable: all its properties
// as a{sv} entries, for GetAll (doubleWrap: libvirt-dbus's variant-in-variant
// values) and GetManagedObjects (standard single variants).
class PropertySource {
public:
    virtual ~PropertySource() = default;
    virtual void appendAllProperties(sd_bus_message* m, const char* path, bool doubleWrap) = 0;

    // Where method calls run: inline when null (the default), else on the
    // dispatcher's workers (see dispatcher.h). Properties are always
    // answered inline: drivers keep them cheap.
    void setDispatcher(Dispatcher* d) { dispatcher_ = d; }
    Dispatcher* dispatcher() const { return dispatcher_; }

private:
    Dispatcher* dispatcher_ = nullptr;
};

} // namespace virtbus::bus
