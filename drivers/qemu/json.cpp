// Value and the compact serializer; the reader is in json_parse.cpp.
#include "qemu/json.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace virtbus::qemu::json {

namespace {

template <class T>
std::shared_ptr<T> deepCopy(const std::shared_ptr<T>& p)
{
    return p ? std::make_shared<T>(*p) : nullptr;
}

} // namespace

Value::Value(bool b) : v_(b) {}
Value::Value(int v) : v_(int64_t(v)) {}
Value::Value(int64_t v) : v_(v) {}
Value::Value(uint64_t v)
{
    if (v <= uint64_t(std::numeric_limits<int64_t>::max()))
        v_ = int64_t(v);
    else
        v_ = v;
}
Value::Value(unsigned v) : v_(int64_t(v)) {}
Value::Value(double v) : v_(v) {}
Value::Value(const char* s) : v_(std::string(s)) {}
Value::Value(std::string s) : v_(std::move(s)) {}
Value::Value(Array a) : v_(std::make_shared<Array>(std::move(a))) {}
Value::Value(Object o) : v_(std::make_shared<Object>(std::move(o))) {}

Value::Value(const Value& o)
{
    *this = o;
}

Value::Value(Value&& o) noexcept : v_(std::move(o.v_))
{
    o.v_ = std::monostate{};
}

Value& Value::operator=(const Value& o)
{
    if (this == &o)
        return *this;
    // Copy before assigning: `o` may live inside *this (v = v.asArray()[0]).
    decltype(v_) copy;
    if (auto a = std::get_if<std::shared_ptr<Array>>(&o.v_))
        copy = deepCopy(*a);
    else if (auto ob = std::get_if<std::shared_ptr<Object>>(&o.v_))
        copy = deepCopy(*ob);
    else
        copy = o.v_;
    v_ = std::move(copy);
    return *this;
}

Value& Value::operator=(Value&& o) noexcept
{
    if (this != &o) {
        // Moving first keeps `o` alive when it is a member of *this.
        auto tmp = std::move(o.v_);
        o.v_ = std::monostate{};
        v_ = std::move(tmp);
    }
    return *this;
}

Value::Kind Value::kind() const
{
    return static_cast<Kind>(v_.index());
}

bool Value::isNumber() const
{
    Kind k = kind();
    return k == Kind::Int || k == Kind::UInt || k == Kind::Double;
}

bool Value::asBool() const
{
    if (auto b = std::get_if<bool>(&v_))
        return *b;
    throw ParseError("expected a boolean");
}

int64_t Value::asInt() const
{
    if (auto i = std::get_if<int64_t>(&v_))
        return *i;
    // A UInt is above INT64_MAX by construction, so it never fits.
    throw ParseError(kind() == Kind::UInt ? "integer out of range" : "expected an integer");
}

uint64_t Value::asUInt() const
{
    if (auto u = std::get_if<uint64_t>(&v_))
        return *u;
    if (auto i = std::get_if<int64_t>(&v_)) {
        if (*i < 0)
            throw ParseError("expected a non-negative integer");
        return uint64_t(*i);
    }
    throw ParseError("expected an integer");
}

double Value::asDouble() const
{
    switch (kind()) {
    case Kind::Int: return double(std::get<int64_t>(v_));
    case Kind::UInt: return double(std::get<uint64_t>(v_));
    case Kind::Double: return std::get<double>(v_);
    default: throw ParseError("expected a number");
    }
}

const std::string& Value::asString() const
{
    if (auto s = std::get_if<std::string>(&v_))
        return *s;
    throw ParseError("expected a string");
}

const Array& Value::asArray() const
{
    if (auto a = std::get_if<std::shared_ptr<Array>>(&v_); a && *a)
        return **a;
    throw ParseError("expected an array");
}

const Object& Value::asObject() const
{
    if (auto o = std::get_if<std::shared_ptr<Object>>(&v_); o && *o)
        return **o;
    throw ParseError("expected an object");
}

Array& Value::asArray()
{
    return const_cast<Array&>(std::as_const(*this).asArray());
}

Object& Value::asObject()
{
    return const_cast<Object&>(std::as_const(*this).asObject());
}

const Value* Value::find(std::string_view key) const
{
    if (!isObject())
        return nullptr;
    for (const auto& [k, v] : asObject())
        if (k == key)
            return &v;
    return nullptr;
}

std::string Value::str(std::string_view key, std::string def) const
{
    const Value* v = find(key);
    return v && v->isString() ? v->asString() : def;
}

int64_t Value::integer(std::string_view key, int64_t def) const
{
    const Value* v = find(key);
    return v && v->kind() == Kind::Int ? v->asInt() : def;
}

bool Value::boolean(std::string_view key, bool def) const
{
    const Value* v = find(key);
    return v && v->kind() == Kind::Bool ? v->asBool() : def;
}

Value& Value::set(std::string key, Value v)
{
    if (isNull())
        v_ = std::make_shared<Object>();
    Object& o = asObject();
    for (auto& [k, old] : o) {
        if (k == key) {
            old = std::move(v);
            return *this;
        }
    }
    o.emplace_back(std::move(key), std::move(v));
    return *this;
}

bool Value::operator==(const Value& o) const
{
    if (kind() != o.kind())
        return false;
    switch (kind()) {
    case Kind::Array: return asArray() == o.asArray();
    case Kind::Object: return asObject() == o.asObject();
    default: return v_ == o.v_;
    }
}

namespace {

void writeString(std::string& out, const std::string& s)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

void writeDouble(std::string& out, double d)
{
    // JSON has no NaN or infinity; null is what QEMU itself would make of
    // an unrepresentable number.
    if (!std::isfinite(d)) {
        out += "null";
        return;
    }
    char buf[64];
    // Shortest form that reads back to the same double.
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view text(buf, size_t(r.ptr - buf));
    out += text;
    // "1" would parse back as an integer; keep the value a double.
    if (text.find_first_of(".eE") == std::string_view::npos)
        out += ".0";
}

void write(std::string& out, const Value& v)
{
    switch (v.kind()) {
    case Value::Kind::Null: out += "null"; break;
    case Value::Kind::Bool: out += v.asBool() ? "true" : "false"; break;
    case Value::Kind::Int: out += std::to_string(v.asInt()); break;
    case Value::Kind::UInt: out += std::to_string(v.asUInt()); break;
    case Value::Kind::Double: writeDouble(out, v.asDouble()); break;
    case Value::Kind::String: writeString(out, v.asString()); break;
    case Value::Kind::Array: {
        out += '[';
        bool first = true;
        for (const auto& e : v.asArray()) {
            if (!first)
                out += ',';
            first = false;
            write(out, e);
        }
        out += ']';
        break;
    }
    case Value::Kind::Object: {
        out += '{';
        bool first = true;
        for (const auto& [k, e] : v.asObject()) {
            if (!first)
                out += ',';
            first = false;
            writeString(out, k);
            out += ':';
            write(out, e);
        }
        out += '}';
        break;
    }
    }
}

} // namespace

std::string serialize(const Value& v)
{
    std::string out;
    write(out, v);
    return out;
}

} // namespace virtbus::qemu::json
