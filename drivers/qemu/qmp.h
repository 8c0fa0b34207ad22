// A QMP client: one monitor socket of one QEMU process. Commands are sent
// from any thread and block that thread (a worker, never the bus thread)
// until QEMU answers; replies and events are read on the EventLoop thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "qemu/event_loop.h"
#include "qemu/json.h"

namespace virtbus::qemu {

// QMP's {"error": {"class": ..., "desc": ...}} answer.
struct QmpError : std::runtime_error {
    QmpError(std::string cls, std::string desc);
    std::string cls, desc;
};
// The monitor is gone (EOF, reset, timeout waiting for an answer, or it was
// closed): the process is dead or dying.
struct MonitorClosed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What one line from QEMU is (pure parsing, unit-tested on its own).
struct QmpMessage {
    enum class Type { Greeting, Return, Error, Event } type;
    json::Value id; // the "id" a Return/Error echoes, null if none
    json::Value body; // Return: "return"; Error: the "error" object;
                      // Event: "data" (null if absent); Greeting: "QMP"
    std::string event; // Event name
    int64_t seconds = 0, microseconds = 0; // Event timestamp
};
// Throws json::ParseError on anything that is not one of the four shapes.
QmpMessage parseQmpMessage(std::string_view line);

class Monitor : public std::enable_shared_from_this<Monitor> {
public:
    using EventHandler = std::function<void(const QmpMessage& event)>;
    using CloseHandler = std::function<void()>;

    // Connects to the unix socket at `path`, retrying every few ms until
    // `timeout` while `alive()` is true (the socket appears a few ms after
    // exec), reads the greeting and negotiates capabilities
    // (qmp_capabilities). Throws MonitorClosed when the process dies or the
    // time runs out, QmpError when QEMU refuses.
    static std::shared_ptr<Monitor> connect(EventLoop& loop, const std::string& path, std::chrono::milliseconds timeout,
        const std::function<bool()>& alive);

    ~Monitor();

    // Handlers run on the loop thread. Events that arrive before they are
    // set are queued and delivered when they are. The close handler runs
    // once, when QEMU closes the socket or the read fails (not after
    // close()).
    void setHandlers(EventHandler onEvent, CloseHandler onClose);

    // Sends {"execute": cmd, "arguments": args, "id": N} and waits for the
    // matching answer. Returns "return"'s value; throws QmpError or
    // MonitorClosed. Never call it on the loop thread.
    json::Value execute(
        const std::string& cmd, json::Value args = {}, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // As execute(), with `fd` passed along (SCM_RIGHTS) in the same write:
    // "getfd" and "add-fd" take the descriptor that comes with the command.
    // The caller keeps its own fd.
    json::Value executeWithFd(
        const std::string& cmd, json::Value args, int fd, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Sends without waiting (for commands whose answer does not matter,
    // e.g. "quit" racing the exit). Throws MonitorClosed when closed.
    void send(const std::string& cmd, json::Value args = {});

    // Stops reading and closes the socket; pending execute() calls fail with
    // MonitorClosed. The close handler does not run.
    //
    // From another thread, close() also waits for a handler that is running
    // on the loop thread (so do not hold a lock a handler takes). From a
    // handler it only marks the monitor closed and returns.
    void close();
    bool closed() const;
    // The greeting's "QMP" object ({"version": ..., "capabilities": ...}).
    json::Value greeting() const;

private:
    struct Impl;
    explicit Monitor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace virtbus::qemu
