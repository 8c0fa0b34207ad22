// A method call in flight. The generated glue hands each handler a
// Reply<Out...> that owns a reference to the request; the handler answers
// at once or moves the Reply into a continuation and answers later (polkit,
// worker threads), so the bus thread never waits. A Reply dropped without an
// answer still answers, with an error, so no caller hangs until its timeout.
#pragma once

#include <systemd/sd-bus.h>

#include <exception>
#include <string>
#include <utility>

#include "message.h"

namespace virtbus::bus {

// Maps any exception to a D-Bus error reply; the one place where driver
// errors become org.libvirt.Error (see error_map.cpp).
void replyException(sd_bus_message* call, std::exception_ptr e) noexcept;
void replyError(sd_bus_message* call, const char* name, const std::string& message) noexcept;

class CallBase {
public:
    explicit CallBase(sd_bus_message* m) : m_(sd_bus_message_ref(m)) {}
    CallBase(CallBase&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    CallBase& operator=(CallBase&& o) noexcept
    {
        if (this != &o) {
            drop();
            m_ = std::exchange(o.m_, nullptr);
        }
        return *this;
    }
    CallBase(const CallBase&) = delete;
    CallBase& operator=(const CallBase&) = delete;
    ~CallBase() { drop(); }

    const char* path() const { return sd_bus_message_get_path(m_); }
    const char* sender() const { return sd_bus_message_get_sender(m_); }
    const char* member() const { return sd_bus_message_get_member(m_); }
    sd_bus_message* message() const { return m_; }
    bool pending() const { return m_ != nullptr; }
    bool allowInteractive() const { return sd_bus_message_get_allow_interactive_authorization(m_) > 0; }

    void fail(std::exception_ptr e) noexcept
    {
        if (!m_)
            return;
        replyException(m_, e);
        release();
    }
    void fail(const char* name, const std::string& message) noexcept
    {
        if (!m_)
            return;
        replyError(m_, name, message);
        release();
    }

protected:
    void release() noexcept { m_ = sd_bus_message_unref(m_); }
    void drop() noexcept
    {
        if (m_)
            fail("org.libvirt.Error", "internal error: call was dropped without a reply");
    }
    sd_bus_message* m_;
};

template <class... Out>
class Reply : public CallBase {
public:
    using CallBase::CallBase;

    void ok(const Out&... values)
    {
        if (!m_)
            return;
        sd_bus_message* r = nullptr;
        int rc = sd_bus_message_new_method_return(m_, &r);
        if (rc >= 0) {
            try {
                Writer(r).putAll(values...);
                rc = sd_bus_send(nullptr, r, nullptr);
            } catch (...) {
                sd_bus_message_unref(r);
                fail(std::current_exception());
                return;
            }
        }
        sd_bus_message_unref(r);
        release();
    }
};

} // namespace virtbus::bus
