// Helpers of test_qemu_command.cpp's QEMU acceptance test: rewriting a
// golden argv for the test host, and knowing when QEMU has started.
#pragma once

#include "xml_corpus.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

extern char** environ;

namespace virtbus::qemu::testing_support {

namespace fs = std::filesystem;

inline constexpr const char* kEmulator = "/usr/bin/qemu-system-x86_64";
inline constexpr const char* kQemuImg = "/usr/bin/qemu-img";

// Goldens QEMU cannot start on a test host, and why.
inline const std::map<std::string, std::string> kNotExercised = {
    {"hostdev-pci", "vfio-pci needs host PCI device 0000:06:12.5 bound to vfio-pci, and usb-host by bus/address "
                    "needs a USB device at 1:5; QEMU refuses to start without them (hostdev-usb, by vendor and "
                    "product id, is exercised)"},
};

inline bool executable(const char* path)
{
    return ::access(path, X_OK) == 0;
}

inline bool kvmUsable()
{
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

// A QEMU key=value list split at single commas; ",," stays escaped.
inline std::vector<std::string> splitOpts(const std::string& v)
{
    std::vector<std::string> out{""};
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == ',' && i + 1 < v.size() && v[i + 1] == ',') {
            out.back() += ",,";
            ++i;
        } else if (v[i] == ',') {
            out.emplace_back();
        } else {
            out.back() += v[i];
        }
    }
    return out;
}

inline std::string unescapeOpt(const std::string& v)
{
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        out += v[i];
        if (v[i] == ',' && i + 1 < v.size() && v[i + 1] == ',')
            ++i;
    }
    return out;
}

inline std::string escape(const std::string& v)
{
    std::string out;
    for (char c : v)
        out += c == ',' ? std::string(",,") : std::string(1, c);
    return out;
}

// The string value of "key" in one of our flat JSON objects, with the
// position of its opening and closing quotes.
inline std::optional<std::tuple<std::string, size_t, size_t>> jsonField(const std::string& json, const std::string& key)
{
    size_t k = json.find("\"" + key + "\":\"");
    if (k == std::string::npos)
        return std::nullopt;
    size_t open = k + key.size() + 3, i = open + 1;
    std::string value;
    for (; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] == '\\')
            ++i;
        value += json[i];
    }
    return std::tuple{value, open, i};
}

inline void writeFile(const fs::path& p, const std::string& data)
{
    std::ofstream(p, std::ios::binary) << data;
}

// Just enough of a Linux boot protocol header for QEMU to load it.
inline std::string fakeKernel()
{
    std::string k(8192, '\0');
    k[0x1f1] = 4; // setup sectors
    k[0x1fe] = '\x55';
    k[0x1ff] = '\xaa';
    k.replace(0x202, 4, "HdrS");
    k[0x206] = '\x0f'; // protocol 2.15
    k[0x207] = '\x02';
    k[0x211] = 1; // loaded high
    k.replace(0x22c, 4, std::string("\xff\xff\xff\x37", 4)); // initrd_addr_max
    return k;
}

inline int runAndWait(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Rewritten {
    std::vector<std::string> argv;
    fs::path qmp;
};

inline Rewritten rewriteForHost(const std::vector<std::string>& in, const fs::path& dir)
{
    static const std::set<std::string> flags{"-S", "-no-user-config", "-nodefaults", "-no-shutdown"};
    const bool kvm = kvmUsable();
    std::map<std::string, std::string> formatOf; // storage node -> format driver
    for (size_t i = 0; i + 1 < in.size(); ++i)
        if (in[i] == "-blockdev")
            if (auto file = jsonField(in[i + 1], "file"))
                formatOf[std::get<0>(*file)] = std::get<0>(*jsonField(in[i + 1], "driver"));

    Rewritten r{{in[0]}, {}};
    for (size_t i = 1; i < in.size(); ++i) {
        const std::string& opt = in[i];
        r.argv.push_back(opt);
        if (flags.count(opt) || i + 1 >= in.size())
            continue;
        std::string v = in[++i];
        if (opt == "-netdev" && v.starts_with("tap,")) {
            for (const auto& kv : splitOpts(v))
                if (kv.starts_with("id="))
                    v = "user," + kv;
        } else if (opt == "-blockdev" && jsonField(v, "filename")) {
            auto [path, open, close] = *jsonField(v, "filename");
            std::string node = std::get<0>(*jsonField(v, "node-name"));
            fs::path image = dir / fs::path(path).filename();
            EXPECT_EQ(runAndWait({kQemuImg, "create", "-q", "-f", formatOf[node], image.string(), "16M"}), 0)
                << "qemu-img create " << image;
            v.replace(open, close - open + 1, "\"" + image.string() + "\"");
            for (const char* hostDriver : {"\"host_device\"", "\"host_cdrom\""})
                if (size_t p = v.find(hostDriver); p != std::string::npos)
                    v.replace(p, std::strlen(hostDriver), "\"file\"");
        } else if (opt == "-chardev") {
            auto kvs = splitOpts(v);
            bool server = std::find(kvs.begin(), kvs.end(), "server=on") != kvs.end();
            for (auto& kv : kvs) {
                if (kv.starts_with("path=")) {
                    fs::path moved = dir / fs::path(unescapeOpt(kv.substr(5))).filename();
                    if (kv.find("monitor.sock") != std::string::npos)
                        r.qmp = moved;
                    kv = "path=" + escape(moved.string());
                } else if ((server && kv.starts_with("port=")) || kv.starts_with("localport=")) {
                    kv = kv.substr(0, kv.find('=')) + "=0";
                }
            }
            v.clear();
            for (const auto& kv : kvs)
                v += (v.empty() ? "" : ",") + kv;
        } else if (opt == "-vnc") {
            auto kvs = splitOpts(v);
            kvs[0] = "unix:" + escape((dir / "vnc.sock").string());
            v.clear();
            for (const auto& kv : kvs)
                v += (v.empty() ? "" : ",") + kv;
        } else if (opt == "-pidfile") {
            v = (dir / "qemu.pid").string();
        } else if (opt == "-kernel" || opt == "-initrd") {
            fs::path f = dir / (opt == "-kernel" ? "vmlinuz" : "initrd.img");
            writeFile(f, opt == "-kernel" ? fakeKernel() : std::string(4096, 'x'));
            v = f.string();
        } else if (opt == "-accel" && v == "kvm" && !kvm) {
            v = "tcg";
        } else if (opt == "-cpu" && v.starts_with("host") && !kvm) {
            v = "max";
        }
        r.argv.push_back(v);
    }
    return r;
}

// A QMP client just far enough to know QEMU finished starting: the
// greeting alone proves little (the monitor has its own I/O thread), but
// query-status is answered by the main loop, which runs only after every
// device on the command line was created.
class QmpProbe {
public:
    explicit QmpProbe(fs::path path) : path_(std::move(path)) {}
    ~QmpProbe()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }

    bool step()
    {
        if (fd_ < 0 && !connect())
            return false;
        char chunk[4096];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n == 0) {
            ::close(fd_);
            fd_ = -1;
            stage_ = 0;
            return false;
        }
        if (n > 0)
            buf_.append(chunk, static_cast<size_t>(n));
        static const char* wanted[] = {"\"QMP\"", "\"return\"", "\"status\""};
        static const char* next[] = {"{\"execute\":\"qmp_capabilities\"}\n", "{\"execute\":\"query-status\"}\n"};
        if (buf_.find(wanted[stage_]) == std::string::npos)
            return false;
        buf_.clear();
        if (stage_ == 2)
            return true;
        std::string cmd = next[stage_++];
        if (::send(fd_, cmd.data(), cmd.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(cmd.size()))
            ADD_FAILURE() << "cannot write to the QMP socket " << path_;
        return false;
    }

private:
    bool connect()
    {
        if (!fs::exists(path_))
            return false;
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
        timeval tv{0, 50 * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0)
            return true;
        ::close(fd_);
        fd_ = -1;
        return false;
    }

    fs::path path_;
    int fd_ = -1;
    int stage_ = 0;
    std::string buf_;
};

} // namespace virtbus::qemu::testing_support
