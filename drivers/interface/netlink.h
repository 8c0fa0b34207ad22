// A minimal rtnetlink client: building requests, walking replies, and one
// NETLINK_ROUTE socket. Building and parsing are pure (byte buffers in and
// out), so they are tested without a kernel; only Socket talks to one.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::nl {

// One request: nlmsghdr, a fixed family header (ifinfomsg, ifaddrmsg,
// rtmsg), then attributes, each padded to NLA_ALIGNTO.
class Message {
public:
    Message(uint16_t type, uint16_t flags);

    // Appends the family header; call once, before any attribute.
    template <class T>
    T& header()
    {
        size_t at = append(nullptr, sizeof(T));
        return *reinterpret_cast<T*>(buf_.data() + at);
    }
    void put(uint16_t type, const void* data, size_t len);
    void putU8(uint16_t type, uint8_t v) { put(type, &v, sizeof v); }
    void putU16(uint16_t type, uint16_t v) { put(type, &v, sizeof v); }
    void putU32(uint16_t type, uint32_t v) { put(type, &v, sizeof v); }
    // NUL-terminated, as the kernel wants names (IFLA_IFNAME, kinds).
    void putString(uint16_t type, std::string_view s);
    // Returns a token for endNest(); attributes put in between nest.
    size_t beginNest(uint16_t type);
    void endNest(size_t token);

    void setSeq(uint32_t seq);
    const std::vector<uint8_t>& bytes() const { return buf_; }

private:
    size_t append(const void* data, size_t len);
    void finish();
    std::vector<uint8_t> buf_;
};

// A view of one attribute's payload.
struct Attr {
    const uint8_t* data = nullptr;
    size_t len = 0;

    explicit operator bool() const { return data != nullptr; }
    // Values shorter than their type read as nullopt, never past the end.
    std::optional<uint8_t> u8() const;
    std::optional<uint16_t> u16() const;
    std::optional<uint32_t> u32() const;
    std::string str() const; // up to the first NUL
    std::vector<uint8_t> raw() const { return {data, data + len}; }
};

// Attributes by type (the last one wins); types above `maxType` and
// malformed tails are ignored, as the kernel's own parser does.
class Attrs {
public:
    Attrs(const uint8_t* data, size_t len, uint16_t maxType);
    static Attrs nested(const Attr& a, uint16_t maxType) { return Attrs(a.data, a.len, maxType); }
    Attr operator[](uint16_t type) const { return type < table_.size() ? table_[type] : Attr {}; }

private:
    std::vector<Attr> table_;
};

// The attributes following the family header T of a message.
template <class T>
Attrs attrsOf(const nlmsghdr* h, uint16_t maxType)
{
    size_t off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(T)));
    if (h->nlmsg_len < off)
        return Attrs(nullptr, 0, maxType);
    return Attrs(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off, maxType);
}
template <class T>
const T* headerOf(const nlmsghdr* h)
{
    return h->nlmsg_len >= NLMSG_LENGTH(sizeof(T)) ? static_cast<const T*>(NLMSG_DATA(h)) : nullptr;
}

// Splits one datagram into messages; stops at the first malformed one.
std::vector<const nlmsghdr*> splitMessages(const uint8_t* data, size_t len);

// The errno of an NLMSG_ERROR (0 for an ACK), nullopt for other types.
std::optional<int> errorOf(const nlmsghdr* h);

// The kernel's extended ACK text (NLMSGERR_ATTR_MSG), "" if none.
std::string extackOf(const nlmsghdr* h);

// A failed request: errno and the kernel's extended ACK message.
struct Error {
    int errnum;
    std::string message;
};

class Socket {
public:
    Socket(); // throws std::system_error when no socket can be made
    ~Socket();
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    // Sends a request flagged NLM_F_ACK and waits for its answer.
    std::optional<Error> request(Message& m);
    // Sends an NLM_F_DUMP request and hands every reply message to `each`.
    std::optional<Error> dump(Message& m, const std::function<void(const nlmsghdr*)>& each);

private:
    std::optional<Error> exchange(Message& m, const std::function<void(const nlmsghdr*)>* each);
    int fd_ = -1;
    uint32_t seq_ = 0;
    std::vector<uint8_t> rx_;
};

} // namespace virtbus::nl
