#include "activity.h"

#include <time.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "error.h"
#include "log.h"

namespace virtbus {

namespace {

// libvirt's VIR_CONNECT_LIST_DOMAINS_ACTIVE, _NETWORKS_ACTIVE, _STORAGE_POOLS_ACTIVE.
constexpr uint32_t kDomainsActive = 1;
constexpr uint32_t kNetworksActive = 2;
constexpr uint32_t kPoolsActive = 2;

template <typename F>
size_t countOrNone(F list)
{
    try {
        return list().size();
    } catch (const VirtError&) {
        return 0; // the driver has no such objects
    }
}

} // namespace

ActiveCounts& ActiveCounts::operator+=(const ActiveCounts& o)
{
    domains += o.domains;
    networks += o.networks;
    pools += o.pools;
    return *this;
}

ActiveCounts countActive(Driver& d)
{
    return {
        .domains = countOrNone([&] { return d.listDomains(kDomainsActive); }),
        .networks = countOrNone([&] { return d.networks().listNetworks(kNetworksActive); }),
        .pools = countOrNone([&] { return d.storage().listStoragePools(kPoolsActive); }),
    };
}

IdleExit::IdleExit(sd_event* event, sd_bus* bus, uint64_t timeoutUsec, std::function<ActiveCounts()> active) :
    event_(event), timeout_(timeoutUsec), active_(std::move(active))
{
    lastActivity_ = now();
    int r = sd_bus_add_filter(bus, &filter_, onMessage, this);
    if (r < 0)
        throw std::runtime_error(std::string("cannot watch incoming calls: ") + strerror(-r));
    arm(lastActivity_ + timeout_);
}

IdleExit::~IdleExit()
{
    sd_event_source_disable_unref(timer_);
    sd_bus_slot_unref(filter_);
}

uint64_t IdleExit::now() const
{
    uint64_t t;
    // The loop's cached time of this iteration; before the loop first runs
    // there is none.
    if (sd_event_now(event_, CLOCK_MONOTONIC, &t) >= 0)
        return t;
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

void IdleExit::arm(uint64_t at)
{
    // Coarse on purpose: a late exit costs nothing, an early wakeup does.
    uint64_t accuracy = std::min<uint64_t>(timeout_ / 8, 1000000);
    int r = timer_ ? sd_event_source_set_time(timer_, at)
                   : sd_event_add_time(event_, &timer_, CLOCK_MONOTONIC, at, accuracy, onTimer, this);
    if (r >= 0 && timer_)
        r = sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
    if (r < 0)
        logError("cannot arm the idle timer: %s; virtbusd will not exit when idle", strerror(-r));
}

int IdleExit::onMessage(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    auto* self = static_cast<IdleExit*>(userdata);
    uint8_t type = 0;
    if (sd_bus_message_get_type(m, &type) >= 0 && type == SD_BUS_MESSAGE_METHOD_CALL)
        self->lastActivity_ = self->now();
    return 0; // only watching: the message goes on to its handler
}

int IdleExit::onTimer(sd_event_source*, uint64_t now, void* userdata)
{
    auto* self = static_cast<IdleExit*>(userdata);
    uint64_t timeout = self->timeout_;
    // While something is busy it looks often, so that counting starts soon
    // after the last guest stopped; counting starts at the first check that
    // saw nothing busy, so the daemon lives at least a full timeout after.
    if (self->inFlight_.load(std::memory_order_relaxed) > 0 || self->active_().any()) {
        self->wasBusy_ = true;
        self->arm(now + timeout / 4);
        return 0;
    }
    if (std::exchange(self->wasBusy_, false))
        self->lastActivity_ = std::max(self->lastActivity_, now);
    if (now < self->lastActivity_ + timeout) {
        self->arm(self->lastActivity_ + timeout);
        return 0;
    }
    logInfo("idle for %llu s: exiting", static_cast<unsigned long long>(timeout / 1000000));
    return sd_event_exit(self->event_, 0);
}

void CountingDispatcher::offload(std::function<void()> job)
{
    // Ends the count when the job is destroyed: after it ran, or unrun when
    // the workers stop.
    struct Finished {
        IdleExit& idle;
        ~Finished() { idle.callFinished(); }
    };
    idle_.callStarted();
    auto done = std::make_shared<Finished>(idle_);
    inner_.offload([job = std::move(job), done]() mutable {
        job();
        done.reset();
    });
}

} // namespace virtbus
