#include "error.h"

#include <cstdio>

namespace virtbus {

std::string_view errorPrefix(ErrCode code) noexcept
{
    // Texts follow libvirt's virErrorMsgStrings so clients can match them.
    switch (code) {
    case ErrCode::InternalError: return "internal error";
    case ErrCode::NoSupport: return "this function is not supported by the connection driver";
    case ErrCode::InvalidArg: return "invalid argument";
    case ErrCode::OperationFailed: return "operation failed";
    case ErrCode::XmlError: return "XML error";
    case ErrCode::DomExist: return "domain exists already";
    case ErrCode::OperationDenied: return "operation forbidden";
    case ErrCode::NoDomain: return "Domain not found";
    case ErrCode::NoNetwork: return "Network not found";
    case ErrCode::InvalidMac: return "invalid MAC address";
    case ErrCode::NoStoragePool: return "Storage pool not found";
    case ErrCode::NoStorageVol: return "Storage volume not found";
    case ErrCode::NoNodeDevice: return "Node device not found";
    case ErrCode::OperationInvalid: return "Requested operation is not valid";
    case ErrCode::NoInterface: return "Interface not found";
    case ErrCode::MultipleInterfaces: return "multiple matching interfaces found";
    case ErrCode::NoNwfilter: return "Network filter not found";
    case ErrCode::InvalidSecret: return "Invalid secret";
    case ErrCode::NoSecret: return "Secret not found";
    case ErrCode::ConfigUnsupported: return "unsupported configuration";
    case ErrCode::NoDomainSnapshot: return "Domain snapshot not found";
    case ErrCode::ArgumentUnsupported: return "argument unsupported";
    case ErrCode::NoDomainMetadata: return "metadata not found";
    case ErrCode::Overflow: return "numerical overflow";
    case ErrCode::OperationUnsupported: return "Operation not supported";
    case ErrCode::ResourceBusy: return "resource busy";
    case ErrCode::StorageVolExist: return "storage volume already exists";
    case ErrCode::XmlInvalidSchema: return "XML document failed to validate against schema";
    }
    return "unknown error";
}

VirtError makeError(ErrCode code, ErrDomain domain, std::string_view detail)
{
    std::string msg(errorPrefix(code));
    if (!detail.empty()) {
        msg += ": ";
        msg += detail;
    }
    return VirtError(code, domain, std::move(msg));
}

namespace err {
VirtError notSupported(std::string_view fn) { return makeError(ErrCode::NoSupport, ErrDomain::None, fn); }
VirtError invalidArg(std::string_view d) { return makeError(ErrCode::InvalidArg, ErrDomain::None, d); }
VirtError unsupportedFlags(uint64_t flags, std::string_view fn)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "unsupported flags (0x%llx) in function ", static_cast<unsigned long long>(flags));
    // libvirt's virCheckFlags reports this without the "invalid argument"
    // prefix its other VIR_ERR_INVALID_ARG errors carry.
    return VirtError(ErrCode::InvalidArg, ErrDomain::None, std::string(buf) + std::string(fn));
}
VirtError operationInvalid(std::string_view d) { return makeError(ErrCode::OperationInvalid, ErrDomain::None, d); }
VirtError operationFailed(std::string_view d) { return makeError(ErrCode::OperationFailed, ErrDomain::None, d); }
VirtError internal(std::string_view d) { return makeError(ErrCode::InternalError, ErrDomain::None, d); }
VirtError xml(std::string_view d) { return makeError(ErrCode::XmlError, ErrDomain::Xml, d); }
VirtError configUnsupported(std::string_view d) { return makeError(ErrCode::ConfigUnsupported, ErrDomain::Domain, d); }
VirtError noDomain(std::string_view d) { return makeError(ErrCode::NoDomain, ErrDomain::Domain, d); }
VirtError noSnapshot(std::string_view d) { return makeError(ErrCode::NoDomainSnapshot, ErrDomain::DomainSnapshot, d); }
} // namespace err

void checkFlags(uint64_t flags, uint64_t allowed, std::string_view function)
{
    if (flags & ~allowed)
        throw err::unsupportedFlags(flags & ~allowed, function);
}

} // namespace virtbus
