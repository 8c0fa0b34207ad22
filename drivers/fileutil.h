// Files every driver writes: configuration and state that must survive a
// crash whole or not at all.
#pragma once

#include <unistd.h>

#include <optional>
#include <string>
#include <utility>

#include "error.h"

namespace virtbus {

// libvirt's VIR_ERR_SYSTEM_ERROR: "<message>: <strerror(errnum)>".
VirtError systemError(ErrDomain domain, const std::string& message, int errnum);

// Writes `content` to `path` through a temporary file in the same
// directory that is fsynced and renamed into place, then fsyncs the
// directory, so readers and crashes see the old file or the new one. `what`
// starts the error message ("saving domain 'x' to '/p'"). Mode 0600 unless
// given.
void writeFileAtomic(const std::string& path, const std::string& content, const std::string& what, ErrDomain domain,
    unsigned mode = 0600);

// The whole file, or nullopt when it cannot be read (errno tells why).
// Files larger than `maxBytes` are refused (nullopt, errno EFBIG).
std::optional<std::string> readFile(const std::string& path, size_t maxBytes = 16u << 20);

// mkdir -p with `mode` for the directories it creates.
void makeDirs(const std::string& path, unsigned mode, ErrDomain domain);

// Owns a file descriptor: closed when the owner goes, whatever throws.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) { }
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) { }
    UniqueFd& operator=(UniqueFd&& o) noexcept
    {
        reset(std::exchange(o.fd_, -1));
        return *this;
    }
    ~UniqueFd() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace virtbus
