// Properties.Get, Set and GetAll of our interfaces, answered here rather
// than by sd-bus: GetAll in libvirt-dbus's format (every value a variant
// holding a variant, failing getters left out), and, when the object's
// server has an authorizer, every access checked first like the methods
// that read or write the same data (permissions.table), which may wait for
// polkit -- sd-bus's own property handling can only answer at once.
#pragma once

#include <systemd/sd-bus.h>

#include "bus/property_source.h"

namespace virtbus {

// For an object callback at the object's node: returns 0 to let sd-bus
// handle a message that is not a property access of `interface`, else 1
// (answered now or later) or a negative errno.
int gateProperties(sd_bus_message* m, bus::PropertySource& source, const char* interface);

// Answers GetAll with `append` filling the a{sv}.
int answerGetAll(sd_bus_message* m, const std::function<void(sd_bus_message*)>& append);

} // namespace virtbus
