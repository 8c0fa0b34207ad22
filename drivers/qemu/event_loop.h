// One thread that watches file descriptors for the QEMU driver: every QMP
// socket and every QEMU pidfd. Drivers know nothing of D-Bus, so the driver
// does not use the bus's sd-event loop; callbacks run on this thread and
// must not block (they parse, update state under a short lock, and return).
#pragma once

#include <functional>
#include <memory>

namespace virtbus::qemu {

class EventLoop {
public:
    // Called with the epoll events that fired (EPOLLIN, EPOLLHUP, ...).
    using Callback = std::function<void(uint32_t events)>;

    EventLoop();  // starts the thread
    ~EventLoop(); // stops and joins it; no callback runs afterwards
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Watches `fd` (not owned) for `events` (EPOLLIN by default). Returns a
    // handle for remove(). Callable from any thread, including a callback.
    int add(int fd, Callback cb, uint32_t events = 0x001 /* EPOLLIN */);
    // Stops watching. When it returns, the callback is not running and will
    // not run again, unless remove() is called from that same callback.
    // Call it before closing the fd (a closed fd number may be reused).
    void remove(int handle);
    // Runs `fn` on the loop thread soon (used to serialize work with the
    // callbacks).
    void post(std::function<void()> fn);
    bool onLoopThread() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace virtbus::qemu
