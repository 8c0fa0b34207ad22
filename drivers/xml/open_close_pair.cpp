#include "xml/open_close_pair.h"

#include <string>

namespace virtbus::xml {

void writeOpenClosePair(XmlWriter& w, std::string_view name, const std::function<void(XmlWriter&)>& body)
{
    unsigned depth = w.depth();
    XmlWriter element(depth);
    element.open(name);
    body(element);
    element.close();
    std::string text = element.take();
    // The writer closes a childless element as "<name .../>\n".
    if (text.ends_with("/>\n")) {
        text.resize(text.size() - 3);
        text += ">\n" + std::string(2 * depth, ' ') + "</" + std::string(name) + ">\n";
    }
    w.appendFormatted(text);
}

} // namespace virtbus::xml
