// virtbusd: serves the org.libvirt API on the system or session bus.
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "activity.h"
#include "config.h"
#include "connection.h"
#include "interface/iface_driver.h"
#include "log.h"
#include "network/network_driver.h"
#include "nodedev/nodedev_driver.h"
#include "notify.h"
#include "polkit.h"
#include "qemu/qemu_driver.h"
#include "secret/secret_store.h"
#include "storage/storage_driver.h"
#include "test/test_driver.h"
#include "workers.h"

namespace {

enum class BusKind { Default, System, Session };

// Without --timeout: a session daemon comes back by D-Bus activation when
// needed, a system one is a service that stays.
constexpr long kSessionIdleTimeout = 120;

void usage(FILE* out)
{
    fprintf(out,
        "Usage: virtbusd [OPTION]...\n"
        "Serve the org.libvirt virtualization API on D-Bus.\n\n"
        "  --system     use the system bus (default when run as root)\n"
        "  --session    use the session bus (default otherwise)\n"
        "  --no-qemu    serve only the test driver (no /org/libvirt/QEMU)\n"
        "  --timeout SECONDS  exit after SECONDS with no call, no call in progress,\n"
        "               no running domain and no active network or storage pool;\n"
        "               0: never (default: %ld with --session, 0 with --system)\n"
        "  -v, --verbose  log debug messages\n"
        "  -h, --help   show this help and exit\n"
        "  --version    show the version and exit\n",
        kSessionIdleTimeout);
}

// Calls that reached virtbusd before it gave up the name still get their
// answer; later ones go to the next instance (D-Bus activation). Bounded, so
// a client talking to the unique name cannot hold the exit up.
void releaseName(sd_bus* bus)
{
    sd_bus_release_name(bus, "org.libvirt");
    for (int i = 0; i < 10000; ++i)
        if (sd_bus_process(bus, nullptr) <= 0)
            break;
}

// The host's devices; VIRTBUS_SYSFS_ROOT points the driver at another
// sysfs tree (a test's).
std::unique_ptr<virtbus::NodeDevDriver> makeNodeDevDriver()
{
    virtbus::NodeDevOptions opts;
    if (const char* root = getenv("VIRTBUS_SYSFS_ROOT"); root && *root)
        opts.sysfsRoot = root;
    return std::make_unique<virtbus::NodeDevDriver>(std::move(opts));
}

// The QEMU connection also serves the host's secrets, kept next to its
// definitions (/etc/virtbus/secrets, ~/.config/virtbus/secrets), or in
// $VIRTBUS_SECRET_DIR.
std::unique_ptr<virtbus::Driver> makeQemuDriver(bool system)
{
    using namespace virtbus;
    QemuConfig cfg = QemuConfig::fromEnvironment(system);
    NetworkConfig ncfg = NetworkConfig::fromEnvironment(cfg.configDir, cfg.stateDir);
    std::string secrets = cfg.configDir.substr(0, cfg.configDir.find_last_of('/')) + "/secrets";
    if (const char* dir = getenv("VIRTBUS_SECRET_DIR"); dir && *dir)
        secrets = dir;
    std::string ifaceConfig = cfg.configDir.substr(0, cfg.configDir.find_last_of('/')) + "/interfaces";
    if (const char* dir = getenv("VIRTBUS_INTERFACE_CONFIG_DIR"); dir && *dir)
        ifaceConfig = dir;
    std::string ifaceState = cfg.stateDir.substr(0, cfg.stateDir.find_last_of('/')) + "/interfaces";
    StorageConfig storageCfg = StorageConfig::beside(cfg.configDir.substr(0, cfg.configDir.find_last_of('/')),
        cfg.stateDir.substr(0, cfg.stateDir.find_last_of('/')));
    auto driver = std::make_unique<QemuDriver>(std::move(cfg));
    auto store = std::make_unique<SecretStore>(secrets);
    SecretStore* secretStore = store.get();
    for (const auto& w : store->loadWarnings())
        logWarning("secrets: %s", w.c_str());
    driver->attach(std::unique_ptr<SecretDriver>(std::move(store)));
    auto ifaces = std::make_unique<HostInterfaceDriver>(ifaceConfig, ifaceState);
    for (const auto& w : ifaces->loadWarnings())
        logWarning("interfaces: %s", w.c_str());
    driver->attach(std::unique_ptr<InterfaceDriver>(std::move(ifaces)));
    driver->attach(std::unique_ptr<NodeDeviceDriver>(makeNodeDevDriver()));
    auto storage = std::make_unique<HostStorageDriver>(std::move(storageCfg));
    storage->setInUseCheck([qemu = driver.get()](const std::string& path) { return qemu->pathInUse(path); });
    // Encrypted volumes take their passphrases from the secret store, which
    // the QEMU driver owns as long as the storage driver lives.
    storage->setSecretLookup([secretStore](const std::string& uuid) { return secretStore->internalValue(uuid); });
    driver->attach(std::unique_ptr<StorageDriver>(std::move(storage)));
    // Networks need root (bridges, nftables, dnsmasq): a session daemon of
    // an unprivileged user keeps the not-supported base, as libvirt's
    // session connection cannot start networks either.
    if (system || geteuid() == 0) {
        if (ncfg.installedDefaults.empty())
            ncfg.installedDefaults = VIRTBUS_NETWORK_DEFAULTS_DIR;
        auto networks = std::make_unique<BridgeNetworkDriver>(std::move(ncfg));
        for (const auto& w : networks->loadWarnings())
            logWarning("networks: %s", w.c_str());
        driver->attach(std::unique_ptr<NetworkDriver>(std::move(networks)));
    }
    return driver;
}

int run(BusKind kind, bool withQemu, long idleTimeout)
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
    // Pings systemd from the loop itself: a bus thread stuck for WatchdogSec
    // gets the service restarted. Nothing happens without WATCHDOG_USEC.
    sd_event_set_watchdog(event, true);

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
        std::unique_ptr<IdleExit> idle;
        std::unique_ptr<CountingDispatcher> countedWorkers;
        std::vector<std::unique_ptr<Connection>> connections;
        auto active = [&connections] {
            ActiveCounts c;
            for (auto& conn : connections)
                c += countActive(conn->driver());
            return c;
        };
        ServiceNotifier notifier(event, system ? "system" : "session", active);
        bus::Dispatcher* dispatcher = &workers;
        try {
            if (idleTimeout > 0) {
                idle = std::make_unique<IdleExit>(event, bus, uint64_t(idleTimeout) * 1000000, active);
                countedWorkers = std::make_unique<CountingDispatcher>(workers, *idle);
                dispatcher = countedWorkers.get();
                if (polkit)
                    polkit->onPending([i = idle.get()](bool started) {
                        if (started)
                            i->callStarted();
                        else
                            i->callFinished();
                    });
            }
            connections.push_back(std::make_unique<Connection>(bus, std::make_unique<TestDriver>()));
            if (withQemu) {
                connections.push_back(std::make_unique<Connection>(bus, makeQemuDriver(system), dispatcher));
                Connection* qemu = connections.back().get();
                if (auto* st = dynamic_cast<HostStorageDriver*>(&qemu->driver().storage()))
                    st->setProgress([qemu](const std::string& key, const std::string& op, uint64_t done,
                                        uint64_t total) { qemu->volumeProgress(key, op, done, total); });
            }
            for (auto& c : connections) {
                if (polkit)
                    c->enableAuthorization(*polkit);
                c->publish();
                c->driver().start();
                c->driver().startAttached();
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
                notifier.ready();
                r = sd_event_loop(event);
                if (r < 0) {
                    logError("event loop failed: %s", strerror(-r));
                    rc = 1;
                }
                logInfo("shutting down");
                notifier.stopping();
                releaseName(bus);
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
    enum { OptSystem = 256, OptSession, OptVersion, OptNoQemu, OptTimeout };
    static const option options[] = {
        {"system", no_argument, nullptr, OptSystem},
        {"session", no_argument, nullptr, OptSession},
        {"no-qemu", no_argument, nullptr, OptNoQemu},
        {"timeout", required_argument, nullptr, OptTimeout},
        {"verbose", no_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, OptVersion},
        {nullptr, 0, nullptr, 0},
    };
    BusKind kind = BusKind::Default;
    bool withQemu = true;
    long idleTimeout = -1;
    int c;
    while ((c = getopt_long(argc, argv, "hv", options, nullptr)) != -1) {
        switch (c) {
        case OptSystem: kind = BusKind::System; break;
        case OptSession: kind = BusKind::Session; break;
        case OptNoQemu: withQemu = false; break;
        case OptTimeout: {
            char* end = nullptr;
            errno = 0;
            idleTimeout = strtol(optarg, &end, 10);
            // At most a year: the microseconds must fit sd-event's clock.
            if (errno || end == optarg || *end || idleTimeout < 0 || idleTimeout > 366L * 24 * 3600) {
                fprintf(stderr, "virtbusd: invalid --timeout '%s': seconds expected\n", optarg);
                return 2;
            }
            break;
        }
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
    if (idleTimeout < 0)
        idleTimeout = kind == BusKind::Session ? kSessionIdleTimeout : 0;
    return run(kind, withQemu, idleTimeout);
}
