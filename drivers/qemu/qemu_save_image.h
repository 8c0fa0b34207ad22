// The QEMU driver's save image: a header of virtbus's own, the domain
// XML, zero padding to a page boundary, then QEMU's migration stream
// exactly as QEMU wrote it. The header is enough to read or replace the
// XML without QEMU, and to tell a finished image from an interrupted one.
//
// Layout (integers little-endian):
//   0   magic[16]   "VirtbusQemuSave\n" once complete; "VirtbusQemuPart\n"
//                   while QEMU still writes (a crash leaves that behind)
//   16  u32 version (1)
//   20  u32 flags   bit 0: the guest was running (restore resumes it)
//   24  u64 xmlLength
//   32  u64 dataOffset (a multiple of 4096, after the XML)
//   40  u64 dataLength (QEMU's stream, known once it is complete)
//   48  reserved, zero, up to 64
//   64  the domain XML (live, with addresses and aliases, secure)
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fileutil.h"

namespace virtbus::xml {
struct DomainDef;
}

namespace virtbus::qemu {

struct SaveImage {
    bool wasRunning = false;
    std::string xml;
    uint64_t dataOffset = 0;
    uint64_t dataLength = 0;
};

// Reads and checks the header and the XML of `path`; throws VirtError
// (a clear "not a save image", "incomplete", "truncated") otherwise.
SaveImage readSaveImage(const std::string& path);
// Whether `path` is an image a save never finished (the partial magic).
bool isPartialSaveImage(const std::string& path);

// A new image being written: a temporary file beside `to` holding the
// partial header and the XML, positioned at the data offset for QEMU.
// commit() completes the header, syncs and renames it into place; a
// writer destroyed before that removes its file, so `to` is either the
// old file or a complete image. An existing block or character device
// `to` is written in place (no rename), still marked complete last.
class SaveImageWriter {
public:
    SaveImageWriter(const std::string& to, const std::string& xml, bool wasRunning);
    // Without a header: a core dump, just what QEMU writes.
    explicit SaveImageWriter(const std::string& to);
    ~SaveImageWriter();
    SaveImageWriter(const SaveImageWriter&) = delete;
    SaveImageWriter& operator=(const SaveImageWriter&) = delete;

    int fd() const { return fd_.get(); }
    // bypassCache: drop the image from the page cache once it is synced.
    void commit(bool bypassCache);

private:
    void open();
    std::string to_, tmp_;
    UniqueFd fd_;
    uint64_t dataOffset_ = 0;
    uint32_t flags_ = 0;
    uint64_t xmlLength_ = 0;
    bool inPlace_ = false;
    bool raw_ = false;
    bool done_ = false;
};

// Replaces the XML (and, when given, the running flag) of the image at
// `path`: a new file with the same stream, renamed over the old one.
void rewriteSaveImage(const std::string& path, const std::string& xml, std::optional<bool> wasRunning);

// The domain `from` stored in an image and the one a caller wants to
// restore or store instead must look the same to the guest (libvirt's ABI
// stability check, the parts this driver can start): throws
// ConfigUnsupported "Target domain ... does not match source ..." otherwise.
void checkSaveABI(const xml::DomainDef& from, const xml::DomainDef& to);

} // namespace virtbus::qemu
