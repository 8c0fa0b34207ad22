#include "qemu/qemu_console_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include <cstring>

#include "error.h"

namespace virtbus::qemu {

namespace {

constexpr size_t kBuffer = 64 * 1024;

// Bytes read but not yet written on, for one direction.
struct Pipe {
    char data[kBuffer];
    size_t len = 0;
    bool room() const { return len < kBuffer; }
};

// Reads into `p`; false at EOF or a hard error (EIO: the pty's QEMU end
// closed).
bool fill(int fd, Pipe& p)
{
    ssize_t n = ::read(fd, p.data + p.len, kBuffer - p.len);
    if (n > 0)
        p.len += size_t(n);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

bool drain(int fd, Pipe& p)
{
    ssize_t n = ::send(fd, p.data, p.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK)
        n = ::write(fd, p.data, p.len);
    if (n > 0) {
        p.len -= size_t(n);
        std::memmove(p.data, p.data + n, p.len);
    }
    return n >= 0 || errno == EAGAIN || errno == EINTR;
}

} // namespace

struct ConsoleRelays::Session {
    UniqueFd device, client, wake;
    std::atomic<bool> done {false};
    std::thread thread;

    void run()
    {
        auto in = std::make_unique<Pipe>(); // device -> client
        auto out = std::make_unique<Pipe>(); // client -> device
        for (;;) {
            pollfd fds[3] = {{device.get(), 0, 0}, {client.get(), 0, 0}, {wake.get(), POLLIN, 0}};
            if (in->room())
                fds[0].events |= POLLIN;
            if (out->len)
                fds[0].events |= POLLOUT;
            if (out->room())
                fds[1].events |= POLLIN;
            if (in->len)
                fds[1].events |= POLLOUT;
            if (::poll(fds, 3, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            if (fds[2].revents)
                break;
            if ((fds[0].revents & POLLIN) && !fill(device.get(), *in))
                break;
            if ((fds[1].revents & POLLIN) && !fill(client.get(), *out))
                break;
            if (in->len && (fds[1].revents & POLLOUT) && !drain(client.get(), *in))
                break;
            if (out->len && (fds[0].revents & POLLOUT) && !drain(device.get(), *out))
                break;
            // Hang-ups with nothing left to read: the other side is gone.
            if (((fds[0].revents & (POLLHUP | POLLERR)) && !(fds[0].revents & POLLIN))
                || ((fds[1].revents & (POLLHUP | POLLERR)) && !(fds[1].revents & POLLIN)))
                break;
        }
        // The client sees EOF; the device is closed for the next session.
        ::shutdown(client.get(), SHUT_RDWR);
        client.reset();
        device.reset();
        done = true;
    }

    void stop()
    {
        uint64_t one = 1;
        if (::write(wake.get(), &one, sizeof one) < 0) {
            // eventfd writes only fail on overflow: it is already signalled.
        }
        if (thread.joinable())
            thread.join();
    }
};

ConsoleRelays::~ConsoleRelays()
{
    std::lock_guard lock(mu_);
    for (auto& [key, s] : sessions_)
        s->stop();
}

int ConsoleRelays::open(const std::string& key, const std::function<UniqueFd()>& openDevice, bool force)
{
    std::lock_guard lock(mu_);
    auto it = sessions_.find(key);
    if (it != sessions_.end()) {
        if (!it->second->done && !force)
            throw makeError(ErrCode::OperationFailed, ErrDomain::Qemu, "Active console session exists for this domain");
        it->second->stop();
        sessions_.erase(it);
    }
    auto s = std::make_shared<Session>();
    s->device = openDevice();
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        throw systemError(ErrDomain::Qemu, "Failed to create socket pair", errno);
    UniqueFd theirs(pair[1]);
    s->client.reset(pair[0]);
    s->wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (s->wake.get() < 0)
        throw systemError(ErrDomain::Qemu, "Failed to create an event fd", errno);
    for (int fd : {s->device.get(), s->client.get()})
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->thread = std::thread([raw = s.get()] { raw->run(); });
    sessions_[key] = s;
    return theirs.release();
}

size_t ConsoleRelays::active()
{
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [key, s] : sessions_)
        n += !s->done;
    return n;
}

} // namespace virtbus::qemu
