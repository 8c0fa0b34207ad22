// Numeric IPv4/IPv6 addresses for the network and storage formats: parsing,
// libvirt's canonical text form and the prefix arithmetic its checks need
// (is a DHCP range inside the network, is a gateway reachable).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace virtbus::xml {

struct IpAddress {
    int family = 0; // 4 or 6
    std::array<uint8_t, 16> bytes {}; // network order; IPv4 uses the first 4
    size_t size() const { return family == 4 ? 4 : 16; }
    bool operator==(const IpAddress&) const = default;
};

// Numeric addresses only (no host names), as libvirt's AI_NUMERICHOST
// parsing; nullopt when `text` is not one.
std::optional<IpAddress> parseIpAddress(std::string_view text);
// Canonical text (lowercase, compressed IPv6), so equal addresses format
// identically.
std::string formatIpAddress(const IpAddress& addr);

// Number of leading one bits of a contiguous netmask, -1 otherwise.
int netmaskPrefix(const IpAddress& mask);
// `addr` with every bit past `prefix` cleared.
IpAddress maskByPrefix(const IpAddress& addr, unsigned prefix);
// `addr` with every bit past `prefix` set (an IPv4 network's broadcast).
IpAddress broadcastByPrefix(const IpAddress& addr, unsigned prefix);
bool sameNetwork(const IpAddress& a, const IpAddress& b, unsigned prefix);
// <0, 0, >0 like memcmp; addresses of one family only.
int compareIp(const IpAddress& a, const IpAddress& b);

// libvirt's virSocketAddrGetIPPrefix: an explicit prefix wins, then the
// netmask, then the classful prefix of an IPv4 address, 64 for IPv6.
// -1 when none applies (an IPv4 class D/E address without a netmask).
int effectivePrefix(const IpAddress& addr, const std::optional<IpAddress>& netmask, unsigned prefix);

} // namespace virtbus::xml
