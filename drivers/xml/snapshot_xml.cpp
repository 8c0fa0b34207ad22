#include "xml/snapshot_xml.h"

#include "xml/domain_internal.h"

#include <ctime>

namespace virtbus::xml {

namespace {

using namespace detail;

const char* diskSourceAttr(const std::string& type)
{
    return type == "block" ? "dev" : "file";
}

SnapshotDiskDef parseSnapshotDisk(const xmlNode* n)
{
    SnapshotDiskDef d;
    d.name = attrOr(n, "name");
    if (d.name.empty())
        throw err::xml("missing name attribute in snapshot <disk>");
    d.snapshot = attrOr(n, "snapshot");
    if (!d.snapshot.empty())
        checkEnum(d.snapshot, {"no", "internal", "external", "manual"}, "<disk snapshot>");
    d.type = attrOr(n, "type");
    if (!d.type.empty())
        checkEnum(d.type, {"file", "block", "network"}, "<disk type>");
    d.extra.attrs = otherAttrs(n, {"name", "snapshot", "type"});
    for (const xmlNode* c : elementChildren(n)) {
        std::string name = elemName(c);
        if (name == "source" && d.type != "network") {
            d.sourceFile = attrOr(c, diskSourceAttr(d.type));
            d.sourceExtra = preservedOf(c, {diskSourceAttr(d.type)});
        } else if (name == "driver" && !c->children && otherAttrs(c, {"type"}).empty()) {
            d.driverType = attrOr(c, "type");
        } else {
            d.extra.children.push_back(rawXml(c));
        }
    }
    return d;
}

void parseChild(const xmlNode* c, SnapshotDef& def)
{
    std::string name = elemName(c);
    if (name == "name") {
        def.name = textOf(c);
    } else if (name == "description") {
        def.description = textOf(c);
    } else if (name == "state") {
        def.state = textOf(c);
        checkEnum(def.state, {"running", "blocked", "paused", "shutdown", "shutoff", "crashed",
                              "disk-snapshot"}, "<state>");
    } else if (name == "creationTime") {
        def.creationTime = parseI64(textOf(c), "<creationTime>");
    } else if (name == "parent") {
        for (const xmlNode* p : elementChildren(c))
            if (elemName(p) == "name")
                def.parent = textOf(p);
    } else if (name == "memory") {
        def.memorySnapshot = attrOr(c, "snapshot");
        def.memoryFile = attrOr(c, "file");
        if (!def.memorySnapshot.empty())
            checkEnum(def.memorySnapshot, {"no", "internal", "external"}, "<memory snapshot>");
        if (def.memorySnapshot == "external" && def.memoryFile.empty())
            throw err::xml("external memory snapshots require a filename");
        if (!def.memoryFile.empty() && !def.memorySnapshot.empty() &&
            def.memorySnapshot != "external")
            throw err::xml("memory filename '" + def.memoryFile + "' requires external snapshot");
        if (!def.memoryFile.empty() && def.memoryFile.front() != '/')
            throw err::xml("memory snapshot file path '" + def.memoryFile + "' must be absolute");
    } else if (name == "disks") {
        def.hasDisks = true;
        for (const xmlNode* d : elementChildren(c)) {
            if (elemName(d) != "disk")
                throw err::xml("unexpected element <" + elemName(d) + "> in <disks>");
            def.disks.push_back(parseSnapshotDisk(d));
        }
    } else if (name == "active") {
        std::string v = textOf(c);
        checkEnum(v, {"0", "1"}, "<active>");
        def.active = v == "1";
    } else if (name == "domain" && attr(c, "type")) {
        def.domain = parseDomainNode(c, 0);
    } else if (name == "inactiveDomain") {
        def.inactiveDomain = parseDomainNode(c, 0);
    } else {
        def.extra.children.push_back(rawXml(c)); // <cookie>, a uuid-only <domain>
    }
}

} // namespace

SnapshotDef parseSnapshotXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, SNAPSHOT_PARSE_REDEFINE | SNAPSHOT_PARSE_VALIDATE, "parseSnapshotXML");
    XmlDoc doc = parseDocument(xml, "(domain_snapshot)");
    const xmlNode* root = rootElement(doc, "domainsnapshot");
    if (flags & SNAPSHOT_PARSE_VALIDATE)
        validateSchema(doc, "domainsnapshot.rng");
    SnapshotDef def;
    def.extra.attrs = otherAttrs(root, {});
    for (const xmlNode* c : elementChildren(root))
        parseChild(c, def);

    if (def.name.find('/') != std::string::npos)
        throw err::xml("invalid snapshot name '" + def.name + "': cannot contain '/'");
    if (def.name == "." || def.name == "..")
        throw err::xml("snapshot name '" + def.name + "' is not allowed");
    if (flags & SNAPSHOT_PARSE_REDEFINE) {
        if (def.name.empty())
            throw err::xml("a redefined snapshot must have a name");
        return def;
    }
    // A new snapshot: what it was taken from is the driver's to fill in.
    def.state.clear();
    def.parent.clear();
    def.active.reset();
    def.domain.reset();
    def.inactiveDomain.reset();
    def.creationTime = static_cast<int64_t>(std::time(nullptr));
    if (def.name.empty())
        def.name = std::to_string(*def.creationTime);
    return def;
}

std::string formatSnapshotXML(const SnapshotDef& def, const FormatOptions& opts)
{
    XmlWriter w;
    w.open("domainsnapshot");
    w.attrs(def.extra.attrs);
    w.leaf("name", def.name);
    w.leafIf("description", def.description);
    w.leafIf("state", def.state);
    if (!def.parent.empty())
        w.open("parent").leaf("name", def.parent).close();
    if (def.creationTime)
        w.leaf("creationTime", std::to_string(*def.creationTime));
    if (!def.memorySnapshot.empty() || !def.memoryFile.empty())
        w.open("memory").attrIf("snapshot", def.memorySnapshot).attrIf("file", def.memoryFile).close();
    if (def.hasDisks || !def.disks.empty()) {
        w.open("disks");
        for (const auto& d : def.disks) {
            w.open("disk").attr("name", d.name).attrIf("snapshot", d.snapshot).attrIf("type", d.type);
            w.attrs(d.extra.attrs);
            if (!d.sourceFile.empty() || !d.sourceExtra.empty()) {
                w.open("source").attrIf(diskSourceAttr(d.type), d.sourceFile);
                writeAttrs(w, d.sourceExtra);
                writeChildren(w, d.sourceExtra);
                w.close();
            }
            if (!d.driverType.empty())
                w.open("driver").attr("type", d.driverType).close();
            writeChildren(w, d.extra);
            w.close();
        }
        w.close();
    }
    if (def.active)
        w.leaf("active", *def.active ? "1" : "0");
    // The embedded configurations describe the snapshot, not a running
    // domain: never with an id.
    FormatOptions inner = opts;
    inner.id = -1;
    if (def.domain)
        formatDomain(w, *def.domain, inner);
    if (def.inactiveDomain) {
        XmlWriter d(w.depth());
        formatDomain(d, *def.inactiveDomain, inner);
        std::string text = d.take();
        // Same content model as <domain>, only the element name differs.
        size_t open = text.find("<domain");
        text.replace(open, 7, "<inactiveDomain");
        size_t close = text.rfind("</domain>");
        text.replace(close, 9, "</inactiveDomain>");
        w.appendFormatted(text);
    }
    writeChildren(w, def.extra);
    w.close();
    return w.take();
}

} // namespace virtbus::xml
