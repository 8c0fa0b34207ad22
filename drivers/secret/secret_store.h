// Secrets, natively: libvirt's secret driver semantics over a directory of
// our own. Each persistent secret is <uuid>.xml (its definition) and, once
// set, <uuid>.base64 (its value), both 0600 in a 0700 directory and written
// atomically. Ephemeral secrets never touch the disk; private ones refuse
// GetValue (the value stays usable inside the daemon, see internalValue()).
// Thread-safe: calls come from worker threads and the bus thread at once.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "object_drivers.h"
#include "xml/secret_xml.h"

namespace virtbus {

class SecretStore : public SecretDriver {
public:
    // `dir` holds the persistent secrets; created 0700 if missing. Files
    // that do not parse are skipped (and reported by loadWarnings()).
    explicit SecretStore(std::string dir);

    std::vector<std::string> listSecrets(uint32_t flags) override;
    std::string secretLookupByUUID(const std::string& uuid) override;
    std::string secretLookupByUsage(int32_t usageType, const std::string& usageID) override;
    bool secretExists(const std::string& uuid) override;
    SecretSummary secretSummary(const std::string& uuid) override;
    std::string secretDefineXML(const std::string& xml, uint32_t flags) override;
    std::vector<uint8_t> secretGetValue(const std::string& uuid, uint32_t flags) override;
    void secretSetValue(const std::string& uuid, const std::vector<uint8_t>& value, uint32_t flags) override;
    std::string secretGetXMLDesc(const std::string& uuid, uint32_t flags) override;
    void secretUndefine(const std::string& uuid) override;

    // The value for the daemon's own use (disk encryption, storage
    // authentication): private secrets too.
    std::vector<uint8_t> internalValue(const std::string& uuid);

    const std::vector<std::string>& loadWarnings() const { return warnings_; }

    // libvirt's limit on a secret value (REMOTE_SECRET_VALUE_MAX).
    static constexpr size_t kMaxValue = 65536;

private:
    struct Secret {
        xml::SecretDef def;
        std::optional<std::vector<uint8_t>> value;
    };
    Secret& find(const std::string& uuid);
    std::string path(const std::string& uuid, const char* ext) const;
    void load();

    std::string dir_;
    std::mutex mu_;
    std::map<std::string, Secret> secrets_; // by canonical UUID
    std::vector<std::string> warnings_;
};

} // namespace virtbus
