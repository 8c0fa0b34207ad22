// DomainDef -> <domain>. Modeled and preserved top-level elements are
// merged into libvirt's order so output reads like libvirt's own.
#include "xml/domain_internal.h"

#include <algorithm>

namespace virtbus::xml {

namespace detail {

namespace {

// virDomainDefFormatInternal's order; unknown elements go last.
constexpr std::string_view kTopOrder[] = {
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
    "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
    "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo",
    "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock", "on_poweroff",
    "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "devices", "seclabel", "keywrap",
    "launchSecurity"};


} // namespace

int topLevelRank(std::string_view name)
{
    auto it = std::find(std::begin(kTopOrder), std::end(kTopOrder), name);
    return static_cast<int>(it - std::begin(kTopOrder));
}

std::string_view rawName(std::string_view xml)
{
    xml.remove_prefix(std::min<size_t>(1, xml.size()));
    return xml.substr(0, xml.find_first_of(" \t\n/>"));
}

namespace {

void formatOs(XmlWriter& w, const OsDef& os)
{
    w.open("os").attrIf("firmware", os.firmware);
    writeAttrs(w, os.extra);
    w.open("type").attrIf("arch", os.arch).attrIf("machine", os.machine);
    writeAttrs(w, os.typeExtra);
    w.text(os.type).close();
    if (os.loader) {
        const LoaderDef& l = *os.loader;
        w.open("loader").attrIf("readonly", l.readonly).attrIf("secure", l.secure);
        w.attrIf("type", l.type);
        writeAttrs(w, l.extra);
        if (!l.path.empty())
            w.text(l.path);
        else
            writeChildren(w, l.extra);
        w.close();
    }
    if (os.nvram) {
        const NvramDef& nv = *os.nvram;
        w.open("nvram").attrIf("template", nv.templ);
        writeAttrs(w, nv.extra);
        if (!nv.path.empty())
            w.text(nv.path);
        else
            writeChildren(w, nv.extra);
        w.close();
    }
    w.leafIf("kernel", os.kernel).leafIf("initrd", os.initrd).leafIf("cmdline", os.cmdline);
    w.leafIf("dtb", os.dtb).leafIf("init", os.init);
    for (const auto& dev : os.bootDevs)
        w.open("boot").attr("dev", dev).close();
    if (os.bootmenu) {
        w.open("bootmenu").attr("enable", *os.bootmenu ? "yes" : "no");
        if (os.bootmenuTimeout)
            w.attr("timeout", std::to_string(*os.bootmenuTimeout));
        w.close();
    }
    writeChildren(w, os.extra);
    w.close();
}

void formatCputune(XmlWriter& w, const CputuneDef& t)
{
    w.open("cputune");
    writeAttrs(w, t.extra);
    if (t.shares)
        w.leaf("shares", std::to_string(*t.shares));
    if (t.period)
        w.leaf("period", std::to_string(*t.period));
    if (t.quota)
        w.leaf("quota", std::to_string(*t.quota));
    for (const auto& pin : t.vcpupins)
        w.open("vcpupin").attr("vcpu", std::to_string(pin.vcpu)).attr("cpuset", pin.cpuset).close();
    if (!t.emulatorpin.empty())
        w.open("emulatorpin").attr("cpuset", t.emulatorpin).close();
    writeChildren(w, t.extra);
    w.close();
}

void formatCpu(XmlWriter& w, const CpuDef& cpu)
{
    w.open("cpu").attrIf("mode", cpu.mode).attrIf("match", cpu.match).attrIf("check", cpu.check);
    writeAttrs(w, cpu.extra);
    if (!cpu.model.empty() || !cpu.modelFallback.empty() || !cpu.modelExtra.empty()) {
        w.open("model").attrIf("fallback", cpu.modelFallback);
        writeAttrs(w, cpu.modelExtra);
        if (!cpu.model.empty())
            w.text(cpu.model);
        w.close();
    }
    if (cpu.topology) {
        const CpuTopology& t = *cpu.topology;
        w.open("topology").attr("sockets", std::to_string(t.sockets));
        if (t.dies)
            w.attr("dies", std::to_string(t.dies));
        w.attr("cores", std::to_string(t.cores)).attr("threads", std::to_string(t.threads));
        w.close();
    }
    writeChildren(w, cpu.extra);
    w.close();
}

void formatClock(XmlWriter& w, const ClockDef& clock)
{
    w.open("clock").attr("offset", clock.offset);
    writeAttrs(w, clock.extra);
    for (const auto& t : clock.timers) {
        w.open("timer").attr("name", t.name).attrIf("tickpolicy", t.tickpolicy);
        w.attrIf("track", t.track).attrIf("present", t.present);
        writeAttrs(w, t.extra);
        writeChildren(w, t.extra);
        w.close();
    }
    writeChildren(w, clock.extra);
    w.close();
}

} // namespace

void formatDomain(XmlWriter& out, const DomainDef& def, const FormatOptions& opts)
{
    out.open("domain").attr("type", def.type);
    if (opts.id >= 0 && !opts.inactive)
        out.attr("id", std::to_string(opts.id));
    writeAttrs(out, def.extra);

    // Each top-level element is written on its own, then all are put in
    // libvirt's order; the sort is stable, so repeated elements keep theirs.
    std::vector<std::pair<int, std::string>> parts;
    auto part = [&](std::string_view name, auto&& write) {
        XmlWriter w(out.depth());
        write(w);
        parts.emplace_back(topLevelRank(name), w.take());
    };
    auto rawPart = [&](const std::string& xml) {
        part(rawName(xml), [&](XmlWriter& w) { w.raw(xml); });
    };

    part("name", [&](XmlWriter& w) { w.leaf("name", def.name); });
    part("uuid", [&](XmlWriter& w) { w.leaf("uuid", def.uuid); });
    part("title", [&](XmlWriter& w) { w.leafIf("title", def.title); });
    part("description", [&](XmlWriter& w) { w.leafIf("description", def.description); });
    if (!def.metadata.empty()) {
        part("metadata", [&](XmlWriter& w) {
            w.open("metadata");
            for (const auto& [uri, xml] : def.metadata)
                w.raw(xml);
            w.close();
        });
    }
    if (def.maxMemory) {
        part("maxMemory", [&](XmlWriter& w) {
            w.open("maxMemory").attr("slots", std::to_string(def.maxMemory->slots));
            w.attr("unit", "KiB").text(std::to_string(def.maxMemory->kib)).close();
        });
    }
    part("memory", [&](XmlWriter& w) {
        w.open("memory").attr("unit", "KiB").attrIf("dumpCore", def.memoryDumpCore);
        w.text(std::to_string(def.memory)).close();
    });
    part("currentMemory", [&](XmlWriter& w) {
        w.open("currentMemory").attr("unit", "KiB").text(std::to_string(def.currentMemory)).close();
    });
    part("vcpu", [&](XmlWriter& w) {
        w.open("vcpu").attr("placement", def.vcpu.placement).attrIf("cpuset", def.vcpu.cpuset);
        if (def.vcpu.current != def.vcpu.max)
            w.attr("current", std::to_string(def.vcpu.current));
        w.text(std::to_string(def.vcpu.max)).close();
    });
    if (def.iothreads)
        part("iothreads", [&](XmlWriter& w) { w.leaf("iothreads", std::to_string(def.iothreads)); });
    if (!def.cputune.empty())
        part("cputune", [&](XmlWriter& w) { formatCputune(w, def.cputune); });
    if (!def.resource.empty())
        rawPart(def.resource);
    part("os", [&](XmlWriter& w) { formatOs(w, def.os); });
    if (!def.features.empty()) {
        part("features", [&](XmlWriter& w) {
            w.open("features");
            for (const auto& f : def.features) {
                if (f.raw.empty())
                    w.open(f.name).close();
                else
                    w.raw(f.raw);
            }
            w.close();
        });
    }
    if (def.cpu.present)
        part("cpu", [&](XmlWriter& w) { formatCpu(w, def.cpu); });
    part("clock", [&](XmlWriter& w) { formatClock(w, def.clock); });
    part("on_poweroff", [&](XmlWriter& w) { w.leaf("on_poweroff", def.onPoweroff); });
    part("on_reboot", [&](XmlWriter& w) { w.leaf("on_reboot", def.onReboot); });
    part("on_crash", [&](XmlWriter& w) { w.leaf("on_crash", def.onCrash); });
    if (def.pm.suspendToMem || def.pm.suspendToDisk) {
        part("pm", [&](XmlWriter& w) {
            w.open("pm");
            if (def.pm.suspendToMem)
                w.open("suspend-to-mem").attr("enabled", *def.pm.suspendToMem ? "yes" : "no").close();
            if (def.pm.suspendToDisk)
                w.open("suspend-to-disk").attr("enabled", *def.pm.suspendToDisk ? "yes" : "no").close();
            w.close();
        });
    }
    part("devices", [&](XmlWriter& w) { formatDevices(w, def.devices, opts); });
    for (const auto& s : def.seclabels)
        rawPart(s);
    for (const auto& x : def.extra.children)
        rawPart(x);

    std::stable_sort(parts.begin(), parts.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string body;
    for (const auto& [rank, text] : parts)
        body += text;
    out.appendFormatted(body);
    out.close();
}

} // namespace detail

std::string formatDomainXML(const DomainDef& def, const FormatOptions& opts)
{
    XmlWriter w;
    detail::formatDomain(w, def, opts);
    return w.take();
}

} // namespace virtbus::xml
