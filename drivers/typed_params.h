// libvirt's virTypedParameter list as plain C++: an ordered list of named
// values of one of libvirt's six parameter types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace virtbus {

using ParamValue = std::variant<int32_t, uint32_t, int64_t, uint64_t, double, bool, std::string>;

struct TypedParam {
    std::string name;
    ParamValue value;
};

using TypedParams = std::vector<TypedParam>;

inline const ParamValue* findParam(const TypedParams& p, std::string_view name)
{
    for (const auto& e : p)
        if (e.name == name)
            return &e.value;
    return nullptr;
}

// Numeric value of a parameter whatever integer type the client sent,
// as libvirt's virTypedParamsGet* accept only matching types but clients
// of D-Bus cannot always choose (python ints arrive as 'x' or 'i').
std::optional<uint64_t> paramAsUnsigned(const ParamValue& v);
std::optional<int64_t> paramAsSigned(const ParamValue& v);

} // namespace virtbus
