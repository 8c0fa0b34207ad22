// The D-Bus calls virtbus-bench makes, on any connection: plain sd-bus,
// one function per workload, nothing timed here.
#pragma once

#include <systemd/sd-bus.h>

#include <string>
#include <vector>

namespace bench {

constexpr const char* TestConnect = "/org/libvirt/Test";
constexpr const char* QemuConnect = "/org/libvirt/QEMU";
// The `test` domain of the test driver's default world, as in libvirt.
constexpr const char* TestDomain = "/org/libvirt/Test/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f";

// Throws with the error's message when r < 0; frees e either way.
void check(int r, sd_bus_error& e, const char* what);

// Connect.ListDomains(0) on `conn`; the paths are counted only when asked,
// so a timed loop pays for nothing but the round trip.
size_t listDomains(sd_bus* b, const std::string& dest, const char* conn, bool count);

std::string testDomainXml(const std::string& name);
// Validates against the QEMU driver's probed capabilities; no guest runs.
std::string qemuDomainXml(const std::string& name);

// Connect.DomainDefineXML; returns the new domain's path.
std::string defineDomain(sd_bus* b, const std::string& dest, const char* conn, const std::string& xml);
void undefineDomain(sd_bus* b, const std::string& dest, const std::string& path);

// Defines n QEMU domains named prefix0.. with up to `window` calls in
// flight: only the result matters, not the latency of each.
void defineQemuDomains(sd_bus* b, const std::string& dest, const std::string& prefix, size_t n, size_t window);

// What a client that mirrors a host needs of every domain.
struct NamesStates {
    std::vector<std::string> names;
    size_t active = 0;
};

// virtbus: one ObjectManager.GetManagedObjects on the connection object;
// the Name and Active of every object with org.libvirt.Domain.
NamesStates namesByManagedObjects(sd_bus* b, const std::string& dest, const char* conn);
// libvirt-dbus has no ObjectManager: a client lists the domains and asks
// each for all its properties (one call per domain gives both values,
// where Get would take two), one call after the other.
NamesStates namesByGetAll(sd_bus* b, const std::string& dest, const char* conn);

} // namespace bench
