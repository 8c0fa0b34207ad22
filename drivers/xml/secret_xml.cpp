// Secret XML <-> SecretDef, following libvirt's secret_conf.c.
#include "xml/secret_xml.h"

#include "xml/domain_internal.h"

#include <array>
#include <utility>

namespace virtbus::xml {

namespace {

using namespace detail;

constexpr std::array<std::pair<SecretUsageType, std::string_view>, 6> kUsageNames {{
    {SecretUsageType::None, "none"},
    {SecretUsageType::Volume, "volume"},
    {SecretUsageType::Ceph, "ceph"},
    {SecretUsageType::Iscsi, "iscsi"},
    {SecretUsageType::Tls, "tls"},
    {SecretUsageType::Vtpm, "vtpm"},
}};

// The <usage> child naming what the secret is for, and the libvirt message
// when it is missing.
struct UsageElement {
    const char* element;
    const char* missing;
};

UsageElement usageElement(SecretUsageType type)
{
    switch (type) {
    case SecretUsageType::Volume: return {"volume", "volume usage specified, but volume path is missing"};
    case SecretUsageType::Ceph: return {"name", "Ceph usage specified, but name is missing"};
    case SecretUsageType::Iscsi: return {"target", "iSCSI usage specified, but target is missing"};
    case SecretUsageType::Tls: return {"name", "TLS usage specified, but name is missing"};
    case SecretUsageType::Vtpm: return {"name", "vTPM usage specified, but name is missing"};
    case SecretUsageType::None: break;
    }
    return {nullptr, nullptr};
}

// No attributes and no child elements: what libvirt reads as a string.
bool textOnly(const xmlNode* n)
{
    if (n->properties)
        return false;
    for (const xmlNode* c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return false;
    return true;
}

void parseUsage(const xmlNode* n, SecretDef& def)
{
    auto type = attr(n, "type");
    if (!type)
        throw err::xml("unknown secret usage type");
    auto usage = secretUsageTypeFromString(*type);
    if (!usage)
        throw makeError(ErrCode::ConfigUnsupported, ErrDomain::Secret, "unknown secret usage type " + *type);
    def.usageType = *usage;
    def.usageExtra.attrs = otherAttrs(n, {"type"});
    UsageElement ue = usageElement(def.usageType);
    bool found = false;
    for (const xmlNode* c : elementChildren(n)) {
        if (ue.element && !found && elemName(c) == ue.element && textOnly(c)) {
            found = true;
            def.usageID = textOf(c);
        } else {
            def.usageExtra.children.push_back(rawXml(c));
        }
    }
    // libvirt reads the identifier as an XPath string, so an empty element
    // counts as missing.
    if (ue.element && def.usageID.empty())
        throw err::xml(ue.missing);
    // The usage type libvirt formats as no <usage> at all.
    if (def.usageType == SecretUsageType::None)
        def.usageExtra = {};
}

} // namespace

std::string_view secretUsageTypeToString(SecretUsageType type)
{
    for (const auto& [t, name] : kUsageNames)
        if (t == type)
            return name;
    return {};
}

std::optional<SecretUsageType> secretUsageTypeFromString(std::string_view name)
{
    for (const auto& [t, n] : kUsageNames)
        if (n == name)
            return t;
    return std::nullopt;
}

SecretDef parseSecretXML(std::string_view xml, unsigned flags)
{
    checkFlags(flags, SECRET_PARSE_VALIDATE, "parseSecretXML");
    XmlDoc doc = parseDocument(xml, "(definition_of_secret)");
    const xmlNode* root = rootElement(doc, "secret");
    if (flags & SECRET_PARSE_VALIDATE)
        validateSchema(doc, "secret.rng");

    SecretDef def;
    auto yesNo = [root](const char* name, bool& out) {
        if (auto v = attr(root, name)) {
            if (*v != "yes" && *v != "no")
                throw err::xml("invalid value of '" + std::string(name) + "'");
            out = *v == "yes";
        }
    };
    yesNo("ephemeral", def.ephemeral);
    yesNo("private", def.isPrivate);
    def.extra.attrs = otherAttrs(root, {"ephemeral", "private"});

    // The first <usage> and the first text-only <uuid> and <description>
    // are modeled. Like libvirt, later ones are ignored rather than kept: a
    // kept one would take the place of a first one that formats to nothing
    // (an empty description) on the next parse. Richer ones are kept.
    bool haveUUID = false, haveDescription = false, haveUsage = false;
    for (const xmlNode* c : elementChildren(root)) {
        std::string name = elemName(c);
        bool text = textOnly(c);
        if ((name == "uuid" && text && std::exchange(haveUUID, true))
            || (name == "description" && text && std::exchange(haveDescription, true))
            || (name == "usage" && std::exchange(haveUsage, true)))
            continue;
        if (name == "uuid" && text) {
            std::string u = textOf(c);
            if (!isValidUUID(u))
                throw err::xml("malformed uuid element '" + u + "'");
            def.uuid = normalizeUUID(u);
        } else if (name == "description" && text) {
            def.description = textOf(c);
        } else if (name == "usage") {
            parseUsage(c, def);
        } else {
            def.extra.children.push_back(rawXml(c));
        }
    }
    if (!haveUUID)
        def.uuid = generateUUID();
    return def;
}

std::string formatSecretXML(const SecretDef& def, const FormatOptions&)
{
    XmlWriter w;
    w.open("secret").attr("ephemeral", def.ephemeral ? "yes" : "no");
    w.attr("private", def.isPrivate ? "yes" : "no");
    writeAttrs(w, def.extra);
    w.leaf("uuid", def.uuid);
    w.leafIf("description", def.description);
    UsageElement ue = usageElement(def.usageType);
    if (ue.element) {
        w.open("usage").attr("type", secretUsageTypeToString(def.usageType));
        writeAttrs(w, def.usageExtra);
        w.leaf(ue.element, def.usageID);
        writeChildren(w, def.usageExtra);
        w.close();
    }
    writeChildren(w, def.extra);
    w.close();
    return w.take();
}

} // namespace virtbus::xml
