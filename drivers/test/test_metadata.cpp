// <title>, <description> and namespaced <metadata> elements
// (virDomainGetMetadata / virDomainSetMetadata), with the argument checks
// libvirt's public API makes before the driver sees the call (shared with
// the QEMU driver in domain_common).
#include "test/test_internal.h"

#include "domain_common.h"

namespace virtbus {

using namespace testdrv;

using domain::checkGetMetadataArgs;
using domain::checkSetMetadataArgs;
using domain::kMetaDescription;
using domain::kMetaElement;
using domain::kMetaTitle;
using domain::metadataNotPresent;
using domain::namespacedElement;
using domain::plainElement;

std::string TestDriver::domainGetMetadata(const std::string& uuid, int32_t type, const std::string& uri,
                                          uint32_t flags)
{
    checkGetMetadataArgs(type, uri);
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainGetMetadata");
    std::lock_guard lock(mu_);
    const xml::DomainDef& def = getOneDef(dom(uuid), flags);
    if (type == kMetaDescription) {
        if (def.description.empty())
            throw metadataNotPresent();
        return def.description;
    }
    if (type == kMetaTitle) {
        if (def.title.empty())
            throw metadataNotPresent();
        return def.title;
    }
    auto it = def.metadata.find(uri);
    if (it == def.metadata.end())
        throw metadataNotPresent();
    return plainElement(it->second);
}

void TestDriver::domainSetMetadata(const std::string& uuid, int32_t type, const std::string& metadata,
                                   const std::string& key, const std::string& uri, uint32_t flags)
{
    checkSetMetadataArgs(type, metadata, key, uri);
    checkFlags(flags, kAffectLive | kAffectConfig, "testDomainSetMetadata");
    std::string element = type == kMetaElement && !metadata.empty() ? namespacedElement(metadata, key, uri) : "";
    Events ev;
    {
        std::lock_guard lock(mu_);
        TestDomain& d = dom(uuid);
        Defs defs = getDefs(d, flags);
        for (xml::DomainDef* def : {defs.live, defs.config}) {
            if (!def)
                continue;
            if (type == kMetaDescription)
                def->description = metadata;
            else if (type == kMetaTitle)
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
