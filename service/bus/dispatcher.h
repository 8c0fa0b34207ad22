// Where a method call runs. A connection whose driver blocks (QEMU: QMP
// round trips, process start) hands each call to worker threads; the answer
// and every other sd-bus touch must still happen on the bus thread, because
// sd-bus objects are single-threaded. Test-driver connections have no
// dispatcher and answer inline.
#pragma once

#include <functional>

namespace virtbus::bus {

class Dispatcher {
public:
    virtual ~Dispatcher() = default;
    // Runs `job` on a worker thread.
    virtual void offload(std::function<void()> job) = 0;
    // Runs `fn` on the bus thread, in the order of the calls.
    virtual void toBus(std::function<void()> fn) = 0;
};

} // namespace virtbus::bus
