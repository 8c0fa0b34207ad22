// Asks polkit whether the sender of a call may perform an action, without
// ever blocking the bus thread: the caller's uid and polkit's verdict both
// arrive as async replies. Callers with uid 0 are allowed without asking.
// Verdicts are cached per (caller, action, details) and dropped when the
// caller leaves the bus (unique names are never reused, so a cached verdict
// can never be applied to another client). Only the bus thread uses this.
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace virtbus {

class Polkit {
public:
    using Details = std::vector<std::pair<std::string, std::string>>;
    struct Verdict {
        bool allowed = false;
        std::string why; // set when polkit could not be asked
    };
    using Done = std::function<void(Verdict)>;

    explicit Polkit(sd_bus* bus);
    ~Polkit();
    Polkit(const Polkit&) = delete;
    Polkit& operator=(const Polkit&) = delete;

    // The sender's uid (nullopt if the bus does not know it).
    void callerUid(sd_bus_message* call, std::function<void(std::optional<uid_t>)> done);
    void check(sd_bus_message* call, const std::string& action, const Details& details, Done done);

    // Told when a question to the bus or polkit goes out (true) and when
    // its answer is in (false): a call waiting for polkit is in flight for
    // idle exit.
    void onPending(std::function<void(bool started)> f) { pendingHook_ = std::move(f); }

    // For tests and benchmarks (debug log at exit).
    uint64_t queries() const { return queries_; }
    size_t cached() const { return cache_.size(); }

private:
    struct Pending {
        Polkit* self;
        sd_bus_slot* slot = nullptr;
        std::string sender, key;
        std::list<Pending>::iterator it;
        Done done;
    };
    struct UidLookup {
        Polkit* self;
        sd_bus_slot* slot = nullptr;
        std::string sender;
        std::vector<std::function<void(std::optional<uid_t>)>> waiting;
    };

    void ask(sd_bus_message* call, const std::string& sender, const std::string& action, const Details& details,
        std::string key, Done done);
    static int onVerdict(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int onUid(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int onNameOwnerChanged(sd_bus_message* m, void* userdata, sd_bus_error*);
    void forget(const std::string& sender);

    sd_bus* bus_;
    sd_bus_slot* nameWatch_ = nullptr;
    std::unordered_map<std::string, uid_t> uids_;
    std::unordered_map<std::string, UidLookup*> uidLookups_;
    // Key: sender '\n' action '\n' details; ordered so one caller's entries
    // are one range.
    std::map<std::string, bool> cache_;
    std::list<Pending> pending_;
    uint64_t queries_ = 0;
    std::function<void(bool)> pendingHook_;
    void pending(bool started)
    {
        if (pendingHook_)
            pendingHook_(started);
    }
};

} // namespace virtbus
