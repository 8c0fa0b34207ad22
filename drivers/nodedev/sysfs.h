// Reading a sysfs tree below a configurable root (the host's /sys, or a
// tree a test builds in a temporary directory). Paths handed around are
// absolute: root + "/devices/...".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace virtbus::nodedev {

class Sysfs {
public:
    explicit Sysfs(std::string root);
    const std::string& root() const { return root_; }

    // An attribute's content without trailing whitespace; nullopt when it
    // cannot be read (absent, a directory, EACCES).
    static std::optional<std::string> attr(const std::string& dir, const std::string& name);
    static std::optional<unsigned long long> number(const std::string& dir, const std::string& name, int base);
    // The last component of a symlink's target ("vfio-pci" for driver/).
    static std::string linkName(const std::string& path);
    // realpath(), "" when it fails.
    static std::string resolve(const std::string& path);
    // Names in a directory (not "." or ".."), sorted.
    static std::vector<std::string> list(const std::string& dir);
    // The KEY=VALUE lines of dir/uevent (DEVTYPE, DRIVER, INTERFACE, ...).
    static std::map<std::string, std::string> uevent(const std::string& dir);
    static bool exists(const std::string& path);
    static std::string basename(const std::string& path);
    static std::string dirname(const std::string& path);

private:
    std::string root_;
};

} // namespace virtbus::nodedev
