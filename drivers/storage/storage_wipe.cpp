// libvirt's wiping algorithms, done here rather than by the `scrub` tool
// libvirt runs: the same pass sequences (scrub(1)'s nnsa, dod, bsi,
// gutmann, schneier, pfitzner7, pfitzner33, random), zeroes, and trim.
#include "storage/storage_internal.h"

#include "fileutil.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace virtbus::storage {

namespace {

enum Alg : uint32_t { Zero, Nnsa, Dod, Bsi, Gutmann, Schneier, Pfitzner7, Pfitzner33, Random, Trim };

// One pass: random data, a repeated byte pattern, or a read-back check of
// the previous pattern.
struct Pass {
    enum Kind { Rand, Fill, Verify } kind;
    std::vector<unsigned char> pattern;
};

Pass rnd() { return {Pass::Rand, {}}; }
Pass fill(std::initializer_list<unsigned char> p) { return {Pass::Fill, p}; }
Pass verify(std::initializer_list<unsigned char> p) { return {Pass::Verify, p}; }

std::vector<Pass> passesFor(uint32_t alg)
{
    switch (alg) {
    case Zero: return {fill({0x00})};
    case Nnsa: return {rnd(), rnd(), fill({0x00}), verify({0x00})};
    case Dod: return {rnd(), fill({0x00}), fill({0xff}), verify({0xff})};
    case Bsi:
        return {fill({0xff}), fill({0xfe}), fill({0xfd}), fill({0xfb}), fill({0xf7}), fill({0xef}), fill({0xdf}),
            fill({0xbf}), fill({0x7f})};
    case Gutmann: {
        std::vector<Pass> p(4, rnd());
        for (auto pat : std::initializer_list<std::initializer_list<unsigned char>> {{0x55}, {0xaa}, {0x92, 0x49, 0x24},
                 {0x49, 0x24, 0x92}, {0x24, 0x92, 0x49}, {0x00}, {0x11}, {0x22}, {0x33}, {0x44}, {0x55}, {0x66}, {0x77},
                 {0x88}, {0x99}, {0xaa}, {0xbb}, {0xcc}, {0xdd}, {0xee}, {0xff}, {0x92, 0x49, 0x24}, {0x49, 0x24, 0x92},
                 {0x24, 0x92, 0x49}, {0x6d, 0xb6, 0xdb}, {0xb6, 0xdb, 0x6d}, {0xdb, 0x6d, 0xb6}})
            p.push_back(fill(pat));
        for (int i = 0; i < 4; ++i)
            p.push_back(rnd());
        return p;
    }
    case Schneier: return {fill({0x00}), fill({0xff}), rnd(), rnd(), rnd(), rnd(), rnd()};
    case Pfitzner7: return std::vector<Pass>(7, rnd());
    case Pfitzner33: return std::vector<Pass>(33, rnd());
    case Random: return {rnd()};
    default: return {};
    }
}

constexpr size_t kChunk = 1u << 20;

// Random bytes fast enough for many passes over a disk: a xorshift
// generator seeded from the kernel. Wiping needs unpredictability to the
// disk, not to an attacker with the seed.
struct Prng {
    uint64_t s[2];
    Prng()
    {
        if (::getrandom(s, sizeof s, 0) != sizeof s)
            s[0] = 0x9e3779b97f4a7c15ULL, s[1] = uint64_t(::getpid()) | 1;
    }
    void fill(unsigned char* buf, size_t n)
    {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t x = s[0], y = s[1];
            s[0] = y;
            x ^= x << 23;
            s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
            uint64_t v = s[1] + y;
            std::memcpy(buf + i, &v, std::min<size_t>(8, n - i));
        }
    }
};

void patterned(std::vector<unsigned char>& buf, const std::vector<unsigned char>& pat)
{
    for (size_t i = 0; i < buf.size(); ++i)
        buf[i] = pat[i % pat.size()];
}

void runPass(int fd, const std::string& path, const Pass& pass, uint64_t length, Prng& prng,
    const std::function<void(uint64_t)>& advanced)
{
    std::vector<unsigned char> buf(kChunk), got;
    if (pass.kind != Pass::Rand)
        patterned(buf, pass.pattern);
    if (pass.kind == Pass::Verify)
        got.resize(kChunk);
    for (uint64_t off = 0; off < length;) {
        // Patterns of 3 bytes stay aligned to the offset across chunks.
        size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk - kChunk % 3, length - off));
        ssize_t r;
        if (pass.kind == Pass::Verify) {
            r = ::pread(fd, got.data(), n, static_cast<off_t>(off));
            if (r > 0 && std::memcmp(got.data(), buf.data(), size_t(r)) != 0)
                throw makeError(ErrCode::OperationFailed, ErrDomain::Storage,
                    "wipe of '" + path + "' failed to verify at offset " + std::to_string(off));
        } else {
            if (pass.kind == Pass::Rand)
                prng.fill(buf.data(), n);
            r = ::pwrite(fd, buf.data(), n, static_cast<off_t>(off));
        }
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            throw systemError(ErrDomain::Storage, "failed to wipe volume '" + path + "'", r < 0 ? errno : EIO);
        }
        off += uint64_t(r);
        advanced(off);
    }
    if (pass.kind != Pass::Verify && ::fdatasync(fd) != 0 && errno != EINVAL)
        throw systemError(ErrDomain::Storage, "cannot sync data to volume '" + path + "'", errno);
}

// Trim: hand the space back (discard on a device, holes in a file).
void trim(int fd, const std::string& path, uint64_t length, bool block)
{
    int r;
    if (block) {
        uint64_t range[2] = {0, length};
        r = ::ioctl(fd, BLKDISCARD, range);
    } else {
        r = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(length));
    }
    if (r != 0) {
        if (errno == EOPNOTSUPP || errno == ENOTTY)
            throw makeError(
                ErrCode::OperationUnsupported, ErrDomain::Storage, "volume '" + path + "' does not support trim");
        throw systemError(ErrDomain::Storage, "failed to trim volume '" + path + "'", errno);
    }
}

} // namespace

void wipeVolume(const std::string& path, uint32_t algorithm, uint64_t length, const ByteProgress& progress)
{
    int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        throw systemError(ErrDomain::Storage, "Failed to open storage volume with path '" + path + "'", errno);
    try {
        struct stat st { };
        ::fstat(fd, &st);
        if (algorithm == Trim) {
            trim(fd, path, length, S_ISBLK(st.st_mode));
        } else {
            Prng prng;
            auto passes = passesFor(algorithm);
            uint64_t total = length * passes.size();
            for (size_t i = 0; i < passes.size(); ++i)
                runPass(fd, path, passes[i], length, prng, [&](uint64_t off) {
                    if (progress)
                        progress(i * length + off, total);
                });
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

} // namespace virtbus::storage
