// A method call in flight. The generated glue hands each handler a
// Reply<Out...> that owns a reference to the request; the handler answers
// at once or moves the Reply into a continuation and answers later (polkit,
// worker threads), so the bus thread never waits. A Reply dropped without an
// answer still answers, with an error, so no caller hangs until its timeout.
#pragma once

#include <systemd/sd-bus.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "dispatcher.h"
#include "message.h"

namespace virtbus::bus {

// Maps any exception to a D-Bus error reply; the one place where driver
// errors become org.libvirt.Error (see error_map.cpp).
void replyException(sd_bus_message* call, std::exception_ptr e) noexcept;
void replyError(sd_bus_message* call, const char* name, const std::string& message) noexcept;

class CallBase {
public:
    explicit CallBase(sd_bus_message* m) : m_(sd_bus_message_ref(m)) { }
    CallBase(CallBase&& o) noexcept : m_(std::exchange(o.m_, nullptr)), d_(std::exchange(o.d_, nullptr)) { }
    CallBase& operator=(CallBase&& o) noexcept
    {
        if (this != &o) {
            drop();
            m_ = std::exchange(o.m_, nullptr);
            d_ = std::exchange(o.d_, nullptr);
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

    // From now on this call is answered from a worker thread: every answer
    // is carried to the bus thread through `d` instead of sent here.
    void moveToWorkers(Dispatcher* d) noexcept { d_ = d; }

    void fail(std::exception_ptr e) noexcept
    {
        if (!m_)
            return;
        if (d_) {
            onBus([e](sd_bus_message* m) { replyException(m, e); });
            return;
        }
        replyException(m_, e);
        release();
    }
    void fail(const char* name, const std::string& message) noexcept
    {
        if (!m_)
            return;
        if (d_) {
            onBus([n = std::string(name), message](sd_bus_message* m) { replyError(m, n.c_str(), message); });
            return;
        }
        replyError(m_, name, message);
        release();
    }

protected:
    // Hands the request (and our reference to it) to the bus thread, where
    // `send` answers it.
    template <class F>
    void onBus(F send) noexcept
    {
        sd_bus_message* m = std::exchange(m_, nullptr);
        try {
            d_->toBus([m, send = std::move(send)]() mutable {
                send(m);
                sd_bus_message_unref(m);
            });
        } catch (...) {
            // Out of memory queueing the answer: the caller times out, which
            // is all that is left; the reference leaks rather than being
            // dropped on the wrong thread.
        }
    }
    void release() noexcept { m_ = sd_bus_message_unref(m_); }
    void drop() noexcept
    {
        if (m_)
            fail("org.libvirt.Error", "internal error: call was dropped without a reply");
    }
    sd_bus_message* m_;
    Dispatcher* d_ = nullptr;
};

template <class... Out>
class Reply : public CallBase {
public:
    using CallBase::CallBase;

    // Runs `f` on the bus thread with the reply and the values instead of
    // answering: checks on a result (a lookup's object, a listing's
    // members) that may themselves wait on polkit. `f` answers.
    using Intercept = std::function<void(Reply&&, std::tuple<Out...>&&)>;
    void interceptOk(Intercept f) { intercept_ = std::move(f); }

    void ok(const Out&... values)
    {
        if (!m_)
            return;
        if (intercept_) {
            divert(std::make_tuple(values...));
            return;
        }
        if (d_) {
            onBus([v = std::make_tuple(values...)](
                      sd_bus_message* m) { std::apply([m](const Out&... x) { sendReturn(m, x...); }, v); });
            return;
        }
        sendReturn(m_, values...);
        release();
    }

private:
    void divert(std::tuple<Out...> values)
    {
        auto f = std::exchange(intercept_, nullptr);
        Dispatcher* d = std::exchange(d_, nullptr);
        if (!d) {
            f(std::move(*this), std::move(values));
            return;
        }
        // std::function needs copyable state: share the move-only reply.
        auto self = std::make_shared<Reply>(std::move(*this));
        auto v = std::make_shared<std::tuple<Out...>>(std::move(values));
        d->toBus([f = std::move(f), self, v] { f(std::move(*self), std::move(*v)); });
    }

    static void sendReturn(sd_bus_message* m, const Out&... values) noexcept
    {
        sd_bus_message* r = nullptr;
        int rc = sd_bus_message_new_method_return(m, &r);
        if (rc >= 0) {
            try {
                Writer(r).putAll(values...);
                rc = sd_bus_send(nullptr, r, nullptr);
            } catch (...) {
                sd_bus_message_unref(r);
                replyException(m, std::current_exception());
                return;
            }
        }
        sd_bus_message_unref(r);
    }

    Intercept intercept_;
};

} // namespace virtbus::bus
