// Host facts for <capabilities> (internal to qemu_caps*): read fresh on
// each call, since CPUs go on- and offline and hugepages get reserved.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace virtbus::qemu::host {

struct Cpu {
    unsigned id = 0, socket = 0, die = 0, core = 0;
    std::string siblings; // thread_siblings_list, "0,4"
};

struct Topology {
    unsigned sockets = 1, dies = 1, cores = 1, threads = 1;
};

struct Cell {
    unsigned id = 0;
    uint64_t memoryKiB = 0;
    std::vector<std::pair<uint64_t, uint64_t>> pages; // size KiB -> count
    std::vector<std::pair<unsigned, unsigned>> distances; // node -> distance
    std::vector<Cpu> cpus;
};

std::string arch(); // libvirt's name for the host arch (uname)
std::string uuid(); // DMI product UUID, else /etc/machine-id as a UUID, else ""
std::string cpuVendor(); // "Intel", "AMD", "Hygon" or ""
std::vector<Cpu> cpus(); // online CPUs
Topology topology(const std::vector<Cpu>& cpus);
std::vector<uint64_t> pageSizesKiB(); // base page first, then hugepage sizes
std::vector<Cell> cells(const std::vector<Cpu>& cpus);

} // namespace virtbus::qemu::host
