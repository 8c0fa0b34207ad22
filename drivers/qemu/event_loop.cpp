#include "qemu/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

namespace virtbus::qemu {

namespace {

// epoll's user data carries the handle, never the fd: a stale event for a
// removed handle (or a reused fd number) then finds nothing and is dropped.
constexpr uint64_t kWakeHandle = 0;

[[noreturn]] void throwErrno(const char* what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

} // namespace

struct EventLoop::Impl {
    int epfd = -1;
    int wakefd = -1;
    std::thread thread;

    std::mutex mu;
    std::condition_variable idle; // signalled whenever a callback returns
    // shared_ptr so a callback that removes itself does not destroy the
    // std::function it is running in.
    struct Watch {
        int fd;
        std::shared_ptr<Callback> cb;
    };
    std::unordered_map<int, Watch> watches;
    std::vector<std::function<void()>> posted;
    int nextHandle = 1;
    int running = 0; // handle whose callback runs now, 0 if none
    bool stopping = false;

    void wake()
    {
        uint64_t one = 1;
        // A full counter (never in practice) still leaves the fd readable.
        while (::write(wakefd, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }

    void drainWake()
    {
        uint64_t n;
        while (::read(wakefd, &n, sizeof n) < 0 && errno == EINTR) {
        }
    }

    void dispatch(int handle, uint32_t events)
    {
        std::shared_ptr<Callback> cb;
        {
            std::lock_guard lk(mu);
            auto it = watches.find(handle);
            if (it == watches.end())
                return;
            cb = it->second.cb;
            running = handle;
        }
        try {
            (*cb)(events);
        } catch (const std::exception& e) {
            // An escaping exception would kill the daemon for one bad
            // monitor; the callback owner is expected to handle its errors.
            std::fprintf(stderr, "virtbus: event loop callback failed: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "virtbus: event loop callback failed\n");
        }
        {
            std::lock_guard lk(mu);
            running = 0;
        }
        idle.notify_all();
    }

    void runPosted()
    {
        std::vector<std::function<void()>> batch;
        {
            std::lock_guard lk(mu);
            batch.swap(posted);
        }
        for (auto& fn : batch) {
            try {
                fn();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "virtbus: event loop task failed: %s\n", e.what());
            } catch (...) {
                std::fprintf(stderr, "virtbus: event loop task failed\n");
            }
        }
    }

    void run()
    {
        epoll_event events[64];
        for (;;) {
            int n = epoll_wait(epfd, events, 64, -1);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                std::fprintf(stderr, "virtbus: epoll_wait failed: errno %d\n", errno);
                std::terminate();
            }
            bool woken = false;
            for (int i = 0; i < n; ++i) {
                if (events[i].data.u64 == kWakeHandle) {
                    woken = true;
                    continue;
                }
                dispatch(static_cast<int>(events[i].data.u64), events[i].events);
            }
            if (woken) {
                drainWake();
                runPosted();
                std::lock_guard lk(mu);
                if (stopping)
                    return;
            }
        }
    }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>())
{
    impl_->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (impl_->epfd < 0)
        throwErrno("epoll_create1");
    impl_->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl_->wakefd < 0) {
        int e = errno;
        ::close(impl_->epfd);
        throw std::system_error(e, std::generic_category(), "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeHandle;
    if (epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->wakefd, &ev) < 0) {
        int e = errno;
        ::close(impl_->wakefd);
        ::close(impl_->epfd);
        throw std::system_error(e, std::generic_category(), "epoll_ctl");
    }
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

EventLoop::~EventLoop()
{
    {
        std::lock_guard lk(impl_->mu);
        impl_->stopping = true;
    }
    impl_->wake();
    impl_->thread.join();
    ::close(impl_->wakefd);
    ::close(impl_->epfd);
}

int EventLoop::add(int fd, Callback cb, uint32_t events)
{
    std::lock_guard lk(impl_->mu);
    int handle = impl_->nextHandle++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<uint64_t>(handle);
    // Registered under the lock: an event may fire at once and must find
    // its callback.
    if (epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        throwErrno("epoll_ctl(EPOLL_CTL_ADD)");
    impl_->watches.emplace(handle, Impl::Watch{fd, std::make_shared<Callback>(std::move(cb))});
    return handle;
}

void EventLoop::remove(int handle)
{
    std::shared_ptr<Callback> dropped;
    std::unique_lock lk(impl_->mu);
    auto it = impl_->watches.find(handle);
    if (it == impl_->watches.end())
        return;
    int fd = it->second.fd;
    dropped = std::move(it->second.cb);
    impl_->watches.erase(it);
    // A caller that closed the fd before remove() may already have had its
    // number reused and added again; that newer watch must stay armed.
    bool reused = false;
    for (const auto& [h, w] : impl_->watches)
        reused = reused || w.fd == fd;
    // Failure is fine: a closed fd has already left the epoll set.
    if (!reused)
        epoll_ctl(impl_->epfd, EPOLL_CTL_DEL, fd, nullptr);
    if (!onLoopThread())
        impl_->idle.wait(lk, [&] { return impl_->running != handle; });
    lk.unlock();
    // `dropped` (and what its lambda captured) is destroyed here, outside
    // the lock, in case that destruction calls back into the loop.
}

void EventLoop::post(std::function<void()> fn)
{
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopping)
            return;
        impl_->posted.push_back(std::move(fn));
    }
    impl_->wake();
}

bool EventLoop::onLoopThread() const
{
    return std::this_thread::get_id() == impl_->thread.get_id();
}

} // namespace virtbus::qemu
