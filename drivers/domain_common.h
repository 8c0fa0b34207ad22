// The hypervisor-independent parts of domain APIs that more than one driver
// implements: which definition a call affects, CPU sets, and the metadata
// argument checks and element forms of virDomain{Get,Set}Metadata.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"

namespace virtbus::domain {

enum : uint32_t { kAffectLive = 1, kAffectConfig = 2 };

// virDomainObjUpdateModificationImpact: CURRENT becomes LIVE or CONFIG by
// state; LIVE on an inactive and CONFIG on a transient domain are refused.
void updateImpact(uint32_t& flags, bool active, bool persistent);
// virDomainObjGetOneDefState's check first: LIVE and CONFIG together.
void checkOneDef(uint32_t flags);

std::vector<bool> parseCpuset(std::string_view set);   // "0-3,^2,8"
std::string formatCpuset(const std::vector<bool>& map); // "0-1,3"

// ---- metadata ----
enum : int32_t { kMetaDescription = 0, kMetaTitle = 1, kMetaElement = 2 };
// The checks libvirt's public API makes before the driver sees the call.
void checkGetMetadataArgs(int32_t type, const std::string& uri);
void checkSetMetadataArgs(int32_t type, const std::string& metadata, const std::string& key,
                          const std::string& uri);
// The stored form: every element of the fragment in namespace `uri` with
// prefix `key`, as libvirt keeps it inside <metadata>.
std::string namespacedElement(const std::string& text, const std::string& key, const std::string& uri);
// What virDomainGetMetadata returns for an element: the element without
// its namespace, formatted by libxml2.
std::string plainElement(const std::string& stored);
VirtError metadataNotPresent();

} // namespace virtbus::domain
