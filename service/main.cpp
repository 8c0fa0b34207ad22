// virtbusd: serves the org.libvirt API on the system or session bus.
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "config.h"
#include "connection.h"
#include "log.h"
#include "polkit.h"
#include "qemu/qemu_driver.h"
#include "test/test_driver.h"
#include "workers.h"

namespace {

enum class BusKind { Default, System, Session };

void usage(FILE* out)
{
    fprintf(out,
        "Usage: virtbusd [OPTION]...\n"
        "Serve the org.libvirt virtualization API on D-Bus.\n\n"
        "  --system     use the system bus (default when run as root)\n"
        "  --session    use the session bus (default otherwise)\n"
        "  --no-qemu    serve only the test driver (no /org/libvirt/QEMU)\n"
        "  -v, --verbose  log debug messages\n"
        "  -h, --help   show this help and exit\n"
        "  --version    show the version and exit\n");
}

int run(BusKind kind, bool withQemu)
{
    using namespace virtbus;
    sd_event* event = nullptr;
    sd_bus* bus = nullptr;
    int r = sd_event_default(&event);
    if (r < 0) {
        logError("cannot create event loop: %s", strerror(-r));
        return 1;
    }
    // SIGTERM/SIGINT end the loop; blocked first so sd-event receives them
    // through a signalfd instead of killing the process.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    sd_event_add_signal(event, nullptr, SIGTERM, nullptr, nullptr);
    sd_event_add_signal(event, nullptr, SIGINT, nullptr, nullptr);

    bool system = kind == BusKind::System;
    r = system ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
    if (r < 0) {
        logError("cannot connect to the %s bus: %s", system ? "system" : "session", strerror(-r));
        sd_event_unref(event);
        return 1;
    }
    int rc = 0;
    {
        // Calls of the QEMU connection wait for QEMU: they run here, off the
        // bus thread. Enough threads that a hung guest does not hold up the
        // others.
        Workers workers(event, 8);
        // On the system bus every call is checked (permissions.md); the
        // session bus serves its own user and checks nothing.
        std::unique_ptr<Polkit> polkit;
        if (system)
            polkit = std::make_unique<Polkit>(bus);
        std::vector<std::unique_ptr<Connection>> connections;
        try {
            connections.push_back(std::make_unique<Connection>(bus, std::make_unique<TestDriver>()));
            if (withQemu)
                connections.push_back(std::make_unique<Connection>(
                    bus, std::make_unique<QemuDriver>(QemuConfig::fromEnvironment(system)), &workers));
            for (auto& c : connections) {
                if (polkit)
                    c->enableAuthorization(*polkit);
                c->publish();
                c->driver().start();
            }
        } catch (const std::exception& e) {
            logError("cannot publish objects: %s", e.what());
            rc = 1;
        }
        if (rc == 0) {
            sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
            sd_bus_set_exit_on_disconnect(bus, true);
            // Only now: clients call methods the moment the name appears.
            r = sd_bus_request_name(bus, "org.libvirt", 0);
            if (r < 0) {
                logError("cannot acquire org.libvirt: %s", strerror(-r));
                rc = 1;
            } else {
                logInfo("serving org.libvirt on the %s bus", system ? "system" : "session");
                r = sd_event_loop(event);
                if (r < 0) {
                    logError("event loop failed: %s", strerror(-r));
                    rc = 1;
                }
                logInfo("shutting down");
                sd_bus_release_name(bus, "org.libvirt");
            }
        }
        // Running calls finish before the objects they use go away.
        workers.stop();
        workers.drain();
        connections.clear();
        if (polkit)
            logDebug("polkit: %llu queries, %zu verdicts cached at exit",
                static_cast<unsigned long long>(polkit->queries()), polkit->cached());
    }
    sd_bus_flush_close_unref(bus);
    sd_event_unref(event);
    return rc;
}

} // namespace

int main(int argc, char** argv)
{
    enum { OptSystem = 256, OptSession, OptVersion, OptNoQemu };
    static const option options[] = {
        {"system", no_argument, nullptr, OptSystem},
        {"session", no_argument, nullptr, OptSession},
        {"no-qemu", no_argument, nullptr, OptNoQemu},
        {"verbose", no_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, OptVersion},
        {nullptr, 0, nullptr, 0},
    };
    BusKind kind = BusKind::Default;
    bool withQemu = true;
    int c;
    while ((c = getopt_long(argc, argv, "hv", options, nullptr)) != -1) {
        switch (c) {
        case OptSystem: kind = BusKind::System; break;
        case OptSession: kind = BusKind::Session; break;
        case OptNoQemu: withQemu = false; break;
        case 'v': virtbus::setLogLevel(virtbus::LogLevel::Debug); break;
        case 'h': usage(stdout); return 0;
        case OptVersion: printf("virtbusd %s\n", VIRTBUS_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (kind == BusKind::Default)
        kind = geteuid() == 0 ? BusKind::System : BusKind::Session;
    return run(kind, withQemu);
}
