#include "fileutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace virtbus {

namespace {

bool writeAll(int fd, const char* data, size_t len)
{
    while (len > 0) {
        ssize_t n = ::write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

} // namespace

VirtError systemError(ErrDomain domain, const std::string& message, int errnum)
{
    // VIR_ERR_SYSTEM_ERROR carries no prefix of its own.
    constexpr auto kSystemError = static_cast<ErrCode>(38);
    return VirtError(kSystemError, domain, message + ": " + std::strerror(errnum));
}

void writeFileAtomic(const std::string& path, const std::string& content, const std::string& what,
                     ErrDomain domain, unsigned mode)
{
    std::string tmp = path + ".XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        throw systemError(domain, what + ": open failed", errno);
    if (::fchmod(fd, mode) != 0 || !writeAll(fd, content.data(), content.size()) || ::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw systemError(domain, what + ": write failed", e);
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw systemError(domain, what + ": write failed", e);
    }
    // Make the rename itself durable.
    std::string dir = path.substr(0, path.rfind('/'));
    int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

std::optional<std::string> readFile(const std::string& path, size_t maxBytes)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            errno = e;
            return std::nullopt;
        }
        if (n == 0)
            break;
        if (out.size() + static_cast<size_t>(n) > maxBytes) {
            ::close(fd);
            errno = EFBIG;
            return std::nullopt;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

void makeDirs(const std::string& path, unsigned mode, ErrDomain domain)
{
    if (path.empty())
        return;
    for (size_t pos = 1;; ++pos) {
        pos = path.find('/', pos);
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
            throw systemError(domain, "cannot create directory '" + part + "'", errno);
        if (pos == std::string::npos)
            return;
    }
}

} // namespace virtbus
