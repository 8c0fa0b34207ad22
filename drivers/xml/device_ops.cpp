// Device lists of a DomainDef: hotplug parsing, and finding, adding,
// removing and replacing one device.
#include "xml/domain_internal.h"

#include <algorithm>

namespace virtbus::xml {

namespace {

using namespace detail;

// The list holding devices of T's kind (const if `d` is). The memballoon
// is a single optional and never asks.
template <typename D, typename T>
auto* listOf(D& d, [[maybe_unused]] const T& dev)
{
    if constexpr (std::is_same_v<T, DiskDef>) return &d.disks;
    else if constexpr (std::is_same_v<T, ControllerDef>) return &d.controllers;
    else if constexpr (std::is_same_v<T, FilesystemDef>) return &d.filesystems;
    else if constexpr (std::is_same_v<T, InterfaceDef>) return &d.interfaces;
    else if constexpr (std::is_same_v<T, InputDef>) return &d.inputs;
    else if constexpr (std::is_same_v<T, GraphicsDef>) return &d.graphics;
    else if constexpr (std::is_same_v<T, VideoDef>) return &d.videos;
    else if constexpr (std::is_same_v<T, HostdevDef>) return &d.hostdevs;
    else if constexpr (std::is_same_v<T, RngDef>) return &d.rngs;
    else if constexpr (std::is_same_v<T, WatchdogDef>) return &d.watchdogs;
    else if constexpr (std::is_same_v<T, SoundDef>) return &d.sounds;
    else if constexpr (std::is_same_v<T, TpmDef>) return &d.tpms;
    else if constexpr (std::is_same_v<T, RedirdevDef>) return &d.redirdevs;
    else if constexpr (std::is_same_v<T, RawDeviceDef>) return &d.others;
    else {
        static_assert(std::is_same_v<T, ChardevDef>, "the memballoon has no list");
        switch (dev.kind) {
        case ChardevKind::Parallel: return &d.parallels;
        case ChardevKind::Console: return &d.consoles;
        case ChardevKind::Channel: return &d.channels;
        case ChardevKind::Serial: break;
        }
        return &d.serials;
    }
}

// Runtime-only device info is left out when the pattern does not give it,
// so "<disk>...</disk>" without <address> still finds the running disk.
template <typename T>
std::string comparable(T dev, const T& pattern)
{
    if constexpr (!std::is_same_v<T, RawDeviceDef>) {
        if (pattern.info.alias.empty())
            dev.info.alias.clear();
        if (pattern.info.address.empty())
            dev.info.address.clear();
    }
    XmlWriter w;
    formatDevice(w, DeviceDef(std::move(dev)), FormatOptions{.secure = true});
    return w.take();
}

template <typename T>
bool matches(const T& have, const T& pattern)
{
    if constexpr (std::is_same_v<T, DiskDef>) {
        return have.targetDev == pattern.targetDev;
    } else if constexpr (std::is_same_v<T, InterfaceDef>) {
        if (!pattern.mac.empty())
            return have.mac == pattern.mac;
    } else if constexpr (std::is_same_v<T, ControllerDef>) {
        return have.type == pattern.type && have.index == pattern.index;
    } else if constexpr (std::is_same_v<T, GraphicsDef>) {
        return have.type == pattern.type; // one display per protocol
    } else if constexpr (std::is_same_v<T, HostdevDef>) {
        return have.type == pattern.type && have.pciDomain == pattern.pciDomain &&
               have.pciBus == pattern.pciBus && have.pciSlot == pattern.pciSlot &&
               have.pciFunction == pattern.pciFunction && have.usbVendor == pattern.usbVendor &&
               have.usbProduct == pattern.usbProduct && have.usbBus == pattern.usbBus &&
               have.usbDevice == pattern.usbDevice && have.sourceExtra == pattern.sourceExtra;
    }
    return comparable(have, pattern) == comparable(pattern, pattern);
}

// Index of the matching device in its list (0 for the memballoon), or -1.
template <typename T>
long findIn(const DevicesDef& d, const T& pattern)
{
    if constexpr (std::is_same_v<T, MemballoonDef>) {
        return d.memballoon && matches(*d.memballoon, pattern) ? 0 : -1;
    } else {
        auto* list = listOf(d, pattern);
        auto it = std::find_if(list->begin(), list->end(),
                               [&](const T& have) { return matches(have, pattern); });
        return it == list->end() ? -1 : static_cast<long>(it - list->begin());
    }
}

std::string describe(const DeviceDef& dev)
{
    if (auto* disk = std::get_if<DiskDef>(&dev))
        return "no target device " + disk->targetDev;
    if (auto* net = std::get_if<InterfaceDef>(&dev); net && !net->mac.empty())
        return "no device matching MAC address " + net->mac;
    return "matching device not found";
}

} // namespace

namespace detail {

void appendDevice(DevicesDef& devices, DeviceDef dev)
{
    std::visit([&](auto&& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MemballoonDef>) {
            if (devices.memballoon)
                throw err::xml("only one <memballoon> device is supported");
            devices.memballoon = std::move(d);
        } else if constexpr (std::is_same_v<T, RawDeviceDef>) {
            // Kept in the order formatting writes them (see formatDevices).
            auto& list = devices.others;
            auto at = std::upper_bound(list.begin(), list.end(), deviceRank(d.name),
                                       [](int rank, const RawDeviceDef& o) { return rank < deviceRank(o.name); });
            list.insert(at, std::move(d));
        } else {
            listOf(devices, d)->push_back(std::move(d));
        }
    }, std::move(dev));
}

} // namespace detail

DeviceDef parseDeviceXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, PARSE_INACTIVE, "parseDeviceXML");
    XmlDoc doc = parseDocument(xml, "(device_definition)");
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    std::string name = root ? elemName(root) : std::string();
    if (name == "emulator" || deviceRank(name) >= deviceRank("(unknown)"))
        throw err::xml("unknown device type '" + name + "'");
    return parseDevice(root, flags);
}

std::string formatDeviceXML(const DeviceDef& dev, const FormatOptions& opts)
{
    XmlWriter w;
    formatDevice(w, dev, opts);
    return w.take();
}

std::optional<DeviceDef> findDevice(const DomainDef& def, const DeviceDef& match)
{
    const DevicesDef& devices = def.devices;
    return std::visit([&](const auto& pattern) -> std::optional<DeviceDef> {
        using T = std::decay_t<decltype(pattern)>;
        long i = findIn(devices, pattern);
        if (i < 0)
            return std::nullopt;
        if constexpr (std::is_same_v<T, MemballoonDef>)
            return DeviceDef(*devices.memballoon);
        else
            return DeviceDef((*listOf(devices, pattern))[static_cast<size_t>(i)]);
    }, match);
}

void addDevice(DomainDef& def, DeviceDef dev)
{
    if (auto* disk = std::get_if<DiskDef>(&dev)) {
        if (findIn(def.devices, *disk) >= 0)
            throw err::operationInvalid("target " + disk->targetDev + " already exists");
    } else if (auto* net = std::get_if<InterfaceDef>(&dev)) {
        if (!net->mac.empty() && findIn(def.devices, *net) >= 0)
            throw err::operationInvalid("MAC address " + net->mac + " is already in use");
        if (net->mac.empty()) {
            def.devices.interfaces.push_back(std::move(*net));
            assignMissingMACs(def);
            return;
        }
    } else if (std::holds_alternative<MemballoonDef>(dev) && def.devices.memballoon) {
        throw err::operationInvalid("domain already has a memballoon device");
    } else if (auto* ctl = std::get_if<ControllerDef>(&dev)) {
        if (ctl->index && findIn(def.devices, *ctl) >= 0)
            throw err::operationInvalid("controller " + ctl->type + " index " +
                                        std::to_string(*ctl->index) + " already exists");
        if (!ctl->index) {
            unsigned idx = 0;
            for (const auto& c : def.devices.controllers)
                if (c.type == ctl->type && c.index && *c.index >= idx)
                    idx = *c.index + 1;
            ctl->index = idx;
        }
    }
    appendDevice(def.devices, std::move(dev));
}

DeviceDef removeDevice(DomainDef& def, const DeviceDef& match)
{
    return std::visit([&](const auto& pattern) -> DeviceDef {
        using T = std::decay_t<decltype(pattern)>;
        long i = findIn(def.devices, pattern);
        if (i < 0)
            throw err::operationFailed(describe(match));
        if constexpr (std::is_same_v<T, MemballoonDef>) {
            DeviceDef out(std::move(*def.devices.memballoon));
            def.devices.memballoon.reset();
            return out;
        } else {
            auto* list = listOf(def.devices, pattern);
            DeviceDef out(std::move((*list)[static_cast<size_t>(i)]));
            list->erase(list->begin() + i);
            return out;
        }
    }, match);
}

void replaceDevice(DomainDef& def, DeviceDef dev)
{
    std::visit([&](auto&& replacement) {
        using T = std::decay_t<decltype(replacement)>;
        long i = findIn(def.devices, replacement);
        if (i < 0)
            throw err::operationFailed(describe(DeviceDef(replacement)));
        if constexpr (std::is_same_v<T, MemballoonDef>)
            def.devices.memballoon = std::move(replacement);
        else
            (*listOf(def.devices, replacement))[static_cast<size_t>(i)] = std::move(replacement);
    }, std::move(dev));
}

} // namespace virtbus::xml
