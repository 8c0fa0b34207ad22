// Runtime status records and names that become file names.
#include <cstdlib>
#include <sstream>

#include "error.h"
#include "qemu/qemu_internal.h"

namespace virtbus::qemu {

std::string formatStatus(const Status& s)
{
    // One key=value per line: trivially parsed, and readable by an
    // administrator wondering what virtbusd thinks a guest is.
    std::ostringstream o;
    o << "pid=" << s.pid << "\nstarttime=" << s.startTime << "\nid=" << s.id << "\nstate=" << s.state
      << "\nreason=" << s.reason << "\nautodestroy=" << (s.autodestroy ? 1 : 0)
      << "\npersistent=" << (s.persistent ? 1 : 0) << "\n\n"
      << s.liveXML;
    return o.str();
}

std::optional<Status> parseStatus(const std::string& text)
{
    Status s;
    bool havePid = false, haveStart = false, haveId = false;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) {
            // The rest is the live XML.
            auto pos = in.tellg();
            if (pos >= 0)
                s.liveXML = text.substr(static_cast<size_t>(pos));
            break;
        }
        auto eq = line.find('=');
        if (eq == std::string::npos)
            return std::nullopt;
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || errno != 0)
            return std::nullopt;
        if (key == "pid") {
            if (v <= 1 || v > 1 << 30)
                return std::nullopt;
            s.pid = static_cast<pid_t>(v);
            havePid = true;
        } else if (key == "starttime") {
            if (v <= 0)
                return std::nullopt;
            s.startTime = static_cast<uint64_t>(v);
            haveStart = true;
        } else if (key == "id") {
            if (v < 1 || v > 1 << 30)
                return std::nullopt;
            s.id = static_cast<int>(v);
            haveId = true;
        } else if (key == "state") {
            s.state = static_cast<int>(v);
        } else if (key == "reason") {
            s.reason = static_cast<int>(v);
        } else if (key == "autodestroy") {
            s.autodestroy = v != 0;
        } else if (key == "persistent") {
            s.persistent = v != 0;
        }
        // Unknown keys: written by a newer virtbusd; ignore them.
    }
    if (!havePid || !haveStart || !haveId)
        return std::nullopt;
    return s;
}

namespace {

// Paths are one line each: '%' and newlines are escaped.
std::string escapePath(const std::string& p)
{
    std::string out;
    for (char c : p) {
        if (c == '%')
            out += "%25";
        else if (c == '\n')
            out += "%0A";
        else
            out += c;
    }
    return out;
}

std::optional<std::string> unescapePath(const std::string& p)
{
    std::string out;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] != '%') {
            out += p[i];
        } else if (p.compare(i, 3, "%25") == 0) {
            out += '%';
            i += 2;
        } else if (p.compare(i, 3, "%0A") == 0) {
            out += '\n';
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

} // namespace

std::string formatHostChanges(const std::vector<HostChange>& changes)
{
    std::ostringstream o;
    for (const auto& c : changes) {
        if (c.kind == HostChange::Owner)
            o << "owner " << c.uid << ' ' << c.gid << ' ' << std::oct << c.mode << std::dec << ' ';
        else
            o << "socket ";
        o << c.dev << ' ' << c.ino << ' ' << escapePath(c.path) << '\n';
    }
    return o.str();
}

std::optional<std::vector<HostChange>> parseHostChanges(const std::string& text)
{
    std::vector<HostChange> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        std::istringstream l(line);
        std::string kind;
        HostChange c;
        unsigned long long uid = 0, gid = 0, mode = 0, dev = 0, ino = 0;
        l >> kind;
        if (kind == "owner") {
            c.kind = HostChange::Owner;
            l >> uid >> gid >> std::oct >> mode >> std::dec;
        } else if (kind == "socket") {
            c.kind = HostChange::Socket;
        } else {
            return std::nullopt;
        }
        l >> dev >> ino;
        if (!l || l.get() != ' ' || mode > 07777 || uid > 0xfffffffe || gid > 0xfffffffe)
            return std::nullopt;
        std::string rest;
        std::getline(l, rest);
        auto path = unescapePath(rest);
        if (!path || path->empty() || path->front() != '/')
            return std::nullopt;
        c.path = *path;
        c.uid = static_cast<uid_t>(uid);
        c.gid = static_cast<gid_t>(gid);
        c.mode = static_cast<mode_t>(mode);
        c.dev = static_cast<dev_t>(dev);
        c.ino = static_cast<ino_t>(ino);
        out.push_back(std::move(c));
    }
    return out;
}

void checkDomainName(const std::string& name)
{
    if (name.empty())
        throw err::xml("missing name information");
    if (name.size() > 200)
        throw err::invalidArg("domain name is longer than 200 bytes");
    if (name == "." || name == ".." || name.front() == '.')
        throw err::xml("name '" + name + "' cannot start with '.'");
    for (unsigned char c : name) {
        if (c == '/')
            throw err::xml("name " + name + " cannot contain '/'");
        if (c < 0x20 || c == 0x7f)
            throw err::xml("name cannot contain control characters");
    }
}

} // namespace virtbus::qemu
