// One kind of child object below a connection (domains, snapshots, ...):
// one fallback vtable at <conn>/<kind>, whose find callback asks the driver
// whether the object named by the path exists, one node enumerator, and the
// property filter. Registering a kind costs the same for 1 or 10,000 objects.
#pragma once

#include <systemd/sd-bus.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/property_source.h"

namespace virtbus {

struct ObjectKind {
    std::string prefix; // "<conn>/domain"
    const char* interface; // "org.libvirt.Domain"
    const char* aclObject; // "domain": whose permissions guard it
    const sd_bus_vtable* vtable; // generated
    void* server; // generated server base pointer: the handlers' userdata
    bus::PropertySource* properties; // the same object, seen as its properties
    std::function<bool(std::string_view path)> exists;
    std::function<std::vector<std::string>()> list; // every object path of the kind
};

// Registers `kind` on `bus`, appending the slots it creates to `slots`.
// `kind` must outlive the slots.
void registerKind(sd_bus* bus, ObjectKind& kind, std::vector<sd_bus_slot*>& slots);
// Registers one more interface (a virtbus extension, without properties)
// on the objects of a kind already registered: only its vtable, found by
// `ext.exists`; `ext.list` is unused.
void registerExtension(sd_bus* bus, ObjectKind& ext, std::vector<sd_bus_slot*>& slots);

} // namespace virtbus
