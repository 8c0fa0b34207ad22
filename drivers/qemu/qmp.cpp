// The Monitor: commands go out from any thread under one write lock, each
// with its own integer id; the loop thread reads, splits lines and wakes the
// waiter whose id comes back, or queues the event for the handlers.
#include "qemu/qmp.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <system_error>
#include <thread>

namespace virtbus::qemu {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// QEMU answers query-qmp-schema with a few hundred KiB; a line beyond this
// is a broken or hostile peer, not a reply to wait for.
constexpr size_t kMaxLine = 64u << 20;
constexpr auto kConnectRetry = 2ms;
// send() has no timeout of its own; QEMU reads its monitor promptly unless
// it is wedged, in which case the stream is given up.
constexpr auto kSendTimeout = 10s;

std::string errnoText(int e) { return std::generic_category().message(e); }

// Keeps huge timeouts (milliseconds::max()) from overflowing the clock.
Clock::time_point deadlineAfter(std::chrono::milliseconds timeout)
{
    constexpr auto kCap = std::chrono::hours(24 * 365 * 10);
    return Clock::now() + std::min<Clock::duration>(std::max(timeout, std::chrono::milliseconds(0)), kCap);
}

int pollMillis(Clock::time_point deadline)
{
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return int(std::clamp<decltype(left)>(left, 0, INT_MAX));
}

// Accumulates bytes and hands out complete lines without copying or
// re-scanning what was already searched for '\n'.
class LineBuffer {
public:
    void append(const char* data, size_t n) { buf_.append(data, n); }
    // The next complete line (without '\n'); valid until append()/compact().
    std::optional<std::string_view> next()
    {
        size_t nl = buf_.find('\n', scanned_);
        if (nl == std::string::npos) {
            scanned_ = buf_.size();
            return std::nullopt;
        }
        std::string_view line(buf_.data() + head_, nl - head_);
        head_ = scanned_ = nl + 1;
        return line;
    }
    void compact()
    {
        buf_.erase(0, head_);
        scanned_ -= head_;
        head_ = 0;
    }
    size_t partial() const { return buf_.size() - head_; }

private:
    std::string buf_;
    size_t head_ = 0, scanned_ = 0;
};

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

std::string commandLine(const std::string& cmd, json::Value args, int64_t id)
{
    json::Value msg = json::Object {{"execute", json::Value(cmd)}};
    if (!args.isNull())
        msg.set("arguments", std::move(args));
    msg.set("id", id);
    return json::serialize(msg) + "\n";
}

struct Pending {
    std::condition_variable cv;
    bool waited = true; // false once nobody waits (send(), timed out)
    bool done = false;
    json::Value value;
    std::optional<QmpError> error;
    std::string closedWhy; // set when the monitor closed instead
};

} // namespace

struct Monitor::Impl {
    Impl(EventLoop& l, int s, std::string p) : loop(l), sock(s), path(std::move(p)) { }

    EventLoop& loop;
    const int sock; // read only by the loop callback (or connect before it)
    const std::string path;

    std::mutex writeMu;
    bool sockOpen = true; // guarded by writeMu: writers must not use a closed fd number

    std::mutex mu;
    std::condition_variable handlerDone;
    int handle = 0;
    bool closed = false;
    std::string closeWhy;
    int64_t nextId = 1;
    // Every command written and not answered yet, by id. Ids are taken
    // under writeMu, so id order is stream order, which is the order QEMU
    // answers in (no out-of-band commands are negotiated).
    std::map<int64_t, std::shared_ptr<Pending>> pending;
    bool handlersSet = false;
    std::shared_ptr<const EventHandler> onEvent;
    std::shared_ptr<const CloseHandler> onClose;
    std::deque<QmpMessage> queued;
    bool closeDue = false; // the peer went away; the close handler has not run yet
    bool inHandler = false; // a handler runs on the loop thread now
    json::Value greeting;

    LineBuffer in; // loop thread only (after connect)

    // Marks the monitor closed and fails every waiter; false if it already was.
    bool markClosed(const std::string& why, bool peerGone)
    {
        std::lock_guard lk(mu);
        if (closed)
            return false;
        closed = true;
        closeWhy = why;
        closeDue = peerGone;
        for (auto& [id, p] : pending) {
            p->closedWhy = why;
            p->done = true;
            p->cv.notify_all();
        }
        pending.clear();
        return true;
    }

    void releaseSocket()
    {
        int h;
        {
            std::lock_guard lk(mu);
            h = std::exchange(handle, 0);
        }
        if (h)
            loop.remove(h);
        // Wakes a writer stuck in poll() so that writeMu is free soon.
        ::shutdown(sock, SHUT_RDWR);
        std::lock_guard lk(writeMu);
        if (sockOpen) {
            ::close(sock);
            sockOpen = false;
        }
    }

    // The peer is gone or broke the protocol (loop thread, or connect).
    void fail(const std::string& why)
    {
        if (!markClosed(why, true))
            return;
        releaseSocket();
        deliver();
    }

    // Writes one command with the next id and registers it as pending.
    std::shared_ptr<Pending> writeCommand(
        const std::string& cmd, json::Value args, Clock::time_point deadline, bool waited, int fd = -1)
    {
        std::lock_guard wlk(writeMu);
        if (!sockOpen)
            throw MonitorClosed("QMP monitor is closed");
        auto p = std::make_shared<Pending>();
        p->waited = waited;
        int64_t id;
        {
            std::lock_guard lk(mu);
            if (closed)
                throw MonitorClosed(closeWhy);
            id = nextId++;
            pending.emplace(id, p);
        }
        try {
            writeLocked(commandLine(cmd, std::move(args), id), deadline, fd);
        } catch (...) {
            std::lock_guard lk(mu);
            pending.erase(id);
            throw;
        }
        return p;
    }

    // `fd` (when >= 0) rides with the first byte that goes out: QEMU
    // attaches a received descriptor to the command being read.
    void writeLocked(const std::string& data, Clock::time_point deadline, int fd = -1)
    {
        size_t off = 0;
        while (off < data.size()) {
            ssize_t n;
            if (fd >= 0) {
                n = sendWithFd(data.data() + off, data.size() - off, fd);
                if (n > 0)
                    fd = -1;
            } else {
                n = ::send(sock, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            if (n >= 0) {
                off += size_t(n);
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                throw MonitorClosed("writing to the QMP monitor failed: " + errnoText(errno));
            int ms = pollMillis(deadline);
            if (ms == 0) {
                // Half a command is in the stream; nothing after it would
                // parse, so the reader is made to see the end.
                if (off > 0)
                    ::shutdown(sock, SHUT_RDWR);
                throw MonitorClosed("timed out writing to the QMP monitor");
            }
            pollfd p {sock, POLLOUT, 0};
            ::poll(&p, 1, ms);
        }
    }

    ssize_t sendWithFd(const char* data, size_t len, int fd)
    {
        iovec iov {const_cast<char*>(data), len};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg {};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return ::sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }

    void answer(QmpMessage& m)
    {
        std::lock_guard lk(mu);
        auto it = pending.end();
        if (m.id.kind() == json::Value::Kind::Int)
            it = pending.find(m.id.asInt());
        else if (m.id.isNull())
            // QEMU answers a command it could not even parse (invalid UTF-8,
            // "\u0000", too deep) without an id; answers come in order, so
            // it is the oldest unanswered one.
            it = pending.begin();
        if (it == pending.end())
            return; // not one of ours
        Pending& p = *it->second;
        if (!p.waited) {
            pending.erase(it);
            return;
        }
        if (m.type == QmpMessage::Type::Error)
            p.error.emplace(m.body.str("class"), m.body.str("desc"));
        else
            p.value = std::move(m.body);
        p.done = true;
        p.cv.notify_all();
        pending.erase(it);
    }

    // False when the line closed the monitor.
    bool handleLine(std::string_view line)
    {
        if (blank(line))
            return true;
        QmpMessage m;
        try {
            m = parseQmpMessage(line);
        } catch (const json::ParseError& e) {
            fail(std::string("QMP protocol error: ") + e.what());
            return false;
        }
        switch (m.type) {
        case QmpMessage::Type::Greeting: break;
        case QmpMessage::Type::Event: {
            std::lock_guard lk(mu);
            queued.push_back(std::move(m));
            break;
        }
        case QmpMessage::Type::Return:
        case QmpMessage::Type::Error: answer(m); break;
        }
        return true;
    }

    bool processLines()
    {
        while (auto line = in.next())
            if (!handleLine(*line))
                return false;
        in.compact();
        if (in.partial() > kMaxLine) {
            fail("QMP protocol error: a line longer than " + std::to_string(kMaxLine) + " bytes");
            return false;
        }
        return true;
    }

    // The loop callback: reads what is there (bounded, so one chatty QEMU
    // cannot starve the other fds; epoll is level-triggered and comes back).
    void onReadable()
    {
        char buf[65536];
        for (int i = 0; i < 16; ++i) {
            ssize_t n = ::recv(sock, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                in.append(buf, size_t(n));
                if (!processLines())
                    return;
                continue;
            }
            if (n == 0) {
                fail("QEMU closed the QMP monitor");
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail("reading the QMP monitor failed: " + errnoText(errno));
            return;
        }
        deliver();
    }

    // Runs queued events, then the close handler, in order, once handlers
    // are set. Loop thread only; handlers run without any lock held.
    void deliver()
    {
        for (;;) {
            std::unique_lock lk(mu);
            if (inHandler)
                return; // a handler re-entered us (setHandlers posts, so rare)
            if (!handlersSet)
                return;
            if (!queued.empty()) {
                QmpMessage m = std::move(queued.front());
                queued.pop_front();
                auto h = onEvent;
                inHandler = true;
                lk.unlock();
                if (h && *h)
                    (*h)(m);
                endHandler();
                continue;
            }
            if (closeDue) {
                closeDue = false;
                auto h = std::move(onClose);
                // No handler runs after this; dropping them breaks cycles
                // through captured shared_ptrs.
                onEvent.reset();
                inHandler = true;
                lk.unlock();
                if (h && *h)
                    (*h)();
                endHandler();
            }
            return;
        }
    }

    void endHandler()
    {
        {
            std::lock_guard lk(mu);
            inHandler = false;
        }
        handlerDone.notify_all();
    }

    // Synchronous read for connect(), before the loop watches the socket.
    QmpMessage readMessage(Clock::time_point deadline)
    {
        for (;;) {
            if (auto line = in.next()) {
                if (blank(*line))
                    continue;
                try {
                    return parseQmpMessage(*line);
                } catch (const json::ParseError& e) {
                    throw MonitorClosed(std::string("QMP protocol error: ") + e.what());
                }
            }
            in.compact();
            if (in.partial() > kMaxLine)
                throw MonitorClosed("QMP protocol error: line too long");
            pollfd p {sock, POLLIN, 0};
            int ms = pollMillis(deadline);
            if (ms == 0)
                throw MonitorClosed("timed out waiting for QEMU on the QMP monitor " + path);
            if (::poll(&p, 1, ms) <= 0)
                continue;
            char buf[65536];
            ssize_t n = ::recv(sock, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0)
                throw MonitorClosed("QEMU closed the QMP monitor " + path);
            if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
                throw MonitorClosed("reading the QMP monitor failed: " + errnoText(errno));
            if (n > 0)
                in.append(buf, size_t(n));
        }
    }

    void handshake(Clock::time_point deadline)
    {
        QmpMessage hello = readMessage(deadline);
        if (hello.type != QmpMessage::Type::Greeting)
            throw MonitorClosed("QMP protocol error: no greeting from " + path);
        greeting = std::move(hello.body);
        auto p = writeCommand("qmp_capabilities", {}, deadline, true);
        while (!p->done) {
            QmpMessage m = readMessage(deadline);
            if (m.type == QmpMessage::Type::Event)
                queued.push_back(std::move(m));
            else if (m.type != QmpMessage::Type::Greeting)
                answer(m);
        }
        if (p->error)
            throw *p->error;
        // Lines that came with the answer would otherwise wait for the
        // next byte to wake the loop.
        if (!processLines())
            throw MonitorClosed(closeWhy);
    }
};

Monitor::Monitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { }

Monitor::~Monitor() { close(); }

std::shared_ptr<Monitor> Monitor::connect(
    EventLoop& loop, const std::string& path, std::chrono::milliseconds timeout, const std::function<bool()>& alive)
{
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw MonitorClosed("QMP socket path is too long: " + path);
    path.copy(addr.sun_path, path.size());

    auto deadline = deadlineAfter(timeout);
    int sock;
    for (;;) {
        if (alive && !alive())
            throw MonitorClosed("QEMU exited before its QMP monitor " + path + " was ready");
        sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (sock < 0)
            throw MonitorClosed("cannot create a socket for QMP: " + errnoText(errno));
        if (::connect(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            break;
        int e = errno;
        ::close(sock);
        // Not listening yet (QEMU creates the socket a few ms after exec),
        // or its backlog is full.
        if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN && e != EINTR)
            throw MonitorClosed("cannot connect to the QMP monitor " + path + ": " + errnoText(e));
        auto now = Clock::now();
        if (now >= deadline)
            throw MonitorClosed("timed out connecting to the QMP monitor " + path);
        std::this_thread::sleep_for(std::min<Clock::duration>(kConnectRetry, deadline - now));
    }

    // From here the Monitor owns the socket: a throw closes it.
    std::shared_ptr<Monitor> mon(new Monitor(std::make_unique<Impl>(loop, sock, path)));
    Impl& impl = *mon->impl_;
    impl.handshake(deadline);

    std::weak_ptr<Monitor> weak = mon;
    std::lock_guard lk(impl.mu); // the callback may fail() at once and needs the handle
    impl.handle = loop.add(sock, [weak](uint32_t) {
        // Holding a reference keeps the Monitor alive when a handler drops
        // the last other one; it is then destroyed here, on the loop thread.
        if (auto self = weak.lock())
            self->impl_->onReadable();
    });
    return mon;
}

void Monitor::setHandlers(EventHandler onEvent, CloseHandler onClose)
{
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->closed && !impl_->closeDue)
            return;
        impl_->onEvent = std::make_shared<const EventHandler>(std::move(onEvent));
        impl_->onClose = std::make_shared<const CloseHandler>(std::move(onClose));
        impl_->handlersSet = true;
    }
    impl_->loop.post([weak = weak_from_this()] {
        if (auto self = weak.lock())
            self->impl_->deliver();
    });
}

json::Value Monitor::execute(const std::string& cmd, json::Value args, std::chrono::milliseconds timeout)
{
    return executeWithFd(cmd, std::move(args), -1, timeout);
}

json::Value Monitor::executeWithFd(const std::string& cmd, json::Value args, int fd, std::chrono::milliseconds timeout)
{
    if (impl_->loop.onLoopThread())
        throw std::logic_error("QMP execute() on the event loop thread would wait for itself");
    auto deadline = deadlineAfter(timeout);
    auto p = impl_->writeCommand(cmd, std::move(args), deadline, true, fd);
    std::unique_lock lk(impl_->mu);
    if (!p->cv.wait_until(lk, deadline, [&] { return p->done; })) {
        // The monitor stays usable: the late answer, when it comes, finds
        // the command still pending but no one waiting, and is dropped.
        p->waited = false;
        throw MonitorClosed("timed out waiting for QEMU to answer '" + cmd + "'");
    }
    lk.unlock();
    if (!p->closedWhy.empty())
        throw MonitorClosed(p->closedWhy);
    if (p->error)
        throw *p->error;
    return std::move(p->value);
}

void Monitor::send(const std::string& cmd, json::Value args)
{
    impl_->writeCommand(cmd, std::move(args), deadlineAfter(kSendTimeout), false);
}

void Monitor::close()
{
    bool first = impl_->markClosed("QMP monitor closed", false);
    std::shared_ptr<const EventHandler> ev;
    std::shared_ptr<const CloseHandler> cl;
    {
        std::lock_guard lk(impl_->mu);
        impl_->closeDue = false;
        impl_->queued.clear();
        ev = std::move(impl_->onEvent);
        cl = std::move(impl_->onClose);
    }
    if (first)
        impl_->releaseSocket();
    // A handler that already started elsewhere finishes before close()
    // returns, so the caller may tear down what handlers touch.
    if (!impl_->loop.onLoopThread()) {
        std::unique_lock lk(impl_->mu);
        impl_->handlerDone.wait(lk, [&] { return !impl_->inHandler; });
    }
}

bool Monitor::closed() const
{
    std::lock_guard lk(impl_->mu);
    return impl_->closed;
}

json::Value Monitor::greeting() const
{
    std::lock_guard lk(impl_->mu);
    return impl_->greeting;
}

} // namespace virtbus::qemu
