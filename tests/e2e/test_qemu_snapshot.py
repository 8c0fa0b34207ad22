# SPDX-License-Identifier: LGPL-2.1-or-later
"""Snapshots of the QEMU driver, end to end, on real TCG guests.

The guest (guest.py) boots with virtbus.counter=1: it prints
VIRTBUS-GUEST-COUNT N on its serial console every second, N kept in guest
memory, so a guest reverted to an internal snapshot counts on from the
snapshot's N. With virtbus.scribble=vda it also writes "VIRTBUS-COUNT N" to
the start of its disk each second, which shows which image the guest writes.
"""

import os
import re
import subprocess
import time
import unittest

import dbus

from harness import (DOMAIN_IFACE, EV_DEFINED, EV_RESUMED, EV_STARTED, EV_STOPPED, EV_SUSPENDED, STARTED_BOOTED,
                     E2ETestCase)

SNAPSHOT_IFACE = "org.libvirt.DomainSnapshot"
FROM_SNAPSHOT = {EV_STARTED: 3, EV_SUSPENDED: 5, EV_RESUMED: 2, EV_STOPPED: 6, EV_DEFINED: 3}
REDEFINE, CREATE_CURRENT, DISK_ONLY = 1, 2, 16
LIST_ROOTS = LIST_DESCENDANTS = 1
LIST_LEAVES, LIST_DISK_ONLY, LIST_INTERNAL, LIST_EXTERNAL = 4, 128, 256, 512
DELETE_CHILDREN, DELETE_METADATA_ONLY, DELETE_CHILDREN_ONLY = 1, 2, 4
UNDEFINE_SNAPSHOTS_METADATA = 2
REVERT_RUNNING = 1
RUNNING, SHUTOFF = 1, 5
COUNT = re.compile(r"VIRTBUS-GUEST-COUNT (\d+)")


def snapxml(name):
    return f"<domainsnapshot><name>{name}</name></domainsnapshot>"


class Snapshots(E2ETestCase):

    def define_guest(self, extra_cmdline="", raw_disk=False):
        """A guest with a qcow2 disk vda (and a raw vdb when asked)."""
        name = self.new_name("snap")
        image = str(self.env.guest_dir / f"{name}.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "8M"], check=True)
        devices = (f"    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                   f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>\n")
        if raw_disk:
            raw = str(self.env.guest_dir / f"{name}.raw")
            subprocess.run(["qemu-img", "create", "-q", "-f", "raw", raw, "1M"], check=True)
            devices += (f"    <disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                        f"<source file='{raw}'/><target dev='vdb' bus='virtio'/></disk>\n")
        path, name, log = self.define(name, memory_mib=96, extra_devices=devices,
                                      cmdline_extra=("virtbus.counter=1 " + extra_cmdline).strip())
        self.addCleanup(self.undefine_all, path)
        return path, name, log, image

    def undefine_all(self, path):
        try:
            self.env.dom(path, "Destroy", "u", 0)
        except dbus.DBusException:
            pass
        try:
            self.env.dom(path, "Undefine", "u", UNDEFINE_SNAPSHOTS_METADATA)
        except dbus.DBusException:
            pass

    def start(self, path, log):
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)

    def counts(self, log, offset=0):
        with open(log, "rb") as f:
            f.seek(offset)
            return [int(m) for m in COUNT.findall(f.read().decode(errors="replace"))]

    def wait_count(self, log, at_least, offset=0, timeout=90.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = self.counts(log, offset)
            if c and c[-1] >= at_least:
                return c
            time.sleep(0.1)
        self.fail(f"guest counter did not reach {at_least}: {self.counts(log, offset)[-3:]}")

    def mark(self):
        self.env.recorder.drain()
        return len(self.env.recorder.events)

    def snap(self, path, xml, flags=0):
        return str(self.env.dom(path, "SnapshotCreateXML", "su", xml, flags))

    def scall(self, spath, method, sig="", *args):
        return self.env.call(spath, SNAPSHOT_IFACE, method, sig, *args)

    def names(self, paths):
        return sorted(str(p).rsplit("_", 1)[-1] for p in paths)

    def qemu_img_tags(self, image):
        out = subprocess.run(["qemu-img", "snapshot", "-U", "-l", image], capture_output=True, text=True,
                             check=True).stdout
        return sorted(line.split()[1] for line in out.splitlines()[2:] if line.split())

    def disk_text(self, image, fmt="qcow2"):
        """What the guest last wrote to the start of its disk, as seen through `image`."""
        out = subprocess.run(["qemu-io", "-r", "-U", "-f", fmt, "-c", "read -v 0 32", image],
                             capture_output=True, text=True, check=True).stdout
        data = bytearray()
        for line in out.splitlines():
            words = line.split()
            if words and re.match(r"^[0-9a-f]{8}:$", words[0]):
                for w in words[1:17]:
                    if not re.fullmatch(r"[0-9a-f]{2}", w):
                        break
                    data.append(int(w, 16))
        text = data.decode(errors="replace")
        m = re.search(r"VIRTBUS-COUNT.(\d+)", text)
        return int(m.group(1)) if m else None

    # ---- internal snapshots of a running guest ----

    def test_internal_running_revert(self):
        path, name, log, image = self.define_guest()
        self.start(path, log)
        self.wait_count(log, 2)
        s1 = self.snap(path, snapxml("s1"))
        at_snapshot = self.counts(log)[-1]
        self.assertEqual(self.state(path)[0], RUNNING, "the guest keeps running")
        self.assertIn("s1", self.qemu_img_tags(image), "the snapshot is in the qcow2 image")
        xml = str(self.scall(s1, "GetXMLDesc", "u", 0))
        self.assertIn("<state>running</state>", xml)
        self.assertIn("<memory snapshot='internal'", xml)
        self.wait_count(log, at_snapshot + 4)
        before = self.counts(log)[-1]
        offset = os.path.getsize(log)
        mark = self.mark()
        self.scall(s1, "Revert", "u", 0)
        self.wait_event(path, EV_SUSPENDED, FROM_SNAPSHOT[EV_SUSPENDED], start=mark, timeout=60)
        self.wait_event(path, EV_RESUMED, FROM_SNAPSHOT[EV_RESUMED], start=mark, timeout=60)
        self.wait_event(path, EV_DEFINED, FROM_SNAPSHOT[EV_DEFINED], start=mark, timeout=60)
        self.assertEqual(self.state(path), (RUNNING, 4), "running/from snapshot")
        after = self.wait_count(log, 0, offset)
        self.assertLess(after[0], before, f"the counter jumps back (was {before}, now {after})")
        self.assertLessEqual(after[0], at_snapshot + 2)
        self.assertTrue(self.scall(s1, "IsCurrent", "u", 0))

        # ---- bad input: clear errors, guest untouched ----
        with self.assertLibvirtError("cannot contain '/'"):
            self.snap(path, snapxml("a/b"))
        with self.assertLibvirtError("not allowed"):
            self.snap(path, snapxml(".."))
        with self.assertLibvirtError("XML"):
            self.snap(path, "<domainsnapshot><name>x</name>")
        with self.assertLibvirtError("already exists"):
            self.snap(path, snapxml("s1"))
        with self.assertLibvirtError("unsupported flags"):
            self.snap(path, snapxml("x"), 1 << 20)
        with self.assertLibvirtError("guest agent"):
            self.snap(path, snapxml("x"), DISK_ONLY | 64)
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", 0)), ["s1"])
        self.scall(s1, "Delete", "u", 0)
        self.assertNotIn("s1", self.qemu_img_tags(image), "Delete removed the data too")
        # The deleted snapshot's object is gone from the bus, and a lookup
        # by name says why.
        with self.assertRaises(dbus.DBusException):
            self.scall(s1, "Revert", "u", 0)
        with self.assertLibvirtError("no domain snapshot with matching name 's1'"):
            self.env.dom(path, "SnapshotLookupByName", "su", "s1", 0)
        with self.assertLibvirtError("does not have a current snapshot"):
            self.env.dom(path, "SnapshotCurrent", "u", 0)
        self.assertEqual(self.state(path)[0], RUNNING)
        last = self.counts(log)[-1]
        self.wait_count(log, last + 1)

    def test_raw_disk_refused(self):
        path, name, log, image = self.define_guest(raw_disk=True)
        with self.assertLibvirtError("internal snapshot for disk vdb unsupported for storage type raw"):
            self.snap(path, snapxml("r1"))
        self.assertEqual(self.qemu_img_tags(image), [], "nothing was taken of the qcow2 disk either")
        self.assertEqual(list(self.env.dom(path, "ListDomainSnapshots", "u", 0)), [])

    # ---- shut-off guests: the tree, persistence, delete ----

    def test_shutoff_tree_and_persistence(self):
        path, name, log, image = self.define_guest()
        a = self.snap(path, snapxml("a"))
        b = self.snap(path, snapxml("b"))
        c = self.snap(path, snapxml("c"))
        self.assertIn("<state>shutoff</state>", str(self.scall(a, "GetXMLDesc", "u", 0)))
        self.assertEqual(self.qemu_img_tags(image), ["a", "b", "c"])
        mark = self.mark()
        self.scall(a, "Revert", "u", 0)
        self.wait_event(path, EV_DEFINED, FROM_SNAPSHOT[EV_DEFINED], start=mark, timeout=60)
        self.assertEqual(self.state(path)[0], SHUTOFF)
        d = self.snap(path, snapxml("d"))
        self.assertEqual(str(self.scall(b, "GetParent", "u", 0)), a)
        self.assertEqual(str(self.scall(d, "GetParent", "u", 0)), a)
        with self.assertLibvirtError("does not have a parent"):
            self.scall(a, "GetParent", "u", 0)
        self.assertEqual(self.names(self.scall(a, "ListChildren", "u", 0)), ["b", "d"])
        self.assertEqual(self.names(self.scall(a, "ListChildren", "u", LIST_DESCENDANTS)), ["b", "c", "d"])
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", LIST_ROOTS)), ["a"])
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", LIST_LEAVES)), ["c", "d"])
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", LIST_INTERNAL)),
                         ["a", "b", "c", "d"])
        self.assertEqual(list(self.env.dom(path, "ListDomainSnapshots", "u", LIST_EXTERNAL)), [])
        self.assertEqual(str(self.env.dom(path, "SnapshotCurrent", "u", 0)), d)

        # The tree and the current snapshot survive a daemon restart.
        self.env.restart_daemon()
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", 0)), ["a", "b", "c", "d"])
        self.assertEqual(str(self.env.dom(path, "SnapshotCurrent", "u", 0)), d)
        self.assertEqual(str(self.scall(c, "GetParent", "u", 0)), b)

        # REDEFINE brings back metadata (and CURRENT makes it current).
        saved = str(self.scall(d, "GetXMLDesc", "u", 0))
        self.scall(d, "Delete", "u", DELETE_METADATA_ONLY)
        self.assertEqual(str(self.env.dom(path, "SnapshotCurrent", "u", 0)), a, "current moves to the parent")
        with self.assertLibvirtError("parent nope for moment d not found"):
            self.snap(path, saved.replace("<name>a</name>", "<name>nope</name>"), REDEFINE)
        self.assertEqual(self.snap(path, saved, REDEFINE | CREATE_CURRENT), d)
        self.assertEqual(str(self.env.dom(path, "SnapshotCurrent", "u", 0)), d)
        self.assertEqual(str(self.scall(d, "GetParent", "u", 0)), a)

        # Delete b alone: c moves up to a. METADATA_ONLY keeps the data.
        self.scall(b, "Delete", "u", 0)
        self.assertEqual(str(self.scall(c, "GetParent", "u", 0)), a)
        self.assertEqual(self.qemu_img_tags(image), ["a", "c", "d"])
        self.scall(c, "Delete", "u", DELETE_METADATA_ONLY)
        self.assertEqual(self.qemu_img_tags(image), ["a", "c", "d"], "metadata only: the data stays")
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", 0)), ["a", "d"])
        with self.assertLibvirtError("cannot delete inactive domain with 2 snapshots"):
            self.env.dom(path, "Undefine", "u", 0)
        self.scall(a, "Delete", "u", DELETE_CHILDREN_ONLY)
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", 0)), ["a"])
        self.assertEqual(str(self.env.dom(path, "SnapshotCurrent", "u", 0)), a, "current moves up")
        self.scall(a, "Delete", "u", DELETE_CHILDREN)
        self.assertEqual(list(self.env.dom(path, "ListDomainSnapshots", "u", 0)), [])
        self.assertEqual(self.qemu_img_tags(image), ["c"], "only the metadata-only deleted one's data is left")

    def test_shutoff_revert_restores_disk(self):
        path, name, log, image = self.define_guest("virtbus.scribble=vda")
        self.start(path, log)
        self.wait_count(log, 2)
        self.env.dom(path, "Destroy", "u", 0)
        self.wait_state(path, SHUTOFF)
        written = self.disk_text(image)
        self.assertIsNotNone(written, "the guest wrote its disk")
        off = self.snap(path, snapxml("off"))
        # The next boot (QEMU starts its serial log afresh) writes counts
        # from 0 again, up past the snapshot's: the disk changes.
        self.start(path, log)
        self.wait_count(log, written + 2)
        mark = self.mark()
        self.scall(off, "Revert", "u", 0)
        self.wait_event(path, EV_STOPPED, FROM_SNAPSHOT[EV_STOPPED], start=mark, timeout=60)
        self.assertEqual(self.state(path), (SHUTOFF, 7), "shut off/from snapshot")
        self.assertEqual(self.disk_text(image), written, "the disk is back to the snapshot")
        # RUNNING: reverted, then started from the snapshot's configuration.
        mark = self.mark()
        self.scall(off, "Revert", "u", REVERT_RUNNING)
        self.wait_event(path, EV_STARTED, FROM_SNAPSHOT[EV_STARTED], start=mark, timeout=60)
        self.assertEqual(self.state(path), (RUNNING, 4), "running/from snapshot")
        self.assertIsNotNone(self.env.qemu_pid(name), "a QEMU runs the guest")

    # ---- external disk-only snapshots ----

    def test_external_disk_only(self):
        path, name, log, image = self.define_guest("virtbus.scribble=vda")
        self.start(path, log)
        self.wait_count(log, 1)
        overlay = image[:-len(".qcow2")] + ".ext1"
        ext = self.snap(path, snapxml("ext1"), DISK_ONLY)
        info = subprocess.run(["qemu-img", "info", "-U", overlay], capture_output=True, text=True,
                              check=True).stdout
        self.assertIn(f"backing file: {image}", info)
        live = str(self.env.dom(path, "GetXMLDesc", "u", 0))
        self.assertRegex(live, f"<source file=.{re.escape(overlay)}.")
        self.assertRegex(live, f"(?s)<backingStore[^>]*>.*<source file=.{re.escape(image)}.", "the old image backs it")
        inactive = str(self.env.dom(path, "GetXMLDesc", "u", 2))
        self.assertRegex(inactive, f"<source file=.{re.escape(overlay)}.", "the definition follows")
        self.assertIn("<state>disk-snapshot</state>", str(self.scall(ext, "GetXMLDesc", "u", 0)))
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", LIST_DISK_ONLY)), ["ext1"])
        self.assertEqual(self.names(self.env.dom(path, "ListDomainSnapshots", "u", LIST_EXTERNAL)), ["ext1"])

        # The guest now writes the overlay; the old image stays as it was.
        base = self.disk_text(image)
        now = self.counts(log)[-1]
        self.wait_count(log, now + 3)
        deadline = time.monotonic() + 60
        while (self.disk_text(overlay) or -1) <= now and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertGreater(self.disk_text(overlay) or -1, now, "the overlay receives the guest's writes")
        self.assertEqual(self.disk_text(image), base, "the backing image no longer changes")

        with self.assertLibvirtError("already exists and is not a block device"):
            self.snap(path, "<domainsnapshot><name>ext2</name><disks><disk name='vda' snapshot='external'>"
                      f"<source file='{image}'/></disk></disks></domainsnapshot>", DISK_ONLY)
        with self.assertLibvirtError("revert to external snapshot not supported yet"):
            self.scall(ext, "Revert", "u", 0)
        with self.assertLibvirtError("deletion of 1 external disk snapshots not supported yet"):
            self.scall(ext, "Delete", "u", 0)
        self.scall(ext, "Delete", "u", DELETE_METADATA_ONLY)
        self.assertEqual(list(self.env.dom(path, "ListDomainSnapshots", "u", 0)), [])
        self.assertTrue(os.path.exists(overlay), "metadata only: the overlay stays")
        self.assertEqual(self.state(path)[0], RUNNING)


if __name__ == "__main__":
    unittest.main()
