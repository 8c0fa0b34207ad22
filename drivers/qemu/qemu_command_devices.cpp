// The devices part of the argv: -blockdev/-device, -netdev, -chardev,
// -object and friends, in libvirt's order of device kinds. Addresses and
// aliases come from assignAddresses; nothing here decides placement.
#include "qemu/qemu_command_priv.h"
#include "qemu/qemu_internal.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace virtbus::qemu::detail {

namespace {

bool isBlockDevice(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

std::string preservedAttr(const xml::Preserved& p, std::string_view name)
{
    for (const auto& [k, v] : p.attrs)
        if (k == name)
            return v;
    return {};
}

struct Builder {
    Argv& argv;
    const xml::DomainDef& def;
    const CommandContext& ctx;
    const BootIndexes& boot;
    bool q35;

    void add(std::string opt, std::string value)
    {
        argv.push_back(std::move(opt));
        argv.push_back(std::move(value));
    }

    // The QEMU id of PCI bus `n`: the alias of the controller with index n.
    std::string pciBus(unsigned n) const
    {
        for (const auto& c : def.devices.controllers)
            if (c.type == "pci" && c.index == n && !c.info.alias.empty())
                return c.info.alias;
        return n == 0 ? (q35 ? "pcie.0" : "pci.0") : "pci." + std::to_string(n);
    }
    std::string controllerAlias(std::string_view type, unsigned index) const
    {
        for (const auto& c : def.devices.controllers)
            if (c.type == type && c.index == index && !c.info.alias.empty())
                return c.info.alias;
        return std::string(type) + std::to_string(index);
    }
    void pciOpts(Opts& o, const xml::DeviceInfo& info) const
    {
        if (auto a = pciAddress(info)) {
            o.add("bus", pciBus(a->bus));
            if (a->multifunction)
                o.add("multifunction", "on");
            o.add("addr", qemuAddr(*a));
        }
    }
    void usbOpts(Opts& o, const xml::DeviceInfo& info) const
    {
        if (auto a = usbAddress(info)) {
            o.add("bus", controllerAlias("usb", a->bus) + ".0");
            o.add("port", a->port);
        }
    }
    void bootOpt(Opts& o, const xml::DeviceInfo& info, const char* key = "bootindex") const
    {
        if (auto it = boot.find(&info); it != boot.end())
            o.add(key, it->second);
    }

    void controllers();
    void disks();
    void disk(const xml::DiskDef& d, const std::string& node);
    void nets();
    void net(const xml::InterfaceDef& n, const std::string& tapFd);
    void chardevs();
    void inputsAndGraphics();
    void videosAndSounds();
    void watchdogsHostdevsBalloonRng();
};

void Builder::controllers()
{
    static const char* order[] = {"pci", "usb", "scsi", "ide", "sata", "fdc", "virtio-serial"};
    for (const char* type : order) {
        std::vector<const xml::ControllerDef*> list;
        for (const auto& c : def.devices.controllers)
            if (c.type == type)
                list.push_back(&c);
        std::sort(list.begin(), list.end(),
                  [](auto* a, auto* b) { return a->index.value_or(0) < b->index.value_or(0); });
        for (const auto* c : list) {
            std::string qdev = controllerDeviceName(*c, q35);
            if (qdev.empty())
                continue;
            Opts o(qdev);
            const std::string target = [&] {
                for (const auto& x : c->extra.children)
                    if (rawElementName(x) == "target")
                        return x;
                return std::string();
            }();
            if (qdev == "pcie-root-port") {
                auto a = pciAddress(c->info);
                unsigned fallback = a ? (a->slot << 3 | a->function) : 0;
                std::string port = rawAttr(target, "port"), chassis = rawAttr(target, "chassis");
                o.add("port", port.empty() ? std::to_string(fallback) : port);
                o.add("chassis", chassis.empty() ? std::to_string(c->index.value_or(0)) : chassis);
            }
            std::string ports = preservedAttr(c->extra, "ports");
            if ((qdev == "qemu-xhci" || qdev == "nec-usb-xhci") && !ports.empty())
                o.add("p2", ports).add("p3", ports);
            if (qdev == "virtio-serial-pci" && !ports.empty())
                o.add("max_ports", ports);
            o.add("id", c->info.alias);
            pciOpts(o, c->info);
            add("-device", o.str());
        }
    }
}

std::string cacheJson(const std::string& cache)
{
    if (cache.empty() || cache == "default")
        return {};
    bool direct = cache == "none" || cache == "directsync";
    bool noFlush = cache == "unsafe";
    return std::string(",\"cache\":{\"direct\":") + (direct ? "true" : "false") +
           ",\"no-flush\":" + (noFlush ? "true" : "false") + "}";
}

} // namespace

std::vector<std::string> diskBlockdevs(const xml::DiskDef& d, const std::string& node)
{
    const bool cdrom = d.device == "cdrom";
    const std::string cache = cacheJson(d.driverCache);
    // A volume disk is the file or device its pool resolved it to.
    bool block = d.type == "block" || (d.type == "volume" && isBlockDevice(d.path));
    std::string driver = block ? (cdrom ? "host_cdrom" : "host_device") : "file";
    std::string storage = "{\"driver\":" + jsonString(driver) + ",\"filename\":" + jsonString(d.path);
    if (!d.driverIo.empty() && d.driverIo != "default")
        storage += ",\"aio\":" + jsonString(d.driverIo);
    storage += ",\"node-name\":\"" + node + "-storage\"" + cache + ",\"auto-read-only\":true,\"discard\":\"unmap\"}";
    std::string format = d.driverType.empty() ? "raw" : d.driverType;
    std::string fmt = "{\"node-name\":\"" + node + "-format\",\"read-only\":" +
                      (d.readonly || cdrom ? "true" : "false") + cache + ",\"driver\":" + jsonString(format) +
                      ",\"file\":\"" + node + "-storage\"}";
    return {storage, fmt};
}

namespace {

void Builder::disks()
{
    const auto& disks = def.devices.disks;
    // libvirt numbers storage nodes from the last disk up.
    for (size_t i = 0; i < disks.size(); ++i)
        disk(disks[i], "libvirt-" + std::to_string(disks.size() - i));
}

void Builder::disk(const xml::DiskDef& d, const std::string& node)
{
    const bool cdrom = d.device == "cdrom";
    const bool empty = !d.hasSource || d.path.empty();
    if (!empty)
        for (auto& json : diskBlockdevs(d, node))
            add("-blockdev", std::move(json));
    const std::string cache = cacheJson(d.driverCache);
    const std::string& bus = d.targetBus;
    auto drive = driveAddress(d.info).value_or(DriveAddr{});
    std::string qdev;
    if (bus == "virtio")
        qdev = "virtio-blk-pci";
    else if (bus == "ide" || bus == "sata")
        qdev = cdrom ? "ide-cd" : "ide-hd";
    else if (bus == "scsi")
        qdev = cdrom ? "scsi-cd" : "scsi-hd";
    else if (bus == "usb")
        qdev = "usb-storage";
    else
        qdev = "floppy";
    Opts o(qdev);
    if (std::string io = preservedAttr(d.driverExtra, "iothread"); bus == "virtio" && !io.empty())
        o.add("iothread", "iothread" + io);
    if (bus == "virtio") {
        pciOpts(o, d.info);
    } else if (bus == "ide") {
        o.add("bus", "ide." + std::to_string(drive.bus)).add("unit", drive.unit);
    } else if (bus == "sata") {
        o.add("bus", controllerAlias("sata", drive.controller) + "." + std::to_string(drive.unit));
    } else if (bus == "scsi") {
        o.add("bus", controllerAlias("scsi", drive.controller) + ".0");
        if (scsiModel(def, drive.controller) == "lsilogic")
            o.add("scsi-id", drive.unit);
        else
            o.add("channel", 0u).add("scsi-id", drive.target).add("lun", drive.unit);
        if (!cdrom)
            o.add("device_id", "drive-" + d.info.alias);
    } else if (bus == "usb") {
        usbOpts(o, d.info);
    } else {
        o.add("unit", drive.unit);
    }
    if (!empty)
        o.add("drive", node + "-format");
    o.add("id", d.info.alias);
    if (bus != "fdc")
        bootOpt(o, d.info);
    if (bus == "usb")
        o.add("removable", cdrom ? "on" : "off");
    if (!cache.empty() && bus != "fdc")
        o.add("write-cache", d.driverCache == "writethrough" || d.driverCache == "directsync" ? "off" : "on");
    if (!d.serial.empty())
        o.add("serial", d.serial);
    add("-device", o.str());
    if (auto it = boot.find(&d.info); bus == "fdc" && it != boot.end())
        add("-global", std::string("isa-fdc.bootindex") + (drive.unit ? "B" : "A") + "=" +
                           std::to_string(it->second));
}

void Builder::nets()
{
    const auto& nets = def.devices.interfaces;
    for (size_t i = 0; i < nets.size(); ++i) {
        const xml::InterfaceDef& n = nets[i];
        auto fd = ctx.tapFds.find(i);
        if (n.type != "user" && fd == ctx.tapFds.end())
            throw err::internal("no tap device was prepared for interface " + std::to_string(i) + " ('" +
                                n.info.alias + "')");
        net(n, n.type == "user" ? std::string() : std::to_string(fd->second));
    }
}

void Builder::net(const xml::InterfaceDef& n, const std::string& tapFd)
{
    const std::string netdev = "host" + n.info.alias;
    if (n.type == "user")
        add("-netdev", Opts("user").add("id", netdev).str());
    else
        add("-netdev", Opts("tap").add("fd", tapFd).add("id", netdev).str());
    Opts o(netDeviceName(n));
    o.add("netdev", netdev).add("id", n.info.alias).addIf("mac", n.mac);
    pciOpts(o, n.info);
    bootOpt(o, n.info);
    add("-device", o.str());
}

// `listenFd`: a unix socket in bind mode that virtbusd bound, else -1.
std::string chardevBackend(const xml::ChardevDef& ch, const std::string& id, bool parallel, int listenFd)
{
    static const xml::ChardevSource none;
    const xml::ChardevSource& s = ch.sources.empty() ? none : ch.sources[0];
    const std::string& t = ch.type;
    if (t == "pty" || t == "null")
        return Opts(t).add("id", id).str();
    if (t == "file") {
        Opts o("file");
        o.add("id", id).add("path", s.path);
        if (preservedAttr(s.extra, "append") == "on")
            o.add("append", "on");
        return o.str();
    }
    if (t == "pipe")
        return Opts("pipe").add("id", id).add("path", s.path).str();
    if (t == "dev")
        return Opts(parallel ? "parport" : "tty").add("id", id).add("path", s.path).str();
    if (t == "udp") {
        Opts o("udp");
        o.add("id", id);
        for (const auto& src : ch.sources)
            if (src.mode != "bind")
                o.addIf("host", src.host).addIf("port", src.service);
        for (const auto& src : ch.sources)
            if (src.mode == "bind")
                o.addIf("localaddr", src.host).addIf("localport", src.service);
        return o.str();
    }
    Opts o("socket"); // unix, tcp
    o.add("id", id);
    if (t == "unix" && listenFd >= 0)
        o.add("fd", std::to_string(listenFd));
    else if (t == "unix")
        o.add("path", s.path);
    else
        o.add("host", s.host).add("port", s.service);
    if (t == "tcp" && ch.protocol == "telnet")
        o.add("telnet", "on");
    if (s.mode == "bind")
        o.add("server", "on").add("wait", "off");
    return o.str();
}

void Builder::chardevs()
{
    const auto& dev = def.devices;
    auto backend = [&](const xml::ChardevDef& ch, bool parallel) {
        const std::string id = "char" + ch.info.alias;
        auto fd = ctx.chardevFds.find(id);
        std::string b = chardevBackend(ch, id, parallel, fd == ctx.chardevFds.end() ? -1 : fd->second);
        // <log file= append=/>: QEMU copies what the guest writes there too.
        if (auto log = chardevLog(ch); !log.file.empty())
            b += "," + Opts("").add("logfile", log.file).add("logappend", log.append ? "on" : "off").str();
        return b;
    };
    for (const auto& s : dev.serials) {
        add("-chardev", backend(s, false));
        add("-device", Opts("isa-serial")
                           .add("chardev", "char" + s.info.alias)
                           .add("id", s.info.alias)
                           .add("index", s.targetPort.value_or(0))
                           .str());
    }
    for (const auto& p : dev.parallels) {
        add("-chardev", backend(p, true));
        add("-device", Opts("isa-parallel")
                           .add("chardev", "char" + p.info.alias)
                           .add("id", p.info.alias)
                           .add("index", p.targetPort.value_or(0))
                           .str());
    }
    auto virtioPort = [&](const xml::ChardevDef& ch, const char* qdev) {
        add("-chardev", backend(ch, false));
        Opts o(qdev);
        if (auto a = serialPortAddress(ch.info))
            o.add("bus", controllerAlias("virtio-serial", a->controller) + "." + std::to_string(a->bus))
                .add("nr", a->port);
        o.add("chardev", "char" + ch.info.alias).add("id", ch.info.alias).addIf("name", ch.targetName);
        add("-device", o.str());
    };
    for (const auto& ch : dev.channels) {
        if (ch.type != "unix" || (!ch.sources.empty() && !ch.sources[0].path.empty())) {
            virtioPort(ch, "virtserialport");
            continue;
        }
        // libvirt's generated socket, here in the QMP socket's directory.
        size_t slash = ctx.qmpSocket.rfind('/');
        if (slash == std::string::npos)
            throw err::internal("no directory for the socket of channel '" + ch.info.alias + "'");
        xml::ChardevDef filled = ch;
        if (filled.sources.empty())
            filled.sources.emplace_back();
        filled.sources[0].path = channelSocketPath(def, ch, ctx.qmpSocket.substr(0, slash));
        if (filled.sources[0].mode.empty())
            filled.sources[0].mode = "bind";
        virtioPort(filled, "virtserialport");
    }
    for (const auto& con : dev.consoles)
        if (con.targetType == "virtio")
            virtioPort(con, "virtconsole");
}

void Builder::inputsAndGraphics()
{
    for (const auto& in : def.devices.inputs) {
        std::string qdev = inputDeviceName(in);
        if (qdev.empty())
            continue; // ps2: part of the machine
        Opts o(qdev);
        o.add("id", in.info.alias);
        if (inputBus(in) == "usb")
            usbOpts(o, in.info);
        else
            pciOpts(o, in.info);
        add("-device", o.str());
    }
    if (!def.devices.sounds.empty())
        add("-audiodev", "none,id=audio1");
    for (const auto& g : def.devices.graphics) {
        const xml::GraphicsListen* l = g.listens.empty() ? nullptr : &g.listens[0];
        std::string vnc;
        if (l && l->type == "none") {
            vnc = "none";
        } else if (l && l->type == "socket") {
            vnc = "unix:" + escapeOpt(l->socket);
        } else {
            if (!g.port || *g.port < 5900)
                throw err::internal("the VNC port of domain '" + def.name + "' was not allocated");
            std::string host = l && !l->address.empty() ? l->address : !g.listen.empty() ? g.listen
                                                                                        : ctx.vncListenDefault;
            if (host.find(':') != std::string::npos)
                host = "[" + host + "]";
            vnc = escapeOpt(host) + ":" + std::to_string(*g.port - 5900);
        }
        if (!g.passwd.empty())
            vnc += ",password=on"; // the secret itself goes over QMP
        add("-vnc", vnc);
        if (!g.keymap.empty())
            add("-k", g.keymap);
    }
}

void Builder::videosAndSounds()
{
    const auto& videos = def.devices.videos;
    for (size_t i = 0; i < videos.size(); ++i) {
        const xml::VideoDef& v = videos[i];
        std::string qdev = videoDeviceName(v, i == 0);
        if (qdev.empty())
            continue;
        Opts o(qdev);
        o.add("id", v.info.alias);
        if (v.model == "qxl" || v.model == "virtio")
            o.add("max_outputs", v.heads.value_or(1));
        if (v.model == "qxl" && v.vram)
            o.add("vram_size", std::to_string(uint64_t(*v.vram) * 1024));
        if (v.model == "vga" && v.vram)
            o.add("vgamem_mb", *v.vram / 1024);
        if (v.model == "bochs" && v.vram)
            o.add("vgamem", std::to_string(*v.vram) + "k");
        pciOpts(o, v.info);
        add("-device", o.str());
    }
    for (const auto& s : def.devices.sounds) {
        std::string qdev = soundDeviceName(s);
        Opts o(qdev);
        o.add("id", s.info.alias);
        if (qdev == "AC97")
            o.add("audiodev", "audio1");
        pciOpts(o, s.info);
        add("-device", o.str());
        if (qdev != "AC97") // the HDA controller needs a codec to be heard
            add("-device", Opts("hda-duplex")
                               .add("id", s.info.alias + "-codec0")
                               .add("bus", s.info.alias + ".0")
                               .add("cad", 0u)
                               .add("audiodev", "audio1")
                               .str());
    }
}

unsigned long number(const std::string& v)
{
    return std::strtoul(v.c_str(), nullptr, 0);
}

void Builder::watchdogsHostdevsBalloonRng()
{
    const auto& dev = def.devices;
    for (const auto& w : dev.watchdogs) {
        if (w.model == "itco") {
            add("-global", "ICH9-LPC.noreboot=off");
            continue;
        }
        Opts o(w.model);
        o.add("id", w.info.alias);
        pciOpts(o, w.info);
        add("-device", o.str());
    }
    if (!dev.watchdogs.empty())
        add("-watchdog-action", dev.watchdogs[0].action.empty() ? "reset" : dev.watchdogs[0].action);

    for (const auto& h : dev.hostdevs) {
        Opts o(h.type == "pci" ? "vfio-pci" : "usb-host");
        char buf[32];
        if (h.type == "pci") {
            std::snprintf(buf, sizeof buf, "%04lx:%02lx:%02lx.%lx", number(h.pciDomain), number(h.pciBus),
                          number(h.pciSlot), number(h.pciFunction));
            o.add("host", buf).add("id", h.info.alias);
            pciOpts(o, h.info);
        } else {
            if (!h.usbBus.empty())
                o.add("hostbus", std::to_string(number(h.usbBus)))
                    .add("hostaddr", std::to_string(number(h.usbDevice)));
            if (!h.usbVendor.empty()) {
                std::snprintf(buf, sizeof buf, "0x%04lx", number(h.usbVendor));
                o.add("vendorid", buf);
                std::snprintf(buf, sizeof buf, "0x%04lx", number(h.usbProduct));
                o.add("productid", buf);
            }
            o.add("id", h.info.alias);
            usbOpts(o, h.info);
        }
        bootOpt(o, h.info);
        add("-device", o.str());
    }

    if (dev.memballoon && dev.memballoon->model == "virtio") {
        Opts o("virtio-balloon-pci");
        o.add("id", dev.memballoon->info.alias);
        pciOpts(o, dev.memballoon->info);
        add("-device", o.str());
    }

    for (const auto& r : dev.rngs) {
        const std::string obj = "obj" + r.info.alias;
        if (r.backendModel == "builtin")
            add("-object", Opts("rng-builtin").add("id", obj).str());
        else
            add("-object", Opts("rng-random")
                               .add("id", obj)
                               .add("filename", r.backendPath.empty() ? "/dev/urandom" : r.backendPath)
                               .str());
        Opts o("virtio-rng-pci");
        o.add("rng", obj);
        for (const auto& x : r.extra.children) {
            if (rawElementName(x) != "rate")
                continue;
            o.addIf("max-bytes", rawAttr(x, "bytes"));
            o.add("period", rawAttr(x, "period").empty() ? "1000" : rawAttr(x, "period"));
        }
        o.add("id", r.info.alias);
        pciOpts(o, r.info);
        add("-device", o.str());
    }
}

} // namespace

void appendDeviceArgs(Argv& argv, const xml::DomainDef& def, const CommandContext& ctx, const BootIndexes& boot,
                      bool q35)
{
    Builder b{argv, def, ctx, boot, q35};
    b.controllers();
    b.disks();
    b.nets();
    b.chardevs();
    b.inputsAndGraphics();
    b.videosAndSounds();
    b.watchdogsHostdevsBalloonRng();
}

Argv diskArgv(const xml::DomainDef& def, const xml::DiskDef& d, const std::string& node, bool q35)
{
    Argv argv;
    CommandContext ctx;
    BootIndexes boot;
    if (d.info.bootOrder)
        boot[&d.info] = *d.info.bootOrder;
    Builder b{argv, def, ctx, boot, q35};
    b.disk(d, node);
    return argv;
}

Argv netArgv(const xml::DomainDef& def, const xml::InterfaceDef& n, const std::string& tapFd, bool q35)
{
    Argv argv;
    CommandContext ctx;
    BootIndexes boot;
    if (n.info.bootOrder)
        boot[&n.info] = *n.info.bootOrder;
    Builder b{argv, def, ctx, boot, q35};
    b.net(n, tapFd);
    return argv;
}

} // namespace virtbus::qemu::detail
