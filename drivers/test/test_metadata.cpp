// <title>, <description> and namespaced <metadata> elements
// (virDomainGetMetadata / virDomainSetMetadata), with the argument checks
// libvirt's public API makes before the driver sees the call.
#include "test/test_internal.h"

#include "xml/xml_util.h"

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

namespace virtbus {

using namespace testdrv;

namespace {

enum : int32_t { kDescription = 0, kTitle = 1, kElement = 2 };

void setNamespace(xmlNode* node, xmlNs* ns)
{
    for (xmlNode* n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlSetNs(n, ns);
        setNamespace(n->children, ns);
    }
}

void clearNamespace(xmlNode* node)
{
    for (xmlNode* n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        n->ns = nullptr;
        clearNamespace(n->children);
    }
}

// The stored form: every element of the fragment in namespace `uri` with
// prefix `key`, as libvirt keeps it inside <metadata>.
std::string namespacedElement(const std::string& text, const std::string& key, const std::string& uri)
{
    xml::XmlDoc doc = xml::parseDocument(text, "(metadata_xml)");
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root)
        throw err::xml("(metadata_xml): missing root element");
    if (xmlValidateNCName(reinterpret_cast<const xmlChar*>(key.c_str()), 0) != 0)
        throw err::internal("failed to validate prefix for a new XML namespace");
    xmlNs* ns = xmlNewNs(root, reinterpret_cast<const xmlChar*>(uri.c_str()),
                         reinterpret_cast<const xmlChar*>(key.c_str()));
    if (!ns)
        throw err::internal("failed to create a new XML namespace");
    setNamespace(root, ns);
    return xml::rawXml(root);
}

// What virDomainGetMetadata returns for an element: the element without
// its namespace, formatted by libxml2.
std::string plainElement(const std::string& stored)
{
    xml::XmlDoc doc = xml::parseDocument(stored, "(metadata)");
    xmlNode* root = xmlDocGetRootElement(doc.get());
    clearNamespace(root);
    xmlFreeNsList(root->nsDef);
    root->nsDef = nullptr;
    xmlBuffer* buf = xmlBufferCreate();
    if (!buf)
        throw err::internal("cannot allocate an XML buffer");
    xmlNodeDump(buf, doc.get(), root, 0, 1);
    std::string out(reinterpret_cast<const char*>(xmlBufferContent(buf)), static_cast<size_t>(xmlBufferLength(buf)));
    xmlBufferFree(buf);
    return out;
}

VirtError notPresent()
{
    return makeError(ErrCode::NoDomainMetadata, ErrDomain::Domain, "Requested metadata element is not present");
}

} // namespace

std::string TestDriver::domainGetMetadata(const std::string& uuid, int32_t type, const std::string& uri,
                                          uint32_t flags)
{
    switch (type) {
    case kDescription:
    case kTitle:
        if (!uri.empty())
            throw bareInvalidArg("uri in virDomainGetMetadata must be NULL");
        break;
    case kElement:
        if (uri.empty())
            throw bareInvalidArg("uri in virDomainGetMetadata must not be NULL");
        break;
    default:
        throw err::invalidArg("unknown metadata type '" + std::to_string(type) + "'");
    }
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainGetMetadata");
    std::lock_guard lock(mu_);
    const xml::DomainDef& def = getOneDef(dom(uuid), flags);
    if (type == kDescription) {
        if (def.description.empty())
            throw notPresent();
        return def.description;
    }
    if (type == kTitle) {
        if (def.title.empty())
            throw notPresent();
        return def.title;
    }
    auto it = def.metadata.find(uri);
    if (it == def.metadata.end())
        throw notPresent();
    return plainElement(it->second);
}

void TestDriver::domainSetMetadata(const std::string& uuid, int32_t type, const std::string& metadata,
                                   const std::string& key, const std::string& uri, uint32_t flags)
{
    switch (type) {
    case kTitle:
        if (metadata.find('\n') != std::string::npos)
            throw bareInvalidArg("metadata title can't contain newlines");
        [[fallthrough]];
    case kDescription:
        if (!key.empty())
            throw bareInvalidArg("key in virDomainSetMetadata must be NULL");
        if (!uri.empty())
            throw bareInvalidArg("uri in virDomainSetMetadata must be NULL");
        break;
    case kElement:
        if (uri.empty())
            throw bareInvalidArg("uri in virDomainSetMetadata must not be NULL");
        if (!metadata.empty() && key.empty())
            throw bareInvalidArg("key in virDomainSetMetadata must not be NULL");
        break;
    default:
        throw err::invalidArg("unknown metadata type '" + std::to_string(type) + "'");
    }
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetMetadata");
    std::string element = type == kElement && !metadata.empty() ? namespacedElement(metadata, key, uri) : "";
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        Defs defs = getDefs(d, flags);
        for (xml::DomainDef* def : {defs.live, defs.config}) {
            if (!def)
                continue;
            if (type == kDescription)
                def->description = metadata;
            else if (type == kTitle)
                def->title = metadata;
            else if (element.empty())
                def->metadata.erase(uri);
            else
                def->metadata[uri] = element;
        }
        ev.signal(d.uuid(), sig::MetadataChange{type, uri});
    }
    flush(ev);
}

} // namespace virtbus
