// The data virtbus-bench collects and reports; shared by the measuring
// code (virtbus-bench.cpp) and the markdown report (bench_report.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bench {

struct Options {
    std::string address; // empty: start a private dbus-daemon
    std::string virtbusd = VIRTBUSD_PATH;
    std::string echo = ECHO_SERVER_PATH;
    std::string libvirtDbus = "/usr/sbin/libvirt-dbus";
    std::string output;
    int calls = 20000;
    int restarts = 20;
    double duration = 2.0;
    int domains = 10000;
    int churn = 1000; // DefineXML + Undefine pairs per connection and target
    int qemuDomains = 10000; // persistent QEMU definitions virtbusd starts with
};

// Domain counts ListDomains is timed at: 1 (the test world), 1,000 and
// the largest (--domains, 10,000 by default).
inline std::vector<int> domainLevels(const Options& o)
{
    std::vector<int> v {1};
    for (int n : {1000, o.domains})
        if (n > v.back() && n <= o.domains)
            v.push_back(n);
    return v;
}

struct ListResult {
    size_t count;
    double p50, p99;
    double serverCpuUs; // per call: how much of the latency is the server's
    size_t samples;
};

// Reading the name and state of every domain, one sample per full read.
struct NamesResult {
    size_t count = 0; // names read (checked against the domains defined)
    std::vector<double> ms;
    double serverCpuMs = 0; // per read, all the server's threads
};

struct Results {
    std::vector<double> startMs, getUs, methodUs;
    double getCpuNs = 0, methodCpuNs = 0; // server CPU over the timed calls
    std::map<int, double> throughput; // clients -> calls/s
    std::map<int, ListResult> list; // nominal domain count -> latency (µs)
    std::optional<double> defineUs;
    long rssStart = -1, rssIdle = -1, rssBeforeDefine = -1, rssDomains = -1, rssListed = -1;
    size_t domainsAdded = 0;
    // Each target's own way (virtbus: GetManagedObjects; libvirt-dbus has
    // no ObjectManager: ListDomains + GetAll per domain), and virtbus read
    // the libvirt-dbus way too; nominal domain count -> samples.
    std::map<int, NamesResult> names, namesGetAll;
    std::vector<double> churnTestUs, churnQemuUs; // per define + undefine pair
    // Restarts with an empty QEMU config dir and with opt.qemuDomains
    // persistent definitions, interleaved; "ready" is the first QEMU
    // ListDomains answered with all of them.
    std::vector<double> startEmptyMs, startPersistMs, readyPersistMs;
    std::vector<double> rssEmptyKb, rssPersistKb;
    std::optional<double> persistDefineUs;
    std::string error;
};

struct Target {
    std::string label;
    std::vector<std::string> argv;
    std::vector<std::string> env; // NAME=value for this server only
    std::string name;
    const char* getPath;
    const char* getIface;
    bool libvirt; // the org.libvirt API: domains, ListDomains as the method
    bool virtbus; // ObjectManager and the QEMU connection without libvirtd
    Results r;
    bool ok() const { return r.error.empty(); }
};

// The markdown results: header (date, machine, load), the table, verdicts.
std::string report(const Options& opt, const std::vector<Target>& targets, const std::string& loadBefore,
    const std::string& loadAfter, const std::string& date);

} // namespace bench
