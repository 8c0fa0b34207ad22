#include "object_kind.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "bus/call.h"
#include "error_map.h"
#include "property_gate.h"

namespace virtbus {

namespace {

// sd-bus takes ownership of enumerator results and frees them with free().
char** toStrv(const std::vector<std::string>& v)
{
    auto** out = static_cast<char**>(calloc(v.size() + 1, sizeof(char*)));
    if (!out)
        return nullptr;
    for (size_t i = 0; i < v.size(); ++i) {
        out[i] = strdup(v[i].c_str());
        if (!out[i]) {
            for (size_t j = 0; j < i; ++j)
                free(out[j]);
            free(out);
            return nullptr;
        }
    }
    return out;
}

int find(sd_bus*, const char* path, const char*, void* userdata, void** found, sd_bus_error* error)
{
    auto* kind = static_cast<ObjectKind*>(userdata);
    try {
        if (!kind->exists(path))
            return 0;
    } catch (...) {
        return setBusError(error, std::current_exception());
    }
    *found = kind->server;
    return 1;
}

// Answers only for the kind's own prefix: sd-bus asks every enumerator
// above an introspected path, and listing all domains for the introspection
// of one domain would make each Introspect cost O(number of domains).
int enumerate(sd_bus*, const char* prefix, void* userdata, char*** nodes, sd_bus_error* error)
{
    auto* kind = static_cast<ObjectKind*>(userdata);
    std::vector<std::string> out;
    if (kind->prefix == prefix) {
        try {
            out = kind->list();
        } catch (...) {
            return setBusError(error, std::current_exception());
        }
    }
    *nodes = toStrv(out);
    return *nodes ? 1 : -ENOMEM;
}

// Property access of our interface (see property_gate.h), answered before
// sd-bus's own handling at the same node (object callbacks run first).
int propertyFilter(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    auto* kind = static_cast<ObjectKind*>(userdata);
    const char* path = sd_bus_message_get_path(m);
    if (!path || !sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", nullptr))
        return 0;
    // Without an authorizer only GetAll is ours; Get and Set go straight to
    // sd-bus (the hot path: no second lookup of the object).
    if (!kind->properties->authorizer() && !sd_bus_message_is_method_call(m, nullptr, "GetAll"))
        return 0;
    try {
        if (!kind->exists(path))
            return 0;
    } catch (...) {
        return 0;
    }
    return gateProperties(m, *kind->properties, kind->interface);
}

void check(int r, const char* what)
{
    if (r < 0)
        throw std::runtime_error(std::string("cannot register ") + what + ": " + strerror(-r));
}

} // namespace

void registerKind(sd_bus* bus, ObjectKind& kind, std::vector<sd_bus_slot*>& slots)
{
    sd_bus_slot* s = nullptr;
    check(sd_bus_add_fallback_vtable(bus, &s, kind.prefix.c_str(), kind.interface, kind.vtable, find, &kind),
        kind.interface);
    slots.push_back(s);
    check(sd_bus_add_node_enumerator(bus, &s, kind.prefix.c_str(), enumerate, &kind), "enumerator");
    slots.push_back(s);
    check(sd_bus_add_fallback(bus, &s, kind.prefix.c_str(), propertyFilter, &kind), "property filter");
    slots.push_back(s);
}

void registerExtension(sd_bus* bus, ObjectKind& ext, std::vector<sd_bus_slot*>& slots)
{
    sd_bus_slot* s = nullptr;
    check(
        sd_bus_add_fallback_vtable(bus, &s, ext.prefix.c_str(), ext.interface, ext.vtable, find, &ext), ext.interface);
    slots.push_back(s);
}

} // namespace virtbus
