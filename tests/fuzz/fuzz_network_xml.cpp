// libFuzzer target for the network XML model: any input either fails with a
// VirtError or parses; what parses must format, parse again and format to
// the same text. The input is also tried as a Network.Update element on
// the default network, whose result must still be a network libvirt (and
// we) would read back.
#include "error.h"
#include "xml/network_xml.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace virtbus;
using namespace virtbus::xml;

namespace {

const char* const kDefault = "<network>\n"
                             "  <name>default</name>\n"
                             "  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\n"
                             "  <forward mode='nat'/>\n"
                             "  <bridge name='virbr0' stp='on' delay='0'/>\n"
                             "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n"
                             "    <dhcp>\n"
                             "      <range start='192.168.122.2' end='192.168.122.254'/>\n"
                             "      <host mac='52:54:00:00:00:01' name='a' ip='192.168.122.10'/>\n"
                             "    </dhcp>\n"
                             "  </ip>\n"
                             "  <ip family='ipv6' address='fd00::1' prefix='64'/>\n"
                             "</network>\n";

void checkFixedPoint(const NetworkDef& def)
{
    // An exception escaping from here aborts, which libFuzzer reports.
    std::string out = formatNetworkXML(def);
    NetworkDef again = parseNetworkXML(out);
    if (formatNetworkXML(again) != out)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        NetworkDef def = parseNetworkXML(text);
        checkFixedPoint(def);
    } catch (const VirtError&) { }

    // The first byte picks the command and section, the rest is the element.
    if (size < 1)
        return 0;
    static const NetworkDef base = parseNetworkXML(kDefault);
    NetworkDef def = base;
    unsigned command = data[0] % 4 + 1;
    unsigned section = (data[0] >> 2) % 13 + 1;
    int parentIndex = (data[0] & 0x80) ? 1 : -1;
    try {
        updateNetworkDef(def, command, section, parentIndex, text.substr(1));
    } catch (const VirtError&) {
        return 0;
    }
    checkFixedPoint(def);
    return 0;
}
