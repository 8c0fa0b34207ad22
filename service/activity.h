// Idle exit (--timeout): a session virtbusd that nobody uses ends itself the
// way SIGTERM ends it, and D-Bus activation brings it back on the next call.
// Leaving must not lose anything a user would miss, so running guests and
// active networks and pools keep it, as do calls not yet answered.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "bus/dispatcher.h"
#include "driver.h"

namespace virtbus {

struct ActiveCounts {
    size_t domains = 0, networks = 0, pools = 0;

    bool any() const { return domains + networks + pools > 0; }
    ActiveCounts& operator+=(const ActiveCounts& o);
    bool operator==(const ActiveCounts&) const = default;
};

// Running domains and active networks and pools of one driver; kinds the
// driver does not have count as none. Call on the bus thread.
ActiveCounts countActive(Driver& driver);

class IdleExit {
public:
    // Ends `event` once for `timeoutUsec` no method call arrived on `bus`,
    // none was in flight and `active` reported nothing. `active` runs on the
    // bus thread, at most a few times per timeout.
    IdleExit(sd_event* event, sd_bus* bus, uint64_t timeoutUsec, std::function<ActiveCounts()> active);
    ~IdleExit();
    IdleExit(const IdleExit&) = delete;
    IdleExit& operator=(const IdleExit&) = delete;

    // A call answered later than it arrived (on a worker, after a polkit
    // check) counts from start to finish, however long it takes. Any thread.
    void callStarted() { inFlight_.fetch_add(1, std::memory_order_relaxed); }
    void callFinished() { inFlight_.fetch_sub(1, std::memory_order_relaxed); }

private:
    static int onMessage(sd_bus_message* m, void* userdata, sd_bus_error*);
    static int onTimer(sd_event_source*, uint64_t now, void* userdata);
    uint64_t now() const;
    void arm(uint64_t at);

    sd_event* event_;
    uint64_t timeout_;
    std::function<ActiveCounts()> active_;
    std::atomic<int> inFlight_ {0};
    uint64_t lastActivity_;
    bool wasBusy_ = false;
    sd_bus_slot* filter_ = nullptr;
    sd_event_source* timer_ = nullptr;
};

// Counts every call handed to `inner` as in flight for `idle` until the job
// has run (and queued its answer) or was dropped.
class CountingDispatcher : public bus::Dispatcher {
public:
    CountingDispatcher(bus::Dispatcher& inner, IdleExit& idle) : inner_(inner), idle_(idle) { }
    void offload(std::function<void()> job) override;
    void toBus(std::function<void()> fn) override { inner_.toBus(std::move(fn)); }

private:
    bus::Dispatcher& inner_;
    IdleExit& idle_;
};

} // namespace virtbus
