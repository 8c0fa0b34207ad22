// libFuzzer target for the node device XML model, as a device description
// and as a creation request: any input either fails with a VirtError or
// parses; what parses must format, parse again (the same way) to the same
// structure and format to the same text.
#include "error.h"
#include "xml/nodedev_xml.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace virtbus;
using namespace virtbus::xml;

namespace {

void roundTrip(std::string_view text, unsigned flags)
{
    NodeDeviceDef def;
    try {
        def = parseNodeDeviceXML(text, flags);
    } catch (const VirtError&) {
        return;
    }
    // An exception escaping from here aborts, which libFuzzer reports.
    std::string out = formatNodeDeviceXML(def);
    NodeDeviceDef again = parseNodeDeviceXML(out, flags);
    if (!(again == def) || formatNodeDeviceXML(again) != out)
        std::abort();
    nodeDeviceCapNames(def);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    roundTrip(text, 0);
    roundTrip(text, NODEDEV_PARSE_CREATE);
    return 0;
}
