// The host half of <capabilities>: what /proc and sysfs say about CPUs,
// NUMA cells, memory and page sizes. Missing files degrade to one cell
// holding every online CPU, never to an error.
#include "qemu/qemu_caps_host.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

namespace virtbus::qemu::host {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> readText(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    return text;
}

std::optional<unsigned long long> readNumber(const std::string& path)
{
    auto text = readText(path);
    if (!text || text->empty())
        return std::nullopt;
    try {
        return std::stoull(*text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; garbage gives what parsed so far.
std::vector<unsigned> parseCpuList(const std::string& list)
{
    std::vector<unsigned> out;
    std::stringstream ss(list);
    std::string part;
    while (std::getline(ss, part, ',')) {
        try {
            size_t dash = part.find('-');
            unsigned lo = static_cast<unsigned>(std::stoul(part.substr(0, dash)));
            unsigned hi = dash == std::string::npos ? lo : static_cast<unsigned>(std::stoul(part.substr(dash + 1)));
            for (unsigned c = lo; c <= hi && c - lo < 65536; ++c)
                out.push_back(c);
        } catch (const std::exception&) {
            break;
        }
    }
    return out;
}

// "MemTotal:  24684096 kB" (also "Node 0 MemTotal: ..." in a node's meminfo).
std::optional<uint64_t> memTotalKiB(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        size_t at = line.find("MemTotal:");
        if (at == std::string::npos)
            continue;
        try {
            return std::stoull(line.substr(at + 9));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// hugepages-2048kB -> 2048
std::map<uint64_t, uint64_t> hugePages(const std::string& dir)
{
    std::map<uint64_t, uint64_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind("hugepages-", 0) != 0)
            continue;
        try {
            uint64_t size = std::stoull(name.substr(10));
            out[size] = readNumber(e.path().string() + "/nr_hugepages").value_or(0);
        } catch (const std::exception&) { }
    }
    return out;
}

} // namespace

std::string arch()
{
    struct utsname u { };
    if (::uname(&u) != 0)
        return "x86_64";
    std::string m = u.machine;
    if (m == "i386" || m == "i486" || m == "i586")
        return "i686";
    if (m == "arm64")
        return "aarch64";
    return m;
}

std::string uuid()
{
    if (auto dmi = readText("/sys/class/dmi/id/product_uuid"); dmi && dmi->size() == 36) {
        std::string u = *dmi;
        std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::tolower(c); });
        return u;
    }
    auto id = readText("/etc/machine-id");
    if (!id || id->size() != 32
        || !std::all_of(id->begin(), id->end(), [](unsigned char c) { return std::isxdigit(c); }))
        return {};
    return id->substr(0, 8) + "-" + id->substr(8, 4) + "-" + id->substr(12, 4) + "-" + id->substr(16, 4) + "-"
        + id->substr(20, 12);
}

std::string cpuVendor()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("vendor_id", 0) != 0)
            continue;
        if (line.find("GenuineIntel") != std::string::npos)
            return "Intel";
        if (line.find("AuthenticAMD") != std::string::npos)
            return "AMD";
        if (line.find("HygonGenuine") != std::string::npos)
            return "Hygon";
        return {};
    }
    return {};
}

std::vector<Cpu> cpus()
{
    std::vector<unsigned> ids;
    if (auto online = readText("/sys/devices/system/cpu/online"))
        ids = parseCpuList(*online);
    if (ids.empty()) {
        long n = ::sysconf(_SC_NPROCESSORS_ONLN);
        for (long i = 0; i < std::max(1L, n); ++i)
            ids.push_back(static_cast<unsigned>(i));
    }
    std::vector<Cpu> out;
    for (unsigned id : ids) {
        std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(id) + "/topology/";
        Cpu c;
        c.id = id;
        c.socket = static_cast<unsigned>(readNumber(base + "physical_package_id").value_or(0));
        c.die = static_cast<unsigned>(readNumber(base + "die_id").value_or(0));
        c.core = static_cast<unsigned>(readNumber(base + "core_id").value_or(id));
        c.siblings = readText(base + "thread_siblings_list").value_or(std::to_string(id));
        out.push_back(std::move(c));
    }
    return out;
}

Topology topology(const std::vector<Cpu>& list)
{
    std::map<unsigned, std::set<unsigned>> diesPerSocket;
    std::map<std::pair<unsigned, unsigned>, std::set<unsigned>> coresPerDie;
    std::map<std::tuple<unsigned, unsigned, unsigned>, unsigned> threadsPerCore;
    for (const auto& c : list) {
        diesPerSocket[c.socket].insert(c.die);
        coresPerDie[{c.socket, c.die}].insert(c.core);
        ++threadsPerCore[{c.socket, c.die, c.core}];
    }
    Topology t;
    t.sockets = std::max<unsigned>(1, static_cast<unsigned>(diesPerSocket.size()));
    for (const auto& [s, d] : diesPerSocket)
        t.dies = std::max(t.dies, static_cast<unsigned>(d.size()));
    for (const auto& [k, c] : coresPerDie)
        t.cores = std::max(t.cores, static_cast<unsigned>(c.size()));
    for (const auto& [k, n] : threadsPerCore)
        t.threads = std::max(t.threads, n);
    return t;
}

std::vector<uint64_t> pageSizesKiB()
{
    std::vector<uint64_t> out {static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024};
    for (const auto& [size, count] : hugePages("/sys/kernel/mm/hugepages"))
        out.push_back(size);
    return out;
}

std::vector<Cell> cells(const std::vector<Cpu>& all)
{
    const uint64_t basePage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
    auto finish = [&](Cell& cell, const std::map<uint64_t, uint64_t>& huge) {
        uint64_t hugeKiB = 0;
        for (const auto& [size, count] : huge)
            hugeKiB += size * count;
        cell.pages.emplace_back(basePage, cell.memoryKiB > hugeKiB ? (cell.memoryKiB - hugeKiB) / basePage : 0);
        for (const auto& p : huge)
            cell.pages.push_back(p);
    };

    std::vector<Cell> out;
    std::vector<unsigned> nodes;
    if (auto online = readText("/sys/devices/system/node/online"))
        nodes = parseCpuList(*online);
    for (unsigned n : nodes) {
        std::string base = "/sys/devices/system/node/node" + std::to_string(n);
        Cell cell;
        cell.id = n;
        // With one node, /proc/meminfo is the authority (some kernels'
        // node meminfo disagrees with it, which confuses clients).
        cell.memoryKiB
            = (nodes.size() == 1 ? memTotalKiB("/proc/meminfo") : memTotalKiB(base + "/meminfo")).value_or(0);
        std::vector<unsigned> ids = parseCpuList(readText(base + "/cpulist").value_or(""));
        for (const auto& c : all)
            if (std::find(ids.begin(), ids.end(), c.id) != ids.end())
                cell.cpus.push_back(c);
        std::stringstream dist(readText(base + "/distance").value_or(""));
        unsigned value = 0;
        for (size_t i = 0; i < nodes.size() && dist >> value; ++i)
            cell.distances.emplace_back(nodes[i], value);
        finish(cell, hugePages(base + "/hugepages"));
        out.push_back(std::move(cell));
    }
    if (out.empty()) {
        Cell cell;
        cell.memoryKiB = memTotalKiB("/proc/meminfo").value_or(0);
        cell.cpus = all;
        finish(cell, hugePages("/sys/kernel/mm/hugepages"));
        out.push_back(std::move(cell));
    }
    return out;
}

} // namespace virtbus::qemu::host
