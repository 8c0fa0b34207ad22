#include "xml/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace virtbus::xml {

std::optional<IpAddress> parseIpAddress(std::string_view text)
{
    // inet_pton needs a terminated string; an embedded NUL must not cut
    // the text short and let "1.2.3.4\0junk" through.
    if (text.empty() || text.size() > 64 || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = 4;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = 6;
        return a;
    }
    return std::nullopt;
}

std::string formatIpAddress(const IpAddress& addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    int af = addr.family == 4 ? AF_INET : AF_INET6;
    if (!inet_ntop(af, addr.bytes.data(), buf, sizeof buf))
        return {};
    return buf;
}

int netmaskPrefix(const IpAddress& mask)
{
    int bits = 0;
    bool zeroSeen = false;
    for (size_t i = 0; i < mask.size(); ++i) {
        for (int b = 7; b >= 0; --b) {
            bool one = (mask.bytes[i] >> b) & 1;
            if (one && zeroSeen)
                return -1;
            if (one)
                ++bits;
            else
                zeroSeen = true;
        }
    }
    return bits;
}

namespace {

IpAddress applyPrefix(const IpAddress& addr, unsigned prefix, bool setHostBits)
{
    IpAddress out = addr;
    for (size_t i = 0; i < out.size(); ++i) {
        unsigned first = static_cast<unsigned>(i) * 8;
        uint8_t keep;
        if (prefix >= first + 8)
            keep = 0xff;
        else if (prefix <= first)
            keep = 0;
        else
            keep = static_cast<uint8_t>(0xff << (8 - (prefix - first)));
        out.bytes[i]
            = setHostBits ? static_cast<uint8_t>(out.bytes[i] | ~keep) : static_cast<uint8_t>(out.bytes[i] & keep);
    }
    return out;
}

} // namespace

IpAddress maskByPrefix(const IpAddress& addr, unsigned prefix) { return applyPrefix(addr, prefix, false); }

IpAddress broadcastByPrefix(const IpAddress& addr, unsigned prefix) { return applyPrefix(addr, prefix, true); }

bool sameNetwork(const IpAddress& a, const IpAddress& b, unsigned prefix)
{
    return a.family == b.family && maskByPrefix(a, prefix) == maskByPrefix(b, prefix);
}

int compareIp(const IpAddress& a, const IpAddress& b) { return std::memcmp(a.bytes.data(), b.bytes.data(), a.size()); }

int effectivePrefix(const IpAddress& addr, const std::optional<IpAddress>& netmask, unsigned prefix)
{
    if (prefix > 0)
        return static_cast<int>(prefix);
    if (netmask)
        return netmaskPrefix(*netmask);
    if (addr.family == 6)
        return addr == IpAddress {6, {}} ? 0 : 64;
    uint8_t octet = addr.bytes[0];
    if (addr == IpAddress {4, {}})
        return 0; // 0.0.0.0 is the default route's destination
    if ((octet & 0x80) == 0)
        return 8;
    if ((octet & 0xc0) == 0x80)
        return 16;
    if ((octet & 0xe0) == 0xc0)
        return 24;
    return -1;
}

} // namespace virtbus::xml
