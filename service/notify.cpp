#include "notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>

#include "log.h"

namespace virtbus {

namespace {

// Counting walks every definition under the driver locks: cheap, but not
// worth doing more often for a line in `systemctl status`.
constexpr uint64_t kStatusPeriodUsec = 10 * 1000000ULL;

std::string counted(size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

} // namespace

ServiceNotifier::ServiceNotifier(sd_event* event, std::string busKind, std::function<ActiveCounts()> active) :
    event_(event), busKind_(std::move(busKind)), active_(std::move(active)), enabled_(getenv("NOTIFY_SOCKET"))
{ }

ServiceNotifier::~ServiceNotifier() { sd_event_source_disable_unref(timer_); }

void ServiceNotifier::ready()
{
    if (!enabled_)
        return;
    update("READY=1\n", active_());
    int r = sd_event_add_time_relative(
        event_, &timer_, CLOCK_MONOTONIC, kStatusPeriodUsec, kStatusPeriodUsec / 10, onTimer, this);
    if (r >= 0)
        r = sd_event_source_set_enabled(timer_, SD_EVENT_ON);
    if (r < 0)
        logWarning("cannot schedule status updates: %s", strerror(-r));
}

void ServiceNotifier::stopping()
{
    if (!enabled_)
        return;
    sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
    sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
}

int ServiceNotifier::onTimer(sd_event_source* s, uint64_t now, void* userdata)
{
    auto* self = static_cast<ServiceNotifier*>(userdata);
    ActiveCounts c = self->active_();
    if (c != self->shown_)
        self->update("", c);
    return sd_event_source_set_time(s, now + kStatusPeriodUsec);
}

void ServiceNotifier::update(const char* prefix, const ActiveCounts& counts)
{
    shown_ = counts;
    std::string status = prefix;
    status += "STATUS=serving org.libvirt on the " + busKind_ + " bus: " + counted(shown_.domains, "running domain")
        + ", " + counted(shown_.networks, "active network") + ", " + counted(shown_.pools, "active pool");
    sd_notify(0, status.c_str());
}

} // namespace virtbus
