// XmlWriter: libvirt's layout (two-space indentation, single-quoted
// attributes), with parsed subtrees re-indented to where they are written.
#include "xml/xml_util.h"

namespace virtbus::xml {

namespace {

std::string_view chars(const xmlChar* s)
{
    return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

std::string qualifiedName(const xmlNs* ns, const xmlChar* name)
{
    std::string q;
    if (ns && ns->prefix) {
        q = chars(ns->prefix);
        q += ':';
    }
    q += chars(name);
    return q;
}

} // namespace

std::string escapeAttr(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        // Literal whitespace in an attribute would be normalized to spaces
        // when read back.
        case '\n': out += "&#10;"; break;
        case '\t': out += "&#9;"; break;
        case '\r': out += "&#13;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string escapeText(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\r': out += "&#13;"; break;
        default: out += c;
        }
    }
    return out;
}

void XmlWriter::indent(size_t level)
{
    out_.append(2 * (base_ + level), ' ');
}

void XmlWriter::beginChild()
{
    if (stack_.empty())
        return;
    Frame& parent = stack_.back();
    if (parent.startOpen) {
        out_ += ">\n";
        parent.startOpen = false;
    }
}

XmlWriter& XmlWriter::open(std::string_view name)
{
    beginChild();
    indent(stack_.size());
    out_ += '<';
    out_ += name;
    stack_.push_back(Frame{std::string(name)});
    return *this;
}

XmlWriter& XmlWriter::attr(std::string_view name, std::string_view value)
{
    out_ += ' ';
    out_ += name;
    out_ += "='";
    out_ += escapeAttr(value);
    out_ += '\'';
    return *this;
}

XmlWriter& XmlWriter::attrIf(std::string_view name, std::string_view value)
{
    return value.empty() ? *this : attr(name, value);
}

XmlWriter& XmlWriter::attrs(const XmlAttrs& list)
{
    for (const auto& [n, v] : list)
        attr(n, v);
    return *this;
}

XmlWriter& XmlWriter::text(std::string_view value)
{
    Frame& f = stack_.back();
    if (f.startOpen) {
        out_ += '>';
        f.startOpen = false;
    }
    f.hasText = true;
    out_ += escapeText(value);
    return *this;
}

XmlWriter& XmlWriter::close()
{
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.startOpen) {
        out_ += "/>\n";
        return *this;
    }
    if (!f.hasText)
        indent(stack_.size());
    out_ += "</" + f.name + ">\n";
    return *this;
}

XmlWriter& XmlWriter::leaf(std::string_view name, std::string_view value)
{
    open(name);
    if (!value.empty())
        text(value);
    return close();
}

XmlWriter& XmlWriter::leafIf(std::string_view name, std::string_view value)
{
    return value.empty() ? *this : leaf(name, value);
}

XmlWriter& XmlWriter::raw(std::string_view xml)
{
    if (xml.empty())
        return *this;
    XmlDoc doc = parseDocument(xml, "(preserved element)");
    return node(xmlDocGetRootElement(doc.get()));
}

XmlWriter& XmlWriter::raws(const std::vector<std::string>& list)
{
    for (const auto& r : list)
        raw(r);
    return *this;
}

XmlWriter& XmlWriter::node(const xmlNode* element)
{
    open(qualifiedName(element->ns, element->name));
    for (const xmlNs* ns = element->nsDef; ns; ns = ns->next)
        attr(ns->prefix ? "xmlns:" + std::string(chars(ns->prefix)) : "xmlns", chars(ns->href));
    for (xmlAttr* a = element->properties; a; a = a->next) {
        xmlChar* v = xmlNodeGetContent(reinterpret_cast<xmlNode*>(a));
        attr(qualifiedName(a->ns, a->name), chars(v));
        xmlFree(v);
    }
    bool hasText = false, hasElements = false;
    for (const xmlNode* c = element->children; c; c = c->next) {
        hasText = hasText || c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE;
        hasElements = hasElements || c->type == XML_ELEMENT_NODE;
    }
    if (hasText && hasElements) {
        // Mixed content: any indentation we added would become content.
        text({});
        for (const xmlNode* c = element->children; c; c = c->next)
            writeInline(c);
    } else if (hasText) {
        text(textOf(element));
    } else {
        for (const xmlNode* c = element->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE) {
                node(c);
            } else if (c->type == XML_COMMENT_NODE) {
                beginChild();
                indent(stack_.size());
                out_ += "<!--" + std::string(chars(c->content)) + "-->\n";
            }
        }
    }
    return close();
}

void XmlWriter::writeInline(const xmlNode* n)
{
    switch (n->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        out_ += escapeText(chars(n->content));
        break;
    case XML_COMMENT_NODE:
        out_ += "<!--" + std::string(chars(n->content)) + "-->";
        break;
    case XML_ELEMENT_NODE: {
        std::string name = qualifiedName(n->ns, n->name);
        out_ += '<' + name;
        for (const xmlNs* ns = n->nsDef; ns; ns = ns->next)
            attr(ns->prefix ? "xmlns:" + std::string(chars(ns->prefix)) : "xmlns", chars(ns->href));
        for (xmlAttr* a = n->properties; a; a = a->next) {
            xmlChar* v = xmlNodeGetContent(reinterpret_cast<xmlNode*>(a));
            attr(qualifiedName(a->ns, a->name), chars(v));
            xmlFree(v);
        }
        if (!n->children) {
            out_ += "/>";
            break;
        }
        out_ += '>';
        for (const xmlNode* c = n->children; c; c = c->next)
            writeInline(c);
        out_ += "</" + name + '>';
        break;
    }
    default:
        break; // processing instructions carry nothing the model needs
    }
}

XmlWriter& XmlWriter::appendFormatted(std::string_view children)
{
    if (!children.empty()) {
        beginChild();
        out_ += children;
    }
    return *this;
}

std::string XmlWriter::take()
{
    return std::move(out_);
}

} // namespace virtbus::xml
