// libFuzzer target for the storage XML models: any input either fails with
// a VirtError or parses, as a pool, as a volume of some pool type and as
// a FindStoragePoolSources <source>; what parses must format, parse again
// and format to the same text.
#include "error.h"
#include "xml/storage_vol_xml.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace virtbus;
using namespace virtbus::xml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // An exception escaping from the checks aborts, which libFuzzer reports.
    try {
        StoragePoolDef pool = parseStoragePoolXML(text);
        std::string out = formatStoragePoolXML(pool);
        if (formatStoragePoolXML(parseStoragePoolXML(out)) != out)
            std::abort();
    } catch (const VirtError&) { }

    const auto& types = storagePoolTypes();
    const std::string& poolType = types[size % types.size()];
    try {
        StorageVolDef vol = parseStorageVolXML(text, poolType);
        std::string out = formatStorageVolXML(vol, poolType);
        if (formatStorageVolXML(parseStorageVolXML(out, poolType), poolType) != out)
            std::abort();
    } catch (const VirtError&) { }

    try {
        StoragePoolSourceDef source = parseStoragePoolSourceXML(text, poolType);
        formatStoragePoolSourcesXML(poolType, {source});
    } catch (const VirtError&) { }
    return 0;
}
