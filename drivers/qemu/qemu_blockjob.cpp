// Block jobs: pull (block-stream), commit (block-commit, active commit
// ending in READY), copy (blockdev-mirror to a new or reused image), abort
// and pivot, speed and progress are in qemu_blockjob_control.cpp. libvirt's flags, checks and texts
// (qemuDomainBlockPullCommon, qemuDomainBlockCommit,
// qemuDomainBlockCopyCommon). How a job ends is
// in qemu_blockjob_events.cpp.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "command.h"
#include "fileutil.h"
#include "qemu/qemu_blockjob.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

namespace {

// virDomainBlockPullFlags, virDomainBlockRebaseFlags, virDomainBlockCommitFlags,
// virDomainBlockCopyFlags.
constexpr uint32_t kPullBytes = 64;
constexpr uint32_t kRebaseShallow = 1, kRebaseReuseExt = 2, kRebaseCopyRaw = 4, kRebaseCopy = 8, kRebaseRelative = 16,
                   kRebaseCopyDev = 32, kRebaseBytes = 64;
constexpr uint32_t kCommitShallow = 1, kCommitActive = 4, kCommitRelative = 8, kCommitBytes = 16;
constexpr uint32_t kCopyShallow = 1, kCopyReuseExt = 2, kCopyTransient = 4, kCopySyncWrites = 8;

std::string storageOf(const std::string& formatNode)
{
    constexpr std::string_view suffix = "-format";
    if (!formatNode.ends_with(suffix))
        return {};
    return formatNode.substr(0, formatNode.size() - suffix.size()) + "-storage";
}

std::string probeFormat(const std::string& path)
{
    auto r = runChecked({"qemu-img", "info", "--output=json", path}, ErrDomain::Qemu);
    std::string format = json::parse(r.out).str("format");
    return format.empty() ? "raw" : format;
}

} // namespace

void QemuDriver::domainBlockPull(const std::string& uuid, const std::string& disk, uint64_t bandwidth, uint32_t flags)
{
    checkFlags(flags, kPullBytes, "qemuDomainBlockPull");
    blockPullCommon(uuid, disk, "", (flags & kPullBytes) ? bandwidth : qemu::mebibytesToBytes(bandwidth), 0);
}

void QemuDriver::domainBlockRebase(
    const std::string& uuid, const std::string& disk, const std::string& base, uint64_t bandwidth, uint32_t flags)
{
    checkFlags(flags,
        kRebaseShallow | kRebaseReuseExt | kRebaseCopy | kRebaseCopyRaw | kRebaseRelative | kRebaseCopyDev
            | kRebaseBytes,
        "qemuDomainBlockRebase");
    uint64_t bytes = (flags & kRebaseBytes) ? bandwidth : qemu::mebibytesToBytes(bandwidth);
    if (!(flags & kRebaseCopy))
        return blockPullCommon(uuid, disk, base, bytes, flags & kRebaseRelative);
    if (flags & kRebaseRelative)
        throw makeError(
            ErrCode::ArgumentUnsupported, ErrDomain::Qemu, "Relative backing during copy not supported yet");
    blockCopyCommon(uuid, disk, base, (flags & kRebaseCopyDev) ? "block" : "file",
        (flags & kRebaseCopyRaw) ? "raw" : "", bytes, 0, 0, flags & (kRebaseShallow | kRebaseReuseExt));
}

void QemuDriver::blockPullCommon(
    const std::string& uuid, const std::string& name, const std::string& base, uint64_t bytes, uint32_t flags)
{
    if ((flags & kRebaseRelative) && base.empty())
        throw err::invalidArg("relative backing during pull requires a base image");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    qemu::BlockDisk disk = blockDisk(d, name, true);
    auto chain = qemu::diskChain(*disk.mon, disk.alias);
    if (chain.empty())
        throw err::invalidArg("disk " + disk.target + " has no source file to be pulled");
    json::Value args
        = json::Object {{"job-id", "pull-" + disk.target}, {"device", chain[0].node}, {"auto-dismiss", false}};
    if (!base.empty()) {
        size_t b = qemu::findLayer(chain, 1, base, disk.target);
        if (b == std::string::npos)
            throw err::invalidArg("could not find image '" + base + "' beneath '" + chain[0].path + "' in chain for '"
                + disk.target + "'");
        if (chain[b].node.empty())
            throw err::internal("no node name for '" + chain[b].path + "'");
        args.set("base-node", chain[b].node);
        if (flags & kRebaseRelative) {
            std::string rel = qemu::relativeBacking(chain, 0, b);
            if (rel.empty())
                throw err::operationInvalid("can't keep relative backing relationship");
            args.set("backing-file", rel);
        }
    }
    if (bytes)
        args.set("speed", bytes);
    {
        std::lock_guard lock(mu_);
        Dom::BlockJob j;
        j.id = "pull-" + disk.target;
        j.type = qemu::kJobPull;
        j.runId = d->id;
        j.topPath = disk.path;
        d->blockJobs[disk.target] = j;
    }
    try {
        qemu::qmpCall(*disk.mon, "block-stream", args);
    } catch (...) {
        std::lock_guard lock(mu_);
        d->blockJobs.erase(disk.target);
        throw;
    }
}

void QemuDriver::domainBlockCommit(const std::string& uuid, const std::string& name, const std::string& base,
    const std::string& top, uint64_t bandwidth, uint32_t flags)
{
    checkFlags(flags, kCommitShallow | kCommitActive | kCommitRelative | kCommitBytes, "qemuDomainBlockCommit");
    auto d = find(uuid);
    std::lock_guard job(d->job);
    uint64_t bytes = (flags & kCommitBytes) ? bandwidth : qemu::mebibytesToBytes(bandwidth);
    qemu::BlockDisk disk = blockDisk(d, name, true);
    auto chain = qemu::diskChain(*disk.mon, disk.alias);
    if (chain.empty())
        throw err::invalidArg("disk " + disk.target + " has no source file to be committed");
    size_t t = 0;
    if (!top.empty() && top != disk.target) {
        t = qemu::findLayer(chain, 0, top, disk.target);
        if (t == std::string::npos)
            throw err::invalidArg("could not find image '" + top + "' in chain for '" + disk.target + "'");
    }
    if (t == 0 && !(flags & kCommitActive))
        throw err::invalidArg("commit of '" + disk.target + "' active layer requires active flag");
    if (t != 0 && (flags & kCommitActive))
        throw err::invalidArg("active commit requested but '" + chain[t].path + "' is not active");
    if (t + 1 >= chain.size())
        throw err::invalidArg("top '" + chain[t].path + "' in chain for '" + name + "' has no backing file");
    size_t b;
    if (base.empty())
        b = (flags & kCommitShallow) ? t + 1 : chain.size() - 1;
    else if ((b = qemu::findLayer(chain, t + 1, base, disk.target)) == std::string::npos)
        throw err::invalidArg(
            "could not find image '" + base + "' beneath '" + chain[t].path + "' in chain for '" + disk.target + "'");
    if ((flags & kCommitShallow) && b != t + 1)
        throw err::invalidArg(
            "base '" + base + "' is not immediately below '" + chain[t].path + "' in chain for '" + name + "'");
    if (chain[t].node.empty() || chain[b].node.empty())
        throw err::internal("no node name for the images of '" + disk.target + "'");
    const bool active = t == 0;
    const std::string id = std::string(active ? "active-commit-" : "commit-") + disk.target;
    json::Value args = json::Object {{"job-id", id}, {"device", chain[0].node}, {"top-node", chain[t].node},
        {"base-node", chain[b].node}, {"auto-dismiss", false}};
    if ((flags & kCommitRelative) && !active) {
        std::string rel = qemu::relativeBacking(chain, t - 1, b);
        if (rel.empty())
            throw err::operationInvalid("can't keep relative backing relationship");
        args.set("backing-file", rel);
    }
    if (bytes)
        args.set("speed", bytes);
    {
        std::lock_guard lock(mu_);
        Dom::BlockJob j;
        j.id = id;
        j.type = active ? qemu::kJobActiveCommit : qemu::kJobCommit;
        j.runId = d->id;
        j.topPath = disk.path;
        if (active) {
            j.oldNode = chain[0].node;
            j.oldStorageNode = storageOf(chain[0].node);
        }
        d->blockJobs[disk.target] = j;
    }
    try {
        qemu::qmpCall(*disk.mon, "block-commit", args);
    } catch (...) {
        std::lock_guard lock(mu_);
        d->blockJobs.erase(disk.target);
        throw;
    }
}

void QemuDriver::domainBlockCopy(const std::string& uuid, const std::string& name, const std::string& destxml,
    const TypedParams& params, uint32_t flags)
{
    checkFlags(flags, kCopyShallow | kCopyReuseExt | kCopyTransient | kCopySyncWrites, "qemuDomainBlockCopy");
    uint64_t bandwidth = 0, granularity = 0, bufSize = 0;
    for (const auto& p : params) {
        auto v = paramAsUnsigned(p.value);
        if (p.name != "bandwidth" && p.name != "granularity" && p.name != "buf-size")
            throw err::invalidArg("parameter '" + p.name + "' not supported");
        if (!v)
            throw err::invalidArg("invalid type for parameter '" + p.name + "', expected an unsigned integer");
        if (p.name == "bandwidth") {
            if (*v > uint64_t(INT64_MAX))
                throw makeError(ErrCode::Overflow, ErrDomain::Qemu,
                    "bandwidth must be less than '" + std::to_string(INT64_MAX) + "' bytes/s ("
                        + std::to_string(INT64_MAX >> 20) + " MiB/s)");
            bandwidth = *v;
        } else if (p.name == "granularity") {
            granularity = *v;
        } else {
            bufSize = *v;
        }
    }
    // The destination is only a source (libvirt parses it so); the shared
    // device parser insists on a target, so it gets a placeholder one.
    std::string text = destxml;
    if (auto end = text.rfind("</disk>"); end != std::string::npos && text.find("<target") == std::string::npos)
        text.insert(end, "<target dev='vdcopy'/>");
    xml::DeviceDef dev = xml::parseDeviceXML(text);
    auto* dest = std::get_if<xml::DiskDef>(&dev);
    if (!dest)
        throw err::xml("the block copy destination must be a <disk> element");
    if (dest->type != "file" && dest->type != "block")
        throw err::configUnsupported("block copy destination of type '" + dest->type + "' is not supported");
    if (dest->path.empty() || dest->path.front() != '/')
        throw err::invalidArg("absolute path must be used as block copy target");
    blockCopyCommon(uuid, name, dest->path, dest->type, dest->driverType, bandwidth, granularity, bufSize, flags);
}

void QemuDriver::blockCopyCommon(const std::string& uuid, const std::string& name, const std::string& destPath,
    const std::string& destType, const std::string& destFormat, uint64_t bytes, uint64_t granularity, uint64_t bufSize,
    uint32_t flags)
{
    auto d = find(uuid);
    std::lock_guard job(d->job);
    qemu::BlockDisk disk = blockDisk(d, name, true);
    auto chain = qemu::diskChain(*disk.mon, disk.alias);
    if (chain.empty())
        throw err::invalidArg("disk " + disk.target + " has no source file to be copied");
    const bool reuse = flags & kCopyReuseExt;
    const bool shallow = (flags & kCopyShallow) && chain.size() > 1;
    struct stat st;
    if (::stat(destPath.c_str(), &st) != 0) {
        if (errno != ENOENT)
            throw systemError(ErrDomain::Qemu, "unable to verify existence of block copy target", errno);
        if (reuse || destType == "block")
            throw systemError(
                ErrDomain::Qemu, "missing destination file for disk " + disk.target + ": " + destPath, errno);
    }
    std::string format = !destFormat.empty() ? destFormat : reuse ? probeFormat(destPath) : chain[0].format;
    if (!reuse && destType == "file") {
        std::vector<std::string> argv {"qemu-img", "create", "-q", "-f", format};
        if (shallow)
            argv.insert(argv.end(), {"-b", chain[1].path, "-F", chain[1].format});
        argv.insert(argv.end(), {destPath, std::to_string(chain[0].virtualSize)});
        runChecked(argv, ErrDomain::Qemu);
        qemu::QemuUser user = qemu::resolveQemuUser(cfg_.user, cfg_.group);
        if (user.switches() && ::chown(destPath.c_str(), user.uid, user.gid) != 0)
            throw systemError(ErrDomain::Qemu, "cannot hand '" + destPath + "' to the QEMU user", errno);
    }
    const std::string node = qemu::freeCopyNode(*disk.mon);
    json::Value storage = json::Object {{"driver", destType == "block" ? "host_device" : "file"},
        {"filename", destPath}, {"node-name", node + "-storage"}, {"auto-read-only", true}, {"discard", "unmap"}};
    json::Value fmt = json::Object {
        {"node-name", node + "-format"}, {"driver", format}, {"file", node + "-storage"}, {"read-only", false}};
    if (!shallow && format != "raw")
        fmt.set("backing", nullptr);
    qemu::qmpCall(*disk.mon, "blockdev-add", storage);
    auto dropNodes = [&] {
        for (const char* suffix : {"-format", "-storage"})
            try {
                disk.mon->execute("blockdev-del", json::Object {{"node-name", node + suffix}});
            } catch (const std::exception&) { }
    };
    const std::string id = "copy-" + disk.target;
    json::Value args = json::Object {{"job-id", id}, {"device", chain[0].node}, {"target", node + "-format"},
        {"sync", shallow ? "top" : "full"}, {"auto-dismiss", false}};
    if (bytes)
        args.set("speed", bytes);
    if (granularity)
        args.set("granularity", granularity);
    if (bufSize)
        args.set("buf-size", bufSize);
    if (flags & kCopySyncWrites)
        args.set("copy-mode", "write-blocking");
    try {
        qemu::qmpCall(*disk.mon, "blockdev-add", fmt);
        {
            std::lock_guard lock(mu_);
            Dom::BlockJob j;
            j.id = id;
            j.type = qemu::kJobCopy;
            j.runId = d->id;
            j.topPath = disk.path;
            j.destNode = node + "-format";
            j.destStorageNode = node + "-storage";
            j.oldNode = chain[0].node;
            j.oldStorageNode = storageOf(chain[0].node);
            d->blockJobs[disk.target] = j;
        }
        qemu::qmpCall(*disk.mon, "blockdev-mirror", args);
    } catch (...) {
        {
            std::lock_guard lock(mu_);
            d->blockJobs.erase(disk.target);
        }
        dropNodes();
        throw;
    }
}

} // namespace virtbus
