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
