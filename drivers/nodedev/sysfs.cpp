#include "nodedev/sysfs.h"

#include "fileutil.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtbus::nodedev {

Sysfs::Sysfs(std::string root) : root_(std::move(root))
{
    while (root_.size() > 1 && root_.back() == '/')
        root_.pop_back();
}

std::optional<std::string> Sysfs::attr(const std::string& dir, const std::string& name)
{
    // Attributes are at most a page; a cap keeps a hostile tree harmless.
    auto s = readFile(dir + "/" + name, 64 * 1024);
    if (!s)
        return std::nullopt;
    while (!s->empty() && (s->back() == '\n' || s->back() == ' ' || s->back() == '\t' || s->back() == '\0'))
        s->pop_back();
    return s;
}

std::optional<unsigned long long> Sysfs::number(const std::string& dir, const std::string& name, int base)
{
    auto s = attr(dir, name);
    if (!s || s->empty())
        return std::nullopt;
    errno = 0;
    char* end = nullptr;
    unsigned long long v = strtoull(s->c_str(), &end, base);
    if (errno || end == s->c_str() || *end || (*s)[0] == '-')
        return std::nullopt;
    return v;
}

std::string Sysfs::linkName(const std::string& path)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    if (n <= 0)
        return {};
    return basename(std::string(buf, static_cast<size_t>(n)));
}

std::string Sysfs::resolve(const std::string& path)
{
    char* p = realpath(path.c_str(), nullptr);
    if (!p)
        return {};
    std::string out(p);
    free(p);
    return out;
}

std::vector<std::string> Sysfs::list(const std::string& dir)
{
    std::vector<std::string> out;
    DIR* d = opendir(dir.c_str());
    if (!d)
        return out;
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..")
            out.push_back(std::move(n));
    }
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

std::map<std::string, std::string> Sysfs::uevent(const std::string& dir)
{
    std::map<std::string, std::string> out;
    auto s = attr(dir, "uevent");
    if (!s)
        return out;
    size_t pos = 0;
    while (pos < s->size()) {
        size_t nl = s->find('\n', pos);
        if (nl == std::string::npos)
            nl = s->size();
        std::string line = s->substr(pos, nl - pos);
        if (size_t eq = line.find('='); eq != std::string::npos)
            out[line.substr(0, eq)] = line.substr(eq + 1);
        pos = nl + 1;
    }
    return out;
}

bool Sysfs::exists(const std::string& path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

std::string Sysfs::basename(const std::string& path)
{
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Sysfs::dirname(const std::string& path)
{
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace virtbus::nodedev
