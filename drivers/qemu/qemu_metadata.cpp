// <title>, <description> and namespaced <metadata> of QEMU domains
// (qemuDomainGetMetadata / qemuDomainSetMetadata): the argument checks and
// element forms are shared with the test driver (domain_common).
#include "domain_common.h"
#include "qemu/qemu_driver.h"
#include "qemu/qemu_internal.h"

namespace virtbus {

using namespace domain;

std::string QemuDriver::domainGetMetadata(const std::string& uuid, int32_t type, const std::string& uri,
                                          uint32_t flags)
{
    checkGetMetadataArgs(type, uri);
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainGetMetadata");
    checkOneDef(flags);
    std::lock_guard lock(mu_);
    auto d = findLocked(uuid);
    updateImpact(flags, d->active(), d->persistent);
    const xml::DomainDef& def = (flags & kAffectConfig) ? *d->def : d->current();
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

void QemuDriver::domainSetMetadata(const std::string& uuid, int32_t type, const std::string& metadata,
                                   const std::string& key, const std::string& uri, uint32_t flags)
{
    checkSetMetadataArgs(type, metadata, key, uri);
    checkFlags(flags, kAffectLive | kAffectConfig, "qemuDomainSetMetadata");
    std::string element = type == kMetaElement && !metadata.empty() ? namespacedElement(metadata, key, uri) : "";
    auto d = find(uuid);
    std::lock_guard job(d->job);
    {
        std::lock_guard lock(mu_);
        updateImpact(flags, d->active(), d->persistent);
        auto apply = [&](xml::DomainDef& def) {
            if (type == kMetaDescription)
                def.description = metadata;
            else if (type == kMetaTitle)
                def.title = metadata;
            else if (element.empty())
                def.metadata.erase(uri);
            else
                def.metadata[uri] = element;
        };
        if ((flags & kAffectLive) && d->live)
            apply(*d->live);
        if (flags & kAffectConfig) {
            apply(*d->def);
            saveConfig(*d->def);
        }
        emitSignal(*d, sig::MetadataChange{type, type == kMetaElement ? uri : std::string()});
    }
    if (flags & kAffectLive)
        writeStatus(*d);
}

} // namespace virtbus
