# SPDX-License-Identifier: LGPL-2.1-or-later
"""Node devices on the QEMU connection (drivers/nodedev/), driven through
D-Bus against this machine's real sysfs: the tree's names, parents and
capabilities are re-derived here from /sys independently of the driver;
veths created in a network namespace the test makes (with the daemon
running inside it, so its /sys shows that namespace's interfaces) produce
NodeDeviceEvent CREATED/DELETED. Needs root (namespaces); skipped without."""

import array
import fcntl
import json
import os
import re
import socket
import struct
import subprocess
import unittest
import uuid
from pathlib import Path

import harness as h

QEMU = "/org/libvirt/QEMU"
NODEDEV_IFACE = "org.libvirt.NodeDevice"
CREATED, DELETED = 0, 1
CAP_PCI, CAP_NET, CAP_STORAGE = 1 << 1, 1 << 4, 1 << 8
PCI_ADDR = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
ROOT = os.geteuid() == 0


def mangle(s):
    return re.sub(r"[^A-Za-z0-9]", "_", s)


def dev_path(name):
    return f"{QEMU}/nodedev/{h.enc(name)}"


def uevent(d):
    try:
        return dict(line.split("=", 1) for line in (d / "uevent").read_text().splitlines() if "=" in line)
    except OSError:
        return {}


def pci_parent(sysdir):
    """The nearest PCI function above a sysfs directory, as a node device name."""
    for p in Path(os.path.realpath(sysdir)).parents:
        if PCI_ADDR.match(p.name):
            return "pci_" + mangle(p.name)
    return "computer"


def ethtool_features(ifname):
    """libvirt's feature names for a NIC, asked with the ethtool ioctls here."""
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        def value(cmd):
            buf = array.array("B", struct.pack("II", cmd, 0))
            ifr = struct.pack("16sP", ifname.encode(), buf.buffer_info()[0])
            try:
                fcntl.ioctl(s.fileno(), 0x8946, ifr)  # SIOCETHTOOL
            except OSError:
                return None
            return struct.unpack("II", buf.tobytes())[1]
        for cmd, name in ((0x14, "rx"), (0x16, "tx"), (0x18, "sg"), (0x1e, "tso"), (0x23, "gso"), (0x2b, "gro")):
            if value(cmd):
                out.append(name)
        flags = value(0x25) or 0  # ETHTOOL_GFLAGS
        for bit, name in ((15, "lro"), (8, "rxvlan"), (7, "txvlan"), (27, "ntuple"), (28, "rxhash")):
            if flags & (1 << bit):
                out.append(name)
    return out


class NodeDevCase(h.DaemonTestCase):

    def qconnect(self, method, signature="", *args):
        return self.call(QEMU, h.CONNECT_IFACE, method, signature, *args)

    def names(self, flags=0):
        return {str(p) for p in self.qconnect("ListNodeDevices", "u", flags)}

    def parent(self, name):
        return str(self.prop(dev_path(name), NODEDEV_IFACE, "Parent"))

    def caps(self, name):
        return [str(c) for c in self.call(dev_path(name), NODEDEV_IFACE, "ListCaps")]

    def xml(self, name):
        return str(self.call(dev_path(name), NODEDEV_IFACE, "GetXMLDesc", "u", 0))


class TestHostTree(NodeDevCase):
    """The daemon in the host's namespaces: this machine's devices."""

    def test_computer(self):
        self.assertIn(dev_path("computer"), self.names())
        self.assertEqual(self.caps("computer"), ["system"])
        self.assertEqual(self.parent("computer"), "")
        self.assertEqual(str(self.qconnect("NodeDeviceLookupByName", "s", "computer")), dev_path("computer"))

    def test_pci_functions(self):
        listed = self.names(CAP_PCI)
        expected = {dev_path("pci_" + mangle(d.name)) for d in Path("/sys/bus/pci/devices").iterdir()}
        self.assertEqual(listed, expected)
        for d in Path("/sys/bus/pci/devices").iterdir():
            name = "pci_" + mangle(d.name)
            self.assertEqual(self.caps(name), ["pci"])
            x = self.xml(name)
            self.assertIn(f"<vendor id='{(d / 'vendor').read_text().strip()}'", x)
            self.assertIn(f"<product id='{(d / 'device').read_text().strip()}'", x)
            self.assertIn(f"<class>{(d / 'class').read_text().strip()}</class>", x)
            drv = d / "driver"
            if drv.exists():
                self.assertIn(f"<name>{os.path.basename(os.readlink(drv))}</name>", x)
            self.assertIn(f"<path>{os.path.realpath(d)}</path>", x)

    def test_net_devices(self):
        expected = {}
        for d in Path("/sys/class/net").iterdir():
            if "DEVTYPE" in uevent(d):  # bridges, bonds, vlans: libvirt does not list them
                continue
            mac = (d / "address").read_text().strip()
            expected[f"net_{mangle(d.name)}_{mangle(mac)}"] = (d, mac)
        self.assertTrue(expected)
        self.assertEqual(self.names(CAP_NET), {dev_path(n) for n in expected})
        for name, (d, mac) in expected.items():
            self.assertEqual(self.parent(name), pci_parent(d))
            self.assertEqual(self.caps(name), ["net"])
            x = self.xml(name)
            self.assertIn(f"<interface>{d.name}</interface>", x)
            self.assertIn(f"<address>{mac}</address>", x)
            self.assertIn(f"state='{(d / 'operstate').read_text().strip()}'", x)
            self.assertEqual(re.findall(r"<feature name='(\w+)'/>", x), ethtool_features(d.name), name)

    def test_block_devices(self):
        # Disks libvirt can type without udev: virtio (vd*) and SCSI disks.
        expected = {}
        for d in Path("/sys/class/block").iterdir():
            ue = uevent(d)
            if ue.get("DEVTYPE") != "disk":
                continue
            scsi_type = d / "device" / "type"
            if not (d.name.startswith("vd") or (scsi_type.exists() and scsi_type.read_text().strip() == "0")):
                continue
            serial = ""
            for f in ("serial", "device/serial", "device/wwid"):
                try:
                    serial = (d / f).read_text().strip()
                except OSError:
                    continue
                if serial:
                    break
            name = f"block_{mangle(d.name)}" + (f"_{mangle(serial)}" if serial else "")
            expected[name] = d
        self.assertEqual(self.names(CAP_STORAGE), {dev_path(n) for n in expected})
        for name, d in expected.items():
            self.assertEqual(self.caps(name), ["storage"])
            x = self.xml(name)
            self.assertIn(f"<block>/dev/{d.name}</block>", x)
            parent = self.parent(name)
            # A SCSI disk hangs below its LUN, a virtio disk below its PCI function.
            if (d / "device" / "type").exists():
                self.assertTrue(parent.startswith("scsi_"), parent)
            else:
                self.assertEqual(parent, pci_parent(d))

    def test_every_parent_is_listed(self):
        names = self.names()
        for p in names:
            name = str(self.prop(p, NODEDEV_IFACE, "Name"))
            self.assertEqual(dev_path(name), p)
            if name != "computer":
                self.assertIn(dev_path(self.parent(name)), names, name)

    def test_bad_names(self):
        for bad in ["../computer", "computer/../computer", "a/b", "", "pci_0000_00_00_0/../x", "x" * 5000]:
            with self.assertLibvirtError("Node device not found: no node device with matching name"):
                self.qconnect("NodeDeviceLookupByName", "s", bad)
        with self.assertLibvirtError(regex="unsupported flags"):
            self.qconnect("ListNodeDevices", "u", 1 << 25)

    def test_detach_refused_changes_nothing(self):
        # This machine has no PCI device to give away (no IOMMU, every
        # function is in use); the refusal must leave the binding alone.
        for d in Path("/sys/bus/pci/devices").iterdir():
            drv = d / "driver"
            before = os.readlink(drv) if drv.exists() else None
            with self.assertLibvirtError():
                self.call(dev_path("pci_" + mangle(d.name)), NODEDEV_IFACE, "Detach", "su", "", 0)
            self.assertEqual(os.readlink(drv) if drv.exists() else None, before)
            self.assertIn((d / "driver_override").read_text().strip(), ("(null)", ""))
        with self.assertLibvirtError("invalid argument: device computer is not a PCI device"):
            self.call(dev_path("computer"), NODEDEV_IFACE, "Detach", "su", "", 0)


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


@unittest.skipUnless(ROOT, "needs root for network namespaces")
class TestHotplug(NodeDevCase):
    """The daemon inside a fresh network namespace; veths come and go."""

    @classmethod
    def setUpClass(cls):
        cls.ns = "vbnd" + uuid.uuid4().hex[:8]
        ip("netns", "add", cls.ns)
        cls.daemon_wrapper = ("ip", "netns", "exec", cls.ns)
        try:
            super().setUpClass()
        except BaseException:
            ip("netns", "del", cls.ns, check=False)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            ip("netns", "del", cls.ns, check=False)

    def mac(self, ifname):
        return json.loads(ip("-n", self.ns, "-j", "link", "show", ifname).stdout)[0]["address"]

    def events(self):
        return [(str(a[0]), int(a[1])) for (i, m, p, a) in self.collector.signals
                if m == "NodeDeviceEvent" and p == QEMU]

    def test_namespace_tree(self):
        nets = self.names(CAP_NET)
        self.assertEqual(nets, {dev_path("net_lo_00_00_00_00_00_00")})

    def test_veth_created_and_deleted(self):
        self.collector.clear()
        ip("-n", self.ns, "link", "add", "vbt0", "type", "veth", "peer", "name", "vbt1")
        self.addCleanup(ip, "-n", self.ns, "link", "del", "vbt0", check=False)
        names = [f"net_vbt{i}_{mangle(self.mac(f'vbt{i}'))}" for i in (0, 1)]
        want = {(dev_path(n), CREATED) for n in names}
        self.assertTrue(self.collector.wait(lambda s: want <= set(self.events()), timeout=5),
                        f"events: {self.events()}")
        self.assertTrue({dev_path(n) for n in names} <= self.names(CAP_NET))
        for n in names:
            self.assertEqual(self.parent(n), "computer")
            self.assertEqual(self.caps(n), ["net"])
        added = [a for (i, m, p, a) in self.collector.signals if m == "InterfacesAdded"]
        self.assertTrue(any(str(a[0]) == dev_path(names[0]) for a in added), added)

        ip("-n", self.ns, "link", "del", "vbt0")  # takes the peer with it
        gone = {(dev_path(n), DELETED) for n in names}
        self.assertTrue(self.collector.wait(lambda s: gone <= set(self.events()), timeout=5),
                        f"events: {self.events()}")
        self.assertFalse({dev_path(n) for n in names} & self.names())
        with self.assertLibvirtError("Node device not found"):
            self.qconnect("NodeDeviceLookupByName", "s", names[0])
        # CREATED came before DELETED for each.
        ev = self.events()
        for n in names:
            self.assertLess(ev.index((dev_path(n), CREATED)), ev.index((dev_path(n), DELETED)))


if __name__ == "__main__":
    unittest.main()
