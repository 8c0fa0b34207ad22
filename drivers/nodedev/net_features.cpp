// The offload features libvirt lists for a NIC (<feature name='rx'/>, ...),
// asked from the kernel with the ethtool ioctls, in libvirt's order.
#include "nodedev/device_builder.h"

#include <cstring>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace virtbus::nodedev {

namespace {

bool ethtool(int fd, const std::string& ifname, void* cmd)
{
    ifreq ifr {};
    strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(cmd);
    return ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

} // namespace

std::vector<std::string> netFeatures(const std::string& ifname)
{
    std::vector<std::string> out;
    if (ifname.empty() || ifname.size() >= IFNAMSIZ)
        return out;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return out;
    static const std::pair<uint32_t, const char*> kValues[] = {
        {ETHTOOL_GRXCSUM, "rx"},
        {ETHTOOL_GTXCSUM, "tx"},
        {ETHTOOL_GSG, "sg"},
        {ETHTOOL_GTSO, "tso"},
        {ETHTOOL_GGSO, "gso"},
        {ETHTOOL_GGRO, "gro"},
    };
    for (const auto& [cmd, name] : kValues) {
        ethtool_value v {};
        v.cmd = cmd;
        if (ethtool(fd, ifname, &v) && v.data)
            out.push_back(name);
    }
    static const std::pair<uint32_t, const char*> kFlags[] = {
        {ETH_FLAG_LRO, "lro"},
        {ETH_FLAG_RXVLAN, "rxvlan"},
        {ETH_FLAG_TXVLAN, "txvlan"},
        {ETH_FLAG_NTUPLE, "ntuple"},
        {ETH_FLAG_RXHASH, "rxhash"},
    };
    ethtool_value flags {};
    flags.cmd = ETHTOOL_GFLAGS;
    if (ethtool(fd, ifname, &flags))
        for (const auto& [bit, name] : kFlags)
            if (flags.data & bit)
                out.push_back(name);
    close(fd);
    return out;
}

} // namespace virtbus::nodedev
