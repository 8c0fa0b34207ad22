// Upload and download (beyond libvirt-dbus, which has no streams): bytes
// between a caller's fd and a volume, on a worker thread. With the sparse
// flag, holes stay holes: a regular file's holes are found with
// SEEK_DATA/SEEK_HOLE, and from a pipe, runs of zero blocks are punched
// rather than written.
#include "storage/storage_internal.h"

#include "fileutil.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace virtbus {

using namespace storage;

namespace {

constexpr uint32_t kSparse = 1; // VIR_STORAGE_VOL_{UP,DOWN}LOAD_SPARSE_STREAM
constexpr size_t kChunk = 1u << 20;
constexpr size_t kBlock = 4096;

bool allZero(const unsigned char* p, size_t n)
{
    static const unsigned char zeros[kBlock] = {};
    for (size_t i = 0; i < n; i += kBlock)
        if (std::memcmp(p + i, zeros, std::min(kBlock, n - i)) != 0)
            return false;
    return true;
}

void writeAllAt(int fd, const unsigned char* p, size_t n, uint64_t off, const std::string& what)
{
    while (n > 0) {
        ssize_t w = off == UINT64_MAX ? ::write(fd, p, n) : ::pwrite(fd, p, n, static_cast<off_t>(off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            throw systemError(ErrDomain::Storage, "cannot write to " + what, w < 0 ? errno : EIO);
        p += w;
        n -= size_t(w);
        if (off != UINT64_MAX)
            off += uint64_t(w);
    }
}

ssize_t readSome(int fd, unsigned char* p, size_t n, uint64_t off)
{
    for (;;) {
        ssize_t r = off == UINT64_MAX ? ::read(fd, p, n) : ::pread(fd, p, n, static_cast<off_t>(off));
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

// The data extents of a regular file within [from, to): (start, end) pairs.
std::vector<std::pair<uint64_t, uint64_t>> dataExtents(int fd, uint64_t from, uint64_t to)
{
    std::vector<std::pair<uint64_t, uint64_t>> out;
    uint64_t pos = from;
    while (pos < to) {
        off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
        if (data < 0 || uint64_t(data) >= to)
            break;
        off_t hole = ::lseek(fd, data, SEEK_HOLE);
        uint64_t end = hole < 0 ? to : std::min<uint64_t>(uint64_t(hole), to);
        out.emplace_back(uint64_t(data), end);
        pos = end;
    }
    return out;
}

} // namespace

void HostStorageDriver::volUpload(const std::string& key, int in, uint64_t offset, uint64_t length, uint32_t flags)
{
    checkFlags(flags, kSparse, "storageVolUpload");
    std::unique_ptr<VolJob> job = holdForChange(key);
    job->backend.refreshVol(job->pool, job->vol);
    const auto& vol = job->vol;
    uint64_t limit = vol.type == "block" ? vol.physical : std::max(vol.capacity, vol.physical);
    if (offset > limit)
        throw err::invalidArg("offset " + std::to_string(offset) + " is past the end of volume '" + vol.name + "'");
    struct stat ist { };
    if (::fstat(in, &ist) != 0)
        throw systemError(ErrDomain::Storage, "cannot stat the upload fd", errno);
    bool inFile = S_ISREG(ist.st_mode);
    uint64_t inPos = inFile ? uint64_t(std::max<off_t>(::lseek(in, 0, SEEK_CUR), 0)) : 0;
    uint64_t want = length ? length : (inFile ? uint64_t(ist.st_size) - std::min<uint64_t>(inPos, ist.st_size) : 0);
    // A file's size is known now: refuse before a byte is written.
    if ((length || inFile) && want > limit - offset)
        throw err::invalidArg("upload of " + std::to_string(want) + " bytes at offset " + std::to_string(offset)
            + " would write past the capacity of volume '" + vol.name + "' (" + std::to_string(limit) + " bytes)");
    uint64_t end = (length || inFile) ? offset + want : limit;
    UniqueFd out {::open(vol.targetPath.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC)};
    if (out.get() < 0)
        throw systemError(ErrDomain::Storage, "cannot open volume '" + vol.targetPath + "'", errno);
    bool sparse = flags & kSparse;
    bool outFile = vol.type != "block";
    std::string what = "volume '" + vol.targetPath + "'";
    std::vector<unsigned char> buf(kChunk);
    ProgressThrottle report(progress_, key, "upload");
    auto punch = [&](uint64_t at, uint64_t n) {
        if (n && ::fallocate(out.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(at), off_t(n)) != 0) {
            std::memset(buf.data(), 0, buf.size()); // no holes here: write the zeros
            for (uint64_t o = 0; o < n; o += kChunk)
                writeAllAt(out.get(), buf.data(), size_t(std::min<uint64_t>(kChunk, n - o)), at + o, what);
        }
    };
    uint64_t pos = offset;
    if (inFile && sparse) {
        uint64_t base = inPos;
        uint64_t cursor = offset;
        for (auto [s, e] : dataExtents(in, base, base + want)) {
            punch(cursor, offset + (s - base) - cursor);
            for (uint64_t o = s; o < e;) {
                ssize_t r = readSome(in, buf.data(), size_t(std::min<uint64_t>(kChunk, e - o)), o);
                if (r <= 0)
                    throw systemError(ErrDomain::Storage, "cannot read the upload fd", r < 0 ? errno : EIO);
                writeAllAt(out.get(), buf.data(), size_t(r), offset + (o - base), what);
                o += uint64_t(r);
                report(o - base, want);
            }
            cursor = offset + (e - base);
        }
        punch(cursor, end - cursor);
        pos = end;
    } else {
        while (pos < end) {
            size_t n = size_t(std::min<uint64_t>(kChunk, end - pos));
            ssize_t r = readSome(in, buf.data(), n, inFile ? inPos + (pos - offset) : UINT64_MAX);
            if (r < 0)
                throw systemError(ErrDomain::Storage, "cannot read the upload fd", errno);
            if (r == 0)
                break;
            if (sparse && outFile && allZero(buf.data(), size_t(r)))
                punch(pos, uint64_t(r));
            else
                writeAllAt(out.get(), buf.data(), size_t(r), pos, what);
            pos += uint64_t(r);
            report(pos - offset, std::max(end, pos) - offset);
        }
        // From a pipe, more data than the volume holds is an error, after
        // the fact: what fitted was written.
        if (!length && !inFile && pos == limit) {
            unsigned char extra;
            if (readSome(in, &extra, 1, UINT64_MAX) > 0)
                throw err::invalidArg("upload would write past the capacity of volume '" + vol.name + "' ("
                    + std::to_string(limit) + " bytes)");
        }
    }
    if (outFile) {
        struct stat ost { };
        if (::fstat(out.get(), &ost) == 0 && uint64_t(ost.st_size) < pos && ::ftruncate(out.get(), off_t(pos)) != 0)
            throw systemError(ErrDomain::Storage, "cannot extend " + what, errno);
    }
    if (::fsync(out.get()) != 0 && errno != EINVAL)
        throw systemError(ErrDomain::Storage, "cannot sync " + what, errno);
    report(pos - offset, pos - offset);
    job->backend.refreshVol(job->pool, job->vol);
    std::lock_guard lock(mu_);
    job->record().def = job->vol;
}

void HostStorageDriver::volDownload(const std::string& key, int out, uint64_t offset, uint64_t length, uint32_t flags)
{
    checkFlags(flags, kSparse, "storageVolDownload");
    std::unique_ptr<VolJob> job;
    {
        std::lock_guard lock(mu_);
        job = std::make_unique<VolJob>(*this, volByKey(key));
    }
    job->backend.refreshVol(job->pool, job->vol);
    const auto& vol = job->vol;
    UniqueFd in {::open(vol.targetPath.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
    if (in.get() < 0)
        throw systemError(ErrDomain::Storage, "cannot open volume '" + vol.targetPath + "'", errno);
    uint64_t size = vol.physical;
    if (offset > size)
        throw err::invalidArg("offset " + std::to_string(offset) + " is past the end of volume '" + vol.name + "'");
    uint64_t end = length ? std::min(size, offset + length) : size;
    struct stat ost { };
    if (::fstat(out, &ost) != 0)
        throw systemError(ErrDomain::Storage, "cannot stat the download fd", errno);
    bool outFile = S_ISREG(ost.st_mode);
    uint64_t outBase = outFile ? uint64_t(std::max<off_t>(::lseek(out, 0, SEEK_CUR), 0)) : 0;
    std::vector<unsigned char> buf(kChunk);
    std::string what = "the download fd";
    ProgressThrottle report(progress_, key, "download");
    auto copy = [&](uint64_t from, uint64_t to) {
        for (uint64_t o = from; o < to;) {
            ssize_t r = readSome(in.get(), buf.data(), size_t(std::min<uint64_t>(kChunk, to - o)), o);
            if (r <= 0)
                throw systemError(
                    ErrDomain::Storage, "cannot read volume '" + vol.targetPath + "'", r < 0 ? errno : EIO);
            writeAllAt(out, buf.data(), size_t(r), outFile ? outBase + (o - offset) : UINT64_MAX, what);
            o += uint64_t(r);
            report(o - offset, end - offset);
        }
    };
    if ((flags & kSparse) && outFile && vol.type != "block") {
        // Holes are skipped in the output file, which ends at the right size.
        for (auto [s, e] : dataExtents(in.get(), offset, end))
            copy(s, e);
        if (::ftruncate(out, off_t(outBase + (end - offset))) != 0)
            throw systemError(ErrDomain::Storage, "cannot size " + what, errno);
    } else {
        copy(offset, end);
    }
    if (outFile)
        ::lseek(out, off_t(outBase + (end - offset)), SEEK_SET);
    report(end - offset, end - offset);
}

} // namespace virtbus
