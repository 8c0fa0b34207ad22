// The QMP side of hotplug: disks (blockdev-add + device_add), interfaces
// (a tap passed with getfd, netdev_add + device_add), virtio channels
// (chardev-add + device_add), removable media and link state. Placement
// and aliases come from the same code as at start (qemu_address.cpp), the
// option text from the command builder (qemu_command_devices.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "fileutil.h"
#include "qemu/qemu_caps.h"
#include "qemu/qemu_command_priv.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"
#include "qemu/qmp.h"

namespace virtbus {

namespace json = qemu::json;
using qemu::detail::Argv;

namespace {

// "head,k=v,k2=v2" (QEMU's option syntax, ",," an escaped comma) as the
// QMP arguments of device_add (head: "driver") or netdev_add ("type").
json::Value optsToJson(const std::string& opts, const char* headKey)
{
    std::vector<std::string> parts(1);
    for (size_t i = 0; i < opts.size(); ++i) {
        if (opts[i] == ',' && i + 1 < opts.size() && opts[i + 1] == ',') {
            parts.back() += ',';
            ++i;
        } else if (opts[i] == ',') {
            parts.emplace_back();
        } else {
            parts.back() += opts[i];
        }
    }
    json::Object o {{headKey, parts[0]}};
    for (size_t i = 1; i < parts.size(); ++i) {
        auto eq = parts[i].find('=');
        if (eq != std::string::npos)
            o.emplace_back(parts[i].substr(0, eq), parts[i].substr(eq + 1));
    }
    return o;
}

} // namespace

// A fresh node-name stem: libvirt-N past every node QEMU has.
std::string qemu::hotplugNextNode(Monitor& mon)
{
    long max = 0;
    json::Value nodes = mon.execute("query-named-block-nodes", json::Object {{"flat", true}});
    if (nodes.isArray())
        for (const auto& n : nodes.asArray()) {
            std::string name = n.str("node-name");
            if (name.starts_with("libvirt-"))
                max = std::max(max, std::strtol(name.c_str() + 8, nullptr, 10));
        }
    return "libvirt-" + std::to_string(max + 1);
}

// The format node a device's medium is, "" when the drive is empty.
std::string qemu::hotplugDiskNode(Monitor& mon, const std::string& alias)
{
    json::Value blocks = mon.execute("query-block");
    if (!blocks.isArray())
        return {};
    for (const auto& b : blocks.asArray()) {
        std::string qdev = b.str("qdev");
        if (qdev != alias && !qdev.starts_with("/machine/peripheral/" + alias + "/")
            && qdev != "/machine/peripheral/" + alias)
            continue;
        const json::Value* in = b.find("inserted");
        return in ? in->str("node-name") : std::string();
    }
    return {};
}

void qemu::hotplugQuietly(Monitor& mon, const std::string& cmd, json::Value args)
{
    try {
        mon.execute(cmd, std::move(args));
    } catch (const std::exception&) {
        // Cleanup after a failure or an unplug: what is gone is gone.
    }
}

void qemu::hotplugDeleteNodes(Monitor& mon, const std::string& formatNode)
{
    if (formatNode.empty())
        return;
    hotplugQuietly(mon, "blockdev-del", json::Object {{"node-name", formatNode}});
    if (formatNode.ends_with("-format"))
        hotplugQuietly(mon, "blockdev-del",
            json::Object {{"node-name", formatNode.substr(0, formatNode.size() - 7) + "-storage"}});
}

// QMP's errors in libvirt's words for a failed hotplug.
void qemu::hotplugFailed(const std::string& what, const std::exception& e)
{
    if (auto* q = dynamic_cast<const qemu::QmpError*>(&e))
        throw makeError(
            ErrCode::InternalError, ErrDomain::Qemu, "unable to execute QEMU command for " + what + ": " + q->desc);
    if (auto* v = dynamic_cast<const VirtError*>(&e))
        throw *v;
    throw err::internal("hotplug of " + what + " failed: " + e.what());
}

namespace {

template <typename T>
std::string nextAlias(const std::vector<T>& list, const std::string& prefix)
{
    long next = 0;
    for (const auto& x : list)
        if (x.info.alias.starts_with(prefix))
            next = std::max(next, std::strtol(x.info.alias.c_str() + prefix.size(), nullptr, 10) + 1);
    return prefix + std::to_string(next);
}

// chardev-add's ChardevBackend for a channel.
json::Value chardevBackend(const xml::ChardevDef& ch, const std::string& listenFdName)
{
    static const xml::ChardevSource none;
    const xml::ChardevSource& s = ch.sources.empty() ? none : ch.sources[0];
    json::Object data;
    std::string type = ch.type;
    if (ch.type == "pty" || ch.type == "null") {
    } else if (ch.type == "file") {
        data = {{"out", s.path}};
    } else if (ch.type == "unix" || ch.type == "tcp") {
        type = "socket";
        json::Value addr;
        if (!listenFdName.empty())
            addr = json::Object {{"type", "fd"}, {"data", json::Object {{"str", listenFdName}}}};
        else if (ch.type == "unix")
            addr = json::Object {{"type", "unix"}, {"data", json::Object {{"path", s.path}}}};
        else
            addr = json::Object {{"type", "inet"}, {"data", json::Object {{"host", s.host}, {"port", s.service}}}};
        bool server = s.mode == "bind";
        data = {{"addr", addr}, {"server", server}};
        if (server)
            data.emplace_back("wait", false);
        if (ch.type == "tcp" && ch.protocol == "telnet")
            data.emplace_back("telnet", true);
    } else {
        throw err::configUnsupported("hotplug of a channel of type '" + ch.type + "' is not supported");
    }
    return json::Object {{"type", type}, {"data", data}};
}

} // namespace

void QemuDriver::attachLive(const DomPtr& d, xml::DeviceDef dev)
{
    std::shared_ptr<qemu::Monitor> mon;
    xml::DomainDef cur;
    {
        std::lock_guard lock(mu_);
        if (!d->active())
            throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
        mon = d->mon;
        cur = *d->live;
    }
    auto caps = caps_->get(cur.devices.emulator);
    const bool q35 = qemu::detail::isQ35(cur);
    if (auto* disk = std::get_if<xml::DiskDef>(&dev)) {
        if (disk->targetBus.empty())
            disk->targetBus = qemu::detail::diskBus(*disk);
        const std::string& bus = disk->targetBus;
        if (bus != "virtio" && bus != "scsi" && bus != "usb")
            throw makeError(
                ErrCode::OperationUnsupported, ErrDomain::Qemu, "disk bus '" + bus + "' cannot be hotplugged.");
        if (disk->device != "disk" && disk->device != "cdrom")
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                "disk device='" + disk->device + "' cannot be hotplugged.");
    } else if (auto* ch = std::get_if<xml::ChardevDef>(&dev)) {
        if (ch->kind != xml::ChardevKind::Channel || (ch->targetType != "virtio" && !ch->targetType.empty()))
            throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
                "only virtio channels (virtio-serial ports) can be hotplugged; QEMU's ISA serial "
                "and parallel ports cannot");
        ch->targetType = "virtio";
    } else if (!std::holds_alternative<xml::InterfaceDef>(dev)) {
        throw makeError(ErrCode::OperationUnsupported, ErrDomain::Qemu,
            "live attach of this device type is not supported by virtbus's QEMU driver");
    }

    // The device placed as at start, on a copy: the live XML changes only
    // once QEMU has it.
    xml::DomainDef trial = cur;
    xml::addDevice(trial, dev);
    qemu::validateDefinition(trial, caps.get());
    size_t controllers = trial.devices.controllers.size();
    qemu::assignAddresses(trial, caps.get());
    if (trial.devices.controllers.size() != controllers) {
        const auto& added = trial.devices.controllers.back();
        throw err::configUnsupported("the device needs a new <controller type='" + added.type + "'"
            + (added.model.empty() ? "" : " model='" + added.model + "'") + ">, and controllers cannot be hotplugged");
    }
    std::string what;
    Argv argv;
    std::vector<std::pair<std::string, json::Value>> undo;
    xml::DeviceDef added;
    try {
        if (std::holds_alternative<xml::DiskDef>(dev)) {
            xml::DiskDef disk = trial.devices.disks.back();
            what = "disk " + disk.targetDev;
            struct stat st;
            if (disk.hasSource && !disk.path.empty() && ::stat(disk.path.c_str(), &st) != 0)
                throw systemError(ErrDomain::Qemu, "Cannot access storage file '" + disk.path + "'", errno);
            xml::DomainDef only;
            only.devices.disks.push_back(disk);
            grantHotplug(d, only);
            argv = qemu::detail::diskArgv(trial, disk, qemu::hotplugNextNode(*mon), q35);
            added = disk;
        } else if (std::holds_alternative<xml::InterfaceDef>(dev)) {
            xml::InterfaceDef net = trial.devices.interfaces.back();
            if (!net.info.alias.starts_with("ua-"))
                net.info.alias = nextAlias(cur.devices.interfaces, "net");
            what = "interface " + net.mac;
            std::string fdName;
            if (net.type != "user") {
                std::string bridge = net.type == "bridge" ? net.sourceBridge : "";
                if (net.type == "network")
                    bridge = networkBridge(net.sourceNetwork);
                std::string tap = net.targetDev;
                UniqueFd fd(qemu::createTap(tap, bridge, net.mac));
                net.targetDev = tap;
                fdName = "fd-" + net.info.alias;
                mon->executeWithFd("getfd", json::Object {{"fdname", fdName}}, fd.get());
                undo.emplace_back("closefd", json::Object {{"fdname", fdName}});
            }
            argv = qemu::detail::netArgv(trial, net, fdName, q35);
            added = net;
        } else {
            xml::ChardevDef ch = trial.devices.channels.back();
            if (!ch.info.alias.starts_with("ua-"))
                ch.info.alias = nextAlias(cur.devices.channels, "channel");
            what = "channel " + ch.info.alias;
            auto port = qemu::detail::serialPortAddress(ch.info).value_or(qemu::detail::PortAddr {});
            std::string vs = "virtio-serial" + std::to_string(port.controller);
            for (const auto& c : cur.devices.controllers)
                if (c.type == "virtio-serial" && c.index.value_or(0) == port.controller && !c.info.alias.empty())
                    vs = c.info.alias;
            json::Value reply = mon->execute(
                "chardev-add", json::Object {{"id", "char" + ch.info.alias}, {"backend", chardevBackend(ch, "")}});
            undo.emplace_back("chardev-remove", json::Object {{"id", "char" + ch.info.alias}});
            if (std::string pty = reply.str("pty"); !pty.empty()) {
                if (ch.sources.empty())
                    ch.sources.emplace_back();
                ch.sources[0].path = pty;
            }
            qemu::detail::Opts o("virtserialport");
            o.add("bus", vs + "." + std::to_string(port.bus)).add("nr", port.port);
            o.add("chardev", "char" + ch.info.alias).add("id", ch.info.alias).addIf("name", ch.targetName);
            argv = {"-device", o.str()};
            added = ch;
        }
        for (size_t i = 0; i + 1 < argv.size(); i += 2) {
            const std::string& opt = argv[i];
            if (opt == "-blockdev") {
                json::Value node = json::parse(argv[i + 1]);
                mon->execute("blockdev-add", node);
                undo.emplace_back("blockdev-del", json::Object {{"node-name", node.str("node-name")}});
            } else if (opt == "-netdev") {
                json::Value nd = optsToJson(argv[i + 1], "type");
                mon->execute("netdev_add", nd);
                undo.emplace_back("netdev_del", json::Object {{"id", nd.str("id")}});
            } else if (opt == "-device") {
                mon->execute("device_add", optsToJson(argv[i + 1], "driver"));
            } else {
                throw err::internal("cannot hotplug option " + opt);
            }
        }
    } catch (const std::exception& e) {
        for (auto it = undo.rbegin(); it != undo.rend(); ++it)
            qemu::hotplugQuietly(*mon, it->first, it->second);
        qemu::hotplugFailed(what.empty() ? "the device" : what, e);
    }
    std::string alias = *std::visit(
        [](const auto& x) -> const std::string* {
            if constexpr (requires { x.info.alias; })
                return &x.info.alias;
            else
                return nullptr;
        },
        added);
    {
        std::lock_guard lock(mu_);
        if (d->live)
            xml::addDevice(*d->live, std::move(added));
    }
    writeStatus(*d);
    std::lock_guard lock(mu_);
    emitSignal(*d, sig::DeviceAdded {alias});
}

void QemuDriver::finishUnplug(const DomPtr& d, const std::string& alias)
{
    std::shared_ptr<qemu::Monitor> mon;
    std::optional<xml::DeviceDef> gone;
    std::string node;
    {
        std::lock_guard lock(mu_);
        if (!d->active() || !d->live)
            return;
        mon = d->mon;
        auto& dev = d->live->devices;
        auto take = [&](auto& list) {
            for (auto it = list.begin(); it != list.end(); ++it)
                if (it->info.alias == alias) {
                    gone = xml::DeviceDef(*it);
                    list.erase(it);
                    return;
                }
        };
        take(dev.disks);
        take(dev.interfaces);
        take(dev.channels);
        if (auto it = d->unplugNodes.find(alias); it != d->unplugNodes.end()) {
            node = it->second;
            d->unplugNodes.erase(it);
        }
    }
    if (!gone)
        return;
    if (std::holds_alternative<xml::DiskDef>(*gone))
        qemu::hotplugDeleteNodes(*mon, node);
    else if (std::holds_alternative<xml::InterfaceDef>(*gone))
        qemu::hotplugQuietly(*mon, "netdev_del", json::Object {{"id", "host" + alias}});
    else
        qemu::hotplugQuietly(*mon, "chardev-remove", json::Object {{"id", "char" + alias}});
    writeStatus(*d);
    std::lock_guard lock(mu_);
    emitSignal(*d, sig::DeviceRemoved {alias});
}

} // namespace virtbus
