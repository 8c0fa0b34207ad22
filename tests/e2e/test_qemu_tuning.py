# SPDX-License-Identifier: LGPL-2.1-or-later
"""Live tuning and statistics of the QEMU driver, end to end.

SetMemory, SetVcpus, SetMemoryStatsPeriod, MemoryStats, GetStats groups,
Get/SetMetadata with MetadataChange, PinVcpu / GetVcpuPinInfo and
GetEmulatorPinInfo on real TCG guests (guest.py's busybox guest, here with a
virtio balloon, a qcow2 disk made by qemu-img and a user-mode NIC).

The test guest's initramfs loads no virtio_balloon driver, so a guest never
honours a balloon request: QEMU accepts it, but the size it reports
(query-balloon "actual") stays the boot size and no BALLOON_CHANGE comes.
The tests assert what QEMU reports, and the BalloonChange value only if the
guest did answer.
"""

import os
import subprocess
import time
import unittest

import dbus

from harness import (DOMAIN_IFACE, EV_STARTED, STARTED_BOOTED, E2ETestCase, pump)

MEM_KIB = 128 * 1024
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
MEM_MAXIMUM = VCPU_MAXIMUM = 4
META_DESCRIPTION, META_TITLE, META_ELEMENT = 0, 1, 2


class Tuning(E2ETestCase):

    def define_tuned(self, disk=True):
        """A guest with a virtio balloon, a qcow2 disk and a user-mode NIC."""
        name = self.new_name("tune")
        extra = "    <interface type='user'><model type='virtio'/></interface>\n"
        if disk:
            image = str(self.env.guest_dir / f"{name}.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "16M"], check=True)
            extra += (f"    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                      f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>\n")
        xml = self.xml(name, extra_devices=extra).replace(
            "<memballoon model='none'/>", "<memballoon model='virtio'><stats period='5'/></memballoon>")
        path = str(self.env.connect("DomainDefineXML", "s", xml))
        self.addCleanup(self.remove_domain, path, name)
        return path, name, self.serial_log(name)

    def start(self, path, log):
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)

    def signals(self, member):
        got = []

        def handler(*args, path=None):
            got.append((str(path), [a for a in args]))
        match = self.env.bus.add_signal_receiver(handler, signal_name=member, dbus_interface=DOMAIN_IFACE,
                                                 path_keyword="path")
        self.addCleanup(match.remove)
        return got

    def stats(self, path, groups=0):
        return {str(k): v for k, v in self.env.dom(path, "GetStats", "uu", groups, 0).items()}

    def test_running_guest(self):
        path, name, log = self.define_tuned()
        self.start(path, log)
        balloons = self.signals("BalloonChange")
        metas = self.signals("MetadataChange")

        # ---- balloon ----
        self.env.dom(path, "SetMemory", "tu", 96 * 1024, AFFECT_LIVE)
        deadline = time.monotonic() + 5
        while not balloons and time.monotonic() < deadline:
            pump(0.1)
        st = self.stats(path, 4)
        self.assertEqual(int(st["balloon.maximum"]), MEM_KIB)
        if balloons:
            self.assertEqual(int(balloons[-1][1][0]), 96 * 1024)
            self.assertEqual(int(st["balloon.current"]), 96 * 1024)
        else:
            # No guest balloon driver: QEMU still reports the boot size.
            self.assertEqual(int(st["balloon.current"]), MEM_KIB)
        self.env.dom(path, "SetMemoryStatsPeriod", "iu", 2, AFFECT_LIVE)
        mem = {int(k): int(v) for k, v in self.env.dom(path, "MemoryStats", "u", 0).items()}
        self.assertEqual(mem[6], int(st["balloon.current"]), "actual is QEMU's figure")
        self.assertGreater(mem[7], 1024, "rss of the QEMU process")
        with self.assertLibvirtError("higher than max memory"):
            self.env.dom(path, "SetMemory", "tu", MEM_KIB * 4, AFFECT_LIVE)
        with self.assertLibvirtError("must not be zero"):
            self.env.dom(path, "SetMemory", "tu", 0, 0)
        with self.assertLibvirtError("maximum memory on an active domain"):
            self.env.dom(path, "SetMemory", "tu", MEM_KIB, AFFECT_LIVE | MEM_MAXIMUM)
        with self.assertLibvirtError("unsupported flags"):
            self.env.dom(path, "SetMemory", "tu", MEM_KIB, 1 << 10)
        with self.assertLibvirtError("zero or greater"):
            self.env.dom(path, "SetMemoryStatsPeriod", "iu", -1, 0)

        # ---- stats groups ----
        st = self.stats(path)
        for key in ("state.state", "cpu.time", "balloon.current", "vcpu.current", "vcpu.maximum",
                    "vcpu.0.state", "vcpu.0.time", "net.count", "block.count", "block.0.name",
                    "block.0.path", "block.0.rd.reqs", "block.0.rd.bytes", "block.0.wr.reqs",
                    "block.0.wr.bytes", "block.0.fl.reqs"):
            self.assertIn(key, st)
        self.assertEqual(int(st["vcpu.0.state"]), 1)
        self.assertGreater(int(st["vcpu.0.time"]), 0, "the vCPU thread has run")
        self.assertEqual(str(st["block.0.name"]), "vda")
        self.assertEqual(int(st["block.count"]), 1)
        self.assertEqual(int(st["net.count"]), 1)
        # A user-mode NIC has no host device to count on (libvirt errors).
        self.assertNotIn("net.0.rx.bytes", st)
        all_stats = self.env.connect("GetAllDomainStats", "uu", 4 | 8 | 32, 0)
        mine = [dict(r) for n, r in all_stats if str(n) == name]
        self.assertEqual(len(mine), 1)
        self.assertIn("block.0.rd.reqs", mine[0])

        # ---- vCPUs ----
        self.assertEqual(int(self.env.dom(path, "GetVcpus", "u", 0)), 1)
        self.env.dom(path, "SetVcpus", "uu", 1, AFFECT_LIVE)  # no change: accepted
        with self.assertLibvirtError("greater than max allowable"):
            self.env.dom(path, "SetVcpus", "uu", 4, AFFECT_LIVE)
        self.env.dom(path, "PinVcpu", "uabu", 0, [True], AFFECT_LIVE)
        info = self.env.dom(path, "GetVcpuPinInfo", "u", 0)
        self.assertEqual(len(info), 1)
        self.assertTrue(info[0][0])
        self.assertFalse(any(info[0][1:]))
        pid = self.env.qemu_pid(name)
        tids = os.listdir(f"/proc/{pid}/task")
        pinned = [t for t in tids if os.sched_getaffinity(int(t)) == {0}]
        self.assertEqual(len(pinned), 1, "exactly the vCPU thread is pinned to CPU 0")
        with self.assertLibvirtError("out of range"):
            self.env.dom(path, "PinVcpu", "uabu", 5, [True], AFFECT_LIVE)
        with self.assertLibvirtError("Empty cpu list"):
            self.env.dom(path, "PinVcpu", "uabu", 0, [False], AFFECT_LIVE)
        self.assertTrue(all(self.env.dom(path, "GetEmulatorPinInfo", "u", 0)))

        # ---- metadata, live and config ----
        self.env.dom(path, "SetMetadata", "isssu", META_TITLE, "A title", "", "", AFFECT_LIVE | AFFECT_CONFIG)
        self.env.dom(path, "SetMetadata", "isssu", META_ELEMENT, "<app><v>1</v></app>", "my",
                     "http://example.org/app", AFFECT_LIVE)
        self.assertEqual(str(self.env.dom(path, "GetMetadata", "isu", META_TITLE, "", AFFECT_CONFIG)), "A title")
        self.assertIn("<v>1</v>", str(self.env.dom(path, "GetMetadata", "isu", META_ELEMENT,
                                                       "http://example.org/app", 0)))
        with self.assertLibvirtError("not present"):
            self.env.dom(path, "GetMetadata", "isu", META_ELEMENT, "http://example.org/app", AFFECT_CONFIG)
        with self.assertLibvirtError("newlines"):
            self.env.dom(path, "SetMetadata", "isssu", META_TITLE, "a\nb", "", "", 0)
        deadline = time.monotonic() + 5
        while len(metas) < 2 and time.monotonic() < deadline:
            pump(0.1)
        self.assertEqual([(p, int(a[0]), str(a[1])) for p, a in metas],
                         [(path, META_TITLE, ""), (path, META_ELEMENT, "http://example.org/app")])
        self.assertIn("<title>A title</title>", str(self.env.dom(path, "GetXMLDesc", "u", 0)))
        self.assertTrue(self.env.daemon.alive())

    def test_config_changes_persist(self):
        path, name, log = self.define_tuned(disk=False)
        self.env.dom(path, "SetMemory", "tu", 256 * 1024, AFFECT_CONFIG | MEM_MAXIMUM)
        self.env.dom(path, "SetMemory", "tu", 200 * 1024, AFFECT_CONFIG)
        self.env.dom(path, "SetVcpus", "uu", 4, AFFECT_CONFIG | VCPU_MAXIMUM)
        self.env.dom(path, "SetVcpus", "uu", 2, 0)
        self.env.dom(path, "SetMemoryStatsPeriod", "iu", 7, AFFECT_CONFIG)
        self.env.dom(path, "PinVcpu", "uabu", 1, [True, False], AFFECT_CONFIG)
        self.env.dom(path, "SetMetadata", "isssu", META_DESCRIPTION, "kept", "", "", 0)
        # Live calls on an inactive domain.
        for method, sig, args in (("SetMemory", "tu", (64 * 1024, AFFECT_LIVE)),
                                  ("SetVcpus", "uu", (1, AFFECT_LIVE)),
                                  ("MemoryStats", "u", (0,)),
                                  ("PinVcpu", "uabu", (0, [True], AFFECT_LIVE))):
            with self.assertLibvirtError("not running"):
                self.env.dom(path, method, sig, *args)
        with self.assertLibvirtError("greater than max allowable"):
            self.env.dom(path, "SetVcpus", "uu", 5, AFFECT_CONFIG)
        with self.assertLibvirtError("required by flag"):
            self.env.dom(path, "SetVcpus", "uu", 2, VCPU_MAXIMUM)
        with self.assertLibvirtError("greater than max allowable"):
            self.env.dom(path, "SetVcpus", "uu", 1 << 30, AFFECT_CONFIG | VCPU_MAXIMUM)

        self.assertEqual(self.env.restart_daemon(), [], "virtbusd did not stop cleanly")
        xml = str(self.env.dom(path, "GetXMLDesc", "u", 2))  # VIR_DOMAIN_XML_INACTIVE
        self.assertIn("<memory unit='KiB'>262144</memory>", xml)
        self.assertIn("<currentMemory unit='KiB'>204800</currentMemory>", xml)
        self.assertIn("current='2'>4</vcpu>", xml)
        self.assertIn("<stats period='7'/>", xml)
        self.assertIn("<vcpupin vcpu='1' cpuset='0'/>", xml)
        self.assertIn("<description>kept</description>", xml)
        self.assertEqual(int(self.env.dom(path, "GetVcpus", "u", VCPU_MAXIMUM)), 4)
        self.assertEqual(int(self.env.dom(path, "GetVcpus", "u", 0)), 2)
        info = self.env.dom(path, "GetVcpuPinInfo", "u", 0)
        self.assertEqual(len(info), 4)
        self.assertEqual(list(map(bool, info[1][:2])), [True, False])
        # The changed definition boots.
        self.start(path, log)
        st = self.stats(path, 4 | 8)
        self.assertEqual(int(st["balloon.maximum"]), 256 * 1024)
        self.assertEqual(int(st["vcpu.current"]), 2)
        self.assertEqual(int(st["vcpu.maximum"]), 4)
        self.assertIn("vcpu.1.time", st)
        # <vcpupin vcpu='1' cpuset='0'/> took effect at boot: one thread of
        # the new QEMU (vCPU 1's) runs on CPU 0 alone.
        pid = self.env.qemu_pid(name)
        pinned = [t for t in os.listdir(f"/proc/{pid}/task") if os.sched_getaffinity(int(t)) == {0}]
        if os.cpu_count() > 1:
            self.assertEqual(len(pinned), 1, "the vcpupin of the definition is applied at start")
        # vCPU hotplug (qemu_vcpu_hotplug.cpp): a third vCPU thread appears.
        self.env.dom(path, "SetVcpus", "uu", 3, AFFECT_LIVE)
        self.assertEqual(int(self.stats(path, 8)["vcpu.current"]), 3)
        self.assertIn("vcpu.2.time", self.stats(path, 8))


if __name__ == "__main__":
    unittest.main()
