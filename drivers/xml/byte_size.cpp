#include "xml/byte_size.h"

#include "xml/xml_util.h"

#include <cctype>
#include <climits>
#include <string>

namespace virtbus::xml {

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Bytes per unit, 0 when the unit is unknown.
uint64_t unitScale(std::string_view unit)
{
    std::string u = lower(unit);
    if (u.empty() || u == "b" || u == "byte" || u == "bytes")
        return 1;
    static constexpr std::string_view prefixes = "kmgtpe";
    size_t power = prefixes.find(u[0]);
    if (power == std::string_view::npos)
        return 0;
    uint64_t base;
    if (u.size() == 1 || u.substr(1) == "ib")
        base = 1024;
    else if (u.size() == 2 && u[1] == 'b')
        base = 1000;
    else
        return 0;
    uint64_t scale = 1;
    for (size_t i = 0; i <= power; ++i)
        scale *= base;
    return scale;
}

} // namespace

uint64_t parseByteSize(std::string_view value, std::string_view unit, std::string_view what)
{
    uint64_t scale = unitScale(unit);
    if (scale == 0)
        throw invalidValue(unit, std::string(what) + " unit");
    uint64_t n = parseU64(value, what);
    const uint64_t limit = static_cast<uint64_t>(LLONG_MAX);
    if (n > limit / scale)
        throw makeError(ErrCode::Overflow, ErrDomain::Xml,
            "value '" + std::string(value) + "' for " + std::string(what) + " is too large");
    return n * scale;
}

} // namespace virtbus::xml
