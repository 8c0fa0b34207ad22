#include "command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fileutil.h"

namespace virtbus {

namespace {

std::string findInPath(const std::string& program)
{
    if (program.find('/') != std::string::npos)
        return program;
    const char* env = getenv("PATH");
    std::string path = env && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos)
            end = path.size();
        std::string candidate = path.substr(start, end - start) + "/" + program;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    return {};
}

std::string quoted(const std::vector<std::string>& argv)
{
    std::string s;
    for (const auto& a : argv) {
        if (!s.empty())
            s += ' ';
        s += a;
    }
    return s;
}

// Everything the child needs, prepared before fork: after it only
// async-signal-safe calls are allowed.
struct Exec {
    std::string path;
    std::vector<char*> argv;
    std::vector<char*> envp;
};

[[noreturn]] void child(const Exec& e, int in, int out, int err)
{
    if (in < 0)
        in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)
        _exit(127);
    // Nothing else of the daemon's (bus socket, QMP sockets) leaks into it.
    if (::close_range(3, ~0U, 0) != 0) {
        long max = ::sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < (max > 0 ? max : 1024); ++fd)
            ::close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    ::execve(e.path.c_str(), e.argv.data(), e.envp.data());
    _exit(127);
}

} // namespace

bool haveProgram(const std::string& program) { return !findInPath(program).empty(); }

CommandResult runCommand(const std::vector<std::string>& argv, const CommandOptions& opts, ErrDomain domain)
{
    Exec e;
    e.path = argv.empty() ? std::string() : findInPath(argv[0]);
    if (e.path.empty())
        throw makeError(
            ErrCode::InternalError, domain, "Cannot find '" + (argv.empty() ? std::string() : argv[0]) + "' in path");
    std::vector<std::string> args(argv);
    for (auto& a : args)
        e.argv.push_back(a.data());
    e.argv.push_back(nullptr);
    // A fixed environment: tools' messages stay in English (they end up in
    // error messages) and nothing of the caller's reaches them.
    std::vector<std::string> env {"LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    for (auto& v : env)
        e.envp.push_back(v.data());
    e.envp.push_back(nullptr);

    int outPipe[2], errPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0)
        throw systemError(domain, "cannot create pipe", errno);
    if (::pipe2(errPipe, O_CLOEXEC) != 0) {
        int saved = errno;
        ::close(outPipe[0]);
        ::close(outPipe[1]);
        throw systemError(domain, "cannot create pipe", saved);
    }
    int inPipe[2] = {-1, -1};
    // A socket rather than a pipe: send() with MSG_NOSIGNAL cannot kill
    // the daemon with SIGPIPE when the tool exits without reading.
    if (!opts.input.empty() && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inPipe) != 0) {
        int saved = errno;
        for (int fd : {outPipe[0], outPipe[1], errPipe[0], errPipe[1]})
            ::close(fd);
        throw systemError(domain, "cannot create pipe", saved);
    }
    pid_t pid = ::fork();
    if (pid == 0)
        child(e, inPipe[0], outPipe[1], errPipe[1]);
    int forkErr = errno;
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    if (inPipe[0] >= 0) {
        ::close(inPipe[0]);
        // Inputs are small scripts (a partition table): they fit the pipe.
        if (pid > 0) {
            size_t done = 0;
            while (done < opts.input.size()) {
                ssize_t w = ::send(inPipe[1], opts.input.data() + done, opts.input.size() - done, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    break;
                done += size_t(w);
            }
        }
        ::close(inPipe[1]);
    }
    if (pid < 0) {
        ::close(outPipe[0]);
        ::close(errPipe[0]);
        throw systemError(domain, "cannot fork child process", forkErr);
    }

    CommandResult res;
    auto deadline = std::chrono::steady_clock::now() + opts.timeout;
    struct pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&res.out, &res.err};
    int open = 2;
    char buf[65536];
    while (open > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            res.timedOut = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            break;
        }
        int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                size_t room = opts.maxOutput > sinks[i]->size() ? opts.maxOutput - sinks[i]->size() : 0;
                sinks[i]->append(buf, std::min<size_t>(room, static_cast<size_t>(got)));
            } else if (got == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0)
            ::close(f.fd);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) { }
    res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return res;
}

CommandResult runChecked(const std::vector<std::string>& argv, ErrDomain domain, const CommandOptions& opts)
{
    CommandResult r = runCommand(argv, opts, domain);
    if (r.timedOut)
        throw makeError(ErrCode::InternalError, domain, "Child process (" + quoted(argv) + ") timed out");
    if (r.status != 0) {
        std::string msg = r.err.empty() ? r.out : r.err;
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
            msg.pop_back();
        if (msg.size() > 1024)
            msg.resize(1024);
        // libvirt's virCommandRun wording for a child that failed.
        throw makeError(ErrCode::InternalError, domain,
            "Child process (" + quoted(argv) + ") unexpected exit status " + std::to_string(r.status)
                + (msg.empty() ? "" : ": " + msg));
    }
    return r;
}

} // namespace virtbus
