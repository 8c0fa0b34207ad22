# SPDX-License-Identifier: LGPL-2.1-or-later
"""The org.libvirt API reference, read with tools/check-interfaces.py's parser.

The reference markdown (org.libvirt-api.md) is looked up in
$VIRTBUS_API_REFERENCE, docs/ and the shared reference directory; without it
the interface XML of the repository, which check-interfaces.py keeps
identical to the reference, stands in.
"""

import importlib.util
import os
from pathlib import Path

import harness as h


def _load_checker():
    spec = importlib.util.spec_from_file_location(
        "check_interfaces", h.REPO_ROOT / "tools" / "check-interfaces.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CHECKER = _load_checker()


def reference_source():
    candidates = [os.environ.get("VIRTBUS_API_REFERENCE"),
                  h.REPO_ROOT / "docs" / "org.libvirt-api.md",
                  h.REPO_ROOT / "docs" / "reference" / "org.libvirt-api.md",
                  "/work/shared/reference/org.libvirt-api.md"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def _key(m):
    if m.kind == "property":
        return (m.kind, m.name, m.type, m.access)
    if m.kind == "method":
        return (m.kind, m.name, tuple(m.args_in), tuple(m.args_out))
    return (m.kind, m.name, tuple(m.args_in))


def expected_members(iface):
    """{member name: key} of one org.libvirt interface."""
    errors = []
    ref = reference_source()
    if ref is not None:
        members = CHECKER.parse_reference(str(ref), errors).get(iface)
        if members is None:
            raise AssertionError(f"{ref} has no section for {iface}")
    else:
        print(f"note: API reference markdown not found; using interfaces/{iface}.xml")
        members = CHECKER.parse_xml(str(h.REPO_ROOT / "interfaces" / f"{iface}.xml"), iface, errors)
    return {(m.kind, m.name): _key(m) for m in members}


def methods(iface):
    """[(name, [(arg name, signature)], libvirt call)] of an interface's methods."""
    errors = []
    src = reference_source()
    if src is not None:
        members = CHECKER.parse_reference(str(src), errors).get(iface, [])
    else:
        members = CHECKER.parse_xml(str(h.REPO_ROOT / "interfaces" / f"{iface}.xml"), iface, errors)
    return [(m.name, list(m.args_in), m.call) for m in members if m.kind == "method"]
