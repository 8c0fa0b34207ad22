// Plumbing for virtbus-bench: clocks, percentiles, a private dbus-daemon,
// server processes and a NameOwnerChanged watcher. Header-only because the
// bench is one program; nothing here knows virtbus.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace bench {

inline double nowUs()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

[[noreturn]] inline void fail(const std::string& what, int r)
{
    throw std::runtime_error(what + ": " + strerror(r < 0 ? -r : r));
}

// Nearest-rank percentile: a value that was really observed, no interpolation.
inline double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    size_t rank = size_t(std::ceil(p / 100.0 * double(v.size())));
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

inline std::string readFile(const std::string& path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// VmRSS in KiB, or -1 once the process is gone.
inline long rssKb(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

// CPU time the process's threads have run, in ns (the first field of each
// /proc/PID/task/TID/schedstat). Unlike latency it hardly moves with the
// machine's load, so it is the steadier measure of a server's own cost.
inline double cpuNs(pid_t pid)
{
    double total = 0;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
        total += std::strtod(readFile(task.path().string() + "/schedstat").c_str(), nullptr);
    return total;
}

// Every client connection of the bench, the threads' ones included: an
// explicit address, so nothing ever reaches the user's real session bus.
inline sd_bus* connectBus(const std::string& address)
{
    sd_bus* b = nullptr;
    int r = sd_bus_new(&b);
    if (r >= 0)
        r = sd_bus_set_address(b, address.c_str());
    if (r >= 0)
        r = sd_bus_set_bus_client(b, 1);
    if (r >= 0)
        r = sd_bus_start(b);
    if (r < 0) {
        sd_bus_unref(b);
        fail("cannot connect to " + address, r);
    }
    return b;
}

// SIGTERM, then SIGKILL if the process has not exited within 5 s: the bench
// must end by itself even if a server hangs on shutdown.
inline void stopProcess(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        pid_t w = waitpid(pid, nullptr, WNOHANG);
        if (w == pid || (w < 0 && errno == ECHILD))
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
}

// posix_spawn (vfork semantics) rather than fork: the time to start the
// child is part of what we measure, so the launcher must be cheap and the
// same for every target. Output goes to a log file for diagnosis. `env`
// ("NAME=value") is added to, or replaces in, the bench's own environment.
inline pid_t spawn(
    const std::vector<std::string>& argv, const std::string& logPath, const std::vector<std::string>& env = {})
{
    std::vector<std::string> vars = env;
    for (char** e = environ; *e; ++e) {
        std::string_view var(*e);
        auto named = [&](const std::string& v) { return v.substr(0, v.find('=')) == var.substr(0, var.find('=')); };
        if (std::none_of(env.begin(), env.end(), named))
            vars.emplace_back(var);
    }
    std::vector<char*> envp;
    for (auto& v : vars)
        envp.push_back(v.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int r = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0)
        fail("cannot start " + argv[0], r);
    return pid;
}

// A directory of our own for the bus socket, its config and server logs.
class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/virtbus-bench.XXXXXX";
        if (!mkdtemp(tmpl))
            fail("mkdtemp", errno);
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A dbus-daemon of our own, in a temp dir, with no service directories: no
// activation, so a call to a name nobody owns fails at once instead of
// starting the system's libvirt-dbus behind our back.
class PrivateBus {
public:
    explicit PrivateBus(const std::string& dir)
    {
        // session.conf's limits: a 10,000-domain ListDomains reply is
        // ~700 KB and must not hit a system-bus-sized quota.
        std::string config = R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=@DIR@/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
</busconfig>
)";
        config.replace(config.find("@DIR@"), 5, dir);
        std::ofstream(dir + "/bus.conf") << config;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
            fail("pipe", errno);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 3);
        // Its warnings (e.g. it cannot raise its fd limit unprivileged) would
        // only clutter the bench's output.
        std::string log = dir + "/dbus-daemon.log";
        posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        std::string conf = "--config-file=" + dir + "/bus.conf";
        char* argv[] = {const_cast<char*>("dbus-daemon"), const_cast<char*>(conf.c_str()),
            const_cast<char*>("--nofork"), const_cast<char*>("--print-address=3"), nullptr};
        int r = posix_spawnp(&pid_, "dbus-daemon", &fa, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (r != 0) {
            close(fds[0]);
            fail("cannot start dbus-daemon", r);
        }
        // The address is printed once the socket listens: no polling needed.
        char buf[512];
        ssize_t n = read(fds[0], buf, sizeof buf - 1);
        close(fds[0]);
        if (n <= 0)
            throw std::runtime_error("dbus-daemon printed no address");
        address_.assign(buf, size_t(n));
        address_.erase(address_.find_last_not_of("\n") + 1);
    }
    ~PrivateBus() { stopProcess(pid_); }
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;

    const std::string& address() const { return address_; }

private:
    std::string address_;
    pid_t pid_ = -1;
};

// Watches NameOwnerChanged for chosen names on a connection used for
// nothing else, so no method call can delay the signal's dispatch. The
// match is in place before any server starts: an owner change can't be missed.
class NameWatcher {
public:
    explicit NameWatcher(const std::string& address) : bus_(connectBus(address)) { }
    ~NameWatcher()
    {
        for (auto* s : slots_)
            sd_bus_slot_unref(s);
        sd_bus_flush_close_unref(bus_);
    }
    NameWatcher(const NameWatcher&) = delete;
    NameWatcher& operator=(const NameWatcher&) = delete;

    void watch(const std::string& name)
    {
        std::string match = "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                            "member='NameOwnerChanged',arg0='"
            + name + "'";
        sd_bus_slot* s = nullptr;
        int r = sd_bus_add_match(bus_, &s, match.c_str(), onSignal, this);
        if (r < 0)
            fail("cannot watch " + name, r);
        slots_.push_back(s);
    }

    // Time (nowUs) the name got an owner (owned=true) or lost it; nullopt if
    // the child died first or the timeout passed.
    std::optional<double> wait(const std::string& name, bool owned, pid_t child, double timeoutUs = 10e6)
    {
        double deadline = nowUs() + timeoutUs;
        for (;;) {
            while (!events_.empty()) {
                Event e = events_.front();
                events_.pop_front();
                if (e.name == name && e.owned == owned)
                    return e.at;
            }
            int r = sd_bus_process(bus_, nullptr);
            if (r < 0)
                fail("watcher bus", r);
            if (r > 0)
                continue;
            if (owned && child > 0 && exited(child))
                return std::nullopt;
            double left = deadline - nowUs();
            if (left <= 0)
                return std::nullopt;
            // Short slices so a child that died is noticed promptly.
            sd_bus_wait(bus_, uint64_t(std::min(left, 50000.0)));
        }
    }

private:
    struct Event {
        std::string name;
        bool owned;
        double at;
    };
    // Peeks without reaping: stopProcess() still owns the child's pid.
    static bool exited(pid_t child)
    {
        siginfo_t si {};
        return waitid(P_PID, id_t(child), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == child;
    }
    static int onSignal(sd_bus_message* m, void* userdata, sd_bus_error*)
    {
        double at = nowUs();
        const char *name = nullptr, *oldOwner = nullptr, *newOwner = nullptr;
        if (sd_bus_message_read(m, "sss", &name, &oldOwner, &newOwner) < 0)
            return 0;
        static_cast<NameWatcher*>(userdata)->events_.push_back({name, *newOwner != '\0', at});
        return 0;
    }

    sd_bus* bus_;
    std::vector<sd_bus_slot*> slots_;
    std::deque<Event> events_;
};

} // namespace bench
