// Identifiers and quantities every driver needs: UUIDs, MAC addresses and
// libvirt's scaled memory sizes.
#include "xml/domain_xml.h"
#include "xml/xml_util.h"

#include <cctype>
#include <climits>
#include <cstdio>
#include <random>

namespace virtbus::xml {

namespace {

std::mt19937_64& rng()
{
    thread_local std::mt19937_64 gen{[] {
        std::random_device rd;
        return (uint64_t{rd()} << 32) ^ rd();
    }()};
    return gen;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// 32 hex digits, with dashes only at the canonical positions or nowhere.
bool uuidDigits(std::string_view s, std::string& digits)
{
    digits.clear();
    bool dashed = s.size() == 36;
    if (!dashed && s.size() != 32)
        return false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-')
                return false;
            continue;
        }
        if (hexValue(s[i]) < 0)
            return false;
        digits += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    }
    return true;
}

} // namespace

bool isValidUUID(std::string_view uuid)
{
    std::string digits;
    return uuidDigits(uuid, digits);
}

std::string normalizeUUID(std::string_view uuid)
{
    std::string d;
    if (!uuidDigits(uuid, d))
        throw err::invalidArg("malformed UUID '" + std::string(uuid) + "'");
    return d.substr(0, 8) + '-' + d.substr(8, 4) + '-' + d.substr(12, 4) + '-' +
           d.substr(16, 4) + '-' + d.substr(20);
}

std::string generateUUID()
{
    uint64_t hi = rng()(), lo = rng()();
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                 // version 4
    lo = (lo & ~(0xc0ULL << 56)) | (0x80ULL << 56);    // RFC 4122 variant
    char buf[37];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                  static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return buf;
}

bool isValidMAC(std::string_view mac)
{
    if (mac.size() != 17)
        return false;
    for (size_t i = 0; i < mac.size(); ++i) {
        bool ok = i % 3 == 2 ? mac[i] == ':' : hexValue(mac[i]) >= 0;
        if (!ok)
            return false;
    }
    return true;
}

std::string normalizeMAC(std::string_view mac)
{
    if (!isValidMAC(mac))
        throw makeError(ErrCode::InvalidMac, ErrDomain::Domain, std::string(mac));
    std::string out(mac);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string generateMAC()
{
    uint64_t r = rng()();
    char buf[18];
    std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", static_cast<unsigned>(r & 0xff),
                  static_cast<unsigned>((r >> 8) & 0xff), static_cast<unsigned>((r >> 16) & 0xff));
    return buf;
}

void assignMissingMACs(DomainDef& def)
{
    for (auto& net : def.devices.interfaces) {
        while (net.mac.empty()) {
            std::string mac = generateMAC();
            bool used = false;
            for (const auto& other : def.devices.interfaces)
                used = used || other.mac == mac;
            if (!used)
                net.mac = mac;
        }
    }
}

uint64_t parseMemoryKiB(std::string_view value, std::string_view unit, std::string_view what)
{
    uint64_t scale = 1024;
    if (!unit.empty()) {
        auto lower = [](std::string_view s) {
            std::string out(s);
            for (char& c : out)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return out;
        };
        std::string u = lower(unit);
        if (u == "b" || u == "byte" || u == "bytes") {
            scale = 1;
        } else {
            // libvirt's virScaleInteger: "k"/"KiB" are powers of 1024,
            // "KB" of 1000.
            uint64_t base;
            if (u.size() == 1 || u.substr(1) == "ib")
                base = 1024;
            else if (u.size() == 2 && u[1] == 'b')
                base = 1000;
            else
                throw invalidValue(unit, std::string(what) + " unit");
            static constexpr std::string_view prefixes = "kmgtpe";
            size_t power = prefixes.find(u[0]);
            if (power == std::string_view::npos)
                throw invalidValue(unit, std::string(what) + " unit");
            scale = 1;
            for (size_t i = 0; i <= power; ++i)
                scale *= base;
        }
    }
    uint64_t n = parseU64(value, what);
    const uint64_t maxBytes = static_cast<uint64_t>(LLONG_MAX);
    if (n > maxBytes / scale)
        throw makeError(ErrCode::Overflow, ErrDomain::Xml,
                        "value '" + std::string(value) + "' for " + std::string(what) +
                            " is too large");
    uint64_t bytes = n * scale;
    return bytes / 1024 + (bytes % 1024 ? 1 : 0);
}

} // namespace virtbus::xml
