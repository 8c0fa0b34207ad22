// The worker threads that run calls of blocking drivers, and the queue that
// carries their answers (and driver events) back to the bus thread.
#pragma once

#include <systemd/sd-event.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/dispatcher.h"
#include "events.h"

namespace virtbus {

class Workers : public bus::Dispatcher {
public:
    // Threads are started at once; `event` is the bus thread's loop.
    Workers(sd_event* event, unsigned threads);
    ~Workers() override;
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

    void offload(std::function<void()> job) override;
    void toBus(std::function<void()> fn) override;

    // Lets running jobs finish, drops queued ones (their calls are answered
    // with an error once drain() runs), and joins the threads. Call on the
    // bus thread before the objects the jobs use go away.
    void stop();
    // Runs what is queued for the bus thread now (answers of finished
    // calls), before the objects those tasks use are destroyed.
    void drain() { runBusQueue(); }

private:
    static int onWake(sd_event_source*, int fd, uint32_t, void* userdata);
    void runBusQueue();
    void work();

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;

    std::mutex busMu_;
    std::deque<std::function<void()>> busQueue_;
    int wakeFd_ = -1;
    sd_event_source* wakeSource_ = nullptr;
};

// An EventSink for drivers that report from their own threads: every call
// is replayed, in order, on the bus thread into `target`.
class BusThreadSink : public EventSink {
public:
    BusThreadSink(bus::Dispatcher& d, EventSink& target) : d_(d), t_(target) {}

    void domainLifecycle(const std::string& uuid, int32_t event, int32_t detail) override
    {
        d_.toBus([this, uuid, event, detail] { t_.domainLifecycle(uuid, event, detail); });
    }
    void domainSignal(const std::string& uuid, const DomainSignal& signal) override
    {
        d_.toBus([this, uuid, signal] { t_.domainSignal(uuid, signal); });
    }
    void networkLifecycle(const std::string& uuid, int32_t event) override
    {
        d_.toBus([this, uuid, event] { t_.networkLifecycle(uuid, event); });
    }
    void storagePoolLifecycle(const std::string& uuid, int32_t event, int32_t detail) override
    {
        d_.toBus([this, uuid, event, detail] { t_.storagePoolLifecycle(uuid, event, detail); });
    }
    void storagePoolRefresh(const std::string& uuid) override
    {
        d_.toBus([this, uuid] { t_.storagePoolRefresh(uuid); });
    }
    void nodeDeviceLifecycle(const std::string& name, int32_t event, int32_t detail) override
    {
        d_.toBus([this, name, event, detail] { t_.nodeDeviceLifecycle(name, event, detail); });
    }
    void secretLifecycle(const std::string& uuid, int32_t event, int32_t detail) override
    {
        d_.toBus([this, uuid, event, detail] { t_.secretLifecycle(uuid, event, detail); });
    }
    void objectAdded(const ObjectId& id) override
    {
        d_.toBus([this, id] { t_.objectAdded(id); });
    }
    void objectRemoved(const ObjectId& id) override
    {
        d_.toBus([this, id] { t_.objectRemoved(id); });
    }
    void propertiesChanged(const ObjectId& id, uint32_t props) override
    {
        d_.toBus([this, id, props] { t_.propertiesChanged(id, props); });
    }

private:
    bus::Dispatcher& d_;
    EventSink& t_;
};

} // namespace virtbus
