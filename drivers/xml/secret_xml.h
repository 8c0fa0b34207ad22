// libvirt's <secret> document: a secret's properties (never its value,
// which travels separately through SetValue/GetValue).
#pragma once

#include "xml/domain_xml.h"

#include <optional>
#include <string>
#include <string_view>

namespace virtbus::xml {

// libvirt's virSecretUsageType; the numbers are API (virSecretGetUsageType).
enum class SecretUsageType : int {
    None = 0,
    Volume = 1,
    Ceph = 2,
    Iscsi = 3,
    Tls = 4,
    Vtpm = 5,
};

std::string_view secretUsageTypeToString(SecretUsageType type);
std::optional<SecretUsageType> secretUsageTypeFromString(std::string_view name);

struct SecretDef {
    bool ephemeral = false;
    bool isPrivate = false;
    std::string uuid; // canonical lowercase; generated when absent
    std::string description; // "" if none
    SecretUsageType usageType = SecretUsageType::None;
    // What the usage names, as libvirt's virSecretGetUsageID returns it: the
    // volume path, ceph name, iscsi target, tls name or vtpm name.
    std::string usageID;
    Preserved usageExtra; // other <usage> attributes and children
    Preserved extra; // other <secret> attributes and children
    bool operator==(const SecretDef&) const = default;
};

enum SecretParseFlags : unsigned {
    // Also validate against libvirt's secret.rng (VIR_SECRET_DEFINE_VALIDATE);
    // failures raise XmlInvalidSchema.
    SECRET_PARSE_VALIDATE = 1u << 0,
};

SecretDef parseSecretXML(std::string_view xml, unsigned flags = 0);
// No option changes a secret's XML; the parameter keeps every format's
// signature alike.
std::string formatSecretXML(const SecretDef& def, const FormatOptions& opts = {});

} // namespace virtbus::xml
