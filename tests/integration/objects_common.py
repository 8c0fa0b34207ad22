# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of test_objects.py, test_networks.py and test_storage.py:
constants (libvirt's numbers), XML builders, and ObjectsTestCase with calls,
event assertions and self-cleaning scratch networks, pools and volumes.
"""

import xml.etree.ElementTree as ET

import dbus

import harness as h
from harness import CONN_PATH, CONNECT_IFACE, PROPS_IFACE  # noqa: F401

NETWORK_IFACE = "org.libvirt.Network"
POOL_IFACE = "org.libvirt.StoragePool"
VOL_IFACE = "org.libvirt.StorageVol"

NET_UUID = "dd8fe884-6c02-601e-7551-cca97df1c5df"
NET_PATH = CONN_PATH + "/network/_" + NET_UUID.replace("-", "_")
POOL_UUID = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"
POOL_PATH = CONN_PATH + "/storagepool/_" + POOL_UUID.replace("-", "_")
POOL_CAPACITY = 107374182400

# NetworkEvent / StoragePoolEvent numbers.
NET_DEFINED, NET_UNDEFINED, NET_STARTED, NET_STOPPED = range(4)
POOL_DEFINED, POOL_UNDEFINED, POOL_STARTED, POOL_STOPPED, POOL_CREATED, POOL_DELETED = range(6)

# virConnectListAllNetworksFlags
NL_INACTIVE, NL_ACTIVE, NL_PERSISTENT, NL_TRANSIENT, NL_AUTOSTART, NL_NO_AUTOSTART = 1, 2, 4, 8, 16, 32
# virConnectListAllStoragePoolsFlags
PL_INACTIVE, PL_ACTIVE, PL_PERSISTENT, PL_TRANSIENT, PL_AUTOSTART, PL_NO_AUTOSTART = 1, 2, 4, 8, 16, 32
PL_DIR = 64

# virNetworkUpdateCommand / Section / Flags
UPD_MODIFY, UPD_DELETE, UPD_ADD_LAST, UPD_ADD_FIRST = 1, 2, 3, 4
SEC_IP_DHCP_HOST = 4
UPD_AFFECT_LIVE, UPD_AFFECT_CONFIG = 1, 2

# virStoragePoolState, virStorageVolType
POOL_INACTIVE, POOL_RUNNING = 0, 2
VOL_FILE = 0

NOT_RUNNING_NET = "Requested operation is not valid: Network '{}' is still running"


def net_path(uuid):
    return CONN_PATH + "/network/_" + uuid.replace("-", "_")


def pool_path(uuid):
    return CONN_PATH + "/storagepool/_" + uuid.replace("-", "_")


def vol_path(key):
    return CONN_PATH + "/storagevol/" + h.enc(key)


def network_xml(name, uuid, bridge=None, octet=100):
    br = f"  <bridge name='{bridge}'/>\n" if bridge else ""
    return f"""<network>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
{br}  <ip address='192.168.{octet}.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.{octet}.2' end='192.168.{octet}.254'/>
    </dhcp>
  </ip>
</network>
"""


def pool_xml(name, uuid, target=None):
    target = target or f"/pools/{name}"
    return f"""<pool type='dir'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <target>
    <path>{target}</path>
  </target>
</pool>
"""


def vol_xml(name, capacity=1048576, allocation=0, target="/elsewhere/x.img"):
    return f"""<volume>
  <name>{name}</name>
  <capacity unit='bytes'>{capacity}</capacity>
  <allocation unit='bytes'>{allocation}</allocation>
  <target>
    <path>{target}</path>
  </target>
</volume>
"""


class ObjectsTestCase(h.DaemonTestCase):
    """Helpers for networks, pools and volumes."""

    # ---- calls ----

    def net(self, path, method, signature="", *args):
        return self.call(path, NETWORK_IFACE, method, signature, *args)

    def pool(self, path, method, signature="", *args):
        return self.call(path, POOL_IFACE, method, signature, *args)

    def vol(self, path, method, signature="", *args):
        return self.call(path, VOL_IFACE, method, signature, *args)

    def nprop(self, path, name):
        return self.prop(path, NETWORK_IFACE, name)

    def pprop(self, path, name):
        return self.prop(path, POOL_IFACE, name)

    def vprop(self, path, name):
        return self.prop(path, VOL_IFACE, name)

    def list_networks(self, flags=0):
        return sorted(str(p) for p in self.connect("ListNetworks", "u", flags))

    def list_pools(self, flags=0):
        return sorted(str(p) for p in self.connect("ListStoragePools", "u", flags))

    def list_vols(self, path=POOL_PATH):
        return sorted(str(p) for p in self.pool(path, "ListStorageVolumes", "u", 0))

    def net_xml(self, path):
        return ET.fromstring(str(self.net(path, "GetXMLDesc", "u", 0)))

    def pool_xml_of(self, path):
        return ET.fromstring(str(self.pool(path, "GetXMLDesc", "u", 0)))

    def pool_info(self, path=POOL_PATH):
        return tuple(int(x) for x in self.pool(path, "GetInfo", ""))

    def world(self):
        """A snapshot of everything a failed call must leave unchanged."""
        nets = self.list_networks()
        pools = self.list_pools()
        return {
            "nets": nets,
            "net_xml": {p: str(self.net(p, "GetXMLDesc", "u", 0)) for p in nets},
            "net_state": {p: (bool(self.nprop(p, "Active")), bool(self.nprop(p, "Persistent")))
                          for p in nets},
            "pools": pools,
            "pool_info": {p: self.pool_info(p) for p in pools},
            "pool_xml": {p: str(self.pool(p, "GetXMLDesc", "u", 0)) for p in pools},
            "vols": self.list_vols(),
        }

    # ---- events ----

    def _lifecycle(self, member):
        self.collector.drain()
        return [tuple([str(a[0])] + [int(x) for x in a[1:]]) for (i, m, p, a) in self.collector.signals
                if i == CONNECT_IFACE and m == member and p == CONN_PATH]

    def assertEvents(self, member, expected):
        self.collector.wait(lambda s: sum(1 for x in s if x[1] == member) >= len(expected))
        self.assertEqual(self._lifecycle(member), expected, member + " signals")
        self.collector.clear()

    def assertNoSignals(self):
        self.collector.drain()
        self.assertEqual(self.collector.signals, [], "no signal expected")

    def assertNoLibvirtSignals(self):
        """No org.libvirt signal; the object tree's own (ObjectManager,
        PropertiesChanged) are test_properties_changed.py's concern."""
        self.collector.drain()
        self.assertEqual([s for s in self.collector.signals if s[0].startswith("org.libvirt.")], [],
                         "no org.libvirt signal expected")
        self.collector.clear()

    # ---- scratch objects ----

    def define_network(self, start=False, bridge=None):
        name = self.scratch_name("net")
        uuid = h.new_uuid()
        self._scratch_octet = getattr(type(self), "_scratch_octet", 100) + 1
        type(self)._scratch_octet = self._scratch_octet
        path = str(self.connect("NetworkDefineXML", "s",
                                network_xml(name, uuid, bridge, self._scratch_octet)))
        self.assertEqual(path, net_path(uuid))
        if start:
            self.net(path, "Create", "")
        self.collector.clear()
        self.addCleanup(self._remove_network, path)
        return path, name, uuid

    def _remove_network(self, path):
        for method in ("Destroy", "Undefine"):
            try:
                self.net(path, method, "")
            except dbus.DBusException:
                pass
        self.collector.clear()

    def define_pool(self, start=False):
        name = self.scratch_name("pool")
        uuid = h.new_uuid()
        path = str(self.connect("StoragePoolDefineXML", "su", pool_xml(name, uuid), 0))
        self.assertEqual(path, pool_path(uuid))
        if start:
            self.pool(path, "Create", "u", 0)
        self.collector.clear()
        self.addCleanup(self._remove_pool, path)
        return path, name, uuid

    def _remove_pool(self, path):
        for method, sig, args in (("Destroy", "", ()), ("Undefine", "", ())):
            try:
                self.pool(path, method, sig, *args)
            except dbus.DBusException:
                pass
        self.collector.clear()

    def create_vol(self, name, pool=POOL_PATH, **kw):
        path = str(self.pool(pool, "StorageVolCreateXML", "su", vol_xml(name, **kw), 0))
        self.addCleanup(self._remove_vol, path)
        return path

    def _remove_vol(self, path):
        try:
            self.vol(path, "Delete", "u", 0)
        except dbus.DBusException:
            pass
