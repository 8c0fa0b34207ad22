// libFuzzer target for the host interface XML model: any input either
// fails with a VirtError or parses; what parses must format, parse again
// to the same structure and format to the same text (the unit tests'
// fixed-point property).
#include "error.h"
#include "xml/interface_xml.h"

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
    HostInterfaceDef def;
    try {
        def = parseInterfaceXML(text);
    } catch (const VirtError&) {
        return 0;
    }
    // An exception escaping from here aborts, which libFuzzer reports.
    std::string out = formatInterfaceXML(def);
    HostInterfaceDef again = parseInterfaceXML(out);
    if (!(again == def) || formatInterfaceXML(again) != out)
        std::abort();
    formatInterfaceXML(def, {.inactive = true});
    return 0;
}
