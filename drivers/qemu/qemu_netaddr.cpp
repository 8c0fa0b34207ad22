// Guest NIC addresses as the host sees them (Domain.InterfaceAddresses):
// the DHCP leases of the virtual networks the NICs are on, or the host's
// ARP table. No guest agent is spoken to.
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

#include "fileutil.h"
#include "object_drivers.h"

#include <sstream>

namespace virtbus {

namespace {
// virDomainInterfaceAddressesSource.
enum : uint32_t { kSrcLease = 0, kSrcAgent = 1, kSrcArp = 2 };
} // namespace

// The bridge a <interface type='network'> plugs into: the network must run.
std::string QemuDriver::networkBridge(const std::string& network)
{
    NetworkSummary s;
    try {
        NetworkRef r = networks().networkLookupByName(network);
        s = networks().networkSummary(r.uuid);
    } catch (const VirtError& e) {
        if (e.code() != ErrCode::NoSupport)
            throw;
        // No network driver on this connection (an unprivileged session).
        throw makeError(ErrCode::NoNetwork, ErrDomain::Network, "no network with matching name '" + network + "'");
    }
    if (!s.active)
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Network, "network '" + network + "' is not active");
    return s.bridge;
}

std::vector<IfaceAddrs> QemuDriver::domainInterfaceAddresses(const std::string& uuid, uint32_t source, uint32_t flags)
{
    auto d = find(uuid);
    checkFlags(flags, 0, "qemuDomainInterfaceAddresses");
    std::vector<xml::InterfaceDef> nics;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw err::operationInvalid("domain is not running");
        nics = d->current().devices.interfaces;
    }
    std::vector<IfaceAddrs> out;
    if (source == kSrcLease) {
        for (const auto& n : nics) {
            if (n.type != "network" || n.mac.empty())
                continue;
            std::vector<DhcpLease> leases;
            try {
                NetworkRef r = networks().networkLookupByName(n.sourceNetwork);
                leases = networks().networkGetDHCPLeases(r.uuid, n.mac, 0);
            } catch (const VirtError&) {
                continue; // the network went away: no lease to report
            }
            std::vector<std::tuple<int32_t, std::string, uint32_t>> addrs;
            for (const auto& l : leases)
                addrs.emplace_back(std::get<2>(l), std::get<5>(l), std::get<6>(l));
            if (!addrs.empty())
                out.emplace_back(n.targetDev, n.mac, std::move(addrs));
        }
        return out;
    }
    if (source == kSrcAgent)
        throw makeError(ErrCode::ArgumentUnsupported, ErrDomain::Qemu, "QEMU guest agent is not configured");
    if (source != kSrcArp)
        throw makeError(
            ErrCode::ArgumentUnsupported, ErrDomain::Qemu, "Unknown IP address data source " + std::to_string(source));
    auto arp = readFile("/proc/net/arp");
    for (const auto& n : nics) {
        std::vector<std::tuple<int32_t, std::string, uint32_t>> addrs;
        std::istringstream in(arp ? *arp : std::string());
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string ip, hw, fl, mac;
            if (f >> ip >> hw >> fl >> mac && fl != "0x0" && mac == n.mac)
                addrs.emplace_back(0, ip, 0);
        }
        if (!addrs.empty())
            out.emplace_back(n.targetDev, n.mac, std::move(addrs));
    }
    return out;
}

} // namespace virtbus
