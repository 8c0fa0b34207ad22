// libvirt writes a few elements as an open/close pair on two lines even
// when they have no children (<ip> of a network, a pool's <source>, a
// volume's <target>, ...); clients diff our XML against libvirt's, so
// those elements are written the same way instead of as <name/>.
#pragma once

#include "xml/xml_util.h"

#include <functional>
#include <string_view>

namespace virtbus::xml {

// Writes element `name` into `w`, with `body` adding its attributes and
// children; an element left empty becomes "<name ...>\n</name>".
void writeOpenClosePair(XmlWriter& w, std::string_view name, const std::function<void(XmlWriter&)>& body);

} // namespace virtbus::xml
