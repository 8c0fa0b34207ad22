// Pieces the domain parse/format files share with each other and with the
// snapshot format; not part of the drivers' API.
#pragma once

#include "xml/domain_xml.h"
#include "xml/xml_util.h"

namespace virtbus::xml::detail {

// One element of <devices> (or a hotplug document's root); unknown
// elements come back as RawDeviceDef.
DeviceDef parseDevice(const xmlNode* node, unsigned flags);
void appendDevice(DevicesDef& devices, DeviceDef dev);
// libvirt's order of device kinds inside <devices>, by element name.
int deviceRank(std::string_view elementName);

void formatDevice(XmlWriter& w, const DeviceDef& dev, const FormatOptions& opts);
void formatDevices(XmlWriter& w, const DevicesDef& devices, const FormatOptions& opts);

// libvirt's order of <domain> children, by element name; unknown names
// rank last.
int topLevelRank(std::string_view elementName);
// Element name of a stored raw element ("<qemu:commandline xmlns..." ->
// "qemu:commandline").
std::string_view rawName(std::string_view xml);

DomainDef parseDomainNode(const xmlNode* root, unsigned flags);
void formatDomain(XmlWriter& w, const DomainDef& def, const FormatOptions& opts);

// An element whose `known` attributes the caller takes: the other
// attributes and all child elements.
Preserved preservedOf(const xmlNode* node, std::initializer_list<std::string_view> known);

// Writes the preserved attributes / children of an element.
inline void writeAttrs(XmlWriter& w, const Preserved& p) { w.attrs(p.attrs); }
inline void writeChildren(XmlWriter& w, const Preserved& p) { w.raws(p.children); }

// An element carrying only preserved content, skipped when there is none.
void writePreservedElement(XmlWriter& w, std::string_view name, const Preserved& p);

} // namespace virtbus::xml::detail
