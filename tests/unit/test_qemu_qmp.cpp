// QMP: message shapes, the event loop, and the Monitor against a scripted
// server (fake_qmp.h) and against a real QEMU when one is installed.
#include "fake_qmp.h"
#include "qemu/event_loop.h"
#include "qemu/qmp.h"

#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <future>

using namespace virtbus::qemu;
using namespace std::chrono_literals;
using fakeqmp::Server;
using json::Object;
using json::Value;
using Type = QmpMessage::Type;

namespace {

const auto kAlive = [] { return true; };

std::shared_ptr<Monitor> connectTo(EventLoop& loop, Server& srv, std::chrono::milliseconds timeout = 5s)
{
    return Monitor::connect(loop, srv.path(), timeout, kAlive);
}

// Collects what the handlers see, for tests to wait on.
struct Recorder {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<QmpMessage> events;
    int closes = 0;

    void set(Monitor& mon)
    {
        mon.setHandlers(
            [this](const QmpMessage& m) {
                std::lock_guard lk(mu);
                events.push_back(m);
                cv.notify_all();
            },
            [this] {
                std::lock_guard lk(mu);
                ++closes;
                cv.notify_all();
            });
    }
    bool waitEvents(size_t n)
    {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, 10s, [&] { return events.size() >= n; });
    }
    bool waitClose()
    {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, 10s, [&] { return closes > 0; });
    }
};

} // namespace

// --- parseQmpMessage ---

TEST(QmpMessage, Greeting)
{
    QmpMessage m = parseQmpMessage(fakeqmp::kGreeting);
    EXPECT_EQ(m.type, Type::Greeting);
    EXPECT_EQ(m.body.find("version")->find("qemu")->integer("major"), 7);
    EXPECT_TRUE(m.id.isNull());
}

TEST(QmpMessage, ReturnAndError)
{
    QmpMessage r = parseQmpMessage(R"({"return": {"status": "running"}, "id": 12})");
    EXPECT_EQ(r.type, Type::Return);
    EXPECT_EQ(r.id, Value(12));
    EXPECT_EQ(r.body.str("status"), "running");
    EXPECT_EQ(parseQmpMessage(R"({"return": [1]})").body, json::parse("[1]"));
    EXPECT_TRUE(parseQmpMessage(R"({"return": {}})").id.isNull());
    EXPECT_EQ(parseQmpMessage(R"({"id": "x", "return": 5})").id, Value("x"));

    QmpMessage e = parseQmpMessage(R"({"id": 3, "error": {"class": "GenericError", "desc": "nope"}})");
    EXPECT_EQ(e.type, Type::Error);
    EXPECT_EQ(e.id, Value(3));
    EXPECT_EQ(e.body.str("class"), "GenericError");
    EXPECT_EQ(e.body.str("desc"), "nope");
}

TEST(QmpMessage, Event)
{
    QmpMessage m = parseQmpMessage(
        R"({"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "STOP", "data": {"a": 1}})");
    EXPECT_EQ(m.type, Type::Event);
    EXPECT_EQ(m.event, "STOP");
    EXPECT_EQ(m.body.integer("a"), 1);
    EXPECT_EQ(m.seconds, 1700000000);
    EXPECT_EQ(m.microseconds, 5);
    QmpMessage bare = parseQmpMessage(R"({"event": "RESUME"})");
    EXPECT_TRUE(bare.body.isNull());
    EXPECT_EQ(bare.seconds, 0);
}

TEST(QmpMessage, MalformedShapes)
{
    for (const char* line : {"", "garbage", "[]", "42", "\"return\"", "null", "{}", R"({"id": 1})", R"({"QMP": 1})",
             R"({"QMP": {}, "return": {}})", R"({"return": 1, "error": {"class": "a", "desc": "b"}})",
             R"({"error": "bad"})", R"({"error": {"class": "GenericError"}})", R"({"error": {"desc": "x"}})",
             R"({"error": {"class": 1, "desc": "x"}})", R"({"error": {"class": "a", "desc": null}})", R"({"event": 5})",
             R"({"event": "X", "data": [1]})", R"({"event": "X", "data": "s"})", R"({"event": "X", "timestamp": 5})",
             R"({"event": "X", "timestamp": {"seconds": 1}})",
             R"({"event": "X", "timestamp": {"seconds": "1", "microseconds": 2}})",
             R"({"event": "X", "timestamp": {"seconds": 1.5, "microseconds": 2}})", R"({"return": {}} x)",
             R"({"return": {})"})
        EXPECT_THROW(parseQmpMessage(line), json::ParseError) << line;
}

// --- EventLoop ---

TEST(QmpEventLoop, PostRunsOnTheLoopThread)
{
    EventLoop loop;
    EXPECT_FALSE(loop.onLoopThread());
    std::promise<bool> onLoop;
    loop.post([&] { onLoop.set_value(loop.onLoopThread()); });
    EXPECT_TRUE(onLoop.get_future().get());
}

TEST(QmpEventLoop, RemoveWaitsForARunningCallback)
{
    EventLoop loop;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::promise<void> started;
    std::atomic<bool> finished {false};
    std::atomic<int> calls {0};
    int h = loop.add(fds[0], [&](uint32_t) {
        if (calls++ == 0)
            started.set_value();
        std::this_thread::sleep_for(100ms);
        finished = true;
    });
    ASSERT_EQ(::write(fds[1], "x", 1), 1);
    started.get_future().wait();
    loop.remove(h);
    EXPECT_TRUE(finished);
    int after = calls;
    std::this_thread::sleep_for(50ms); // the pipe stays readable: no further call
    EXPECT_EQ(calls, after);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(QmpEventLoop, RemoveFromItsOwnCallback)
{
    EventLoop loop;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::atomic<int> calls {0};
    std::promise<void> done;
    int h = 0;
    std::mutex hmu;
    {
        std::lock_guard lk(hmu);
        h = loop.add(fds[0], [&](uint32_t) {
            ++calls;
            std::lock_guard lk2(hmu);
            loop.remove(h);
            done.set_value();
        });
    }
    ASSERT_EQ(::write(fds[1], "x", 1), 1);
    done.get_future().wait();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(calls, 1);
    ::close(fds[0]);
    ::close(fds[1]);
}

// --- Monitor against the fake server ---

TEST(QmpMonitor, ConnectsNegotiatesAndExecutes)
{
    Server srv([](Server& s, const Value& cmd) {
        if (cmd.str("execute") == "query-status")
            s.reply(cmd, Object {{"status", Value("running")}, {"running", Value(true)}});
        else
            s.reply(cmd, cmd.find("arguments") ? *cmd.find("arguments") : Value());
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    EXPECT_EQ(mon->greeting().find("version")->str("package"), "fake");
    EXPECT_EQ(mon->execute("query-status").str("status"), "running");
    Value args = json::parse(R"({"device": "drive-0", "size": 18446744073709551615, "s": "\"\n\u00e9"})");
    EXPECT_EQ(mon->execute("echo", args), args);
    auto cmds = srv.commands();
    ASSERT_EQ(cmds.size(), 3u);
    EXPECT_EQ(cmds[0].str("execute"), "qmp_capabilities");
    EXPECT_EQ(cmds[0].find("arguments"), nullptr);
    EXPECT_EQ(cmds[1].find("arguments"), nullptr); // null arguments are omitted
    // Ids are unique and increasing.
    EXPECT_LT(cmds[0].integer("id"), cmds[1].integer("id"));
    EXPECT_LT(cmds[1].integer("id"), cmds[2].integer("id"));
    EXPECT_FALSE(mon->closed());
}

TEST(QmpMonitor, ErrorsCarryClassAndDesc)
{
    Server srv([](Server& s, const Value& cmd) { s.error(cmd, "DeviceNotFound", "Device 'x' not found"); });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    try {
        mon->execute("device_del", Object {{"id", Value("x")}});
        FAIL() << "no QmpError";
    } catch (const QmpError& e) {
        EXPECT_EQ(e.cls, "DeviceNotFound");
        EXPECT_EQ(e.desc, "Device 'x' not found");
        EXPECT_STREQ(e.what(), "Device 'x' not found");
    }
    EXPECT_FALSE(mon->closed()); // an error answer is an answer
}

TEST(QmpMonitor, EventsBeforeHandlersAreQueuedInOrder)
{
    Server srv([](Server& s, const Value& cmd) {
        s.event("SECOND", Object {{"n", Value(2)}});
        s.reply(cmd, Object {});
        s.event("THIRD", Object {});
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    srv.event("FIRST", Object {{"n", Value(1)}}, 1234);
    mon->execute("cont");
    Recorder rec;
    rec.set(*mon);
    ASSERT_TRUE(rec.waitEvents(3));
    srv.event("FOURTH", Value());
    ASSERT_TRUE(rec.waitEvents(4));
    std::lock_guard lk(rec.mu);
    ASSERT_EQ(rec.events.size(), 4u);
    EXPECT_EQ(rec.events[0].event, "FIRST");
    EXPECT_EQ(rec.events[0].body.integer("n"), 1);
    EXPECT_EQ(rec.events[0].seconds, 1234);
    EXPECT_EQ(rec.events[0].microseconds, 42);
    EXPECT_EQ(rec.events[1].event, "SECOND");
    EXPECT_EQ(rec.events[2].event, "THIRD");
    EXPECT_EQ(rec.events[3].event, "FOURTH");
    EXPECT_TRUE(rec.events[3].body.isNull());
}

TEST(QmpMonitor, EventInTheSameReadAsTheCapabilitiesAnswer)
{
    // The greeting, the answer and an event all arrive at once.
    std::string greeting
        = std::string(fakeqmp::kGreeting) + "\n" + json::serialize(Server::eventValue("EARLY", Object {})) + "\n";
    Server srv(nullptr, greeting);
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    Recorder rec;
    rec.set(*mon);
    ASSERT_TRUE(rec.waitEvents(1));
    std::lock_guard lk(rec.mu);
    EXPECT_EQ(rec.events[0].event, "EARLY");
}

TEST(QmpMonitor, OutOfOrderReplies)
{
    std::vector<Value> held;
    Server srv([&](Server& s, const Value& cmd) {
        held.push_back(cmd);
        if (held.size() < 2)
            return;
        // Newest first, each answer naming its command.
        for (auto it = held.rbegin(); it != held.rend(); ++it)
            s.reply(*it, Object {{"for", Value(it->str("execute"))}});
        held.clear();
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    auto a = std::async(std::launch::async, [&] { return mon->execute("alpha").str("for"); });
    ASSERT_TRUE(srv.waitForCommands(2)); // alpha is in before beta is sent
    auto b = std::async(std::launch::async, [&] { return mon->execute("beta").str("for"); });
    EXPECT_EQ(b.get(), "beta");
    EXPECT_EQ(a.get(), "alpha");
}

TEST(QmpMonitor, PartialLinesAndSeveralMessagesPerWrite)
{
    Server srv([](Server& s, const Value& cmd) {
        std::string line = json::serialize(Value(
                               Object {{"return", Value(Object {{"ok", Value(true)}})}, {"id", Server::idOf(cmd)}}))
            + "\r\n";
        std::string ev = json::serialize(Server::eventValue("E", Object {})) + "\n";
        std::string all = ev + line.substr(0, 7);
        s.write(all);
        for (char c : line.substr(7)) {
            std::this_thread::sleep_for(1ms);
            s.write(std::string_view(&c, 1));
        }
        s.write("\n\r\n" + ev + ev); // blank lines are skipped
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    EXPECT_TRUE(mon->execute("x").boolean("ok"));
    Recorder rec;
    rec.set(*mon);
    EXPECT_TRUE(rec.waitEvents(3));
    EXPECT_FALSE(mon->closed());
}

TEST(QmpMonitor, CloseMidCommand)
{
    Server srv([](Server& s, const Value&) { s.hangup(); });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    Recorder rec;
    rec.set(*mon);
    EXPECT_THROW(mon->execute("stop"), MonitorClosed);
    ASSERT_TRUE(rec.waitClose());
    EXPECT_TRUE(mon->closed());
    EXPECT_THROW(mon->execute("stop"), MonitorClosed);
    EXPECT_THROW(mon->send("quit"), MonitorClosed);
    std::this_thread::sleep_for(20ms);
    std::lock_guard lk(rec.mu);
    EXPECT_EQ(rec.closes, 1);
}

TEST(QmpMonitor, CloseBeforeHandlersAreSetStillReportsIt)
{
    Server srv;
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    srv.event("LAST", Object {});
    srv.hangup();
    for (int i = 0; i < 1000 && !mon->closed(); ++i)
        std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(mon->closed());
    Recorder rec;
    rec.set(*mon);
    ASSERT_TRUE(rec.waitClose());
    std::lock_guard lk(rec.mu);
    ASSERT_EQ(rec.events.size(), 1u); // delivered before the close
    EXPECT_EQ(rec.events[0].event, "LAST");
}

TEST(QmpMonitor, TimeoutDoesNotCloseTheMonitor)
{
    Value stalled;
    Server srv([&](Server& s, const Value& cmd) {
        if (cmd.str("execute") == "hang") {
            stalled = cmd;
            return;
        }
        if (!stalled.isNull()) // the late answer first: it must be dropped
            s.reply(stalled, Object {{"late", Value(true)}});
        s.reply(cmd, Object {{"late", Value(false)}});
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    auto t0 = std::chrono::steady_clock::now();
    try {
        mon->execute("hang", {}, 100ms);
        FAIL() << "no timeout";
    } catch (const MonitorClosed& e) {
        EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
    }
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
    EXPECT_FALSE(mon->closed());
    EXPECT_FALSE(mon->execute("next").boolean("late", true));
}

TEST(QmpMonitor, ErrorsWithoutIdGoToTheOldestCommand)
{
    // QEMU answers a command it cannot parse without an id, in order.
    Server srv([](Server& s, const Value& cmd) {
        std::string what = cmd.str("execute");
        if (what == "hang")
            return;
        auto noId = [&](const std::string& desc) {
            s.writeLine(json::parse(R"({"error": {"class": "GenericError", "desc": ")" + desc + "\"}}"));
        };
        if (what == "bad") {
            noId("for hang"); // the timed-out command's answer: dropped
            noId("for bad");
        } else {
            s.reply(cmd, Object {});
        }
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    EXPECT_THROW(mon->execute("hang", {}, 50ms), MonitorClosed);
    try {
        mon->execute("bad");
        FAIL() << "no QmpError";
    } catch (const QmpError& e) {
        EXPECT_EQ(e.desc, "for bad");
    }
    EXPECT_TRUE(mon->execute("good").isObject());
}

TEST(QmpMonitor, ConcurrentExecutes)
{
    Server srv([](Server& s, const Value& cmd) { s.reply(cmd, *cmd.find("arguments")); });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    std::atomic<int> good {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                Value args = Object {{"thread", Value(t)}, {"i", Value(i)}};
                if (mon->execute("echo", args) == args)
                    ++good;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(good, 800);
}

TEST(QmpMonitor, ProtocolErrorClosesTheMonitor)
{
    Server srv([](Server& s, const Value&) { s.write("{\"return\": oops}\n"); });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    Recorder rec;
    rec.set(*mon);
    try {
        mon->execute("x");
        FAIL() << "no MonitorClosed";
    } catch (const MonitorClosed& e) {
        EXPECT_NE(std::string(e.what()).find("protocol error"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(rec.waitClose());
    EXPECT_TRUE(srv.waitForHangup()); // the socket is really closed
}

TEST(QmpMonitor, OverlongLineClosesTheMonitor)
{
    Server srv([](Server& s, const Value&) {
        std::string junk(1u << 20, 'x');
        s.write("{\"return\": \"");
        for (int i = 0; i < 65; ++i) // 65 MiB, no newline
            s.write(junk);
    });
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    Recorder rec;
    rec.set(*mon);
    EXPECT_THROW(mon->execute("x"), MonitorClosed);
    EXPECT_TRUE(rec.waitClose());
}

TEST(QmpMonitor, CloseIsIdempotentAndSilent)
{
    Server srv([](Server&, const Value&) {}); // never answers
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    Recorder rec;
    rec.set(*mon);
    auto pending = std::async(std::launch::async, [&] { return mon->execute("hang"); });
    ASSERT_TRUE(srv.waitForCommands(2));
    mon->close();
    EXPECT_THROW(pending.get(), MonitorClosed);
    mon->close();
    EXPECT_TRUE(mon->closed());
    EXPECT_THROW(mon->execute("x"), MonitorClosed);
    EXPECT_TRUE(srv.waitForHangup());
    std::this_thread::sleep_for(20ms);
    std::lock_guard lk(rec.mu);
    EXPECT_EQ(rec.closes, 0); // close() is not a peer hangup
}

TEST(QmpMonitor, EventHandlerMayClose)
{
    Server srv;
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    std::promise<void> eventSeen;
    std::atomic<int> closes {0};
    mon->setHandlers(
        [&](const QmpMessage&) {
            mon->close(); // on the loop thread: must not wait for itself
            eventSeen.set_value();
        },
        [&] { ++closes; });
    srv.event("BYE", Object {});
    srv.event("NEVER", Object {}); // same read: dropped by the close
    ASSERT_EQ(eventSeen.get_future().wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(mon->closed());
    EXPECT_TRUE(srv.waitForHangup());
    EXPECT_EQ(closes, 0);
}

TEST(QmpMonitor, CloseHandlerMayCloseAndDropTheLastReference)
{
    Server srv;
    srv.listen();
    EventLoop loop;
    std::shared_ptr<Monitor> mon = connectTo(loop, srv);
    std::weak_ptr<Monitor> weak = mon;
    std::promise<void> done;
    auto holder = std::make_shared<std::shared_ptr<Monitor>>(mon);
    mon->setHandlers(nullptr, [holder, &done] {
        (*holder)->close();
        holder->reset(); // the last reference outside the loop's own
        done.set_value();
    });
    mon.reset();
    srv.hangup();
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    for (int i = 0; i < 1000 && !weak.expired(); ++i)
        std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(weak.expired());
}

TEST(QmpMonitor, ExecuteOnTheLoopThreadIsRefused)
{
    Server srv;
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    std::promise<bool> refused;
    loop.post([&] {
        try {
            mon->execute("x");
            refused.set_value(false);
        } catch (const std::logic_error&) {
            refused.set_value(true);
        }
    });
    EXPECT_TRUE(refused.get_future().get());
}

TEST(QmpMonitor, SendDoesNotWait)
{
    Server srv([](Server&, const Value&) {}); // never answers
    srv.listen();
    EventLoop loop;
    auto mon = connectTo(loop, srv);
    mon->send("quit", Object {{"force", Value(true)}});
    ASSERT_TRUE(srv.waitForCommands(2));
    EXPECT_EQ(srv.commands()[1].str("execute"), "quit");
    EXPECT_TRUE(srv.commands()[1].find("arguments")->boolean("force"));
}

TEST(QmpMonitor, ConnectRetriesUntilTheSocketAppears)
{
    Server srv;
    EventLoop loop;
    auto late = std::async(std::launch::async, [&] {
        std::this_thread::sleep_for(50ms);
        srv.listen();
    });
    auto mon = connectTo(loop, srv);
    late.get();
    EXPECT_TRUE(mon->execute("x").isObject());
}

TEST(QmpMonitor, ConnectGivesUp)
{
    EventLoop loop;
    Server srv; // never listens
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(Monitor::connect(loop, srv.path(), 100ms, kAlive), MonitorClosed);
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 100ms);
    EXPECT_LT(took, 2s);
    // A dead process stops the wait at once.
    t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(Monitor::connect(loop, srv.path(), 10s, [] { return false; }), MonitorClosed);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_THROW(Monitor::connect(loop, "/tmp/" + std::string(200, 'x'), 10ms, kAlive), MonitorClosed);
}

TEST(QmpMonitor, ConnectRejectsBadPeers)
{
    EventLoop loop;
    {
        Server silent(nullptr, ""); // accepts and says nothing
        silent.listen();
        EXPECT_THROW(connectTo(loop, silent, 100ms), MonitorClosed);
    }
    {
        Server wrong(nullptr, R"({"return": {}})");
        wrong.listen();
        EXPECT_THROW(connectTo(loop, wrong), MonitorClosed);
    }
    {
        Server garbage(nullptr, "hello");
        garbage.listen();
        EXPECT_THROW(connectTo(loop, garbage), MonitorClosed);
    }
}

// --- against a real QEMU ---

TEST(QmpRealQemu, QueryAndQuit)
{
    const char* qemu = "/usr/bin/qemu-system-x86_64";
    if (access(qemu, X_OK) != 0)
        GTEST_SKIP() << qemu << " is not installed";
    Server dir; // only for its temporary directory
    std::string spec = "unix:" + dir.path() + ",server=on,wait=off";
    std::vector<std::string> args = {qemu, "-machine", "none", "-nodefaults", "-display", "none", "-qmp", spec};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    ASSERT_EQ(posix_spawn(&pid, qemu, nullptr, nullptr, argv.data(), environ), 0);
    bool reaped = false;
    auto alive = [&] {
        if (!reaped && waitpid(pid, nullptr, WNOHANG) == pid)
            reaped = true;
        return !reaped;
    };
    EventLoop loop;
    std::shared_ptr<Monitor> mon;
    try {
        mon = Monitor::connect(loop, dir.path(), 10s, alive);
    } catch (...) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        throw;
    }
    EXPECT_GE(mon->greeting().find("version")->find("qemu")->integer("major"), 2);
    Recorder rec;
    rec.set(*mon);
    Value version = mon->execute("query-version");
    EXPECT_TRUE(version.find("qemu")->find("major")->isNumber());
    Value status = mon->execute("query-status");
    EXPECT_TRUE(status.find("status")->isString()) << json::serialize(status);
    EXPECT_THROW(mon->execute("no-such-command"), QmpError);
    // A descriptor passed with getfd is QEMU's under that name: closefd
    // knows it once, and never a name that was not passed.
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    mon->executeWithFd("getfd", Value(Object {{"fdname", Value("passed")}}), p[1]);
    ::close(p[1]);
    EXPECT_THROW(mon->execute("closefd", Value(Object {{"fdname", Value("never")}})), QmpError);
    mon->execute("closefd", Value(Object {{"fdname", Value("passed")}}));
    EXPECT_THROW(mon->execute("closefd", Value(Object {{"fdname", Value("passed")}})), QmpError);
    // With every writer closed (ours and QEMU's copy), the pipe reads EOF.
    char c;
    EXPECT_EQ(::read(p[0], &c, 1), 0);
    ::close(p[0]);
    try {
        mon->execute("quit");
    } catch (const MonitorClosed&) {
        // QEMU may exit before its answer is read.
    }
    EXPECT_TRUE(rec.waitClose());
    if (!reaped) {
        EXPECT_EQ(waitpid(pid, nullptr, 0), pid);
    }
    EXPECT_TRUE(mon->closed());
}
