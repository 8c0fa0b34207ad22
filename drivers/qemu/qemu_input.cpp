// Guest input and display: SendKey, InjectNMI, OpenGraphicsFD and
// Screenshot (libvirt's qemuDomainSendKey, qemuDomainInjectNMI,
// qemuDomainOpenGraphicsFD, qemuDomainScreenshot: their checks and texts).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "fileutil.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_keymap.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

namespace {

constexpr size_t kMaxKeys = 16; // VIR_DOMAIN_SEND_KEY_MAX_KEYS
constexpr uint32_t kGraphicsSkipAuth = 1; // VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH

VirtError bareInvalidArg(std::string message)
{
    return VirtError(ErrCode::InvalidArg, ErrDomain::Domain, std::move(message));
}

VirtError qemuError(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Qemu, detail); }

// A QMP failure as libvirt words it.
VirtError commandFailed(const std::string& cmd, const std::exception& e)
{
    if (const auto* q = dynamic_cast<const qemu::QmpError*>(&e))
        return qemuError(ErrCode::InternalError, "unable to execute QEMU command '" + cmd + "': " + q->desc);
    return qemuError(ErrCode::OperationFailed, "domain is not running");
}

json::Value run(qemu::Monitor& mon, const std::string& cmd, json::Value args = {})
{
    try {
        return mon.execute(cmd, std::move(args));
    } catch (const qemu::QmpError& e) {
        throw commandFailed(cmd, e);
    } catch (const qemu::MonitorClosed& e) {
        throw commandFailed(cmd, e);
    }
}

} // namespace

std::shared_ptr<qemu::Monitor> QemuDriver::runningMonitor(const DomPtr& d, xml::DomainDef* live)
{
    std::lock_guard lock(mu_);
    if (!d->active() || !d->mon)
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
    if (live)
        *live = *d->live;
    return d->mon;
}

void QemuDriver::domainSendKey(
    const std::string& uuid, uint32_t codeset, uint32_t holdtime, const std::vector<uint32_t>& keycodes, uint32_t flags)
{
    // virDomainSendKey's own checks come before the driver's.
    if (keycodes.empty())
        throw bareInvalidArg("nkeycodes in virDomainSendKey must be greater than zero");
    if (keycodes.size() > kMaxKeys)
        throw bareInvalidArg("nkeycodes must be <= 16");
    if (codeset >= qemu::kCodesetCount)
        throw bareInvalidArg("Unsupported codeset '" + std::to_string(codeset) + "'");
    checkFlags(flags, 0, "qemuDomainSendKey");
    json::Array keys;
    for (uint32_t code : keycodes) {
        int q = qemu::toQnum(codeset, code);
        if (q < 0)
            throw qemuError(ErrCode::InternalError,
                "cannot translate keycode " + std::to_string(code) + " of " + qemu::codesetName(codeset)
                    + " codeset to qnum keycode");
        keys.push_back(json::Object {{"type", "number"}, {"data", int64_t(q)}});
    }
    auto d = find(uuid);
    std::lock_guard job(d->job);
    auto mon = runningMonitor(d, nullptr);
    json::Object args {{"keys", std::move(keys)}};
    if (holdtime)
        args.emplace_back("hold-time", int64_t(holdtime));
    run(*mon, "send-key", std::move(args));
}

void QemuDriver::domainInjectNMI(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainInjectNMI");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    auto mon = runningMonitor(d, nullptr);
    run(*mon, "inject-nmi");
}

int QemuDriver::domainOpenGraphicsFD(const std::string& uuid, uint32_t idx, uint32_t flags)
{
    checkFlags(flags, kGraphicsSkipAuth, "qemuDomainOpenGraphicsFD");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    xml::DomainDef live;
    auto mon = runningMonitor(d, &live);
    if (idx >= live.devices.graphics.size())
        throw qemuError(ErrCode::InternalError, "No graphics backend with index " + std::to_string(idx));
    const std::string& type = live.devices.graphics[idx].type;
    // SPICE and D-Bus displays are refused before QEMU starts.
    if (type != "vnc")
        throw qemuError(
            ErrCode::ArgumentUnsupported, "Can only open VNC, SPICE or D-Bus p2p graphics backends, not " + type);
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        throw systemError(ErrDomain::Qemu, "Failed to create socket", errno);
    UniqueFd mine(pair[0]), theirs(pair[1]);
    const std::string fdname = "graphicsfd";
    try {
        mon->executeWithFd("getfd", json::Object {{"fdname", fdname}}, theirs.get());
    } catch (const std::exception& e) {
        throw commandFailed("getfd", e);
    }
    try {
        mon->execute("add_client",
            json::Object {{"protocol", "vnc"}, {"fdname", fdname}, {"skipauth", (flags & kGraphicsSkipAuth) != 0}});
    } catch (const std::exception& e) {
        try {
            mon->execute("closefd", json::Object {{"fdname", fdname}});
        } catch (const std::exception&) {
            // The monitor is gone: so is the fd.
        }
        throw commandFailed("add_client", e);
    }
    return mine.release();
}

std::pair<std::string, int> QemuDriver::domainScreenshot(const std::string& uuid, uint32_t screen, uint32_t flags)
{
    checkFlags(flags, 0, "qemuDomainScreenshot");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    xml::DomainDef live;
    auto mon = runningMonitor(d, &live);
    if (live.devices.videos.empty() || (live.devices.videos.size() == 1 && live.devices.videos[0].model == "none"))
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Qemu, "no screens to take screenshot from");
    std::string device;
    if (screen) {
        uint32_t left = screen;
        for (const auto& v : live.devices.videos) {
            unsigned heads = v.heads.value_or(1) ? v.heads.value_or(1) : 1;
            if (left < heads) {
                device = v.info.alias;
                break;
            }
            left -= heads;
        }
        if (device.empty())
            throw qemuError(ErrCode::InvalidArg, "no such screen ID");
    }
    // QEMU may run as another user: it writes through an fd of ours (an
    // fdset), into a file only virtbusd can reach, unlinked at once.
    std::string tmpl = cfg_.stateDir + "/qemu.screendump.XXXXXX";
    int raw = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (raw < 0)
        throw systemError(ErrDomain::Qemu, "failed to create temporary file '" + tmpl + "'", errno);
    UniqueFd readFd(raw);
    UniqueFd writeFd(::open(tmpl.c_str(), O_WRONLY | O_CLOEXEC));
    ::unlink(tmpl.c_str());
    if (writeFd.get() < 0)
        throw systemError(ErrDomain::Qemu, "unable to open '" + tmpl + "'", errno);
    json::Value added;
    try {
        added = mon->executeWithFd("add-fd", json::Object {{"opaque", "screendump"}}, writeFd.get());
    } catch (const std::exception& e) {
        throw commandFailed("add-fd", e);
    }
    writeFd.reset();
    int64_t fdset = added.integer("fdset-id", -1);
    // QEMU 7.1 and later write PNG; libvirt takes it whenever it can.
    json::Object args {{"filename", "/dev/fdset/" + std::to_string(fdset)}, {"format", "png"}};
    if (!device.empty())
        args.emplace_back("device", device);
    std::string mime = "image/png";
    std::string failure;
    try {
        mon->execute("screendump", args);
    } catch (const qemu::QmpError& e) {
        // An older QEMU without "format": its PPM.
        args.erase(args.begin() + 1);
        mime = "image/x-portable-pixmap";
        try {
            mon->execute("screendump", std::move(args));
        } catch (const std::exception& e2) {
            failure = commandFailed("screendump", e2).what();
        }
    } catch (const std::exception& e) {
        failure = commandFailed("screendump", e).what();
    }
    try {
        mon->execute("remove-fd", json::Object {{"fdset-id", fdset}});
    } catch (const std::exception&) {
        // Gone with the monitor.
    }
    if (!failure.empty())
        throw VirtError(ErrCode::InternalError, ErrDomain::Qemu, failure);
    struct stat st { };
    if (::fstat(readFd.get(), &st) != 0 || st.st_size == 0)
        throw qemuError(ErrCode::OperationFailed, "unable to open stream");
    ::lseek(readFd.get(), 0, SEEK_SET);
    return {mime, readFd.release()};
}

} // namespace virtbus
