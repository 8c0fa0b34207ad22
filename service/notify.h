// What virtbusd tells systemd through sd_notify: READY once org.libvirt is
// owned, a STATUS line saying what it serves, STOPPING on the way out.
// Outside systemd (no NOTIFY_SOCKET) it does nothing, not even count.
#pragma once

#include <systemd/sd-event.h>

#include <functional>
#include <string>

#include "activity.h"

namespace virtbus {

class ServiceNotifier {
public:
    ServiceNotifier(sd_event* event, std::string busKind, std::function<ActiveCounts()> active);
    ~ServiceNotifier();
    ServiceNotifier(const ServiceNotifier&) = delete;
    ServiceNotifier& operator=(const ServiceNotifier&) = delete;

    void ready();
    void stopping();

private:
    static int onTimer(sd_event_source*, uint64_t now, void* userdata);
    void update(const char* prefix, const ActiveCounts& counts);

    sd_event* event_;
    std::string busKind_;
    std::function<ActiveCounts()> active_;
    bool enabled_;
    ActiveCounts shown_;
    sd_event_source* timer_ = nullptr;
};

} // namespace virtbus
