// The phases of virtbus-bench and what they share: the targets, the
// client connection, the name watcher and the one server running at a time.
// Phases 1-5 are in virtbus-bench.cpp, the issue-10 ones in bench_churn.cpp.
#pragma once

#include <functional>

#include "bench_calls.h"
#include "bench_types.h"
#include "bench_util.h"

namespace bench {

class Bench {
public:
    // virtbusd's QEMU driver keeps its files in `qemuDir` (see qemuEnv),
    // never in the user's own directories.
    Bench(const Options& o, const std::string& address, const std::string& logDir, const std::string& qemuDir,
        std::vector<Target>& targets);
    ~Bench();
    Bench(const Bench&) = delete;
    Bench& operator=(const Bench&) = delete;

    void startup(); // (1) exec -> name owned
    void latency(); // (2) Properties.Get and a trivial method, one client
    void throughput(); // (3) 1, 4 and 16 clients
    void domains(); // (4)+(5) ListDomains, names and states, RSS
    void churn(); // (6) DomainDefineXML + Undefine, Test and QEMU
    void persistence(); // (7) start with opt.qemuDomains persistent definitions

private:
    // VIRTBUS_QEMU_*_DIR: definitions in `configDir`, the rest in qemuDir_,
    // where the capability cache outlives each virtbusd (probed once).
    std::vector<std::string> qemuEnv(const std::string& configDir) const;
    void forEach(const std::function<void(Target&)>& fn, bool reverse = false);
    std::string logPath(const Target& t) const { return logDir_ + "/" + t.label + ".log"; }
    pid_t launch(Target& t, double* startedUs);
    void halt(Target& t, pid_t pid);
    ListResult listLatency(const Target& t, pid_t pid, size_t count);
    NamesResult namesLatency(pid_t pid, size_t expected, const std::function<NamesStates()>& read) const;
    double runClients(const Target& t, int clients, double seconds);

    const Options& opt_;
    std::string address_;
    std::string logDir_;
    std::string qemuDir_;
    std::vector<Target>& targets_;
    NameWatcher watcher_;
    sd_bus* client_;
    pid_t running_ = -1;
};

} // namespace bench
