#include "property_gate.h"

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "bus/call.h"

namespace virtbus {

namespace {

enum class Access { Get, Set, GetAll };

// Holds the request across the wait for polkit.
struct Held {
    explicit Held(sd_bus_message* m) : m(sd_bus_message_ref(m)) { }
    ~Held() { sd_bus_message_unref(m); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    sd_bus_message* m;
};

void reply(sd_bus_message* m, const std::function<void(sd_bus_message*)>& fill)
{
    sd_bus_message* r = nullptr;
    int rc = sd_bus_message_new_method_return(m, &r);
    if (rc < 0)
        return;
    try {
        fill(r);
        sd_bus_send(nullptr, r, nullptr);
    } catch (...) {
        bus::replyException(m, std::current_exception());
    }
    sd_bus_message_unref(r);
}

// GetAll for a caller who must be asked: each distinct check once, then
// every property whose checks all passed, as libvirt-dbus leaves out the
// properties whose getter fails.
void authorizedGetAll(bus::Authorizer& a, sd_bus_message* m, bus::PropertySource& src, const std::string& path)
{
    using Key = std::pair<std::string, std::string>;
    std::set<Key> distinct;
    for (const char* name : src.propertyNames())
        for (const auto& c : src.propertyChecks(name, false))
            distinct.insert({c.object, c.permission});
    struct State {
        std::shared_ptr<Held> held;
        std::set<Key> allowed;
        size_t left;
    };
    auto st = std::make_shared<State>(State {std::make_shared<Held>(m), {}, distinct.size()});
    auto finish = [st, &src, path] {
        bus::PropertyFilter only = [st, &src](const char* name) {
            for (const auto& c : src.propertyChecks(name, false))
                if (!st->allowed.count({c.object, c.permission}))
                    return false;
            return true;
        };
        answerGetAll(st->held->m, [&](sd_bus_message* r) { src.appendAllProperties(r, path.c_str(), true, &only); });
    };
    if (distinct.empty()) {
        finish();
        return;
    }
    for (const auto& k : distinct) {
        // The table's strings live as long as the program; the set's copies
        // are kept alive by the lambda below.
        auto key = std::make_shared<Key>(k);
        a.checkPaths(m, key->first.c_str(), key->second.c_str(), {path}, [st, key, finish](std::vector<bool> ok) {
            if (ok.at(0))
                st->allowed.insert(*key);
            if (--st->left == 0)
                finish();
        });
    }
}

} // namespace

int answerGetAll(sd_bus_message* m, const std::function<void(sd_bus_message*)>& append)
{
    reply(m, [&](sd_bus_message* r) {
        bus::check(sd_bus_message_open_container(r, 'a', "{sv}"), "open a{sv}");
        append(r);
        bus::check(sd_bus_message_close_container(r), "close a{sv}");
    });
    return 1;
}

int gateProperties(sd_bus_message* m, bus::PropertySource& src, const char* interface)
{
    Access access;
    if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "GetAll"))
        access = Access::GetAll;
    else if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get"))
        access = Access::Get;
    else if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Set"))
        access = Access::Set;
    else
        return 0;
    bus::Authorizer* a = src.authorizer();
    if (access != Access::GetAll && !a)
        return 0; // sd-bus's own Get/Set are right when nobody is checked
    const char *iface = nullptr, *name = nullptr;
    int r = sd_bus_message_read_basic(m, 's', &iface);
    bool ours = r > 0 && iface && std::strcmp(iface, interface) == 0;
    if (ours && access != Access::GetAll)
        ours = sd_bus_message_read_basic(m, 's', &name) > 0 && name;
    std::vector<bus::Check> checks;
    if (ours && name)
        checks = src.propertyChecks(name, access == Access::Set);
    if (!ours || (name && checks.empty())) {
        // Not ours, or no such property: sd-bus reads the arguments again
        // and gives the standard answer.
        sd_bus_message_rewind(m, true);
        return 0;
    }
    std::string path = sd_bus_message_get_path(m);
    if (access == Access::GetAll) {
        if (!a)
            return answerGetAll(m, [&](sd_bus_message* rep) { src.appendAllProperties(rep, path.c_str(), true); });
        authorizedGetAll(*a, m, src, path);
        return 1;
    }
    auto held = std::make_shared<Held>(m);
    a->authorize(m, checks, [held, &src, access, path, prop = std::string(name)](std::exception_ptr denied) {
        if (denied) {
            bus::replyException(held->m, denied);
            return;
        }
        reply(held->m, [&](sd_bus_message* r) {
            if (access == Access::Get)
                src.appendProperty(r, path.c_str(), prop.c_str());
            else
                src.setProperty(path.c_str(), prop.c_str(), held->m);
        });
    });
    return 1;
}

} // namespace virtbus
