// A scripted QMP server for the Monitor tests: one thread, one client, on a
// unix socket in a fresh temporary directory. It greets, answers
// qmp_capabilities itself, and hands every other command to the test's
// handler (on the server thread), which answers, stalls or hangs up.
#pragma once

#include "qemu/json.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fakeqmp {

using virtbus::qemu::json::Object;
using virtbus::qemu::json::Value;

inline const char* kGreeting = R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, )"
                               R"("package": "fake"}, "capabilities": ["oob"]}})";

class Server {
public:
    using Handler = std::function<void(Server&, const Value& cmd)>;

    // `greeting` empty: say nothing on accept.
    explicit Server(Handler handler = nullptr, std::string greeting = kGreeting) :
        handler_(std::move(handler)), greeting_(std::move(greeting))
    {
        char tmpl[] = "/tmp/virtbus-qmp-test-XXXXXX";
        if (!mkdtemp(tmpl))
            throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        path_ = dir_ + "/qmp.sock";
        if (pipe2(stop_, O_CLOEXEC) < 0)
            throw std::runtime_error("pipe2 failed");
    }

    ~Server()
    {
        if (::write(stop_[1], "x", 1) < 0) {
            // The thread then only stops at its next EOF; nothing better to do.
        }
        if (thread_.joinable())
            thread_.join();
        {
            std::lock_guard lk(mu_);
            if (client_ >= 0)
                ::close(client_);
        }
        if (listen_ >= 0)
            ::close(listen_);
        ::close(stop_[0]);
        ::close(stop_[1]);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    const std::string& path() const { return path_; }

    // Binds and starts serving; separate so a test can connect first.
    void listen()
    {
        listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
        if (::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(listen_, 4) < 0)
            throw std::runtime_error("cannot listen on " + path_);
        thread_ = std::thread([this] { serve(); });
    }

    void write(std::string_view bytes)
    {
        std::lock_guard lk(mu_);
        while (client_ >= 0 && !bytes.empty()) {
            ssize_t n = ::send(client_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return;
            bytes.remove_prefix(size_t(n));
        }
    }
    void writeLine(const Value& v) { write(virtbus::qemu::json::serialize(v) + "\r\n"); }
    void reply(const Value& cmd, Value ret) { writeLine(Value(Object{{"return", std::move(ret)}, {"id", idOf(cmd)}})); }
    void error(const Value& cmd, const std::string& cls, const std::string& desc)
    {
        writeLine(Value(Object{{"error", Value(Object{{"class", Value(cls)}, {"desc", Value(desc)}})}, {"id", idOf(cmd)}}));
    }
    void event(const std::string& name, Value data, int64_t seconds = 1700000000)
    {
        writeLine(eventValue(name, std::move(data), seconds));
    }
    static Value eventValue(const std::string& name, Value data, int64_t seconds = 1700000000)
    {
        return Value(Object{{"event", Value(name)},
                            {"data", std::move(data)},
                            {"timestamp", Value(Object{{"seconds", Value(seconds)}, {"microseconds", Value(42)}})}});
    }
    static Value idOf(const Value& cmd) { return cmd.find("id") ? *cmd.find("id") : Value(); }

    void hangup()
    {
        std::lock_guard lk(mu_);
        if (client_ >= 0)
            ::shutdown(client_, SHUT_RDWR);
    }

    // Every command received so far, qmp_capabilities included.
    std::vector<Value> commands()
    {
        std::lock_guard lk(mu_);
        return commands_;
    }
    bool waitForCommands(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10))
    {
        std::unique_lock lk(mu_);
        return cv_.wait_for(lk, timeout, [&] { return commands_.size() >= n; });
    }
    bool waitForHangup(std::chrono::milliseconds timeout = std::chrono::seconds(10))
    {
        std::unique_lock lk(mu_);
        return cv_.wait_for(lk, timeout, [&] { return clientGone_; });
    }

private:
    Handler handler_;
    std::string greeting_, dir_, path_;
    int listen_ = -1, client_ = -1, stop_[2] = {-1, -1};
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Value> commands_;
    bool clientGone_ = false;

    // Waits for `fd` or the stop pipe; false on stop.
    bool waitReadable(int fd)
    {
        pollfd p[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
        while (::poll(p, 2, -1) < 0) {
        }
        return !(p[1].revents & POLLIN);
    }

    void serve()
    {
        if (!waitReadable(listen_))
            return;
        int c = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        {
            std::lock_guard lk(mu_);
            client_ = c;
        }
        if (!greeting_.empty())
            write(greeting_ + "\r\n");
        std::string buf;
        char chunk[65536];
        while (waitReadable(c)) {
            ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
            if (n <= 0)
                break;
            buf.append(chunk, size_t(n));
            size_t nl;
            while ((nl = buf.find('\n')) != std::string::npos) {
                Value cmd = virtbus::qemu::json::parse(std::string_view(buf).substr(0, nl));
                buf.erase(0, nl + 1);
                {
                    std::lock_guard lk(mu_);
                    commands_.push_back(cmd);
                }
                cv_.notify_all();
                if (cmd.str("execute") == "qmp_capabilities")
                    reply(cmd, Object{});
                else if (handler_)
                    handler_(*this, cmd);
                else
                    reply(cmd, Object{});
            }
        }
        std::lock_guard lk(mu_);
        clientGone_ = true;
        cv_.notify_all();
    }
};

} // namespace fakeqmp
