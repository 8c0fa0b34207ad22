// <link speed state/>, shared by host interfaces and node devices' net
// capability (libvirt's virInterfaceLinkParseXML/virInterfaceLinkFormat).
#pragma once

#include "xml/interface_xml.h"
#include "xml/xml_util.h"

namespace virtbus::xml::detail {

InterfaceLinkDef parseInterfaceLink(const xmlNode* link);
// Writes nothing for an empty link.
void formatInterfaceLink(XmlWriter& w, const InterfaceLinkDef& link);

} // namespace virtbus::xml::detail
