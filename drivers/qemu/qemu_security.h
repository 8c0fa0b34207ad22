// Guests without root (qemu:///system): QEMU runs as an unprivileged
// user, switched to before exec, so it never holds root (QEMU's own -runas
// switches only after seccomp is in force, and its elevateprivileges=deny
// then kills it). Whatever QEMU opens by path must be the user's for the
// run: libvirt's DAC model, with the original owner recorded so a stop
// (or the next virtbusd, if the guest stopped while none ran) puts it back.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "qemu/qemu_internal.h"

namespace virtbus::qemu {

// A file QEMU opens itself, and how.
struct HostPath {
    std::string path;
    bool write = false; // QEMU needs it read-write
    bool create = false; // a chardev file: created (by root, 0600) when missing
    bool operator==(const HostPath&) const = default;
};

// Every file `def`'s QEMU opens by path: file and block disk sources
// (read-only for readonly disks and cdroms), kernel, initrd, dtb, a rom
// loader, file/pipe/dev chardevs and unix chardevs QEMU connects to, the
// rng device. Not the listening unix sockets (virtbusd binds those and
// passes the fd), not the backing files of qcow2 images (backingChain).
// Pure: no file is looked at.
std::vector<HostPath> hostPaths(const xml::DomainDef& def);

// The backing files QEMU opens below a qcow2 image (read from the
// headers: backing file name and format extension, relative names against
// the image's directory), nearest first. Raw images have none; unreadable
// or odd headers end the chain (QEMU then reports what it cannot open).
std::vector<std::string> backingChain(const std::string& image, const std::string& format);

// `user` (a name; "" = the daemon's own identity, no switch) and `group`
// ("" = the user's primary group), with the user's supplementary groups.
// Throws VirtError naming the user or group when there is none.
QemuUser resolveQemuUser(const std::string& user, const std::string& group);

// Whether `user` may read (and write) the file by its permission bits.
bool accessibleBy(const struct stat& st, const QemuUser& user, bool write);

// The ownership changes that give `user` `paths`: every file QEMU writes,
// and the read-only ones it could not read otherwise. A file another
// running guest already holds (in `held`) keeps that guest's record of the
// original owner, so the last guest to stop restores the real one.
// Creates missing chardev files; changes nothing else.
std::vector<HostChange> planOwnership(
    const std::vector<HostPath>& paths, const QemuUser& user, const std::vector<HostChange>& held);

// chown to the user and add the owner bits it needs. Throws VirtError
// (nothing is undone here: the caller undoes the whole plan).
void applyOwnership(const std::vector<HostChange>& changes, const QemuUser& user);

// Undoes `changes`, except Owner changes of files for which `stillHeld`
// is true (another running guest uses them). Best effort: a file that
// vanished or was replaced is left alone, failures are logged.
template <typename Held>
void undoChanges(const std::vector<HostChange>& changes, Held stillHeld);
void undoChange(const HostChange& change);

template <typename Held>
void undoChanges(const std::vector<HostChange>& changes, Held stillHeld)
{
    for (const auto& c : changes)
        if (c.kind != HostChange::Owner || !stillHeld(c))
            undoChange(c);
}

} // namespace virtbus::qemu
