// Typed reading and writing of sd-bus messages. The generated glue maps each
// D-Bus signature of interfaces/*.xml to one C++ type below; these templates
// turn values of those types into message contents and back.
//
//   y b i u x t d s o h   uint8_t bool int32_t uint32_t int64_t uint64_t
//                         double std::string ObjectPath UnixFd
//   aX                    std::vector<X>
//   a{KV}                 Dict<K, V>   (ordered pairs)
//   a{sv}                 TypedParams  (values wrapped twice on output)
//   (...)                 std::tuple<...>
#pragma once

#include <systemd/sd-bus.h>

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "typed_params.h"

namespace virtbus::bus {

struct ObjectPath {
    std::string value;
    bool operator==(const ObjectPath&) const = default;
};

// A file descriptor received or sent; reading borrows the message's fd.
struct UnixFd {
    int fd = -1;
    // An answer from a worker is written later, on the bus thread: an fd
    // the handler made must stay open until then. owned() ties it to the
    // value (and its copies) and closes it after the last one.
    std::shared_ptr<const void> owner;
    static UnixFd owned(int fd)
    {
        return {fd, std::shared_ptr<const void>(nullptr, [fd](const void*) { ::close(fd); })};
    }
};

template <class K, class V>
using Dict = std::vector<std::pair<K, V>>;

// Raised when a message does not have the shape its signature promises.
class BusError : public std::runtime_error {
public:
    BusError(int err, const std::string& what) : std::runtime_error(what), errnum(err) {}
    int errnum;
};

inline void check(int r, const char* what)
{
    if (r < 0)
        throw BusError(-r, what);
}

template <class T>
struct Sig;

#define VIRTBUS_BASIC_SIG(T, C)                                                                        \
    template <>                                                                                        \
    struct Sig<T> {                                                                                    \
        static std::string str() { return std::string(1, C); }                                         \
        static constexpr char code = C;                                                                \
    };
VIRTBUS_BASIC_SIG(uint8_t, 'y')
VIRTBUS_BASIC_SIG(bool, 'b')
VIRTBUS_BASIC_SIG(int16_t, 'n')
VIRTBUS_BASIC_SIG(uint16_t, 'q')
VIRTBUS_BASIC_SIG(int32_t, 'i')
VIRTBUS_BASIC_SIG(uint32_t, 'u')
VIRTBUS_BASIC_SIG(int64_t, 'x')
VIRTBUS_BASIC_SIG(uint64_t, 't')
VIRTBUS_BASIC_SIG(double, 'd')
VIRTBUS_BASIC_SIG(std::string, 's')
VIRTBUS_BASIC_SIG(ObjectPath, 'o')
VIRTBUS_BASIC_SIG(UnixFd, 'h')
#undef VIRTBUS_BASIC_SIG

template <class T>
struct Sig<std::vector<T>> {
    static std::string str() { return "a" + Sig<T>::str(); }
};
template <class K, class V>
struct Sig<std::vector<std::pair<K, V>>> {
    static std::string str() { return "a{" + Sig<K>::str() + Sig<V>::str() + "}"; }
};
template <>
struct Sig<TypedParams> {
    static std::string str() { return "a{sv}"; }
};
template <class... T>
struct Sig<std::tuple<T...>> {
    static std::string str() { return "(" + (Sig<T>::str() + ... + std::string()) + ")"; }
    static std::string inner() { return (Sig<T>::str() + ... + std::string()); }
};

// ---- writing ----

class Writer {
public:
    explicit Writer(sd_bus_message* m) : m_(m) {}

    void put(bool v)
    {
        int b = v;
        check(sd_bus_message_append_basic(m_, 'b', &b), "append b");
    }
    void put(const std::string& v) { check(sd_bus_message_append_basic(m_, 's', v.c_str()), "append s"); }
    void put(const char* v) { check(sd_bus_message_append_basic(m_, 's', v), "append s"); }
    void put(const ObjectPath& v) { check(sd_bus_message_append_basic(m_, 'o', v.value.c_str()), "append o"); }
    void put(const UnixFd& v) { check(sd_bus_message_append_basic(m_, 'h', &v.fd), "append h"); }
    template <class T>
        requires std::is_arithmetic_v<T>
    void put(T v)
    {
        check(sd_bus_message_append_basic(m_, Sig<T>::code, &v), "append basic");
    }
    template <class T>
    void put(const std::vector<T>& v)
    {
        check(sd_bus_message_open_container(m_, 'a', Sig<T>::str().c_str()), "open array");
        for (const auto& e : v)
            put(e);
        check(sd_bus_message_close_container(m_), "close array");
    }
    template <class K, class V>
    void put(const std::vector<std::pair<K, V>>& v)
    {
        std::string entry = Sig<K>::str() + Sig<V>::str();
        check(sd_bus_message_open_container(m_, 'a', ("{" + entry + "}").c_str()), "open dict");
        for (const auto& [k, val] : v) {
            check(sd_bus_message_open_container(m_, 'e', entry.c_str()), "open entry");
            put(k);
            put(val);
            check(sd_bus_message_close_container(m_), "close entry");
        }
        check(sd_bus_message_close_container(m_), "close dict");
    }
    // libvirt-dbus wraps every typed-parameter value twice (v holding v);
    // clients such as cockpit-machines unwrap exactly two levels.
    void put(const TypedParams& v)
    {
        check(sd_bus_message_open_container(m_, 'a', "{sv}"), "open a{sv}");
        for (const auto& p : v) {
            check(sd_bus_message_open_container(m_, 'e', "sv"), "open entry");
            put(p.name);
            check(sd_bus_message_open_container(m_, 'v', "v"), "open v");
            putVariant(p.value);
            check(sd_bus_message_close_container(m_), "close v");
            check(sd_bus_message_close_container(m_), "close entry");
        }
        check(sd_bus_message_close_container(m_), "close a{sv}");
    }
    template <class... T>
    void put(const std::tuple<T...>& v)
    {
        check(sd_bus_message_open_container(m_, 'r', Sig<std::tuple<T...>>::inner().c_str()), "open struct");
        std::apply([this](const auto&... e) { (put(e), ...); }, v);
        check(sd_bus_message_close_container(m_), "close struct");
    }

    // One variant level holding a typed-parameter value.
    void putVariant(const ParamValue& v)
    {
        std::visit(
            [this](const auto& x) {
                using X = std::decay_t<decltype(x)>;
                check(sd_bus_message_open_container(m_, 'v', Sig<X>::str().c_str()), "open v");
                put(x);
                check(sd_bus_message_close_container(m_), "close v");
            },
            v);
    }

    template <class... T>
    void putAll(const T&... v)
    {
        (put(v), ...);
    }

private:
    sd_bus_message* m_;
};

// ---- reading ----

class Reader {
public:
    explicit Reader(sd_bus_message* m) : m_(m) {}

    void get(bool& v)
    {
        int b = 0;
        read('b', &b);
        v = b != 0;
    }
    void get(std::string& v)
    {
        const char* s = nullptr;
        read('s', &s);
        v = s;
    }
    void get(ObjectPath& v)
    {
        const char* s = nullptr;
        read('o', &s);
        v.value = s;
    }
    void get(UnixFd& v) { read('h', &v.fd); }
    template <class T>
        requires std::is_arithmetic_v<T>
    void get(T& v)
    {
        read(Sig<T>::code, &v);
    }
    template <class T>
    void get(std::vector<T>& v)
    {
        enter('a', Sig<T>::str().c_str());
        v.clear();
        for (;;) {
            int r = sd_bus_message_at_end(m_, false);
            check(r, "at_end");
            if (r > 0)
                break;
            T e{};
            get(e);
            v.push_back(std::move(e));
        }
        leave();
    }
    template <class K, class V>
    void get(std::vector<std::pair<K, V>>& v)
    {
        std::string entry = Sig<K>::str() + Sig<V>::str();
        enter('a', ("{" + entry + "}").c_str());
        v.clear();
        for (;;) {
            int r = sd_bus_message_enter_container(m_, 'e', entry.c_str());
            check(r, "enter entry");
            if (r == 0)
                break;
            std::pair<K, V> e{};
            get(e.first);
            get(e.second);
            leave();
            v.push_back(std::move(e));
        }
        leave();
    }
    void get(TypedParams& v);
    template <class... T>
    void get(std::tuple<T...>& v)
    {
        enter('r', Sig<std::tuple<T...>>::inner().c_str());
        std::apply([this](auto&... e) { (get(e), ...); }, v);
        leave();
    }

    template <class... T>
    std::tuple<T...> readAll()
    {
        std::tuple<T...> t;
        std::apply([this](auto&... e) { (get(e), ...); }, t);
        return t;
    }

private:
    void read(char type, void* p) { check(sd_bus_message_read_basic(m_, type, p), "read basic"); }
    void enter(char type, const char* contents)
    {
        int r = sd_bus_message_enter_container(m_, type, contents);
        check(r, "enter container");
        if (r == 0)
            throw BusError(ENXIO, "container missing");
    }
    void leave() { check(sd_bus_message_exit_container(m_), "exit container"); }
    ParamValue getVariant();

    sd_bus_message* m_;
};

} // namespace virtbus::bus
