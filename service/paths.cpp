#include "paths.h"

namespace virtbus::paths {

namespace {

bool isAlnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; // upper case is never produced, so never accepted: one object, one path
}

bool isHex(char c) { return hexValue(c) >= 0; }

} // namespace

std::string encode(std::string_view raw)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 3);
    for (unsigned char c : raw) {
        if (isAlnum(c)) {
            out += static_cast<char>(c);
        } else {
            out += '_';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

std::optional<std::string> decode(std::string_view enc)
{
    std::string out;
    out.reserve(enc.size());
    for (size_t i = 0; i < enc.size(); ++i) {
        char c = enc[i];
        if (c != '_') {
            if (!isAlnum(static_cast<unsigned char>(c)))
                return std::nullopt;
            out += c;
            continue;
        }
        if (i + 2 >= enc.size())
            return std::nullopt;
        int hi = hexValue(enc[i + 1]), lo = hexValue(enc[i + 2]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        char b = static_cast<char>(hi * 16 + lo);
        // A byte encode() would have kept verbatim means a non-canonical
        // spelling: two paths for one object would break path comparison.
        if (isAlnum(static_cast<unsigned char>(b)))
            return std::nullopt;
        out += b;
        i += 2;
    }
    return out;
}

std::string uuidElement(std::string_view uuid)
{
    std::string out = "_";
    for (char c : uuid)
        out += c == '-' ? '_' : c;
    return out;
}

std::optional<std::string> uuidFromElement(std::string_view e)
{
    if (e.size() != 37 || e[0] != '_')
        return std::nullopt;
    std::string out;
    out.reserve(36);
    for (size_t i = 1; i < e.size(); ++i) {
        size_t pos = i - 1;
        bool dash = pos == 8 || pos == 13 || pos == 18 || pos == 23;
        if (dash) {
            if (e[i] != '_')
                return std::nullopt;
            out += '-';
        } else {
            if (!isHex(e[i]))
                return std::nullopt;
            out += e[i];
        }
    }
    return out;
}

std::string child(std::string_view conn, std::string_view kind, std::string_view element)
{
    std::string p(conn);
    p += '/';
    p += kind;
    p += '/';
    p += element;
    return p;
}

std::optional<std::string_view> childElement(std::string_view path, std::string_view prefix)
{
    if (path.size() <= prefix.size() + 1 || path.substr(0, prefix.size()) != prefix || path[prefix.size()] != '/')
        return std::nullopt;
    auto e = path.substr(prefix.size() + 1);
    if (e.find('/') != std::string_view::npos)
        return std::nullopt;
    return e;
}

std::string uuidChild(std::string_view conn, std::string_view kind, std::string_view uuid)
{
    return child(conn, kind, uuidElement(uuid));
}

std::optional<std::string> uuidOfChild(std::string_view conn, std::string_view kind, std::string_view path)
{
    auto e = childElement(path, std::string(conn) + "/" + std::string(kind));
    if (!e)
        return std::nullopt;
    return uuidFromElement(*e);
}

std::string encodedChild(std::string_view conn, std::string_view kind, std::string_view key)
{
    // An empty key would end the path in "/", which D-Bus forbids.
    return child(conn, kind, key.empty() ? std::string("_") : encode(key));
}

std::optional<std::string> keyOfChild(std::string_view conn, std::string_view kind, std::string_view path)
{
    auto e = childElement(path, std::string(conn) + "/" + std::string(kind));
    if (!e)
        return std::nullopt;
    return decode(*e);
}

std::string domain(std::string_view conn, std::string_view uuid) { return uuidChild(conn, "domain", uuid); }

std::optional<std::string> domainUuid(std::string_view conn, std::string_view path)
{
    return uuidOfChild(conn, "domain", path);
}

std::string snapshot(std::string_view conn, std::string_view uuid, std::string_view name)
{
    return child(conn, "domainsnapshot", uuidElement(uuid) + "_" + encode(name));
}

std::optional<SnapshotKey> snapshotKey(std::string_view conn, std::string_view path)
{
    auto e = childElement(path, std::string(conn) + "/domainsnapshot");
    if (!e || e->size() < 39 || (*e)[37] != '_')
        return std::nullopt;
    auto uuid = uuidFromElement(e->substr(0, 37));
    auto name = decode(e->substr(38));
    if (!uuid || !name || name->empty())
        return std::nullopt;
    return SnapshotKey{*uuid, *name};
}

} // namespace virtbus::paths
