// Plumbing shared by every XML format virtbus reads or writes: a hardened
// parser, node helpers that never use XPath, value parsers that raise
// libvirt-worded errors, and a writer producing libvirt's layout (two-space
// indentation, single-quoted attributes).
#pragma once

#include "error.h"

#include <libxml/tree.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace virtbus::xml {

using XmlAttrs = std::vector<std::pair<std::string, std::string>>;

// Larger documents are refused before libxml2 sees them.
inline constexpr size_t kMaxDocumentSize = 10u * 1024 * 1024;

struct XmlDocFree {
    void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocFree>;

// Parses untrusted text: no network, no DTD loading, no entity expansion;
// any DOCTYPE is refused as soon as it starts (so billion-laughs and
// external entities fail at once), nothing is printed. `url` names the document in
// messages the way libvirt does, e.g. "(domain_definition)". Errors raise
// XmlError with libxml2's line and message.
XmlDoc parseDocument(std::string_view text, std::string_view url);

// The root element, which must be named `name` (XmlError otherwise).
xmlNode* rootElement(const XmlDoc& doc, std::string_view name);

// Local name of an element without a namespace; "prefix:name" (or
// "{}name" for a default namespace) otherwise, so namespaced elements
// never match the names the model knows.
std::string elemName(const xmlNode* node);

std::vector<xmlNode*> elementChildren(const xmlNode* node);

// Attribute without a namespace.
std::optional<std::string> attr(const xmlNode* node, const char* name);
std::string attrOr(const xmlNode* node, const char* name, std::string_view fallback = {});

// Attributes not in `known`, in document order. A namespaced attribute
// raises XmlError.
XmlAttrs otherAttrs(const xmlNode* node, std::initializer_list<std::string_view> known);

// The element's own text (its text children, not its descendants').
std::string textOf(const xmlNode* node);

// The element as a standalone document fragment: namespaces it uses are
// declared on it, children are indented from column 0.
std::string rawXml(const xmlNode* node);

// Value parsers; `what` names the element or attribute in the error
// ("XML error: invalid value 'abc' for <vcpu>"). Surrounding blanks are
// ignored, signs are not accepted for unsigned values.
VirtError invalidValue(std::string_view value, std::string_view what);
uint64_t parseU64(std::string_view value, std::string_view what);
unsigned parseUInt(std::string_view value, std::string_view what);
int64_t parseI64(std::string_view value, std::string_view what);
int parseInt(std::string_view value, std::string_view what);
bool parseYesNo(std::string_view value, std::string_view what);
// `value` must be one of `allowed`.
void checkEnum(std::string_view value, std::initializer_list<std::string_view> allowed,
               std::string_view what);

// Full path of a libvirt RelaxNG schema: $VIRTBUS_SCHEMA_DIR or
// /usr/share/libvirt/schemas.
std::string schemaPath(std::string_view file);
// Raises XmlInvalidSchema with the validator's first complaint, or
// InternalError if the schema cannot be loaded.
void validateSchema(const XmlDoc& doc, std::string_view schemaFile);

class XmlWriter {
public:
    explicit XmlWriter(unsigned depth = 0) : base_(depth) {}

    XmlWriter& open(std::string_view name);
    XmlWriter& attr(std::string_view name, std::string_view value);
    XmlWriter& attrIf(std::string_view name, std::string_view value); // skips ""
    XmlWriter& attrs(const XmlAttrs& list);
    XmlWriter& text(std::string_view value);
    XmlWriter& close();
    // <name>value</name>
    XmlWriter& leaf(std::string_view name, std::string_view value);
    XmlWriter& leafIf(std::string_view name, std::string_view value); // skips ""
    // A child element given as XML text (as stored by rawXml), re-indented
    // to the current depth.
    XmlWriter& raw(std::string_view xml);
    XmlWriter& raws(const std::vector<std::string>& list);
    // A parsed element and its subtree.
    XmlWriter& node(const xmlNode* element);

    // Child elements already formatted by a writer created with depth().
    XmlWriter& appendFormatted(std::string_view children);
    // Indentation level of the next child element.
    unsigned depth() const { return base_ + static_cast<unsigned>(stack_.size()); }

    std::string take();

private:
    struct Frame {
        std::string name;
        bool startOpen = true;  // "<name ..." written, '>' not yet
        bool hasText = false;
    };
    void beginChild();
    void indent(size_t level);
    void writeInline(const xmlNode* node);

    std::string out_;
    std::vector<Frame> stack_;
    unsigned base_;
};

std::string escapeAttr(std::string_view value);
std::string escapeText(std::string_view value);

} // namespace virtbus::xml
