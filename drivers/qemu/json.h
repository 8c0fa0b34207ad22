// A small JSON value for QMP: QEMU speaks RFC 8259 JSON, one message per
// line. Objects keep member order (QMP output is easier to read and golden
// tests stay stable), numbers keep integers exact (QMP sizes are 64-bit).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace virtbus::qemu::json {

struct ParseError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

class Value {
public:
    // UInt holds only integers above INT64_MAX: every integer that fits
    // int64 is Int, however it was built, so equal numbers compare equal.
    enum class Kind { Null, Bool, Int, UInt, Double, String, Array, Object };

    Value() = default; // null
    Value(std::nullptr_t) {}
    Value(bool b);
    Value(int v);
    Value(int64_t v);
    Value(uint64_t v);
    Value(unsigned v);
    Value(double v);
    Value(const char* s);
    Value(std::string s);
    Value(Array a);
    Value(Object o);
    // Copies are deep (a Value is a value: mutating a copy never shows in the
    // original); a moved-from Value is null.
    Value(const Value& o);
    Value(Value&& o) noexcept;
    Value& operator=(const Value& o);
    Value& operator=(Value&& o) noexcept;
    ~Value() = default;

    Kind kind() const;
    bool isNull() const { return kind() == Kind::Null; }
    bool isObject() const { return kind() == Kind::Object; }
    bool isArray() const { return kind() == Kind::Array; }
    bool isString() const { return kind() == Kind::String; }
    bool isNumber() const;

    // Typed access; throw ParseError("expected ...") on a kind mismatch, so a
    // malformed QMP reply fails cleanly instead of crashing.
    bool asBool() const;
    int64_t asInt() const;   // Int, or UInt that fits
    uint64_t asUInt() const; // UInt, or non-negative Int
    double asDouble() const; // any number
    const std::string& asString() const;
    const Array& asArray() const;
    const Object& asObject() const;
    Array& asArray();
    Object& asObject();

    // Object member lookup: nullptr when absent or not an object.
    const Value* find(std::string_view key) const;
    // Convenience: member `key` as string/int, or `def` when absent or of
    // another kind.
    std::string str(std::string_view key, std::string def = {}) const;
    int64_t integer(std::string_view key, int64_t def = 0) const;
    bool boolean(std::string_view key, bool def = false) const;
    // Appends (or replaces) a member; the value must be an object (or null,
    // which becomes an empty object).
    Value& set(std::string key, Value v);

    bool operator==(const Value&) const;

private:
    std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, std::shared_ptr<Array>,
                 std::shared_ptr<Object>>
        v_;
};

// Parses one complete JSON text (surrounding whitespace allowed). Rejects
// trailing garbage, nesting deeper than 256, invalid UTF-8 escapes and
// documents over `maxBytes`.
Value parse(std::string_view text, size_t maxBytes = 64u << 20);
// Compact serialization (no newlines, so one message stays on one line).
std::string serialize(const Value& v);

} // namespace virtbus::qemu::json
