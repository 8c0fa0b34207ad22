# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile and malformed input: the daemon answers with an error and lives.

After every case the daemon must still answer (Peer.Ping, ListDomains) and
the world must be unchanged: the same domain list and the same XML for
`test`.
"""

import time
import unittest
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import dbus

import harness as h
from harness import CONN_PATH, DOMAIN_IFACE, TEST_PATH, TEST_UUID

UNSUPPORTED_FLAGS = r"^unsupported flags \(0x{:x}\) in function \S+$"
BAD_FLAG = 0x40000000


def billion_laughs(where="description"):
    ents = ['<!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = f"&lol{i - 1};" if i > 1 else "&lol;"
        ents.append(f'<!ENTITY lol{i} "{prev * 10}">')
    body = h.scratch_domain_xml("laughs", h.new_uuid(), description="&lol9;")
    return "<?xml version='1.0'?>\n<!DOCTYPE domain [\n" + "\n".join(ents) + "\n]>\n" + body


def external_entity(uri):
    body = h.scratch_domain_xml("xxe", h.new_uuid(), description="&xxe;")
    return (f"<?xml version='1.0'?>\n<!DOCTYPE domain [\n<!ENTITY xxe SYSTEM '{uri}'>\n]>\n"
            + body)


class TestBadInput(h.DaemonTestCase):

    collect_signals = False

    def world(self):
        return (sorted(self.list_domains(0)), self.xml(TEST_PATH))

    @contextmanager
    def unchanged(self):
        """The daemon survives the block and the world is as before."""
        before = self.world()
        yield
        self.assertDaemonAlive()
        self.assertEqual(self.world(), before, "the world changed")

    def assertRejected(self, fn, *args, names=("org.libvirt.Error",), **kw):
        try:
            result = fn(*args, **kw)
        except dbus.DBusException as e:
            self.assertIn(h.errname(e), names, str(e))
            return e
        self.fail(f"accepted: {result!r}")

    def define_or_error(self, xml):
        """DomainDefineXML; returns the path or None if refused with org.libvirt.Error."""
        try:
            return str(self.connect("DomainDefineXML", "s", xml, timeout=20))
        except dbus.DBusException as e:
            self.assertEqual(h.errname(e), "org.libvirt.Error", str(e))
            return None

    # ---- XML ----

    def test_malformed_xml(self):
        cases = ["<domain type='test'><name>x</name>", "<domain", "", "not xml at all",
                 "<domain type='test'><name>x</nam></domain>", "\x00\x01\x02",
                 "<?xml version='1.0' encoding='bogus'?><domain/>"]
        with self.unchanged():
            for xml in cases:
                with self.subTest(xml=xml):
                    e = self.assertRejected(self.connect, "DomainDefineXML", "s", xml.replace("\x00", ""))
                    self.assertNotIn("internal error: unknown", h.errmsg(e))
                    self.assertRejected(self.connect, "DomainCreateXML", "su", xml.replace("\x00", ""), 0)
                    self.assertRejected(self.dom, TEST_PATH, "SnapshotCreateXML", "su",
                                        xml.replace("\x00", ""), 0)
        with self.unchanged():
            e = self.assertRejected(self.connect, "DomainDefineXML", "s",
                                    "<domain type='test'><name>x</name>")
            self.assertTrue(h.errmsg(e).startswith("XML error"), h.errmsg(e))

    def test_billion_laughs(self):
        with self.unchanged():
            start = time.monotonic()
            path = self.define_or_error(billion_laughs())
            self.assertLess(time.monotonic() - start, 10.0)
            if path is not None:
                desc = ET.fromstring(self.xml(path)).findtext("description") or ""
                self.assertLess(len(desc), 1000000, "entities were expanded")
                self.dom(path, "Undefine", "u", 0)

    def test_external_entity(self):
        with open("/etc/passwd") as f:
            secret = f.readline().strip()
        self.assertTrue(secret)
        for uri in ["file:///etc/passwd", "/etc/passwd", "http://127.0.0.1:9/x"]:
            with self.subTest(uri=uri), self.unchanged():
                path = self.define_or_error(external_entity(uri))
                if path is not None:
                    xml = self.xml(path)
                    self.assertNotIn(secret, xml)
                    self.assertNotIn("root:", xml)
                    self.dom(path, "Undefine", "u", 0)
                try:
                    tpath = str(self.connect("DomainCreateXML", "su", external_entity(uri), 0))
                except dbus.DBusException as e:
                    self.assertEqual(h.errname(e), "org.libvirt.Error", str(e))
                    self.assertNotIn(secret, h.errmsg(e))
                else:
                    xml = self.xml(tpath)
                    self.dom(tpath, "Destroy", "u", 0)
                    self.assertNotIn(secret, xml)
                    self.assertNotIn("root:", xml)

    def test_huge_document(self):
        big = "x" * (10 * 1024 * 1024 + 17)
        with self.unchanged():
            start = time.monotonic()
            path = self.define_or_error(h.scratch_domain_xml("huge", h.new_uuid(), description=big))
            if path is not None:
                self.assertEqual(ET.fromstring(self.xml(path)).findtext("description"), big)
                self.dom(path, "Undefine", "u", 0)
            self.assertRejected(self.connect, "DomainDefineXML", "s", "<" + big)
            self.assertRejected(self.dom, TEST_PATH, "SnapshotCreateXML", "su", "<" + big, 0)
            self.assertLess(time.monotonic() - start, 20.0)

    # ---- names and identifiers ----

    def test_odd_domain_names(self):
        for name in ["a/b", "..", ".", "../../etc/evil", "/", "name with spaces", "ünïcödé"]:
            with self.subTest(name=name), self.unchanged():
                uuid = h.new_uuid()
                xml = h.scratch_domain_xml("PLACEHOLDER", uuid).replace(
                    "<name>PLACEHOLDER</name>", f"<name>{name}</name>")
                path = self.define_or_error(xml)
                if path is None:
                    continue
                self.assertEqual(path, h.domain_path(uuid))
                self.assertEqual(str(self.dprop(path, "Name")), name)
                self.assertEqual(str(self.connect("DomainLookupByName", "s", name)), path)
                self.dom(path, "Undefine", "u", 0)
        with self.unchanged():
            self.assertRejected(self.connect, "DomainLookupByName", "s", "../test")
            self.assertRejected(self.connect, "DomainLookupByName", "s", "test/..")
            self.assertRejected(self.connect, "DomainLookupByName", "s", "")

    def test_odd_snapshot_names(self):
        path, _, uuid = self.define_scratch(start=True)
        try:
            for name in ["a/b", "..", "../x", "_2f", "x" * 500]:
                with self.subTest(name=name):
                    try:
                        spath = str(self.dom(path, "SnapshotCreateXML", "su",
                                             f"<domainsnapshot><name>{name}</name></domainsnapshot>", 0))
                    except dbus.DBusException as e:
                        self.assertEqual(h.errname(e), "org.libvirt.Error", str(e))
                        continue
                    self.assertEqual(spath, h.snapshot_path(uuid, name))
                    self.assertEqual(str(self.dom(path, "SnapshotLookupByName", "su", name, 0)), spath)
                    self.assertEqual(ET.fromstring(str(self.snap(spath, "GetXMLDesc", "u", 0)))
                                     .findtext("name"), name)
                    self.snap(spath, "Delete", "u", 0)
            self.assertDaemonAlive()
        finally:
            self.remove_domain(path)

    def test_invalid_uuids(self):
        # libvirt 9.0's virDomainLookupByUUIDString, word for word (checked
        # against libvirt.so: the domain path reports "Invalid UUID").
        expected = "Invalid UUID"
        bad_uuids = ["not-a-uuid", "", "6695eb01-f6a4-8304-79aa-97f2502e193",
                     "6695eb01-f6a4-8304-79aa-97f2502e193fff",
                     "zzzzzzzz-f6a4-8304-79aa-97f2502e193f", "../../etc/passwd", "x" * 100000,
                     TEST_UUID + "\n/", "%s%s%n"]
        with self.unchanged():
            answers = {}
            for bad in bad_uuids:
                e = self.assertRejected(self.connect, "DomainLookupByUUID", "s", bad)
                answers[bad[:40]] = h.errmsg(e)
            self.assertEqual(answers, {bad[:40]: expected for bad in bad_uuids})
            xml = h.scratch_domain_xml("baduuid", "not-a-uuid")
            self.assertRejected(self.connect, "DomainDefineXML", "s", xml)

    # ---- flags ----

    def test_unknown_flag_bits(self):
        cases = [
            (CONN_PATH, h.CONNECT_IFACE, "ListDomains", "u", (BAD_FLAG,)),
            (TEST_PATH, DOMAIN_IFACE, "GetXMLDesc", "u", (BAD_FLAG,)),
            (TEST_PATH, DOMAIN_IFACE, "GetState", "u", (BAD_FLAG,)),
            (TEST_PATH, DOMAIN_IFACE, "GetVcpus", "u", (BAD_FLAG,)),
            (TEST_PATH, DOMAIN_IFACE, "ListDomainSnapshots", "u", (BAD_FLAG,)),
            (TEST_PATH, DOMAIN_IFACE, "HasManagedSaveImage", "u", (BAD_FLAG,)),
            (TEST_PATH, DOMAIN_IFACE, "GetSchedulerParameters", "u", (BAD_FLAG,)),
            (CONN_PATH, h.CONNECT_IFACE, "GetSysinfo", "u", (BAD_FLAG,)),
            (CONN_PATH, h.CONNECT_IFACE, "DomainCreateXML", "su",
             (h.scratch_domain_xml("flagged", h.new_uuid()), BAD_FLAG)),
        ]
        for path, iface, method, sig, args in cases:
            with self.subTest(method=method), self.unchanged():
                with self.assertLibvirtError(regex=UNSUPPORTED_FLAGS.format(BAD_FLAG)):
                    self.call(path, iface, method, sig, *args)

    def test_unknown_flag_bits_destructive(self):
        path, _, _ = self.define_scratch(start=True)
        try:
            for method in ["Destroy", "Shutdown", "Reboot", "Create", "Undefine", "ManagedSave"]:
                with self.subTest(method=method):
                    with self.assertLibvirtError(regex=UNSUPPORTED_FLAGS.format(BAD_FLAG)):
                        self.dom(path, method, "u", BAD_FLAG)
                    self.assertEqual(self.state(path)[0], h.STATE_RUNNING)
            spath = str(self.dom(path, "SnapshotCreateXML", "su",
                                 "<domainsnapshot><name>s</name></domainsnapshot>", 0))
            for method in ["Delete", "Revert", "GetXMLDesc", "ListChildren", "IsCurrent"]:
                with self.subTest(snapshot_method=method):
                    with self.assertLibvirtError(regex=UNSUPPORTED_FLAGS.format(BAD_FLAG)):
                        self.snap(spath, method, "u", BAD_FLAG)
            self.assertIn(spath, [str(p) for p in self.dom(path, "ListDomainSnapshots", "u", 0)])
            with self.assertLibvirtError(regex=UNSUPPORTED_FLAGS.format(BAD_FLAG)):
                self.dom(path, "SnapshotCreateXML", "su",
                         "<domainsnapshot><name>t</name></domainsnapshot>", BAD_FLAG)
            self.assertDaemonAlive()
        finally:
            self.remove_domain(path)

    # ---- vanished and unknown objects ----

    def test_vanished_domain(self):
        with self.unchanged():
            path, _, _ = self.define_scratch()
            self.dom(path, "Undefine", "u", 0)
            for method, sig, args in [("GetXMLDesc", "u", (0,)), ("Create", "u", (0,)),
                                      ("Undefine", "u", (0,)), ("GetState", "u", (0,))]:
                with self.subTest(method=method):
                    self.assertRejected(self.dom, path, method, sig, *args,
                                        names=h.UNKNOWN_OBJECT_ERRORS)
            # sd-bus answers Properties calls on an object it cannot find
            # with UnknownProperty / UnknownInterface.
            gone = h.UNKNOWN_OBJECT_ERRORS | {"org.freedesktop.DBus.Error.UnknownProperty"}
            self.assertRejected(self.dprop, path, "Name", names=gone)
            self.assertRejected(self.call, path, h.PROPS_IFACE, "GetAll", "s", DOMAIN_IFACE,
                                names=gone)

    def test_unknown_paths(self):
        with self.unchanged():
            for path in [CONN_PATH + "/domain/_00000000_0000_0000_0000_000000000000",
                         CONN_PATH + "/domain/foo", CONN_PATH + "/domain/_6695eb01",
                         CONN_PATH + "/domainsnapshot/_" + TEST_UUID.replace("-", "_") + "_nope",
                         CONN_PATH + "/domainsnapshot/x", "/org/libvirt/Nope", "/"]:
                with self.subTest(path=path):
                    self.assertRejected(self.call, path, DOMAIN_IFACE, "GetXMLDesc", "u", 0,
                                        names=h.UNKNOWN_OBJECT_ERRORS)

    # ---- malformed calls ----

    def test_wrong_argument_types(self):
        invalid = ("org.freedesktop.DBus.Error.InvalidArgs",)
        with self.unchanged():
            self.assertRejected(self.connect, "ListDomains", "s", "0", names=invalid)
            self.assertRejected(self.connect, "ListDomains", "i", 0, names=invalid)
            self.assertRejected(self.connect, "ListDomains", "", names=invalid)
            self.assertRejected(self.connect, "ListDomains", "uu", 0, 0, names=invalid)
            self.assertRejected(self.connect, "DomainLookupByName", "u", 1, names=invalid)
            self.assertRejected(self.dom, TEST_PATH, "GetXMLDesc", "s", "0", names=invalid)
            self.assertRejected(self.dom, TEST_PATH, "SetMemory", "uu", 1, 0, names=invalid)
            self.assertRejected(self.call, TEST_PATH, h.PROPS_IFACE, "Set", "ssv",
                                DOMAIN_IFACE, "Autostart", dbus.String("yes"),
                                names=invalid)
            self.assertRejected(self.call, TEST_PATH, h.PROPS_IFACE, "Set", "ssv",
                                DOMAIN_IFACE, "Autostart",
                                dbus.Boolean(True, variant_level=2), names=invalid)
            self.assertRejected(self.call, TEST_PATH, h.PROPS_IFACE, "Set", "ssv",
                                DOMAIN_IFACE, "Name", "other",
                                names=("org.freedesktop.DBus.Error.PropertyReadOnly",))
            self.assertRejected(self.call, TEST_PATH, h.PROPS_IFACE, "Get", "ss",
                                DOMAIN_IFACE, "NoSuchProperty",
                                names=("org.freedesktop.DBus.Error.UnknownProperty",))
            self.assertRejected(self.dom, TEST_PATH, "NoSuchMethod", "",
                                names=("org.freedesktop.DBus.Error.UnknownMethod",))
            self.assertRejected(self.call, TEST_PATH, "org.libvirt.NoSuch", "GetXMLDesc", "u", 0,
                                names=h.UNKNOWN_OBJECT_ERRORS)
            # A typed parameter of the wrong type is the driver's to refuse.
            self.assertRejected(self.dom, TEST_PATH, "SetSchedulerParameters", "a{sv}u",
                                {"weight": "heavy"}, 0,
                                names=("org.libvirt.Error", "org.freedesktop.DBus.Error.InvalidArgs"))
            self.assertRejected(self.dom, TEST_PATH, "SetMemoryParameters", "a{sv}u",
                                {"hard_limit": dbus.Array([1, 2], signature="u")}, 0,
                                names=("org.libvirt.Error", "org.freedesktop.DBus.Error.InvalidArgs"))
        self.assertIs(bool(self.dprop(TEST_PATH, "Autostart")), False)

    def test_huge_arrays(self):
        path, _, _ = self.define_scratch(start=True)
        try:
            before = self.xml(path)
            self.assertRejected(self.dom, path, "SendKey", "uuauu", 0, 0,
                                dbus.Array(range(1000000), signature="u"), 0)
            self.assertRejected(self.dom, path, "FSFreeze", "asu",
                                dbus.Array(["/nope"] * 100000, signature="s"), 0)
            self.assertRejected(self.dom, path, "SetSchedulerParameters", "a{sv}u",
                                {f"p{i}": dbus.UInt32(i) for i in range(100000)}, 0)
            try:
                self.dom(path, "PinVcpu", "uabu", 0, dbus.Array([True] * 1000000, signature="b"), 0)
            except dbus.DBusException as e:
                self.assertEqual(h.errname(e), "org.libvirt.Error", str(e))
            pins = self.dom(path, "GetVcpuPinInfo", "u", 0)
            self.assertEqual(len(pins), 2)
            self.assertEqual(len(pins[0]), 8)
            self.assertDaemonAlive()
            self.assertEqual(ET.fromstring(self.xml(path)).findtext("name"),
                             ET.fromstring(before).findtext("name"))
            try:
                self.connect("BaselineCPU", "asu", dbus.Array(["<cpu/>"] * 20000, signature="s"), 0,
                             timeout=20)
            except dbus.DBusException as e:
                self.assertEqual(h.errname(e), "org.libvirt.Error", str(e))
            self.assertDaemonAlive()
        finally:
            self.remove_domain(path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
