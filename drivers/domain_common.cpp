#include "domain_common.h"

#include <libxml/tree.h>

#include "xml/xml_util.h"

namespace virtbus::domain {

namespace {

// libvirt's public-API argument errors carry no "invalid argument: " prefix.
VirtError bareInvalidArg(std::string message)
{
    return VirtError(ErrCode::InvalidArg, ErrDomain::Domain, std::move(message));
}

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

} // namespace

void updateImpact(uint32_t& flags, bool active, bool persistent)
{
    if ((flags & (kAffectLive | kAffectConfig)) == 0)
        flags |= active ? kAffectLive : kAffectConfig;
    if (!active && (flags & kAffectLive))
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain, "domain is not running");
    if (!persistent && (flags & kAffectConfig))
        throw makeError(ErrCode::OperationInvalid, ErrDomain::Domain,
                        "transient domains do not have any persistent config");
}

void checkOneDef(uint32_t flags)
{
    if ((flags & kAffectLive) && (flags & kAffectConfig))
        throw bareInvalidArg("Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
}

std::vector<bool> parseCpuset(std::string_view set)
{
    std::vector<bool> map;
    auto setBit = [&](unsigned i, bool on) {
        if (i >= map.size())
            map.resize(i + 1, false);
        map[i] = on;
    };
    size_t pos = 0;
    while (pos < set.size()) {
        size_t end = set.find(',', pos);
        std::string_view item = set.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? set.size() : end + 1;
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item.empty())
            continue;
        bool negate = item.front() == '^';
        if (negate)
            item.remove_prefix(1);
        size_t dash = item.find('-');
        auto num = [&](std::string_view s) {
            if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos)
                throw err::invalidArg("Failed to parse bitmap '" + std::string(set) + "'");
            return static_cast<unsigned>(std::stoul(std::string(s)));
        };
        unsigned lo = num(item.substr(0, dash));
        unsigned hi = dash == std::string_view::npos ? lo : num(item.substr(dash + 1));
        if (hi < lo || hi >= 4096)
            throw err::invalidArg("Failed to parse bitmap '" + std::string(set) + "'");
        for (unsigned i = lo; i <= hi; ++i)
            setBit(i, !negate);
    }
    return map;
}

std::string formatCpuset(const std::vector<bool>& map)
{
    std::string out;
    for (size_t i = 0; i < map.size();) {
        if (!map[i]) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j + 1 < map.size() && map[j + 1])
            ++j;
        if (!out.empty())
            out += ',';
        out += std::to_string(i);
        if (j > i)
            out += '-' + std::to_string(j);
        i = j + 1;
    }
    return out;
}

void checkGetMetadataArgs(int32_t type, const std::string& uri)
{
    switch (type) {
    case kMetaDescription:
    case kMetaTitle:
        if (!uri.empty())
            throw bareInvalidArg("uri in virDomainGetMetadata must be NULL");
        break;
    case kMetaElement:
        if (uri.empty())
            throw bareInvalidArg("uri in virDomainGetMetadata must not be NULL");
        break;
    default:
        throw err::invalidArg("unknown metadata type '" + std::to_string(type) + "'");
    }
}

void checkSetMetadataArgs(int32_t type, const std::string& metadata, const std::string& key, const std::string& uri)
{
    switch (type) {
    case kMetaTitle:
        if (metadata.find('\n') != std::string::npos)
            throw bareInvalidArg("metadata title can't contain newlines");
        [[fallthrough]];
    case kMetaDescription:
        if (!key.empty())
            throw bareInvalidArg("key in virDomainSetMetadata must be NULL");
        if (!uri.empty())
            throw bareInvalidArg("uri in virDomainSetMetadata must be NULL");
        break;
    case kMetaElement:
        if (uri.empty())
            throw bareInvalidArg("uri in virDomainSetMetadata must not be NULL");
        if (!metadata.empty() && key.empty())
            throw bareInvalidArg("key in virDomainSetMetadata must not be NULL");
        break;
    default:
        throw err::invalidArg("unknown metadata type '" + std::to_string(type) + "'");
    }
}

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

VirtError metadataNotPresent()
{
    return makeError(ErrCode::NoDomainMetadata, ErrDomain::Domain, "Requested metadata element is not present");
}

} // namespace virtbus::domain
