// <dhcp/> on IPv4: busybox's udhcpc, a child of the daemon, with a hook
// script virtbus writes (busybox ships none) that applies the lease.
#include "interface/iface_driver.h"

#include "fileutil.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

extern char** environ;

namespace virtbus {

namespace {

constexpr const char* kScript = R"(#!/bin/sh
# Written by virtbusd: applies udhcpc's lease to $interface.
case "$1" in
deconfig)
	@BB@ ip -4 addr flush dev "$interface"
	@BB@ ip link set "$interface" up
	;;
bound|renew)
	@BB@ ip -4 addr flush dev "$interface"
	@BB@ ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in $router; do
		@BB@ ip route replace default via "$r" dev "$interface"
		break
	done
	;;
esac
exit 0
)";

} // namespace

std::string iface::dhcpClient()
{
    for (const char* p : {"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox"})
        if (access(p, X_OK) == 0)
            return p;
    return {};
}

void HostInterfaceDriver::startDhcp(const std::string& ifname, const std::string& /*family*/)
{
    std::string bin = iface::dhcpClient();
    makeDirs(stateDir_, 0700, ErrDomain::Interface);
    std::string script = stateDir_ + "/udhcpc.script";
    std::string text = kScript;
    for (size_t at; (at = text.find("@BB@")) != std::string::npos;)
        text.replace(at, 4, bin);
    writeFileAtomic(script, text, "saving the DHCP hook script", ErrDomain::Interface, 0700);
    std::string pidfile = stateDir_ + "/" + ifname + ".udhcpc.pid";
    // -f: stays our child, so we reap it; -R: gives the lease back on exit.
    std::vector<std::string> args {bin, "udhcpc", "-f", "-R", "-i", ifname, "-s", script, "-p", pidfile};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0)
        throw systemError(ErrDomain::Interface, "cannot start the DHCP client for '" + ifname + "'", rc);
    dhcp_[ifname] = pid;
}

void HostInterfaceDriver::stopDhcp(const std::string& ifname)
{
    auto it = dhcp_.find(ifname);
    if (it == dhcp_.end())
        return;
    pid_t pid = it->second;
    dhcp_.erase(it);
    kill(pid, SIGTERM);
    // udhcpc releases its lease and exits at once; don't wait forever.
    for (int i = 0; i < 200; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) == pid)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
}

HostInterfaceDriver::~HostInterfaceDriver()
{
    // systemd stops the clients with the service's cgroup anyway; doing it
    // here leaves no orphan where nothing would reap it.
    while (!dhcp_.empty())
        stopDhcp(dhcp_.begin()->first);
}

} // namespace virtbus
