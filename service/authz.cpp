#include "authz.h"

#include <cstring>
#include <memory>
#include <optional>

#include "connection.h"
#include "paths.h"
#include "xml/identity.h"

namespace virtbus {

namespace {

// libvirt's detail names for what a secret is used for, by usage type.
const char* usageDetail(int32_t type)
{
    switch (type) {
    case 1: return "secret_usage_volume";
    case 2: return "secret_usage_ceph";
    case 3: return "secret_usage_target";
    case 4:
    case 5: return "secret_usage_name";
    default: return nullptr;
    }
}

const char* usageDetail(const std::string& type)
{
    if (type == "volume")
        return usageDetail(1);
    if (type == "ceph")
        return usageDetail(2);
    if (type == "iscsi")
        return usageDetail(3);
    if (type == "tls" || type == "vtpm")
        return usageDetail(4);
    return nullptr;
}

} // namespace

std::string actionId(const char* object, const char* permission)
{
    return std::string("org.libvirt.api.") + object + "." + permission;
}

std::string ConnectionAuthorizer::driverDetail(const std::string& object) const
{
    // The Test connection serves every kind itself; on a real one each kind
    // has its driver, named as libvirt names it in connect_driver.
    std::string d = conn_.driver().name();
    if (d == "Test" || object == "connect" || object == "domain")
        return d;
    if (object == "storage-pool" || object == "storage-vol")
        return "storage";
    if (object == "node-device")
        return "nodedev";
    return object; // network, interface, secret, nwfilter
}

Polkit::Details ConnectionAuthorizer::details(const char* object, const std::string& path, const std::string* xml) const
{
    std::string obj = object;
    Polkit::Details out {{"connect_driver", driverDetail(obj)}};
    if (obj == "connect")
        return out;
    const std::string& conn = conn_.path();
    Driver& d = conn_.driver();
    std::optional<xml::Identity> id;
    if (xml)
        id = xml::peekIdentity(*xml);
    auto add = [&](const char* k, const std::string& v) { out.emplace_back(k, v); };
    auto pool = [&](const std::string& uuid) {
        auto ref = d.storage().poolLookupByUUID(uuid);
        add("pool_name", ref.name);
        add("pool_uuid", ref.uuid);
    };

    if (obj == "domain") {
        if (xml) {
            if (id) {
                add("domain_name", id->name);
                add("domain_uuid", id->uuid);
            }
            return out;
        }
        std::optional<std::string> uuid;
        if (auto key = paths::snapshotKey(conn, path))
            uuid = key->uuid;
        else
            uuid = paths::domainUuid(conn, path);
        if (uuid) {
            auto ref = d.domainLookupByUUID(*uuid);
            add("domain_name", ref.name);
            add("domain_uuid", ref.uuid);
        }
    } else if (obj == "network") {
        if (xml && id) {
            add("network_name", id->name);
            add("network_uuid", id->uuid);
        } else if (auto uuid = paths::uuidOfChild(conn, "network", path); uuid && !xml) {
            auto ref = d.networks().networkLookupByUUID(*uuid);
            add("network_name", ref.name);
            add("network_uuid", ref.uuid);
        }
    } else if (obj == "storage-pool") {
        if (xml && id) {
            add("pool_name", id->name);
            add("pool_uuid", id->uuid);
        } else if (auto uuid = paths::uuidOfChild(conn, "storagepool", path); uuid && !xml) {
            pool(*uuid);
        } else if (auto key = paths::keyOfChild(conn, "storagevol", path); key && !xml) {
            pool(d.storage().volLookupByKey(*key).poolUuid);
        }
    } else if (obj == "storage-vol") {
        if (auto key = paths::keyOfChild(conn, "storagevol", path); key && !xml) {
            auto vol = d.storage().volLookupByKey(*key);
            pool(vol.poolUuid);
            add("vol_name", vol.name);
            add("vol_key", vol.key);
        } else if (auto uuid = paths::uuidOfChild(conn, "storagepool", path)) {
            // A volume being created in the pool at `path`.
            pool(*uuid);
            if (id)
                add("vol_name", id->name);
        }
    } else if (obj == "interface") {
        if (xml && id) {
            add("interface_name", id->name);
            add("interface_macaddr", id->mac);
        } else if (auto mac = paths::keyOfChild(conn, "interface", path); mac && !xml) {
            auto s = d.interfaces().ifaceSummary(*mac);
            add("interface_name", s.name);
            add("interface_macaddr", s.mac);
        }
    } else if (obj == "node-device") {
        if (xml && id)
            add("node_device_name", id->name);
        else if (auto name = paths::keyOfChild(conn, "nodedev", path); name && !xml)
            add("node_device_name", d.nodeDevices().nodeDeviceSummary(*name).name);
    } else if (obj == "secret") {
        if (xml && id) {
            add("secret_uuid", id->uuid);
            if (const char* k = usageDetail(id->usageType))
                add(k, id->usageId);
        } else if (auto uuid = paths::uuidOfChild(conn, "secret", path); uuid && !xml) {
            auto s = d.secrets().secretSummary(*uuid);
            add("secret_uuid", s.uuid);
            if (const char* k = usageDetail(s.usageType))
                add(k, s.usageID);
        }
    } else if (obj == "nwfilter") {
        if (xml && id) {
            add("nwfilter_name", id->name);
            add("nwfilter_uuid", id->uuid);
        } else if (auto uuid = paths::uuidOfChild(conn, "nwfilter", path); uuid && !xml) {
            auto ref = d.nwfilters().nwfilterLookupByUUID(*uuid);
            add("nwfilter_name", ref.name);
            add("nwfilter_uuid", ref.uuid);
        }
    }
    return out;
}

void ConnectionAuthorizer::askAll(
    sd_bus_message* call, std::vector<Query> queries, std::function<void(std::vector<bool>)> done)
{
    if (queries.empty()) {
        done({});
        return;
    }
    struct State {
        std::vector<bool> verdicts;
        size_t left;
        std::function<void(std::vector<bool>)> done;
    };
    auto st = std::make_shared<State>(State {std::vector<bool>(queries.size()), queries.size(), std::move(done)});
    for (size_t i = 0; i < queries.size(); ++i) {
        polkit_.check(call, queries[i].action, queries[i].details, [st, i](Polkit::Verdict v) {
            st->verdicts[i] = v.allowed;
            if (--st->left == 0)
                st->done(std::move(st->verdicts));
        });
    }
}

void ConnectionAuthorizer::authorize(sd_bus_message* call, const std::vector<bus::Check>& checks, Done done)
{
    if (checks.empty()) {
        done(nullptr);
        return;
    }
    // Root needs no details: no driver lookups, no second parse of the
    // caller's XML. The checks' XML stays valid while `done` (which holds
    // the call's arguments) lives.
    sd_bus_message_ref(call);
    polkit_.callerUid(call, [this, call, checks, done = std::move(done)](std::optional<uid_t> uid) mutable {
        if (uid && *uid == 0) {
            sd_bus_message_unref(call);
            done(nullptr);
            return;
        }
        std::vector<Query> queries;
        try {
            const char* path = sd_bus_message_get_path(call);
            for (const auto& c : checks)
                queries.push_back({actionId(c.object, c.permission), details(c.object, path ? path : "", c.xml)});
        } catch (...) {
            // The object is gone (or never was): the error libvirt gives for it.
            sd_bus_message_unref(call);
            done(std::current_exception());
            return;
        }
        auto actions = std::make_shared<std::vector<std::string>>();
        for (const auto& q : queries)
            actions->push_back(q.action);
        askAll(call, std::move(queries), [actions, done = std::move(done)](std::vector<bool> ok) {
            for (size_t i = 0; i < ok.size(); ++i) {
                if (!ok[i]) {
                    done(std::make_exception_ptr(bus::AccessDenied("access denied: " + (*actions)[i])));
                    return;
                }
            }
            done(nullptr);
        });
        sd_bus_message_unref(call);
    });
}

void ConnectionAuthorizer::checkPaths(sd_bus_message* call, const char* object, const char* permission,
    std::vector<std::string> paths, std::function<void(std::vector<bool>)> done)
{
    sd_bus_message_ref(call);
    // Root needs no details: skip resolving every object of a long list.
    polkit_.callerUid(call,
        [this, call, object, permission, paths = std::move(paths), done = std::move(done)](
            std::optional<uid_t> uid) mutable {
            if (uid && *uid == 0) {
                sd_bus_message_unref(call);
                done(std::vector<bool>(paths.size(), true));
                return;
            }
            std::vector<Query> queries;
            std::vector<size_t> index; // query -> path; objects gone meanwhile are left out
            for (size_t i = 0; i < paths.size(); ++i) {
                try {
                    auto d = details(object, paths[i], nullptr);
                    if (d.size() < 2 && std::strcmp(object, "connect") != 0)
                        continue; // not an object of this kind
                    queries.push_back({actionId(object, permission), std::move(d)});
                    index.push_back(i);
                } catch (const VirtError&) { }
            }
            size_t n = paths.size();
            askAll(
                call, std::move(queries), [n, index = std::move(index), done = std::move(done)](std::vector<bool> ok) {
                    std::vector<bool> out(n, false);
                    for (size_t q = 0; q < ok.size(); ++q)
                        out[index[q]] = ok[q];
                    done(std::move(out));
                });
            sd_bus_message_unref(call);
        });
}

void ConnectionAuthorizer::checkDomainNames(sd_bus_message* call, const char* permission,
    std::vector<std::string> names, std::function<void(std::vector<bool>)> done)
{
    std::vector<std::string> paths;
    paths.reserve(names.size());
    for (const auto& n : names) {
        try {
            paths.push_back(conn_.domainPath(conn_.driver().domainLookupByName(n).uuid));
        } catch (const VirtError&) {
            paths.emplace_back(); // gone: resolves to no details, so it is left out
        }
    }
    checkPaths(call, "domain", permission, std::move(paths), std::move(done));
}

} // namespace virtbus
