// Console sessions: one client per guest character device, its bytes
// relayed between a socketpair end the client holds and the device (a pty
// or a connected unix socket) that only virtbusd holds. Relaying rather
// than handing out the device itself is what lets a forced open cut the
// previous client off: closing our end gives it EOF, and no two clients
// ever read the same device.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fileutil.h"

namespace virtbus::qemu {

class ConsoleRelays {
public:
    ConsoleRelays() = default;
    ~ConsoleRelays(); // ends every session (clients see EOF)
    ConsoleRelays(const ConsoleRelays&) = delete;
    ConsoleRelays& operator=(const ConsoleRelays&) = delete;

    // A new session on the device `key` names (its path): `openDevice`
    // runs once the device is free, and its fd is relayed from then on.
    // A live session on the same key is ended first when `force`, else
    // the call throws libvirt's "Active console session exists for this
    // domain". Returns the client's end (caller owns it).
    int open(const std::string& key, const std::function<UniqueFd()>& openDevice, bool force);

    // Sessions still relaying (for tests and the daemon's own checks).
    size_t active();

private:
    struct Session;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<Session>> sessions_;
};

} // namespace virtbus::qemu
