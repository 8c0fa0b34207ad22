// Every exception that leaves a handler lands here:
//   VirtError      -> org.libvirt.Error with libvirt's message text
//   AccessDenied   -> org.freedesktop.DBus.Error.AccessDenied
//   bus::BusError  -> org.freedesktop.DBus.Error.InvalidArgs (malformed call)
//   anything else  -> org.libvirt.Error "internal error: ..."
#include "error_map.h"

#include "bus/authorizer.h"
#include "bus/call.h"
#include "error.h"
#include "log.h"

namespace virtbus {

namespace {

struct Mapped {
    const char* name;
    std::string message;
};

Mapped map(std::exception_ptr e) noexcept
{
    try {
        std::rethrow_exception(e);
    } catch (const VirtError& v) {
        return {"org.libvirt.Error", v.what()};
    } catch (const bus::AccessDenied& a) {
        return {SD_BUS_ERROR_ACCESS_DENIED, a.what()};
    } catch (const bus::BusError& b) {
        return {SD_BUS_ERROR_INVALID_ARGS, std::string("invalid arguments: ") + b.what()};
    } catch (const std::bad_alloc&) {
        return {SD_BUS_ERROR_NO_MEMORY, "out of memory"};
    } catch (const std::exception& x) {
        logError("unexpected exception in handler: %s", x.what());
        return {"org.libvirt.Error", std::string("internal error: ") + x.what()};
    } catch (...) {
        return {"org.libvirt.Error", "internal error: unknown failure"};
    }
}

} // namespace

int setBusError(sd_bus_error* error, std::exception_ptr e) noexcept
{
    auto m = map(e);
    return sd_bus_error_set(error, m.name, m.message.c_str());
}

namespace bus {

void replyError(sd_bus_message* call, const char* name, const std::string& message) noexcept
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_error_set(&err, name, message.c_str());
    int r = sd_bus_reply_method_error(call, &err);
    if (r < 0)
        logWarning("cannot send error reply: %s", strerror(-r));
    sd_bus_error_free(&err);
}

void replyException(sd_bus_message* call, std::exception_ptr e) noexcept
{
    auto m = map(e);
    replyError(call, m.name, m.message);
}

} // namespace bus
} // namespace virtbus
