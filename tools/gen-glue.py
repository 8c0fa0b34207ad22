#!/usr/bin/env python3
"""Generates the server glue of one D-Bus interface from interfaces/*.xml.

Output: <stem>.h and <stem>.cpp with, in namespace virtbus::glue,
  class <Short>Server  -- one virtual per method (default: libvirt's
                          "not supported" error naming the libvirt call),
                          one getter/setter per property, the sd-bus vtable,
                          and appendAllProperties() for GetAll;
  emit<Signal>()       -- one typed emitter per signal;
and, from interfaces/permissions.table, the authorization of every member:
checks before a handler runs, checks on the objects it returns, and the
checks of each property (a member without an entry fails the build).
Nothing here is edited by hand; the XML is the source of truth.
"""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from permissions import Table  # noqa: E402

KEYWORDS = {"and", "auto", "bool", "class", "default", "delete", "do", "int",
            "new", "not", "or", "private", "public", "register", "return",
            "signed", "switch", "template", "this", "union", "unsigned"}

BASIC = {"y": "uint8_t", "b": "bool", "n": "int16_t", "q": "uint16_t",
         "i": "int32_t", "u": "uint32_t", "x": "int64_t", "t": "uint64_t",
         "d": "double", "s": "std::string", "o": "bus::ObjectPath",
         "h": "bus::UnixFd"}


def split_sig(sig):
    """Splits a signature into its complete types."""
    out, i = [], 0
    while i < len(sig):
        j = complete_type_end(sig, i)
        out.append(sig[i:j])
        i = j
    return out


def complete_type_end(sig, i):
    c = sig[i]
    if c == "a":
        return complete_type_end(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        depth, j = 0, i
        while True:
            if sig[j] in "({":
                depth += 1
            elif sig[j] in ")}":
                depth -= 1
                if depth == 0:
                    assert sig[j] == close, sig
                    return j + 1
            j += 1
    return i + 1


def cpp_type(sig):
    if sig in BASIC:
        return BASIC[sig]
    if sig == "a{sv}":
        return "TypedParams"
    if sig.startswith("a{"):
        k, v = split_sig(sig[2:-1])
        return f"bus::Dict<{cpp_type(k)}, {cpp_type(v)}>"
    if sig.startswith("a"):
        return f"std::vector<{cpp_type(sig[1:])}>"
    if sig.startswith("("):
        return "std::tuple<" + ", ".join(cpp_type(t) for t in split_sig(sig[1:-1])) + ">"
    raise SystemExit(f"unsupported signature {sig}")


def ident(name):
    return name + "_" if name in KEYWORDS else name


def annotation(el, name):
    for a in el.findall("annotation"):
        if a.get("name") == name:
            return a.get("value")
    return None


def args(el, direction=None):
    out = []
    for a in el.findall("arg"):
        d = a.get("direction", "in" if el.tag == "method" else "out")
        if direction is None or d == direction:
            out.append((ident(a.get("name")), a.get("type")))
    return out


def names_macro(arglist):
    return " ".join(f'SD_BUS_PARAM({n.rstrip("_")})' for n, _ in arglist) or '""'


def check_init(ch, ins):
    """A bus::Check initializer for a check on the object at the path or in an argument."""
    xml = "nullptr"
    if ch.where == "arg":
        names = [n.rstrip("_") for n, _ in ins]
        if ch.arg not in names or ins[names.index(ch.arg)][1] != "s":
            raise SystemExit(f"@{ch.arg}: no string argument of that name")
        xml = f"&std::get<{names.index(ch.arg)}>(job->second)"
    return f'{{"{ch.obj}", "{ch.perm}", {xml}}}'


def condition(ch, ins):
    neg, arg, mask = ch.cond
    names = [n.rstrip("_") for n, _ in ins]
    if arg not in names or ins[names.index(arg)][1] not in "uitx":
        raise SystemExit(f"?{arg}: no integer argument of that name")
    return f"(std::get<{names.index(arg)}>(job->second) & {mask}u) {'==' if neg else '!='} 0"


def method_handler(cls, short, m, table):
    """The sd-bus handler of one method: read the arguments on the bus
    thread, authorize (maybe waiting for polkit), then run the handler inline
    or, with a dispatcher, on a worker with the request moved there."""
    name = m.get("name")
    ins, outs = args(m, "in"), args(m, "out")
    reply = "bus::Reply<" + ", ".join(cpp_type(t) for _, t in outs) + ">"
    argt = "std::tuple<" + ", ".join(cpp_type(t) for _, t in ins) + ">"
    job = f"std::pair<{reply}, {argt}>"
    checks = table.checks(short, name)
    call = f"std::apply([&](auto&... a) {{ self->{name}(r, std::move(a)...); }}, args);"
    c = [f"void run_{name}({cls}* self, std::shared_ptr<{job}> job)", "{",
         "    if (auto* d = self->dispatcher()) {",
         "        job->first.moveToWorkers(d);",
         "        d->offload([self, job] {",
         "            auto& [r, args] = *job;",
         "            try {",
         f"                {call}",
         "            } catch (...) {",
         "                r.fail(std::current_exception());",
         "            }",
         "        });",
         "        return;",
         "    }",
         "    auto& [r, args] = *job;",
         "    try {",
         f"        {call}",
         "    } catch (...) {",
         "        r.fail(std::current_exception());",
         "    }",
         "}", "",
         f"int m_{name}(sd_bus_message* m, void* userdata, sd_bus_error*)", "{",
         f"    auto* self = static_cast<{cls}*>(userdata);",
         f"    auto job = std::make_shared<{job}>({reply}(m), {argt}{{}});",
         "    try {"]
    if ins:
        c.append(f"        job->second = bus::Reader(m).readAll<{', '.join(cpp_type(t) for _, t in ins)}>();")
    c += ["        auto* a = self->authorizer();", "        if (!a) {", f"            run_{name}(self, job);",
          "            return 1;", "        }"]
    for ch in checks:
        if ch.where in ("result", "filter"):
            fn = "checkResult" if ch.where == "result" else "filterResult"
            sig = "".join(t for _, t in outs)
            if (ch.where == "result") != (sig == "o") or (ch.where == "filter" and sig not in ("ao", "a(sa{sv})")):
                raise SystemExit(f"{short}.{name}: {ch.where}: does not fit its answer '{sig}'")
            c.append(f'        bus::{fn}(a, job->first, "{ch.obj}", "{ch.perm}");')
    c.append("        std::vector<bus::Check> checks;")
    for ch in checks:
        if ch.where in ("self", "arg"):
            push = f"checks.push_back({check_init(ch, ins)});"
            c.append(f"        if ({condition(ch, ins)})\n            {push}" if ch.cond else f"        {push}")
    c += ["        a->authorize(m, checks, [self, job](std::exception_ptr denied) {",
          "            if (denied)",
          "                job->first.fail(denied);",
          "            else",
          f"                run_{name}(self, job);",
          "        });",
          "    } catch (...) {", "        job->first.fail(std::current_exception());", "    }",
          "    return 1;", "}", ""]
    return c


def property_members(cls, short, props, table):
    """Single-property access by name and the property checks, for the
    authorized Get/Set of service/property_gate.cpp."""
    c = [f"bool {cls}::appendProperty(sd_bus_message* m, const char* path, const char* name)", "{"]
    if not props:
        c += ["    (void)m;", "    (void)path;", "    (void)name;"]
    for p in props:
        pn, sig = p.get("name"), p.get("type")
        c += [f'    if (std::strcmp(name, "{pn}") == 0) {{',
              f"        auto v = get{pn}(path);",
              f'        bus::check(sd_bus_message_open_container(m, \'v\', "{sig}"), "open v");',
              "        bus::Writer(m).put(v);",
              '        bus::check(sd_bus_message_close_container(m), "close v");',
              "        return true;", "    }"]
    c += ["    return false;", "}", "",
          f"bool {cls}::setProperty(const char* path, const char* name, sd_bus_message* value)", "{"]
    writable = [p for p in props if p.get("access") == "readwrite"]
    if not writable:
        c += ["    (void)path;", "    (void)name;", "    (void)value;"]
    for p in writable:
        pn, sig = p.get("name"), p.get("type")
        c += [f'    if (std::strcmp(name, "{pn}") == 0) {{',
              f"        {cpp_type(sig)} v{{}};",
              f'        bus::check(sd_bus_message_enter_container(value, \'v\', "{sig}"), "read v");',
              "        bus::Reader(value).get(v);",
              '        bus::check(sd_bus_message_exit_container(value), "read v");',
              f"        set{pn}(path, std::move(v));",
              "        return true;", "    }"]
    c += ["    return false;", "}", "",
          f"std::vector<bus::Check> {cls}::propertyChecks(const char* name, bool write) const", "{"]
    if not props:
        c += ["    (void)name;", "    (void)write;"]
    for p in props:
        pn = p.get("name")
        variants = [(False, pn)] + ([(True, pn + "=")] if p.get("access") == "readwrite" else [])
        for write, key in variants:
            checks = table.checks(short, key)
            if any(ch.where != "self" or ch.cond for ch in checks):
                raise SystemExit(f"{short}.{key}: properties take plain checks on their object")
            inits = ", ".join(f'{{"{ch.obj}", "{ch.perm}", nullptr}}' for ch in checks)
            c += [f'    if ({"" if write else "!"}write && std::strcmp(name, "{pn}") == 0)',
                  f"        return {{{inits}}};"]
    c += ["    return {};", "}", "",
          f"std::vector<const char*> {cls}::propertyNames() const", "{",
          "    return {" + ", ".join(f'"{p.get("name")}"' for p in props) + "};", "}", ""]
    return c


def generate(xml_path, table, stem):
    iface = ET.parse(xml_path).getroot().find("interface")
    iname = iface.get("name")
    short = iname.split(".")[-1]
    cls = f"{short}Server"
    methods = iface.findall("method")
    props = iface.findall("property")
    signals = iface.findall("signal")

    h, c = [], []
    h += ["// Generated by tools/gen-glue.py from " + xml_path.split("/")[-1] + ". Do not edit.",
          "#pragma once", "", "#include <systemd/sd-bus.h>", "",
          "#include <vector>", "",
          '#include "bus/authorizer.h"', '#include "bus/call.h"', '#include "bus/message.h"', '#include "bus/property_source.h"', '#include "typed_params.h"', "",
          "namespace virtbus::glue {", "",
          f"class {cls} : public bus::PropertySource {{", "public:",
          f'    static constexpr const char* interfaceName = "{iname}";',
          f"    virtual ~{cls}() = default;", ""]
    for m in methods:
        ins, outs = args(m, "in"), args(m, "out")
        reply = "bus::Reply<" + ", ".join(cpp_type(t) for _, t in outs) + ">"
        params = ", ".join([f"{reply}& reply"] + [f"{cpp_type(t)} {n}" for n, t in ins])
        desc = annotation(m, "org.freedesktop.DBus.Description")
        if desc:
            h.append(f"    // {desc}")
        h.append(f"    virtual void {m.get('name')}({params});")
    h.append("")
    for p in props:
        t = cpp_type(p.get("type"))
        h.append(f"    virtual {t} get{p.get('name')}(const char* path) = 0;")
        if p.get("access") == "readwrite":
            h.append(f"    virtual void set{p.get('name')}(const char* path, {t} value) = 0;")
    h += ["",
          "    static const sd_bus_vtable* vtable();",
          "    // Appends every property as a{sv} entries; with doubleWrap each value",
          "    // is a variant holding a variant (libvirt-dbus's GetAll format).",
          "    // A getter that fails is left out.",
          "    void appendAllProperties(sd_bus_message* m, const char* path, bool doubleWrap,",
          "                             const bus::PropertyFilter* only) override;",
          "    bool appendProperty(sd_bus_message* m, const char* path, const char* name) override;",
          "    bool setProperty(const char* path, const char* name, sd_bus_message* value) override;",
          "    std::vector<bus::Check> propertyChecks(const char* name, bool write) const override;",
          "    std::vector<const char*> propertyNames() const override;",
          "};", ""]
    for s in signals:
        sa = args(s)
        params = ", ".join(["sd_bus* bus", "const char* path"] + [f"const {cpp_type(t)}& {n}" for n, t in sa])
        h.append(f"int emit{short}{s.get('name')}({params});")
    h += ["", "} // namespace virtbus::glue", ""]

    c += ["// Generated by tools/gen-glue.py. Do not edit.",
          f'#include "{stem}.h"', "", "#include <cstring>", "", '#include "error.h"', '#include "error_map.h"', "",
          "namespace virtbus::glue {", "", "namespace {", ""]
    for m in methods:
        c += method_handler(cls, short, m, table)
    for p in props:
        pn, t = p.get("name"), cpp_type(p.get("type"))
        c += [f"int p_get_{pn}(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error* error)",
              "{", "    try {",
              f"        bus::Writer(reply).put(static_cast<{cls}*>(userdata)->get{pn}(path));",
              "        return 1;", "    } catch (...) {",
              "        return setBusError(error, std::current_exception());", "    }", "}", ""]
        if p.get("access") == "readwrite":
            c += [f"int p_set_{pn}(sd_bus*, const char* path, const char*, const char*, sd_bus_message* value, void* userdata, sd_bus_error* error)",
                  "{", "    try {",
                  f"        {t} v{{}};", "        bus::Reader(value).get(v);",
                  f"        static_cast<{cls}*>(userdata)->set{pn}(path, std::move(v));",
                  "        return 1;", "    } catch (...) {",
                  "        return setBusError(error, std::current_exception());", "    }", "}", ""]
    c += ["const sd_bus_vtable vtable_[] = {", "    SD_BUS_VTABLE_START(0),"]
    for m in methods:
        ins, outs = args(m, "in"), args(m, "out")
        isig = "".join(t for _, t in ins)
        osig = "".join(t for _, t in outs)
        c.append(f'    SD_BUS_METHOD_WITH_NAMES("{m.get("name")}", "{isig}", {names_macro(ins)}, "{osig}", '
                 f'{names_macro(outs)}, m_{m.get("name")}, SD_BUS_VTABLE_UNPRIVILEGED),')
    for p in props:
        pn = p.get("name")
        emits = annotation(p, "org.freedesktop.DBus.Property.EmitsChangedSignal") or "true"
        flag = {"const": "SD_BUS_VTABLE_PROPERTY_CONST", "true": "SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE",
                "invalidates": "SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION", "false": "0"}[emits]
        if p.get("access") == "readwrite":
            c.append(f'    SD_BUS_WRITABLE_PROPERTY("{pn}", "{p.get("type")}", p_get_{pn}, p_set_{pn}, 0, '
                     f'{flag} | SD_BUS_VTABLE_UNPRIVILEGED),')
        else:
            c.append(f'    SD_BUS_PROPERTY("{pn}", "{p.get("type")}", p_get_{pn}, 0, {flag}),')
    for s in signals:
        sa = args(s)
        c.append(f'    SD_BUS_SIGNAL_WITH_NAMES("{s.get("name")}", "{"".join(t for _, t in sa)}", {names_macro(sa)}, 0),')
    c += ["    SD_BUS_VTABLE_END,", "};", "", "} // namespace", ""]

    for m in methods:
        ins, outs = args(m, "in"), args(m, "out")
        reply = "bus::Reply<" + ", ".join(cpp_type(t) for _, t in outs) + ">"
        params = ", ".join([f"{reply}&"] + [cpp_type(t) for _, t in ins])
        call = annotation(m, "org.libvirt.Call") or f"{short}.{m.get('name')}"
        c += [f"void {cls}::{m.get('name')}({params})", "{",
              f'    throw err::notSupported("{call}");', "}", ""]
    c += [f"const sd_bus_vtable* {cls}::vtable() {{ return vtable_; }}", "",
          f"void {cls}::appendAllProperties(sd_bus_message* m, const char* path, bool doubleWrap,",
          "                                 const bus::PropertyFilter* only)", "{",
          "    bus::Writer w(m);"]
    if props:
        c.append("    bus::PropertyBatch batch(*this, path);")
    for p in props:
        pn, sig = p.get("name"), p.get("type")
        c += [f'    if (!only || (*only)("{pn}")) try {{', f"        auto v = get{pn}(path);",
              '        bus::check(sd_bus_message_open_container(m, \'e\', "sv"), "open entry");',
              f'        w.put("{pn}");',
              f'        bus::check(sd_bus_message_open_container(m, \'v\', doubleWrap ? "v" : "{sig}"), "open v");',
              f'        if (doubleWrap)',
              f'            bus::check(sd_bus_message_open_container(m, \'v\', "{sig}"), "open v");',
              "        w.put(v);",
              "        if (doubleWrap)",
              '            bus::check(sd_bus_message_close_container(m), "close v");',
              '        bus::check(sd_bus_message_close_container(m), "close v");',
              '        bus::check(sd_bus_message_close_container(m), "close entry");',
              "    } catch (const VirtError&) {", "    }"]
    if not props:
        c += ["    (void)w;", "    (void)path;", "    (void)doubleWrap;", "    (void)only;"]
    c += ["}", ""]
    c += property_members(cls, short, props, table)
    for s in signals:
        sa = args(s)
        params = ", ".join(["sd_bus* bus", "const char* path"] + [f"const {cpp_type(t)}& {n}" for n, t in sa])
        c += [f"int emit{short}{s.get('name')}({params})", "{",
              "    sd_bus_message* m = nullptr;",
              f'    int r = sd_bus_message_new_signal(bus, &m, path, "{iname}", "{s.get("name")}");',
              "    if (r < 0)", "        return r;", "    try {"]
        if sa:
            c.append(f"        bus::Writer(m).putAll({', '.join(n for n, _ in sa)});")
        c += ["        r = sd_bus_send(bus, m, nullptr);", "    } catch (const bus::BusError& e) {",
              "        r = -e.errnum;", "    }", "    sd_bus_message_unref(m);", "    return r;", "}", ""]
    c += ["} // namespace virtbus::glue", ""]
    return "\n".join(h), "\n".join(c)


def main():
    if len(sys.argv) != 5:
        raise SystemExit("usage: gen-glue.py INTERFACE.xml PERMISSIONS.table OUT.h OUT.cpp")
    xml_path, table_path, out_h, out_c = sys.argv[1:]
    stem = out_h.split("/")[-1][:-2]
    h, c = generate(xml_path, Table(table_path), stem)
    open(out_h, "w").write(h)
    open(out_c, "w").write(c)


if __name__ == "__main__":
    main()
