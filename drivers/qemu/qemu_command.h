// Domain XML -> QEMU command line. Pure functions of the definition: every
// decision that needs the host (MAC addresses, VNC ports, tap devices,
// device addresses) is made before and written into the live definition,
// so the same definition always gives the same argv (golden-file tested).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "xml/domain_xml.h"

namespace virtbus::qemu {

struct EmulatorCaps;

struct CommandContext {
    std::string emulator;                  // argv[0]
    const EmulatorCaps* caps = nullptr;    // machine aliases, device checks; may be null
    std::string qmpSocket;                 // -qmp unix socket path (server, nowait)
    // The monitor's listening socket, bound by virtbusd (at qmpSocket) and
    // inherited: fd=N instead of path=, so QEMU needs no access to the
    // directory. -1: QEMU binds qmpSocket itself.
    int qmpFd = -1;
    // Listening sockets of unix chardevs in bind mode, by chardev id
    // ("char" + alias), likewise inherited.
    std::map<std::string, int> chardevFds;
    std::string pidFile;                   // -pidfile
    // For <interface> i whose type needs a host tap (bridge, network,
    // ethernet): the fd QEMU inherits (-netdev tap,fd=N).
    std::map<size_t, int> tapFds;
    // Where chardevs of type pty are announced (none needed: QEMU creates
    // them and the driver asks query-chardev), and the default VNC listen
    // address when <graphics> gives none.
    std::string vncListenDefault = "127.0.0.1";
};

// Checks what the QEMU driver cannot do before anything starts: throws
// VirtError ConfigUnsupported ("unsupported configuration: ...") or
// InvalidArg with libvirt's wording. `caps` may be null (then only checks
// that need no caps run).
void validateDefinition(const xml::DomainDef& def, const EmulatorCaps* caps);

// Gives every device an alias (libvirt's: virtio-disk0, sata0-0-0, net0,
// serial0, video0, balloon0, rng0, watchdog0, input0, channel0, ua-*
// user aliases kept) and a PCI/drive address where it has none, keeping the
// addresses already given, and adds the implicit controllers libvirt adds
// (pci-root/pcie-root, usb, ide/sata per machine, virtio-serial when a
// channel needs one). Deterministic.
void assignAddresses(xml::DomainDef& def, const EmulatorCaps* caps);

// libvirt generates the socket of a unix channel that names no path (the
// guest agent's, typically): this gives every such channel
// <dir>/<domain name>.<target name> (the alias when it has no name) in
// mode bind. buildCommandLine uses the same names, in the QMP socket's
// directory, for channels still without a path, so call this first when
// the live XML should show them.
void assignChannelPaths(xml::DomainDef& def, const std::string& dir);
std::string channelSocketPath(const xml::DomainDef& def, const xml::ChardevDef& channel, const std::string& dir);

// The argv, argv[0] included. Expects validateDefinition and
// assignAddresses to have run. Always starts paused (-S) with -no-shutdown,
// so the driver sees SHUTDOWN and decides what on_poweroff means.
std::vector<std::string> buildCommandLine(const xml::DomainDef& def, const CommandContext& ctx);

} // namespace virtbus::qemu
