# SPDX-License-Identifier: LGPL-2.1-or-later
"""Block jobs, resize and peeks of the QEMU driver, end to end.

One TCG guest with three disks made by qemu-img, each layer holding its
own data written by qemu-io:
  vda  qcow2 chain base <- mid <- top   (inactive commit, then pull)
  vdb  raw                              (peek, resize, throttled copy, copy + pivot)
  vdc  qcow2 chain base2 <- top2        (active commit + pivot)
  vdd  qcow2 chain c0 <- c1 <- c2 <- c3 with relative backing names
       (pull to a base keeping names relative, shallow commit named by
       index, shallow copy through BlockRebase, asynchronous pivot)
Before the guest starts, each chain is flattened with `qemu-img convert`;
after a job `qemu-img compare` checks that the guest-visible data is
unchanged. Images QEMU only reads (the base after an inactive commit) are
compared while the guest runs (-U); an image the guest runs on keeps
unflushed qcow2 metadata in QEMU's cache (libvirt does not flush either),
so those are compared once QEMU has stopped gracefully (Destroy GRACEFUL:
SIGTERM, QEMU flushes and closes its images). The guest itself never
writes to these disks.
"""

import json
import os
import re
import subprocess
import time

import dbus

from harness import EV_STARTED, STARTED_BOOTED, DOMAIN_IFACE, E2ETestCase, pump

PULL, COPY, COMMIT, ACTIVE_COMMIT = 1, 2, 3, 4
COMPLETED, FAILED, CANCELED, READY = 0, 1, 2, 3
COMMIT_SHALLOW, COMMIT_ACTIVE, COMMIT_RELATIVE = 1, 4, 8
REBASE_SHALLOW, REBASE_COPY, REBASE_RELATIVE = 1, 8, 16
ABORT_ASYNC, ABORT_PIVOT = 1, 2
SPEED_BYTES = 1
MEM_VIRTUAL, MEM_PHYSICAL = 1, 2
MIB = 1 << 20


def run(*argv):
    subprocess.run(list(argv), check=True, stdout=subprocess.DEVNULL)


class BlockJobs(E2ETestCase):

    def img(self, name):
        return str(self.env.guest_dir / name)

    def qcow2(self, path, backing=None, fmt="qcow2", size="16M"):
        argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
        if backing:
            argv += ["-b", backing, "-F", fmt]
        run(*argv, path, size)

    def write(self, path, fmt, pattern, offset, length):
        run("qemu-io", "-f", fmt, "-c", f"write -P {pattern} {offset} {length}", path)

    def compare(self, ref, image):
        r = subprocess.run(["qemu-img", "compare", "-U", ref, image], capture_output=True, text=True)
        if r.returncode != 0:
            info = subprocess.run(["qemu-img", "info", "-U", "--backing-chain", image], capture_output=True, text=True)
            dump = subprocess.run(["qemu-img", "map", "-U", image], capture_output=True, text=True)
            self.fail(f"{ref} vs {image}: {r.stdout}{r.stderr}\n{info.stdout}{dump.stdout}{dump.stderr}")

    def backing_name(self, image):
        """The backing file name as written in the image's header."""
        out = subprocess.run(["qemu-img", "info", "-U", "--output=json", image], capture_output=True, text=True,
                             check=True).stdout
        return json.loads(out).get("backing-filename")

    def flatten(self, image, ref):
        run("qemu-img", "convert", "-O", "raw", image, ref)

    def signals(self):
        got = []

        def handler(disk, typ, status, path=None):
            got.append((str(disk), int(typ), int(status)))
        match = self.env.bus.add_signal_receiver(handler, signal_name="BlockJob", dbus_interface=DOMAIN_IFACE,
                                                 path_keyword="path")
        self.addCleanup(match.remove)
        return got

    def wait_signal(self, got, want, timeout=60.0):
        deadline = time.monotonic() + timeout
        while want not in got:
            if time.monotonic() > deadline:
                self.fail(f"no BlockJob {want} within {timeout} s; got {got}\n{self.env.daemon.log_tail()}")
            pump(0.05)
        got.remove(want)

    def disk_xml(self, path, target, flags=0):
        xml = str(self.env.dom(path, "GetXMLDesc", "u", flags))
        for m in re.finditer(r"<disk .*?</disk>", xml, re.S):
            if f"dev='{target}'" in m.group(0):
                return m.group(0)
        self.fail(f"no disk {target} in {xml}")

    def setUp(self):
        super().setUp()
        self.base, self.mid, self.top = self.img("base.qcow2"), self.img("mid.qcow2"), self.img("top.qcow2")
        self.raw = self.img("data.raw")
        self.base2, self.top2 = self.img("base2.qcow2"), self.img("top2.qcow2")
        self.qcow2(self.base)
        self.write(self.base, "qcow2", "0x11", 0, "4M")
        self.qcow2(self.mid, self.base)
        self.write(self.mid, "qcow2", "0x22", "1M", "2M")
        self.qcow2(self.top, self.mid)
        self.write(self.top, "qcow2", "0x33", "2M", "512k")
        with open(self.raw, "wb") as f:
            f.write(os.urandom(8 * MIB))
        self.qcow2(self.base2)
        self.write(self.base2, "qcow2", "0x44", 0, "3M")
        self.qcow2(self.top2, self.base2)
        self.write(self.top2, "qcow2", "0x55", "1M", "1M")
        self.chain = [self.img(f"c{i}.qcow2") for i in range(4)]
        self.qcow2(self.chain[0])
        self.write(self.chain[0], "qcow2", "0x60", 0, "4M")
        for i in range(1, 4):
            # Relative names: resolved against the image's own directory.
            self.qcow2(self.chain[i], os.path.basename(self.chain[i - 1]))
            self.write(self.chain[i], "qcow2", f"0x6{i}", f"{i}M", "1M")
        self.ref_a, self.ref_b, self.ref_c = self.img("a.ref"), self.img("b.ref"), self.img("c.ref")
        self.ref_d = self.img("d.ref")
        self.flatten(self.chain[3], self.ref_d)
        self.flatten(self.top, self.ref_a)
        self.flatten(self.raw, self.ref_b)
        self.flatten(self.top2, self.ref_c)

    def define_guest(self):
        def disk(path, fmt, dev):
            return (f"    <disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
                    f"<source file='{path}'/><target dev='{dev}' bus='virtio'/></disk>\n")
        extra = (disk(self.top, "qcow2", "vda") + disk(self.raw, "raw", "vdb") + disk(self.top2, "qcow2", "vdc") +
                 disk(self.chain[3], "qcow2", "vdd"))
        return self.define(extra_devices=extra)

    def test_block_jobs(self):
        path, name, log = self.define_guest()
        dom = lambda *a, **kw: self.env.dom(path, *a, **kw)  # noqa: E731

        # Not running: every block operation is refused.
        with self.assertLibvirtError("domain is not running"):
            dom("BlockPull", "stu", "vda", 0, 0)
        dom("Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)
        got = self.signals()
        # The chains as QEMU opened them, depth as index, as libvirt shows them.
        xml = re.sub(r">\s+<", "><", self.disk_xml(path, "vda"))
        self.assertIn(f"<source file='{self.top}'/><backingStore type='file' index='1'><format type='qcow2'/>"
                      f"<source file='{self.mid}'/><backingStore type='file' index='2'><format type='qcow2'/>"
                      f"<source file='{self.base}'/><backingStore/></backingStore></backingStore>", xml)
        self.assertIn("<backingStore/>", self.disk_xml(path, "vdb"))

        # ---- bad input ----
        with self.assertLibvirtError(r"disk 'vdz' not found in domain"):
            dom("BlockPull", "stu", "vdz", 0, 0)
        with self.assertLibvirtError(r"active layer requires active flag"):
            dom("BlockCommit", "ssstu", "vda", "", "", 0, 0)
        with self.assertLibvirtError(r"could not find image '/nowhere.qcow2'"):
            dom("BlockCommit", "ssstu", "vda", "/nowhere.qcow2", self.mid, 0, 0)
        with self.assertLibvirtError(r"disk vda does not have an active block job"):
            dom("BlockJobAbort", "su", "vda", 0)
        with self.assertLibvirtError(r"unsupported flags \(0x2\)"):
            dom("BlockCommit", "ssstu", "vda", "", self.mid, 0, 2)  # DELETE

        # ---- inactive commit: mid into base; top now sits on base ----
        dom("BlockCommit", "ssstu", "vda", "", self.mid, 0, 0)
        self.wait_signal(got, ("vda", COMMIT, COMPLETED))
        self.compare(self.ref_a, self.top)
        xml = self.disk_xml(path, "vda")
        self.assertIn(f"file='{self.base}'", xml)
        self.assertNotIn(self.mid, xml)
        self.assertEqual(dom("GetBlockJobInfo", "su", "vda", 0), (0, 0, 0, 0))

        # ---- pull: everything into top, no backing left ----
        dom("BlockPull", "stu", self.top, 0, 0)  # named by its source
        self.wait_signal(got, ("vda", PULL, COMPLETED))
        after_stop = [(self.ref_a, self.top)]
        xml = self.disk_xml(path, "vda")
        self.assertNotIn(self.base, xml)
        info = subprocess.run(["qemu-img", "info", "-U", self.top], capture_output=True, text=True).stdout
        self.assertNotIn("backing file", info)

        # ---- active commit: top2 into base2, READY, then pivot ----
        dom("BlockCommit", "ssstu", "vdc", "", "", 0, COMMIT_ACTIVE)
        self.wait_signal(got, ("vdc", ACTIVE_COMMIT, READY))
        typ, _, cur, end = dom("GetBlockJobInfo", "su", "vdc", 0)
        self.assertEqual((int(typ), int(cur)), (ACTIVE_COMMIT, int(end)))
        with self.assertLibvirtError(r"disk 'vdc' already in active block job"):
            dom("BlockPull", "stu", "vdc", 0, 0)
        dom("BlockJobAbort", "su", "vdc", ABORT_PIVOT)
        self.wait_signal(got, ("vdc", ACTIVE_COMMIT, COMPLETED))
        after_stop.append((self.ref_c, self.base2))
        self.assertIn(f"file='{self.base2}'", self.disk_xml(path, "vdc"))
        self.assertIn(f"file='{self.base2}'", self.disk_xml(path, "vdc", 2))  # the definition too

        # ---- peeks (vdb is raw) ----
        data = bytes(dom("BlockPeek", "sttu", "vdb", 4096, 512, 0))
        with open(self.raw, "rb") as f:
            f.seek(4096)
            self.assertEqual(data, f.read(512))
        with open(self.raw, "rb") as f:
            self.assertEqual(bytes(dom("BlockPeek", "sttu", self.raw, 0, 16, 0)), f.read(16))
        with self.assertLibvirtError(r"only supported for disk with 'raw' format not 'qcow2'"):
            dom("BlockPeek", "sttu", "vda", 0, 16, 0)
        with self.assertLibvirtError(r"too large"):
            dom("BlockPeek", "sttu", "vdb", 0, 65537, 0)
        with self.assertLibvirtError(r"has only 16 bytes available"):
            dom("BlockPeek", "sttu", "vdb", 8 * MIB - 16, 32, 0)
        mem = bytes(dom("MemoryPeek", "ttu", 0, 4096, MEM_PHYSICAL))
        self.assertEqual(len(mem), 4096)
        self.assertNotEqual(mem, bytes(4096))  # the real-mode vector table
        self.assertEqual(bytes(dom("MemoryPeek", "ttu", 0, 4096, MEM_PHYSICAL)), mem)
        for flags, msg in ((0, "must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL"),
                           (3, "mutually exclusive"), (4, "unsupported flags")):
            with self.assertLibvirtError(msg):
                dom("MemoryPeek", "ttu", 0, 16, flags)
        with self.assertLibvirtError("too large"):
            dom("MemoryPeek", "ttu", 0, 65537, MEM_PHYSICAL)

        # ---- resize (KiB, then bytes) ----
        dom("BlockResize", "stu", "vdb", 12 * 1024, 0)
        self.assertEqual(os.path.getsize(self.raw), 12 * MIB)
        dom("BlockResize", "stu", "vdb", 14 * MIB, 1)
        self.assertEqual(os.path.getsize(self.raw), 14 * MIB)
        st = {str(k): v for k, v in dom("GetStats", "uu", 32, 0).items()}
        idx = [k for k, v in st.items() if k.endswith(".name") and str(v) == "vdb"][0].split(".")[1]
        self.assertEqual(int(st[f"block.{idx}.capacity"]), 14 * MIB)
        self.assertIn(f"block.{idx}.physical", st)
        self.assertIn(f"block.{idx}.allocation", st)
        with self.assertLibvirtError(r"disk 'vdz' was not found"):
            dom("BlockResize", "stu", "vdz", 1024, 0)

        # ---- a throttled copy: speed, progress, abort ----
        dest = self.img("copy.qcow2")
        destxml = f"<disk type='file'><driver type='qcow2'/><source file='{dest}'/></disk>"
        # A small buffer, so that the limit holds from the first chunk on
        # (QEMU's default 16 MiB buffer copies this disk before it throttles).
        slow = dbus.Dictionary({"bandwidth": dbus.UInt64(64 * 1024), "buf-size": dbus.UInt64(64 * 1024),
                                "granularity": dbus.UInt32(64 * 1024)}, signature="sv")
        dom("BlockCopy", "ssa{sv}u", "vdb", destxml, slow, 0)
        typ, bw, cur, end = dom("GetBlockJobInfo", "su", "vdb", SPEED_BYTES)
        self.assertEqual((int(typ), int(bw)), (COPY, 64 * 1024))
        self.assertLess(int(cur), int(end))
        dom("BlockJobSetSpeed", "stu", "vdb", 2, 0)
        self.assertEqual(int(dom("GetBlockJobInfo", "su", "vdb", 0)[1]), 2)
        dom("BlockJobSetSpeed", "stu", "vdb", 100 * 1024, SPEED_BYTES)
        self.assertEqual(int(dom("GetBlockJobInfo", "su", "vdb", SPEED_BYTES)[1]), 100 * 1024)
        with self.assertLibvirtError(r"not ready for pivot yet"):
            dom("BlockJobAbort", "su", "vdb", ABORT_PIVOT)
        with self.assertLibvirtError(r"already in active block job"):
            dom("BlockCopy", "ssa{sv}u", "vdb", destxml, slow, 0)
        # A restarted virtbusd finds the job QEMU still runs.
        self.env.restart_daemon(kill=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                typ, bw, cur, end = dom("GetBlockJobInfo", "su", "vdb", SPEED_BYTES)
                if int(typ) == COPY or time.monotonic() > deadline:
                    break
            except dbus.DBusException:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        self.assertEqual((int(typ), int(bw)), (COPY, 100 * 1024))
        dom("BlockJobAbort", "su", "vdb", 0)
        self.wait_signal(got, ("vdb", COPY, CANCELED))
        self.assertNotIn(("vdb", COPY, READY), got)  # it was throttled all along
        self.assertIn(f"file='{self.raw}'", self.disk_xml(path, "vdb"))

        # ---- a copy to the end, then pivot ----
        os.unlink(dest)
        dom("BlockCopy", "ssa{sv}u", "vdb", destxml, dbus.Dictionary({}, signature="sv"), 0)
        self.wait_signal(got, ("vdb", COPY, READY))
        dom("BlockJobAbort", "su", "vdb", ABORT_PIVOT)
        self.wait_signal(got, ("vdb", COPY, COMPLETED))
        after_stop.append((self.ref_b, dest))
        xml = self.disk_xml(path, "vdb")
        self.assertIn(f"file='{dest}'", xml)
        self.assertIn("type='qcow2'", xml)
        # The old image is no disk of the guest any more.
        with self.assertLibvirtError(r"not found in domain"):
            dom("BlockPeek", "sttu", self.raw, 0, 16, 0)

        # ---- relative names, indexes, a shallow copy, an asynchronous pivot ----
        c0, c1, c2, c3 = self.chain
        dom("BlockRebase", "sstu", "vdd", c1, 0, REBASE_RELATIVE)
        self.wait_signal(got, ("vdd", PULL, COMPLETED))
        self.assertEqual(self.backing_name(c3), "c1.qcow2")
        self.assertNotIn(c2, self.disk_xml(path, "vdd"))
        self.assertIn(f"<source file='{c3}'/>", self.disk_xml(path, "vdd"))
        with self.assertLibvirtError(r"commit of 'vdd' active layer requires active flag"):
            dom("BlockCommit", "ssstu", "vdd", "vdd[2]", c3, 0, COMMIT_SHALLOW)
        with self.assertLibvirtError(r"could not find image 'vdd\[5\]' in chain for 'vdd'"):
            dom("BlockCommit", "ssstu", "vdd", "", "vdd[5]", 0, 0)
        with self.assertLibvirtError(r"relative backing during pull requires a base image"):
            dom("BlockRebase", "sstu", "vdd", "", 0, REBASE_RELATIVE)
        dom("BlockCommit", "ssstu", "vdd", "", "vdd[1]", 0, COMMIT_SHALLOW | COMMIT_RELATIVE)
        self.wait_signal(got, ("vdd", COMMIT, COMPLETED))
        self.assertEqual(self.backing_name(c3), "c0.qcow2")
        xml = re.sub(r">\s+<", "><", self.disk_xml(path, "vdd"))
        self.assertIn(f"<source file='{c3}'/><backingStore type='file' index='1'><format type='qcow2'/>"
                      f"<source file='{c0}'/><backingStore/></backingStore>", xml)
        shallow = self.img("shallow.qcow2")
        dom("BlockRebase", "sstu", "vdd", shallow, 0, REBASE_COPY | REBASE_SHALLOW)
        self.wait_signal(got, ("vdd", COPY, READY))
        dom("BlockJobAbort", "su", "vdd", ABORT_PIVOT | ABORT_ASYNC)
        self.wait_signal(got, ("vdd", COPY, COMPLETED))
        xml = self.disk_xml(path, "vdd")
        self.assertIn(f"file='{shallow}'", xml)
        self.assertIn(f"source file='{c0}'", xml)  # the copy sits on the old backing
        after_stop.append((self.ref_d, shallow))

        # ---- the data, once QEMU has flushed and closed the images ----
        dom("Destroy", "u", 1)
        self.wait_state(path, 5)
        for ref, image in after_stop:
            self.compare(ref, image)
        info = subprocess.run(["qemu-img", "info", self.base2], capture_output=True, text=True).stdout
        self.assertNotIn("backing file", info)
