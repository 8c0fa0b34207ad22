# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every object kind introspects with exactly the org.libvirt API.

The expected members come from the API reference (org.libvirt-api.md),
parsed with tools/check-interfaces.py's own parser.  The reference is looked
up in $VIRTBUS_API_REFERENCE, docs/org.libvirt-api.md and the shared
reference directory; without it the interface XML of the repository (which
check-interfaces.py keeps identical to the reference) stands in.
"""

import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

import dbus
from gi.repository import GLib

import harness as h
from reference import expected_members

STANDARD_IFACES = {"org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Introspectable",
                   "org.freedesktop.DBus.Properties"}


def live_interfaces(xml):
    """{interface name: {(kind, name): key}} of an Introspect answer."""
    root = ET.fromstring(xml)
    out = {}
    for iface in root.findall("interface"):
        members = {}
        for el in iface:
            kind, name = el.tag, el.get("name")
            if kind == "property":
                key = (kind, name, el.get("type"), el.get("access"))
            elif kind == "method":
                ins = tuple((a.get("name"), a.get("type")) for a in el.findall("arg")
                            if a.get("direction", "in") == "in")
                outs = tuple((a.get("name"), a.get("type")) for a in el.findall("arg")
                             if a.get("direction") == "out")
                key = (kind, name, ins, outs)
            elif kind == "signal":
                key = (kind, name, tuple((a.get("name"), a.get("type")) for a in el.findall("arg")))
            else:
                continue
            members[(kind, name)] = key
        out[iface.get("name")] = members
    return out


def child_nodes(xml):
    return {n.get("name") for n in ET.fromstring(xml).findall("node")}


class TestIntrospection(h.DaemonTestCase):

    def introspect(self, path):
        return str(self.call(path, h.INTROSPECT_IFACE, "Introspect", ""))

    def check_object(self, path, iface):
        live = live_interfaces(self.introspect(path))
        self.assertTrue(STANDARD_IFACES <= set(live),
                        f"{path} lacks standard interfaces: {STANDARD_IFACES - set(live)}")
        libvirt_ifaces = {i for i in live if i.startswith("org.libvirt.")}
        self.assertEqual(libvirt_ifaces, {iface}, f"org.libvirt interfaces on {path}")
        expected = expected_members(iface)
        got = live[iface]
        missing = sorted(f"{k}:{n}" for (k, n) in set(expected) - set(got))
        extra = sorted(f"{k}:{n}" for (k, n) in set(got) - set(expected))
        self.assertEqual((missing, extra), ([], []), f"{iface} member sets differ on {path}")
        for k in sorted(expected):
            self.assertEqual(got[k], expected[k], f"{iface} {k[0]} {k[1]} on {path}")

    def test_connection_object(self):
        self.check_object(h.CONN_PATH, h.CONNECT_IFACE)

    def test_domain_object(self):
        self.check_object(h.TEST_PATH, h.DOMAIN_IFACE)

    def test_snapshot_object(self):
        path = str(self.dom(h.TEST_PATH, "SnapshotCreateXML", "su",
                            "<domainsnapshot><name>introspected</name></domainsnapshot>", 0))
        self.assertEqual(path, h.snapshot_path(h.TEST_UUID, "introspected"))
        self.check_object(path, h.SNAPSHOT_IFACE)
        nodes = child_nodes(self.introspect(h.CONN_PATH + "/domainsnapshot"))
        self.assertIn(path.rsplit("/", 1)[1], nodes)

    def test_root_and_connection_nodes(self):
        self.assertIn("Test", child_nodes(self.introspect("/org/libvirt")))
        self.assertIn("domain", child_nodes(self.introspect(h.CONN_PATH)))

    def test_domain_nodes(self):
        nodes = child_nodes(self.introspect(h.CONN_PATH + "/domain"))
        listed = {p.rsplit("/", 1)[1] for p in self.list_domains()}
        self.assertEqual(nodes, listed)
        self.assertIn(h.TEST_PATH.rsplit("/", 1)[1], nodes)

    def test_introspection_driven_typing(self):
        # dbus-python builds the signature from Introspect: a Python int for
        # ListDomains must go out as 'u'.  The daemon checks signatures (the
        # 'i' call below fails), so success here proves the typing.
        proxy = self.bus.get_object(h.BUS_NAME, h.CONN_PATH)
        paths = proxy.ListDomains(0, dbus_interface=h.CONNECT_IFACE)
        self.assertIn(h.TEST_PATH, [str(p) for p in paths])
        method_map = getattr(proxy, "_introspect_method_map", None)
        if method_map is not None:
            self.assertEqual(method_map.get("org.libvirt.Connect.ListDomains"), "u")
        with self.assertLibvirtError(name="org.freedesktop.DBus.Error.InvalidArgs"):
            self.connect("ListDomains", "i", 0)

        dom = self.bus.get_object(h.BUS_NAME, h.TEST_PATH)
        state = dom.GetState(0, dbus_interface=h.DOMAIN_IFACE)
        self.assertEqual(int(state[0]), h.STATE_RUNNING)
        self.assertEqual(int(dom.GetVcpus(0, dbus_interface=h.DOMAIN_IFACE)), 2)
        # i, s, u: an answer or a libvirt error, never a signature mismatch.
        try:
            dom.GetMetadata(0, "", 0, dbus_interface=h.DOMAIN_IFACE)
        except dbus.DBusException as e:
            self.assertEqual(h.errname(e), "org.libvirt.Error", str(e))
        name = dom.Get(h.DOMAIN_IFACE, "Name", dbus_interface=h.PROPS_IFACE)
        self.assertEqual(str(name), "test")


class TestDaemonLifecycle(unittest.TestCase):
    """Start-up and SIGTERM, watched from the bus."""

    def test_start_and_sigterm(self):
        h.glib_mainloop()
        pbus = h.PrivateBus()
        try:
            bus = dbus.bus.BusConnection(pbus.address, mainloop=h.glib_mainloop())
            owners = []
            match = bus.add_signal_receiver(
                lambda name, old, new: owners.append((str(old), str(new))),
                signal_name="NameOwnerChanged", dbus_interface="org.freedesktop.DBus",
                arg0=h.BUS_NAME)
            daemon = h.Daemon(pbus.address, pbus.tmpdir.name)
            daemon.wait_for_name(bus)
            # Objects are complete when the name appears.
            paths = bus.call_blocking(h.BUS_NAME, h.CONN_PATH, h.CONNECT_IFACE,
                                      "ListDomains", "u", (0,))
            self.assertIn(h.TEST_PATH, [str(p) for p in paths])
            problems = daemon.stop(bus)
            self.assertEqual(problems, [])
            collector_ok = False
            ctx = GLib.MainContext.default()
            for _ in range(200):
                while ctx.pending():
                    ctx.iteration(False)
                if len(owners) >= 2:
                    collector_ok = True
                    break
                time.sleep(0.005)
            self.assertTrue(collector_ok, f"NameOwnerChanged seen: {owners}")
            self.assertEqual(owners[0][0], "")       # acquired
            self.assertNotEqual(owners[0][1], "")
            self.assertEqual(owners[-1][1], "")      # released
            match.remove()
            bus.close()
        finally:
            pbus.stop()

    def test_help_and_version(self):
        out = subprocess.run([h.virtbusd_binary(), "--version"], capture_output=True,
                             text=True, timeout=5)
        self.assertEqual(out.returncode, 0)
        self.assertTrue(out.stdout.startswith("virtbusd "), out.stdout)
        out = subprocess.run([h.virtbusd_binary(), "--no-such-option"], capture_output=True,
                             text=True, timeout=5)
        self.assertNotEqual(out.returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
