// Device hotplug events on a thread of their own. With udev running
// (/run/udev/control) events come from sd-device's monitor, after udev has
// processed them (so its properties are in the database); without udev
// (containers, this project's CI) they come straight from the kernel's
// uevent netlink group.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace virtbus::nodedev {

struct Uevent {
    // add, remove, change, move, bind, unbind; "overflow" when the
    // kernel's queue overflowed and events were lost.
    std::string action;
    std::string devpath; // below /sys: "/devices/..."
    std::string devpathOld; // for move
    std::string subsystem;
};

class UeventMonitor {
public:
    using Handler = std::function<void(const Uevent&)>;
    explicit UeventMonitor(Handler handler);
    ~UeventMonitor();
    UeventMonitor(const UeventMonitor&) = delete;
    UeventMonitor& operator=(const UeventMonitor&) = delete;

    // Opens the source and starts the thread; false (with errno) if
    // neither source can be opened. `preferUdev` false forces the kernel's.
    bool start(bool preferUdev = true);
    void stop();
    // "udev" or "kernel" once started.
    const char* source() const { return udev_ ? "udev" : "kernel"; }

private:
    Handler handler_;
    std::thread thread_;
    int stopFd_ = -1;
    int netlinkFd_ = -1;
    bool udev_ = false;

    void runKernel();
    void runUdev();
};

// Parses one kernel uevent datagram ("action@devpath\0KEY=VALUE\0...").
bool parseKernelUevent(const char* buf, size_t len, Uevent& out);

} // namespace virtbus::nodedev
