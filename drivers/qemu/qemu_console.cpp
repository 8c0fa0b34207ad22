// Serial consoles over D-Bus (org.virtbus.DomainConsole.OpenConsole): the
// device lookup and checks of libvirt's qemuDomainOpenConsole, the session
// rules of its virChrdevOpen (one client per device, FORCE takes over),
// and chardev <log> files.
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fileutil.h"
#include "qemu/qemu_console_relay.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

namespace virtbus {

namespace {

constexpr uint32_t kConsoleForce = 1, kConsoleSafe = 2; // virDomainConsoleFlags

VirtError qemuError(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Qemu, detail); }

// libvirt's order: consoles, serials, parallels by alias (and, beyond
// libvirt's console call, channels by alias or target name); "" is the
// first console, else the first serial.
const xml::ChardevDef* findDevice(const xml::DomainDef& def, const std::string& name)
{
    const auto& dev = def.devices;
    if (name.empty()) {
        if (!dev.consoles.empty())
            return &dev.consoles[0];
        return dev.serials.empty() ? nullptr : &dev.serials[0];
    }
    for (const auto* list : {&dev.consoles, &dev.serials, &dev.parallels, &dev.channels})
        for (const auto& c : *list)
            if (c.info.alias == name)
                return &c;
    for (const auto& c : dev.channels)
        if (!c.targetName.empty() && c.targetName == name)
            return &c;
    return nullptr;
}

UniqueFd openPty(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0)
        throw systemError(ErrDomain::Qemu, "Unable to open tty " + path, errno);
    // QEMU leaves its pty raw; a previous client (or getty-like tools) may
    // not have: no echo, no line discipline between guest and client.
    termios t {};
    if (::tcgetattr(fd.get(), &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(fd.get(), TCSANOW, &t);
    }
    return fd;
}

UniqueFd connectUnix(const std::string& path)
{
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw qemuError(ErrCode::InternalError, "UNIX socket path '" + path + "' too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw systemError(ErrDomain::Qemu, "Failed to connect socket to '" + path + "'", errno);
    return fd;
}

} // namespace

namespace qemu {

ChardevLog chardevLog(const xml::ChardevDef& ch)
{
    ChardevLog out;
    for (const auto& child : ch.extra.children) {
        if (!child.starts_with("<log"))
            continue;
        xmlDocPtr doc = xmlReadMemory(child.data(), int(child.size()), "log.xml", nullptr, XML_PARSE_NONET);
        if (!doc)
            continue;
        xmlNodePtr n = xmlDocGetRootElement(doc);
        auto attr = [&](const char* name) {
            std::string v;
            if (xmlChar* s = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name))) {
                v = reinterpret_cast<const char*>(s);
                xmlFree(s);
            }
            return v;
        };
        if (n && xmlStrcmp(n->name, reinterpret_cast<const xmlChar*>("log")) == 0) {
            out.file = attr("file");
            out.append = attr("append") == "on";
        }
        xmlFreeDoc(doc);
    }
    if (!out.file.empty() && out.file.front() != '/')
        throw makeError(
            ErrCode::InvalidArg, ErrDomain::Domain, "char device log path '" + out.file + "' must be absolute");
    return out;
}

} // namespace qemu

int QemuDriver::domainOpenConsole(const std::string& uuid, const std::string& devname, uint32_t flags)
{
    checkFlags(flags, kConsoleForce | kConsoleSafe, "qemuDomainOpenConsole");
    auto d = find(uuid);
    xml::DomainDef live;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || !d->live)
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        live = *d->live;
    }
    const xml::ChardevDef* ch = findDevice(live, devname);
    if (!ch)
        throw qemuError(ErrCode::InternalError,
            "cannot find character device " + (devname.empty() ? std::string("<null>") : devname));
    const std::string shown = devname.empty() ? ch->info.alias : devname;
    const std::string path = ch->sources.empty() ? "" : ch->sources[0].path;
    const bool unixServer = ch->type == "unix" && !ch->sources.empty() && ch->sources[0].mode == "bind";
    if (!(ch->type == "pty" || unixServer))
        throw qemuError(ErrCode::InternalError, "character device " + shown + " is not using a PTY");
    if (path.empty())
        throw qemuError(ErrCode::OperationFailed, "character device " + shown + " has no path yet");
    std::shared_ptr<qemu::ConsoleRelays> relays;
    {
        std::lock_guard lock(consolesMu_);
        if (!consoles_)
            consoles_ = std::make_shared<qemu::ConsoleRelays>();
        relays = consoles_;
    }
    // The device's path is the session's key: serial0 and the console that
    // mirrors it are one device.
    return relays->open(
        uuid + ":" + path, [&] { return ch->type == "pty" ? openPty(path) : connectUnix(path); },
        (flags & kConsoleForce) != 0);
}

} // namespace virtbus
