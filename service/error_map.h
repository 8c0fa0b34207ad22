// The one place where errors become D-Bus errors.
#pragma once

#include <systemd/sd-bus.h>

#include <exception>

namespace virtbus {

// Fills `error` from the exception and returns the negative errno sd-bus
// expects from a failing property callback.
int setBusError(sd_bus_error* error, std::exception_ptr e) noexcept;

} // namespace virtbus
