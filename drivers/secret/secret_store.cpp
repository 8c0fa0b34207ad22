#include "secret_store.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "fileutil.h"

namespace virtbus {

namespace {

// virConnectListAllSecrets flags.
constexpr uint32_t kListEphemeral = 1, kListNoEphemeral = 2, kListPrivate = 4, kListNoPrivate = 8;
constexpr uint32_t kDefineValidate = 1;

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string toBase64(const std::vector<uint8_t>& in)
{
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = uint32_t(in[i]) << 16;
        if (i + 1 < in.size())
            n |= uint32_t(in[i + 1]) << 8;
        if (i + 2 < in.size())
            n |= in[i + 2];
        out += kB64[(n >> 18) & 63];
        out += kB64[(n >> 12) & 63];
        out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kB64[n & 63] : '=';
    }
    return out;
}

std::optional<std::vector<uint8_t>> fromBase64(const std::string& in)
{
    std::vector<uint8_t> out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=' || c == '\n')
            continue;
        const char* p = c ? std::strchr(kB64, c) : nullptr;
        if (!p)
            return std::nullopt;
        acc = (acc << 6) | uint32_t(p - kB64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(uint8_t(acc >> bits));
        }
    }
    return out;
}

VirtError noSecret(const std::string& detail) { return makeError(ErrCode::NoSecret, ErrDomain::Secret, detail); }

std::string usageText(const xml::SecretDef& d)
{
    return std::string(xml::secretUsageTypeToString(d.usageType)) + " " + d.usageID;
}

} // namespace

SecretStore::SecretStore(std::string dir) : dir_(std::move(dir))
{
    makeDirs(dir_, 0700, ErrDomain::Secret);
    load();
}

std::string SecretStore::path(const std::string& uuid, const char* ext) const { return dir_ + "/" + uuid + ext; }

void SecretStore::load()
{
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir_.c_str()), closedir);
    if (!d)
        throw systemError(ErrDomain::Secret, "cannot open directory '" + dir_ + "'", errno);
    while (dirent* e = readdir(d.get())) {
        std::string name = e->d_name;
        if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".xml") != 0)
            continue;
        std::string file = dir_ + "/" + name;
        try {
            auto text = readFile(file);
            if (!text)
                throw systemError(ErrDomain::Secret, "cannot read '" + file + "'", errno);
            Secret s {xml::parseSecretXML(*text), std::nullopt};
            // The file name is the UUID: a renamed or copied file would
            // otherwise shadow another secret.
            if (s.def.uuid + ".xml" != name || s.def.ephemeral)
                throw err::internal("'" + file + "' does not hold the secret its name says");
            if (auto v = readFile(path(s.def.uuid, ".base64"))) {
                s.value = fromBase64(*v);
                if (!s.value)
                    warnings_.push_back("ignoring the unreadable value of secret " + s.def.uuid);
            }
            secrets_.emplace(s.def.uuid, std::move(s));
        } catch (const VirtError& x) {
            warnings_.push_back("ignoring " + file + ": " + x.what());
        }
    }
}

SecretStore::Secret& SecretStore::find(const std::string& uuid)
{
    auto it = secrets_.find(xml::normalizeUUID(uuid));
    if (it == secrets_.end())
        throw noSecret("no secret with matching uuid '" + uuid + "'");
    return it->second;
}

std::vector<std::string> SecretStore::listSecrets(uint32_t flags)
{
    checkFlags(flags, kListEphemeral | kListNoEphemeral | kListPrivate | kListNoPrivate, "virConnectListAllSecrets");
    auto pass = [](uint32_t f, uint32_t yes, uint32_t no, bool v) {
        bool both = (f & yes) && (f & no);
        return both || !(f & (yes | no)) || (v ? (f & yes) : (f & no));
    };
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [uuid, s] : secrets_)
        if (pass(flags, kListEphemeral, kListNoEphemeral, s.def.ephemeral)
            && pass(flags, kListPrivate, kListNoPrivate, s.def.isPrivate))
            out.push_back(uuid);
    return out;
}

std::string SecretStore::secretLookupByUUID(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return find(uuid).def.uuid;
}

std::string SecretStore::secretLookupByUsage(int32_t usageType, const std::string& usageID)
{
    std::lock_guard lock(mu_);
    for (const auto& [uuid, s] : secrets_)
        if (static_cast<int32_t>(s.def.usageType) == usageType && s.def.usageID == usageID)
            return uuid;
    throw noSecret("no secret with matching usage '" + usageID + "'");
}

bool SecretStore::secretExists(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    return secrets_.count(uuid) != 0;
}

SecretSummary SecretStore::secretSummary(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    const auto& d = find(uuid).def;
    return {d.uuid, d.usageID, static_cast<int32_t>(d.usageType)};
}

std::string SecretStore::secretDefineXML(const std::string& text, uint32_t flags)
{
    checkFlags(flags, kDefineValidate, "virSecretDefineXML");
    xml::SecretDef def = xml::parseSecretXML(text, flags & kDefineValidate ? unsigned(xml::SECRET_PARSE_VALIDATE) : 0u);
    bool added;
    {
        std::lock_guard lock(mu_);
        for (const auto& [uuid, s] : secrets_) {
            if (uuid != def.uuid && def.usageType != xml::SecretUsageType::None && s.def.usageType == def.usageType
                && s.def.usageID == def.usageID)
                throw err::internal("a secret with UUID " + uuid + " already defined for use with " + def.usageID);
        }
        auto it = secrets_.find(def.uuid);
        added = it == secrets_.end();
        if (!added) {
            const auto& old = it->second.def;
            if (old.usageType != def.usageType || old.usageID != def.usageID)
                throw err::internal(
                    "a secret with UUID " + def.uuid + " is already defined for use with " + usageText(old));
            if (old.isPrivate && !def.isPrivate)
                throw err::internal("cannot change private flag on existing secret");
        }
        std::string file = path(def.uuid, ".xml");
        if (!def.ephemeral) {
            writeFileAtomic(file, xml::formatSecretXML(def), "saving secret '" + def.uuid + "'", ErrDomain::Secret);
        } else if (!added) {
            // Made ephemeral: nothing of it may stay on disk.
            unlink(file.c_str());
            unlink(path(def.uuid, ".base64").c_str());
        }
        if (added)
            secrets_.emplace(def.uuid, Secret {def, std::nullopt});
        else
            it->second.def = def;
    }
    if (auto* s = sink()) {
        s->secretLifecycle(def.uuid, ev::SecretDefined, 0);
        if (added)
            s->objectAdded({ObjectType::Secret, def.uuid, {}});
    }
    return def.uuid;
}

std::vector<uint8_t> SecretStore::secretGetValue(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "virSecretGetValue");
    std::lock_guard lock(mu_);
    Secret& s = find(uuid);
    if (s.def.isPrivate)
        throw makeError(ErrCode::InvalidSecret, ErrDomain::Secret, "secret is private");
    if (!s.value)
        throw noSecret("secret '" + s.def.uuid + "' does not have a value");
    return *s.value;
}

std::vector<uint8_t> SecretStore::internalValue(const std::string& uuid)
{
    std::lock_guard lock(mu_);
    Secret& s = find(uuid);
    if (!s.value)
        throw noSecret("secret '" + s.def.uuid + "' does not have a value");
    return *s.value;
}

void SecretStore::secretSetValue(const std::string& uuid, const std::vector<uint8_t>& value, uint32_t flags)
{
    checkFlags(flags, 0, "virSecretSetValue");
    if (value.size() > kMaxValue)
        throw err::invalidArg("secret value of " + std::to_string(value.size()) + " bytes exceeds the limit of "
            + std::to_string(kMaxValue));
    std::lock_guard lock(mu_);
    Secret& s = find(uuid);
    if (!s.def.ephemeral)
        writeFileAtomic(path(s.def.uuid, ".base64"), toBase64(value), "saving the value of secret '" + s.def.uuid + "'",
            ErrDomain::Secret);
    s.value = value;
}

std::string SecretStore::secretGetXMLDesc(const std::string& uuid, uint32_t flags)
{
    checkFlags(flags, 0, "virSecretGetXMLDesc");
    std::lock_guard lock(mu_);
    return xml::formatSecretXML(find(uuid).def);
}

void SecretStore::secretUndefine(const std::string& uuid)
{
    std::string key;
    {
        std::lock_guard lock(mu_);
        key = find(uuid).def.uuid;
        // Value first: a crash in between leaves a definition without a
        // value, never a value nobody can see or remove.
        for (const char* ext : {".base64", ".xml"}) {
            std::string p = path(key, ext);
            if (unlink(p.c_str()) != 0 && errno != ENOENT)
                throw systemError(ErrDomain::Secret, "cannot remove '" + p + "'", errno);
        }
        secrets_.erase(key);
    }
    if (auto* s = sink()) {
        s->secretLifecycle(key, ev::SecretUndefined, 0);
        s->objectRemoved({ObjectType::Secret, key, {}});
    }
}

} // namespace virtbus
