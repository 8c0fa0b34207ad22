// The D-Bus calls of virtbus-bench (see bench_calls.h).
#include "bench_calls.h"

#include <cstring>
#include <stdexcept>

namespace bench {

namespace {

constexpr const char* DomainIface = "org.libvirt.Domain";

// Owns a message, so an exception between the call and the end of the
// parse cannot leak it.
struct Message {
    sd_bus_message* m = nullptr;
    Message() = default;
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    ~Message() { sd_bus_message_unref(m); }
};

void ok(int r, const char* what)
{
    if (r < 0)
        throw std::runtime_error(std::string(what) + ": " + strerror(-r));
}

// A property value of type `type` ('s' or 'b'). Single variants are what
// the D-Bus specification says; a variant holding a variant is unwrapped as
// well, so either server's shape is read the same way and at the same cost.
void readValue(sd_bus_message* m, char type, void* out)
{
    char t = 0;
    const char* contents = nullptr;
    ok(sd_bus_message_peek_type(m, &t, &contents), "peek value");
    if (t != SD_BUS_TYPE_VARIANT)
        throw std::runtime_error("property value is not a variant");
    ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents), "enter variant");
    if (contents[0] == SD_BUS_TYPE_VARIANT)
        readValue(m, type, out);
    else if (contents[0] == type && contents[1] == '\0')
        ok(sd_bus_message_read_basic(m, type, out), "read value");
    else
        throw std::runtime_error(std::string("property of type '") + contents + "', expected '" + type + "'");
    ok(sd_bus_message_exit_container(m), "exit variant");
}

// One a{sv} of org.libvirt.Domain: Name and Active; every other property
// is skipped (still walked over, as a client's parser would).
void readDomainProps(sd_bus_message* m, NamesStates& out)
{
    ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}"), "enter a{sv}");
    const char* name = nullptr;
    int active = -1;
    int r;
    while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
        const char* key = nullptr;
        ok(sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &key), "read key");
        if (strcmp(key, "Name") == 0)
            readValue(m, SD_BUS_TYPE_STRING, &name);
        else if (strcmp(key, "Active") == 0)
            readValue(m, SD_BUS_TYPE_BOOLEAN, &active);
        else
            ok(sd_bus_message_skip(m, "v"), "skip value");
        ok(sd_bus_message_exit_container(m), "exit entry");
    }
    ok(r, "enter entry");
    ok(sd_bus_message_exit_container(m), "exit a{sv}");
    if (!name || active < 0)
        throw std::runtime_error("a domain without Name or Active");
    out.names.emplace_back(name);
    out.active += active ? 1 : 0;
}

std::vector<std::string> domainPaths(sd_bus* b, const std::string& dest, const char* conn)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    Message reply;
    int r = sd_bus_call_method(b, dest.c_str(), conn, "org.libvirt.Connect", "ListDomains", &e, &reply.m, "u", 0u);
    check(r, e, "ListDomains");
    std::vector<std::string> paths;
    const char* p = nullptr;
    ok(sd_bus_message_enter_container(reply.m, SD_BUS_TYPE_ARRAY, "o"), "enter ao");
    while ((r = sd_bus_message_read_basic(reply.m, SD_BUS_TYPE_OBJECT_PATH, &p)) > 0)
        paths.emplace_back(p);
    ok(r, "read path");
    return paths;
}

} // namespace

void check(int r, sd_bus_error& e, const char* what)
{
    if (r >= 0) {
        sd_bus_error_free(&e);
        return;
    }
    std::string msg = std::string(what) + ": " + (e.message ? e.message : strerror(-r));
    sd_bus_error_free(&e);
    throw std::runtime_error(msg);
}

size_t listDomains(sd_bus* b, const std::string& dest, const char* conn, bool count)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    Message reply;
    int r = sd_bus_call_method(b, dest.c_str(), conn, "org.libvirt.Connect", "ListDomains", &e, &reply.m, "u", 0u);
    check(r, e, "ListDomains");
    size_t n = 0;
    char** paths = nullptr;
    if (count && sd_bus_message_read_strv(reply.m, &paths) >= 0) {
        for (char** p = paths; p && *p; ++p, ++n)
            free(*p);
        free(paths);
    }
    return n;
}

std::string testDomainXml(const std::string& name)
{
    return "<domain type='test'><name>" + name + "</name><memory>1024</memory><os><type>hvm</type></os></domain>";
}

std::string qemuDomainXml(const std::string& name)
{
    return "<domain type='qemu'><name>" + name
        + "</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>"
          "<devices><memballoon model='none'/></devices></domain>";
}

std::string defineDomain(sd_bus* b, const std::string& dest, const char* conn, const std::string& xml)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    Message reply;
    int r = sd_bus_call_method(
        b, dest.c_str(), conn, "org.libvirt.Connect", "DomainDefineXML", &e, &reply.m, "s", xml.c_str());
    check(r, e, "DomainDefineXML");
    const char* path = nullptr;
    ok(sd_bus_message_read_basic(reply.m, SD_BUS_TYPE_OBJECT_PATH, &path), "read DomainDefineXML reply");
    return path;
}

void undefineDomain(sd_bus* b, const std::string& dest, const std::string& path)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    Message reply;
    int r = sd_bus_call_method(b, dest.c_str(), path.c_str(), DomainIface, "Undefine", &e, &reply.m, "u", 0u);
    check(r, e, "Undefine");
}

void defineQemuDomains(sd_bus* b, const std::string& dest, const std::string& prefix, size_t n, size_t window)
{
    struct State {
        size_t inFlight = 0;
        std::string error;
    } st;
    auto done = [](sd_bus_message* m, void* userdata, sd_bus_error*) -> int {
        auto* s = static_cast<State*>(userdata);
        --s->inFlight;
        if (const sd_bus_error* err = sd_bus_message_get_error(m); err && s->error.empty())
            s->error = std::string("DomainDefineXML: ") + (err->message ? err->message : err->name);
        return 0;
    };
    size_t sent = 0;
    // After an error nothing more is sent, but the calls out are waited
    // for: their callbacks point at st.
    while ((sent < n && st.error.empty()) || st.inFlight > 0) {
        for (; sent < n && st.error.empty() && st.inFlight < window; ++sent, ++st.inFlight) {
            std::string xml = qemuDomainXml(prefix + std::to_string(sent));
            // Floating slot: the callback stays registered until it ran.
            int r = sd_bus_call_method_async(b, nullptr, dest.c_str(), QemuConnect, "org.libvirt.Connect",
                "DomainDefineXML", done, &st, "s", xml.c_str());
            if (r < 0) {
                st.error = std::string("DomainDefineXML: ") + strerror(-r);
                break;
            }
        }
        int r = sd_bus_process(b, nullptr);
        ok(r, "process");
        if (r == 0)
            ok(sd_bus_wait(b, UINT64_MAX), "wait");
    }
    if (!st.error.empty())
        throw std::runtime_error(st.error);
}

NamesStates namesByManagedObjects(sd_bus* b, const std::string& dest, const char* conn)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    Message reply;
    int r = sd_bus_call_method(
        b, dest.c_str(), conn, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &e, &reply.m, "");
    check(r, e, "GetManagedObjects");
    sd_bus_message* m = reply.m;
    NamesStates out;
    ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}"), "enter objects");
    while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "oa{sa{sv}}")) > 0) {
        ok(sd_bus_message_skip(m, "o"), "skip path");
        ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sa{sv}}"), "enter interfaces");
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}")) > 0) {
            const char* iface = nullptr;
            ok(sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &iface), "read interface");
            if (strcmp(iface, DomainIface) == 0)
                readDomainProps(m, out);
            else
                ok(sd_bus_message_skip(m, "a{sv}"), "skip properties");
            ok(sd_bus_message_exit_container(m), "exit interface");
        }
        ok(r, "enter interface");
        ok(sd_bus_message_exit_container(m), "exit interfaces");
        ok(sd_bus_message_exit_container(m), "exit object");
    }
    ok(r, "enter object");
    return out;
}

NamesStates namesByGetAll(sd_bus* b, const std::string& dest, const char* conn)
{
    NamesStates out;
    for (const auto& path : domainPaths(b, dest, conn)) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        Message reply;
        int r = sd_bus_call_method(
            b, dest.c_str(), path.c_str(), "org.freedesktop.DBus.Properties", "GetAll", &e, &reply.m, "s", DomainIface);
        check(r, e, "Properties.GetAll");
        readDomainProps(reply.m, out);
    }
    return out;
}

} // namespace bench
