// The QMP JSON value: strict RFC 8259 parsing, exact 64-bit integers, and a
// serializer whose output parses back to the same value.
#include "qemu/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace virtbus::qemu::json;
using Kind = Value::Kind;

namespace {

void expectRejected(std::string_view text)
{
    EXPECT_THROW(parse(text), ParseError) << "accepted: " << text;
}

void expectRoundTrip(std::string_view text)
{
    Value v = parse(text);
    std::string out = serialize(v);
    EXPECT_EQ(parse(out), v) << text << " -> " << out;
    EXPECT_EQ(serialize(parse(out)), out);
}

} // namespace

TEST(QemuJson, Scalars)
{
    EXPECT_TRUE(parse("null").isNull());
    EXPECT_EQ(parse("true").asBool(), true);
    EXPECT_EQ(parse(" false ").asBool(), false);
    EXPECT_EQ(parse("0").asInt(), 0);
    EXPECT_EQ(parse("-0").asInt(), 0);
    EXPECT_EQ(parse("42").kind(), Kind::Int);
    EXPECT_EQ(parse("-17").asInt(), -17);
    EXPECT_EQ(parse("\"hi\"").asString(), "hi");
    EXPECT_EQ(parse("1.5").kind(), Kind::Double);
    EXPECT_DOUBLE_EQ(parse("1.5").asDouble(), 1.5);
    EXPECT_DOUBLE_EQ(parse("-2.5e3").asDouble(), -2500);
    EXPECT_DOUBLE_EQ(parse("1E-2").asDouble(), 0.01);
    EXPECT_DOUBLE_EQ(parse("1e+2").asDouble(), 100);
    EXPECT_EQ(parse("1e2").kind(), Kind::Double);
    EXPECT_EQ(parse("\t\r\n 7 \n").asInt(), 7);
}

TEST(QemuJson, IntegersStayExact)
{
    EXPECT_EQ(parse("9223372036854775807").asInt(), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(parse("-9223372036854775808").asInt(), std::numeric_limits<int64_t>::min());
    Value big = parse("18446744073709551615");
    EXPECT_EQ(big.kind(), Kind::UInt);
    EXPECT_EQ(big.asUInt(), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(parse("9223372036854775808").asUInt(), uint64_t(1) << 63);
    // Beyond 64 bits: a double, like QEMU's own parser.
    EXPECT_EQ(parse("18446744073709551616").kind(), Kind::Double);
    EXPECT_DOUBLE_EQ(parse("18446744073709551616").asDouble(), 18446744073709551616.0);
    EXPECT_EQ(parse("-9223372036854775809").kind(), Kind::Double);
    EXPECT_EQ(parse("123456789012345678901234567890").kind(), Kind::Double);
    // Every integer that fits int64 is Int, however it was built.
    EXPECT_EQ(Value(uint64_t(5)).kind(), Kind::Int);
    EXPECT_EQ(Value(uint64_t(5)), parse("5"));
    EXPECT_EQ(Value(5u), Value(5));
    EXPECT_EQ(Value(std::numeric_limits<uint64_t>::max()), big);
}

TEST(QemuJson, Containers)
{
    Value v = parse(R"({"b": [1, "two", {"three": 3.0}, [], {}], "a": null, "c": true})");
    ASSERT_TRUE(v.isObject());
    const Object& o = v.asObject();
    ASSERT_EQ(o.size(), 3u);
    // Member order is kept.
    EXPECT_EQ(o[0].first, "b");
    EXPECT_EQ(o[1].first, "a");
    EXPECT_EQ(o[2].first, "c");
    const Array& b = v.find("b")->asArray();
    ASSERT_EQ(b.size(), 5u);
    EXPECT_EQ(b[1].asString(), "two");
    EXPECT_DOUBLE_EQ(b[2].find("three")->asDouble(), 3.0);
    EXPECT_TRUE(b[3].asArray().empty());
    EXPECT_TRUE(b[4].asObject().empty());
    EXPECT_TRUE(v.find("a")->isNull());
    EXPECT_EQ(v.find("missing"), nullptr);
    EXPECT_EQ(b[0].find("x"), nullptr); // not an object
}

TEST(QemuJson, StringEscapes)
{
    EXPECT_EQ(parse(R"("a\"b\\c\/d\b\f\n\r\t")").asString(), "a\"b\\c/d\b\f\n\r\t");
    EXPECT_EQ(parse(R"("\u0041\u00e9\u20AC")").asString(), "A\xc3\xa9\xe2\x82\xac");
    // A surrogate pair becomes one 4-byte UTF-8 sequence (U+1F600).
    EXPECT_EQ(parse(R"("\ud83d\ude00")").asString(), "\xf0\x9f\x98\x80");
    EXPECT_EQ(parse(R"("\u0000")").asString(), std::string(1, '\0'));
    // Raw UTF-8 passes through.
    EXPECT_EQ(parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"").asString(), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(QemuJson, RejectsBadStrings)
{
    expectRejected(R"("abc)");          // unterminated
    expectRejected(R"("abc\)");         // truncated escape
    expectRejected(R"("\x41")");        // unknown escape
    expectRejected(R"("\u12")");        // short \u
    expectRejected(R"("\u12G4")");      // bad hex digit
    expectRejected(R"("\ud83d")");      // lone high surrogate
    expectRejected(R"("\ud83dx")");     // high surrogate then text
    expectRejected(R"("\ud83d\u0041")"); // high surrogate then not a low one
    expectRejected(R"("\ude00")");      // lone low surrogate
    expectRejected("\"a\nb\"");         // raw control characters
    expectRejected("\"a\tb\"");
    expectRejected(std::string("\"a\0b\"", 5));
    expectRejected("\"\xff\"");             // not UTF-8
    expectRejected("\"\xc0\xaf\"");         // overlong '/'
    expectRejected("\"\xe0\x80\xaf\"");     // overlong, 3 bytes
    expectRejected("\"\xed\xa0\x80\"");     // UTF-8-encoded surrogate
    expectRejected("\"\xf4\x90\x80\x80\""); // above U+10FFFF
    expectRejected("\"\xc3\"");             // truncated sequence
    expectRejected("\"\xe2\x82\"");
    expectRejected("\"\x80\"");             // continuation byte alone
    expectRejected("'single'");
}

TEST(QemuJson, RejectsBadNumbers)
{
    for (const char* text : {"01", "-", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-a", "0x10", "1_000", "NaN", "-NaN",
                             "Infinity", "-Infinity", "inf", "1e400", "-1e400", "--1", "- 1"})
        expectRejected(text);
}

TEST(QemuJson, RejectsBadStructure)
{
    for (const char* text :
         {"", "   ", "[", "]", "{", "}", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{a:1}",
          "{\"a\":1 \"b\":2}", "{1:2}", "[1]]", "{}}", "nul", "tru", "falsey", "null null", "1 2", "[1] x", "{} {}",
          "\"a\" \"b\"", "[\"a\":1]", "{\"a\"}", "\xef\xbb\xbf{}", "[1,\n", "{\"a\":[1,{\"b\":"})
        expectRejected(text);
    // Whitespace is only space, tab, CR and LF.
    expectRejected("\f1");
    expectRejected("\v1");
}

TEST(QemuJson, DepthLimit)
{
    std::string ok = std::string(256, '[') + std::string(256, ']');
    EXPECT_NO_THROW(parse(ok));
    std::string deep = std::string(257, '[') + std::string(257, ']');
    expectRejected(deep);
    std::string objects;
    for (int i = 0; i < 257; ++i)
        objects += "{\"a\":";
    objects += "1" + std::string(257, '}');
    expectRejected(objects);
    // A bomb fails fast without exhausting the stack.
    expectRejected(std::string(1'000'000, '['));
}

TEST(QemuJson, SizeLimit)
{
    EXPECT_NO_THROW(parse("[1,2,3]", 7));
    EXPECT_THROW(parse("[1,2,3]", 6), ParseError);
    EXPECT_THROW(parse(std::string(100, ' ') + "1", 64), ParseError);
}

TEST(QemuJson, TypedAccessErrors)
{
    Value s("x"), i(-1), u(std::numeric_limits<uint64_t>::max()), d(1.5), n, b(true);
    EXPECT_THROW(s.asInt(), ParseError);
    EXPECT_THROW(s.asBool(), ParseError);
    EXPECT_THROW(s.asDouble(), ParseError);
    EXPECT_THROW(s.asArray(), ParseError);
    EXPECT_THROW(s.asObject(), ParseError);
    EXPECT_THROW(i.asString(), ParseError);
    EXPECT_THROW(i.asUInt(), ParseError); // negative
    EXPECT_THROW(u.asInt(), ParseError);  // does not fit
    EXPECT_EQ(u.asDouble(), 18446744073709551615.0);
    EXPECT_THROW(d.asInt(), ParseError);
    EXPECT_THROW(d.asUInt(), ParseError);
    EXPECT_THROW(n.asBool(), ParseError);
    EXPECT_THROW(b.asInt(), ParseError);
    EXPECT_EQ(Value(7).asUInt(), 7u);
    EXPECT_EQ(i.asDouble(), -1.0);
    EXPECT_TRUE(d.isNumber() && i.isNumber() && u.isNumber());
    EXPECT_FALSE(s.isNumber() || n.isNumber() || b.isNumber());
    EXPECT_THROW(s.set("k", 1), ParseError);
    Value arr = Array{Value(1)};
    EXPECT_THROW(arr.set("k", 1), ParseError);
    const Value& carr = arr;
    EXPECT_THROW(carr.asObject(), ParseError);
}

TEST(QemuJson, Convenience)
{
    Value v = parse(R"({"s": "x", "i": -5, "u": 18446744073709551615, "b": true, "d": 2.5})");
    EXPECT_EQ(v.str("s"), "x");
    EXPECT_EQ(v.str("i", "def"), "def");
    EXPECT_EQ(v.str("missing", "def"), "def");
    EXPECT_EQ(v.integer("i"), -5);
    EXPECT_EQ(v.integer("u", 9), 9); // does not fit int64
    EXPECT_EQ(v.integer("d", 9), 9);
    EXPECT_EQ(v.integer("s", 9), 9);
    EXPECT_TRUE(v.boolean("b"));
    EXPECT_TRUE(v.boolean("i", true));
    EXPECT_FALSE(v.boolean("missing"));
    EXPECT_EQ(Value(3).str("x", "def"), "def"); // not an object
}

TEST(QemuJson, SetBuildsObjects)
{
    Value v;
    v.set("execute", "query-status").set("id", 1);
    v.set("arguments", Object{{"a", Value(true)}});
    v.set("id", 2); // replaces in place
    EXPECT_EQ(serialize(v), R"({"execute":"query-status","id":2,"arguments":{"a":true}})");
}

TEST(QemuJson, CopiesAreDeep)
{
    Value a = parse(R"({"list": [1, 2]})");
    Value b = a;
    b.asObject()[0].second.asArray().push_back(3);
    EXPECT_EQ(serialize(a), R"({"list":[1,2]})");
    EXPECT_EQ(serialize(b), R"({"list":[1,2,3]})");
    Value c;
    c = a;
    c.set("x", 1);
    EXPECT_EQ(a.find("x"), nullptr);
    // Assigning a part of a value to itself.
    a = a.asObject()[0].second;
    EXPECT_EQ(serialize(a), "[1,2]");
    a = a.asArray()[1];
    EXPECT_EQ(a, Value(2));
    Value moved = std::move(b);
    EXPECT_TRUE(b.isNull()); // NOLINT: moved-from is specified as null
    EXPECT_EQ(moved.find("list")->asArray().size(), 3u);
}

TEST(QemuJson, Equality)
{
    EXPECT_EQ(parse(R"({"a":[1,"x",null]})"), parse(R"({ "a" : [ 1 , "x" , null ] })"));
    EXPECT_NE(parse(R"({"a":1,"b":2})"), parse(R"({"b":2,"a":1})")); // order is kept, so it counts
    EXPECT_NE(parse("1"), parse("1.0"));
    EXPECT_NE(parse("[1]"), parse("[1,2]"));
    EXPECT_NE(parse("\"1\""), parse("1"));
    EXPECT_NE(parse("{}"), parse("[]"));
    EXPECT_EQ(Value(), Value(nullptr));
}

TEST(QemuJson, SerializerEscapes)
{
    EXPECT_EQ(serialize(Value(std::string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f", 14))),
              R"("q\"b\\s/\b\f\n\r\t\u0001\u001f\u007f")");
    EXPECT_EQ(serialize(Value(std::string(1, '\0'))), R"("\u0000")");
    EXPECT_EQ(serialize(Value("\xc3\xa9")), "\"\xc3\xa9\"");
    // One message per line: no raw newline ever.
    EXPECT_EQ(serialize(parse("{\n\"a\"\n:\n[\n1\n]\n}")), R"({"a":[1]})");
}

TEST(QemuJson, Doubles)
{
    EXPECT_EQ(serialize(Value(1.0)), "1.0");
    EXPECT_EQ(serialize(Value(-0.0)), "-0.0");
    EXPECT_EQ(serialize(Value(0.1)), "0.1");
    EXPECT_EQ(serialize(Value(1e100)), "1e+100");
    for (double d : {0.1, 1.0 / 3, 2.5e-300, 1.7976931348623157e308, 4.9e-324, -123456.789, 1e21, 9007199254740993.0}) {
        Value back = parse(serialize(Value(d)));
        EXPECT_EQ(back.kind(), Kind::Double);
        EXPECT_EQ(back.asDouble(), d) << serialize(Value(d));
    }
    EXPECT_EQ(serialize(Value(std::nan(""))), "null");
    EXPECT_EQ(serialize(Value(std::numeric_limits<double>::infinity())), "null");
}

TEST(QemuJson, RoundTrips)
{
    for (const char* text :
         {"null", "true", "[]", "{}", "-9223372036854775808", "18446744073709551615", "1e-7", R"("\u0001\u007f")",
          R"({"return": {"status": "running", "singlestep": false, "running": true}, "id": 7})",
          R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"},
               "capabilities": ["oob"]}})",
          R"({"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"},
               "timestamp": {"seconds": 1700000000, "microseconds": 123456}})",
          R"([[[[[]]]], {"a": {"b": {"c": [1.25, -0.5, "\ud83d\ude00 \\ \" /"]}}}])"})
        expectRoundTrip(text);
}
