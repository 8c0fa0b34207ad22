// Save images, managed save and core dumps. libvirt's test driver writes
// real files; virtbus does too, in its own small format (magic, length,
// domain XML), always through a temporary file that is synced and renamed
// into place so a reader never sees half an image.
#include "test/test_internal.h"

#include "fileutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace virtbus {

using namespace testdrv;

namespace {

constexpr char kSaveMagic[16] = {'V', 'i', 'r', 't', 'b', 'u', 's', 'T', 'e', 's', 't', 'S', 'a', 'v', 'e', '1'};
constexpr size_t kHeaderSize = sizeof kSaveMagic + 8;
constexpr uint64_t kMaxImageXml = 10u * 1024 * 1024;

constexpr uint32_t kSaveRunning = 2, kSavePaused = 4;

void checkPath(const std::string& path)
{
    if (path.empty() || path.front() != '/')
        throw err::invalidArg("path '" + path.substr(0, kMaxNameLength) + "' is not absolute");
    if (path.size() > 4096)
        throw err::invalidArg("path is longer than 4096 bytes");
}

std::string imageOf(const xml::DomainDef& def)
{
    xml::FormatOptions opts;
    opts.secure = true;
    opts.inactive = true;
    std::string text = xml::formatDomainXML(def, opts);
    std::string out(kSaveMagic, sizeof kSaveMagic);
    uint64_t len = text.size();
    for (int i = 0; i < 8; ++i)
        out += static_cast<char>((len >> (8 * i)) & 0xff);
    return out + text;
}

void writeImage(const std::string& path, const xml::DomainDef& def)
{
    writeFileAtomic(path, imageOf(def), "saving domain '" + def.name + "' to '" + path + "'", ErrDomain::Test);
}

// testDomainSaveImageOpen.
xml::DomainDef readImage(const std::string& path)
{
    // One byte over the largest valid image is enough to refuse it.
    auto read = readFile(path, kHeaderSize + kMaxImageXml + 1);
    if (!read && errno == EFBIG)
        throw testError(ErrCode::InternalError, "length of metadata out of range");
    if (!read)
        throw systemError("cannot read domain image '" + path + "'", errno);
    const std::string& data = *read;
    if (data.size() < kHeaderSize)
        throw VirtError(static_cast<ErrCode>(38), ErrDomain::Test, "incomplete save header in '" + path + "'");
    if (std::memcmp(data.data(), kSaveMagic, sizeof kSaveMagic) != 0)
        throw testError(ErrCode::InternalError, "mismatched header magic");
    uint64_t len = 0;
    for (int i = 0; i < 8; ++i)
        len |= static_cast<uint64_t>(static_cast<unsigned char>(data[sizeof kSaveMagic + i])) << (8 * i);
    if (len < 1 || len > kMaxImageXml)
        throw testError(ErrCode::InternalError, "length of metadata out of range");
    if (data.size() - kHeaderSize < len)
        throw VirtError(static_cast<ErrCode>(38), ErrDomain::Test, "incomplete metadata in '" + path + "'");
    xml::DomainDef def = xml::parseDomainXML(std::string_view(data).substr(kHeaderSize, len), xml::PARSE_INACTIVE);
    postParse(def);
    return def;
}

} // namespace

void TestDriver::domainSave(const std::string& uuid, const std::string& to, const std::string& xml, uint32_t flags)
{
    if ((flags & kSaveRunning) && (flags & kSavePaused))
        throw flagsExclusive("VIR_DOMAIN_SAVE_RUNNING", "VIR_DOMAIN_SAVE_PAUSED");
    checkFlags(flags, 0, "testDomainSaveFlags");
    if (!xml.empty())
        throw testError(ErrCode::ArgumentUnsupported, "xml modification unsupported");
    checkPath(to);
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        checkActive(d);
        writeImage(to, d.def);
        DomainProps before(d);
        ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedSaved);
        stopAndReap(d, kShutoffSaved, ev);
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainRestore(const std::string& from, const std::string& xml, uint32_t flags)
{
    if ((flags & kSaveRunning) && (flags & kSavePaused))
        throw flagsExclusive("VIR_DOMAIN_SAVE_RUNNING", "VIR_DOMAIN_SAVE_PAUSED");
    checkFlags(flags, 0, "testDomainRestoreFlags");
    if (!xml.empty())
        throw testError(ErrCode::ArgumentUnsupported, "xml modification unsupported");
    checkPath(from);
    xml::DomainDef def = readImage(from);
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = *addDomain(std::move(def), true, ev).dom;
        DomainProps before(d);
        startDomain(d, kRunningRestored);
        ev.lifecycle(d.uuid(), ev::Started, ev::StartedRestored);
        noteChanges(ev, before);
    }
    flush(ev);
}

void TestDriver::domainSaveImageDefineXML(const std::string& file, const std::string& xml, uint32_t flags)
{
    if ((flags & kSaveRunning) && (flags & kSavePaused))
        throw flagsExclusive("VIR_DOMAIN_SAVE_RUNNING", "VIR_DOMAIN_SAVE_PAUSED");
    checkFlags(flags, kSaveRunning | kSavePaused, "testDomainSaveImageDefineXML");
    checkPath(file);
    readImage(file);
    xml::DomainDef def = xml::parseDomainXML(xml, xml::PARSE_INACTIVE);
    postParse(def);
    writeImage(file, def);
}

std::string TestDriver::domainSaveImageGetXMLDesc(const std::string& file, uint32_t flags)
{
    constexpr uint32_t kSaveImageXmlSecure = 1;
    checkFlags(flags, kSaveImageXmlSecure, "testDomainSaveImageGetXMLDesc");
    checkPath(file);
    xml::FormatOptions opts;
    opts.secure = true;
    return xml::formatDomainXML(readImage(file), opts);
}

void TestDriver::domainManagedSave(const std::string& uuid, uint32_t flags)
{
    if ((flags & kSaveRunning) && (flags & kSavePaused))
        throw flagsExclusive("VIR_DOMAIN_SAVE_RUNNING", "VIR_DOMAIN_SAVE_PAUSED");
    constexpr uint32_t kBypassCache = 1;
    checkFlags(flags, kBypassCache | kSaveRunning | kSavePaused, "testDomainManagedSave");
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        checkActive(d);
        if (!d.persistent)
            throw testError(ErrCode::OperationInvalid, "cannot do managed save for transient domain");
        DomainProps before(d);
        stopDomain(d, kShutoffSaved);
        d.managedSave = true;
        ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedSaved);
        noteChanges(ev, before);
    }
    flush(ev);
}

bool TestDriver::domainHasManagedSaveImage(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainHasManagedSaveImage");
    std::lock_guard lock(mu_);
    return dom(uuid).managedSave;
}

void TestDriver::domainManagedSaveRemove(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "testDomainManagedSaveRemove");
    std::lock_guard lock(mu_);
    dom(uuid).managedSave = false;
}

void TestDriver::domainCoreDump(const std::string& uuid, const std::string& to, uint32_t format, uint32_t flags)
{
    constexpr uint32_t kCrash = 1, kLive = 2, kReset = 8;
    constexpr uint32_t kFormatRaw = 0, kFormatLast = 5;
    if (format >= kFormatLast)
        throw bareInvalidArg("dumpformat '" + std::to_string(format) + "' is not supported");
    if ((flags & kCrash) && (flags & kLive))
        throw flagsExclusive("VIR_DUMP_CRASH", "VIR_DUMP_LIVE");
    if ((flags & kCrash) && (flags & kReset))
        throw flagsExclusive("VIR_DUMP_CRASH", "VIR_DUMP_RESET");
    if ((flags & kLive) && (flags & kReset))
        throw flagsExclusive("VIR_DUMP_LIVE", "VIR_DUMP_RESET");
    checkFlags(flags, kCrash, "testDomainCoreDumpWithFormat");
    checkPath(to);
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        checkActive(d);
        // The test hypervisor's "core": its header magic and nothing else.
        writeFileAtomic(to, std::string(kSaveMagic, sizeof kSaveMagic),
                        "domain '" + d.name() + "' coredump: failed to write to " + to, ErrDomain::Test);
        if (format != kFormatRaw)
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Test,
                            "kdump-compressed format is not supported here");
        if (flags & kCrash) {
            DomainProps before(d);
            ev.lifecycle(d.uuid(), ev::Stopped, ev::StoppedCrashed);
            stopAndReap(d, kShutoffCrashed, ev);
            noteChanges(ev, before);
        }
    }
    flush(ev);
}

} // namespace virtbus
