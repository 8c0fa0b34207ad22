// Fuzzes the domain parser with arbitrary bytes. Rejecting input is fine;
// crashing, leaking or formatting something we cannot read back is not:
// whatever parses must format, re-parse to the same structure, and format
// to the same text.
#include "error.h"
#include "xml/domain_xml.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace virtbus::xml;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    DomainDef def;
    try {
        def = parseDomainXML(text);
    } catch (const virtbus::VirtError&) {
        return 0;
    }
    const FormatOptions opts{.secure = true};
    std::string out = formatDomainXML(def, opts);
    // No try block: a formatted document that does not parse is a bug, and
    // the uncaught exception makes libFuzzer report it with the input.
    DomainDef again = parseDomainXML(out);
    if (!(again == def) || formatDomainXML(again, opts) != out)
        std::abort();
    (void)formatDomainXML(def, {.id = 1, .inactive = true});
    return 0;
}
