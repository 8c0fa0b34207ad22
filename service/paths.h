// Object paths of the org.libvirt wire contract. Paths derive from stable
// keys only (UUID, key, name), so every lookup of an object returns the same
// path that listing it returned, and no caller-chosen byte reaches a path
// unescaped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace virtbus::paths {

inline constexpr std::string_view Root = "/org/libvirt";

// enc(): keeps [A-Za-z0-9], writes every other byte as '_' + two lower-case
// hex digits ("scsi_host2" -> "scsi_5fhost2").
std::string encode(std::string_view raw);
// Inverse of encode(); nullopt when `enc` is not a valid encoding.
std::optional<std::string> decode(std::string_view enc);

// "_" + UUID with '-' turned into '_'.
std::string uuidElement(std::string_view uuid);
// Inverse of uuidElement(); nullopt unless it holds a well-formed UUID.
std::optional<std::string> uuidFromElement(std::string_view element);

// <conn>/<kind>/<element> helpers.
std::string child(std::string_view conn, std::string_view kind, std::string_view element);
// The element after "<conn>/<kind>/" of `path`, or nullopt if `path` is not
// directly below that prefix.
std::optional<std::string_view> childElement(std::string_view path, std::string_view prefix);

std::string domain(std::string_view conn, std::string_view uuid);
std::optional<std::string> domainUuid(std::string_view conn, std::string_view path);

// Generic forms for the other kinds: <conn>/<kind>/_<uuid> (network,
// storagepool, secret, nwfilter) and <conn>/<kind>/<enc(key)> (storagevol
// by key, nodedev by name, interface by MAC).
std::string uuidChild(std::string_view conn, std::string_view kind, std::string_view uuid);
std::optional<std::string> uuidOfChild(std::string_view conn, std::string_view kind, std::string_view path);
std::string encodedChild(std::string_view conn, std::string_view kind, std::string_view key);
std::optional<std::string> keyOfChild(std::string_view conn, std::string_view kind, std::string_view path);

// <conn>/domainsnapshot/_<uuid>_<enc(name)>
std::string snapshot(std::string_view conn, std::string_view uuid, std::string_view name);
struct SnapshotKey {
    std::string uuid;
    std::string name;
};
std::optional<SnapshotKey> snapshotKey(std::string_view conn, std::string_view path);

} // namespace virtbus::paths
