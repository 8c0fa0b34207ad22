#include "object_kind.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "bus/call.h"
#include "error_map.h"

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

// libvirt-dbus answers Properties.GetAll with every value wrapped twice (a
// variant holding a variant) and leaves out properties whose getter fails;
// sd-bus's built-in GetAll does neither. Object callbacks run before
// sd-bus's own property handling at the same node, so this filter answers
// GetAll for our interface and lets everything else through.
int getAllFilter(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "GetAll"))
        return 0;
    auto* kind = static_cast<ObjectKind*>(userdata);
    const char* iface = nullptr;
    int r = sd_bus_message_read_basic(m, 's', &iface);
    bool ours = r > 0 && iface && std::strcmp(iface, kind->interface) == 0;
    // sd-bus reads the argument again if we pass the message on.
    sd_bus_message_rewind(m, true);
    const char* path = sd_bus_message_get_path(m);
    if (!ours || !path)
        return 0;
    try {
        if (!kind->exists(path))
            return 0;
    } catch (...) {
        return 0;
    }
    return answerGetAll(m, [&](sd_bus_message* reply) { kind->properties->appendAllProperties(reply, path, true); });
}

void check(int r, const char* what)
{
    if (r < 0)
        throw std::runtime_error(std::string("cannot register ") + what + ": " + strerror(-r));
}

} // namespace

int answerGetAll(sd_bus_message* m, const std::function<void(sd_bus_message*)>& append)
{
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(m, &reply);
    if (r < 0)
        return r;
    try {
        bus::check(sd_bus_message_open_container(reply, 'a', "{sv}"), "open a{sv}");
        append(reply);
        bus::check(sd_bus_message_close_container(reply), "close a{sv}");
        r = sd_bus_send(nullptr, reply, nullptr);
    } catch (...) {
        bus::replyException(m, std::current_exception());
        r = 1;
    }
    sd_bus_message_unref(reply);
    return r < 0 ? r : 1;
}

void registerKind(sd_bus* bus, ObjectKind& kind, std::vector<sd_bus_slot*>& slots)
{
    sd_bus_slot* s = nullptr;
    check(sd_bus_add_fallback_vtable(bus, &s, kind.prefix.c_str(), kind.interface, kind.vtable, find, &kind),
          kind.interface);
    slots.push_back(s);
    check(sd_bus_add_node_enumerator(bus, &s, kind.prefix.c_str(), enumerate, &kind), "enumerator");
    slots.push_back(s);
    check(sd_bus_add_fallback(bus, &s, kind.prefix.c_str(), getAllFilter, &kind), "GetAll filter");
    slots.push_back(s);
}

} // namespace virtbus
