# SPDX-License-Identifier: LGPL-2.1-or-later
"""The value wrapping clients depend on, checked on GVariants and bytes.

Properties.GetAll on org.libvirt.* interfaces and every typed-parameter
dictionary a method returns wrap each value twice (a variant holding a
variant); Properties.Get wraps once.  Two views are checked: the GVariant
that Gio decodes (call_sync), and the serialized message (Gio's to_blob of
the reply as received), walked by the small D-Bus unmarshaller below, so the
signature bytes themselves are asserted.
"""

import struct
import unittest
import xml.etree.ElementTree as ET

import dbus
import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

import harness as h  # noqa: E402


# ------------------------------------------------------------ unmarshaller

class Variant:
    """A variant as found on the wire: its signature and its value."""

    def __init__(self, sig, value):
        self.sig = sig
        self.value = value

    def __repr__(self):
        return f"Variant({self.sig!r}, {self.value!r})"


_FIXED = {"y": ("B", 1), "b": ("I", 4), "n": ("h", 2), "q": ("H", 2), "i": ("i", 4),
          "u": ("I", 4), "x": ("q", 8), "t": ("Q", 8), "d": ("d", 8), "h": ("I", 4)}


def _complete(sig, i):
    c = sig[i]
    if c == "a":
        return _complete(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        depth = 0
        j = i
        while True:
            if sig[j] in "({":
                depth += 1
            elif sig[j] in ")}":
                depth -= 1
                if depth == 0:
                    assert sig[j] == close
                    return j + 1
            j += 1
    return i + 1


def split_sig(sig):
    out, i = [], 0
    while i < len(sig):
        j = _complete(sig, i)
        out.append(sig[i:j])
        i = j
    return out


def _alignment(t):
    c = t[0]
    if c in _FIXED:
        return _FIXED[c][1]
    if c in "so":
        return 4
    if c in "gv":
        return 1
    if c == "a":
        return 4
    return 8  # struct, dict entry


class Reader:
    def __init__(self, data, little):
        self.data = data
        self.e = "<" if little else ">"
        self.pos = 0

    def align(self, n):
        self.pos = (self.pos + n - 1) // n * n

    def _unpack(self, fmt, size):
        v = struct.unpack_from(self.e + fmt, self.data, self.pos)[0]
        self.pos += size
        return v

    def read(self, t):
        c = t[0]
        self.align(_alignment(t))
        if c in _FIXED:
            fmt, size = _FIXED[c]
            v = self._unpack(fmt, size)
            return bool(v) if c == "b" else v
        if c in "so":
            n = self._unpack("I", 4)
            s = self.data[self.pos:self.pos + n].decode()
            assert self.data[self.pos + n] == 0
            self.pos += n + 1
            return s
        if c == "g":
            n = self.data[self.pos]
            s = self.data[self.pos + 1:self.pos + 1 + n].decode()
            self.pos += n + 2
            return s
        if c == "v":
            sig = self.read("g")
            return Variant(sig, self.read(sig))
        if c == "a":
            n = self._unpack("I", 4)
            elem = t[1:]
            self.align(_alignment(elem))
            end = self.pos + n
            out = []
            while self.pos < end:
                out.append(self.read(elem))
            assert self.pos == end, "array length mismatch"
            return out
        if c in "({":
            return tuple(self.read(f) for f in split_sig(t[1:-1]))
        raise ValueError(f"unknown type {t!r}")


def parse_message(blob):
    """(header fields {code: value}, body signature, [body values])."""
    little = blob[0:1] == b"l"
    r = Reader(bytes(blob), little)
    r.pos = 4
    body_len = r.read("u")
    r.read("u")  # serial
    fields = dict(r.read("a(yv)"))
    r.align(8)
    body_start = r.pos
    sig_field = fields.get(8)
    sig = sig_field.value if sig_field is not None else ""
    values = [r.read(t) for t in split_sig(sig)]
    assert r.pos == body_start + body_len, "body length mismatch"
    return fields, sig, values


# ------------------------------------------------------------------ tests

class TestWireFormat(h.DaemonTestCase):

    collect_signals = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gio = Gio.DBusConnection.new_for_address_sync(
            cls.private_bus.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)

    @classmethod
    def tearDownClass(cls):
        cls.gio.close_sync(None)
        super().tearDownClass()

    # ---- helpers ----

    def gcall(self, path, iface, method, body):
        return self.gio.call_sync(h.BUS_NAME, path, iface, method, body, None,
                                  Gio.DBusCallFlags.NONE, 10000, None)

    def raw(self, path, iface, method, body):
        """Sends a call and returns (body signature, body values) of the reply bytes."""
        msg = Gio.DBusMessage.new_method_call(h.BUS_NAME, path, iface, method)
        if body is not None:
            msg.set_body(body)
        res = self.gio.send_message_with_reply_sync(msg, Gio.DBusSendMessageFlags.NONE,
                                                    10000, None)
        reply = res[0] if isinstance(res, tuple) else res
        if reply.get_message_type() == Gio.DBusMessageType.ERROR:
            reply.to_gerror()  # raises GLib.Error
            raise RuntimeError(f"error reply {reply.get_error_name()}")
        blob = reply.to_blob(Gio.DBusCapabilityFlags.NONE)
        blob = bytes(blob[0] if isinstance(blob, tuple) else blob)
        fields, sig, values = parse_message(blob)
        return sig, values

    def property_types(self, path, iface):
        xml = str(self.call(path, h.INTROSPECT_IFACE, "Introspect", ""))
        for el in ET.fromstring(xml).findall("interface"):
            if el.get("name") == iface:
                return {p.get("name"): p.get("type") for p in el.findall("property")}
        self.fail(f"{iface} not on {path}")

    def check_getall_gvariant(self, path, iface):
        types = self.property_types(path, iface)
        reply = self.gcall(path, h.PROPS_IFACE, "GetAll", GLib.Variant("(s)", (iface,)))
        self.assertEqual(reply.get_type_string(), "(a{sv})")
        d = reply.get_child_value(0)
        seen = {}
        for i in range(d.n_children()):
            entry = d.get_child_value(i)
            name = entry.get_child_value(0).get_string()
            outer = entry.get_child_value(1)
            self.assertEqual(outer.get_type_string(), "v", name)
            inner = outer.get_variant()
            self.assertEqual(inner.get_type_string(), "v", f"{name}: GetAll value is not v(v(...))")
            value = inner.get_variant()
            self.assertEqual(value.get_type_string(), types.get(name), name)
            seen[name] = value
        return types, seen

    def check_getall_blob(self, path, iface):
        types = self.property_types(path, iface)
        sig, values = self.raw(path, h.PROPS_IFACE, "GetAll", GLib.Variant("(s)", (iface,)))
        self.assertEqual(sig, "a{sv}")
        names = []
        for name, outer in values[0]:
            self.assertEqual(outer.sig, "v", f"{name}: outer variant signature byte")
            self.assertIsInstance(outer.value, Variant)
            self.assertEqual(outer.value.sig, types[name], f"{name}: inner variant signature")
            names.append(name)
        self.assertEqual(sorted(names), sorted(types))

    def check_typed_params(self, path, iface, method, body, getter=lambda v: v[0],
                           allow_empty=False):
        sig, values = self.raw(path, iface, method, body)
        params = getter(values)
        self.assertIsInstance(params, list)
        if not params and allow_empty:
            return None
        self.assertGreater(len(params), 0, f"{method} returned no parameters")
        for name, outer in params:
            self.assertEqual(outer.sig, "v", f"{method} {name}: outer signature")
            self.assertIsInstance(outer.value, Variant)
            self.assertNotEqual(outer.value.sig, "v", f"{method} {name}: wrapped three times")
            self.assertIn(outer.value.sig, ("i", "u", "x", "t", "d", "b", "s"),
                          f"{method} {name}: not a typed-parameter type")
        return sig

    # ---- GetAll / Get ----

    def test_getall_domain_gvariant(self):
        types, seen = self.check_getall_gvariant(h.TEST_PATH, h.DOMAIN_IFACE)
        self.assertEqual(sorted(seen), sorted(types))
        self.assertEqual(seen["Name"].get_string(), "test")
        self.assertEqual(seen["UUID"].get_string(), h.TEST_UUID)
        self.assertEqual(seen["Id"].get_uint32(), 1)
        self.assertEqual(seen["SchedulerType"].unpack(), ("fair", 1))

    def test_getall_connect_gvariant(self):
        types, seen = self.check_getall_gvariant(h.CONN_PATH, h.CONNECT_IFACE)
        self.assertEqual(sorted(seen), sorted(types))
        self.assertEqual(seen["Version"].get_uint64(), 2)
        self.assertIs(seen["Encrypted"].get_boolean(), False)

    def test_getall_domain_bytes(self):
        self.check_getall_blob(h.TEST_PATH, h.DOMAIN_IFACE)

    def test_getall_connect_bytes(self):
        self.check_getall_blob(h.CONN_PATH, h.CONNECT_IFACE)

    def test_get_is_single_variant(self):
        types = self.property_types(h.TEST_PATH, h.DOMAIN_IFACE)
        for name, t in sorted(types.items()):
            with self.subTest(property=name):
                reply = self.gcall(h.TEST_PATH, h.PROPS_IFACE, "Get",
                                   GLib.Variant("(ss)", (h.DOMAIN_IFACE, name)))
                self.assertEqual(reply.get_type_string(), "(v)")
                self.assertEqual(reply.get_child_value(0).get_variant().get_type_string(), t)
                sig, values = self.raw(h.TEST_PATH, h.PROPS_IFACE, "Get",
                                       GLib.Variant("(ss)", (h.DOMAIN_IFACE, name)))
                self.assertEqual(sig, "v")
                self.assertEqual(values[0].sig, t)
        sig, values = self.raw(h.CONN_PATH, h.PROPS_IFACE, "Get",
                               GLib.Variant("(ss)", (h.CONNECT_IFACE, "Hostname")))
        self.assertEqual((sig, values[0].sig), ("v", "s"))

    def test_set_takes_single_variant(self):
        path, _, _ = self.define_scratch()
        self.gcall(path, h.PROPS_IFACE, "Set",
                   GLib.Variant("(ssv)", (h.DOMAIN_IFACE, "Autostart", GLib.Variant("b", True))))
        self.assertIs(bool(self.dprop(path, "Autostart")), True)
        self.remove_domain(path)

    def test_getall_agrees_with_get(self):
        for path, iface in [(h.TEST_PATH, h.DOMAIN_IFACE), (h.CONN_PATH, h.CONNECT_IFACE)]:
            allprops = self.call(path, h.PROPS_IFACE, "GetAll", "s", iface)
            for name in self.property_types(path, iface):
                with self.subTest(path=path, property=name):
                    try:
                        value = self.prop(path, iface, name)
                    except dbus.DBusException:
                        self.assertNotIn(name, allprops)
                        continue
                    self.assertIn(name, allprops)
                    self.assertEqual(allprops[name], value)

    def test_failing_getter_omitted(self):
        # Look for a property whose getter fails on some object of the test
        # world: the pristine domain, an inactive and a transient domain.
        inactive, _, _ = self.define_scratch("inactive")
        tname = self.scratch_name("transient")
        transient = str(self.connect("DomainCreateXML", "su",
                                     h.scratch_domain_xml(tname, h.new_uuid()), 0))
        objects = [(h.CONN_PATH, h.CONNECT_IFACE), (h.TEST_PATH, h.DOMAIN_IFACE),
                   (inactive, h.DOMAIN_IFACE), (transient, h.DOMAIN_IFACE)]
        failing = []
        try:
            for path, iface in objects:
                for name in self.property_types(path, iface):
                    try:
                        self.prop(path, iface, name)
                    except dbus.DBusException:
                        failing.append((path, iface, name))
            for path, iface, name in failing:
                allprops = self.call(path, h.PROPS_IFACE, "GetAll", "s", iface)
                self.assertNotIn(name, allprops)
        finally:
            self.remove_domain(inactive)
            self.remove_domain(transient)
        if not failing:
            self.skipTest("no property getter fails anywhere in the test:///default world "
                          "(connection, running, inactive and transient domains), so the "
                          "omission of a failing getter cannot be provoked over D-Bus")

    # ---- typed-parameter dictionaries ----

    def test_typed_params_libvirt_test_driver(self):
        p = h.TEST_PATH
        cases = [
            ("GetSchedulerParameters", GLib.Variant("(u)", (0,))),
            ("GetMemoryParameters", GLib.Variant("(u)", (0,))),
            ("GetBlockIOParameters", GLib.Variant("(u)", (0,))),
            ("GetNumaParameters", GLib.Variant("(u)", (0,))),
            ("GetPerfEvents", GLib.Variant("(u)", (0,))),
            ("GetBlockIOTune", GLib.Variant("(su)", ("vda", 0))),
            ("GetInterfaceParameters", GLib.Variant("(su)", ("aa:bb:cc:dd:ee:ff", 0))),
        ]
        for method, body in cases:
            with self.subTest(method=method):
                self.assertEqual(self.check_typed_params(p, h.DOMAIN_IFACE, method, body), "a{sv}")
                # And the GVariant view: a{sv} whose values are v(v(...)).
                reply = self.gcall(p, h.DOMAIN_IFACE, method, body)
                entry = reply.get_child_value(0).get_child_value(0)
                self.assertEqual(entry.get_child_value(1).get_variant().get_type_string(), "v")

    def test_typed_params_where_implemented(self):
        checked = []
        cases = [
            (h.TEST_PATH, h.DOMAIN_IFACE, "GetStats", GLib.Variant("(uu)", (1, 0)),
             lambda v: v[0]),
            (h.TEST_PATH, h.DOMAIN_IFACE, "GetGuestVcpus", GLib.Variant("(u)", (0,)),
             lambda v: v[0]),
            (h.TEST_PATH, h.DOMAIN_IFACE, "GetJobStats", GLib.Variant("(u)", (0,)),
             lambda v: v[0][1]),
            (h.CONN_PATH, h.CONNECT_IFACE, "NodeGetMemoryParameters", GLib.Variant("(u)", (0,)),
             lambda v: v[0]),
            (h.CONN_PATH, h.CONNECT_IFACE, "GetAllDomainStats", GLib.Variant("(uu)", (1, 0)),
             lambda v: v[0][0][1] if v[0] else []),
        ]
        for path, iface, method, body, getter in cases:
            with self.subTest(method=method):
                try:
                    if self.check_typed_params(path, iface, method, body, getter,
                                               allow_empty=True) is not None:
                        checked.append(method)
                except GLib.Error as e:
                    if h.NOT_SUPPORTED in e.message or "is not running" in e.message:
                        continue
                    raise
        print(f"typed-parameter replies checked where implemented: {checked or 'none'}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
