// Formats virtbus-bench's results as markdown: one column per target, the
// ratios virtbus/echo and virtbus/libvirt-dbus, and a verdict per target.
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <functional>

#include "bench_types.h"
#include "bench_util.h"

namespace bench {

namespace {

std::string shell(const char* cmd)
{
    std::string out;
    if (FILE* f = popen(cmd, "r")) {
        char buf[256];
        while (fgets(buf, sizeof buf, f))
            out += buf;
        pclose(f);
    }
    out.erase(out.find_last_not_of(" \n") + 1);
    return out;
}

std::string fmt(std::optional<double> v, int decimals)
{
    if (!v || std::isnan(*v))
        return "—";
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, *v);
    return buf;
}

std::optional<double> kb(long v) { return v < 0 ? std::nullopt : std::optional<double>(double(v)); }

std::optional<double> perDomainKb(const Results& r)
{
    if (r.rssDomains < 0 || r.rssBeforeDefine < 0 || r.domainsAdded == 0)
        return std::nullopt;
    return double(r.rssDomains - r.rssBeforeDefine) / double(r.domainsAdded);
}

std::optional<double> perDefinitionKb(const Options& opt, const Results& r)
{
    if (r.rssPersistKb.empty() || r.rssEmptyKb.empty())
        return std::nullopt;
    return (percentile(r.rssPersistKb, 50) - percentile(r.rssEmptyKb, 50)) / double(opt.qemuDomains);
}

std::optional<double> perCall(double ns, size_t calls)
{
    return calls == 0 ? std::nullopt : std::optional<double>(ns / 1000.0 / double(calls));
}

std::string cpuModel()
{
    std::string info = readFile("/proc/cpuinfo");
    auto at = info.find("model name");
    if (at == std::string::npos)
        return "unknown";
    auto colon = info.find(':', at), eol = info.find('\n', at);
    return info.substr(colon + 2, eol - colon - 2);
}

} // namespace

std::string report(const Options& opt, const std::vector<Target>& targets, const std::string& loadBefore,
    const std::string& loadAfter, const std::string& date)
{
    const Target* by[3] = {nullptr, nullptr, nullptr};
    for (const auto& t : targets)
        by[t.label == "echo" ? 0 : t.label == "virtbus" ? 1 : 2] = &t;
    struct Row {
        std::string metric, target;
        int decimals;
        std::function<std::optional<double>(const Target&)> value;
    };
    auto pct = [](const std::vector<double>& v, double p) -> std::optional<double> {
        return v.empty() ? std::nullopt : std::optional<double>(percentile(v, p));
    };
    std::vector<Row> rows = {
        {"exec → name owned, median of " + std::to_string(opt.restarts) + " (ms)", "≤ 30 ms", 2,
            [&](const Target& t) { return pct(t.r.startMs, 50); }},
        {"Properties.Get p50 (µs)", "≤ 1.3× echo", 1, [&](const Target& t) { return pct(t.r.getUs, 50); }},
        {"Properties.Get p99 (µs)", "≤ 1.3× echo", 1, [&](const Target& t) { return pct(t.r.getUs, 99); }},
        {"server CPU per Get (µs)", "", 2, [&](const Target& t) { return perCall(t.r.getCpuNs, t.r.getUs.size()); }},
        {"method p50 (µs): ListDomains(0) / Echo", "", 1, [&](const Target& t) { return pct(t.r.methodUs, 50); }},
        {"method p99 (µs): ListDomains(0) / Echo", "", 1, [&](const Target& t) { return pct(t.r.methodUs, 99); }},
        {"server CPU per method call (µs)", "", 2,
            [&](const Target& t) { return perCall(t.r.methodCpuNs, t.r.methodUs.size()); }},
    };
    for (int c : {1, 4, 16})
        rows.push_back({"Get throughput, " + std::to_string(c) + " client" + (c > 1 ? "s" : "") + " (calls/s)", "", 0,
            [c](const Target& t) -> std::optional<double> {
                auto it = t.r.throughput.find(c);
                return it == t.r.throughput.end() ? std::nullopt : std::optional<double>(it->second);
            }});
    for (int n : domainLevels(opt))
        for (int p : {50, 99, 0})
            rows.push_back({"ListDomains, " + std::to_string(n) + " domain" + (n > 1 ? "s" : "")
                    + (p ? " p" + std::to_string(p) : std::string(", server CPU per call")) + " (µs)",
                "", 1, [n, p](const Target& t) -> std::optional<double> {
                    auto it = t.r.list.find(n);
                    if (it == t.r.list.end())
                        return std::nullopt;
                    return p == 50 ? it->second.p50 : p == 99 ? it->second.p99 : it->second.serverCpuUs;
                }});
    for (int n : domainLevels(opt)) {
        if (n == 1)
            continue;
        const std::string of = "names + states of " + std::to_string(n) + " domains";
        auto names = [pct, n](bool getAll, int p) {
            return [=](const Target& t) -> std::optional<double> {
                const auto& m = getAll && t.virtbus ? t.r.namesGetAll : t.r.names;
                auto it = m.find(n);
                if (it == m.end())
                    return std::nullopt;
                return p ? pct(it->second.ms, p) : std::optional<double>(it->second.serverCpuMs);
            };
        };
        const std::string target = n == 10000 ? "≥ 20× faster" : "";
        rows.push_back({of + ", each its own way¹, p50 (ms)", target, 1, names(false, 50)});
        rows.push_back({of + ", each its own way¹, p99 (ms)", target, 1, names(false, 99)});
        rows.push_back({of + ", each its own way¹, server CPU per read (ms)", "", 1, names(false, 0)});
        rows.push_back({of + ", both by ListDomains + GetAll each, p50 (ms)", "", 1, names(true, 50)});
    }
    rows.push_back({"DomainDefineXML, mean (µs)", "", 1, [](const Target& t) { return t.r.defineUs; }});
    for (int p : {50, 99})
        rows.push_back({"Test: DomainDefineXML + Undefine p" + std::to_string(p) + " (µs)", "", 1,
            [pct, p](const Target& t) { return pct(t.r.churnTestUs, p); }});
    for (int p : {50, 99})
        rows.push_back({"QEMU, persisted²: DomainDefineXML + Undefine p" + std::to_string(p) + " (µs)", "", 1,
            [pct, p](const Target& t) { return pct(t.r.churnQemuUs, p); }});
    const std::string defs = std::to_string(opt.qemuDomains) + " persistent QEMU definitions";
    rows.push_back({"exec → name owned, no QEMU definitions, median of " + std::to_string(opt.restarts) + " (ms)", "",
        2, [pct](const Target& t) { return pct(t.r.startEmptyMs, 50); }});
    rows.push_back({"exec → name owned, " + defs + ", median (ms)", "≤ 300 ms", 1,
        [pct](const Target& t) { return pct(t.r.startPersistMs, 50); }});
    rows.push_back({"exec → name owned, " + defs + ", max (ms)", "", 1,
        [pct](const Target& t) { return pct(t.r.startPersistMs, 100); }});
    rows.push_back({"exec → QEMU ListDomains lists all " + std::to_string(opt.qemuDomains) + ", median (ms)", "", 1,
        [pct](const Target& t) { return pct(t.r.readyPersistMs, 50); }});
    rows.push_back({"QEMU DomainDefineXML, persisted, 8 in flight, mean (µs)", "", 1,
        [](const Target& t) { return t.r.persistDefineUs; }});
    rows.push_back({"RSS at name owned (KB)", "", 0, [](const Target& t) { return kb(t.r.rssStart); }});
    rows.push_back({"RSS idle, after warm-up (KB)", "≤ 10 MB", 0, [](const Target& t) { return kb(t.r.rssIdle); }});
    rows.push_back(
        {"RSS before the first define (KB)", "", 0, [](const Target& t) { return kb(t.r.rssBeforeDefine); }});
    rows.push_back({"RSS with " + std::to_string(opt.domains) + " domains (KB)", "", 0,
        [](const Target& t) { return kb(t.r.rssDomains); }});
    rows.push_back(
        {"RSS after listing and reading them (KB)", "", 0, [](const Target& t) { return kb(t.r.rssListed); }});
    rows.push_back({"RSS per defined domain (KB)", "≤ 4 KB", 2, [](const Target& t) { return perDomainKb(t.r); }});
    rows.push_back({"RSS at name owned, " + defs + ", median (KB)", "", 0,
        [pct](const Target& t) { return pct(t.r.rssPersistKb, 50); }});
    rows.push_back({"RSS per persistent QEMU definition (KB)", "≤ 4 KB", 2,
        [&opt](const Target& t) { return perDefinitionKb(opt, t.r); }});

    utsname u {};
    uname(&u);
    std::string out = "- Run: " + date + ", " + cpuModel() + ", nproc " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN))
        + ", Linux " + u.release + "\n- Load average (/proc/loadavg) before: " + loadBefore + "; after: " + loadAfter
        + "\n- " + shell("dbus-daemon --version 2>/dev/null | head -1") + "; libvirt-dbus "
        + (by[2] ? shell("dpkg-query -W -f='${Version}' libvirt-dbus 2>/dev/null") : std::string("not installed"))
        + "\n- Parameters: " + std::to_string(opt.calls) + " calls per latency figure in 10 interleaved rounds, "
        + std::to_string(opt.restarts) + " restarts, " + fmt(opt.duration, 1) + " s per throughput point, "
        + std::to_string(opt.domains) + " domains, " + std::to_string(opt.churn) + " define + undefine pairs, "
        + std::to_string(opt.qemuDomains) + " persistent QEMU definitions\n\n";
    out += "| Metric | echo (raw sd-bus) | virtbus | libvirt-dbus | virtbus / echo | virtbus / libvirt-dbus | Target "
           "|\n";
    out += "|---|---:|---:|---:|---:|---:|---|\n";
    // A failed target keeps what it measured before the failure; the note
    // under the table says which and why.
    auto cell
        = [](const Target* t, const Row& row) -> std::optional<double> { return t ? row.value(*t) : std::nullopt; };
    auto ratio = [](std::optional<double> a, std::optional<double> b) -> std::optional<double> {
        return a && b && *b > 0 ? std::optional<double>(*a / *b) : std::nullopt;
    };
    // virtbus's value, virtbus/echo, virtbus/libvirt-dbus, libvirt-dbus/virtbus.
    std::map<std::string, std::optional<double>> vb, ve, vl, lv;
    for (const auto& row : rows) {
        auto e = cell(by[0], row), v = cell(by[1], row), l = cell(by[2], row);
        vb[row.metric] = v;
        ve[row.metric] = ratio(v, e);
        vl[row.metric] = ratio(v, l);
        lv[row.metric] = ratio(l, v);
        out += "| " + row.metric + " | " + fmt(e, row.decimals) + " | " + fmt(v, row.decimals) + " | "
            + fmt(l, row.decimals) + " | " + fmt(ratio(v, e), 2) + " | " + fmt(ratio(v, l), 2) + " | " + row.target
            + " |\n";
    }
    out += "\n¹ virtbus: one ObjectManager.GetManagedObjects on /org/libvirt/Test; libvirt-dbus has no "
           "ObjectManager: Connect.ListDomains, then Properties.GetAll(org.libvirt.Domain) of each domain, one call "
           "after the other. Name and Active are read from each reply, every name is counted.\n"
           "² libvirt-dbus's QEMU connection needs libvirtd, which the bench does not run.\n";
    out += "\nTargets (virtbus):\n\n";
    auto verdict
        = [&](const std::string& what, std::optional<double> v, double limit, const char* unit, bool atLeast = false) {
              out += "- " + what + ": " + fmt(v, 2) + unit + " (target " + (atLeast ? "≥ " : "≤ ") + fmt(limit, 1)
                  + unit + "): "
                  + (!v                                           ? "not measured"
                          : (atLeast ? *v >= limit : *v <= limit) ? "met"
                                                                  : "NOT met")
                  + "\n";
          };
    verdict("Properties.Get p50 virtbus/echo", ve["Properties.Get p50 (µs)"], 1.3, "×");
    verdict("Properties.Get p99 virtbus/echo", ve["Properties.Get p99 (µs)"], 1.3, "×");
    verdict("exec → org.libvirt owned", vb[rows[0].metric], 30, " ms");
    auto idle = vb["RSS idle, after warm-up (KB)"];
    verdict("RSS idle", idle ? std::optional<double>(*idle / 1024) : std::nullopt, 10, " MB");
    verdict("RSS per defined domain", vb["RSS per defined domain (KB)"], 4, " KB");
    for (int c : {4, 16})
        verdict("Get throughput virtbus/libvirt-dbus, " + std::to_string(c) + " clients",
            vl["Get throughput, " + std::to_string(c) + " clients (calls/s)"], 2, "×", true);
    for (const auto& row : rows)
        if (row.target == "≥ 20× faster" && row.metric.ends_with("p50 (ms)"))
            verdict("names + states of 10000 domains, libvirt-dbus's way / virtbus's way (p50)", lv[row.metric], 20,
                "×", true);
    verdict("exec → org.libvirt owned with " + defs, vb["exec → name owned, " + defs + ", median (ms)"], 300, " ms");
    verdict("RSS per persistent QEMU definition", vb["RSS per persistent QEMU definition (KB)"], 4, " KB");
    for (const auto& t : targets)
        if (!t.ok())
            out += "\nNote: " + t.label + " failed and its column is incomplete: " + t.r.error + "\n";
    if (!by[2])
        out += "\nNote: libvirt-dbus not measured: "
            + (access(opt.libvirtDbus.c_str(), X_OK) == 0
                    ? std::string("--no-libvirt-dbus")
                    : opt.libvirtDbus + " not found (apt-get install libvirt-dbus)")
            + ".\n";
    return out;
}

} // namespace bench
