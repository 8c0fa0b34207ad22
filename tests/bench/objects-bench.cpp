// Issue 3's figures: ListNetworks, ListStoragePools and ListStorageVolumes
// with 10,000 objects each, and the RSS each object costs, for virtbus and
// (when installed) libvirt-dbus on the same private bus, one server at a
// time. Prints a markdown table.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"

using namespace bench;

namespace {

const char* const Conn = "/org/libvirt/Test";
const char* const DefaultPool = "/org/libvirt/Test/storagepool/_dfe224cb_28fb_8dd0_c4b2_64eb3f0f4566";

void call(sd_bus* b, const char* path, const char* iface, const char* member, const char* sig, const char* what,
          const std::function<int(sd_bus_message*)>& append, size_t* count = nullptr)
{
    sd_bus_message* m = nullptr;
    sd_bus_message* reply = nullptr;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_message_new_method_call(b, &m, "org.libvirt", path, iface, member);
    if (r >= 0)
        r = append(m);
    if (r >= 0)
        r = sd_bus_call(b, m, 0, &e, &reply);
    if (r >= 0 && count) {
        char** paths = nullptr;
        *count = 0;
        if (sd_bus_message_read_strv(reply, &paths) >= 0) {
            for (char** p = paths; p && *p; ++p, ++*count)
                free(*p);
            free(paths);
        }
    }
    std::string msg = e.message ? e.message : strerror(-r);
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    (void)sig;
    if (r < 0)
        throw std::runtime_error(std::string(what) + ": " + msg);
}

struct Kind {
    const char* label;
    std::function<void(sd_bus*, int)> create;
    std::function<size_t(sd_bus*)> list;
};

struct Row {
    std::string server, kind;
    size_t objects = 0;
    double p50 = 0, p99 = 0, perObjectKb = 0, createUs = 0;
    std::string error;
};

std::vector<Kind> kinds()
{
    auto listOn = [](const char* path, const char* iface, const char* member) {
        return [=](sd_bus* b) {
            size_t n = 0;
            call(b, path, iface, member, "u", member, [](sd_bus_message* m) { return sd_bus_message_append(m, "u", 0u); },
                 &n);
            return n;
        };
    };
    return {
        {"networks",
         [](sd_bus* b, int i) {
             std::string xml = "<network><name>bench-net-" + std::to_string(i) + "</name><bridge name='vb" +
                               std::to_string(i) + "'/></network>";
             call(b, Conn, "org.libvirt.Connect", "NetworkDefineXML", "s", "NetworkDefineXML",
                  [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", xml.c_str()); });
         },
         listOn(Conn, "org.libvirt.Connect", "ListNetworks")},
        {"storage pools",
         [](sd_bus* b, int i) {
             std::string n = std::to_string(i);
             std::string xml = "<pool type='dir'><name>bench-pool-" + n + "</name><target><path>/bench-pool-" + n +
                               "</path></target></pool>";
             call(b, Conn, "org.libvirt.Connect", "StoragePoolDefineXML", "su", "StoragePoolDefineXML",
                  [&](sd_bus_message* m) { return sd_bus_message_append(m, "su", xml.c_str(), 0u); });
         },
         listOn(Conn, "org.libvirt.Connect", "ListStoragePools")},
        {"storage volumes",
         [](sd_bus* b, int i) {
             std::string xml = "<volume><name>bench-" + std::to_string(i) + ".img</name><capacity>1024</capacity></volume>";
             call(b, DefaultPool, "org.libvirt.StoragePool", "StorageVolCreateXML", "su", "StorageVolCreateXML",
                  [&](sd_bus_message* m) { return sd_bus_message_append(m, "su", xml.c_str(), 0u); });
         },
         listOn(DefaultPool, "org.libvirt.StoragePool", "ListStorageVolumes")},
    };
}

Row measure(const std::string& label, const std::vector<std::string>& argv, const Kind& kind, int objects,
            const std::string& address, const std::string& logDir)
{
    Row row{label, kind.label};
    NameWatcher watcher(address);
    watcher.watch("org.libvirt");
    pid_t pid = spawn(argv, logDir + "/" + label + ".log");
    sd_bus* b = connectBus(address);
    try {
        if (!watcher.wait("org.libvirt", true, pid))
            throw std::runtime_error("did not own org.libvirt");
        size_t base = kind.list(b); // warms lazy state (libvirt-dbus' connection)
        long rss0 = rssKb(pid);
        double t0 = nowUs();
        for (int i = 0; i < objects; ++i)
            kind.create(b, i);
        row.createUs = (nowUs() - t0) / objects;
        std::vector<double> us;
        double until = nowUs() + 2e6;
        while (us.size() < 500 && (us.size() < 5 || nowUs() < until)) {
            double s = nowUs();
            row.objects = kind.list(b);
            us.push_back(nowUs() - s);
        }
        if (row.objects != base + size_t(objects))
            throw std::runtime_error("listed " + std::to_string(row.objects) + ", expected " +
                                     std::to_string(base + objects));
        row.p50 = percentile(us, 50);
        row.p99 = percentile(us, 99);
        row.perObjectKb = double(rssKb(pid) - rss0) / objects;
    } catch (const std::exception& e) {
        row.error = e.what();
    }
    sd_bus_flush_close_unref(b);
    stopProcess(pid);
    watcher.wait("org.libvirt", false, -1, 5e6);
    return row;
}

} // namespace

int main(int argc, char** argv)
{
    std::string virtbusd = VIRTBUSD_PATH, libvirtDbus = "/usr/sbin/libvirt-dbus", output;
    int objects = 10000;
    static const option longopts[] = {
        {"virtbusd", required_argument, nullptr, 'v'}, {"libvirt-dbus", required_argument, nullptr, 'l'},
        {"objects", required_argument, nullptr, 'n'},  {"output", required_argument, nullptr, 'o'},
        {nullptr, 0, nullptr, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "v:l:n:o:", longopts, nullptr)) != -1) {
        switch (c) {
        case 'v': virtbusd = optarg; break;
        case 'l': libvirtDbus = optarg; break;
        case 'n': objects = std::max(10, std::min(10000, atoi(optarg))); break;
        case 'o': output = optarg; break;
        default:
            fprintf(stderr, "usage: objects-bench [--virtbusd P] [--libvirt-dbus P] [--objects N] [--output F]\n");
            return 2;
        }
    }
    // No idle exit (120 s by default with --session): the bench decides
    // when virtbusd ends.
    std::vector<std::pair<std::string, std::vector<std::string>>> servers{
        {"virtbus", {virtbusd, "--session", "--timeout", "0"}}};
    if (access(libvirtDbus.c_str(), X_OK) == 0)
        servers.push_back({"libvirt-dbus", {libvirtDbus, "--session"}});
    try {
        TempDir tmp;
        PrivateBus bus(tmp.path());
        setenv("DBUS_SESSION_BUS_ADDRESS", bus.address().c_str(), 1);
        // virtbusd's QEMU driver makes its directories at start: in the
        // temp dir, not in the user's own.
        for (const char* kind : {"CONFIG", "STATE", "LOG", "CACHE"}) {
            std::string dir = tmp.path() + "/qemu-" + kind;
            setenv((std::string("VIRTBUS_QEMU_") + kind + "_DIR").c_str(), dir.c_str(), 1);
        }
        std::string load = readFile("/proc/loadavg");
        std::string text = "| objects | server | listed | list p50 | list p99 | create / object | RSS / object |\n"
                           "|---|---|---|---|---|---|---|\n";
        for (const auto& kind : kinds())
            for (const auto& [label, args] : servers) {
                Row r = measure(label, args, kind, objects, bus.address(), tmp.path());
                char line[256];
                if (r.error.empty())
                    snprintf(line, sizeof line, "| %s | %s | %zu | %.0f µs | %.0f µs | %.0f µs | %.2f KB |\n",
                             r.kind.c_str(), r.server.c_str(), r.objects, r.p50, r.p99, r.createUs, r.perObjectKb);
                else
                    snprintf(line, sizeof line, "| %s | %s | failed: %.120s | | | | |\n", r.kind.c_str(),
                             r.server.c_str(), r.error.c_str());
                text += line;
            }
        text += "\nload before: " + load;
        fputs(text.c_str(), stdout);
        if (!output.empty())
            std::ofstream(output) << text;
    } catch (const std::exception& e) {
        fprintf(stderr, "objects-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
