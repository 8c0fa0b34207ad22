// IdleExit on a real sd-event loop, with short timeouts: when it ends the
// loop, and what keeps it from doing so. Incoming calls need a bus; the
// integration test test_idle_exit.py covers those.
#include <gtest/gtest.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "activity.h"

namespace {

using namespace virtbus;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMs = 1000;
constexpr uint64_t kTimeout = 200 * kMs;
constexpr int kGuard = 42;

class Loop {
public:
    Loop()
    {
        EXPECT_GE(sd_event_new(&event_), 0);
        EXPECT_GE(sd_bus_new(&bus_), 0);
    }
    ~Loop()
    {
        for (auto* s : sources_)
            sd_event_source_unref(s);
        sd_bus_unref(bus_);
        sd_event_unref(event_);
    }

    sd_event* event() { return event_; }
    sd_bus* bus() { return bus_; }

    // Runs `fn` on the loop `afterUsec` from now.
    void at(uint64_t afterUsec, std::function<void()> fn)
    {
        fns_.push_back(std::make_unique<std::function<void()>>(std::move(fn)));
        sd_event_source* s = nullptr;
        ASSERT_GE(sd_event_add_time_relative(
                      event_, &s, CLOCK_MONOTONIC, afterUsec, 1,
                      [](sd_event_source*, uint64_t, void* p) {
                          (*static_cast<std::function<void()>*>(p))();
                          return 0;
                      },
                      fns_.back().get()),
            0);
        sources_.push_back(s);
    }

    // The loop's exit code (0: IdleExit, kGuard: still running after
    // `limitUsec`) and how long it ran, in milliseconds.
    std::pair<int, long> run(uint64_t limitUsec)
    {
        at(limitUsec, [this] { sd_event_exit(event_, kGuard); });
        auto start = Clock::now();
        int rc = sd_event_loop(event_);
        return {rc, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()};
    }

private:
    sd_event* event_ = nullptr;
    sd_bus* bus_ = nullptr;
    std::vector<sd_event_source*> sources_;
    std::vector<std::unique_ptr<std::function<void()>>> fns_;
};

ActiveCounts none() { return {}; }

// Holds offloaded jobs until the test runs or drops them.
class HeldJobs : public bus::Dispatcher {
public:
    void offload(std::function<void()> job) override { jobs.push_back(std::move(job)); }
    void toBus(std::function<void()> fn) override { fn(); }
    std::vector<std::function<void()>> jobs;
};

TEST(IdleExit, EndsTheLoopAfterTheTimeout)
{
    Loop loop;
    IdleExit idle(loop.event(), loop.bus(), kTimeout, none);
    auto [rc, ms] = loop.run(2000 * kMs);
    EXPECT_EQ(rc, 0);
    EXPECT_GE(ms, 190);
    EXPECT_LT(ms, 600);
}

TEST(IdleExit, RunningDomainsNetworksOrPoolsKeepTheLoop)
{
    for (ActiveCounts busy : {ActiveCounts {.domains = 1}, ActiveCounts {.networks = 1}, ActiveCounts {.pools = 2}}) {
        Loop loop;
        IdleExit idle(loop.event(), loop.bus(), kTimeout, [busy] { return busy; });
        EXPECT_EQ(loop.run(700 * kMs).first, kGuard);
    }
}

TEST(IdleExit, CountsAFullTimeoutFromTheEndOfActivity)
{
    Loop loop;
    bool busy = true;
    IdleExit idle(loop.event(), loop.bus(), kTimeout, [&busy] { return ActiveCounts {.domains = busy ? 1u : 0u}; });
    loop.at(500 * kMs, [&busy] { busy = false; });
    auto [rc, ms] = loop.run(2000 * kMs);
    EXPECT_EQ(rc, 0);
    // Counting starts at the first check after the end: within timeout/4.
    EXPECT_GE(ms, 690);
    EXPECT_LT(ms, 1100);
}

TEST(IdleExit, CallsInFlightKeepTheLoop)
{
    Loop loop;
    IdleExit idle(loop.event(), loop.bus(), kTimeout, none);
    idle.callStarted();
    loop.at(600 * kMs, [&idle] { idle.callFinished(); });
    auto [rc, ms] = loop.run(2000 * kMs);
    EXPECT_EQ(rc, 0);
    EXPECT_GE(ms, 790);
}

TEST(IdleExit, OffloadedJobsCountUntilRunOrDropped)
{
    for (bool run : {true, false}) {
        Loop loop;
        IdleExit idle(loop.event(), loop.bus(), kTimeout, none);
        HeldJobs held;
        CountingDispatcher counted(held, idle);
        bool ran = false;
        counted.offload([&ran] { ran = true; });
        ASSERT_EQ(held.jobs.size(), 1u);
        loop.at(500 * kMs, [&held, run] {
            if (run)
                held.jobs.front()();
            held.jobs.clear();
        });
        auto [rc, ms] = loop.run(2000 * kMs);
        EXPECT_EQ(rc, 0);
        EXPECT_GE(ms, 690);
        EXPECT_EQ(ran, run);
    }
}

} // namespace
