#include "xml/interface_link.h"

namespace virtbus::xml::detail {

InterfaceLinkDef parseInterfaceLink(const xmlNode* n)
{
    InterfaceLinkDef l;
    if (auto speed = attr(n, "speed"))
        l.speed = parseUInt(*speed, "<link speed>");
    l.state = attrOr(n, "state");
    if (!l.state.empty())
        checkEnum(
            l.state, {"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"}, "<link state>");
    return l;
}

void formatInterfaceLink(XmlWriter& w, const InterfaceLinkDef& l)
{
    if (l.empty())
        return;
    w.open("link");
    if (l.speed)
        w.attr("speed", std::to_string(*l.speed));
    w.attrIf("state", l.state).close();
}

} // namespace virtbus::xml::detail
