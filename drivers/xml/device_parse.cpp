// <devices> children -> structures. Each parser takes what the model names
// and leaves everything else, in order, in the device's Preserved records.
#include "xml/domain_internal.h"

namespace virtbus::xml::detail {

Preserved preservedOf(const xmlNode* n, std::initializer_list<std::string_view> known)
{
    Preserved p;
    p.attrs = otherAttrs(n, known);
    for (const xmlNode* c : elementChildren(n))
        p.children.push_back(rawXml(c));
    return p;
}

namespace {

// <alias>, <address> and <boot> may appear in any device.
bool parseInfo(const xmlNode* c, const std::string& name, DeviceInfo& info, unsigned flags)
{
    if (name == "alias") {
        std::string alias = attrOr(c, "name");
        // User aliases ("ua-") are configuration; the others are runtime.
        if (!(flags & PARSE_INACTIVE) || alias.starts_with("ua-"))
            info.alias = alias;
        return true;
    }
    if (name == "address") {
        info.address = rawXml(c);
        return true;
    }
    if (name == "boot") {
        unsigned order = parseUInt(attrOr(c, "order"), "<boot order>");
        if (order == 0)
            throw invalidValue("0", "<boot order>");
        info.bootOrder = order;
        info.bootLoadparm = attrOr(c, "loadparm");
        return true;
    }
    return false;
}

std::string requireAttr(const xmlNode* n, const char* name)
{
    auto v = attr(n, name);
    if (!v || v->empty())
        throw err::xml("missing " + std::string(name) + " attribute in <" + elemName(n) + ">");
    return *v;
}

// Calls `take(child, name)` for each child element; the ones it declines
// (returns false) that are not device info go to `extra`.
template <typename F>
void eachChild(const xmlNode* n, DeviceInfo& info, Preserved& extra, unsigned flags, F take)
{
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (!take(c, name) && !parseInfo(c, name, info, flags))
            extra.children.push_back(rawXml(c));
    }
}

const char* diskPathAttr(const std::string& type)
{
    if (type == "block")
        return "dev";
    if (type == "dir")
        return "dir";
    return "file";
}

DiskDef parseDisk(const xmlNode* n, unsigned flags)
{
    DiskDef d;
    d.type = attrOr(n, "type", "file");
    checkEnum(d.type, {"file", "block", "dir", "network", "volume", "nvme", "vhostuser"},
              "<disk type>");
    d.device = attrOr(n, "device", "disk");
    checkEnum(d.device, {"disk", "cdrom", "floppy", "lun"}, "<disk device>");
    d.extra.attrs = otherAttrs(n, {"type", "device"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name == "driver") {
            d.driverName = attrOr(c, "name");
            d.driverType = attrOr(c, "type");
            d.driverCache = attrOr(c, "cache");
            d.driverIo = attrOr(c, "io");
            d.driverExtra = preservedOf(c, {"name", "type", "cache", "io"});
        } else if (name == "source") {
            d.hasSource = true;
            if (d.type == "volume") {
                d.pool = attrOr(c, "pool");
                d.volume = attrOr(c, "volume");
                d.volumeMode = attrOr(c, "mode");
                d.sourceExtra.attrs = otherAttrs(c, {"pool", "volume", "mode"});
            } else if (d.type == "network") {
                d.protocol = attrOr(c, "protocol");
                d.sourceName = attrOr(c, "name");
                d.sourceExtra.attrs = otherAttrs(c, {"protocol", "name"});
            } else {
                d.path = attrOr(c, diskPathAttr(d.type));
                d.sourceExtra.attrs = otherAttrs(c, {diskPathAttr(d.type)});
            }
            for (const xmlNode* h : elementChildren(c)) {
                if (elemName(h) == "host" && !h->children &&
                    otherAttrs(h, {"name", "port", "transport", "socket"}).empty())
                    d.hosts.push_back({attrOr(h, "name"), attrOr(h, "port"), attrOr(h, "transport"),
                                       attrOr(h, "socket")});
                else
                    d.sourceExtra.children.push_back(rawXml(h));
            }
        } else if (name == "target") {
            d.targetDev = attrOr(c, "dev");
            d.targetBus = attrOr(c, "bus");
            d.targetExtra = preservedOf(c, {"dev", "bus"});
        } else if (name == "readonly") {
            d.readonly = true;
        } else if (name == "shareable") {
            d.shareable = true;
        } else if (name == "serial") {
            d.serial = textOf(c);
        } else if (name == "backingStore") {
            d.backingStore = rawXml(c);
        } else if (name == "iotune") {
            for (const xmlNode* t : elementChildren(c)) {
                std::string tn = elemName(t);
                if (tn.find_first_of(":{") != std::string::npos || t->properties)
                    throw err::xml("unsupported element <" + tn + "> in <iotune>");
                d.iotune.emplace_back(tn, textOf(t));
            }
        } else {
            return false;
        }
        return true;
    });
    if (d.targetDev.empty())
        throw err::xml("missing <target dev=...> in <disk>");
    return d;
}

ControllerDef parseController(const xmlNode* n, unsigned flags)
{
    ControllerDef d;
    d.type = requireAttr(n, "type");
    if (auto idx = attr(n, "index"))
        d.index = parseUInt(*idx, "<controller index>");
    d.model = attrOr(n, "model");
    d.extra.attrs = otherAttrs(n, {"type", "index", "model"});
    eachChild(n, d.info, d.extra, flags, [](const xmlNode*, const std::string&) { return false; });
    return d;
}

const char* fsSourceAttr(const std::string& type)
{
    if (type == "block")
        return "dev";
    if (type == "file")
        return "file";
    if (type == "template")
        return "name";
    if (type == "ram")
        return "usage";
    if (type == "volume")
        return "volume";
    return "dir";
}

FilesystemDef parseFilesystem(const xmlNode* n, unsigned flags)
{
    FilesystemDef d;
    d.type = attrOr(n, "type", "mount");
    checkEnum(d.type, {"mount", "block", "file", "template", "ram", "bind", "volume"},
              "<filesystem type>");
    d.accessmode = attrOr(n, "accessmode");
    d.extra.attrs = otherAttrs(n, {"type", "accessmode"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name == "driver") {
            d.driverType = attrOr(c, "type");
            d.driverExtra = preservedOf(c, {"type"});
        } else if (name == "source") {
            d.source = attrOr(c, fsSourceAttr(d.type));
            d.sourceExtra = preservedOf(c, {fsSourceAttr(d.type)});
        } else if (name == "target" && !c->children && otherAttrs(c, {"dir"}).empty()) {
            d.target = attrOr(c, "dir");
        } else if (name == "readonly") {
            d.readonly = true;
        } else {
            return false;
        }
        return true;
    });
    if (d.target.empty())
        throw err::xml("missing <target dir=...> in <filesystem>");
    return d;
}

InterfaceDef parseInterface(const xmlNode* n, unsigned flags)
{
    InterfaceDef d;
    d.type = requireAttr(n, "type");
    d.extra.attrs = otherAttrs(n, {"type"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name == "mac") {
            std::string mac = attrOr(c, "address");
            if (!isValidMAC(mac))
                throw invalidValue(mac, "<mac address>");
            d.mac = normalizeMAC(mac);
            if (std::stoi(d.mac.substr(0, 2), nullptr, 16) & 1)
                throw err::xml("expected unicast mac address, found multicast '" + d.mac + "'");
            d.macExtra = preservedOf(c, {"address"});
        } else if (name == "source") {
            d.sourceNetwork = attrOr(c, "network");
            d.sourceBridge = attrOr(c, "bridge");
            d.sourceDev = attrOr(c, "dev");
            d.sourceMode = attrOr(c, "mode");
            d.sourcePortgroup = attrOr(c, "portgroup");
            d.sourceExtra = preservedOf(c, {"network", "bridge", "dev", "mode", "portgroup"});
        } else if (name == "model" && !c->children && otherAttrs(c, {"type"}).empty()) {
            d.model = requireAttr(c, "type");
        } else if (name == "target") {
            d.targetDev = attrOr(c, "dev");
            d.targetExtra = preservedOf(c, {"dev"});
        } else if (name == "link" && !c->children && otherAttrs(c, {"state"}).empty()) {
            d.linkState = attrOr(c, "state");
            checkEnum(d.linkState, {"up", "down"}, "<link state>");
        } else {
            return false;
        }
        return true;
    });
    return d;
}

InputDef parseInput(const xmlNode* n, unsigned flags)
{
    InputDef d;
    d.type = requireAttr(n, "type");
    d.bus = attrOr(n, "bus");
    d.extra.attrs = otherAttrs(n, {"type", "bus"});
    eachChild(n, d.info, d.extra, flags, [](const xmlNode*, const std::string&) { return false; });
    return d;
}

GraphicsDef parseGraphics(const xmlNode* n, unsigned flags)
{
    GraphicsDef d;
    d.type = requireAttr(n, "type");
    if (auto v = attr(n, "port"))
        d.port = parseInt(*v, "<graphics port>");
    if (auto v = attr(n, "tlsPort"))
        d.tlsPort = parseInt(*v, "<graphics tlsPort>");
    if (auto v = attr(n, "autoport"))
        d.autoport = parseYesNo(*v, "<graphics autoport>");
    if ((flags & PARSE_INACTIVE) && d.autoport.value_or(false)) {
        d.port.reset();
        d.tlsPort.reset();
    }
    d.listen = attrOr(n, "listen");
    d.passwd = attrOr(n, "passwd");
    d.keymap = attrOr(n, "keymap");
    d.extra.attrs = otherAttrs(n, {"type", "port", "tlsPort", "autoport", "listen", "passwd", "keymap"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name != "listen")
            return false;
        GraphicsListen l;
        l.type = attrOr(c, "type");
        l.address = attrOr(c, "address");
        l.network = attrOr(c, "network");
        l.socket = attrOr(c, "socket");
        l.extra = preservedOf(c, {"type", "address", "network", "socket"});
        d.listens.push_back(std::move(l));
        return true;
    });
    return d;
}

VideoDef parseVideo(const xmlNode* n, unsigned flags)
{
    VideoDef d;
    d.extra.attrs = otherAttrs(n, {});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name != "model")
            return false;
        d.model = requireAttr(c, "type");
        if (auto v = attr(c, "vram"))
            d.vram = parseUInt(*v, "<video model vram>");
        if (auto v = attr(c, "heads"))
            d.heads = parseUInt(*v, "<video model heads>");
        if (auto v = attr(c, "primary"))
            d.primary = parseYesNo(*v, "<video model primary>");
        d.modelExtra = preservedOf(c, {"type", "vram", "heads", "primary"});
        return true;
    });
    if (d.model.empty())
        throw err::xml("missing <model type=...> in <video>");
    return d;
}

ChardevDef parseChardev(const xmlNode* n, ChardevKind kind, unsigned flags)
{
    ChardevDef d;
    d.kind = kind;
    d.type = attrOr(n, "type", "pty");
    d.extra.attrs = otherAttrs(n, {"type"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name == "source") {
            ChardevSource s;
            s.mode = attrOr(c, "mode");
            s.path = attrOr(c, "path");
            s.host = attrOr(c, "host");
            s.service = attrOr(c, "service");
            s.extra = preservedOf(c, {"mode", "path", "host", "service"});
            d.sources.push_back(std::move(s));
        } else if (name == "protocol" && !c->children && otherAttrs(c, {"type"}).empty()) {
            d.protocol = attrOr(c, "type");
        } else if (name == "target") {
            d.targetType = attrOr(c, "type");
            if (auto v = attr(c, "port"))
                d.targetPort = parseUInt(*v, "<target port>");
            d.targetName = attrOr(c, "name");
            d.targetExtra = preservedOf(c, {"type", "port", "name"});
        } else {
            return false;
        }
        return true;
    });
    return d;
}

HostdevDef parseHostdev(const xmlNode* n, unsigned flags)
{
    HostdevDef d;
    d.mode = attrOr(n, "mode", "subsystem");
    d.type = requireAttr(n, "type");
    if (auto v = attr(n, "managed"))
        d.managed = parseYesNo(*v, "<hostdev managed>");
    d.extra.attrs = otherAttrs(n, {"mode", "type", "managed"});
    const bool pci = d.mode == "subsystem" && d.type == "pci";
    const bool usb = d.mode == "subsystem" && d.type == "usb";
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name != "source")
            return false;
        d.sourceExtra.attrs = otherAttrs(c, {});
        for (const xmlNode* s : elementChildren(c)) {
            std::string sn = elemName(s);
            bool plain = !s->children;
            if (plain && pci && sn == "address" &&
                otherAttrs(s, {"domain", "bus", "slot", "function"}).empty()) {
                d.pciDomain = attrOr(s, "domain");
                d.pciBus = attrOr(s, "bus");
                d.pciSlot = attrOr(s, "slot");
                d.pciFunction = attrOr(s, "function");
            } else if (plain && usb && sn == "address" && otherAttrs(s, {"bus", "device"}).empty()) {
                d.usbBus = attrOr(s, "bus");
                d.usbDevice = attrOr(s, "device");
            } else if (plain && usb && sn == "vendor" && otherAttrs(s, {"id"}).empty()) {
                d.usbVendor = attrOr(s, "id");
            } else if (plain && usb && sn == "product" && otherAttrs(s, {"id"}).empty()) {
                d.usbProduct = attrOr(s, "id");
            } else {
                d.sourceExtra.children.push_back(rawXml(s));
            }
        }
        return true;
    });
    return d;
}

MemballoonDef parseMemballoon(const xmlNode* n, unsigned flags)
{
    MemballoonDef d;
    d.model = requireAttr(n, "model");
    d.extra.attrs = otherAttrs(n, {"model"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name != "stats" || c->children || !otherAttrs(c, {"period"}).empty())
            return false;
        d.statsPeriod = parseUInt(attrOr(c, "period"), "<stats period>");
        return true;
    });
    return d;
}

RngDef parseRng(const xmlNode* n, unsigned flags)
{
    RngDef d;
    d.model = requireAttr(n, "model");
    d.extra.attrs = otherAttrs(n, {"model"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name != "backend")
            return false;
        // One backend per device (domain.rng); like libvirt, the first
        // counts and later ones are dropped, so a round trip is stable.
        if (!d.backendModel.empty())
            return true;
        d.backendModel = requireAttr(c, "model");
        // Text or elements (egd's <source>), never both: mixed content
        // could not be written back.
        if (!xmlFirstElementChild(const_cast<xmlNode*>(c)))
            d.backendPath = textOf(c);
        d.backendExtra = preservedOf(c, {"model"});
        return true;
    });
    if (d.backendModel.empty())
        throw err::xml("missing <backend> in <rng>");
    return d;
}

WatchdogDef parseWatchdog(const xmlNode* n, unsigned flags)
{
    WatchdogDef d;
    d.model = requireAttr(n, "model");
    d.action = attrOr(n, "action");
    d.extra.attrs = otherAttrs(n, {"model", "action"});
    eachChild(n, d.info, d.extra, flags, [](const xmlNode*, const std::string&) { return false; });
    return d;
}

SoundDef parseSound(const xmlNode* n, unsigned flags)
{
    SoundDef d;
    d.model = requireAttr(n, "model");
    d.extra.attrs = otherAttrs(n, {"model"});
    eachChild(n, d.info, d.extra, flags, [](const xmlNode*, const std::string&) { return false; });
    return d;
}

TpmDef parseTpm(const xmlNode* n, unsigned flags)
{
    TpmDef d;
    d.model = attrOr(n, "model");
    d.extra.attrs = otherAttrs(n, {"model"});
    eachChild(n, d.info, d.extra, flags, [&](const xmlNode* c, const std::string& name) {
        if (name != "backend")
            return false;
        if (!d.backendType.empty())
            return true; // the first backend counts, as for <rng>
        d.backendType = requireAttr(c, "type");
        d.backendVersion = attrOr(c, "version");
        d.backendExtra.attrs = otherAttrs(c, {"type", "version"});
        for (const xmlNode* b : elementChildren(c)) {
            if (elemName(b) == "device" && !b->children && otherAttrs(b, {"path"}).empty())
                d.backendDevicePath = attrOr(b, "path");
            else
                d.backendExtra.children.push_back(rawXml(b));
        }
        return true;
    });
    if (d.backendType.empty())
        throw err::xml("missing <backend> in <tpm>");
    return d;
}

RedirdevDef parseRedirdev(const xmlNode* n, unsigned flags)
{
    RedirdevDef d;
    d.bus = attrOr(n, "bus", "usb");
    d.type = requireAttr(n, "type");
    d.extra.attrs = otherAttrs(n, {"bus", "type"});
    eachChild(n, d.info, d.extra, flags, [](const xmlNode*, const std::string&) { return false; });
    return d;
}

} // namespace

DeviceDef parseDevice(const xmlNode* n, unsigned flags)
{
    std::string name = elemName(n);
    if (name == "disk") return parseDisk(n, flags);
    if (name == "controller") return parseController(n, flags);
    if (name == "filesystem") return parseFilesystem(n, flags);
    if (name == "interface") return parseInterface(n, flags);
    if (name == "input") return parseInput(n, flags);
    if (name == "graphics") return parseGraphics(n, flags);
    if (name == "video") return parseVideo(n, flags);
    if (name == "serial") return parseChardev(n, ChardevKind::Serial, flags);
    if (name == "parallel") return parseChardev(n, ChardevKind::Parallel, flags);
    if (name == "console") return parseChardev(n, ChardevKind::Console, flags);
    if (name == "channel") return parseChardev(n, ChardevKind::Channel, flags);
    if (name == "hostdev") return parseHostdev(n, flags);
    if (name == "memballoon") return parseMemballoon(n, flags);
    if (name == "rng") return parseRng(n, flags);
    if (name == "watchdog") return parseWatchdog(n, flags);
    if (name == "sound") return parseSound(n, flags);
    if (name == "tpm") return parseTpm(n, flags);
    if (name == "redirdev") return parseRedirdev(n, flags);
    return RawDeviceDef{name, rawXml(n)};
}

} // namespace virtbus::xml::detail
