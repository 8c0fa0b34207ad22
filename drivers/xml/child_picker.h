// Taking an element's children by name in any order, as libvirt's XPath
// lookups do, while keeping whatever is not taken for a Preserved record.
#pragma once

#include "xml/domain_xml.h"
#include "xml/xml_util.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtbus::xml::detail {

class ChildPicker {
public:
    explicit ChildPicker(const xmlNode* parent);

    // The first untaken child called `name` that holds no child elements
    // (text and attributes only); richer ones are left for rest(). For
    // repeated elements, called in a loop.
    const xmlNode* leaf(std::string_view name);
    // The same for an element that appears once: later such children are
    // dropped, as libvirt reads only the first. Keeping them would let one
    // take the place of a first one that formats to nothing.
    const xmlNode* firstLeaf(std::string_view name);
    // firstLeaf's text, or nullopt when there is no such child.
    std::optional<std::string> text(std::string_view name);
    std::string textOr(std::string_view name) { return text(name).value_or(std::string()); }

    // The first untaken child called `name`, whatever it holds.
    const xmlNode* element(std::string_view name);
    // The same for an element that appears once: later ones are dropped.
    const xmlNode* firstElement(std::string_view name);
    // Every untaken child called `name`, in document order.
    std::vector<const xmlNode*> all(std::string_view name);

    // Appends the children nobody took, in document order.
    void rest(Preserved& p) const;

private:
    struct Kid {
        const xmlNode* node;
        std::string name;
        bool taken;
    };
    std::vector<Kid> kids_;
};

} // namespace virtbus::xml::detail
