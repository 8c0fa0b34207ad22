# SPDX-License-Identifier: LGPL-2.1-or-later
"""Network members and NetworkEvent on the test driver.

Driven only through D-Bus.  Expected values are the wire contract's test
world and libvirt 9.0's test:///default behaviour (checked with
`virsh -c test:///default`).  Tests that change the world work on
self-cleaning scratch objects, so test order inside a class does not matter.
"""

import unittest
import xml.etree.ElementTree as ET

import dbus

import harness as h
from harness import CONN_PATH, PROPS_IFACE
from objects_common import *  # noqa: F401,F403


class TestNetworks(ObjectsTestCase):

    def test_define_create_destroy_undefine(self):
        name = self.scratch_name("net")
        uuid = h.new_uuid()
        before = self.list_networks()
        path = str(self.connect("NetworkDefineXML", "s", network_xml(name, uuid, "vbtest0", 50)))
        self.addCleanup(self._remove_network, path)
        self.assertEqual(path, net_path(uuid))
        self.assertEvents("NetworkEvent", [(path, NET_DEFINED)])
        self.assertEqual(self.list_networks(), sorted(before + [path]))
        self.assertEqual(str(self.connect("NetworkLookupByName", "s", name)), path)
        self.assertEqual(str(self.connect("NetworkLookupByUUID", "s", uuid)), path)
        self.assertEqual(str(self.connect("NetworkLookupByUUID", "s", uuid.upper())), path)
        self.assertEqual(str(self.nprop(path, "Name")), name)
        self.assertEqual(str(self.nprop(path, "UUID")), uuid)
        self.assertIs(bool(self.nprop(path, "Active")), False)
        self.assertIs(bool(self.nprop(path, "Persistent")), True)
        x = self.net_xml(path)
        self.assertEqual(x.findtext("name"), name)
        self.assertEqual(x.findtext("uuid"), uuid)
        self.assertEqual(x.find("bridge").get("name"), "vbtest0")
        self.assertEqual(x.find("ip").get("address"), "192.168.50.1")

        self.net(path, "Create", "")
        self.assertEvents("NetworkEvent", [(path, NET_STARTED)])
        self.assertIs(bool(self.nprop(path, "Active")), True)
        with self.assertLibvirtError(
                f"Requested operation is not valid: Network '{name}' is already running"):
            self.net(path, "Create", "")
        self.assertEvents("NetworkEvent", [])

        self.net(path, "Destroy", "")
        self.assertEvents("NetworkEvent", [(path, NET_STOPPED)])
        self.assertIs(bool(self.nprop(path, "Active")), False)
        self.assertIs(bool(self.nprop(path, "Persistent")), True)
        self.assertIn(path, self.list_networks())

        self.net(path, "Undefine", "")
        self.assertEvents("NetworkEvent", [(path, NET_UNDEFINED)])
        self.assertEqual(self.list_networks(), before)
        with self.assertLibvirtError(
                f"Network not found: no network with matching name '{name}'"):
            self.connect("NetworkLookupByName", "s", name)
        with self.assertLibvirtError("Network not found"):
            self.connect("NetworkLookupByUUID", "s", uuid)

    def test_create_xml_transient_destroy_removes(self):
        name = self.scratch_name("tnet")
        uuid = h.new_uuid()
        path = str(self.connect("NetworkCreateXML", "s", network_xml(name, uuid, octet=60)))
        self.addCleanup(self._remove_network, path)
        self.assertEqual(path, net_path(uuid))
        # testNetworkCreateXML reports STARTED only.
        self.assertEvents("NetworkEvent", [(path, NET_STARTED)])
        self.assertIs(bool(self.nprop(path, "Active")), True)
        self.assertIs(bool(self.nprop(path, "Persistent")), False)
        self.assertIn(path, self.list_networks(NL_TRANSIENT))
        self.net(path, "Destroy", "")
        self.assertEvents("NetworkEvent", [(path, NET_STOPPED)])
        self.assertNotIn(path, self.list_networks())
        with self.assertLibvirtError("Network not found"):
            self.connect("NetworkLookupByUUID", "s", uuid)

    def test_undefine_active_network(self):
        # The brief's rule ("undefine of an active network leaves it running
        # and transient") is the real network driver's; libvirt 9.0's test
        # driver refuses ("Network 'default' is still running", checked
        # with virsh -c test:///default), and this is the test driver.
        path, name, _ = self.define_network(start=True)
        with self.assertLibvirtError(NOT_RUNNING_NET.format(name)):
            self.net(path, "Undefine", "")
        self.assertEvents("NetworkEvent", [])
        self.assertIs(bool(self.nprop(path, "Active")), True)
        self.assertIs(bool(self.nprop(path, "Persistent")), True)
        with self.assertLibvirtError(NOT_RUNNING_NET.format("default")):
            self.net(NET_PATH, "Undefine", "")
        self.assertIn(NET_PATH, self.list_networks())

    def test_autostart_and_list_filters(self):
        inactive, iname, _ = self.define_network()
        active, aname, _ = self.define_network(start=True)
        self.call(inactive, PROPS_IFACE, "Set", "ssv", NETWORK_IFACE, "Autostart", True)
        self.assertIs(bool(self.nprop(inactive, "Autostart")), True)
        self.assertEvents("NetworkEvent", [])  # no event for autostart
        all_ = self.list_networks()
        self.assertEqual(self.list_networks(NL_ACTIVE | NL_INACTIVE), all_)
        self.assertIn(inactive, self.list_networks(NL_INACTIVE))
        self.assertNotIn(active, self.list_networks(NL_INACTIVE))
        self.assertIn(active, self.list_networks(NL_ACTIVE))
        self.assertIn(NET_PATH, self.list_networks(NL_ACTIVE))
        self.assertNotIn(inactive, self.list_networks(NL_ACTIVE))
        self.assertEqual(self.list_networks(NL_AUTOSTART), [inactive])
        self.assertNotIn(inactive, self.list_networks(NL_NO_AUTOSTART))
        self.assertEqual(self.list_networks(NL_TRANSIENT), [])
        self.assertEqual(self.list_networks(NL_PERSISTENT), all_)
        self.assertEqual(self.list_networks(NL_ACTIVE | NL_AUTOSTART), [])
        self.call(inactive, PROPS_IFACE, "Set", "ssv", NETWORK_IFACE, "Autostart", False)
        self.assertEqual(self.list_networks(NL_AUTOSTART), [])
        with self.assertLibvirtError("unsupported flags (0x40)"):
            self.connect("ListNetworks", "u", 64)
        # Lookups return the listing's paths.
        for p in all_:
            n = str(self.nprop(p, "Name"))
            self.assertEqual(str(self.connect("NetworkLookupByName", "s", n)), p)
            self.assertEqual(str(self.connect("NetworkLookupByUUID", "s", str(self.nprop(p, "UUID")))), p)

    def test_update_dhcp_host(self):
        path, name, _ = self.define_network(start=True)
        octet = type(self)._scratch_octet
        host = f"<host mac='52:54:00:aa:bb:01' name='h1' ip='192.168.{octet}.10'/>"
        self.net(path, "Update", "uuisu", UPD_ADD_LAST, SEC_IP_DHCP_HOST, -1, host, UPD_AFFECT_LIVE)
        self.assertNoSignals()
        raw = str(self.net(path, "GetXMLDesc", "u", 0))
        self.assertIn(host, raw)
        dhcp = ET.fromstring(raw).find("ip/dhcp")
        self.assertEqual([c.tag for c in dhcp], ["range", "host"])
        self.assertEqual(dhcp.find("host").attrib,
                         {"mac": "52:54:00:aa:bb:01", "name": "h1", "ip": f"192.168.{octet}.10"})
        # A second host goes after the first.
        host2 = f"<host mac='52:54:00:aa:bb:02' name='h2' ip='192.168.{octet}.11'/>"
        self.net(path, "Update", "uuisu", UPD_ADD_LAST, SEC_IP_DHCP_HOST, -1, host2, 0)
        dhcp = self.net_xml(path).find("ip/dhcp")
        self.assertEqual([c.get("name") for c in dhcp.findall("host")], ["h1", "h2"])
        # Duplicate add fails and changes nothing.
        before = str(self.net(path, "GetXMLDesc", "u", 0))
        with self.assertLibvirtError(
                "Requested operation is not valid: there is an existing dhcp host entry in "
                f"network '{name}' that matches \"{host}\""):
            self.net(path, "Update", "uuisu", UPD_ADD_LAST, SEC_IP_DHCP_HOST, -1, host, UPD_AFFECT_LIVE)
        self.assertEqual(str(self.net(path, "GetXMLDesc", "u", 0)), before)
        # Delete both.
        self.net(path, "Update", "uuisu", UPD_DELETE, SEC_IP_DHCP_HOST, -1, host, UPD_AFFECT_LIVE)
        dhcp = self.net_xml(path).find("ip/dhcp")
        self.assertEqual([c.get("name") for c in dhcp.findall("host")], ["h2"])
        self.net(path, "Update", "uuisu", UPD_DELETE, SEC_IP_DHCP_HOST, -1, host2, UPD_AFFECT_LIVE)
        dhcp = self.net_xml(path).find("ip/dhcp")
        self.assertEqual(dhcp.findall("host"), [])
        self.assertEqual(len(dhcp.findall("range")), 1)

    def test_update_inactive_live_fails(self):
        path, _, _ = self.define_network()
        before = str(self.net(path, "GetXMLDesc", "u", 0))
        with self.assertLibvirtError("Requested operation is not valid: network is not running"):
            self.net(path, "Update", "uuisu", UPD_ADD_LAST, SEC_IP_DHCP_HOST, -1,
                     "<host mac='52:54:00:aa:bb:03' name='h3' ip='192.168.1.3'/>", UPD_AFFECT_LIVE)
        self.assertEqual(str(self.net(path, "GetXMLDesc", "u", 0)), before)

    def test_update_bad_mac(self):
        before = self.world()
        with self.assertLibvirtError(
                "XML error: Cannot parse MAC address 'zz:54:00:00:00:01' in network 'default'"):
            self.net(NET_PATH, "Update", "uuisu", UPD_ADD_LAST, SEC_IP_DHCP_HOST, -1,
                     "<host mac='zz:54:00:00:00:01' name='bad' ip='192.168.122.11'/>",
                     UPD_AFFECT_LIVE)
        self.assertEqual(self.world(), before)
        self.assertDaemonAlive()

    def test_get_xml_desc_flags(self):
        # testNetworkGetXMLDesc accepts no flags, not even INACTIVE.
        with self.assertLibvirtError("unsupported flags (0x1) in function testNetworkGetXMLDesc"):
            self.net(NET_PATH, "GetXMLDesc", "u", 1)

    def test_destroy_default_and_restart(self):
        self.net(NET_PATH, "Destroy", "")
        self.addCleanup(self._restart_default)
        self.assertEvents("NetworkEvent", [(NET_PATH, NET_STOPPED)])
        self.assertIs(bool(self.nprop(NET_PATH, "Active")), False)
        self.assertEqual(self.list_networks(NL_INACTIVE), [NET_PATH])
        self.net(NET_PATH, "Create", "")
        self.assertEvents("NetworkEvent", [(NET_PATH, NET_STARTED)])
        self.assertIs(bool(self.nprop(NET_PATH, "Active")), True)

    def _restart_default(self):
        try:
            self.net(NET_PATH, "Create", "")
        except dbus.DBusException:
            pass
        self.collector.clear()

    def test_bad_input(self):
        existing, ename, euuid = self.define_network()
        before = self.world()
        cases = [
            ("duplicate name", network_xml(ename, h.new_uuid(), octet=70),
             f"operation failed: network '{ename}' already exists with uuid {euuid}"),
            ("duplicate uuid", network_xml("other-name", euuid, octet=71),
             f"operation failed: network '{ename}' is already defined with uuid {euuid}"),
            ("bad uuid", network_xml("baduuid", "not-a-uuid", octet=72),
             "XML error: malformed uuid element"),
            ("not xml", "<network", "XML error: (network_definition):1: "),
            ("no name", f"<network><uuid>{h.new_uuid()}</uuid></network>",
             "XML error: missing <name> in <network>"),
        ]
        for label, xml, prefix in cases:
            for method in ("NetworkDefineXML", "NetworkCreateXML"):
                with self.subTest(label=label, method=method):
                    with self.assertLibvirtError(prefix):
                        self.connect(method, "s", xml)
        self.assertEqual(self.world(), before)
        self.assertEvents("NetworkEvent", [])
        with self.assertLibvirtError("Network not found: no network with matching name 'nosuch'"):
            self.connect("NetworkLookupByName", "s", "nosuch")
        with self.assertLibvirtError("uuidstr in virNetworkLookupByUUIDString must be a valid UUID"):
            self.connect("NetworkLookupByUUID", "s", "not-a-uuid")
        self.assertDaemonAlive()


if __name__ == "__main__":
    unittest.main()
