// Fuzzes what QEMU's monitor can send us: the JSON parser and the QMP
// message shapes. Rejecting input with ParseError is fine; anything else
// escaping, crashing or leaking is not. Whatever parses must serialize,
// parse back to the same value and serialize to the same text.
#include "qemu/json.h"
#include "qemu/qmp.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace virtbus::qemu;

namespace {

// Walks the value through the typed accessors the driver uses, which must
// throw ParseError or answer, never misbehave.
void touch(const json::Value& v, int depth)
{
    if (depth > 300)
        std::abort(); // the parser promised at most 256 levels
    try {
        (void)v.asInt();
    } catch (const json::ParseError&) {
    }
    try {
        (void)v.asUInt();
    } catch (const json::ParseError&) {
    }
    (void)v.str("class");
    (void)v.integer("seconds");
    (void)v.boolean("running");
    if (v.isArray())
        for (const auto& e : v.asArray())
            touch(e, depth + 1);
    if (v.isObject())
        for (const auto& [k, e] : v.asObject())
            touch(e, depth + 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)parseQmpMessage(text);
    } catch (const json::ParseError&) {
    }
    json::Value v;
    try {
        v = json::parse(text);
    } catch (const json::ParseError&) {
        return 0;
    }
    touch(v, 0);
    // No try block: serialized output that does not parse is a bug, and the
    // uncaught exception makes libFuzzer report it with the input.
    std::string out = json::serialize(v);
    json::Value again = json::parse(out);
    if (!(again == v) || json::serialize(again) != out)
        std::abort();
    json::Value copy = v;
    if (!(copy == v))
        std::abort();
    return 0;
}
