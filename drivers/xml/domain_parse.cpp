// <domain> -> DomainDef: the top level, <os>, <cpu>, <clock>, ... and the
// checks libvirt makes before it accepts a definition.
#include "xml/domain_internal.h"

#include <algorithm>
#include <set>

namespace virtbus::xml {

bool DomainDef::hasFeature(std::string_view feature) const
{
    return std::any_of(features.begin(), features.end(),
                       [&](const FeatureDef& f) { return f.name == feature; });
}

bool CputuneDef::empty() const
{
    return !shares && !period && !quota && vcpupins.empty() && emulatorpin.empty() &&
           extra.empty();
}

namespace detail {

namespace {

bool hasNamespace(const xmlNode* n)
{
    return n->ns != nullptr;
}

void checkCpuset(const std::string& set, std::string_view what)
{
    if (set.empty() || set.find_first_not_of("0123456789,-^ ") != std::string::npos)
        throw invalidValue(set, what);
}

void parseOs(const xmlNode* n, OsDef& os)
{
    os.firmware = attrOr(n, "firmware");
    os.extra.attrs = otherAttrs(n, {"firmware"});
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "type") {
            os.type = textOf(c);
            checkEnum(os.type, {"hvm", "linux", "xen", "xenpvh", "exe"}, "<os><type>");
            os.arch = attrOr(c, "arch");
            os.machine = attrOr(c, "machine");
            os.typeExtra.attrs = otherAttrs(c, {"arch", "machine"});
        } else if (name == "loader") {
            LoaderDef l;
            if (!xmlFirstElementChild(const_cast<xmlNode*>(c))) // text or elements, not both
                l.path = textOf(c);
            l.readonly = attrOr(c, "readonly");
            l.secure = attrOr(c, "secure");
            l.type = attrOr(c, "type");
            l.extra = preservedOf(c, {"readonly", "secure", "type"});
            os.loader = std::move(l);
        } else if (name == "nvram") {
            NvramDef nv;
            if (!xmlFirstElementChild(const_cast<xmlNode*>(c)))
                nv.path = textOf(c);
            nv.templ = attrOr(c, "template");
            nv.extra = preservedOf(c, {"template"});
            os.nvram = std::move(nv);
        } else if (name == "boot" && otherAttrs(c, {"dev"}).empty()) {
            std::string dev = attrOr(c, "dev");
            checkEnum(dev, {"hd", "fd", "cdrom", "network"}, "<boot dev>");
            os.bootDevs.push_back(dev);
        } else if (name == "bootmenu" && otherAttrs(c, {"enable", "timeout"}).empty()) {
            os.bootmenu = parseYesNo(attrOr(c, "enable"), "<bootmenu enable>");
            if (auto t = attr(c, "timeout"))
                os.bootmenuTimeout = parseUInt(*t, "<bootmenu timeout>");
        } else if (name == "kernel") {
            os.kernel = textOf(c);
        } else if (name == "initrd") {
            os.initrd = textOf(c);
        } else if (name == "cmdline") {
            os.cmdline = textOf(c);
        } else if (name == "dtb") {
            os.dtb = textOf(c);
        } else if (name == "init") {
            os.init = textOf(c);
        } else {
            os.extra.children.push_back(rawXml(c));
        }
    }
}

void parseCpu(const xmlNode* n, CpuDef& cpu)
{
    cpu.present = true;
    cpu.mode = attrOr(n, "mode");
    cpu.match = attrOr(n, "match");
    cpu.check = attrOr(n, "check");
    cpu.extra.attrs = otherAttrs(n, {"mode", "match", "check"});
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "model" && !xmlFirstElementChild(const_cast<xmlNode*>(c))) {
            cpu.model = textOf(c);
            cpu.modelFallback = attrOr(c, "fallback");
            cpu.modelExtra.attrs = otherAttrs(c, {"fallback"});
        } else if (name == "topology" &&
                   otherAttrs(c, {"sockets", "dies", "cores", "threads"}).empty()) {
            CpuTopology t;
            t.sockets = parseUInt(attrOr(c, "sockets"), "<topology sockets>");
            if (auto d = attr(c, "dies"))
                t.dies = parseUInt(*d, "<topology dies>");
            t.cores = parseUInt(attrOr(c, "cores"), "<topology cores>");
            t.threads = parseUInt(attrOr(c, "threads"), "<topology threads>");
            if (!t.sockets || !t.cores || !t.threads || (attr(c, "dies") && !t.dies))
                throw err::xml("CPU topology values must be greater than zero");
            cpu.topology = t;
        } else {
            cpu.extra.children.push_back(rawXml(c));
        }
    }
}

void parseCputune(const xmlNode* n, CputuneDef& t)
{
    t.extra.attrs = otherAttrs(n, {});
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "shares") {
            t.shares = parseU64(textOf(c), "<shares>");
        } else if (name == "period") {
            t.period = parseU64(textOf(c), "<period>");
        } else if (name == "quota") {
            t.quota = parseI64(textOf(c), "<quota>");
        } else if (name == "vcpupin" && otherAttrs(c, {"vcpu", "cpuset"}).empty()) {
            VcpuPin pin{parseUInt(attrOr(c, "vcpu"), "<vcpupin vcpu>"), attrOr(c, "cpuset")};
            checkCpuset(pin.cpuset, "<vcpupin cpuset>");
            t.vcpupins.push_back(std::move(pin));
        } else if (name == "emulatorpin" && otherAttrs(c, {"cpuset"}).empty()) {
            t.emulatorpin = attrOr(c, "cpuset");
            checkCpuset(t.emulatorpin, "<emulatorpin cpuset>");
        } else {
            t.extra.children.push_back(rawXml(c));
        }
    }
}

void parseClock(const xmlNode* n, ClockDef& clock)
{
    clock.offset = attrOr(n, "offset", "utc");
    checkEnum(clock.offset, {"utc", "localtime", "timezone", "variable", "absolute"},
              "<clock offset>");
    clock.extra.attrs = otherAttrs(n, {"offset"});
    for (const xmlNode* c : elementChildren(n)) {
        if (elemName(c) != "timer") {
            clock.extra.children.push_back(rawXml(c));
            continue;
        }
        TimerDef t;
        t.name = attrOr(c, "name");
        if (t.name.empty())
            throw err::xml("missing name attribute in <timer>");
        t.present = attrOr(c, "present");
        if (!t.present.empty())
            checkEnum(t.present, {"yes", "no"}, "<timer present>");
        t.tickpolicy = attrOr(c, "tickpolicy");
        t.track = attrOr(c, "track");
        t.extra = preservedOf(c, {"name", "present", "tickpolicy", "track"});
        clock.timers.push_back(std::move(t));
    }
}

void parseVcpu(const xmlNode* n, VcpuDef& vcpu)
{
    vcpu.max = parseUInt(textOf(n), "<vcpu>");
    if (vcpu.max == 0)
        throw invalidValue("0", "<vcpu>");
    vcpu.current = vcpu.max;
    if (auto cur = attr(n, "current")) {
        vcpu.current = parseUInt(*cur, "<vcpu current>");
        if (vcpu.current == 0)
            throw invalidValue("0", "<vcpu current>");
        if (vcpu.current > vcpu.max)
            throw err::xml("<vcpu current> (" + *cur + ") exceeds the maximum (" +
                           std::to_string(vcpu.max) + ")");
    }
    vcpu.placement = attrOr(n, "placement", "static");
    checkEnum(vcpu.placement, {"static", "auto"}, "<vcpu placement>");
    vcpu.cpuset = attrOr(n, "cpuset");
    if (!vcpu.cpuset.empty())
        checkCpuset(vcpu.cpuset, "<vcpu cpuset>");
    XmlAttrs other = otherAttrs(n, {"current", "placement", "cpuset"});
    if (!other.empty())
        throw err::xml("unsupported attribute '" + other.front().first + "' in <vcpu>");
}

void parseMetadata(const xmlNode* n, DomainDef& def)
{
    for (const xmlNode* c : elementChildren(n)) {
        // libvirt's metadata API addresses entries by namespace URI.
        if (!c->ns || !c->ns->href || !*c->ns->href)
            throw err::xml("element <" + elemName(c) + "> in <metadata> has no namespace");
        std::string uri(reinterpret_cast<const char*>(c->ns->href));
        if (!def.metadata.emplace(uri, rawXml(c)).second)
            throw err::xml("duplicate namespace '" + uri + "' in <metadata>");
    }
}

void checkName(const std::string& name)
{
    if (name.empty())
        throw err::xml("missing <name> in <domain>");
    if (name.find('/') != std::string::npos)
        throw err::xml("name " + name + " cannot contain '/'");
    if (name.find('\n') != std::string::npos)
        throw err::xml("name must not contain newlines");
    // Drivers build file names from domain names.
    if (name == "." || name == "..")
        throw err::xml("name '" + name + "' is not allowed");
}

void fillControllerIndexes(std::vector<ControllerDef>& list)
{
    for (auto& c : list) {
        if (c.index)
            continue;
        unsigned idx = 0;
        while (std::any_of(list.begin(), list.end(),
                           [&](const ControllerDef& o) { return o.type == c.type && o.index == idx; }))
            ++idx;
        c.index = idx;
    }
}

void checkDuplicateTargets(const std::vector<DiskDef>& disks)
{
    std::set<std::string> seen;
    for (const auto& d : disks)
        if (!seen.insert(d.targetDev).second)
            throw err::xml("target '" + d.targetDev + "' duplicated for disks");
}

} // namespace

DomainDef parseDomainNode(const xmlNode* root, unsigned flags)
{
    DomainDef def;
    auto type = attr(root, "type");
    if (!type || type->empty())
        throw err::xml("missing domain type attribute");
    checkEnum(*type, {"qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware",
                      "hyperv", "vbox", "phyp", "vz", "bhyve", "hvf"},
              "<domain type>");
    def.type = *type;
    def.extra.attrs = otherAttrs(root, {"type", "id"});

    bool haveMemory = false, haveCurrent = false;
    auto onAction = [](const xmlNode* c, bool crash) {
        std::string v = textOf(c);
        if (crash)
            checkEnum(v, {"destroy", "restart", "preserve", "rename-restart", "coredump-destroy",
                          "coredump-restart"}, "<on_crash>");
        else
            checkEnum(v, {"destroy", "restart", "preserve", "rename-restart"}, "<" + elemName(c) + ">");
        return v;
    };
    for (const xmlNode* c : elementChildren(root)) {
        std::string name = elemName(c);
        if (name == "name") {
            def.name = textOf(c);
        } else if (name == "uuid") {
            std::string u = textOf(c);
            if (!isValidUUID(u))
                throw invalidValue(u, "<uuid>");
            def.uuid = normalizeUUID(u);
        } else if (name == "title") {
            def.title = textOf(c);
            if (def.title.find('\n') != std::string::npos)
                throw err::xml("<title> must not contain newlines");
        } else if (name == "description") {
            def.description = textOf(c);
        } else if (name == "metadata") {
            parseMetadata(c, def);
        } else if (name == "maxMemory") {
            MaxMemoryDef m;
            m.kib = parseMemoryKiB(textOf(c), attrOr(c, "unit"), "<maxMemory>");
            m.slots = parseUInt(attrOr(c, "slots"), "<maxMemory slots>");
            def.maxMemory = m;
        } else if (name == "memory") {
            def.memory = parseMemoryKiB(textOf(c), attrOr(c, "unit"), "<memory>");
            def.memoryDumpCore = attrOr(c, "dumpCore");
            if (!def.memoryDumpCore.empty())
                checkEnum(def.memoryDumpCore, {"on", "off"}, "<memory dumpCore>");
            haveMemory = true;
        } else if (name == "currentMemory") {
            def.currentMemory = parseMemoryKiB(textOf(c), attrOr(c, "unit"), "<currentMemory>");
            haveCurrent = true;
        } else if (name == "vcpu") {
            parseVcpu(c, def.vcpu);
        } else if (name == "iothreads") {
            def.iothreads = parseUInt(textOf(c), "<iothreads>");
        } else if (name == "cputune") {
            parseCputune(c, def.cputune);
        } else if (name == "cpu") {
            parseCpu(c, def.cpu);
        } else if (name == "os") {
            parseOs(c, def.os);
        } else if (name == "features") {
            for (const xmlNode* f : elementChildren(c)) {
                bool plain = !hasNamespace(f) && !f->properties && !f->children;
                def.features.push_back({elemName(f), plain ? "" : rawXml(f)});
            }
        } else if (name == "clock") {
            parseClock(c, def.clock);
        } else if (name == "on_poweroff") {
            def.onPoweroff = onAction(c, false);
        } else if (name == "on_reboot") {
            def.onReboot = onAction(c, false);
        } else if (name == "on_crash") {
            def.onCrash = onAction(c, true);
        } else if (name == "pm") {
            for (const xmlNode* p : elementChildren(c)) {
                std::string pn = elemName(p);
                if (pn != "suspend-to-mem" && pn != "suspend-to-disk")
                    throw err::xml("unsupported element <" + pn + "> in <pm>");
                bool on = parseYesNo(attrOr(p, "enabled"), "<" + pn + " enabled>");
                (pn == "suspend-to-mem" ? def.pm.suspendToMem : def.pm.suspendToDisk) = on;
            }
        } else if (name == "devices") {
            for (const xmlNode* d : elementChildren(c)) {
                if (elemName(d) == "emulator")
                    def.devices.emulator = textOf(d);
                else
                    appendDevice(def.devices, parseDevice(d, flags));
            }
        } else if (name == "seclabel") {
            def.seclabels.push_back(rawXml(c));
        } else if (name == "resource") {
            def.resource = rawXml(c);
        } else {
            def.extra.children.push_back(rawXml(c));
        }
    }

    checkName(def.name);
    if (!haveMemory)
        throw err::xml("missing <memory> in <domain>");
    bool numa = std::any_of(def.cpu.extra.children.begin(), def.cpu.extra.children.end(),
                            [](const std::string& x) { return x.starts_with("<numa"); });
    if (def.memory == 0 && !numa)
        throw invalidValue("0", "<memory>");
    if (def.os.type.empty())
        throw err::xml("missing <os><type> in <domain>");
    if (def.maxMemory && def.maxMemory->kib < def.memory)
        throw err::xml("<maxMemory> must be at least <memory>");
    // libvirt silently caps the balloon target at the memory size.
    if (!haveCurrent || def.currentMemory > def.memory)
        def.currentMemory = def.memory;
    if (def.uuid.empty())
        def.uuid = generateUUID();
    // Kept in the order formatting writes them, so a re-parse compares equal.
    std::stable_sort(def.extra.children.begin(), def.extra.children.end(),
                     [](const std::string& a, const std::string& b) {
                         return topLevelRank(rawName(a)) < topLevelRank(rawName(b));
                     });
    fillControllerIndexes(def.devices.controllers);
    checkDuplicateTargets(def.devices.disks);
    return def;
}

} // namespace detail

DomainDef parseDomainXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, PARSE_VALIDATE | PARSE_INACTIVE, "parseDomainXML");
    XmlDoc doc = parseDocument(xml, "(domain_definition)");
    const xmlNode* root = rootElement(doc, "domain");
    if (flags & PARSE_VALIDATE)
        validateSchema(doc, "domain.rng");
    return detail::parseDomainNode(root, flags);
}

} // namespace virtbus::xml
