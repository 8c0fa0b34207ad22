// The strict RFC 8259 reader: what QEMU (or whatever listens on its
// monitor socket) sends is untrusted, so every malformed input is a
// ParseError and nothing recurses deeper than 256 levels.
#include "qemu/json.h"

#include <charconv>
#include <cmath>

namespace virtbus::qemu::json {

namespace {

constexpr int kMaxDepth = 256;

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    Value document()
    {
        skipWs();
        Value v = value(0);
        skipWs();
        if (p_ != s_.size())
            fail("trailing characters after the JSON value");
        return v;
    }

private:
    std::string_view s_;
    size_t p_ = 0;

    [[noreturn]] void fail(const std::string& what) const
    {
        throw ParseError("invalid JSON at offset " + std::to_string(p_) + ": " + what);
    }

    bool atEnd() const { return p_ >= s_.size(); }
    char peek() const { return atEnd() ? '\0' : s_[p_]; }

    void skipWs()
    {
        while (!atEnd() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r'))
            ++p_;
    }

    void expect(char c)
    {
        if (atEnd())
            fail(std::string("unexpected end, expected '") + c + "'");
        if (s_[p_] != c)
            fail(std::string("expected '") + c + "'");
        ++p_;
    }

    Value value(int depth)
    {
        if (atEnd())
            fail("unexpected end of input");
        switch (s_[p_]) {
        case '{': return object(depth + 1);
        case '[': return array(depth + 1);
        case '"': return Value(string());
        case 't': literal("true"); return Value(true);
        case 'f': literal("false"); return Value(false);
        case 'n': literal("null"); return Value();
        default:
            if (s_[p_] == '-' || (s_[p_] >= '0' && s_[p_] <= '9'))
                return number();
            fail("unexpected character");
        }
    }

    void literal(std::string_view word)
    {
        if (s_.substr(p_, word.size()) != word)
            fail("invalid literal");
        p_ += word.size();
    }

    Value object(int depth)
    {
        if (depth > kMaxDepth)
            fail("nesting deeper than " + std::to_string(kMaxDepth));
        ++p_;
        Object o;
        skipWs();
        if (peek() == '}') {
            ++p_;
            return Value(std::move(o));
        }
        for (;;) {
            skipWs();
            if (peek() != '"')
                fail(atEnd() ? "unexpected end in object" : "expected a member name");
            std::string key = string();
            skipWs();
            expect(':');
            skipWs();
            o.emplace_back(std::move(key), value(depth));
            skipWs();
            if (peek() == ',') {
                ++p_;
                continue;
            }
            expect('}');
            return Value(std::move(o));
        }
    }

    Value array(int depth)
    {
        if (depth > kMaxDepth)
            fail("nesting deeper than " + std::to_string(kMaxDepth));
        ++p_;
        Array a;
        skipWs();
        if (peek() == ']') {
            ++p_;
            return Value(std::move(a));
        }
        for (;;) {
            skipWs();
            a.push_back(value(depth));
            skipWs();
            if (peek() == ',') {
                ++p_;
                continue;
            }
            expect(']');
            return Value(std::move(a));
        }
    }

    static bool isDigit(char c) { return c >= '0' && c <= '9'; }

    Value number()
    {
        size_t start = p_;
        bool integral = true;
        if (peek() == '-')
            ++p_;
        if (peek() == '0') {
            ++p_;
            if (isDigit(peek()))
                fail("leading zero in a number");
        } else if (isDigit(peek())) {
            while (isDigit(peek()))
                ++p_;
        } else {
            fail("expected a digit");
        }
        if (peek() == '.') {
            integral = false;
            ++p_;
            if (!isDigit(peek()))
                fail("expected a digit after '.'");
            while (isDigit(peek()))
                ++p_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++p_;
            if (peek() == '+' || peek() == '-')
                ++p_;
            if (!isDigit(peek()))
                fail("expected a digit in the exponent");
            while (isDigit(peek()))
                ++p_;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + p_;
        if (integral) {
            if (*first == '-') {
                int64_t i = 0;
                auto r = std::from_chars(first, last, i);
                if (r.ec == std::errc() && r.ptr == last)
                    return Value(i);
            } else {
                uint64_t u = 0;
                auto r = std::from_chars(first, last, u);
                if (r.ec == std::errc() && r.ptr == last)
                    return Value(u);
            }
        }
        // Integers beyond 64 bits become doubles, like in QEMU's parser.
        double d = 0;
        auto r = std::from_chars(first, last, d);
        if (r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && !std::isfinite(d)))
            fail("number out of range");
        if (r.ec != std::errc() || r.ptr != last)
            fail("invalid number");
        return Value(d);
    }

    unsigned hex4()
    {
        if (s_.size() - p_ < 4)
            fail("truncated \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = s_[p_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= unsigned(c - 'A' + 10);
            else
                fail("invalid hex digit in \\u escape");
        }
        return v;
    }

    static void appendUtf8(std::string& out, unsigned cp)
    {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    void escape(std::string& out)
    {
        if (atEnd())
            fail("truncated escape");
        char c = s_[p_++];
        switch (c) {
        case '"': out += '"'; return;
        case '\\': out += '\\'; return;
        case '/': out += '/'; return;
        case 'b': out += '\b'; return;
        case 'f': out += '\f'; return;
        case 'n': out += '\n'; return;
        case 'r': out += '\r'; return;
        case 't': out += '\t'; return;
        case 'u': break;
        default: fail("invalid escape");
        }
        unsigned cp = hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            fail("lone low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(p_, 2) != "\\u")
                fail("lone high surrogate in \\u escape");
            p_ += 2;
            unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF)
                fail("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        appendUtf8(out, cp);
    }

    // Raw bytes must be well-formed UTF-8 (no overlongs, no surrogates, at
    // most U+10FFFF): strings end up on D-Bus, which rejects anything else.
    void utf8Sequence(std::string& out)
    {
        auto b0 = static_cast<unsigned char>(s_[p_]);
        int len;
        unsigned cp, min;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
            cp = b0 & 0x1F;
            min = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            cp = b0 & 0x0F;
            min = 0x800;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            cp = b0 & 0x07;
            min = 0x10000;
        } else {
            fail("invalid UTF-8");
        }
        if (s_.size() - p_ < size_t(len))
            fail("truncated UTF-8 sequence");
        for (int i = 1; i < len; ++i) {
            auto b = static_cast<unsigned char>(s_[p_ + i]);
            if ((b & 0xC0) != 0x80)
                fail("invalid UTF-8");
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            fail("invalid UTF-8");
        out.append(s_.substr(p_, len));
        p_ += len;
    }

    std::string string()
    {
        ++p_; // the opening quote
        std::string out;
        for (;;) {
            if (atEnd())
                fail("unterminated string");
            auto c = static_cast<unsigned char>(s_[p_]);
            if (c == '"') {
                ++p_;
                return out;
            }
            if (c == '\\') {
                ++p_;
                escape(out);
            } else if (c < 0x20) {
                fail("control character in string");
            } else if (c < 0x80) {
                // Copy the plain run in one go: long strings are the common case.
                size_t end = p_;
                while (end < s_.size() && s_[end] != '"' && s_[end] != '\\' &&
                       static_cast<unsigned char>(s_[end]) >= 0x20 && static_cast<unsigned char>(s_[end]) < 0x80)
                    ++end;
                out.append(s_.substr(p_, end - p_));
                p_ = end;
            } else {
                utf8Sequence(out);
            }
        }
    }
};

} // namespace

Value parse(std::string_view text, size_t maxBytes)
{
    if (text.size() > maxBytes)
        throw ParseError("JSON document of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                         std::to_string(maxBytes));
    return Parser(text).document();
}

} // namespace virtbus::qemu::json
