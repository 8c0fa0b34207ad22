#include "polkit.h"

#include <cstring>

#include "log.h"

namespace virtbus {

namespace {

constexpr uint64_t kTimeoutUsec = 25'000'000;
// A user typing the administrator's password into an agent takes a while.
constexpr uint64_t kInteractiveTimeoutUsec = 300'000'000;
constexpr uint32_t kAllowUserInteraction = 1;

std::string errorText(sd_bus_message* reply)
{
    const sd_bus_error* e = sd_bus_message_get_error(reply);
    std::string s = e && e->name ? e->name : "unknown error";
    if (e && e->message)
        s += std::string(": ") + e->message;
    return s;
}

int appendRequest(sd_bus_message* m, const std::string& sender, const std::string& action,
    const Polkit::Details& details, uint32_t flags)
{
    int r = sd_bus_message_append(m, "(sa{sv})", "system-bus-name", 1, "name", "s", sender.c_str());
    if (r >= 0)
        r = sd_bus_message_append(m, "s", action.c_str());
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "{ss}");
    for (const auto& [k, v] : details)
        if (r >= 0)
            r = sd_bus_message_append(m, "{ss}", k.c_str(), v.c_str());
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_message_append(m, "us", flags, "");
    return r;
}

} // namespace

Polkit::Polkit(sd_bus* bus) : bus_(sd_bus_ref(bus))
{
    int r = sd_bus_match_signal_async(bus_, &nameWatch_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
        "org.freedesktop.DBus", "NameOwnerChanged", onNameOwnerChanged, nullptr, this);
    if (r < 0)
        logWarning("cannot watch callers leaving the bus (%s): polkit verdicts stay cached", strerror(-r));
}

Polkit::~Polkit()
{
    // Unanswered checks end with the daemon: their calls fail as dropped.
    for (auto& p : pending_)
        sd_bus_slot_unref(p.slot);
    for (auto& [_, l] : uidLookups_) {
        sd_bus_slot_unref(l->slot);
        delete l;
    }
    sd_bus_slot_unref(nameWatch_);
    sd_bus_unref(bus_);
}

void Polkit::callerUid(sd_bus_message* call, std::function<void(std::optional<uid_t>)> done)
{
    const char* s = sd_bus_message_get_sender(call);
    if (!s) {
        done(std::nullopt); // a direct connection, not a bus: nobody to check
        return;
    }
    std::string sender = s;
    if (auto it = uids_.find(sender); it != uids_.end()) {
        done(it->second);
        return;
    }
    if (auto it = uidLookups_.find(sender); it != uidLookups_.end()) {
        it->second->waiting.push_back(std::move(done));
        return;
    }
    auto* l = new UidLookup {this, nullptr, sender, {}};
    l->waiting.push_back(std::move(done));
    int r = sd_bus_call_method_async(bus_, &l->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
        "org.freedesktop.DBus", "GetConnectionUnixUser", onUid, l, "s", s);
    if (r < 0) {
        logWarning("cannot ask the bus for %s's uid: %s", s, strerror(-r));
        auto waiting = std::move(l->waiting);
        delete l;
        for (auto& w : waiting)
            w(std::nullopt);
        return;
    }
    uidLookups_[sender] = l;
    pending(true);
}

int Polkit::onUid(sd_bus_message* reply, void* userdata, sd_bus_error*)
{
    auto* l = static_cast<UidLookup*>(userdata);
    Polkit* self = l->self;
    std::optional<uid_t> uid;
    uint32_t u = 0;
    if (!sd_bus_message_is_method_error(reply, nullptr) && sd_bus_message_read(reply, "u", &u) > 0)
        uid = u;
    else
        logWarning("cannot get %s's uid: %s", l->sender.c_str(), errorText(reply).c_str());
    if (uid)
        self->uids_[l->sender] = *uid;
    self->uidLookups_.erase(l->sender);
    auto waiting = std::move(l->waiting);
    sd_bus_slot_unref(l->slot);
    delete l;
    self->pending(false);
    for (auto& w : waiting)
        w(uid);
    return 1;
}

void Polkit::check(sd_bus_message* call, const std::string& action, const Details& details, Done done)
{
    sd_bus_message_ref(call);
    callerUid(call, [this, call, action, details, done = std::move(done)](std::optional<uid_t> uid) mutable {
        const char* s = sd_bus_message_get_sender(call);
        std::string sender = s ? s : "";
        if (uid && *uid == 0) {
            sd_bus_message_unref(call);
            done({true, {}});
            return;
        }
        if (!uid) {
            sd_bus_message_unref(call);
            done({false, "the caller's identity is unknown"});
            return;
        }
        std::string key = sender + '\n' + action;
        for (const auto& [k, v] : details)
            key += '\n' + k + '=' + v;
        if (auto it = cache_.find(key); it != cache_.end()) {
            sd_bus_message_unref(call);
            done({it->second, {}});
            return;
        }
        ask(call, sender, action, details, std::move(key), std::move(done));
        sd_bus_message_unref(call);
    });
}

void Polkit::ask(sd_bus_message* call, const std::string& sender, const std::string& action, const Details& details,
    std::string key, Done done)
{
    bool interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &m, "org.freedesktop.PolicyKit1",
        "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
    if (r >= 0)
        r = appendRequest(m, sender, action, details, interactive ? kAllowUserInteraction : 0);
    auto it = pending_.insert(pending_.end(), Pending {this, nullptr, sender, std::move(key), {}, std::move(done)});
    it->it = it;
    if (r >= 0)
        r = sd_bus_call_async(
            bus_, &it->slot, m, onVerdict, &*it, interactive ? kInteractiveTimeoutUsec : kTimeoutUsec);
    sd_bus_message_unref(m);
    if (r < 0) {
        Done d = std::move(it->done);
        pending_.erase(it);
        d({false, std::string("cannot ask polkit: ") + strerror(-r)});
        return;
    }
    ++queries_;
    pending(true);
}

int Polkit::onVerdict(sd_bus_message* reply, void* userdata, sd_bus_error*)
{
    auto* p = static_cast<Pending*>(userdata);
    Polkit* self = p->self;
    Verdict v;
    if (sd_bus_message_is_method_error(reply, nullptr)) {
        v.why = "polkit: " + errorText(reply);
        logWarning("polkit check failed: %s", v.why.c_str());
    } else {
        int authorized = 0, challenge = 0;
        int r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r > 0)
            r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r > 0) {
            v.allowed = authorized;
            // A challenge is no verdict: the next call may carry
            // ALLOW_INTERACTIVE_AUTHORIZATION, or the admin may have typed
            // the password by then.
            if ((authorized || !challenge) && self->uids_.count(p->sender))
                self->cache_[p->key] = v.allowed;
        } else {
            v.why = "polkit sent an unreadable answer";
        }
    }
    Done done = std::move(p->done);
    sd_bus_slot_unref(p->slot);
    self->pending_.erase(p->it);
    self->pending(false);
    done(std::move(v));
    return 1;
}

int Polkit::onNameOwnerChanged(sd_bus_message* m, void* userdata, sd_bus_error*)
{
    const char *name = nullptr, *from = nullptr, *to = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &from, &to) < 0 || !name || name[0] != ':' || (to && *to))
        return 0;
    static_cast<Polkit*>(userdata)->forget(name);
    return 0;
}

void Polkit::forget(const std::string& sender)
{
    uids_.erase(sender);
    std::string prefix = sender + '\n';
    auto it = cache_.lower_bound(prefix);
    while (it != cache_.end() && it->first.compare(0, prefix.size(), prefix) == 0)
        it = cache_.erase(it);
}

} // namespace virtbus
