// The canned answers of FindStoragePoolSources.
#include "test/test_storage_internal.h"

#include "xml/xml_util.h"

#include <optional>
#include <string_view>

namespace virtbus {

namespace {

VirtError testErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Test, detail); }
VirtError storageErr(ErrCode code, std::string_view detail) { return makeError(code, ErrDomain::Storage, detail); }

// testConnectFindStoragePoolSources' canned answers.
constexpr const char* kLogicalSources = "<sources>\n"
                                        "  <source>\n"
                                        "    <device path='/dev/sda20'/>\n"
                                        "    <name>testvg1</name>\n"
                                        "    <format type='lvm2'/>\n"
                                        "  </source>\n"
                                        "  <source>\n"
                                        "    <device path='/dev/sda21'/>\n"
                                        "    <name>testvg2</name>\n"
                                        "    <format type='lvm2'/>\n"
                                        "  </source>\n"
                                        "</sources>\n";

} // namespace

namespace teststorage {

std::string echo(const std::string& s)
{
    constexpr size_t kMaxEcho = 1024;
    return s.size() > kMaxEcho ? s.substr(0, kMaxEcho) : s;
}

} // namespace teststorage

using namespace teststorage;

std::string TestStorageDriver::findStoragePoolSources(
    const std::string& type, const std::string& srcSpec, uint32_t flags)
{
    checkFlags(flags, 0, "testConnectFindStoragePoolSources");
    // libvirt's test driver tests the type number for zero instead of
    // for -1, so "dir" (0) is the type it calls unknown, while an unknown
    // type gets through to the checks below.
    if (type == "dir")
        throw testErr(ErrCode::InternalError, "unknown storage pool type dir");
    std::optional<xml::StoragePoolSourceDef> source;
    if (!srcSpec.empty()) {
        // libvirt 9.0 still knows the sheepdog type (it only lost the
        // backend); the model does not, so its source spec goes unread.
        if (xml::isStoragePoolType(type))
            source = xml::parseStoragePoolSourceXML(srcSpec, type);
        else if (type != "sheepdog") // virStoragePoolOptionsForPoolType(-1)
            throw storageErr(ErrCode::InternalError, "missing backend for pool type -1");
    }
    if (type == "logical")
        return kLogicalSources;
    if (type == "netfs") {
        // libvirt reads the first host without checking there is one (and
        // crashes when there is none); this reports the missing host. The
        // name is escaped, unlike libvirt, so the answer stays well-formed.
        if (!source || source->hosts.empty() || source->hosts[0].name.empty())
            throw testErr(ErrCode::InvalidArg, "hostname must be specified for netfs sources");
        return "<sources>\n"
               "  <source>\n"
               "    <host name='"
            + xml::escapeAttr(source->hosts[0].name)
            + "'/>\n"
              "    <dir path='/testshare'/>\n"
              "    <format type='nfs'/>\n"
              "  </source>\n"
              "</sources>\n";
    }
    throw testErr(ErrCode::NoSupport, "pool type '" + echo(type) + "' does not support source discovery");
}

} // namespace virtbus
