// Emulator capabilities: the on-disk cache, the per-binary lock that makes
// concurrent callers share one probe, and the probe itself (QEMU started
// with -machine none, asked over QMP, told to quit).
#include "qemu/qemu_caps.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config.h"
#include "error.h"
#include "qemu/json.h"

namespace virtbus::qemu {

namespace fs = std::filesystem;

// Bumped whenever the cache file's shape changes, so old files are
// re-probed instead of half-read.
static constexpr int64_t kCacheFormat = 2;

bool EmulatorCaps::hasDevice(const std::string& type) const
{
    return std::binary_search(deviceTypes.begin(), deviceTypes.end(), type);
}

const MachineType* EmulatorCaps::machine(const std::string& nameOrAlias) const
{
    for (const auto& m : machines)
        if (m.name == nameOrAlias)
            return &m;
    for (const auto& m : machines)
        if (!m.alias.empty() && m.alias == nameOrAlias)
            return &m;
    return nullptr;
}

const MachineType* EmulatorCaps::defaultMachine() const
{
    for (const auto& m : machines)
        if (m.isDefault)
            return &m;
    return machines.empty() ? nullptr : &machines.front();
}

namespace {

std::string qemuArch(const std::string& libvirtArchName)
{
    if (libvirtArchName == "i686" || libvirtArchName == "i586" || libvirtArchName == "i486")
        return "i386";
    if (libvirtArchName == "armv7l" || libvirtArchName == "armv6l")
        return "arm";
    if (libvirtArchName == "ppc64le")
        return "ppc64";
    return libvirtArchName;
}

std::vector<std::string> defaultSearchPath() { return {"/usr/bin", "/usr/local/bin", "/usr/libexec"}; }

bool isExecutableFile(const std::string& path)
{
    struct stat st { };
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string errnoText(int e) { return std::strerror(e); }

// Part of the cache key: the KVM answer changes when /dev/kvm appears or
// its permissions are fixed, while the binary stays the same.
bool kvmDeviceUsable()
{
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

// FNV-1a: a stable name for the cache file; a collision only costs a
// re-probe, since the identity inside the file includes the path.
uint64_t fnv1a(std::string_view s)
{
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::optional<std::string> readSmallFile(const std::string& path, size_t limit)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::string out;
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        out.append(buf, static_cast<size_t>(in.gcount()));
        if (out.size() > limit)
            return std::nullopt;
    }
    return out;
}

void fsyncDir(const std::string& dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// Readers never see a half-written file: temp file in the same directory,
// fsync, rename over, fsync the directory so the rename survives a crash.
bool writeAtomically(const std::string& dir, const std::string& path, const std::string& data)
{
    std::string tmpl = dir + "/.caps-XXXXXX";
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t done = 0;
    bool ok = true;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        done += static_cast<size_t>(n);
    }
    ok = ok && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (ok && ::rename(tmpl.c_str(), path.c_str()) == 0) {
        fsyncDir(dir);
        return true;
    }
    ::unlink(tmpl.c_str());
    return false;
}

// A member the file must have: a missing one makes the whole file a miss.
const json::Value& member(const json::Value& v, std::string_view key)
{
    const json::Value* m = v.find(key);
    if (!m)
        throw json::ParseError("no member " + std::string(key));
    return *m;
}

} // namespace

std::string capsToJson(const EmulatorCaps& caps, const std::string& identity)
{
    json::Array machines;
    for (const auto& m : caps.machines) {
        json::Value v;
        v.set("name", m.name);
        v.set("alias", m.alias);
        v.set("default", m.isDefault);
        v.set("maxCpus", m.maxCpus);
        v.set("deprecated", m.deprecated);
        machines.push_back(std::move(v));
    }
    json::Array cpus;
    for (const auto& c : caps.cpuModels) {
        json::Value v;
        v.set("name", c.name);
        v.set("usable", c.usable);
        v.set("usableKnown", c.usableKnown);
        v.set("deprecated", c.deprecated);
        v.set("aliasOf", c.aliasOf);
        v.set("kvmUsable", c.kvmUsable ? json::Value(*c.kvmUsable) : json::Value());
        cpus.push_back(std::move(v));
    }
    json::Array devices(caps.deviceTypes.begin(), caps.deviceTypes.end());
    json::Value root;
    root.set("format", kCacheFormat);
    root.set("identity", identity);
    root.set("path", caps.path);
    root.set("arch", caps.arch);
    root.set("version", caps.version);
    root.set("package", caps.package);
    root.set("kvm", caps.kvm);
    root.set("kvmNote", caps.kvmNote);
    root.set("seccomp", caps.seccomp);
    root.set("machines", std::move(machines));
    root.set("cpuModels", std::move(cpus));
    root.set("deviceTypes", std::move(devices));
    return json::serialize(root) + "\n";
}

std::optional<EmulatorCaps> capsFromJson(const std::string& text, const std::string& identity)
{
    // A damaged or foreign file is only a cache miss, never an error.
    try {
        json::Value root = json::parse(text);
        const json::Value* format = root.find("format");
        const json::Value* id = root.find("identity");
        if (!format || format->asInt() != kCacheFormat || !id || id->asString() != identity)
            return std::nullopt;
        EmulatorCaps caps;
        caps.path = member(root, "path").asString();
        caps.arch = member(root, "arch").asString();
        caps.version = member(root, "version").asUInt();
        caps.package = root.str("package");
        caps.kvm = member(root, "kvm").asBool();
        caps.kvmNote = root.str("kvmNote");
        caps.seccomp = member(root, "seccomp").asBool();
        for (const auto& v : member(root, "machines").asArray()) {
            MachineType m;
            m.name = member(v, "name").asString();
            m.alias = v.str("alias");
            m.isDefault = v.boolean("default");
            m.maxCpus = static_cast<unsigned>(member(v, "maxCpus").asUInt());
            m.deprecated = v.boolean("deprecated");
            caps.machines.push_back(std::move(m));
        }
        for (const auto& v : member(root, "cpuModels").asArray()) {
            CpuModel c;
            c.name = member(v, "name").asString();
            c.usable = member(v, "usable").asBool();
            c.usableKnown = v.boolean("usableKnown", true);
            c.deprecated = v.boolean("deprecated");
            c.aliasOf = v.str("aliasOf");
            if (const json::Value* k = v.find("kvmUsable"); k && !k->isNull())
                c.kvmUsable = k->asBool();
            caps.cpuModels.push_back(std::move(c));
        }
        for (const auto& v : member(root, "deviceTypes").asArray())
            caps.deviceTypes.push_back(v.asString());
        if (caps.path.empty() || !std::is_sorted(caps.deviceTypes.begin(), caps.deviceTypes.end()))
            return std::nullopt;
        return caps;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::vector<std::string> CapsCache::findEmulators(const std::vector<std::string>& searchPath)
{
    std::vector<std::string> out;
    for (const auto& dir : searchPath.empty() ? defaultSearchPath() : searchPath) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            std::string name = e.path().filename().string();
            if (name.rfind("qemu-system-", 0) == 0 && isExecutableFile(e.path().string()))
                out.push_back(e.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string CapsCache::emulatorForArch(const std::string& arch)
{
    if (arch.empty())
        return {};
    std::string name = "qemu-system-" + qemuArch(arch);
    for (const auto& dir : defaultSearchPath())
        if (isExecutableFile(dir + "/" + name))
            return dir + "/" + name;
    return {};
}

std::string CapsCache::identity(const std::string& binary)
{
    struct stat st { };
    if (::stat(binary.c_str(), &st) != 0)
        throw err::operationFailed("Cannot check QEMU binary " + binary + ": " + errnoText(errno));
    std::ostringstream id;
    id << "path=" << binary << ";size=" << st.st_size << ";mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec
       << ";ctime=" << st.st_ctim.tv_sec << "." << st.st_ctim.tv_nsec << ";inode=" << st.st_ino
       << ";virtbus=" << VIRTBUS_VERSION << ";kvm=" << (kvmDeviceUsable() ? "rw" : "no");
    return id.str();
}

struct CapsCache::Entry {
    std::mutex mu; // held for the whole probe, so later callers wait for it
    std::string identity;
    std::shared_ptr<const EmulatorCaps> caps;
};

CapsCache::CapsCache(EventLoop& loop, std::string cacheDir) : loop_(loop), dir_(std::move(cacheDir))
{
    std::error_code ec;
    fs::create_directories(dir_, ec);
}

std::string CapsCache::cacheFile(const std::string& binary) const
{
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(binary)));
    return dir_ + "/" + fs::path(binary).filename().string() + "-" + hash + ".json";
}

std::shared_ptr<const EmulatorCaps> CapsCache::get(const std::string& binary)
{
    std::shared_ptr<Entry> entry;
    {
        std::lock_guard lock(mu_);
        auto& slot = entries_[binary];
        if (!slot)
            slot = std::make_shared<Entry>();
        entry = slot;
    }
    std::lock_guard lock(entry->mu);
    std::string id = identity(binary);
    if (entry->caps && entry->identity == id)
        return entry->caps;

    std::string file = cacheFile(binary);
    if (auto text = readSmallFile(file, 64u << 20)) {
        if (auto caps = capsFromJson(*text, id)) {
            entry->identity = id;
            entry->caps = std::make_shared<const EmulatorCaps>(std::move(*caps));
            return entry->caps;
        }
    }

    auto caps = probe(binary);
    // The binary may have been replaced while it was being probed; the
    // identity taken before is then stale and the file will simply miss.
    std::error_code ec;
    fs::create_directories(dir_, ec);
    // A cache that cannot be written only costs a probe at the next start.
    writeAtomically(dir_, file, capsToJson(*caps, id));
    entry->identity = id;
    entry->caps = caps;
    return caps;
}

} // namespace virtbus::qemu
