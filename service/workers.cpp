#include "workers.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "log.h"

namespace virtbus {

Workers::Workers(sd_event* event, unsigned threads)
{
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0)
        throw std::runtime_error(std::string("eventfd: ") + strerror(errno));
    int r = sd_event_add_io(event, &wakeSource_, wakeFd_, EPOLLIN, onWake, this);
    if (r < 0) {
        close(wakeFd_);
        throw std::runtime_error(std::string("sd_event_add_io: ") + strerror(-r));
    }
    for (unsigned i = 0; i < threads; ++i)
        threads_.emplace_back([this] { work(); });
}

Workers::~Workers()
{
    stop();
    // Whatever is still queued may refer to objects already gone (see
    // drain()); it is dropped unrun.
    sd_event_source_disable_unref(wakeSource_);
    close(wakeFd_);
}

void Workers::stop()
{
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard lock(mu_);
        if (stopping_ && threads_.empty())
            return;
        stopping_ = true;
        dropped.swap(jobs_);
    }
    cv_.notify_all();
    // Destroying a queued job destroys its Reply, which answers with an
    // error through toBus().
    dropped.clear();
    for (auto& t : threads_)
        t.join();
    threads_.clear();
}

void Workers::offload(std::function<void()> job)
{
    {
        std::lock_guard lock(mu_);
        if (stopping_)
            return; // `job` is destroyed here: its call is answered with an error
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
}

void Workers::toBus(std::function<void()> fn)
{
    bool wasEmpty;
    {
        std::lock_guard lock(busMu_);
        wasEmpty = busQueue_.empty();
        busQueue_.push_back(std::move(fn));
    }
    if (wasEmpty) {
        uint64_t one = 1;
        // The eventfd cannot overflow here: the bus thread drains it.
        (void)!write(wakeFd_, &one, sizeof one);
    }
}

int Workers::onWake(sd_event_source*, int fd, uint32_t, void* userdata)
{
    uint64_t n;
    (void)!read(fd, &n, sizeof n);
    static_cast<Workers*>(userdata)->runBusQueue();
    return 0;
}

void Workers::runBusQueue()
{
    for (;;) {
        std::deque<std::function<void()>> batch;
        {
            std::lock_guard lock(busMu_);
            batch.swap(busQueue_);
        }
        if (batch.empty())
            return;
        for (auto& fn : batch) {
            try {
                fn();
            } catch (const std::exception& e) {
                logError("bus-thread task failed: %s", e.what());
            }
        }
    }
}

void Workers::work()
{
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty())
                return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job();
        } catch (const std::exception& e) {
            logError("worker task failed: %s", e.what());
        }
    }
}

} // namespace virtbus
