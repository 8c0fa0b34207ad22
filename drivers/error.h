// The one error type every driver raises. It carries libvirt's error code,
// error domain and fully formatted message, because D-Bus clients of
// libvirt-dbus match on the message text; the service maps it to
// org.libvirt.Error in exactly one place (service/error_map.cpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace virtbus {

// libvirt's virErrorNumber values (only those virtbus raises).
enum class ErrCode : int {
    InternalError = 1,
    NoSupport = 3,
    InvalidArg = 8,
    OperationFailed = 9,
    XmlError = 27,
    DomExist = 28,
    OperationDenied = 29,
    NoDomain = 42,
    NoNetwork = 43,
    InvalidMac = 44,
    NoStoragePool = 49,
    NoStorageVol = 50,
    NoNodeDevice = 53,
    OperationInvalid = 55,
    NoInterface = 57,
    MultipleInterfaces = 59,
    NoNwfilter = 62,
    InvalidSecret = 65,
    NoSecret = 66,
    ConfigUnsupported = 67,
    NoDomainSnapshot = 72,
    ArgumentUnsupported = 74,
    NoDomainMetadata = 80,
    Overflow = 82,
    OperationUnsupported = 84,
    ResourceBusy = 87,
    StorageVolExist = 90,
    XmlInvalidSchema = 92,
};

// libvirt's virErrorDomain values (only those virtbus uses).
enum class ErrDomain : int {
    None = 0,
    Xml = 5,
    Dom = 6,
    Conf = 9,
    Qemu = 10,
    Test = 12,
    Storage = 18,
    Network = 19,
    Domain = 20,
    NodeDev = 22,
    Interface = 26,
    Secret = 30,
    Nwfilter = 33,
    DomainSnapshot = 35,
};

class VirtError : public std::runtime_error {
public:
    VirtError(ErrCode code, ErrDomain domain, std::string message)
        : std::runtime_error(std::move(message)), code_(code), domain_(domain)
    {
    }
    ErrCode code() const noexcept { return code_; }
    ErrDomain domain() const noexcept { return domain_; }

private:
    ErrCode code_;
    ErrDomain domain_;
};

// libvirt's fixed prefix for a code ("Domain not found", ...), as
// virerror.c formats it: "<prefix>: <detail>".
std::string_view errorPrefix(ErrCode code) noexcept;

// Builds a VirtError with libvirt's wording: errorPrefix(code) + ": " + detail.
VirtError makeError(ErrCode code, ErrDomain domain, std::string_view detail);

// Shorthands for the errors every driver needs.
namespace err {
VirtError notSupported(std::string_view libvirtFunction);
VirtError invalidArg(std::string_view detail);
VirtError unsupportedFlags(uint64_t flags, std::string_view function);
VirtError operationInvalid(std::string_view detail);
VirtError operationFailed(std::string_view detail);
VirtError internal(std::string_view detail);
VirtError xml(std::string_view detail);
VirtError configUnsupported(std::string_view detail);
VirtError noDomain(std::string_view detail);
VirtError noSnapshot(std::string_view detail);
} // namespace err

// Fails with libvirt's "unsupported flags (0x..) in function F" when `flags`
// has a bit outside `allowed`.
void checkFlags(uint64_t flags, uint64_t allowed, std::string_view function);

} // namespace virtbus
