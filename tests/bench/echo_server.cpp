// echo_server: the physical limit of a round trip on a D-Bus bus.
//
// A raw sd-bus server with no virtbus code: one object, one property, one
// method, a plain vtable and the simplest possible loop. virtbus-bench
// measures it side by side with virtbusd, so the ratio between the two is
// the cost virtbus adds on top of sd-bus and dbus-daemon, whatever the
// machine's speed or load.
//
// Usage: echo_server [NAME]   (default org.virtbus.Echo; session bus, i.e.
// DBUS_SESSION_BUS_ADDRESS). SIGTERM keeps its default action (the kernel
// closes the socket and the bus releases the name), which avoids the race of
// a flag checked around ppoll; the loop also ends on bus disconnect.
#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstring>

namespace {

constexpr const char* ObjectPath = "/org/virtbus/Echo";
constexpr const char* Interface = "org.virtbus.Echo";

int echoMethod(sd_bus_message* m, void*, sd_bus_error*)
{
    const char* s = nullptr;
    int r = sd_bus_message_read(m, "s", &s);
    if (r < 0)
        return r;
    return sd_bus_reply_method_return(m, "s", s);
}

// Computed on each Get like virtbus' properties (not a stored string), so
// both sides pay for one getter call and one append.
int getName(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*)
{
    return sd_bus_message_append(reply, "s", "virtbus-echo");
}

const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", getName, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Echo", "s", "s", echoMethod, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

} // namespace

int main(int argc, char** argv)
{
    const char* name = argc > 1 ? argv[1] : "org.virtbus.Echo";
    sd_bus* bus = nullptr;
    int r = sd_bus_open_user(&bus);
    if (r < 0) {
        fprintf(stderr, "echo_server: cannot connect to the session bus: %s\n", strerror(-r));
        return 1;
    }
    r = sd_bus_add_object_vtable(bus, nullptr, ObjectPath, Interface, vtable, nullptr);
    if (r >= 0)
        r = sd_bus_request_name(bus, name, 0);
    if (r < 0) {
        fprintf(stderr, "echo_server: cannot publish %s: %s\n", name, strerror(-r));
        sd_bus_flush_close_unref(bus);
        return 1;
    }
    for (;;) {
        r = sd_bus_process(bus, nullptr);
        if (r < 0)
            break; // disconnected: nobody left to serve
        if (r > 0)
            continue;
        r = sd_bus_wait(bus, UINT64_MAX);
        if (r < 0)
            break;
    }
    sd_bus_flush_close_unref(bus);
    return 0;
}
