#include "typed_params.h"

namespace virtbus {

std::optional<uint64_t> paramAsUnsigned(const ParamValue& v)
{
    if (auto p = std::get_if<uint32_t>(&v))
        return *p;
    if (auto p = std::get_if<uint64_t>(&v))
        return *p;
    if (auto p = std::get_if<int32_t>(&v); p && *p >= 0)
        return static_cast<uint64_t>(*p);
    if (auto p = std::get_if<int64_t>(&v); p && *p >= 0)
        return static_cast<uint64_t>(*p);
    return std::nullopt;
}

std::optional<int64_t> paramAsSigned(const ParamValue& v)
{
    if (auto p = std::get_if<int32_t>(&v))
        return *p;
    if (auto p = std::get_if<int64_t>(&v))
        return *p;
    if (auto p = std::get_if<uint32_t>(&v))
        return *p;
    if (auto p = std::get_if<uint64_t>(&v); p && *p <= static_cast<uint64_t>(INT64_MAX))
        return static_cast<int64_t>(*p);
    return std::nullopt;
}

} // namespace virtbus
