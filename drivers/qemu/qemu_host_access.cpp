// What a guest's QEMU gets on the host for one run, and taking it back:
// the files it opens (handed to the QEMU user) and the listening sockets
// virtbusd binds for it. Recorded in <name>.host before anything changes,
// so a crash of virtbusd at any point leaves a record the next one undoes.
#include <dirent.h>
#include <unistd.h>

#include <cstdio>

#include "fileutil.h"
#include "qemu/qemu_command.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qemu_security.h"

namespace virtbus {

namespace {

// The chardevs QEMU would listen on itself; consoles of target serial
// are serial0 again, not a chardev of their own.
template <typename Fn>
void forEachListeningChardev(const xml::DomainDef& def, Fn fn)
{
    const auto& dev = def.devices;
    for (const auto* list : {&dev.serials, &dev.parallels, &dev.consoles, &dev.channels})
        for (const auto& c : *list)
            if (c.type == "unix" && !c.sources.empty() && c.sources[0].mode == "bind" && !c.sources[0].path.empty()
                && (list != &dev.consoles || c.targetType == "virtio"))
                fn(c);
}

// Whether a domain in `doms` other than `self` holds the file of `c`.
template <typename Map>
bool heldElsewhere(const Map& doms, const qemu::QemuDomain* self, const qemu::HostChange& c)
{
    for (const auto& [uuid, other] : doms)
        if (other.get() != self)
            for (const auto& h : other->host)
                if (h.kind == qemu::HostChange::Owner && h.sameFile(c))
                    return true;
    return false;
}

} // namespace

void QemuDriver::grantHost(const DomPtr& d, const xml::DomainDef& live, const qemu::QemuUser& user,
    qemu::CommandContext& ctx, std::vector<int>& listenFds)
{
    std::vector<qemu::HostPath> paths;
    if (user.switches()) {
        paths = qemu::hostPaths(live);
        for (const auto& disk : live.devices.disks)
            if (disk.hasSource && (disk.type == "file" || disk.type == "block" || disk.type == "volume"))
                for (auto& backing : qemu::backingChain(disk.path, disk.driverType))
                    paths.push_back({backing, false, false});
    }
    {
        // Planned under mu_, so two guests starting with the same file
        // cannot both take the other's change for the original owner.
        std::lock_guard lock(mu_);
        std::vector<qemu::HostChange> held;
        for (const auto& [uuid, other] : byUuid_)
            if (other != d)
                held.insert(held.end(), other->host.begin(), other->host.end());
        d->host = qemu::planOwnership(paths, user, held);
    }
    try {
        forEachListeningChardev(live, [&](const xml::ChardevDef& c) {
            qemu::HostChange created;
            int fd = qemu::listenUnix(c.sources[0].path, &created);
            listenFds.push_back(fd);
            ctx.chardevFds["char" + c.info.alias] = fd;
            std::lock_guard lock(mu_);
            d->host.push_back(created);
        });
        std::vector<qemu::HostChange> changes;
        {
            std::lock_guard lock(mu_);
            changes = d->host;
        }
        if (!changes.empty())
            writeFileAtomic(cfg_.stateDir + "/" + live.name + ".host", qemu::formatHostChanges(changes),
                "cannot save the host changes of domain '" + live.name + "'", ErrDomain::Qemu);
        qemu::applyOwnership(changes, user);
    } catch (...) {
        std::lock_guard lock(mu_);
        releaseHostLocked(*d);
        throw;
    }
}

void QemuDriver::releaseHostLocked(Dom& d)
{
    auto changes = std::move(d.host);
    d.host.clear();
    qemu::undoChanges(changes, [&](const qemu::HostChange& c) { return heldElsewhere(byUuid_, &d, c); });
    ::unlink((cfg_.stateDir + "/" + d.name() + ".host").c_str());
}

void QemuDriver::releaseStaleHost()
{
    DIR* dir = opendir(cfg_.stateDir.c_str());
    if (!dir)
        return;
    std::vector<std::string> names;
    while (dirent* e = readdir(dir)) {
        std::string f = e->d_name;
        if (f.size() > 5 && f.compare(f.size() - 5, 5, ".host") == 0 && f[0] != '.')
            names.push_back(f.substr(0, f.size() - 5));
    }
    closedir(dir);
    std::lock_guard lock(mu_);
    for (const auto& name : names) {
        if (Dom* d = byNameLocked(name); d && d->active())
            continue; // reconnected: its changes stay until it stops
        std::string file = cfg_.stateDir + "/" + name + ".host";
        auto changes = qemu::parseHostChanges(readFile(file).value_or(""));
        if (!changes) {
            fprintf(stderr, "<4>qemu: unreadable host changes of '%s' in %s; left as they are\n", name.c_str(),
                file.c_str());
            continue;
        }
        fprintf(
            stderr, "<6>qemu: undoing the host changes of '%s', which stopped while virtbusd was away\n", name.c_str());
        qemu::undoChanges(*changes, [&](const qemu::HostChange& c) { return heldElsewhere(byUuid_, nullptr, c); });
        ::unlink(file.c_str());
    }
}

} // namespace virtbus
