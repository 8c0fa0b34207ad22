#include "xml/xml_util.h"

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>

#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>

namespace virtbus::xml {

namespace {

// Per-parse state reached from libxml2's callbacks through ctxt->_private.
struct ParseState {
    std::string firstError;
    int firstErrorLine = 0;
    std::string refused; // why we stopped the parser ourselves
};

void recordError(ParseState* st, xmlErrorPtr error)
{
    if (!st || !error || error->level < XML_ERR_ERROR || !st->firstError.empty())
        return;
    std::string msg = error->message ? error->message : "unknown parser error";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
        msg.pop_back();
    st->firstError = std::move(msg);
    st->firstErrorLine = error->line;
}

void onParserError(void* userData, xmlErrorPtr error)
{
    auto* ctxt = static_cast<xmlParserCtxtPtr>(userData);
    recordError(ctxt ? static_cast<ParseState*>(ctxt->_private) : nullptr, error);
}

void onThreadError(void* data, xmlErrorPtr error)
{
    recordError(static_cast<ParseState*>(data), error);
}

void ignoreGenericError(void*, const char*, ...) {}

// libxml2 reports encoding and I/O failures without a parser context,
// through its per-thread handlers, whose default prints to stderr. Route
// them into this parse's state for as long as it runs.
class ThreadErrorCapture {
public:
    explicit ThreadErrorCapture(ParseState* st)
        : generic_(xmlGenericError), genericCtx_(xmlGenericErrorContext),
          structured_(xmlStructuredError), structuredCtx_(xmlStructuredErrorContext)
    {
        xmlSetGenericErrorFunc(nullptr, ignoreGenericError);
        xmlSetStructuredErrorFunc(st, onThreadError);
    }
    ~ThreadErrorCapture()
    {
        xmlSetGenericErrorFunc(genericCtx_, generic_);
        xmlSetStructuredErrorFunc(structuredCtx_, structured_);
    }
    ThreadErrorCapture(const ThreadErrorCapture&) = delete;
    ThreadErrorCapture& operator=(const ThreadErrorCapture&) = delete;

private:
    xmlGenericErrorFunc generic_;
    void* genericCtx_;
    xmlStructuredErrorFunc structured_;
    void* structuredCtx_;
};

// A DOCTYPE is where billion-laughs and external-entity attacks start, and
// libvirt's formats never need one: stop at its first byte instead of
// letting libxml2 read the declarations inside.
void onInternalSubset(void* userData, const xmlChar*, const xmlChar*, const xmlChar*)
{
    auto* ctxt = static_cast<xmlParserCtxtPtr>(userData);
    auto* st = static_cast<ParseState*>(ctxt->_private);
    st->refused = "DOCTYPE declarations are not allowed (no DTD or entity processing)";
    xmlStopParser(ctxt);
}

struct CtxtFree {
    void operator()(xmlParserCtxt* c) const noexcept { xmlFreeParserCtxt(c); }
};

std::string_view trimmed(std::string_view v)
{
    const char* blanks = " \t\r\n";
    size_t b = v.find_first_not_of(blanks);
    if (b == std::string_view::npos)
        return {};
    return v.substr(b, v.find_last_not_of(blanks) - b + 1);
}

template <typename T>
T parseNumber(std::string_view value, std::string_view what)
{
    std::string_view v = trimmed(value);
    T out{};
    if (v.empty() || v.front() == '+')
        throw invalidValue(value, what);
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec == std::errc::result_out_of_range)
        throw makeError(ErrCode::Overflow, ErrDomain::Xml,
                        "value '" + std::string(v) + "' for " + std::string(what) + " is too large");
    if (ec != std::errc() || end != v.data() + v.size())
        throw invalidValue(value, what);
    return out;
}

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

XmlDoc parseDocument(std::string_view text, std::string_view url)
{
    static std::once_flag init;
    std::call_once(init, [] { xmlInitParser(); });

    if (text.size() > kMaxDocumentSize)
        throw err::xml("document too large (" + std::to_string(text.size()) +
                       " bytes, limit " + std::to_string(kMaxDocumentSize) + ")");
    if (trimmed(text).empty())
        throw err::xml(std::string(url) + ": empty document");

    std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
    if (!ctxt || !ctxt->sax)
        throw err::internal("cannot allocate an XML parser context");
    ParseState st;
    ThreadErrorCapture capture(&st);
    ctxt->_private = &st;
    ctxt->sax->serror = onParserError;
    ctxt->sax->internalSubset = onInternalSubset;

    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                        XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA;
    std::string urlStr(url);
    XmlDoc doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()),
                                 urlStr.c_str(), nullptr, options));
    if (!st.refused.empty())
        throw err::xml(urlStr + ": " + st.refused);
    if (!doc || !ctxt->wellFormed || !ctxt->nsWellFormed) {
        if (st.firstError.empty())
            throw err::xml(urlStr + ": malformed document");
        throw err::xml(urlStr + ":" + std::to_string(st.firstErrorLine) + ": " + st.firstError);
    }
    return doc;
}

xmlNode* rootElement(const XmlDoc& doc, std::string_view name)
{
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!root)
        throw err::xml("missing root element");
    if (elemName(root) != name)
        throw err::xml("unexpected root element <" + elemName(root) + ">, expecting <" +
                       std::string(name) + ">");
    return root;
}

std::string elemName(const xmlNode* node)
{
    if (!node->ns)
        return std::string(chars(node->name));
    if (!node->ns->prefix)
        return "{}" + std::string(chars(node->name));
    return qualifiedName(node->ns, node->name);
}

std::vector<xmlNode*> elementChildren(const xmlNode* node)
{
    std::vector<xmlNode*> out;
    for (xmlNode* c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            out.push_back(c);
    return out;
}

std::optional<std::string> attr(const xmlNode* node, const char* name)
{
    xmlAttr* a = xmlHasNsProp(node, reinterpret_cast<const xmlChar*>(name), nullptr);
    if (!a)
        return std::nullopt;
    xmlChar* v = xmlNodeGetContent(reinterpret_cast<xmlNode*>(a));
    std::string out(chars(v));
    xmlFree(v);
    return out;
}

std::string attrOr(const xmlNode* node, const char* name, std::string_view fallback)
{
    auto v = attr(node, name);
    return v ? *v : std::string(fallback);
}

XmlAttrs otherAttrs(const xmlNode* node, std::initializer_list<std::string_view> known)
{
    XmlAttrs out;
    for (xmlAttr* a = node->properties; a; a = a->next) {
        std::string_view n = chars(a->name);
        // A namespaced attribute would need its declaration carried along;
        // libvirt's formats have none, so refuse rather than lose it.
        if (a->ns)
            throw err::xml("unsupported attribute '" + qualifiedName(a->ns, a->name) + "' in <" +
                           elemName(node) + ">");
        bool isKnown = false;
        for (auto k : known)
            isKnown = isKnown || k == n;
        if (isKnown)
            continue;
        xmlChar* v = xmlNodeGetContent(reinterpret_cast<xmlNode*>(a));
        out.emplace_back(std::string(n), std::string(chars(v)));
        xmlFree(v);
    }
    return out;
}

std::string textOf(const xmlNode* node)
{
    std::string out;
    for (const xmlNode* c = node->children; c; c = c->next)
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            out += chars(c->content);
    return out;
}

std::string rawXml(const xmlNode* node)
{
    // Copying into a fresh document makes libxml2 declare on the copy every
    // namespace the subtree borrows from its ancestors (xmlns:qemu on
    // <domain>, say), so the text stands alone.
    XmlDoc doc(xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0")));
    xmlNode* copy = xmlDocCopyNode(const_cast<xmlNode*>(node), doc.get(), 1);
    if (!doc || !copy)
        throw err::internal("cannot copy an XML node");
    xmlDocSetRootElement(doc.get(), copy);
    XmlWriter w;
    w.node(copy);
    return w.take();
}

VirtError invalidValue(std::string_view value, std::string_view what)
{
    return err::xml("invalid value '" + std::string(value) + "' for " + std::string(what));
}

uint64_t parseU64(std::string_view value, std::string_view what)
{
    if (trimmed(value).starts_with('-'))
        throw invalidValue(value, what);
    return parseNumber<uint64_t>(value, what);
}

unsigned parseUInt(std::string_view value, std::string_view what)
{
    if (trimmed(value).starts_with('-'))
        throw invalidValue(value, what);
    return parseNumber<unsigned>(value, what);
}

int64_t parseI64(std::string_view value, std::string_view what)
{
    return parseNumber<int64_t>(value, what);
}

int parseInt(std::string_view value, std::string_view what)
{
    return parseNumber<int>(value, what);
}

bool parseYesNo(std::string_view value, std::string_view what)
{
    if (value == "yes")
        return true;
    if (value == "no")
        return false;
    throw invalidValue(value, what);
}

void checkEnum(std::string_view value, std::initializer_list<std::string_view> allowed,
               std::string_view what)
{
    for (auto a : allowed)
        if (a == value)
            return;
    throw invalidValue(value, what);
}

std::string schemaPath(std::string_view file)
{
    const char* dir = std::getenv("VIRTBUS_SCHEMA_DIR");
    std::string path = dir && *dir ? dir : "/usr/share/libvirt/schemas";
    path += '/';
    path += file;
    return path;
}

namespace {

void collectFirstError(void* data, xmlErrorPtr error)
{
    auto* out = static_cast<std::string*>(data);
    if (!error || !out->empty())
        return;
    std::string msg = error->message ? error->message : "unknown error";
    while (!msg.empty() && msg.back() == '\n')
        msg.pop_back();
    if (error->node && reinterpret_cast<xmlNode*>(error->node)->type == XML_ELEMENT_NODE)
        msg = "element <" + elemName(reinterpret_cast<xmlNode*>(error->node)) + ">: " + msg;
    *out = std::move(msg);
}

struct RngFree {
    void operator()(xmlRelaxNG* s) const noexcept { xmlRelaxNGFree(s); }
};

} // namespace

void validateSchema(const XmlDoc& doc, std::string_view schemaFile)
{
    // Compiling domain.rng takes tens of milliseconds: keep each schema.
    // libxml2 does not promise that one compiled schema may serve several
    // validations at once, so they take turns.
    static std::mutex lock;
    static std::map<std::string, std::unique_ptr<xmlRelaxNG, RngFree>> cache;
    std::lock_guard guard(lock);

    std::string path = schemaPath(schemaFile);
    auto it = cache.find(path);
    if (it == cache.end()) {
        std::string error;
        xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(path.c_str());
        if (!pctxt)
            throw err::internal("cannot read schema " + path);
        xmlRelaxNGSetParserStructuredErrors(pctxt, collectFirstError, &error);
        std::unique_ptr<xmlRelaxNG, RngFree> schema(xmlRelaxNGParse(pctxt));
        xmlRelaxNGFreeParserCtxt(pctxt);
        if (!schema)
            throw err::internal("cannot load schema " + path + ": " + error);
        it = cache.emplace(path, std::move(schema)).first;
    }
    std::string error;
    xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(it->second.get());
    if (!vctxt)
        throw err::internal("cannot allocate a schema validation context");
    xmlRelaxNGSetValidStructuredErrors(vctxt, collectFirstError, &error);
    int rc = xmlRelaxNGValidateDoc(vctxt, doc.get());
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc != 0)
        throw makeError(ErrCode::XmlInvalidSchema, ErrDomain::Xml,
                        "Unable to validate doc against " + path + "\n" +
                            (error.empty() ? "document is invalid" : error));
}

} // namespace virtbus::xml
