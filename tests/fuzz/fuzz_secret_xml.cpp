// libFuzzer target for the secret XML model: any input either fails with a
// VirtError or parses; what parses must format, parse again to the same
// structure and format to the same text.
#include "error.h"
#include "xml/secret_xml.h"

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
    SecretDef def;
    try {
        def = parseSecretXML(text);
    } catch (const VirtError&) {
        return 0;
    }
    // An exception escaping from here aborts, which libFuzzer reports.
    std::string out = formatSecretXML(def);
    SecretDef again = parseSecretXML(out);
    if (!(again == def) || formatSecretXML(again) != out)
        std::abort();
    return 0;
}
