#include "xml/child_picker.h"

namespace virtbus::xml::detail {

ChildPicker::ChildPicker(const xmlNode* parent)
{
    for (const xmlNode* c : elementChildren(parent))
        kids_.push_back({c, elemName(c), false});
}

namespace {

bool isLeaf(const xmlNode* n)
{
    for (const xmlNode* c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return false;
    return true;
}

} // namespace

const xmlNode* ChildPicker::leaf(std::string_view name)
{
    for (auto& k : kids_)
        if (!k.taken && k.name == name && isLeaf(k.node)) {
            k.taken = true;
            return k.node;
        }
    return nullptr;
}

const xmlNode* ChildPicker::firstLeaf(std::string_view name)
{
    const xmlNode* first = leaf(name);
    while (leaf(name)) { }
    return first;
}

std::optional<std::string> ChildPicker::text(std::string_view name)
{
    const xmlNode* n = firstLeaf(name);
    return n ? std::optional(textOf(n)) : std::nullopt;
}

const xmlNode* ChildPicker::element(std::string_view name)
{
    for (auto& k : kids_)
        if (!k.taken && k.name == name) {
            k.taken = true;
            return k.node;
        }
    return nullptr;
}

const xmlNode* ChildPicker::firstElement(std::string_view name)
{
    const xmlNode* first = element(name);
    while (element(name)) { }
    return first;
}

std::vector<const xmlNode*> ChildPicker::all(std::string_view name)
{
    std::vector<const xmlNode*> out;
    while (const xmlNode* n = element(name))
        out.push_back(n);
    return out;
}

void ChildPicker::rest(Preserved& p) const
{
    for (const auto& k : kids_)
        if (!k.taken)
            p.children.push_back(rawXml(k.node));
}

} // namespace virtbus::xml::detail
