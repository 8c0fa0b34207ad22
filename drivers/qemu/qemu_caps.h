// What each installed QEMU binary can do, learned by asking it over QMP
// once (`-machine none`) and cached on disk keyed by the binary's identity
// (path, size, mtime, inode, ctime), so a daemon restart does not re-probe.
// Probing blocks (it runs QEMU): call it on a worker, never the bus thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "qemu/event_loop.h"

namespace virtbus::qemu {

struct MachineType {
    std::string name;  // "pc-i440fx-7.2"
    std::string alias; // "pc", "" if none
    bool isDefault = false;
    unsigned maxCpus = 1;
    bool deprecated = false;
};

struct CpuModel {
    std::string name;
    bool usable = true; // usable with the accelerator it was probed under (TCG)
    bool deprecated = false;
    // QEMU did not list unavailable-features (some targets never do):
    // domain capabilities then say usable='unknown'.
    bool usableKnown = true;
    std::string aliasOf; // "qemu64-v1" for "qemu64", "" if none
    // Usable under KVM, from the -accel kvm probe; nullopt when that probe
    // did not run or QEMU did not say.
    std::optional<bool> kvmUsable;
};

struct EmulatorCaps {
    std::string path;          // /usr/bin/qemu-system-x86_64
    std::string arch;          // x86_64 (libvirt's arch name; from QMP query-target)
    uint64_t version = 0;      // major * 1,000,000 + minor * 1,000 + micro
    std::string package;       // query-version's "package"
    std::vector<MachineType> machines;
    std::vector<CpuModel> cpuModels;
    std::vector<std::string> deviceTypes; // qom-list-types implements=device, sorted
    // KVM: /dev/kvm opened and QEMU started with -accel kvm said so in
    // query-kvm. `kvmNote` says why not when false.
    bool kvm = false;
    std::string kvmNote;
    // Built with seccomp: query-command-line-options lists "sandbox".
    // Without it, guests start without -sandbox.
    bool seccomp = false;

    bool hasDevice(const std::string& type) const;
    // Resolves an alias ("pc", "q35") or full name; nullptr if unknown.
    const MachineType* machine(const std::string& nameOrAlias) const;
    const MachineType* defaultMachine() const;
};

class CapsCache {
public:
    // `cacheDir` holds one JSON file per binary; created if missing.
    CapsCache(EventLoop& loop, std::string cacheDir);

    // qemu-system-* binaries in `searchPath` (default: /usr/bin,
    // /usr/local/bin, /usr/libexec), sorted.
    static std::vector<std::string> findEmulators(const std::vector<std::string>& searchPath = {});
    // The binary for a libvirt arch name (x86_64, i686 -> qemu-system-i386,
    // aarch64, ...), "" if none is installed.
    static std::string emulatorForArch(const std::string& arch);

    // The caps of `binary`, probing it (once; thread-safe, concurrent
    // callers wait for the same probe) unless the cache file matches the
    // binary's identity. Throws VirtError (OperationFailed, QEMU's own words)
    // when the binary cannot be probed.
    std::shared_ptr<const EmulatorCaps> get(const std::string& binary);

    // libvirt's <capabilities> document (capability.rng): the host (arch,
    // CPU count/topology from /proc and sysfs, NUMA cell, migration
    // features, secmodel none) and one <guest> per installed emulator with
    // its machines and <domain type='qemu'/> (plus 'kvm' when available).
    std::string capabilitiesXML();
    // libvirt's <domainCapabilities> (domaincaps.rng) for the given
    // emulator/arch/machine/virttype (each may be empty: defaults as in
    // libvirt); throws VirtError InvalidArg for an unknown combination.
    std::string domainCapabilitiesXML(const std::string& emulator, const std::string& arch,
                                      const std::string& machine, const std::string& virttype);

    // How many times this cache has started QEMU to probe (tests check that
    // concurrent and repeated get() calls share one probe).
    unsigned probeCount() const { return probes_.load(); }
    // The cache key of `binary`: path, size, mtime, ctime and inode (ns),
    // the virtbus version and whether /dev/kvm opens read-write (so a fixed
    // /dev/kvm permission is noticed). Throws VirtError if stat() fails.
    static std::string identity(const std::string& binary);
    // The cache file used for `binary` (it need not exist).
    std::string cacheFile(const std::string& binary) const;

private:
    struct Entry;
    std::shared_ptr<const EmulatorCaps> probe(const std::string& binary);
    std::atomic<unsigned> probes_{0};
    EventLoop& loop_;
    std::string dir_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<Entry>> entries_;
};

// Kills every probe running now and makes later ones fail at once: a
// stopping daemon must not wait for QEMU to answer a probe.
void cancelProbes();

// Parses / formats the cache file (exposed for unit tests).
std::string capsToJson(const EmulatorCaps& caps, const std::string& identity);
std::optional<EmulatorCaps> capsFromJson(const std::string& text, const std::string& identity);

} // namespace virtbus::qemu
