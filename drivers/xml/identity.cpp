#include "identity.h"

#include "xml_util.h"

namespace virtbus::xml {

namespace {

const xmlNode* child(const xmlNode* parent, std::string_view name)
{
    for (const xmlNode* c : elementChildren(parent))
        if (elemName(c) == name)
            return c;
    return nullptr;
}

std::string childText(const xmlNode* parent, std::string_view name)
{
    const xmlNode* c = child(parent, name);
    return c ? textOf(c) : std::string();
}

// The element of <usage> that names what a secret is for, per usage type.
const char* usageElement(std::string_view type)
{
    if (type == "volume")
        return "volume";
    if (type == "iscsi")
        return "target";
    return "name"; // ceph, tls, vtpm
}

} // namespace

std::optional<Identity> peekIdentity(const std::string& text)
{
    XmlDoc doc;
    try {
        doc = parseDocument(text, "(identity)");
    } catch (const VirtError&) {
        return std::nullopt;
    }
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root)
        return std::nullopt;
    Identity id;
    id.root = elemName(root);
    id.name = childText(root, "name");
    id.uuid = childText(root, "uuid");
    if (const xmlNode* mac = child(root, "mac"))
        id.mac = attrOr(mac, "address");
    if (const xmlNode* usage = child(root, "usage")) {
        id.usageType = attrOr(usage, "type");
        id.usageId = childText(usage, usageElement(id.usageType));
    }
    return id;
}

} // namespace virtbus::xml
