#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check the D-Bus introspection XML files against the API reference.

Usage: check-interfaces.py REFERENCE.md INTERFACES_DIR

The reference is a markdown document with one "## org.libvirt.X" section
per interface, each holding up to three tables whose first header cell is
"property", "method" or "signal".  Every member listed there must appear in
INTERFACES_DIR/org.libvirt.X.xml with the same name, kind, argument names,
directions, signatures and order (properties: same type and access), and
nothing else may be there.  In addition every member must carry a
one-line org.freedesktop.DBus.Description annotation and an
org.libvirt.Call annotation naming the libvirt call of the reference;
methods whose reference entry says "(an empty string stands for NULL)"
must carry org.libvirt.EmptyIsNull=true, and properties must declare
org.freedesktop.DBus.Property.EmitsChangedSignal.

Exits 0 when everything matches, 1 on any mismatch, 2 on usage errors.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

DOCTYPE = ('<!DOCTYPE node PUBLIC '
           '"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" '
           '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">')

ANN_DESC = "org.freedesktop.DBus.Description"
ANN_CALL = "org.libvirt.Call"
ANN_EMPTY = "org.libvirt.EmptyIsNull"
ANN_EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
KNOWN_ANNOTATIONS = {ANN_DESC, ANN_CALL, ANN_EMPTY, ANN_EMITS,
                     "org.freedesktop.DBus.Deprecated",
                     "org.freedesktop.DBus.Method.NoReply"}
EMITS_VALUES = {"true", "false", "invalidates", "const"}
EMPTY_NOTE = "(an empty string stands for NULL)"
KINDS = ("property", "method", "signal")


class Member:
    """One property, method or signal, as described by either side."""

    def __init__(self, kind, name):
        self.kind = kind
        self.name = name
        self.type = None          # property type
        self.access = None        # property access
        self.args_in = []         # [(name, signature)]; signal args live here
        self.args_out = []
        self.call = None
        self.empty_is_null = False
        self.annotations = {}     # XML side only

    @property
    def key(self):
        return (self.kind, self.name)

    def label(self):
        return f"{self.kind} {self.name}"


# ---------------------------------------------------------------- signatures

_BASIC = set("ybnqiuxtdhsog")


def _complete_type(sig, pos):
    """Return the index just past the single complete type at sig[pos]."""
    if pos >= len(sig):
        raise ValueError("truncated signature")
    c = sig[pos]
    if c in _BASIC or c == "v":
        return pos + 1
    if c == "a":
        if pos + 1 < len(sig) and sig[pos + 1] == "{":
            key_end = _complete_type(sig, pos + 2)
            if sig[pos + 2] not in _BASIC:
                raise ValueError("dict key must be a basic type")
            end = _complete_type(sig, key_end)
            if end >= len(sig) or sig[end] != "}":
                raise ValueError("unterminated dict entry")
            return end + 1
        return _complete_type(sig, pos + 1)
    if c == "(":
        pos += 1
        if pos < len(sig) and sig[pos] == ")":
            raise ValueError("empty struct")
        while pos < len(sig) and sig[pos] != ")":
            pos = _complete_type(sig, pos)
        if pos >= len(sig):
            raise ValueError("unterminated struct")
        return pos + 1
    raise ValueError(f"unexpected character {c!r}")


def signature_error(sig):
    """None if sig is exactly one complete D-Bus type, else a message."""
    try:
        if _complete_type(sig, 0) != len(sig):
            return "more than one complete type"
    except ValueError as e:
        return str(e)
    return None


# ----------------------------------------------------------------- reference

def parse_args(cell, where, errors):
    cell = cell.strip()
    m = re.fullmatch(r"`([^`]*)`", cell)
    if not m:
        errors.append(f"{where}: argument cell {cell!r} is not in backticks")
        return []
    body = m.group(1).strip()
    if not body:
        return []
    out = []
    for part in body.split(","):
        part = part.strip()
        am = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*):(\S+)", part)
        if not am:
            errors.append(f"{where}: cannot parse argument {part!r}")
            continue
        out.append((am.group(1), am.group(2)))
    return out


def parse_call(cell):
    """Split 'virA, virB (note) (note)' into ('virA,virB', [notes])."""
    notes = re.findall(r"\(([^()]*)\)", cell)
    head = re.sub(r"\([^()]*\)", "", cell).strip()
    calls = [c.strip() for c in head.split(",") if c.strip()]
    return ",".join(calls), ["(" + n + ")" for n in notes]


def parse_reference(path, errors):
    """Return {interface name: [Member, ...]} in document order."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()

    ifaces = {}
    current = None
    kind = None
    for lineno, line in enumerate(lines, 1):
        where = f"{os.path.basename(path)}:{lineno}"
        m = re.match(r"^##\s+(org\.libvirt\.\w+)\s*$", line)
        if m:
            current = m.group(1)
            if current in ifaces:
                errors.append(f"{where}: interface {current} listed twice")
            ifaces[current] = []
            kind = None
            continue
        if line.startswith("#"):
            current = None
            kind = None
            continue
        if not line.startswith("|"):
            continue
        if current is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in KINDS:
            kind = cells[0]
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        if kind is None:
            errors.append(f"{where}: table row outside a known table")
            continue
        expected_cells = 4
        if kind == "signal":
            expected_cells = 3
        if len(cells) != expected_cells:
            errors.append(f"{where}: {kind} row has {len(cells)} cells, "
                          f"expected {expected_cells}")
            continue
        mem = Member(kind, cells[0])
        if kind == "property":
            mem.type = cells[1].strip("`")
            mem.access = cells[2]
        elif kind == "method":
            mem.args_in = parse_args(cells[1], where, errors)
            mem.args_out = parse_args(cells[2], where, errors)
        else:
            mem.args_in = parse_args(cells[1], where, errors)
        mem.call, notes = parse_call(cells[-1])
        mem.empty_is_null = EMPTY_NOTE in notes
        if any(m_.key == mem.key for m_ in ifaces[current]):
            errors.append(f"{where}: {current} {mem.label()} listed twice")
        ifaces[current].append(mem)
    return ifaces


# ----------------------------------------------------------------------- XML

def parse_xml(path, iface_name, errors):
    """Return [Member, ...] of the single interface in path, or None."""
    where = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()

    if DOCTYPE not in text:
        errors.append(f"{where}: missing or different DOCTYPE")
    for lineno, line in enumerate(text.splitlines(), 1):
        if "\t" in line:
            errors.append(f"{where}:{lineno}: tab character")
        indent = len(line) - len(line.lstrip(" "))
        if indent % 4:
            errors.append(f"{where}:{lineno}: indentation is not a "
                          f"multiple of 4 spaces")
        if re.search(r">\s*<", line):
            errors.append(f"{where}:{lineno}: more than one element per line")
    if "<!--" in text:
        errors.append(f"{where}: contains XML comments; use the "
                      f"{ANN_DESC} annotation instead")

    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        errors.append(f"{where}: XML parse error: {e}")
        return None
    if root.tag != "node":
        errors.append(f"{where}: root element is <{root.tag}>, not <node>")
        return None
    for child in root:
        if child.tag != "interface":
            errors.append(f"{where}: unexpected <{child.tag}> under <node>")
    interfaces = root.findall("interface")
    if len(interfaces) != 1:
        errors.append(f"{where}: {len(interfaces)} interfaces, expected "
                      f"exactly one")
        if not interfaces:
            return None
    iface = interfaces[0]
    if iface.get("name") != iface_name:
        errors.append(f"{where}: interface is named {iface.get('name')!r}, "
                      f"expected {iface_name!r}")

    members = []
    for el in iface:
        if el.tag == "annotation":
            continue
        if el.tag not in KINDS:
            errors.append(f"{where}: unexpected <{el.tag}> in interface")
            continue
        name = el.get("name")
        if not name:
            errors.append(f"{where}: <{el.tag}> without a name")
            continue
        mem = Member(el.tag, name)
        mlabel = f"{where}: {mem.label()}"
        if el.tag == "property":
            mem.type = el.get("type")
            mem.access = el.get("access")
        for sub in el:
            if sub.tag == "annotation":
                aname, avalue = sub.get("name"), sub.get("value")
                if aname is None or avalue is None:
                    errors.append(f"{mlabel}: annotation without name/value")
                    continue
                if aname in mem.annotations:
                    errors.append(f"{mlabel}: duplicate annotation {aname}")
                if aname not in KNOWN_ANNOTATIONS:
                    errors.append(f"{mlabel}: unknown annotation {aname}")
                mem.annotations[aname] = avalue
            elif sub.tag == "arg" and el.tag != "property":
                aname, atype = sub.get("name"), sub.get("type")
                direction = sub.get("direction")
                if not aname or not atype:
                    errors.append(f"{mlabel}: <arg> without name/type")
                    continue
                if el.tag == "method":
                    if direction not in ("in", "out"):
                        errors.append(f"{mlabel}: arg {aname} needs an "
                                      f"explicit direction in/out, has "
                                      f"{direction!r}")
                        continue
                    (mem.args_in if direction == "in"
                     else mem.args_out).append((aname, atype))
                else:
                    if direction not in (None, "out"):
                        errors.append(f"{mlabel}: signal arg {aname} has "
                                      f"direction {direction!r}")
                    mem.args_in.append((aname, atype))
            else:
                errors.append(f"{mlabel}: unexpected <{sub.tag}>")
        if el.tag == "method":
            # in-args must all come before out-args
            dirs = [a.get("direction") for a in el.findall("arg")]
            if "out" in dirs and "in" in dirs[dirs.index("out"):]:
                errors.append(f"{mlabel}: in-args after out-args")
        mem.call = mem.annotations.get(ANN_CALL)
        mem.empty_is_null = mem.annotations.get(ANN_EMPTY) == "true"
        members.append(mem)
    return members


# ------------------------------------------------------------------- compare

def check_annotations(where, mem, errors):
    desc = mem.annotations.get(ANN_DESC)
    if desc is None:
        errors.append(f"{where}: missing {ANN_DESC} annotation")
    elif not desc.strip():
        errors.append(f"{where}: empty {ANN_DESC}")
    elif "\n" in desc:
        errors.append(f"{where}: {ANN_DESC} spans several lines")
    if ANN_CALL not in mem.annotations:
        errors.append(f"{where}: missing {ANN_CALL} annotation")
    elif not re.fullmatch(r"vir\w+(,vir\w+)*", mem.annotations[ANN_CALL]):
        errors.append(f"{where}: malformed {ANN_CALL} "
                      f"{mem.annotations[ANN_CALL]!r}")
    if ANN_EMPTY in mem.annotations:
        if mem.kind != "method":
            errors.append(f"{where}: {ANN_EMPTY} on a {mem.kind}")
        if mem.annotations[ANN_EMPTY] != "true":
            errors.append(f"{where}: {ANN_EMPTY} must be \"true\"")
    if mem.kind == "property":
        emits = mem.annotations.get(ANN_EMITS)
        if emits is None:
            errors.append(f"{where}: missing {ANN_EMITS} annotation")
        elif emits not in EMITS_VALUES:
            errors.append(f"{where}: invalid {ANN_EMITS} value {emits!r}")
    elif ANN_EMITS in mem.annotations:
        errors.append(f"{where}: {ANN_EMITS} on a {mem.kind}")


def fmt_args(args):
    return ", ".join(f"{n}:{t}" for n, t in args) or "(none)"


def compare_member(where, ref, xml, errors):
    if ref.kind == "property":
        if ref.type != xml.type:
            errors.append(f"{where}: type {xml.type!r}, reference says "
                          f"{ref.type!r}")
        if ref.access != xml.access:
            errors.append(f"{where}: access {xml.access!r}, reference says "
                          f"{ref.access!r}")
        if xml.type and signature_error(xml.type):
            errors.append(f"{where}: invalid type {xml.type!r}: "
                          f"{signature_error(xml.type)}")
    else:
        sides = [("in", ref.args_in, xml.args_in)]
        if ref.kind == "method":
            sides.append(("out", ref.args_out, xml.args_out))
        for direction, rargs, xargs in sides:
            label = "args" if ref.kind == "signal" else f"{direction}-args"
            if rargs != xargs:
                errors.append(f"{where}: {label} [{fmt_args(xargs)}], "
                              f"reference says [{fmt_args(rargs)}]")
            for n, t in xargs:
                err = signature_error(t)
                if err:
                    errors.append(f"{where}: arg {n} has invalid "
                                  f"signature {t!r}: {err}")
    if xml.call is not None and ref.call != xml.call:
        errors.append(f"{where}: {ANN_CALL} {xml.call!r}, reference says "
                      f"{ref.call!r}")
    if ref.empty_is_null != xml.empty_is_null:
        errors.append(f"{where}: {ANN_EMPTY} "
                      f"{'missing' if ref.empty_is_null else 'unexpected'}")


def compare_interface(iface, ref_members, xml_members, errors):
    fname = f"{iface}.xml"
    seen = {}
    for m in xml_members:
        if m.key in seen:
            errors.append(f"{fname}: {m.label()} defined twice")
        seen[m.key] = m
    ref_keys = {m.key for m in ref_members}

    for m in ref_members:
        if m.key not in seen:
            errors.append(f"{fname}: missing {m.label()}")
    for m in xml_members:
        if m.key not in ref_keys:
            errors.append(f"{fname}: {m.label()} is not in the reference")

    for m in ref_members:
        x = seen.get(m.key)
        if x is None:
            continue
        where = f"{fname}: {m.label()}"
        compare_member(where, m, x, errors)
        check_annotations(where, x, errors)

    for kind in KINDS:
        r = [m.name for m in ref_members if m.kind == kind]
        x = [m.name for m in xml_members if m.kind == kind and
             (kind, m.name) in ref_keys]
        if sorted(r) == sorted(x) and r != x:
            errors.append(f"{fname}: {kind} order differs from the "
                          f"reference: {', '.join(x)}")
    # properties first, then methods, then signals (reference order)
    order = [KINDS.index(m.kind) for m in xml_members]
    if order != sorted(order):
        errors.append(f"{fname}: members are not grouped as properties, "
                      f"methods, signals")


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(f"usage: {os.path.basename(argv[0])} "
                         f"REFERENCE.md INTERFACES_DIR\n")
        return 2
    ref_path, xml_dir = argv[1], argv[2]
    if not os.path.isfile(ref_path) or not os.path.isdir(xml_dir):
        sys.stderr.write("error: REFERENCE.md must be a file and "
                         "INTERFACES_DIR a directory\n")
        return 2

    errors = []
    reference = parse_reference(ref_path, errors)
    if not reference:
        errors.append(f"{ref_path}: no interfaces found")

    present = {f for f in os.listdir(xml_dir)
               if re.fullmatch(r"org\.libvirt\.\w+\.xml", f)}
    for f in sorted(present - {f"{i}.xml" for i in reference}):
        errors.append(f"{f}: interface is not in the reference")

    totals = {k: 0 for k in KINDS}
    for iface, ref_members in reference.items():
        path = os.path.join(xml_dir, f"{iface}.xml")
        if not os.path.isfile(path):
            errors.append(f"{iface}.xml: file missing")
            continue
        before = len(errors)
        xml_members = parse_xml(path, iface, errors)
        if xml_members is None:
            continue
        compare_interface(iface, ref_members, xml_members, errors)
        counts = {k: sum(1 for m in xml_members if m.kind == k)
                  for k in KINDS}
        for k in KINDS:
            totals[k] += counts[k]
        status = "OK" if len(errors) == before else \
            f"{len(errors) - before} problem(s)"
        print(f"{iface}: {counts['property']} properties, "
              f"{counts['method']} methods, {counts['signal']} signals: "
              f"{status}")

    for e in errors:
        print(f"ERROR: {e}")
    print(f"{len(reference)} interfaces, {totals['property']} properties, "
          f"{totals['method']} methods, {totals['signal']} signals; "
          f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
