# SPDX-License-Identifier: LGPL-2.1-or-later
"""The pristine network/storage world, its restart, secrets, network filters,
host interfaces and node devices on the test driver.

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


class TestPristineObjects(ObjectsTestCase):
    """The starting world, read only; and a restart brings it back."""

    def check_pristine(self):
        # Network default.
        self.assertEqual(self.list_networks(), [NET_PATH])
        self.assertEqual(str(self.connect("NetworkLookupByName", "s", "default")), NET_PATH)
        self.assertEqual(str(self.connect("NetworkLookupByUUID", "s", NET_UUID)), NET_PATH)
        self.assertEqual(str(self.nprop(NET_PATH, "Name")), "default")
        self.assertEqual(str(self.nprop(NET_PATH, "UUID")), NET_UUID)
        self.assertIs(bool(self.nprop(NET_PATH, "Active")), True)
        self.assertIs(bool(self.nprop(NET_PATH, "Persistent")), True)
        self.assertIs(bool(self.nprop(NET_PATH, "Autostart")), False)
        x = self.net_xml(NET_PATH)
        self.assertEqual(x.tag, "network")
        self.assertEqual(x.findtext("name"), "default")
        self.assertEqual(x.findtext("uuid"), NET_UUID)
        self.assertEqual(x.find("forward").get("mode"), "nat")
        br = x.find("bridge")
        self.assertEqual((br.get("name"), br.get("stp"), br.get("delay")), ("virbr0", "on", "0"))
        ip = x.find("ip")
        self.assertEqual((ip.get("address"), ip.get("netmask")), ("192.168.122.1", "255.255.255.0"))
        dhcp = ip.find("dhcp")
        self.assertEqual([(r.get("start"), r.get("end")) for r in dhcp.findall("range")],
                         [("192.168.122.2", "192.168.122.254")])
        self.assertEqual(dhcp.findall("host"), [])
        # Pool default-pool.
        self.assertEqual(self.list_pools(), [POOL_PATH])
        self.assertEqual(str(self.connect("StoragePoolLookupByName", "s", "default-pool")), POOL_PATH)
        self.assertEqual(str(self.connect("StoragePoolLookupByUUID", "s", POOL_UUID)), POOL_PATH)
        self.assertEqual(str(self.pprop(POOL_PATH, "Name")), "default-pool")
        self.assertEqual(str(self.pprop(POOL_PATH, "UUID")), POOL_UUID)
        self.assertIs(bool(self.pprop(POOL_PATH, "Active")), True)
        self.assertIs(bool(self.pprop(POOL_PATH, "Persistent")), True)
        self.assertIs(bool(self.pprop(POOL_PATH, "Autostart")), False)
        self.assertEqual(self.pool_info(), (POOL_RUNNING, POOL_CAPACITY, 0, POOL_CAPACITY))
        p = self.pool_xml_of(POOL_PATH)
        self.assertEqual(p.get("type"), "dir")
        self.assertEqual(p.findtext("name"), "default-pool")
        self.assertEqual(p.findtext("uuid"), POOL_UUID)
        for tag, value in (("capacity", POOL_CAPACITY), ("allocation", 0), ("available", POOL_CAPACITY)):
            self.assertEqual(int(p.findtext(tag)), value, tag)
            self.assertEqual(p.find(tag).get("unit"), "bytes")
        self.assertEqual(p.findtext("target/path"), "/default-pool")
        self.assertEqual(self.list_vols(), [])
        # Interfaces and node devices, when the driver has them.
        try:
            ifaces = [str(p) for p in self.connect("ListInterfaces", "u", 0)]
            devs = sorted(str(p) for p in self.connect("ListNodeDevices", "u", 0))
        except dbus.DBusException as e:
            if not h.errmsg(e).startswith(h.NOT_SUPPORTED):
                raise
        else:
            self.assertEqual(ifaces, [ETH1_PATH])
            self.assertIs(bool(self.prop(ETH1_PATH, IFACE_IFACE, "Active")), True)
            self.assertEqual(devs, sorted(nodedev_path(n) for n in
                                          ("computer", "scsi_host1", "scsi_host2", "scsi_host11")))

    def test_pristine_world(self):
        self.check_pristine()

    def test_getall_two_level_variants(self):
        props = self.call(NET_PATH, PROPS_IFACE, "GetAll", "s", NETWORK_IFACE)
        self.assertEqual({str(k): v for k, v in props.items()},
                         {"Active": True, "Autostart": False, "Name": "default",
                          "Persistent": True, "UUID": NET_UUID})
        self.assertEqual(props["Name"].variant_level, 2)
        props = self.call(POOL_PATH, PROPS_IFACE, "GetAll", "s", POOL_IFACE)
        self.assertEqual({str(k): v for k, v in props.items()},
                         {"Active": True, "Autostart": False, "Name": "default-pool",
                          "Persistent": True, "UUID": POOL_UUID})
        self.assertEqual(props["UUID"].variant_level, 2)

    def test_restart_gives_pristine_world(self):
        # Change everything that can change, then restart the daemon.
        self.define_network(start=True)
        self.define_pool(start=True)
        self.create_vol("restart.img")
        self.net(NET_PATH, "Update", "uuisu", UPD_ADD_LAST, SEC_IP_DHCP_HOST, -1,
                 "<host mac='52:54:00:00:00:99' name='r' ip='192.168.122.99'/>", UPD_AFFECT_LIVE)
        self.call(NET_PATH, PROPS_IFACE, "Set", "ssv", NETWORK_IFACE, "Autostart", True)
        for method, sig, args in (("InterfaceDefineXML", "su",
                                   ("<interface type='ethernet' name='eth9'>"
                                    "<mac address='aa:bb:cc:dd:ee:09'/></interface>", 0)),
                                  ("NodeDeviceCreateXML", "su", (VHBA_XML, 0))):
            try:
                self.connect(method, sig, *args)
            except dbus.DBusException as e:
                if not h.errmsg(e).startswith(h.NOT_SUPPORTED):
                    raise
        self.assertNotEqual(self.list_networks(), [NET_PATH])
        cls = type(self)
        problems = cls.daemon.stop(cls.bus)
        self.assertEqual(problems, [])
        cls.daemon = h.Daemon(cls.private_bus.address, cls.private_bus.tmpdir.name)
        cls.daemon.wait_for_name(cls.bus)
        self.check_pristine()

    def test_secrets_not_supported(self):
        for method, sig, args, fn in (
                ("ListSecrets", "u", (0,), "virConnectListAllSecrets"),
                ("SecretLookupByUUID", "s", ("11111111-2222-3333-4444-555555555555",),
                 "virSecretLookupByUUID"),
                ("SecretLookupByUsage", "is", (1, "x"), "virSecretLookupByUsage"),
                ("SecretDefineXML", "su", ("<secret ephemeral='no' private='no'/>", 0),
                 "virSecretDefineXML")):
            with self.subTest(method=method):
                with self.assertLibvirtError(f"{h.NOT_SUPPORTED}: {fn}"):
                    self.connect(method, sig, *args)
        self.assertDaemonAlive()

    def test_nwfilters_not_supported(self):
        for method, sig, args, fn in (
                ("ListNWFilters", "u", (0,), "virConnectListAllNWFilters"),
                ("NWFilterLookupByName", "s", ("clean-traffic",), "virNWFilterLookupByName"),
                ("NWFilterLookupByUUID", "s", ("11111111-2222-3333-4444-555555555555",),
                 "virNWFilterLookupByUUID"),
                ("NWFilterDefineXML", "s", ("<filter name='f' chain='root'/>",),
                 "virNWFilterDefineXML")):
            with self.subTest(method=method):
                with self.assertLibvirtError(f"{h.NOT_SUPPORTED}: {fn}"):
                    self.connect(method, sig, *args)
        self.assertDaemonAlive()


IFACE_IFACE = "org.libvirt.Interface"
NODEDEV_IFACE = "org.libvirt.NodeDevice"
ETH1_MAC = "aa:bb:cc:dd:ee:ff"
ETH1_PATH = CONN_PATH + "/interface/aa_3abb_3acc_3add_3aee_3aff"
# virConnectListAllInterfacesFlags
IL_INACTIVE, IL_ACTIVE = 1, 2
# NodeDeviceEvent
ND_CREATED, ND_DELETED = 0, 1

VHBA_XML = """<device>
  <parent>scsi_host1</parent>
  <capability type='scsi_host'>
    <capability type='fc_host'>
      <wwnn>2000000012341234</wwnn>
      <wwpn>1000000012341234</wwpn>
    </capability>
  </capability>
</device>
"""


def nodedev_path(name):
    return CONN_PATH + "/nodedev/" + h.enc(name)


class InterfaceNodeDevCase(ObjectsTestCase):
    def setUp(self):
        super().setUp()
        for method, fn in (("ListInterfaces", "virConnectListAllInterfaces"),
                           ("ListNodeDevices", "virConnectListAllNodeDevices")):
            try:
                self.connect(method, "u", 0)
            except dbus.DBusException as e:
                if h.errmsg(e) == f"{h.NOT_SUPPORTED}: {fn}":
                    self.skipTest(f"{method}: the test driver does not wire up "
                                  f"test_interface/test_nodedev (TestDriver lacks "
                                  f"interfaces()/nodeDevices()): {h.errmsg(e)}")
                raise

    def iface(self, path, method, signature="", *args):
        return self.call(path, IFACE_IFACE, method, signature, *args)

    def list_ifaces(self, flags=0):
        return [str(p) for p in self.connect("ListInterfaces", "u", flags)]


class TestInterfaces(InterfaceNodeDevCase):

    def test_eth1(self):
        self.assertEqual(self.list_ifaces(), [ETH1_PATH])
        self.assertEqual(ETH1_PATH, CONN_PATH + "/interface/" + h.enc(ETH1_MAC))
        self.assertEqual(self.list_ifaces(IL_ACTIVE), [ETH1_PATH])
        self.assertEqual(self.list_ifaces(IL_INACTIVE), [])
        self.assertEqual(str(self.connect("InterfaceLookupByName", "s", "eth1")), ETH1_PATH)
        self.assertEqual(str(self.connect("InterfaceLookupByMAC", "s", ETH1_MAC)), ETH1_PATH)
        self.assertEqual(str(self.prop(ETH1_PATH, IFACE_IFACE, "Name")), "eth1")
        self.assertEqual(str(self.prop(ETH1_PATH, IFACE_IFACE, "MAC")), ETH1_MAC)
        self.assertIs(bool(self.prop(ETH1_PATH, IFACE_IFACE, "Active")), True)
        x = ET.fromstring(str(self.iface(ETH1_PATH, "GetXMLDesc", "u", 0)))
        self.assertEqual((x.tag, x.get("type"), x.get("name")), ("interface", "ethernet", "eth1"))
        self.assertEqual(x.find("start").get("mode"), "onboot")
        self.assertEqual(x.find("mtu").get("size"), "1492")
        self.assertEqual(x.find("mac").get("address"), ETH1_MAC)
        proto = x.find("protocol")
        self.assertEqual(proto.get("family"), "ipv4")
        self.assertEqual(proto.find("ip").attrib, {"address": "192.168.0.5", "prefix": "24"})
        self.assertEqual(proto.find("route").get("gateway"), "192.168.0.1")

    def test_define_create_destroy_undefine(self):
        mac = "aa:bb:cc:dd:ee:01"
        path = str(self.connect("InterfaceDefineXML", "su",
                                "<interface type='ethernet' name='eth2'>"
                                "<start mode='none'/>"
                                f"<mac address='{mac}'/></interface>", 0))
        self.addCleanup(self._drop_iface, path)
        self.assertEqual(path, CONN_PATH + "/interface/aa_3abb_3acc_3add_3aee_3a01")
        self.assertEqual(sorted(self.list_ifaces()), sorted([ETH1_PATH, path]))
        self.assertEqual(self.list_ifaces(IL_INACTIVE), [path])
        self.assertEqual(str(self.connect("InterfaceLookupByName", "s", "eth2")), path)
        self.assertEqual(str(self.connect("InterfaceLookupByMAC", "s", mac)), path)
        self.assertIs(bool(self.prop(path, IFACE_IFACE, "Active")), False)
        self.iface(path, "Create", "u", 0)
        self.assertIs(bool(self.prop(path, IFACE_IFACE, "Active")), True)
        with self.assertLibvirtError("Requested operation is not valid"):
            self.iface(path, "Create", "u", 0)
        self.iface(path, "Destroy", "u", 0)
        self.assertIs(bool(self.prop(path, IFACE_IFACE, "Active")), False)
        with self.assertLibvirtError("Requested operation is not valid"):
            self.iface(path, "Destroy", "u", 0)
        self.iface(path, "Undefine", "")
        self.assertEqual(self.list_ifaces(), [ETH1_PATH])
        with self.assertLibvirtError("Interface not found: no interface with matching name 'eth2'"):
            self.connect("InterfaceLookupByName", "s", "eth2")
        with self.assertLibvirtError(
                f"Interface not found: no interface with matching mac '{mac}'"):
            self.connect("InterfaceLookupByMAC", "s", mac)

    def _drop_iface(self, path):
        for method, sig, args in (("Destroy", "u", (0,)), ("Undefine", "", ())):
            try:
                self.iface(path, method, sig, *args)
            except dbus.DBusException:
                pass

    def test_bad_mac(self):
        before = self.list_ifaces()
        with self.assertLibvirtError("XML error: invalid value 'zz:bb:cc:dd:ee:ff' for <mac address>"):
            self.connect("InterfaceDefineXML", "su",
                         "<interface type='ethernet' name='eth4'>"
                         "<mac address='zz:bb:cc:dd:ee:ff'/></interface>", 0)
        self.assertEqual(self.list_ifaces(), before)
        self.assertDaemonAlive()



class TestInterfaceDuplicateMAC(InterfaceNodeDevCase):
    """Own class (own daemon): the shared path leaves the world ambiguous."""

    def test_duplicate_mac_gets_distinct_path(self):
        # libvirt 9.0 accepts a second interface with eth1's MAC, but paths
        # name interfaces by MAC (wire contract), so virtbus refuses it:
        # one path must name one object.
        try:
            path = str(self.connect("InterfaceDefineXML", "su",
                                    "<interface type='ethernet' name='eth3'>"
                                    f"<mac address='{ETH1_MAC}'/></interface>", 0))
        except dbus.DBusException:
            self.assertEqual(self.list_ifaces(), [ETH1_PATH])
            return
        paths = self.list_ifaces()
        self.assertEqual(len(paths), len(set(paths)), f"duplicate paths in {paths}")
        self.assertNotEqual(path, ETH1_PATH)


class TestNodeDevices(InterfaceNodeDevCase):

    def test_pristine_devices(self):
        paths = sorted(str(p) for p in self.connect("ListNodeDevices", "u", 0))
        names = {"computer": "", "scsi_host1": "computer", "scsi_host2": "computer",
                 "scsi_host11": "scsi_host1"}
        self.assertEqual(paths, sorted(nodedev_path(n) for n in names))
        self.assertEqual(nodedev_path("scsi_host2"), CONN_PATH + "/nodedev/scsi_5fhost2")
        for name, parent in names.items():
            with self.subTest(name=name):
                path = str(self.connect("NodeDeviceLookupByName", "s", name))
                self.assertEqual(path, nodedev_path(name))
                self.assertEqual(str(self.prop(path, NODEDEV_IFACE, "Name")), name)
                self.assertEqual(str(self.prop(path, NODEDEV_IFACE, "Parent")), parent)
                caps = [str(c) for c in self.call(path, NODEDEV_IFACE, "ListCaps", "")]
                self.assertEqual(caps, ["system" if name == "computer" else "scsi_host"])
                x = ET.fromstring(str(self.call(path, NODEDEV_IFACE, "GetXMLDesc", "u", 0)))
                self.assertEqual(x.findtext("name"), name)
                self.assertEqual(x.findtext("parent") or "", parent)
        with self.assertLibvirtError(
                "Node device not found: no node device with matching name 'nosuch'"):
            self.connect("NodeDeviceLookupByName", "s", "nosuch")
        with self.assertLibvirtError(
                "unsupported flags (0x80000000) in function testConnectListAllNodeDevices"):
            self.connect("ListNodeDevices", "u", 1 << 31)

    def test_vhba_create_destroy(self):
        path = str(self.connect("NodeDeviceCreateXML", "su", VHBA_XML, 0))
        self.assertEqual(path, CONN_PATH + "/nodedev/scsi_5fhost12")
        self.assertEvents("NodeDeviceEvent", [(path, ND_CREATED, 0)])
        self.assertIn(path, [str(p) for p in self.connect("ListNodeDevices", "u", 0)])
        self.assertEqual(str(self.connect("NodeDeviceLookupByName", "s", "scsi_host12")), path)
        self.assertEqual(str(self.prop(path, NODEDEV_IFACE, "Parent")), "scsi_host1")
        x = ET.fromstring(str(self.call(path, NODEDEV_IFACE, "GetXMLDesc", "u", 0)))
        fc = x.find("capability[@type='scsi_host']/capability[@type='fc_host']")
        self.assertEqual((fc.findtext("wwnn"), fc.findtext("wwpn")),
                         ("2000000012341234", "1000000012341234"))
        self.call(path, NODEDEV_IFACE, "Destroy", "")
        self.assertEvents("NodeDeviceEvent", [(path, ND_DELETED, 0)])
        self.assertNotIn(path, [str(p) for p in self.connect("ListNodeDevices", "u", 0)])
        with self.assertLibvirtError(
                "Node device not found: no node device with matching name 'scsi_host12'"):
            self.connect("NodeDeviceLookupByName", "s", "scsi_host12")

    def test_unsupported_members(self):
        path = nodedev_path("scsi_host2")
        for method, sig, args, fn in (("Detach", "su", ("", 0), "virNodeDeviceDetachFlags"),
                                      ("Reset", "", (), "virNodeDeviceReset")):
            with self.subTest(method=method):
                with self.assertLibvirtError(f"{h.NOT_SUPPORTED}: {fn}"):
                    self.call(path, NODEDEV_IFACE, method, sig, *args)
        self.assertDaemonAlive()


if __name__ == "__main__":
    unittest.main()
