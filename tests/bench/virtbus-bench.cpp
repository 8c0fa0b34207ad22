// virtbus-bench: virtbusd side by side with a raw sd-bus echo server (the
// physical limit of a round trip) and, when installed, Debian's libvirt-dbus,
// all on one private dbus-daemon in one run, so the ratios hold whatever the
// machine's speed and load. Prints a markdown table (and --output FILE).
//
// virtbusd and libvirt-dbus both own org.libvirt and both exit when they
// can't, so at most one server runs at a time; fairness comes from
// interleaving: restarts, latency rounds and throughput points alternate
// between targets, in alternating order, so a load change on the shared
// machine hits all of them alike.
// Every phase is bounded in calls or seconds; the bench stops by itself.
#include <getopt.h>

#include <atomic>
#include <ctime>
#include <thread>

#include "bench_runner.h"

namespace bench {

namespace {

// Properties.Get of the Name property; returns the value only when asked,
// so the timed loop pays for nothing but the round trip.
std::string getName(sd_bus* b, const Target& t, bool read = false)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(
        b, t.name.c_str(), t.getPath, "org.freedesktop.DBus.Properties", "Get", &e, &reply, "ss", t.getIface, "Name");
    check(r, e, "Properties.Get");
    std::string value;
    const char* s = nullptr;
    if (read && sd_bus_message_read(reply, "v", "s", &s) >= 0)
        value = s;
    sd_bus_message_unref(reply);
    return value;
}

// The trivial method: Connect.ListDomains(0) on the initial world, Echo(s).
void callMethod(sd_bus* b, const Target& t)
{
    if (t.libvirt) {
        listDomains(b, t.name, TestConnect, false);
        return;
    }
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(
        b, t.name.c_str(), "/org/virtbus/Echo", "org.virtbus.Echo", "Echo", &e, &reply, "s", "ping");
    sd_bus_message_unref(reply);
    check(r, e, "method");
}

} // namespace

Bench::Bench(const Options& o, const std::string& address, const std::string& logDir, const std::string& qemuDir,
    std::vector<Target>& targets) :
    opt_(o),
    address_(address),
    logDir_(logDir),
    qemuDir_(qemuDir),
    targets_(targets),
    watcher_(address),
    client_(connectBus(address))
{
    for (auto& t : targets_) {
        watcher_.watch(t.name);
        if (t.virtbus)
            t.env = qemuEnv(qemuDir_ + "/config");
    }
}

Bench::~Bench() { sd_bus_flush_close_unref(client_); }

std::vector<std::string> Bench::qemuEnv(const std::string& configDir) const
{
    return {"VIRTBUS_QEMU_CONFIG_DIR=" + configDir, "VIRTBUS_QEMU_AUTOSTART_DIR=" + configDir + "/autostart",
        "VIRTBUS_QEMU_STATE_DIR=" + qemuDir_ + "/state", "VIRTBUS_QEMU_LOG_DIR=" + qemuDir_ + "/log",
        "VIRTBUS_QEMU_CACHE_DIR=" + qemuDir_ + "/cache"};
}

// (1) exec -> name owned, restarts interleaved between targets, in
// alternating order (as every phase below); median reported.
void Bench::startup()
{
    for (int i = 0; i < opt_.restarts; ++i)
        forEach(
            [&](Target& t) {
                double startedUs = 0;
                pid_t pid = launch(t, &startedUs);
                t.r.startMs.push_back(startedUs / 1000.0);
                halt(t, pid);
            },
            i % 2 == 1);
}

// (2) one client, calls in rounds that alternate between targets; RSS at
// name-owned and after warm-up (lazy state such as libvirt-dbus' connection
// to test:///default is then in place).
void Bench::latency()
{
    const int rounds = 10, per = std::max(1, opt_.calls / rounds);
    for (int round = 0; round < rounds; ++round)
        forEach(
            [&](Target& t) {
                pid_t pid = launch(t, nullptr);
                if (round == 0)
                    t.r.rssStart = rssKb(pid);
                std::string name = getName(client_, t, true);
                if (name != (t.libvirt ? "test" : "virtbus-echo"))
                    throw std::runtime_error("unexpected Name '" + name + "'");
                for (int i = 0; i < 1000; ++i)
                    getName(client_, t);
                for (int i = 0; i < 200; ++i)
                    callMethod(client_, t);
                if (round == 0)
                    t.r.rssIdle = rssKb(pid);
                double cpu0 = cpuNs(pid);
                for (int i = 0; i < per; ++i) {
                    double t0 = nowUs();
                    getName(client_, t);
                    t.r.getUs.push_back(nowUs() - t0);
                }
                double cpu1 = cpuNs(pid);
                for (int i = 0; i < per; ++i) {
                    double t0 = nowUs();
                    callMethod(client_, t);
                    t.r.methodUs.push_back(nowUs() - t0);
                }
                t.r.getCpuNs += cpu1 - cpu0;
                t.r.methodCpuNs += cpuNs(pid) - cpu1;
                halt(t, pid);
            },
            round % 2 == 1);
}

// (3) 1, 4 and 16 threads, each with its own connection, Properties.Get in a
// closed loop for a fixed time. Each point is half a run per target in one
// order and half in the reverse order, so a load change on the shared
// machine during a point weighs on every target alike.
void Bench::throughput()
{
    for (int clients : {1, 4, 16})
        for (bool reverse : {false, true})
            forEach(
                [&](Target& t) {
                    pid_t pid = launch(t, nullptr);
                    for (int i = 0; i < 200; ++i)
                        getName(client_, t);
                    t.r.throughput[clients] += runClients(t, clients, opt_.duration / 2) / 2;
                    halt(t, pid);
                },
                reverse);
}

// (4)+(5) ListDomains at 1, 1,000 and 10,000 domains, and reading the name
// and state of all of them; RSS at the top. The domains live in one
// process, so this phase cannot alternate between targets.
void Bench::domains()
{
    forEach([&](Target& t) {
        if (!t.libvirt)
            return;
        pid_t pid = launch(t, nullptr);
        for (int i = 0; i < 200; ++i)
            getName(client_, t);
        size_t have = listDomains(client_, t.name, TestConnect, true);
        // The per-domain figure is relative to this same process just
        // before its first define, not to another instance's idle RSS.
        t.r.rssBeforeDefine = rssKb(pid);
        double defineTotalUs = 0;
        for (int nominal : domainLevels(opt_)) {
            double t0 = nowUs();
            for (; have < size_t(nominal); ++have, ++t.r.domainsAdded)
                defineDomain(client_, t.name, TestConnect, testDomainXml("bench-" + std::to_string(have)));
            defineTotalUs += nowUs() - t0;
            size_t listed = listDomains(client_, t.name, TestConnect, true);
            if (listed != have)
                throw std::runtime_error(
                    "ListDomains returned " + std::to_string(listed) + " domains, expected " + std::to_string(have));
            if (nominal == opt_.domains)
                t.r.rssDomains = rssKb(pid);
            t.r.list[nominal] = listLatency(t, pid, listed);
            if (nominal == 1)
                continue;
            auto byGetAll = [&] { return namesByGetAll(client_, t.name, TestConnect); };
            if (t.virtbus) {
                t.r.names[nominal]
                    = namesLatency(pid, have, [&] { return namesByManagedObjects(client_, t.name, TestConnect); });
                t.r.namesGetAll[nominal] = namesLatency(pid, have, byGetAll);
            } else {
                t.r.names[nominal] = namesLatency(pid, have, byGetAll);
            }
        }
        t.r.rssListed = rssKb(pid);
        if (t.r.domainsAdded > 0)
            t.r.defineUs = defineTotalUs / double(t.r.domainsAdded);
        halt(t, pid);
    });
}

// Runs fn for every target still healthy; a failure disables that target
// (recorded with its log's tail) and the others go on.
void Bench::forEach(const std::function<void(Target&)>& fn, bool reverse)
{
    for (size_t i = 0; i < targets_.size(); ++i) {
        Target& t = targets_[reverse ? targets_.size() - 1 - i : i];
        if (!t.ok())
            continue;
        try {
            fn(t);
        } catch (const std::exception& e) {
            t.r.error = e.what();
            std::string log = readFile(logPath(t));
            if (log.size() > 400)
                log = log.substr(log.size() - 400);
            fprintf(stderr, "virtbus-bench: %s: %s\n%s", t.label.c_str(), e.what(), log.c_str());
            if (running_ > 0)
                halt(t, running_);
        }
    }
}

// Starts t and waits until its name is owned. The clock starts before the
// spawn, so the figure includes exec, dynamic linking and setup.
pid_t Bench::launch(Target& t, double* startedUs)
{
    double t0 = nowUs();
    pid_t pid = spawn(t.argv, logPath(t), t.env);
    running_ = pid;
    // Generous: a start with 10,000 definitions on a loaded machine.
    auto at = watcher_.wait(t.name, true, pid, 60e6);
    if (!at)
        throw std::runtime_error("did not own " + t.name + " within 60 s (or exited)");
    if (startedUs)
        *startedUs = *at - t0;
    return pid;
}

// Stops t and waits for the bus to free its name, so the next start never
// races the previous owner.
void Bench::halt(Target& t, pid_t pid)
{
    stopProcess(pid);
    running_ = -1;
    watcher_.wait(t.name, false, -1, 5e6);
}

ListResult Bench::listLatency(const Target& t, pid_t pid, size_t count)
{
    // Bounded both ways: at most 2,000 calls or ~2 s, at least 5 calls.
    std::vector<double> us;
    double cpu0 = cpuNs(pid), until = nowUs() + 2e6;
    while (us.size() < 2000 && (us.size() < 5 || nowUs() < until)) {
        double t0 = nowUs();
        listDomains(client_, t.name, TestConnect, false);
        us.push_back(nowUs() - t0);
    }
    double cpuUs = (cpuNs(pid) - cpu0) / 1000.0 / double(us.size());
    return {count, percentile(us, 50), percentile(us, 99), cpuUs, us.size()};
}

// Whole reads of every domain's name and state, checked each time: all
// `expected` names, and only the test world's `test` domain running.
// At least 3 reads (libvirt-dbus' way takes seconds at 10,000), else ~2 s.
NamesResult Bench::namesLatency(pid_t pid, size_t expected, const std::function<NamesStates()>& read) const
{
    NamesResult res;
    double cpu0 = cpuNs(pid), until = nowUs() + 2e6;
    while (res.ms.size() < 50 && (res.ms.size() < 3 || nowUs() < until)) {
        double t0 = nowUs();
        NamesStates got = read();
        res.ms.push_back((nowUs() - t0) / 1000.0);
        if (got.names.size() != expected || got.active != 1)
            throw std::runtime_error("read " + std::to_string(got.names.size()) + " domain names ("
                + std::to_string(got.active) + " active), expected " + std::to_string(expected) + " (1 active)");
    }
    res.count = expected;
    res.serverCpuMs = (cpuNs(pid) - cpu0) / 1e6 / double(res.ms.size());
    return res;
}

double Bench::runClients(const Target& t, int clients, double seconds)
{
    std::atomic<int> ready {0};
    std::atomic<bool> go {false};
    const size_t n = size_t(clients);
    std::vector<uint64_t> counts(n, 0);
    std::vector<double> ends(n, 0);
    std::vector<std::string> errors(n);
    double start = 0;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            sd_bus* b = nullptr;
            try {
                b = connectBus(address_);
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
            ++ready;
            go.wait(false);
            try {
                double until = start + seconds * 1e6;
                while (b && nowUs() < until) {
                    getName(b, t);
                    ++counts[i];
                }
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
            ends[i] = nowUs();
            sd_bus_flush_close_unref(b);
        });
    // Connections are set up before the clock starts.
    while (ready.load() < clients)
        std::this_thread::yield();
    start = nowUs();
    go.store(true);
    go.notify_all();
    for (auto& th : threads)
        th.join();
    for (const auto& e : errors)
        if (!e.empty())
            throw std::runtime_error("client thread: " + e);
    uint64_t total = 0;
    for (auto c : counts)
        total += c;
    return double(total) / ((*std::max_element(ends.begin(), ends.end()) - start) / 1e6);
}

} // namespace bench

namespace {

using namespace bench;

void usage(FILE* f)
{
    fprintf(f,
        "Usage: virtbus-bench [OPTION]...\n"
        "Benchmark virtbusd against a raw sd-bus echo server and libvirt-dbus on a private bus.\n\n"
        "  --output FILE        also write the markdown results to FILE\n"
        "  --address ADDR       use this (private!) bus instead of starting a dbus-daemon\n"
        "  --virtbusd PATH      default %s\n"
        "  --echo PATH          default %s\n"
        "  --libvirt-dbus PATH  default /usr/sbin/libvirt-dbus; skipped when missing\n"
        "  --no-libvirt-dbus    do not measure libvirt-dbus\n"
        "  --calls N            calls per latency figure (20000)\n"
        "  --restarts N         restarts for the startup medians (20)\n"
        "  --duration SEC       seconds per throughput point (2)\n"
        "  --domains N          largest domain count, 1000..10000 (10000)\n"
        "  --churn N            DomainDefineXML + Undefine pairs per connection (1000)\n"
        "  --qemu-domains N     persistent QEMU definitions at start, 100..10000 (10000)\n"
        "  --quick              small counts, for a smoke test\n",
        VIRTBUSD_PATH, ECHO_SERVER_PATH);
}

} // namespace

int main(int argc, char** argv)
{
    Options opt;
    bool withLibvirtDbus = true;
    enum {
        OAddress = 256,
        OVirtbusd,
        OEcho,
        OLibvirt,
        ONoLibvirt,
        OCalls,
        ORestarts,
        ODuration,
        ODomains,
        OChurn,
        OQemuDomains,
        OQuick
    };
    static const option longopts[] = {
        {"output", required_argument, nullptr, 'o'},
        {"address", required_argument, nullptr, OAddress},
        {"virtbusd", required_argument, nullptr, OVirtbusd},
        {"echo", required_argument, nullptr, OEcho},
        {"libvirt-dbus", required_argument, nullptr, OLibvirt},
        {"no-libvirt-dbus", no_argument, nullptr, ONoLibvirt},
        {"calls", required_argument, nullptr, OCalls},
        {"restarts", required_argument, nullptr, ORestarts},
        {"duration", required_argument, nullptr, ODuration},
        {"domains", required_argument, nullptr, ODomains},
        {"churn", required_argument, nullptr, OChurn},
        {"qemu-domains", required_argument, nullptr, OQemuDomains},
        {"quick", no_argument, nullptr, OQuick},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, nullptr)) != -1) {
        switch (c) {
        case 'o': opt.output = optarg; break;
        case OAddress: opt.address = optarg; break;
        case OVirtbusd: opt.virtbusd = optarg; break;
        case OEcho: opt.echo = optarg; break;
        case OLibvirt: opt.libvirtDbus = optarg; break;
        case ONoLibvirt: withLibvirtDbus = false; break;
        case OCalls: opt.calls = std::max(10, atoi(optarg)); break;
        case ORestarts: opt.restarts = std::max(1, atoi(optarg)); break;
        case ODuration: opt.duration = std::clamp(atof(optarg), 0.1, 30.0); break;
        case ODomains: opt.domains = std::clamp(atoi(optarg), 1000, 10000); break;
        case OChurn: opt.churn = std::max(5, atoi(optarg)); break;
        case OQemuDomains: opt.qemuDomains = std::clamp(atoi(optarg), 100, 10000); break;
        case OQuick:
            opt.calls = 2000, opt.restarts = 3, opt.duration = 0.3, opt.domains = 1000, opt.churn = 50,
            opt.qemuDomains = 300;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    std::vector<Target> targets;
    targets.push_back({"echo", {opt.echo, "org.virtbus.Echo"}, {}, "org.virtbus.Echo", "/org/virtbus/Echo",
        "org.virtbus.Echo", false, false, {}});
    // As a user starts it on the session bus, except for the idle exit: the
    // bench's pauses between calls must not end it.
    targets.push_back({"virtbus", {opt.virtbusd, "--session", "--timeout", "0"}, {}, "org.libvirt", TestDomain,
        "org.libvirt.Domain", true, true, {}});
    if (withLibvirtDbus && access(opt.libvirtDbus.c_str(), X_OK) == 0)
        targets.push_back({"libvirt-dbus", {opt.libvirtDbus, "--session"}, {}, "org.libvirt", TestDomain,
            "org.libvirt.Domain", true, false, {}});
    else if (withLibvirtDbus)
        fprintf(stderr, "virtbus-bench: %s not found, libvirt-dbus skipped\n", opt.libvirtDbus.c_str());
    for (const auto& t : targets)
        if (access(t.argv[0].c_str(), X_OK) != 0) {
            fprintf(stderr, "virtbus-bench: %s is not executable\n", t.argv[0].c_str());
            return 1;
        }

    try {
        TempDir tmp;
        std::optional<PrivateBus> bus;
        if (opt.address.empty())
            bus.emplace(tmp.path());
        std::string address = bus ? bus->address() : opt.address;
        // The servers inherit it: they only ever see the private bus.
        setenv("DBUS_SESSION_BUS_ADDRESS", address.c_str(), 1);
        char date[64];
        time_t now = time(nullptr);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
        std::string loadBefore = readFile("/proc/loadavg");
        loadBefore.erase(loadBefore.find_last_not_of("\n") + 1);

        Bench bench(opt, address, tmp.path(), tmp.path() + "/qemu", targets);
        const std::pair<const char*, void (Bench::*)()> phases[] = {
            {"startup", &Bench::startup},
            {"latency", &Bench::latency},
            {"throughput", &Bench::throughput},
            {"domains", &Bench::domains},
            {"define/undefine churn", &Bench::churn},
            {"persistent QEMU definitions", &Bench::persistence},
        };
        for (const auto& [name, phase] : phases) {
            fprintf(stderr, "virtbus-bench: %s...\n", name);
            (bench.*phase)();
        }

        std::string loadAfter = readFile("/proc/loadavg");
        loadAfter.erase(loadAfter.find_last_not_of("\n") + 1);
        std::string text = report(opt, targets, loadBefore, loadAfter, date);
        fputs(text.c_str(), stdout);
        if (!opt.output.empty())
            std::ofstream(opt.output) << text;
    } catch (const std::exception& e) {
        fprintf(stderr, "virtbus-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
