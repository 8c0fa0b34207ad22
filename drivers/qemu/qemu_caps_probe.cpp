// Probing one QEMU binary: start it with -machine none and a private QMP
// socket, ask it what it can do, tell it to quit. A second run with
// -accel kvm tells whether KVM really works with this binary on this host.
#include "qemu/qemu_caps.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <mutex>
#include <set>
#include <thread>

#include "error.h"
#include "qemu/json.h"
#include "qemu/qmp.h"

extern char** environ;

namespace virtbus::qemu {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// QEMU said no (its own words, or how it died).
struct ProbeFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class TempDir {
public:
    TempDir()
    {
        // The socket path must fit sun_path and QEMU's option syntax
        // (a comma would end the path).
        std::error_code ec;
        std::string base = fs::temp_directory_path(ec).string();
        if (ec || base.size() > 60 || base.find(',') != std::string::npos)
            base = "/tmp";
        std::string tmpl = base + "/virtbus-caps-XXXXXX";
        if (!::mkdtemp(tmpl.data()))
            throw err::operationFailed("cannot create a directory under " + base + ": " + std::strerror(errno));
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A QEMU child that is always reaped, and killed first if still running.
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) { }
    pid_t pid() const { return pid_; }
    ~Child() { kill(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // Does not reap, so the exit status stays for waitExit().
    bool alive()
    {
        if (reaped_)
            return false;
        siginfo_t info {};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
            return false;
        return info.si_pid == 0;
    }

    bool waitExit(std::chrono::milliseconds timeout)
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!reaped_) {
            pid_t r = ::waitpid(pid_, &status_, WNOHANG);
            // ECHILD: SIGCHLD is ignored and the kernel reaped it already.
            if (r == pid_ || (r < 0 && errno == ECHILD)) {
                reaped_ = true;
                if (r < 0)
                    status_ = -1;
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            std::this_thread::sleep_for(2ms);
        }
        return true;
    }

    void kill()
    {
        if (reaped_)
            return;
        ::kill(pid_, SIGKILL);
        waitExit(10s);
    }

    std::string describeExit() const
    {
        if (!reaped_ || status_ < 0)
            return "QEMU exited";
        if (WIFEXITED(status_))
            return "QEMU exited with status " + std::to_string(WEXITSTATUS(status_));
        if (WIFSIGNALED(status_))
            return "QEMU was killed by signal " + std::to_string(WTERMSIG(status_));
        return "QEMU exited";
    }

private:
    pid_t pid_;
    bool reaped_ = false;
    int status_ = 0;
};

int moveAbove2(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    return moved;
}

// fork+exec rather than posix_spawn: the child must die with us
// (PR_SET_PDEATHSIG), or a daemon crash would leave QEMUs behind.
pid_t spawn(const std::vector<std::string>& args, const std::string& logPath)
{
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        if (kv.rfind("LC_", 0) != 0 && kv.rfind("LANG=", 0) != 0 && kv.rfind("LANGUAGE=", 0) != 0)
            env.emplace_back(kv);
    }
    env.emplace_back("LC_ALL=C"); // QEMU's messages are quoted to clients as they are
    std::vector<char*> argv, envp;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    int logFd = moveAbove2(::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    int nullFd = moveAbove2(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    int errPipe[2] = {-1, -1};
    if (logFd < 0 || nullFd < 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
        int e = errno;
        for (int fd : {logFd, nullFd, errPipe[0], errPipe[1]})
            if (fd >= 0)
                ::close(fd);
        throw err::operationFailed("cannot prepare to run " + args[0] + ": " + std::strerror(e));
    }
    errPipe[0] = moveAbove2(errPipe[0]);
    errPipe[1] = moveAbove2(errPipe[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127);
        ::dup2(nullFd, 0);
        ::dup2(logFd, 1);
        ::dup2(logFd, 2);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl { };
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGPIPE, &dfl, nullptr);
        ::execve(argv[0], argv.data(), envp.data());
        int e = errno;
        [[maybe_unused]] ssize_t n = ::write(errPipe[1], &e, sizeof e);
        ::_exit(127);
    }
    int forkErr = errno;
    ::close(logFd);
    ::close(nullFd);
    ::close(errPipe[1]);
    if (pid < 0) {
        ::close(errPipe[0]);
        throw err::operationFailed("cannot run " + args[0] + ": " + std::strerror(forkErr));
    }
    int execErr = 0;
    ssize_t n;
    do
        n = ::read(errPipe[0], &execErr, sizeof execErr);
    while (n < 0 && errno == EINTR);
    ::close(errPipe[0]);
    if (n == static_cast<ssize_t>(sizeof execErr)) {
        ::waitpid(pid, nullptr, 0);
        throw ProbeFailure("cannot execute " + args[0] + ": " + std::strerror(execErr));
    }
    return pid;
}

// The tail of what QEMU printed: its last lines are the error.
std::string readLog(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    constexpr size_t kMax = 4096;
    if (text.size() > kMax)
        text = text.substr(text.size() - kMax);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    return text;
}

// Probes running now, so a stopping daemon can end them at once instead of
// waiting up to a second for each (see cancelProbes()).
std::mutex gProbesMu;
std::set<pid_t> gProbes;
bool gProbesCancelled = false;

struct ProbeRegistration {
    explicit ProbeRegistration(pid_t pid) : pid_(pid)
    {
        std::lock_guard lock(gProbesMu);
        if (gProbesCancelled)
            ::kill(pid_, SIGKILL);
        gProbes.insert(pid_);
    }
    ~ProbeRegistration()
    {
        std::lock_guard lock(gProbesMu);
        gProbes.erase(pid_);
    }
    ProbeRegistration(const ProbeRegistration&) = delete;
    ProbeRegistration& operator=(const ProbeRegistration&) = delete;
    pid_t pid_;
};

// Starts `binary` with the probe arguments plus `extra`, runs `ask` on its
// monitor, then makes it quit. Throws ProbeFailure with QEMU's own words.
void runQemu(EventLoop& loop, const std::string& binary, const std::vector<std::string>& extra,
    const std::function<void(Monitor&)>& ask)
{
    TempDir dir;
    std::string sock = dir.path() + "/qmp.sock";
    std::string log = dir.path() + "/qemu.log";
    std::vector<std::string> args = {binary, "-machine", "none", "-nodefaults", "-nographic", "-display", "none",
        "-qmp", "unix:" + sock + ",server=on,wait=off"};
    args.insert(args.end(), extra.begin(), extra.end());
    Child child(spawn(args, log));
    ProbeRegistration registered(child.pid());

    std::string failure;
    bool died = false;
    try {
        auto mon = Monitor::connect(loop, sock, 30s, [&] { return child.alive(); });
        ask(*mon);
        try {
            mon->send("quit");
        } catch (const MonitorClosed&) { }
        if (!child.waitExit(10s))
            child.kill();
        mon->close();
        return;
    } catch (const MonitorClosed& e) {
        failure = e.what();
        died = !child.alive();
    } catch (const QmpError& e) {
        failure = e.cls + ": " + e.desc;
    } catch (const json::ParseError& e) {
        failure = std::string("unexpected QMP reply: ") + e.what();
    }
    // A dying QEMU is still writing its message; a live one is stuck.
    if (!died || !child.waitExit(5s))
        child.kill();
    std::string said = readLog(log);
    if (!said.empty())
        throw ProbeFailure(said);
    throw ProbeFailure(died ? child.describeExit() : failure);
}

// QEMU's target names where libvirt's arch names differ.
std::string libvirtArch(const std::string& target)
{
    if (target == "i386")
        return "i686";
    if (target == "arm")
        return "armv7l";
    return target;
}

bool boolMember(const json::Value& v, std::string_view key)
{
    const json::Value* m = v.find(key);
    return m && m->kind() == json::Value::Kind::Bool && m->asBool();
}

void parseVersion(const json::Value& ret, EmulatorCaps& caps)
{
    const json::Value* q = ret.find("qemu");
    if (!q)
        throw json::ParseError("query-version: no 'qemu' member");
    caps.version = static_cast<uint64_t>(q->integer("major")) * 1000000
        + static_cast<uint64_t>(q->integer("minor")) * 1000 + static_cast<uint64_t>(q->integer("micro"));
    caps.package = ret.str("package");
    while (!caps.package.empty() && caps.package.front() == ' ')
        caps.package.erase(0, 1);
}

void parseMachines(const json::Value& ret, EmulatorCaps& caps)
{
    for (const auto& v : ret.asArray()) {
        MachineType m;
        m.name = v.find("name") ? v.find("name")->asString() : "";
        // libvirt hides 'none': it is the probe's own machine, not a guest's.
        if (m.name.empty() || m.name == "none")
            continue;
        m.alias = v.str("alias");
        m.isDefault = boolMember(v, "is-default");
        m.maxCpus = static_cast<unsigned>(std::max<int64_t>(1, v.integer("cpu-max", 1)));
        m.deprecated = boolMember(v, "deprecated");
        caps.machines.push_back(std::move(m));
    }
    // QMP's order is a hash table's: make it stable, default first as libvirt lists it.
    std::sort(caps.machines.begin(), caps.machines.end(), [](const MachineType& a, const MachineType& b) {
        if (a.isDefault != b.isDefault)
            return a.isDefault;
        return a.name < b.name;
    });
}

std::vector<CpuModel> parseCpuDefinitions(const json::Value& ret)
{
    std::vector<CpuModel> out;
    for (const auto& v : ret.asArray()) {
        CpuModel c;
        c.name = v.find("name") ? v.find("name")->asString() : "";
        if (c.name.empty())
            continue;
        const json::Value* unavailable = v.find("unavailable-features");
        c.usableKnown = unavailable && unavailable->isArray();
        c.usable = !c.usableKnown || unavailable->asArray().empty();
        c.deprecated = boolMember(v, "deprecated");
        c.aliasOf = v.str("alias-of");
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const CpuModel& a, const CpuModel& b) { return a.name < b.name; });
    return out;
}

} // namespace

std::shared_ptr<const EmulatorCaps> CapsCache::probe(const std::string& binary)
{
    if (::access(binary.c_str(), X_OK) != 0)
        throw err::operationFailed("Cannot execute QEMU binary " + binary + ": " + std::strerror(errno));
    ++probes_;
    auto caps = std::make_shared<EmulatorCaps>();
    caps->path = binary;
    try {
        runQemu(loop_, binary, {}, [&](Monitor& mon) {
            parseVersion(mon.execute("query-version"), *caps);
            caps->arch = libvirtArch(mon.execute("query-target").str("arch"));
            parseMachines(mon.execute("query-machines"), *caps);
            caps->cpuModels = parseCpuDefinitions(mon.execute("query-cpu-definitions"));
            json::Value args;
            args.set("implements", "device");
            args.set("abstract", false);
            json::Value types = mon.execute("qom-list-types", args);
            for (const auto& t : types.asArray())
                if (const json::Value* n = t.find("name"))
                    caps->deviceTypes.push_back(n->asString());
            json::Value options = mon.execute("query-command-line-options");
            for (const auto& o : options.asArray())
                caps->seccomp = caps->seccomp || o.str("option") == "sandbox";
        });
    } catch (const ProbeFailure& e) {
        throw err::operationFailed("Failed to probe QEMU binary " + binary + ": " + e.what());
    }
    std::sort(caps->deviceTypes.begin(), caps->deviceTypes.end());
    caps->deviceTypes.erase(std::unique(caps->deviceTypes.begin(), caps->deviceTypes.end()), caps->deviceTypes.end());

    // Only a /dev/kvm we can open is worth a second QEMU; QEMU's own
    // answer decides, since the module may be loaded but unusable.
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        caps->kvmNote = std::string("/dev/kvm: ") + std::strerror(errno);
        return caps;
    }
    ::close(fd);
    try {
        json::Value kvm;
        std::vector<CpuModel> kvmModels;
        runQemu(loop_, binary, {"-accel", "kvm"}, [&](Monitor& mon) {
            kvm = mon.execute("query-kvm");
            kvmModels = parseCpuDefinitions(mon.execute("query-cpu-definitions"));
        });
        caps->kvm = boolMember(kvm, "enabled") && boolMember(kvm, "present");
        if (!caps->kvm)
            caps->kvmNote = std::string("query-kvm under -accel kvm: enabled=")
                + (boolMember(kvm, "enabled") ? "true" : "false")
                + " present=" + (boolMember(kvm, "present") ? "true" : "false");
        for (auto& c : caps->cpuModels) {
            auto it = std::lower_bound(kvmModels.begin(), kvmModels.end(), c.name,
                [](const CpuModel& m, const std::string& n) { return m.name < n; });
            if (caps->kvm && it != kvmModels.end() && it->name == c.name && it->usableKnown)
                c.kvmUsable = it->usable;
        }
    } catch (const ProbeFailure& e) {
        caps->kvmNote = std::string("QEMU refused -accel kvm: ") + e.what();
    } catch (const std::exception& e) {
        caps->kvmNote = std::string("KVM probe failed: ") + e.what();
    }
    return caps;
}

void cancelProbes()
{
    std::lock_guard lock(gProbesMu);
    gProbesCancelled = true;
    for (pid_t pid : gProbes)
        ::kill(pid, SIGKILL);
}

} // namespace virtbus::qemu
