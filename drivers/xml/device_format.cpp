// Device structures -> XML, children in libvirt's order; preserved
// children follow the modeled ones, and device info comes last.
#include "xml/domain_internal.h"

#include <algorithm>

namespace virtbus::xml::detail {

void writePreservedElement(XmlWriter& w, std::string_view name, const Preserved& p)
{
    if (p.empty())
        return;
    w.open(name);
    writeAttrs(w, p);
    writeChildren(w, p);
    w.close();
}

namespace {

bool runtimeOnly(const FormatOptions& o)
{
    return o.inactive || o.migratable;
}

// Ends a device: its preserved children, then <boot>, <alias>, <address>.
void finish(XmlWriter& w, const DeviceInfo& info, const Preserved& extra, const FormatOptions& o)
{
    writeChildren(w, extra);
    if (info.bootOrder) {
        w.open("boot").attr("order", std::to_string(*info.bootOrder));
        w.attrIf("loadparm", info.bootLoadparm).close();
    }
    if (!info.alias.empty() && (!runtimeOnly(o) || info.alias.starts_with("ua-")))
        w.open("alias").attr("name", info.alias).close();
    w.raw(info.address);
    w.close();
}

void formatDisk(XmlWriter& w, const DiskDef& d, const FormatOptions& o)
{
    w.open("disk").attr("type", d.type).attr("device", d.device);
    writeAttrs(w, d.extra);
    if (!d.driverName.empty() || !d.driverType.empty() || !d.driverCache.empty() ||
        !d.driverIo.empty() || !d.driverExtra.empty()) {
        w.open("driver").attrIf("name", d.driverName).attrIf("type", d.driverType);
        w.attrIf("cache", d.driverCache).attrIf("io", d.driverIo);
        writeAttrs(w, d.driverExtra);
        writeChildren(w, d.driverExtra);
        w.close();
    }
    if (d.hasSource) {
        w.open("source");
        if (d.type == "volume") {
            w.attrIf("pool", d.pool).attrIf("volume", d.volume).attrIf("mode", d.volumeMode);
        } else if (d.type == "network") {
            w.attrIf("protocol", d.protocol).attrIf("name", d.sourceName);
        } else {
            const char* pathAttr = d.type == "block" ? "dev" : d.type == "dir" ? "dir" : "file";
            w.attrIf(pathAttr, d.path);
        }
        writeAttrs(w, d.sourceExtra);
        for (const auto& h : d.hosts) {
            w.open("host").attrIf("name", h.name).attrIf("port", h.port);
            w.attrIf("transport", h.transport).attrIf("socket", h.socket).close();
        }
        writeChildren(w, d.sourceExtra);
        w.close();
    }
    w.raw(d.backingStore);
    w.open("target").attr("dev", d.targetDev).attrIf("bus", d.targetBus);
    writeAttrs(w, d.targetExtra);
    writeChildren(w, d.targetExtra);
    w.close();
    if (!d.iotune.empty()) {
        w.open("iotune");
        for (const auto& [name, value] : d.iotune)
            w.leaf(name, value);
        w.close();
    }
    if (d.readonly)
        w.open("readonly").close();
    if (d.shareable)
        w.open("shareable").close();
    w.leafIf("serial", d.serial);
    finish(w, d.info, d.extra, o);
}

void formatController(XmlWriter& w, const ControllerDef& d, const FormatOptions& o)
{
    w.open("controller").attr("type", d.type);
    if (d.index)
        w.attr("index", std::to_string(*d.index));
    w.attrIf("model", d.model);
    writeAttrs(w, d.extra);
    finish(w, d.info, d.extra, o);
}

void formatFilesystem(XmlWriter& w, const FilesystemDef& d, const FormatOptions& o)
{
    w.open("filesystem").attr("type", d.type).attrIf("accessmode", d.accessmode);
    writeAttrs(w, d.extra);
    if (!d.driverType.empty() || !d.driverExtra.empty()) {
        w.open("driver").attrIf("type", d.driverType);
        writeAttrs(w, d.driverExtra);
        writeChildren(w, d.driverExtra);
        w.close();
    }
    if (!d.source.empty() || !d.sourceExtra.empty()) {
        static const std::pair<const char*, const char*> attrs[] = {
            {"block", "dev"}, {"file", "file"}, {"template", "name"}, {"ram", "usage"},
            {"volume", "volume"}};
        const char* name = "dir";
        for (const auto& [type, a] : attrs)
            name = d.type == type ? a : name;
        w.open("source").attrIf(name, d.source);
        writeAttrs(w, d.sourceExtra);
        writeChildren(w, d.sourceExtra);
        w.close();
    }
    w.open("target").attr("dir", d.target).close();
    if (d.readonly)
        w.open("readonly").close();
    finish(w, d.info, d.extra, o);
}

void formatInterface(XmlWriter& w, const InterfaceDef& d, const FormatOptions& o)
{
    w.open("interface").attr("type", d.type);
    writeAttrs(w, d.extra);
    if (!d.mac.empty()) {
        w.open("mac").attr("address", d.mac);
        writeAttrs(w, d.macExtra);
        writeChildren(w, d.macExtra);
        w.close();
    }
    if (!d.sourceNetwork.empty() || !d.sourceBridge.empty() || !d.sourceDev.empty() ||
        !d.sourceMode.empty() || !d.sourcePortgroup.empty() || !d.sourceExtra.empty()) {
        w.open("source").attrIf("network", d.sourceNetwork).attrIf("portgroup", d.sourcePortgroup);
        w.attrIf("bridge", d.sourceBridge).attrIf("dev", d.sourceDev).attrIf("mode", d.sourceMode);
        writeAttrs(w, d.sourceExtra);
        writeChildren(w, d.sourceExtra);
        w.close();
    }
    if (!d.targetDev.empty() || !d.targetExtra.empty()) {
        w.open("target").attrIf("dev", d.targetDev);
        writeAttrs(w, d.targetExtra);
        writeChildren(w, d.targetExtra);
        w.close();
    }
    if (!d.model.empty())
        w.open("model").attr("type", d.model).close();
    if (!d.linkState.empty())
        w.open("link").attr("state", d.linkState).close();
    finish(w, d.info, d.extra, o);
}

void formatGraphics(XmlWriter& w, const GraphicsDef& d, const FormatOptions& o)
{
    w.open("graphics").attr("type", d.type);
    // With autoport the port is the running instance's choice.
    bool hidePorts = runtimeOnly(o) && d.autoport.value_or(false);
    if (d.port)
        w.attr("port", std::to_string(hidePorts ? -1 : *d.port));
    if (d.tlsPort)
        w.attr("tlsPort", std::to_string(hidePorts ? -1 : *d.tlsPort));
    if (d.autoport)
        w.attr("autoport", *d.autoport ? "yes" : "no");
    w.attrIf("listen", d.listen);
    if (o.secure)
        w.attrIf("passwd", d.passwd);
    w.attrIf("keymap", d.keymap);
    writeAttrs(w, d.extra);
    for (const auto& l : d.listens) {
        w.open("listen").attrIf("type", l.type).attrIf("address", l.address);
        w.attrIf("network", l.network).attrIf("socket", l.socket);
        writeAttrs(w, l.extra);
        writeChildren(w, l.extra);
        w.close();
    }
    finish(w, d.info, d.extra, o);
}

void formatVideo(XmlWriter& w, const VideoDef& d, const FormatOptions& o)
{
    w.open("video");
    writeAttrs(w, d.extra);
    w.open("model").attr("type", d.model);
    writeAttrs(w, d.modelExtra);
    if (d.vram)
        w.attr("vram", std::to_string(*d.vram));
    if (d.heads)
        w.attr("heads", std::to_string(*d.heads));
    if (d.primary)
        w.attr("primary", "yes");
    writeChildren(w, d.modelExtra);
    w.close();
    finish(w, d.info, d.extra, o);
}

const char* chardevElement(ChardevKind k)
{
    switch (k) {
    case ChardevKind::Serial: return "serial";
    case ChardevKind::Parallel: return "parallel";
    case ChardevKind::Console: return "console";
    case ChardevKind::Channel: return "channel";
    }
    return "serial";
}

void formatChardev(XmlWriter& w, const ChardevDef& d, const FormatOptions& o)
{
    w.open(chardevElement(d.kind)).attr("type", d.type);
    writeAttrs(w, d.extra);
    for (const auto& s : d.sources) {
        w.open("source").attrIf("mode", s.mode).attrIf("path", s.path);
        w.attrIf("host", s.host).attrIf("service", s.service);
        writeAttrs(w, s.extra);
        writeChildren(w, s.extra);
        w.close();
    }
    if (!d.protocol.empty())
        w.open("protocol").attr("type", d.protocol).close();
    if (!d.targetType.empty() || d.targetPort || !d.targetName.empty() || !d.targetExtra.empty()) {
        w.open("target").attrIf("type", d.targetType);
        if (d.targetPort)
            w.attr("port", std::to_string(*d.targetPort));
        w.attrIf("name", d.targetName);
        writeAttrs(w, d.targetExtra);
        writeChildren(w, d.targetExtra);
        w.close();
    }
    finish(w, d.info, d.extra, o);
}

void formatHostdev(XmlWriter& w, const HostdevDef& d, const FormatOptions& o)
{
    w.open("hostdev").attr("mode", d.mode).attr("type", d.type);
    if (d.managed)
        w.attr("managed", *d.managed ? "yes" : "no");
    writeAttrs(w, d.extra);
    w.open("source");
    writeAttrs(w, d.sourceExtra);
    if (!d.usbVendor.empty())
        w.open("vendor").attr("id", d.usbVendor).close();
    if (!d.usbProduct.empty())
        w.open("product").attr("id", d.usbProduct).close();
    if (!d.usbBus.empty() || !d.usbDevice.empty())
        w.open("address").attrIf("bus", d.usbBus).attrIf("device", d.usbDevice).close();
    if (!d.pciDomain.empty() || !d.pciBus.empty() || !d.pciSlot.empty() || !d.pciFunction.empty()) {
        w.open("address").attrIf("domain", d.pciDomain).attrIf("bus", d.pciBus);
        w.attrIf("slot", d.pciSlot).attrIf("function", d.pciFunction).close();
    }
    writeChildren(w, d.sourceExtra);
    w.close();
    finish(w, d.info, d.extra, o);
}

void formatMemballoon(XmlWriter& w, const MemballoonDef& d, const FormatOptions& o)
{
    w.open("memballoon").attr("model", d.model);
    writeAttrs(w, d.extra);
    if (d.statsPeriod)
        w.open("stats").attr("period", std::to_string(*d.statsPeriod)).close();
    finish(w, d.info, d.extra, o);
}

void formatRng(XmlWriter& w, const RngDef& d, const FormatOptions& o)
{
    w.open("rng").attr("model", d.model);
    writeAttrs(w, d.extra);
    w.open("backend").attr("model", d.backendModel);
    writeAttrs(w, d.backendExtra);
    if (!d.backendPath.empty())
        w.text(d.backendPath);
    else
        writeChildren(w, d.backendExtra);
    w.close();
    finish(w, d.info, d.extra, o);
}

void formatTpm(XmlWriter& w, const TpmDef& d, const FormatOptions& o)
{
    w.open("tpm").attrIf("model", d.model);
    writeAttrs(w, d.extra);
    w.open("backend").attr("type", d.backendType).attrIf("version", d.backendVersion);
    writeAttrs(w, d.backendExtra);
    if (!d.backendDevicePath.empty())
        w.open("device").attr("path", d.backendDevicePath).close();
    writeChildren(w, d.backendExtra);
    w.close();
    finish(w, d.info, d.extra, o);
}

// libvirt's order of device kinds (virDomainDefFormatInternal).
constexpr std::string_view kDeviceOrder[] = {
    "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard",
    "serial", "parallel", "console", "channel", "input", "tpm", "graphics", "sound", "audio",
    "video", "hostdev", "redirdev", "redirfilter", "hub", "watchdog", "memballoon", "rng",
    "nvram", "panic", "shmem", "memory", "iommu", "vsock", "crypto"};

} // namespace

int deviceRank(std::string_view name)
{
    auto it = std::find(std::begin(kDeviceOrder), std::end(kDeviceOrder), name);
    return static_cast<int>(it - std::begin(kDeviceOrder));
}

void formatDevice(XmlWriter& w, const DeviceDef& dev, const FormatOptions& o)
{
    struct Visitor {
        XmlWriter& w;
        const FormatOptions& o;
        void operator()(const DiskDef& d) { formatDisk(w, d, o); }
        void operator()(const ControllerDef& d) { formatController(w, d, o); }
        void operator()(const FilesystemDef& d) { formatFilesystem(w, d, o); }
        void operator()(const InterfaceDef& d) { formatInterface(w, d, o); }
        void operator()(const InputDef& d)
        {
            w.open("input").attr("type", d.type).attrIf("bus", d.bus);
            writeAttrs(w, d.extra);
            finish(w, d.info, d.extra, o);
        }
        void operator()(const GraphicsDef& d) { formatGraphics(w, d, o); }
        void operator()(const VideoDef& d) { formatVideo(w, d, o); }
        void operator()(const ChardevDef& d) { formatChardev(w, d, o); }
        void operator()(const HostdevDef& d) { formatHostdev(w, d, o); }
        void operator()(const MemballoonDef& d) { formatMemballoon(w, d, o); }
        void operator()(const RngDef& d) { formatRng(w, d, o); }
        void operator()(const WatchdogDef& d)
        {
            w.open("watchdog").attr("model", d.model).attrIf("action", d.action);
            writeAttrs(w, d.extra);
            finish(w, d.info, d.extra, o);
        }
        void operator()(const SoundDef& d)
        {
            w.open("sound").attr("model", d.model);
            writeAttrs(w, d.extra);
            finish(w, d.info, d.extra, o);
        }
        void operator()(const TpmDef& d) { formatTpm(w, d, o); }
        void operator()(const RedirdevDef& d)
        {
            w.open("redirdev").attr("bus", d.bus).attr("type", d.type);
            writeAttrs(w, d.extra);
            finish(w, d.info, d.extra, o);
        }
        void operator()(const RawDeviceDef& d) { w.raw(d.xml); }
    };
    std::visit(Visitor{w, o}, dev);
}

void formatDevices(XmlWriter& w, const DevicesDef& d, const FormatOptions& o)
{
    w.open("devices");
    w.leafIf("emulator", d.emulator);
    // Known kinds in libvirt's order, each unknown device after the last
    // kind that libvirt writes before it.
    size_t nextRaw = 0;
    std::vector<const RawDeviceDef*> others;
    for (const auto& r : d.others)
        others.push_back(&r);
    std::stable_sort(others.begin(), others.end(), [](auto* a, auto* b) {
        return deviceRank(a->name) < deviceRank(b->name);
    });
    auto rawsUpTo = [&](std::string_view kind) {
        while (nextRaw < others.size() && deviceRank(others[nextRaw]->name) <= deviceRank(kind))
            w.raw(others[nextRaw++]->xml);
    };
    auto each = [&](std::string_view kind, const auto& list) {
        rawsUpTo(kind);
        for (const auto& dev : list)
            formatDevice(w, dev, o);
    };
    each("disk", d.disks);
    each("controller", d.controllers);
    each("filesystem", d.filesystems);
    each("interface", d.interfaces);
    each("serial", d.serials);
    each("parallel", d.parallels);
    each("console", d.consoles);
    each("channel", d.channels);
    each("input", d.inputs);
    each("tpm", d.tpms);
    each("graphics", d.graphics);
    each("sound", d.sounds);
    each("video", d.videos);
    each("hostdev", d.hostdevs);
    each("redirdev", d.redirdevs);
    each("watchdog", d.watchdogs);
    rawsUpTo("memballoon");
    if (d.memballoon)
        formatDevice(w, *d.memballoon, o);
    each("rng", d.rngs);
    while (nextRaw < others.size())
        w.raw(others[nextRaw++]->xml);
    w.close();
}

} // namespace virtbus::xml::detail
