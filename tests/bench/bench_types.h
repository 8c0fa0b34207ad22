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

struct Results {
    std::vector<double> startMs, getUs, methodUs;
    double getCpuNs = 0, methodCpuNs = 0; // server CPU over the timed calls
    std::map<int, double> throughput; // clients -> calls/s
    std::map<int, ListResult> list; // nominal domain count -> latency (µs)
    std::optional<double> defineUs;
    long rssStart = -1, rssIdle = -1, rssBeforeDefine = -1, rssDomains = -1, rssListed = -1;
    size_t domainsAdded = 0;
    std::string error;
};

struct Target {
    std::string label;
    std::vector<std::string> argv;
    std::string name;
    const char* getPath;
    const char* getIface;
    bool libvirt; // the org.libvirt API: domains, ListDomains as the method
    Results r;
    bool ok() const { return r.error.empty(); }
};

// The markdown results: header (date, machine, load), the table, verdicts.
std::string report(const Options& opt, const std::vector<Target>& targets, const std::string& loadBefore,
    const std::string& loadAfter, const std::string& date);

} // namespace bench
