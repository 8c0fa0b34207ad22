// The QEMU driver's runtime records and process helpers: what a restarted
// virtbusd relies on to find its guests again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "error.h"
#include "fileutil.h"
#include "qemu/qemu_internal.h"

using namespace virtbus;
using namespace virtbus::qemu;

namespace {

std::string tempDir()
{
    char tmpl[] = "/tmp/virtbus-qemu-state-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    return tmpl;
}

void waitGone(int pidfd)
{
    for (int i = 0; i < 500 && !pidfdExited(pidfd); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

} // namespace

TEST(QemuStatus, RoundTrip)
{
    Status s;
    s.pid = 4242;
    s.startTime = 123456789;
    s.id = 7;
    s.state = Paused;
    s.reason = PausedUser;
    s.autodestroy = true;
    s.persistent = true;
    s.liveXML = "<domain type='qemu'>\n\n  <name>x</name>\n</domain>\n";
    auto back = parseStatus(formatStatus(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->pid, 4242);
    EXPECT_EQ(back->startTime, 123456789u);
    EXPECT_EQ(back->id, 7);
    EXPECT_EQ(back->state, Paused);
    EXPECT_EQ(back->reason, PausedUser);
    EXPECT_TRUE(back->autodestroy);
    EXPECT_TRUE(back->persistent);
    EXPECT_EQ(back->liveXML, s.liveXML);
}

TEST(QemuStatus, NewerKeysAreIgnored)
{
    auto s = parseStatus("pid=10\nstarttime=5\nid=1\nfuture=3\n");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->pid, 10);
}

TEST(QemuStatus, BrokenRecordsAreRefused)
{
    for (const char* text : {"", "pid=10\nid=1\n", "pid=10\nstarttime=5\n", "pid=abc\nstarttime=5\nid=1\n",
                             "pid=1\nstarttime=5\nid=1\n", "pid=-4\nstarttime=5\nid=1\n",
                             "pid=10\nstarttime=0\nid=1\n", "pid=10\nstarttime=5\nid=0\n", "garbage\n",
                             "pid=10\nstarttime=5\nid=99999999999999999999\n", "pid=10 \nstarttime=5\nid=1\n"})
        EXPECT_FALSE(parseStatus(text)) << text;
}

TEST(QemuNames, FileNamesStayInTheirDirectory)
{
    EXPECT_NO_THROW(checkDomainName("guest-1"));
    EXPECT_NO_THROW(checkDomainName("with space"));
    for (const std::string& bad : std::vector<std::string>{"", ".", "..", ".hidden", "a/b", "../etc/passwd", "a\nb",
                                  std::string(201, 'x')})
        EXPECT_THROW(checkDomainName(bad), VirtError) << bad;
}

TEST(QemuProcess, DaemonOutlivesItsLauncherAndIsRecognised)
{
    std::string dir = tempDir();
    std::string log = dir + "/log";
    int logFd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(logFd, 0);
    pid_t pid = spawnDaemon({"/bin/sh", "-c", "echo started; exec sleep 30"}, logFd, {});
    close(logFd);
    ASSERT_GT(pid, 1);
    // Not our child: the launcher reparented it away.
    EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
    // A session of its own, not virtbusd's (the launcher leads it).
    EXPECT_NE(getsid(pid), getsid(0));
    EXPECT_NE(getpgid(pid), getpgid(0));
    uint64_t t0 = 0;
    // Until the shell has exec'd sleep (argv[0] "sleep"): its own command
    // line names sleep too, before it has even echoed.
    for (int i = 0; i < 200 && processCmdline(pid).rfind("sleep", 0) != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    t0 = processStartTime(pid);
    EXPECT_GT(t0, 0u);
    EXPECT_EQ(processCmdline(pid).rfind("sleep", 0), 0u);
    int pidfd = openPidfd(pid);
    ASSERT_GE(pidfd, 0);
    EXPECT_FALSE(pidfdExited(pidfd));
    EXPECT_EQ(logTail(log), "started");

    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    waitGone(pidfd);
    EXPECT_TRUE(pidfdExited(pidfd));
    // Gone (or a zombie nobody reaped): never mistaken for the guest again.
    EXPECT_EQ(processStartTime(pid), 0u);
    close(pidfd);
}

TEST(QemuProcess, ExecFailureShowsInTheLog)
{
    std::string dir = tempDir();
    std::string log = dir + "/log";
    int logFd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t pid = spawnDaemon({"/nonexistent/qemu"}, logFd, {});
    close(logFd);
    int pidfd = openPidfd(pid);
    if (pidfd >= 0) {
        waitGone(pidfd);
        close(pidfd);
    }
    for (int i = 0; i < 100 && logTail(log).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_NE(logTail(log).find("cannot execute the emulator: No such file or directory"), std::string::npos)
        << logTail(log);
}

TEST(QemuProcess, OnlyChosenDescriptorsAreInherited)
{
    std::string dir = tempDir();
    std::string log = dir + "/log";
    int logFd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int keep = open("/dev/null", O_RDONLY); // deliberately not CLOEXEC
    int leak = open("/dev/null", O_RDONLY); // neither: must still be closed
    pid_t pid = spawnDaemon({"/bin/sh", "-c", "ls /proc/self/fd"}, logFd, {keep});
    close(logFd);
    int pidfd = openPidfd(pid);
    if (pidfd >= 0) {
        waitGone(pidfd);
        close(pidfd);
    }
    std::string out = "\n" + logTail(log) + "\n";
    EXPECT_NE(out.find("\n" + std::to_string(keep) + "\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("\n" + std::to_string(leak) + "\n"), std::string::npos) << out;
    close(keep);
    close(leak);
}

TEST(QemuProcess, LogTailKeepsWholeLines)
{
    std::string dir = tempDir();
    std::string path = dir + "/log";
    std::string text;
    for (int i = 0; i < 1000; ++i)
        text += "line " + std::to_string(i) + "\n";
    writeFileAtomic(path, text, "test", ErrDomain::Qemu);
    std::string tail = logTail(path, 100);
    EXPECT_LE(tail.size(), 100u);
    EXPECT_EQ(tail.rfind("line 999"), tail.size() - 8);
    EXPECT_EQ(tail.rfind("line ", 0), 0u);
    EXPECT_EQ(logTail(dir + "/missing"), "");
}

TEST(QemuProcess, FreePortSkipsTakenOnes)
{
    int first = findFreePort("127.0.0.1", 15900, 15999);
    ASSERT_GE(first, 15900);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(first));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(s, 1), 0);
    EXPECT_GT(findFreePort("127.0.0.1", first, first + 50), first);
    EXPECT_EQ(findFreePort("127.0.0.1", first, first), -1);
    close(s);
}

TEST(QemuFiles, AtomicWriteReplacesWholeFiles)
{
    std::string dir = tempDir();
    std::string path = dir + "/x.status";
    writeFileAtomic(path, "one", "test", ErrDomain::Qemu);
    writeFileAtomic(path, "two", "test", ErrDomain::Qemu);
    EXPECT_EQ(readFile(path).value_or(""), "two");
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_THROW(writeFileAtomic(dir + "/missing/x", "y", "test", ErrDomain::Qemu), VirtError);
    makeDirs(dir + "/a/b/c", 0700, ErrDomain::Qemu);
    EXPECT_EQ(stat((dir + "/a/b/c").c_str(), &st), 0);
}
