// UpdateDevice on a running guest: removable media (blockdev-open-tray,
// -remove-medium, -insert-medium, -close-tray; QEMU's DEVICE_TRAY_MOVED
// becomes TrayChange in qemu_hotplug.cpp) and an interface's link state.
#include <sys/stat.h>

#include <cerrno>

#include "fileutil.h"

#include "qemu/qemu_command_priv.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;

void QemuDriver::updateLive(const DomPtr& d, const xml::DeviceDef& dev, bool force)
{
    (void)force; // the tray is opened with force anyway, as libvirt does
    std::shared_ptr<qemu::Monitor> mon;
    std::optional<xml::DeviceDef> old;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        mon = d->mon;
        old = xml::findDevice(*d->live, dev);
    }
    if (auto* disk = std::get_if<xml::DiskDef>(&dev)) {
        if (!old)
            throw err::operationFailed("disk " + disk->targetDev + " not found");
        const auto& was = std::get<xml::DiskDef>(*old);
        if (was.device != "cdrom" && was.device != "floppy")
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                "disk source can be changed only in removable media (disk '" + disk->targetDev + "')");
        if (disk->hasSource && disk->path != was.path && disk->type != "file" && disk->type != "block")
            throw err::configUnsupported("media of type '" + disk->type + "' cannot be inserted");
        xml::DiskDef next = *disk;
        next.info = was.info;
        next.targetBus = was.targetBus;
        if ((next.hasSource && !next.path.empty()) != (was.hasSource && !was.path.empty()) || next.path != was.path)
            changeMedia(d, next);
        return;
    }
    if (auto* net = std::get_if<xml::InterfaceDef>(&dev)) {
        if (!old)
            throw err::operationFailed(net->mac.empty() ? "matching device not found"
                                                        : "no device matching MAC address " + net->mac + " found");
        const auto& was = std::get<xml::InterfaceDef>(*old);
        if (net->type != was.type || net->sourceBridge != was.sourceBridge || net->sourceNetwork != was.sourceNetwork
            || (!net->model.empty() && net->model != was.model))
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                "cannot modify network device configuration other than its link state");
        bool up = net->linkState != "down";
        if (up != (was.linkState != "down")) {
            try {
                mon->execute("set_link", json::Object {{"name", was.info.alias}, {"up", up}});
            } catch (const qemu::QmpError& e) {
                qemu::hotplugFailed("link state of " + was.info.alias, e);
            }
        }
        {
            std::lock_guard lock(mu_);
            for (auto& n : d->live->devices.interfaces)
                if (n.info.alias == was.info.alias)
                    n.linkState = net->linkState;
        }
        writeStatus(*d);
        return;
    }
    throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
        "live update of this device type is not supported by virtbus's QEMU driver");
}

void QemuDriver::changeMedia(const DomPtr& d, const xml::DiskDef& disk)
{
    std::shared_ptr<qemu::Monitor> mon;
    {
        std::lock_guard lock(mu_);
        mon = d->mon;
    }
    const std::string& id = disk.info.alias;
    const bool insert = disk.hasSource && !disk.path.empty();
    struct stat st;
    if (insert && ::stat(disk.path.c_str(), &st) != 0)
        throw systemError(ErrDomain::Qemu, "Cannot access storage file '" + disk.path + "'", errno);
    if (insert) {
        xml::DomainDef only;
        only.devices.disks.push_back(disk);
        grantHotplug(d, only);
    }
    std::string oldNode;
    try {
        oldNode = qemu::hotplugDiskNode(*mon, id);
        mon->execute("blockdev-open-tray", json::Object {{"id", id}, {"force", true}});
        if (!oldNode.empty()) {
            mon->execute("blockdev-remove-medium", json::Object {{"id", id}});
            qemu::hotplugDeleteNodes(*mon, oldNode);
        }
        if (insert) {
            std::string node = qemu::hotplugNextNode(*mon);
            std::vector<std::string> nodes = qemu::detail::diskBlockdevs(disk, node);
            for (const auto& n : nodes)
                mon->execute("blockdev-add", json::parse(n));
            mon->execute("blockdev-insert-medium", json::Object {{"id", id}, {"node-name", node + "-format"}});
        }
        mon->execute("blockdev-close-tray", json::Object {{"id", id}});
    } catch (const std::exception& e) {
        qemu::hotplugFailed("the media of " + disk.targetDev, e);
    }
    {
        std::lock_guard lock(mu_);
        for (auto& x : d->live->devices.disks)
            if (x.info.alias == id) {
                x.type = disk.type;
                x.hasSource = insert;
                x.path = insert ? disk.path : std::string();
                if (!disk.driverType.empty())
                    x.driverType = disk.driverType;
            }
    }
    writeStatus(*d);
}

} // namespace virtbus
