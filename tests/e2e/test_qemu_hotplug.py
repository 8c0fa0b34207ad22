# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hotplug and live changes of the QEMU driver, end to end.

One TCG guest (pc, ide cdrom, a virtio-serial controller) booted with
virtbus.watch=1: its init prints VIRTBUS-GUEST-DEV-ADD/-DEL NAME when a
block or network device appears or goes, so the guest itself shows that
a hotplugged virtio disk or NIC arrived and left. The same guest serves
the disk, NIC, channel, cdrom, block I/O throttling and bad-input checks
(each check leaves it as it found it); a second, never started domain the
AFFECT_CONFIG ones.
"""

import os
import re
import subprocess
import sys
import time
import unittest

import dbus

from harness import (DOMAIN_IFACE, EV_STARTED, STARTED_BOOTED, E2ETestCase, errmsg, pump)

AFFECT_LIVE, AFFECT_CONFIG = 1, 2
XML_INACTIVE = 2


class Hotplug(E2ETestCase):

    def image(self, name, size="8M", fmt="raw"):
        path = str(self.env.guest_dir / name)
        subprocess.run(["qemu-img", "create", "-q", "-f", fmt, path, size], check=True)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    def signals(self, member):
        got = []

        def handler(*args, path=None):
            got.append((str(path), [str(a) if not isinstance(a, int) else int(a) for a in args]))
        match = self.env.bus.add_signal_receiver(handler, signal_name=member, dbus_interface=DOMAIN_IFACE,
                                                 path_keyword="path")
        self.addCleanup(match.remove)
        return got

    def wait_for(self, what, cond, timeout=20.0):
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() >= deadline:
                self.fail(f"timed out waiting for {what}\ndaemon log:\n{self.env.daemon.log_tail()}")
            pump(0.1)

    def guest_lines(self, log, word):
        with open(log, errors="replace") as f:
            return [line.strip() for line in f if line.startswith(word)]

    def live_xml(self, path):
        return str(self.env.dom(path, "GetXMLDesc", "u", 0))

    def config_xml(self, path):
        return str(self.env.dom(path, "GetXMLDesc", "u", XML_INACTIVE))

    def iotune(self, path, disk, flags):
        return {str(k): v for k, v in self.env.dom(path, "GetBlockIOTune", "su", disk, flags).items()}

    def test_live_guest(self):
        iso1, iso2 = self.image("hp-media1.img", "1M"), self.image("hp-media2.img", "2M")
        extra = (f"    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='{iso1}'/>"
                 f"<target dev='hdc' bus='ide'/><readonly/></disk>\n"
                 f"    <controller type='virtio-serial' index='0'/>\n")
        name = self.new_name("hp")
        log = self.serial_log(name)
        xml = self.xml(name, extra_devices=extra, cmdline_extra="virtbus.watch=1").replace(
            "<vcpu placement='static'>1</vcpu>", "<vcpu placement='static' current='1'>2</vcpu>")
        path = str(self.env.connect("DomainDefineXML", "s", xml))
        self.addCleanup(self.remove_domain, path, name)
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)
        added, removed = self.signals("DeviceAdded"), self.signals("DeviceRemoved")
        trays = self.signals("TrayChange")

        # ---- a virtio disk: the guest sees it come and go ----
        disk = self.image("hp-vdb.img")
        disk_xml = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                    f"<source file='{disk}'/><target dev='vdb' bus='virtio'/></disk>")
        self.env.dom(path, "AttachDevice", "su", disk_xml, AFFECT_LIVE)
        self.wait_for("DeviceAdded", lambda: added)
        self.assertEqual(added, [(path, ["virtio-disk1"])])
        self.wait_for("the guest's vda", lambda: "VIRTBUS-GUEST-DEV-ADD vda" in self.guest_lines(log, "VIRTBUS"))
        live = self.live_xml(path)
        self.assertRegex(live, r"<target dev='vdb' bus='virtio'/>\s*<alias name='virtio-disk1'/>\s*"
                               r"<address type='pci'")
        self.assertNotIn("vdb", self.config_xml(path), "a live attach leaves the definition alone")

        # Bad input: nothing reaches the guest.
        with self.assertLibvirtError("target vdb already exists"):
            self.env.dom(path, "AttachDevice", "su", disk_xml, AFFECT_LIVE)
        bad_bus = disk_xml.replace("vdb", "vdc").replace(
            "</disk>", "<address type='pci' domain='0x0000' bus='0x05' slot='0x09' function='0x0'/></disk>")
        with self.assertLibvirtError("Only PCI buses up to 0 are available"):
            self.env.dom(path, "AttachDevice", "su", bad_bus, AFFECT_LIVE)
        no_ctl = disk_xml.replace("dev='vdb' bus='virtio'", "dev='sdb' bus='scsi'")
        with self.assertLibvirtError("needs a new <controller type='scsi'"):
            self.env.dom(path, "AttachDevice", "su", no_ctl, AFFECT_LIVE)
        with self.assertLibvirtError("Cannot access storage file"):
            self.env.dom(path, "AttachDevice", "su", disk_xml.replace(disk, disk + ".missing").replace(
                "vdb", "vdd"), AFFECT_LIVE)
        with self.assertLibvirtError("cannot be hotplugged"):
            self.env.dom(path, "AttachDevice", "su", disk_xml.replace("dev='vdb' bus='virtio'",
                                                                      "dev='hdb' bus='ide'"), AFFECT_LIVE)

        # ---- block I/O throttling, read back from QEMU ----
        self.env.dom(path, "SetBlockIOTune", "sa{sv}u", "vdb",
                     {"total_bytes_sec": dbus_u64(1 << 20), "total_iops_sec": dbus_u64(200),
                      "total_bytes_sec_max": dbus_u64(4 << 20), "group_name": "grp1"}, AFFECT_LIVE)
        tune = self.iotune(path, "vdb", AFFECT_LIVE)
        self.assertEqual((int(tune["total_bytes_sec"]), int(tune["total_iops_sec"]),
                          int(tune["total_bytes_sec_max"]), str(tune["group_name"])),
                         (1 << 20, 200, 4 << 20, "grp1"))
        self.assertEqual(len(tune), 20)
        self.assertIn("<total_bytes_sec>1048576</total_bytes_sec>", self.live_xml(path))
        # read/write replaces total, as in libvirt
        self.env.dom(path, "SetBlockIOTune", "sa{sv}u", "vdb",
                     {"read_bytes_sec": dbus_u64(1 << 19), "total_bytes_sec_max": dbus_u64(0)}, AFFECT_LIVE)
        tune = self.iotune(path, "vdb", AFFECT_LIVE)
        self.assertEqual((int(tune["total_bytes_sec"]), int(tune["read_bytes_sec"])), (0, 1 << 19))
        with self.assertLibvirtError("cannot be set at the same time"):
            self.env.dom(path, "SetBlockIOTune", "sa{sv}u", "vdb",
                         {"total_iops_sec": dbus_u64(5), "read_iops_sec": dbus_u64(5)}, AFFECT_LIVE)
        with self.assertLibvirtError("not supported"):
            self.env.dom(path, "SetBlockIOTune", "sa{sv}u", "vdb", {"bogus": dbus_u64(5)}, AFFECT_LIVE)
        with self.assertLibvirtError("was not found"):
            self.iotune(path, "vdz", AFFECT_LIVE)

        # ---- detach: DEVICE_DELETED -> DeviceRemoved, the guest sees it go ----
        self.env.dom(path, "DetachDevice", "su", disk_xml, AFFECT_LIVE)
        self.wait_for("DeviceRemoved", lambda: removed)
        self.assertEqual(removed, [(path, ["virtio-disk1"])])
        self.wait_for("the guest's -DEL vda", lambda: "VIRTBUS-GUEST-DEV-DEL vda" in self.guest_lines(log, "VIRTBUS"))
        self.assertNotIn("vdb", self.live_xml(path))
        with self.assertLibvirtError("disk vdb not found"):
            self.env.dom(path, "DetachDevice", "su", disk_xml, AFFECT_LIVE)
        with self.assertLibvirtError("cannot be hotunplugged"):
            self.env.dom(path, "DetachDevice", "su", "<disk device='cdrom'><target dev='hdc'/></disk>",
                         AFFECT_LIVE)
        # the same disk again: its node names were cleaned up
        self.env.dom(path, "AttachDevice", "su", disk_xml, AFFECT_LIVE)
        self.wait_for("second DeviceAdded", lambda: len(added) == 2)
        self.env.dom(path, "DetachDevice", "su", disk_xml, AFFECT_LIVE)
        self.wait_for("second DeviceRemoved", lambda: len(removed) == 2)

        # ---- a NIC ----
        mac = "52:54:00:aa:bb:01"
        nic_type = "ethernet" if os.geteuid() == 0 else "user"
        target = "<target dev='vbhp0'/>" if nic_type == "ethernet" else ""
        nic_xml = f"<interface type='{nic_type}'><mac address='{mac}'/>{target}<model type='virtio'/></interface>"
        self.env.dom(path, "AttachDevice", "su", nic_xml, AFFECT_LIVE)
        self.wait_for("NIC DeviceAdded", lambda: len(added) == 3)
        self.assertEqual(added[-1], (path, ["net0"]))
        self.wait_for("the guest's eth0", lambda: "VIRTBUS-GUEST-DEV-ADD eth0" in self.guest_lines(log, "VIRTBUS"))
        if nic_type == "ethernet":
            self.assertEqual(subprocess.run(["ip", "link", "show", "vbhp0"], capture_output=True).returncode, 0,
                             "the tap exists on the host")
        with self.assertLibvirtError("MAC address 52:54:00:aa:bb:01 is already in use"):
            self.env.dom(path, "AttachDevice", "su", nic_xml, AFFECT_LIVE)
        self.check_bandwidth(path, nic_type)
        down = nic_xml.replace("<model", "<link state='down'/><model")
        self.env.dom(path, "UpdateDevice", "su", down, AFFECT_LIVE)
        self.assertIn("<link state='down'/>", self.live_xml(path))
        self.env.dom(path, "UpdateDevice", "su", nic_xml, AFFECT_LIVE)
        self.assertNotIn("<link state='down'/>", self.live_xml(path))
        self.env.dom(path, "DetachDevice", "su", nic_xml, AFFECT_LIVE)
        self.wait_for("NIC DeviceRemoved", lambda: len(removed) == 3)
        self.assertEqual(removed[-1], (path, ["net0"]))
        self.wait_for("the guest's -DEL eth0", lambda: "VIRTBUS-GUEST-DEV-DEL eth0" in self.guest_lines(log, "VIRTBUS"))
        if nic_type == "ethernet":
            self.wait_for("the tap to go", lambda: subprocess.run(["ip", "link", "show", "vbhp0"],
                                                                  capture_output=True).returncode != 0)
        with self.assertLibvirtError("no device matching MAC address"):
            self.env.dom(path, "DetachDevice", "su", nic_xml, AFFECT_LIVE)

        # ---- a virtio-serial port (channel) ----
        chan = "<channel type='pty'><target type='virtio' name='org.virtbus.hp'/></channel>"
        self.env.dom(path, "AttachDevice", "su", chan, AFFECT_LIVE)
        self.wait_for("channel DeviceAdded", lambda: len(added) == 4)
        self.assertEqual(added[-1], (path, ["channel0"]))
        live = self.live_xml(path)
        pty = re.search(r"<channel type='pty'>\s*<source path='(/dev/pts/\d+)'/>", live)
        self.assertIsNotNone(pty, live)
        self.assertTrue(os.path.exists(pty.group(1)), "QEMU's pty of the new port")
        self.env.dom(path, "DetachDevice", "su", chan, AFFECT_LIVE)
        self.wait_for("channel DeviceRemoved", lambda: len(removed) == 4)
        self.assertNotIn("org.virtbus.hp", self.live_xml(path))
        with self.assertLibvirtError("cannot"):
            self.env.dom(path, "AttachDevice", "su", "<serial type='pty'><target port='1'/></serial>", AFFECT_LIVE)

        # ---- cdrom media: eject, insert (TrayChange open/close) ----
        cd = "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
        self.env.dom(path, "UpdateDevice", "su", cd, AFFECT_LIVE)
        self.wait_for("TrayChange open+close", lambda: len(trays) >= 2)
        self.assertEqual(trays[:2], [(path, ["ide0-1-0", 0]), (path, ["ide0-1-0", 1])])
        self.assertNotIn(iso1, self.live_xml(path))
        self.env.dom(path, "UpdateDevice", "su", cd.replace("<target", f"<source file='{iso2}'/><target"),
                     AFFECT_LIVE)
        self.wait_for("TrayChange again", lambda: len(trays) >= 4)
        self.assertIn(f"<source file='{iso2}'", self.live_xml(path))
        self.assertIn(f"<source file='{iso1}'", self.config_xml(path), "the definition keeps its media")
        with self.assertLibvirtError("disk vdb not found"):
            self.env.dom(path, "UpdateDevice", "su", disk_xml, AFFECT_LIVE)

        # ---- AFFECT_CONFIG on the running guest: only the definition ----
        cfg_disk = disk_xml.replace(disk, self.image("hp-vdc.img")).replace("vdb", "vdc")
        self.env.dom(path, "AttachDevice", "su", cfg_disk, AFFECT_CONFIG)
        self.assertIn("<target dev='vdc'", self.config_xml(path))
        self.assertNotIn("vdc", self.live_xml(path))
        self.env.dom(path, "SetBlockIOTune", "sa{sv}u", "vdc", {"total_iops_sec": dbus_u64(300)}, AFFECT_CONFIG)
        self.assertIn("<total_iops_sec>300</total_iops_sec>", self.config_xml(path))
        self.assertEqual(int(self.iotune(path, "vdc", AFFECT_CONFIG)["total_iops_sec"]), 300)
        self.assertEqual(len(added), 4, "no DeviceAdded for a config change")

        cgroup = self.check_vcpus_and_sched(path, name)

        # ---- the definition's <iotune> applies at the next start ----
        self.env.dom(path, "Destroy", "u", 0)
        self.wait_for("shut off", lambda: self.state(path)[0] == 5)
        if cgroup:
            self.assertFalse(os.path.exists(cgroup), "the guest's cgroup goes with it")
        os.unlink(log)
        self.env.dom(path, "Create", "u", 0)
        self.wait_marker(log)
        self.assertEqual(int(self.iotune(path, "vdc", AFFECT_LIVE)["total_iops_sec"]), 300, "QEMU has it")
        self.env.dom(path, "DetachDevice", "su", cfg_disk, AFFECT_CONFIG)
        self.assertNotIn("vdc", self.config_xml(path))
        self.assertIn("vdc", self.live_xml(path))
        self.assertTrue(self.env.daemon.alive())

    def check_bandwidth(self, path, nic_type):
        """SetInterfaceParameters: tc on the host tap (read back with tc)."""
        if nic_type == "user":
            with self.assertLibvirtError("not implemented yet"):
                self.env.dom(path, "SetInterfaceParameters", "sa{sv}u", "52:54:00:aa:bb:01",
                             {"inbound.average": dbus.UInt32(1000)}, AFFECT_LIVE)
            return
        self.env.dom(path, "SetInterfaceParameters", "sa{sv}u", "vbhp0",
                     {"inbound.average": dbus.UInt32(1000), "inbound.peak": dbus.UInt32(2000)}, AFFECT_LIVE)
        shown = subprocess.run(["tc", "class", "show", "dev", "vbhp0"], capture_output=True, text=True).stdout
        self.assertRegex(shown, r"htb 1:1 .*rate 8Mbit ceil 16Mbit", "1000 kB/s, as tc's kbps")
        got = {str(k): int(v) for k, v in self.env.dom(path, "GetInterfaceParameters", "su", "vbhp0",
                                                         AFFECT_LIVE).items()}
        self.assertEqual((got["inbound.average"], got["inbound.peak"], got["outbound.average"]), (1000, 2000, 0))
        self.assertIn("<inbound average='1000' peak='2000'/>", self.live_xml(path))
        try:
            self.env.dom(path, "SetInterfaceParameters", "sa{sv}u", "vbhp0",
                         {"outbound.average": dbus.UInt32(500)}, AFFECT_LIVE)
        except dbus.DBusException as e:
            # Kernels without act_police (this CI's VM has none) cannot police ingress.
            self.assertRegex(errmsg(e), "police.*(action|TC)")
        else:
            shown = subprocess.run(["tc", "filter", "show", "dev", "vbhp0", "parent", "ffff:"],
                                   capture_output=True, text=True).stdout
            self.assertIn("police", shown)
        self.env.dom(path, "SetInterfaceParameters", "sa{sv}u", "vbhp0",
                     {"inbound.average": dbus.UInt32(0), "outbound.average": dbus.UInt32(0)}, AFFECT_LIVE)
        shown = subprocess.run(["tc", "class", "show", "dev", "vbhp0"], capture_output=True, text=True).stdout
        self.assertNotIn("htb", shown, "a zero average removes the limit")
        with self.assertLibvirtError("not supported"):
            self.env.dom(path, "SetInterfaceParameters", "sa{sv}u", "vbhp0", {"bogus": dbus.UInt32(1)},
                         AFFECT_LIVE)
        with self.assertLibvirtError("Can't find device"):
            self.env.dom(path, "GetInterfaceParameters", "su", "nosuch0", AFFECT_LIVE)

    def check_vcpus_and_sched(self, path, name):
        """vCPU hotplug (max 2, boots with 1); cpu_shares in the guest's cgroup.

        Returns the cgroup directory (None without one)."""
        self.env.dom(path, "SetVcpus", "uu", 2, AFFECT_LIVE)
        self.assertEqual(int(self.env.dom(path, "GetVcpus", "u", 0)), 2)
        st = {str(k): v for k, v in self.env.dom(path, "GetStats", "uu", 8, 0).items()}
        self.assertEqual(int(st["vcpu.current"]), 2)
        self.assertIn("vcpu.1.time", st, "QEMU has a thread for the new vCPU")
        self.assertIn("current='1'>2</vcpu>", self.config_xml(path), "a live change only")
        # Back to 1: the hotplugged vCPU goes when the guest ejects it in time.
        try:
            self.env.dom(path, "SetVcpus", "uu", 1, AFFECT_LIVE)
        except dbus.DBusException as e:
            self.assertRegex(errmsg(e), "timed out|rejected")
            self.assertEqual(int(self.env.dom(path, "GetVcpus", "u", 0)), 2)
            print("vCPU unplug: the guest did not eject vCPU 1", file=sys.stderr)
        else:
            self.assertEqual(int(self.env.dom(path, "GetVcpus", "u", 0)), 1)
            print("vCPU unplug: the guest ejected vCPU 1", file=sys.stderr)
        if os.geteuid() != 0:
            return None
        try:
            self.env.dom(path, "SetSchedulerParameters", "a{sv}u", {"cpu_shares": dbus.UInt64(512)}, AFFECT_LIVE)
        except dbus.DBusException as e:
            self.assertRegex(errmsg(e), "cgroup")
            return None
        pid = self.env.qemu_pid(name)
        knob = next(p for p in (f"/sys/fs/cgroup/virtbus/{name}/cpu.weight",
                                f"/sys/fs/cgroup/cpu/virtbus/{name}/cpu.shares",
                                f"/sys/fs/cgroup/cpu,cpuacct/virtbus/{name}/cpu.shares") if os.path.exists(p))
        with open(knob) as f:
            self.assertEqual(int(f.read()), 512)
        with open(os.path.join(os.path.dirname(knob), "cgroup.procs")) as f:
            self.assertIn(str(pid), f.read().split())
        got = self.env.dom(path, "GetSchedulerParameters", "u", AFFECT_LIVE)
        self.assertEqual(int(dict(got)["cpu_shares"]), 512)
        with self.assertLibvirtError("not supported"):
            self.env.dom(path, "SetSchedulerParameters", "a{sv}u", {"vcpu_quota": dbus.Int64(1000)}, AFFECT_LIVE)
        return os.path.dirname(knob)

    def test_inactive_domain(self):
        path, name, log = self.define(self.new_name("hpoff"))
        disk = self.image("hp-off.img")
        disk_xml = (f"<disk type='file' device='disk'><source file='{disk}'/>"
                    f"<target dev='vdb' bus='virtio'/></disk>")
        with self.assertLibvirtError("domain is not running"):
            self.env.dom(path, "AttachDevice", "su", disk_xml, AFFECT_LIVE)
        self.env.dom(path, "AttachDevice", "su", disk_xml, 0)  # CURRENT = CONFIG when off
        self.assertIn("<target dev='vdb' bus='virtio'/>", self.config_xml(path))
        with self.assertLibvirtError("already exists"):
            self.env.dom(path, "AttachDevice", "su", disk_xml, 0)
        with self.assertLibvirtError("unsupported configuration"):
            self.env.dom(path, "AttachDevice", "su",
                         "<disk type='network' device='disk'><source protocol='nbd' name='x'>"
                         "<host name='localhost'/></source><target dev='vdc' bus='virtio'/></disk>", 0)
        self.env.dom(path, "UpdateDevice", "su", disk_xml.replace("<source", "<readonly/><source"), 0)
        self.assertIn("<readonly/>", self.config_xml(path))
        self.env.dom(path, "DetachDevice", "su", disk_xml, 0)
        self.assertNotIn("vdb", self.config_xml(path))
        with self.assertLibvirtError("no target device vdb"):
            self.env.dom(path, "DetachDevice", "su", disk_xml, 0)
        with self.assertLibvirtError("domain is not running"):
            self.env.dom(path, "SetBlockIOTune", "sa{sv}u", "vdb", {"total_iops_sec": dbus_u64(1)}, AFFECT_LIVE)


def dbus_u64(v):
    return dbus.UInt64(v)


if __name__ == "__main__":
    unittest.main()
