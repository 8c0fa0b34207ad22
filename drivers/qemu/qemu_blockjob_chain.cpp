// Disk lookup, QMP errors and backing chains for the block operations.
#include <algorithm>
#include <cstdlib>

#include "qemu/qemu_blockjob.h"
#include "qemu/qmp.h"

namespace virtbus::qemu {

json::Value qmpCall(Monitor& mon, const std::string& cmd, json::Value args)
{
    try {
        return mon.execute(cmd, std::move(args));
    } catch (const QmpError& e) {
        throw err::internal("unable to execute QEMU command '" + cmd + "': " + e.desc);
    } catch (const MonitorClosed&) {
        throw err::operationFailed("domain is no longer running");
    }
}

xml::DiskDef* findDisk(xml::DomainDef& def, const std::string& name, bool allowSource)
{
    for (auto& disk : def.devices.disks)
        if (disk.targetDev == name)
            return &disk;
    if (allowSource)
        for (auto& disk : def.devices.disks)
            if (disk.hasSource && !disk.path.empty() && disk.path == name)
                return &disk;
    return nullptr;
}

VirtError diskNotFound(const std::string& name) { return err::invalidArg("disk '" + name + "' not found in domain"); }

VirtError diskBusy(const std::string& target)
{
    return err::operationInvalid("disk '" + target + "' already in active block job");
}

uint64_t mebibytesToBytes(uint64_t mib)
{
    constexpr uint64_t kMax = uint64_t(INT64_MAX) >> 20;
    if (mib > kMax)
        throw makeError(ErrCode::Overflow, ErrDomain::Qemu, "bandwidth must be less than " + std::to_string(kMax));
    return mib << 20;
}

namespace {

bool sameDevice(const json::Value& entry, const std::string& alias)
{
    std::string qdev = entry.str("qdev");
    return qdev == alias || qdev.starts_with("/machine/peripheral/" + alias + "/")
        || entry.str("device") == "drive-" + alias;
}

std::string xmlEscape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string dirOf(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// QEMU names an image whose graph differs from its header (a backing
// node changed by a job) with a "json:{...}" pseudo-filename; the file is
// its "file" child's filename.
std::string plainFilename(const std::string& name)
{
    if (!name.starts_with("json:"))
        return name;
    try {
        json::Value v = json::parse(std::string_view(name).substr(5));
        const json::Value* file = v.find("file");
        if (file && file->isObject() && !file->str("filename").empty())
            return file->str("filename");
    } catch (const json::ParseError&) { }
    return name;
}

} // namespace

std::vector<Layer> diskChain(Monitor& mon, const std::string& alias)
{
    std::vector<Layer> chain;
    json::Value blocks = qmpCall(mon, "query-block");
    const json::Value* inserted = nullptr;
    if (blocks.isArray())
        for (const auto& b : blocks.asArray())
            if (sameDevice(b, alias))
                inserted = b.find("inserted");
    if (!inserted)
        return chain;
    const std::string top = inserted->str("node-name");
    for (const json::Value* img = inserted->find("image"); img && img->isObject(); img = img->find("backing-image")) {
        Layer l;
        l.path = plainFilename(img->str("filename"));
        l.format = img->str("format");
        l.backingName = img->str("backing-filename");
        l.virtualSize = uint64_t(img->integer("virtual-size"));
        chain.push_back(std::move(l));
    }
    if (chain.empty())
        return chain;
    chain[0].node = top;
    json::Value nodes = qmpCall(mon, "query-named-block-nodes", json::Object {{"flat", true}});
    if (!nodes.isArray())
        return chain;
    for (size_t i = 1; i < chain.size(); ++i)
        for (const auto& n : nodes.asArray())
            if (plainFilename(n.str("file")) == chain[i].path && n.str("drv") == chain[i].format
                && n.str("node-name") != top)
                chain[i].node = n.str("node-name");
    return chain;
}

std::string backingStoreXML(const std::vector<Layer>& chain, size_t from)
{
    if (from >= chain.size())
        return "<backingStore/>";
    std::string xml, close;
    for (size_t i = from; i < chain.size(); ++i) {
        const Layer& l = chain[i];
        bool block = l.path.starts_with("/dev/");
        xml += "<backingStore type='" + std::string(block ? "block" : "file") + "' index='" + std::to_string(i)
            + "'><format type='" + xmlEscape(l.format) + "'/><source " + (block ? "dev" : "file") + "='"
            + xmlEscape(l.path) + "'/>";
        close += "</backingStore>";
    }
    return xml + "<backingStore/>" + close;
}

size_t findLayer(const std::vector<Layer>& chain, size_t from, const std::string& name, const std::string& target)
{
    if (name.starts_with(target + "[") && name.ends_with("]")) {
        std::string num = name.substr(target.size() + 1, name.size() - target.size() - 2);
        char* end = nullptr;
        unsigned long idx = std::strtoul(num.c_str(), &end, 10);
        if (!num.empty() && *end == '\0' && idx >= from && idx < chain.size())
            return idx;
        return std::string::npos;
    }
    char resolved[4096];
    std::string canon = ::realpath(name.c_str(), resolved) ? std::string(resolved) : name;
    for (size_t i = from; i < chain.size(); ++i)
        if (chain[i].path == name || chain[i].path == canon)
            return i;
    return std::string::npos;
}

std::string relativeBacking(const std::vector<Layer>& chain, size_t from, size_t base)
{
    std::string rel;
    for (size_t i = from; i < base && i < chain.size(); ++i) {
        const std::string& name = chain[i].backingName;
        if (name.empty() || name.front() == '/')
            return {};
        rel = dirOf(rel) + name;
    }
    return rel;
}

} // namespace virtbus::qemu

namespace virtbus::qemu {

void addBlockSizes(TypedParams& p, const std::string& prefix, const json::Value& statsEntry, const json::Value& blocks,
    const std::string& alias)
{
    // The storage node's highest write is the image file's allocation.
    const json::Value* parent = statsEntry.find("parent");
    const json::Value* st = parent && parent->find("stats") ? parent->find("stats") : statsEntry.find("stats");
    if (st && st->find("wr_highest_offset"))
        p.push_back({prefix + "allocation", uint64_t(st->integer("wr_highest_offset"))});
    if (!blocks.isArray())
        return;
    for (const auto& b : blocks.asArray()) {
        const json::Value* inserted = b.find("inserted");
        const json::Value* img = inserted ? inserted->find("image") : nullptr;
        if (!img || !sameDevice(b, alias))
            continue;
        p.push_back({prefix + "capacity", uint64_t(img->integer("virtual-size"))});
        if (img->find("actual-size"))
            p.push_back({prefix + "physical", uint64_t(img->integer("actual-size"))});
    }
}

std::string freeCopyNode(Monitor& mon)
{
    json::Value nodes = qmpCall(mon, "query-named-block-nodes", json::Object {{"flat", true}});
    auto used = [&](const std::string& name) {
        if (nodes.isArray())
            for (const auto& n : nodes.asArray())
                if (n.str("node-name").starts_with(name + "-"))
                    return true;
        return false;
    };
    for (unsigned i = 1;; ++i)
        if (std::string stem = "vbcopy" + std::to_string(i); !used(stem))
            return stem;
}

std::vector<std::string> unusedCopyTargets(Monitor& mon)
{
    std::vector<std::string> tops, out;
    json::Value blocks = qmpCall(mon, "query-block");
    if (blocks.isArray())
        for (const auto& b : blocks.asArray())
            if (const json::Value* inserted = b.find("inserted"))
                tops.push_back(inserted->str("node-name"));
    json::Value nodes = qmpCall(mon, "query-named-block-nodes", json::Object {{"flat", true}});
    if (nodes.isArray())
        for (const auto& n : nodes.asArray())
            if (std::string name = n.str("node-name"); name.starts_with("vbcopy") && name.ends_with("-format")
                && std::find(tops.begin(), tops.end(), name) == tops.end())
                out.push_back(name);
    return out;
}

} // namespace virtbus::qemu
