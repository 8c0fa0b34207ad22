// What the generated glue asks before running a handler, and after it for
// results that name objects (lookups, listings). The checks of each member
// come from interfaces/permissions.table; the implementation (polkit, per
// connection, see service/authz.h) resolves each object's details and may
// wait for polkit, so every answer arrives through a callback on the bus
// thread. Connections without an authorizer (the session bus) check nothing.
#pragma once

#include <systemd/sd-bus.h>

#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "call.h"
#include "message.h"
#include "typed_params.h"

namespace virtbus::bus {

// A refusal: org.freedesktop.DBus.Error.AccessDenied naming the action.
class AccessDenied : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Check {
    const char* object; // "domain", "storage-vol", ... as in the table
    const char* permission; // "start", "read-secure", ...
    // The XML of the object a call creates (DomainDefineXML), whose name and
    // UUID are the details; null: the object at the call's path. Must stay
    // valid until authorize()'s `done` is called or destroyed (the glue
    // points into the arguments `done` holds).
    const std::string* xml = nullptr;
};

class Authorizer {
public:
    using Done = std::function<void(std::exception_ptr denied)>;
    virtual ~Authorizer() = default;

    // Calls `done` (null: every check passed) on the bus thread, possibly
    // before returning.
    virtual void authorize(sd_bus_message* call, const std::vector<Check>& checks, Done done) = 0;
    // One check per object path; `done` gets whether each passed.
    virtual void checkPaths(sd_bus_message* call, const char* object, const char* permission,
        std::vector<std::string> paths, std::function<void(std::vector<bool>)> done)
        = 0;
    // The same for domains named by name (GetAllDomainStats).
    virtual void checkDomainNames(sd_bus_message* call, const char* permission, std::vector<std::string> names,
        std::function<void(std::vector<bool>)> done)
        = 0;
};

// The lookup's answer is sent only if the caller may `permission` the
// object found; otherwise AccessDenied, as libvirt does.
inline void checkResult(Authorizer* a, Reply<ObjectPath>& reply, const char* object, const char* permission)
{
    reply.interceptOk([a, object, permission](Reply<ObjectPath>&& r, std::tuple<ObjectPath>&& v) {
        auto held = std::make_shared<Reply<ObjectPath>>(std::move(r));
        ObjectPath path = std::get<0>(v);
        a->checkPaths(
            held->message(), object, permission, {path.value}, [held, path, object, permission](std::vector<bool> ok) {
                if (ok.at(0))
                    held->ok(path);
                else
                    held->fail(std::make_exception_ptr(
                        AccessDenied(std::string("access denied: org.libvirt.api.") + object + "." + permission)));
            });
    });
}

// Listings keep only the objects the caller may `permission`.
inline void filterResult(
    Authorizer* a, Reply<std::vector<ObjectPath>>& reply, const char* object, const char* permission)
{
    using R = Reply<std::vector<ObjectPath>>;
    reply.interceptOk([a, object, permission](R&& r, std::tuple<std::vector<ObjectPath>>&& v) {
        auto held = std::make_shared<R>(std::move(r));
        auto all = std::make_shared<std::vector<ObjectPath>>(std::move(std::get<0>(v)));
        std::vector<std::string> paths;
        paths.reserve(all->size());
        for (const auto& p : *all)
            paths.push_back(p.value);
        a->checkPaths(held->message(), object, permission, std::move(paths), [held, all](std::vector<bool> ok) {
            std::vector<ObjectPath> kept;
            for (size_t i = 0; i < all->size(); ++i)
                if (ok[i])
                    kept.push_back(std::move((*all)[i]));
            held->ok(kept);
        });
    });
}

// Domain statistics, keyed by domain name.
inline void filterResult(Authorizer* a, Reply<std::vector<std::tuple<std::string, TypedParams>>>& reply,
    const char* object, const char* permission)
{
    using Entries = std::vector<std::tuple<std::string, TypedParams>>;
    using R = Reply<Entries>;
    (void)object; // always "domain": statistics are per domain
    reply.interceptOk([a, permission](R&& r, std::tuple<Entries>&& v) {
        auto held = std::make_shared<R>(std::move(r));
        auto all = std::make_shared<Entries>(std::move(std::get<0>(v)));
        std::vector<std::string> names;
        names.reserve(all->size());
        for (const auto& e : *all)
            names.push_back(std::get<0>(e));
        a->checkDomainNames(held->message(), permission, std::move(names), [held, all](std::vector<bool> ok) {
            Entries kept;
            for (size_t i = 0; i < all->size(); ++i)
                if (ok[i])
                    kept.push_back(std::move((*all)[i]));
            held->ok(kept);
        });
    });
}

} // namespace virtbus::bus
