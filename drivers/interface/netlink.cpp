#include "interface/netlink.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace virtbus::nl {

Message::Message(uint16_t type, uint16_t flags)
{
    nlmsghdr h {};
    h.nlmsg_len = NLMSG_HDRLEN;
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    buf_.resize(NLMSG_HDRLEN);
    std::memcpy(buf_.data(), &h, sizeof h);
}

size_t Message::append(const void* data, size_t len)
{
    size_t at = buf_.size();
    buf_.resize(at + NLMSG_ALIGN(len), 0);
    if (data && len)
        std::memcpy(buf_.data() + at, data, len);
    finish();
    return at;
}

void Message::finish()
{
    auto len = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
}

void Message::put(uint16_t type, const void* data, size_t len)
{
    nlattr a {};
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    a.nla_type = type;
    size_t at = buf_.size();
    buf_.resize(at + NLA_HDRLEN + NLA_ALIGN(len), 0);
    std::memcpy(buf_.data() + at, &a, sizeof a);
    if (len)
        std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
    finish();
}

void Message::putString(uint16_t type, std::string_view s)
{
    std::string z(s);
    put(type, z.c_str(), z.size() + 1);
}

size_t Message::beginNest(uint16_t type)
{
    size_t at = buf_.size();
    put(static_cast<uint16_t>(type | NLA_F_NESTED), nullptr, 0);
    return at;
}

void Message::endNest(size_t token)
{
    auto len = static_cast<uint16_t>(buf_.size() - token);
    std::memcpy(buf_.data() + token + offsetof(nlattr, nla_len), &len, sizeof len);
}

void Message::setSeq(uint32_t seq) { std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof seq); }

namespace {
template <class T>
std::optional<T> read(const Attr& a)
{
    if (!a.data || a.len < sizeof(T))
        return std::nullopt;
    T v;
    std::memcpy(&v, a.data, sizeof v);
    return v;
}
} // namespace

std::optional<uint8_t> Attr::u8() const { return read<uint8_t>(*this); }
std::optional<uint16_t> Attr::u16() const { return read<uint16_t>(*this); }
std::optional<uint32_t> Attr::u32() const { return read<uint32_t>(*this); }

std::string Attr::str() const
{
    if (!data)
        return {};
    const auto* end = static_cast<const uint8_t*>(std::memchr(data, 0, len));
    return std::string(reinterpret_cast<const char*>(data), end ? static_cast<size_t>(end - data) : len);
}

Attrs::Attrs(const uint8_t* data, size_t len, uint16_t maxType) : table_(size_t {maxType} + 1)
{
    while (data && len >= NLA_HDRLEN) {
        nlattr a;
        std::memcpy(&a, data, sizeof a);
        if (a.nla_len < NLA_HDRLEN || a.nla_len > len)
            break;
        uint16_t type = a.nla_type & NLA_TYPE_MASK;
        if (type <= maxType)
            table_[type] = Attr {data + NLA_HDRLEN, size_t {a.nla_len} - NLA_HDRLEN};
        size_t step = NLA_ALIGN(a.nla_len);
        if (step >= len)
            break;
        data += step;
        len -= step;
    }
}

std::vector<const nlmsghdr*> splitMessages(const uint8_t* data, size_t len)
{
    std::vector<const nlmsghdr*> out;
    // The receive buffer is a std::vector<uint8_t>, aligned for nlmsghdr.
    const auto* h = reinterpret_cast<const nlmsghdr*>(data);
    auto left = static_cast<int>(len);
    while (NLMSG_OK(h, left)) {
        out.push_back(h);
        h = NLMSG_NEXT(h, left);
    }
    return out;
}

std::optional<int> errorOf(const nlmsghdr* h)
{
    if (h->nlmsg_type != NLMSG_ERROR)
        return std::nullopt;
    const auto* e = headerOf<nlmsgerr>(h);
    if (!e)
        return EPROTO;
    return -e->error;
}

std::string extackOf(const nlmsghdr* h)
{
    const auto* e = headerOf<nlmsgerr>(h);
    if (!e || !(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return {};
    // Without NLM_F_CAPPED the original request follows the error header.
    size_t off = NLMSG_LENGTH(sizeof(nlmsgerr));
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
    if (off >= h->nlmsg_len)
        return {};
    Attrs a(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off, NLMSGERR_ATTR_MAX);
    return a[NLMSGERR_ATTR_MSG].str();
}

Socket::Socket() : rx_(64 * 1024)
{
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "cannot open a netlink socket");
    int one = 1;
    // Best effort: older kernels simply give no text.
    setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    // Large dumps (thousands of links) arrive as many datagrams; a bigger
    // buffer means fewer kernel round trips.
    int rcvbuf = 1 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_nl local {};
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
        int e = errno;
        close(fd_);
        throw std::system_error(e, std::generic_category(), "cannot bind a netlink socket");
    }
}

Socket::~Socket()
{
    if (fd_ >= 0)
        close(fd_);
}

std::optional<Error> Socket::request(Message& m) { return exchange(m, nullptr); }

std::optional<Error> Socket::dump(Message& m, const std::function<void(const nlmsghdr*)>& each)
{
    return exchange(m, &each);
}

std::optional<Error> Socket::exchange(Message& m, const std::function<void(const nlmsghdr*)>* each)
{
    uint32_t seq = ++seq_;
    m.setSeq(seq);
    sockaddr_nl kernel {};
    kernel.nl_family = AF_NETLINK;
    const auto& out = m.bytes();
    if (sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        return Error {errno, {}};
    for (;;) {
        ssize_t n = recv(fd_, rx_.data(), rx_.size(), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error {errno, {}};
        }
        for (const nlmsghdr* h : splitMessages(rx_.data(), static_cast<size_t>(n))) {
            if (h->nlmsg_seq != seq)
                continue; // a late answer to an earlier, abandoned request
            if (h->nlmsg_type == NLMSG_DONE)
                return std::nullopt;
            if (auto e = errorOf(h)) {
                if (*e == 0)
                    return std::nullopt;
                return Error {*e, extackOf(h)};
            }
            if (each)
                (*each)(h);
        }
    }
}

} // namespace virtbus::nl
