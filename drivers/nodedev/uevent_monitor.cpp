#include "nodedev/uevent_monitor.h"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>
#include <unistd.h>

namespace virtbus::nodedev {

namespace {
// Subsystems whose devices become node devices.
constexpr const char* kSubsystems[] = {"pci", "usb", "net", "scsi", "block", "drm", "mdev"};
} // namespace

bool parseKernelUevent(const char* buf, size_t len, Uevent& out)
{
    // Datagrams from udev's own netlink group start with "libudev"; only
    // the kernel's format is read here.
    const char* end = buf + len;
    const char* at = static_cast<const char*>(memchr(buf, '@', len));
    if (!at || memchr(buf, '\0', len) == nullptr)
        return false;
    out = {};
    for (const char* p = buf + strnlen(buf, len) + 1; p < end; p += strnlen(p, end - p) + 1) {
        std::string kv(p, strnlen(p, end - p));
        size_t eq = kv.find('=');
        if (eq == std::string::npos)
            continue;
        std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "ACTION")
            out.action = v;
        else if (k == "DEVPATH")
            out.devpath = v;
        else if (k == "DEVPATH_OLD")
            out.devpathOld = v;
        else if (k == "SUBSYSTEM")
            out.subsystem = v;
    }
    return !out.action.empty() && !out.devpath.empty();
}

UeventMonitor::UeventMonitor(Handler handler) : handler_(std::move(handler)) { }

UeventMonitor::~UeventMonitor() { stop(); }

bool UeventMonitor::start(bool preferUdev)
{
    stopFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stopFd_ < 0)
        return false;
    udev_ = preferUdev && access("/run/udev/control", F_OK) == 0;
    if (udev_) {
        thread_ = std::thread([this] { runUdev(); });
        return true;
    }
    netlinkFd_ = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    if (netlinkFd_ < 0)
        return false;
    // A burst (1,000 veths, a module load) must not overflow the queue.
    int size = 8 << 20;
    setsockopt(netlinkFd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == 0
        || setsockopt(netlinkFd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_nl addr {};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = 1; // the kernel's uevent group
    if (bind(netlinkFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        int saved = errno;
        close(netlinkFd_);
        netlinkFd_ = -1;
        errno = saved;
        return false;
    }
    thread_ = std::thread([this] { runKernel(); });
    return true;
}

void UeventMonitor::stop()
{
    if (stopFd_ >= 0) {
        uint64_t one = 1;
        (void)!::write(stopFd_, &one, sizeof one);
    }
    if (thread_.joinable())
        thread_.join();
    if (netlinkFd_ >= 0)
        close(netlinkFd_);
    if (stopFd_ >= 0)
        close(stopFd_);
    netlinkFd_ = stopFd_ = -1;
}

void UeventMonitor::runKernel()
{
    std::vector<char> buf(16384);
    for (;;) {
        pollfd fds[2] = {{netlinkFd_, POLLIN, 0}, {stopFd_, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents)
            return;
        for (;;) {
            // Only the kernel (port 0) may speak on this group; anyone else
            // could forge device events.
            sockaddr_nl from {};
            iovec iov {buf.data(), buf.size()};
            msghdr msg {};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            ssize_t n = recvmsg(netlinkFd_, &msg, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == ENOBUFS) {
                    // The queue overflowed: events were lost, the reader
                    // must look at the tree again.
                    Uevent lost;
                    lost.action = "overflow";
                    handler_(lost);
                    continue;
                }
                break; // EAGAIN: poll again
            }
            if (from.nl_pid != 0)
                continue;
            Uevent ev;
            if (parseKernelUevent(buf.data(), static_cast<size_t>(n), ev))
                handler_(ev);
        }
    }
}

void UeventMonitor::runUdev()
{
    sd_event* loop = nullptr;
    sd_device_monitor* mon = nullptr;
    if (sd_event_new(&loop) < 0)
        return;
    auto onStop = [](sd_event_source* s, int, uint32_t, void*) -> int {
        return sd_event_exit(sd_event_source_get_event(s), 0);
    };
    sd_event_add_io(loop, nullptr, stopFd_, EPOLLIN, onStop, nullptr);
    auto onDevice = [](sd_device_monitor*, sd_device* d, void* self) -> int {
        Uevent ev;
        const char* s = nullptr;
        sd_device_action_t action;
        if (sd_device_get_action(d, &action) >= 0) {
            static const char* const kNames[]
                = {"add", "remove", "change", "move", "online", "offline", "bind", "unbind"};
            if (action >= 0 && action < static_cast<int>(std::size(kNames)))
                ev.action = kNames[action];
        }
        if (sd_device_get_devpath(d, &s) >= 0)
            ev.devpath = s;
        if (sd_device_get_property_value(d, "DEVPATH_OLD", &s) >= 0)
            ev.devpathOld = s;
        if (sd_device_get_subsystem(d, &s) >= 0)
            ev.subsystem = s;
        if (!ev.action.empty() && !ev.devpath.empty())
            static_cast<UeventMonitor*>(self)->handler_(ev);
        return 0;
    };
    if (sd_device_monitor_new(&mon) >= 0) {
        sd_device_monitor_set_receive_buffer_size(mon, 8 << 20);
        for (const char* sub : kSubsystems)
            sd_device_monitor_filter_add_match_subsystem_devtype(mon, sub, nullptr);
        if (sd_device_monitor_attach_event(mon, loop) >= 0 && sd_device_monitor_start(mon, onDevice, this) >= 0)
            sd_event_loop(loop);
        sd_device_monitor_unref(mon);
    }
    sd_event_unref(loop);
}

} // namespace virtbus::nodedev
