# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host interfaces on the QEMU connection (drivers/interface/), against a
real kernel: the daemon runs inside a network namespace this test creates
(nsenter), with veth pairs made there, and every check of kernel state
reads it back with `ip -j`. Needs root; skipped otherwise.

Bonds and VLANs need the kernel's bonding and 8021q drivers. Where the
kernel lacks them (the development machine's does), the tests check the
other half of the contract instead: Create fails with the kernel's reason,
and whatever it had already made is rolled back."""

import shutil
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import harness as h
from iface_common import (NS, XML_INACTIVE, HostInterfaceCase, addrs, iface_path, ip, ipj, kernel_state,
                          kernel_supports, links, master_of)


def dhcp_clients(ifname):
    """Pids of udhcpc processes serving `ifname` (from /proc: procps may be
    missing). A child udhcpc forked to run its hook script carries the same
    command line until it execs; it is not a second client."""
    found = {}
    for p in Path("/proc").iterdir():
        try:
            argv = (p / "cmdline").read_bytes().split(b"\0")
            ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"udhcpc" in argv and b"-i" in argv and argv[argv.index(b"-i") + 1:][:1] == [ifname.encode()]:
            found[int(p.name)] = ppid
    return sorted(pid for pid, ppid in found.items() if ppid not in found)


class TestHostInterfaces(HostInterfaceCase):

    def test_list_and_describe_kernel_links(self):
        ip("addr", "add", "198.51.100.7/24", "dev", "veth0")
        self.addCleanup(ip, "addr", "del", "198.51.100.7/24", "dev", "veth0", check=False)
        kernel = links()
        paths = [str(p) for p in self.q("ListInterfaces", "u", 0)]
        for name, l in kernel.items():
            path = iface_path(l["address"])
            self.assertIn(path, paths, name)
            self.assertEqual(str(self.iprop(path, "Name")), name, path)
            self.assertEqual(bool(self.iprop(path, "Active")), "UP" in l["flags"])
        self.assertEqual(len(paths), len(kernel))
        # A link made behind the daemon's back is listed on the next call
        # (its dump cache follows the kernel's notifications).
        ip("link", "add", "late0", "type", "veth", "peer", "name", "late0p")
        self.addCleanup(ip, "link", "del", "late0", check=False)
        late = iface_path(links()["late0"]["address"])
        self.assertIn(late, [str(p) for p in self.q("ListInterfaces", "u", 0)])
        ip("link", "del", "late0")
        self.assertNotIn(late, [str(p) for p in self.q("ListInterfaces", "u", 0)])
        kernel = links()
        active = [str(p) for p in self.q("ListInterfaces", "u", 2)]
        self.assertEqual(sorted(active), sorted(iface_path(l["address"]) for l in kernel.values() if "UP" in l["flags"]))
        self.assertIn(iface_path(kernel["lo"]["address"]), active)
        path = str(self.q("InterfaceLookupByName", "s", "veth0"))
        self.assertEqual(path, iface_path(kernel["veth0"]["address"]))
        self.assertEqual(str(self.q("InterfaceLookupByMAC", "s", kernel["veth0"]["address"].upper())), path)
        doc = ET.fromstring(str(self.i(path, "GetXMLDesc", "u", 0)))
        self.assertEqual(doc.get("type"), "ethernet")
        self.assertEqual(doc.find("mac").get("address"), kernel["veth0"]["address"])
        self.assertEqual(doc.find("mtu").get("size"), str(kernel["veth0"]["mtu"]))
        self.assertEqual(doc.find("link").get("state"), kernel["veth0"]["operstate"].lower())
        ipv4 = doc.find("protocol[@family='ipv4']/ip")
        self.assertEqual((ipv4.get("address"), ipv4.get("prefix")), ("198.51.100.7", "24"))
        with self.assertLibvirtError("Interface not found: couldn't find interface named 'nope0'"):
            self.q("InterfaceLookupByName", "s", "nope0")
        with self.assertLibvirtError("Interface not found: couldn't find interface with MAC address"):
            self.q("InterfaceLookupByMAC", "s", "02:00:00:00:00:99")

    def test_shared_mac_is_ambiguous(self):
        mac = links()["veth3"]["address"]
        old = links()["veth2"]["address"]
        ip("link", "set", "veth2", "address", mac)
        self.addCleanup(ip, "link", "set", "veth2", "address", old)
        with self.assertLibvirtError(f"multiple matching interfaces found: the MAC address '{mac}' matches "
                                     "multiple interfaces"):
            self.q("InterfaceLookupByMAC", "s", mac)

    def test_bridge_create_destroy(self):
        xml = """<interface type='bridge' name='br0'>
  <start mode='onboot'/>
  <mtu size='1400'/>
  <protocol family='ipv4'><ip address='192.0.2.1' prefix='24'/><route gateway='192.0.2.254'/></protocol>
  <protocol family='ipv6'><ip address='2001:db8::1' prefix='64'/></protocol>
  <bridge stp='off' delay='0'><interface type='ethernet' name='veth0'/></bridge>
</interface>"""
        path = self.define(xml)
        self.assertIn("br0.xml", self.stored())
        self.assertFalse(bool(self.iprop(path, "Active")))
        self.assertNotIn("br0", links())
        self.collector.clear()
        self.i(path, "Create", "u", 0)
        k = links()
        self.assertEqual(k["br0"]["linkinfo"]["info_kind"], "bridge")
        self.assertEqual(path, iface_path(k["br0"]["address"]))  # the path survives Create
        self.assertEqual(k["br0"]["mtu"], 1400)
        self.assertIn("UP", k["br0"]["flags"])
        self.assertEqual(k["veth0"].get("master"), "br0")
        self.assertEqual(addrs("br0"), {("192.0.2.1", 24), ("2001:db8::1", 64)})
        routes = ipj("route", "show", "default")
        self.assertEqual([(r["gateway"], r["dev"]) for r in routes], [("192.0.2.254", "br0")])
        self.assertTrue(bool(self.iprop(path, "Active")))
        self.assertTrue(self.collector.of("PropertiesChanged", path=path, interface=h.PROPS_IFACE))

        live = ET.fromstring(str(self.i(path, "GetXMLDesc", "u", 0)))
        self.assertEqual(live.get("type"), "bridge")
        self.assertEqual([m.get("name") for m in live.findall("bridge/interface")], ["veth0"])
        self.assertEqual(live.find("mtu").get("size"), "1400")
        self.assertEqual(live.find("protocol[@family='ipv4']/ip").get("address"), "192.0.2.1")
        self.assertEqual(live.find("protocol[@family='ipv4']/route").get("gateway"), "192.0.2.254")
        self.assertEqual(live.find("protocol[@family='ipv6']/ip").get("address"), "2001:db8::1")
        stored = ET.fromstring(str(self.i(path, "GetXMLDesc", "u", XML_INACTIVE)))
        self.assertEqual(stored.find("start").get("mode"), "onboot")

        with self.assertLibvirtError("Requested operation is not valid: interface 'br0' is already running"):
            self.i(path, "Create", "u", 0)
        self.i(path, "Destroy", "u", 0)
        k = links()
        self.assertNotIn("br0", k)
        self.assertIsNone(k["veth0"].get("master"))
        self.assertEqual(ipj("route", "show", "default"), [])
        self.assertFalse(bool(self.iprop(path, "Active")))
        self.i(path, "Undefine")
        self.assertNotIn("br0.xml", self.stored())
        self.assertNotIn(path, [str(p) for p in self.q("ListInterfaces", "u", 0)])

    def test_vlan_on_bridge(self):
        br = self.define("<interface type='bridge' name='br1'><bridge><interface type='ethernet' name='veth1'/>"
                         "</bridge></interface>")
        self.i(br, "Create", "u", 0)
        vlan = self.define("<interface type='vlan' name='br1.7'><protocol family='ipv4'>"
                           "<ip address='203.0.113.1' prefix='28'/></protocol>"
                           "<vlan tag='7'><interface name='br1'/></vlan></interface>")
        if kernel_supports("vlan"):
            self.i(vlan, "Create", "u", 0)
            k = links()
            info = k["br1.7"]["linkinfo"]
            self.assertEqual((info["info_kind"], info["info_data"]["id"]), ("vlan", 7))
            self.assertEqual(k["br1.7"]["link"], "br1")
            self.assertEqual(addrs("br1.7"), {("203.0.113.1", 28)})
            live = ET.fromstring(str(self.i(vlan, "GetXMLDesc", "u", 0)))
            self.assertEqual((live.find("vlan").get("tag"), live.find("vlan/interface").get("name")), ("7", "br1"))
            self.i(vlan, "Destroy", "u", 0)
            self.assertNotIn("br1.7", links())
        else:
            before = kernel_state()
            with self.assertLibvirtError("cannot create vlan 'br1.7'"):
                self.i(vlan, "Create", "u", 0)
            self.assertEqual(kernel_state(), before)

    def test_failed_create_rolls_back(self):
        # A bridge whose second member is a VLAN on a parent that exists:
        # the bridge, its first member's enslavement and the VLAN are made
        # in order; if the kernel refuses one, the rest is undone.
        path = self.define("<interface type='bridge' name='brv'><mtu size='1300'/><bridge>"
                           "<interface type='ethernet' name='veth2'/>"
                           "<interface type='vlan' name='vx9'><vlan tag='9'><interface name='veth3'/></vlan>"
                           "</interface></bridge></interface>")
        before = kernel_state()
        if kernel_supports("vlan"):
            self.i(path, "Create", "u", 0)
            self.assertEqual(master_of("vx9"), "brv")
            self.i(path, "Destroy", "u", 0)
            self.assertNotIn("vx9", links())
        else:
            with self.assertLibvirtError("cannot create vlan 'vx9'", regex="Unknown device type|not supported"):
                self.i(path, "Create", "u", 0)
        self.assertEqual(kernel_state(), before)

    def test_bond_of_two_veths(self):
        path = self.define("<interface type='bond' name='bond0'><bond mode='active-backup'>"
                           "<miimon freq='100'/>"
                           "<interface type='ethernet' name='veth2'/><interface type='ethernet' name='veth3'/>"
                           "</bond></interface>")
        macs = {v: links()[v]["address"] for v in ("veth2", "veth3")}
        before = kernel_state()
        if not kernel_supports("bond"):
            with self.assertLibvirtError("cannot create bond 'bond0'"):
                self.i(path, "Create", "u", 0)
            self.assertEqual(kernel_state(), before)
            return
        self.i(path, "Create", "u", 0)
        k = links()
        self.assertEqual(k["bond0"]["linkinfo"]["info_data"]["mode"], "active-backup")
        self.assertEqual(k["bond0"]["linkinfo"]["info_data"]["miimon"], 100)
        self.assertEqual({k["veth2"].get("master"), k["veth3"].get("master")}, {"bond0"})
        self.assertEqual(path, iface_path(k["bond0"]["address"]))
        # Members keep their own paths while they carry the bond's MAC.
        for v, mac in macs.items():
            self.assertEqual(str(self.q("InterfaceLookupByName", "s", v)), iface_path(mac))
        live = ET.fromstring(str(self.i(path, "GetXMLDesc", "u", 0)))
        self.assertEqual(sorted(m.get("name") for m in live.findall("bond/interface")), ["veth2", "veth3"])
        self.i(path, "Destroy", "u", 0)
        self.assertNotIn("bond0", links())
        self.assertIsNone(master_of("veth2"))

    def test_dhcp_client(self):
        # busybox udhcpd serves veth3's peer; <dhcp/> on veth3 gets a lease.
        busybox = shutil.which("busybox")
        if not busybox:
            self.skipTest("needs busybox (udhcpd)")
        ip("addr", "add", "10.9.0.1/24", "dev", "veth3p")
        ip("link", "set", "veth3p", "up")
        self.addCleanup(ip, "addr", "flush", "dev", "veth3p", check=False)
        conf = Path(self.cfgdir.name) / "udhcpd.conf"
        leases = Path(self.cfgdir.name) / "udhcpd.leases"
        leases.touch()
        conf.write_text(f"start 10.9.0.50\nend 10.9.0.60\ninterface veth3p\nlease_file {leases}\n"
                        "option subnet 255.255.255.0\noption router 10.9.0.1\n")
        server = subprocess.Popen(["nsenter", f"--net=/run/netns/{NS}", busybox, "udhcpd", "-f", str(conf)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(server.wait)
        self.addCleanup(server.terminate)
        path = self.define("<interface type='ethernet' name='veth3'>"
                           "<protocol family='ipv4'><dhcp/></protocol></interface>")
        self.i(path, "Create", "u", 0)
        self.assertEqual(len(dhcp_clients("veth3")), 1)
        deadline = time.monotonic() + 20
        got = set()
        while time.monotonic() < deadline and not got:
            got = {a for a in addrs("veth3") if a[0].startswith("10.9.0.")}
            time.sleep(0.05)
        self.assertEqual(len(got), 1, "no DHCP lease on veth3")
        self.assertEqual([(r["gateway"], r["dev"]) for r in ipj("route", "show", "default")], [("10.9.0.1", "veth3")])
        live = ET.fromstring(str(self.i(path, "GetXMLDesc", "u", 0)))
        self.assertIsNotNone(live.find("protocol[@family='ipv4']/dhcp"))
        self.i(path, "Destroy", "u", 0)
        self.assertNotIn("UP", links()["veth3"]["flags"])
        self.assertEqual(dhcp_clients("veth3"), [], "the DHCP client outlived Destroy")

    def test_change_transactions(self):
        a = self.define("<interface type='bridge' name='tra'><mtu size='1500'/><bridge/></interface>")
        with self.assertLibvirtError("Requested operation is not valid: no transaction running, "
                                     "nothing to be committed."):
            self.q("InterfaceChangeCommit", "u", 0)
        with self.assertLibvirtError("Requested operation is not valid: no transaction running, "
                                     "nothing to rollback."):
            self.q("InterfaceChangeRollback", "u", 0)
        self.q("InterfaceChangeBegin", "u", 0)
        with self.assertLibvirtError("Requested operation is not valid: there is another transaction running."):
            self.q("InterfaceChangeBegin", "u", 0)
        self.q("InterfaceDefineXML", "su", "<interface type='bridge' name='tra'><mtu size='9000'/><bridge/>"
               "</interface>", 0)
        b = self.define("<interface type='bridge' name='trb'><bridge/></interface>")
        self.assertEqual(self.stored(), ["tra.xml", "trb.xml"])
        self.q("InterfaceChangeRollback", "u", 0)
        self.assertEqual(self.stored(), ["tra.xml"])
        self.assertIn("size='1500'", (Path(self.cfgdir.name) / "tra.xml").read_text())
        paths = [str(p) for p in self.q("ListInterfaces", "u", 0)]
        self.assertIn(a, paths)
        self.assertNotIn(b, paths)
        # Commit keeps what changed.
        self.q("InterfaceChangeBegin", "u", 0)
        self.i(a, "Undefine")
        self.q("InterfaceChangeCommit", "u", 0)
        self.assertEqual(self.stored(), [])

    def test_bad_input_changes_nothing(self):
        store, kernel = self.stored(), kernel_state()
        for name, why in (("a_name_of_16_chr", "longer than 15 characters"), ("br/0", "must not contain '/'")):
            with self.assertLibvirtError("XML error: interface name", regex=why):
                self.q("InterfaceDefineXML", "su", f"<interface type='bridge' name='{name}'><bridge/></interface>", 0)
        with self.assertLibvirtError("XML error: interface name", regex="longer than 15"):
            self.q("InterfaceDefineXML", "su", "<interface type='bridge' name='b'><bridge>"
                   "<interface type='ethernet' name='member_too_long_'/></bridge></interface>", 0)
        self.assertEqual((self.stored(), kernel_state()), (store, kernel))

        vlan = self.define("<interface type='vlan' name='v5'><vlan tag='5'><interface name='nope0'/></vlan>"
                           "</interface>")
        with self.assertLibvirtError("operation failed: VLAN parent interface 'nope0' of 'v5' does not exist"):
            self.i(vlan, "Create", "u", 0)
        self.assertEqual(kernel_state(), kernel)

        br = self.define("<interface type='bridge' name='brE'><bridge><interface type='ethernet' name='veth1'/>"
                         "</bridge></interface>")
        self.i(br, "Create", "u", 0)
        kernel = kernel_state()
        bond = self.define("<interface type='bond' name='bondE'><bond>"
                           "<interface type='ethernet' name='veth3'/><interface type='ethernet' name='veth1'/>"
                           "</bond></interface>")
        with self.assertLibvirtError("Requested operation is not valid: interface 'veth1' is already enslaved "
                                     "to 'brE'"):
            self.i(bond, "Create", "u", 0)
        missing = self.define("<interface type='bridge' name='brM'><bridge><interface type='ethernet' name='ghost0'/>"
                              "</bridge></interface>")
        with self.assertLibvirtError("operation failed: interface 'ghost0' does not exist on this host"):
            self.i(missing, "Create", "u", 0)
        self.assertEqual(kernel_state(), kernel)


if __name__ == "__main__":
    unittest.main()
