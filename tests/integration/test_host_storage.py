# SPDX-License-Identifier: LGPL-2.1-or-later
"""The QEMU connection's storage driver (drivers/storage/) on real files,
driven through D-Bus: dir pools, raw and qcow2 volumes made, cloned,
resized, wiped and deleted (contents checked with qemu-img and by reading
the files), refresh of files made outside virtbus, the path-security
rules, upload/download through fds (org.virtbus.StorageVolTransfer), and
persistence across a daemon restart."""

import os
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import dbus

import harness as h

QEMU = "/org/libvirt/QEMU"
POOL_IFACE = "org.libvirt.StoragePool"
VOL_IFACE = "org.libvirt.StorageVol"
XFER_IFACE = "org.virtbus.StorageVolTransfer"
POOL_DEFINED, POOL_UNDEFINED, POOL_STARTED, POOL_STOPPED, POOL_CREATED, POOL_DELETED = range(6)
MiB = 1 << 20


def pool_xml(name, target, ptype="dir", source=""):
    return (f"<pool type='{ptype}'><name>{name}</name>{source}"
            f"<target><path>{target}</path></target></pool>")


def vol_xml(name, capacity, fmt="raw", allocation=None, extra=""):
    alloc = f"<allocation>{allocation}</allocation>" if allocation is not None else ""
    return (f"<volume><name>{name}</name><capacity>{capacity}</capacity>{alloc}"
            f"<target><format type='{fmt}'/>{extra}</target></volume>")


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    import json
    return json.loads(out)


class HostStorageCase(h.DaemonTestCase):
    """Helpers shared by the host storage tests."""

    def qconnect(self, method, signature="", *args):
        return self.call(QEMU, h.CONNECT_IFACE, method, signature, *args)

    def pool(self, path, method, signature="", *args):
        return self.call(path, POOL_IFACE, method, signature, *args)

    def vol(self, path, method, signature="", *args):
        return self.call(path, VOL_IFACE, method, signature, *args, timeout=120)

    def scratch_dir(self):
        d = tempfile.TemporaryDirectory(prefix="virtbus-pool-")
        self.addCleanup(d.cleanup)
        return d.name

    def make_pool(self, name, target, start=True):
        path = str(self.qconnect("StoragePoolDefineXML", "su", pool_xml(name, target), 0))
        self.addCleanup(self._drop_pool, path)
        if start:
            self.pool(path, "Build", "u", 0)
            self.pool(path, "Create", "u", 0)
        return path

    def _drop_pool(self, path):
        for method in ("Destroy", "Undefine"):
            try:
                self.pool(path, method)
            except dbus.exceptions.DBusException:
                pass

    def create_vol(self, pool, xml, flags=0):
        return str(self.pool(pool, "StorageVolCreateXML", "su", xml, flags))

    def vol_names(self, pool):
        return sorted(str(self.call(p, h.PROPS_IFACE, "Get", "ss", VOL_IFACE, "Name"))
                      for p in self.pool(pool, "ListStorageVolumes", "u", 0))

    def vol_xml_of(self, path):
        return ET.fromstring(str(self.vol(path, "GetXMLDesc", "u", 0)))

    def progress(self, vol, operation):
        """(done, total) of the Progress signals of `vol` for `operation`."""
        self.collector.drain()
        return [(int(s[1]), int(s[2])) for s in self.collector.of("Progress", path=vol, interface=XFER_IFACE)
                if str(s[0]) == operation]

    def assertLibvirtError(self, fragment):
        return self.assertRaisesRegex(dbus.exceptions.DBusException, fragment)


class TestDirPool(HostStorageCase):

    def test_pool_lifecycle_and_refresh(self):
        target = os.path.join(self.scratch_dir(), "pool")
        self.collector.clear()
        path = self.make_pool("life", target, start=False)
        self.assertFalse(os.path.exists(target))
        self.pool(path, "Build", "u", 0)
        self.assertTrue(os.path.isdir(target))
        self.assertEqual(os.stat(target).st_mode & 0o777, 0o711)
        self.pool(path, "Create", "u", 0)
        self.assertTrue(bool(self.call(path, h.PROPS_IFACE, "Get", "ss", POOL_IFACE, "Active")))
        state, cap, alloc, avail = self.pool(path, "GetInfo")
        st = os.statvfs(target)
        self.assertEqual(int(state), 2)
        self.assertEqual(int(cap), st.f_blocks * st.f_frsize)
        self.assertAlmostEqual(int(avail), st.f_bavail * st.f_frsize, delta=64 * MiB)
        self.assertEqual(self.vol_names(path), [])

        # Files made outside virtbus appear on Refresh, with the Refresh signal.
        Path(target, "outside.img").write_bytes(b"x" * 4096)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", os.path.join(target, "made.qcow2"), "1G"],
                       check=True)
        self.pool(path, "Refresh", "u", 0)
        self.assertEqual(self.vol_names(path), ["made.qcow2", "outside.img"])
        self.collector.wait(lambda _: self.collector.of("Refresh", path=path, interface=POOL_IFACE))
        q = self.vol_xml_of(str(self.pool(path, "StorageVolLookupByName", "s", "made.qcow2")))
        self.assertEqual(q.find("target/format").get("type"), "qcow2")
        self.assertEqual(int(q.findtext("capacity")), 1 << 30)

        self.pool(path, "Destroy")
        with self.assertLibvirtError("storage pool 'life' is not active"):
            self.pool(path, "ListStorageVolumes", "u", 0)
        with self.assertLibvirtError("is not empty|Directory not empty|failed to remove pool"):
            self.pool(path, "Delete", "u", 0)
        for f in os.listdir(target):
            os.unlink(os.path.join(target, f))
        self.pool(path, "Delete", "u", 0)
        self.assertFalse(os.path.exists(target))
        self.pool(path, "Undefine")
        self.collector.drain()
        events = [(str(s[0]), int(s[1])) for s in self.collector.of("StoragePoolEvent", path=QEMU,
                                                                    interface=h.CONNECT_IFACE)]
        self.assertEqual([e for p, e in events if p == path],
                         [POOL_DEFINED, POOL_CREATED, POOL_STARTED, POOL_STOPPED, POOL_DELETED, POOL_UNDEFINED])

    def test_raw_and_qcow2_volumes(self):
        target = self.scratch_dir()
        pool = self.make_pool("vols", target)
        sparse = self.create_vol(pool, vol_xml("sparse.img", 64 * MiB, allocation=0))
        full = self.create_vol(pool, vol_xml("full.img", 8 * MiB))
        self.assertEqual(str(self.call(sparse, h.PROPS_IFACE, "Get", "ss", VOL_IFACE, "Path")),
                         os.path.join(target, "sparse.img"))
        st = os.stat(os.path.join(target, "sparse.img"))
        self.assertEqual(st.st_size, 64 * MiB)
        self.assertLess(st.st_blocks * 512, MiB)
        self.assertGreaterEqual(os.stat(os.path.join(target, "full.img")).st_blocks * 512, 8 * MiB)
        vtype, cap, alloc = self.vol(sparse, "GetInfo", "u", 0)
        self.assertEqual((int(vtype), int(cap)), (0, 64 * MiB))
        self.assertEqual(int(alloc), st.st_blocks * 512)
        self.assertEqual(int(self.vol(sparse, "GetInfo", "u", 1)[2]), 64 * MiB)  # GET_PHYSICAL

        q = self.create_vol(pool, vol_xml("disk.qcow2", 256 * MiB, "qcow2",
                                          extra="<clusterSize unit='KiB'>128</clusterSize>"))
        info = qemu_img_info(os.path.join(target, "disk.qcow2"))
        self.assertEqual((info["format"], info["virtual-size"], info["cluster-size"]),
                         ("qcow2", 256 * MiB, 128 * 1024))
        x = self.vol_xml_of(q)
        self.assertEqual(x.find("target/format").get("type"), "qcow2")
        self.assertEqual(x.findtext("target/compat"), "1.1")

        over = self.create_vol(pool, "<volume><name>over.qcow2</name><capacity>0</capacity><target>"
                                     "<format type='qcow2'/></target><backingStore>"
                                     f"<path>{target}/disk.qcow2</path><format type='qcow2'/>"
                                     "</backingStore></volume>")
        ox = self.vol_xml_of(over)
        self.assertEqual(ox.findtext("backingStore/path"), f"{target}/disk.qcow2")
        self.assertEqual(int(ox.findtext("capacity")), 256 * MiB)

        with self.assertLibvirtError("storage volume already exists: 'full.img'"):
            self.create_vol(pool, vol_xml("full.img", MiB))
        self.assertEqual(self.vol_names(pool), ["disk.qcow2", "full.img", "over.qcow2", "sparse.img"])
        self.assertEqual(str(self.qconnect("StorageVolLookupByPath", "s", os.path.join(target, "full.img"))), full)

    def test_clone_resize_wipe_delete(self):
        target = self.scratch_dir()
        pool = self.make_pool("ops", target)
        src = self.create_vol(pool, vol_xml("src.img", 4 * MiB, allocation=0))
        with open(os.path.join(target, "src.img"), "r+b") as f:
            f.seek(MiB)
            f.write(os.urandom(256 * 1024))
        key = str(self.call(src, h.PROPS_IFACE, "Get", "ss", VOL_IFACE, "Key"))
        clone = str(self.pool(pool, "StorageVolCreateXMLFrom", "ssu",
                              vol_xml("copy.qcow2", 0, "qcow2"), key, 0))
        self.assertEqual(qemu_img_info(os.path.join(target, "copy.qcow2"))["format"], "qcow2")
        subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", os.path.join(target, "src.img"),
                        os.path.join(target, "copy.qcow2")], check=True, capture_output=True)

        # Resize: grow, refuse to shrink without the flag, shrink with it.
        self.vol(clone, "Resize", "tu", 8 * MiB, 0)
        self.assertEqual(qemu_img_info(os.path.join(target, "copy.qcow2"))["virtual-size"], 8 * MiB)
        with self.assertLibvirtError("unless shrink flag explicitly specified"):
            self.vol(clone, "Resize", "tu", 2 * MiB, 0)
        self.vol(clone, "Resize", "tu", 2 * MiB, 2 | 4)  # DELTA | SHRINK: 8 - 2 = 6 MiB
        self.assertEqual(qemu_img_info(os.path.join(target, "copy.qcow2"))["virtual-size"], 6 * MiB)
        self.vol(src, "Resize", "tu", 6 * MiB, 0)
        self.assertEqual(os.stat(os.path.join(target, "src.img")).st_size, 6 * MiB)

        # Wipes: zero, then DoD (random, 0x00, 0xff, verify) ends in 0xff.
        self.vol(src, "Wipe", "uu", 0, 0)
        self.assertEqual(Path(target, "src.img").read_bytes(), bytes(6 * MiB))
        self.collector.clear()
        self.vol(src, "Wipe", "uu", 2, 0)
        self.assertEqual(Path(target, "src.img").read_bytes(), b"\xff" * (6 * MiB))
        # Progress counts every pass: random, 0x00, 0xff and the verify.
        self.collector.wait(lambda _: self.progress(src, "wipe"))
        self.assertEqual(self.progress(src, "wipe")[-1], (24 * MiB, 24 * MiB))
        self.vol(src, "Wipe", "uu", 3, 0)  # BSI: the last of its 9 passes is 0x7f
        self.assertEqual(Path(target, "src.img").read_bytes(), b"\x7f" * (6 * MiB))
        with self.assertLibvirtError("wiping algorithm 42 not supported"):
            self.vol(src, "Wipe", "uu", 42, 0)

        self.collector.clear()
        self.vol(src, "Delete", "u", 0)
        self.assertFalse(os.path.exists(os.path.join(target, "src.img")))
        self.assertNotIn("src.img", self.vol_names(pool))
        with self.assertLibvirtError("Unknown"):
            self.vol(src, "GetInfo", "u", 0)

    def test_upload_download(self):
        target = self.scratch_dir()
        pool = self.make_pool("xfer", target)
        vol = self.create_vol(pool, vol_xml("data.img", 100 * MiB, allocation=0))
        data = os.urandom(MiB)
        src = os.path.join(self.scratch_dir(), "in.img")
        with open(src, "wb") as f:  # 100 MiB: data, a 98 MiB hole, data
            f.write(data)
            f.seek(99 * MiB)
            f.write(data)
        self.collector.clear()
        with open(src, "rb") as f:
            self.call(vol, XFER_IFACE, "Upload", "httu", f.fileno(), 0, 0, 1, timeout=120)
        self.collector.wait(lambda _: self.progress(vol, "upload"))
        self.assertEqual(self.progress(vol, "upload")[-1], (100 * MiB, 100 * MiB))
        dest = os.path.join(target, "data.img")
        self.assertEqual(subprocess.run(["cmp", src, dest]).returncode, 0)
        self.assertLess(os.stat(dest).st_blocks * 512, 4 * MiB)  # holes kept
        out = os.path.join(self.scratch_dir(), "out.img")
        with open(out, "wb") as f:
            self.call(vol, XFER_IFACE, "Download", "httu", f.fileno(), 0, 0, 1, timeout=120)
        self.assertEqual(subprocess.run(["cmp", src, out]).returncode, 0)
        self.assertLess(os.stat(out).st_blocks * 512, 4 * MiB)

        # A pipe: partial write at an offset.
        r, w = os.pipe()
        os.write(w, b"hello")
        os.close(w)
        self.call(vol, XFER_IFACE, "Upload", "httu", r, 10, 0, 0)
        os.close(r)
        with open(dest, "rb") as f:
            f.seek(10)
            self.assertEqual(f.read(5), b"hello")
        # Past the capacity: refused before a byte is written.
        with open(src, "rb") as f:
            with self.assertLibvirtError("past the capacity"):
                self.call(vol, XFER_IFACE, "Upload", "httu", f.fileno(), 50 * MiB, 0, 0)
        self.assertEqual(os.stat(dest).st_size, 100 * MiB)


class TestEncryptedVolumes(HostStorageCase):
    """A private secret's value cannot be read over the bus, yet the storage
    driver uses it: it is the passphrase of a LUKS volume."""

    def test_luks_volume_from_a_private_secret(self):
        uuid = h.new_uuid()
        secret = str(self.qconnect("SecretDefineXML", "su",
                                   f"<secret ephemeral='no' private='yes'><uuid>{uuid}</uuid>"
                                   "<usage type='volume'><volume>/luks.img</volume></usage></secret>", 0))
        self.addCleanup(lambda: self.call(secret, "org.libvirt.Secret", "Undefine"))
        passphrase = b"correct horse battery staple"
        self.call(secret, "org.libvirt.Secret", "SetValue", "ayu", dbus.ByteArray(passphrase), 0)
        with self.assertLibvirtError("secret is private"):
            self.call(secret, "org.libvirt.Secret", "GetValue", "u", 0)
        target = self.scratch_dir()
        pool = self.make_pool("enc", target)
        enc = f"<encryption format='luks'><secret type='passphrase' uuid='{uuid}'/></encryption>"
        self.create_vol(pool, vol_xml("luks.img", 16 * MiB, extra=enc))
        self.create_vol(pool, vol_xml("luks.qcow2", 16 * MiB, "qcow2", extra=enc))
        image = os.path.join(target, "luks.img")
        self.assertEqual(qemu_img_info(image)["format"], "luks")
        self.assertTrue(qemu_img_info(os.path.join(target, "luks.qcow2"))["encrypted"])
        self.assertEqual(sorted(os.listdir(target)), ["luks.img", "luks.qcow2"])

        out = os.path.join(self.scratch_dir(), "plain.raw")

        def opens(secret_text):  # decrypting needs the key slot the passphrase unlocks
            return subprocess.run(["qemu-img", "convert", "--object", f"secret,id=s,data={secret_text}",
                                   "--image-opts", f"driver=luks,key-secret=s,file.filename={image}",
                                   "-O", "raw", out], capture_output=True, text=True).returncode == 0
        self.assertTrue(opens(passphrase.decode()))
        self.assertFalse(opens("wrong passphrase"))
        with self.assertLibvirtError("no secret with matching uuid|Secret not found"):
            self.create_vol(pool, vol_xml("nokey.img", MiB, extra=enc.replace(uuid, h.new_uuid())))
        self.assertFalse(os.path.exists(os.path.join(target, "nokey.img")))


class TestPathSecurity(HostStorageCase):

    def test_names_are_never_paths(self):
        target = self.scratch_dir()
        pool = self.make_pool("sec", target)
        for bad in ("../escape.img", "a/b", "..", "."):
            with self.assertLibvirtError("name|cannot contain"):
                self.create_vol(pool, vol_xml(bad, MiB))
        self.assertEqual(os.listdir(os.path.dirname(target)).count("escape.img"), 0)
        self.assertEqual(os.listdir(target), [])

    def test_symlinks_out_of_the_pool_are_not_volumes(self):
        target = self.scratch_dir()
        outside = os.path.join(self.scratch_dir(), "secret.img")
        Path(outside).write_bytes(b"keep me")
        os.symlink(outside, os.path.join(target, "link.img"))
        pool = self.make_pool("links", target)
        self.assertEqual(self.vol_names(pool), [])
        # A planted symlink is never written through by a create either.
        with self.assertLibvirtError("already exists"):
            self.create_vol(pool, vol_xml("link.img", MiB))
        self.assertEqual(Path(outside).read_bytes(), b"keep me")

    def test_bad_input_changes_nothing(self):
        target = self.scratch_dir()
        pool = self.make_pool("bad", target)
        free = int(self.pool(pool, "GetInfo")[3])
        with self.assertLibvirtError("Not enough space left"):
            self.create_vol(pool, vol_xml("huge.img", free * 2))
        with self.assertLibvirtError("not supported|Unknown|unknown"):
            self.create_vol(pool, vol_xml("odd.img", MiB, "cloop"))
        with self.assertLibvirtError("XML|xml|parse"):
            self.create_vol(pool, "<volume><name>x</name>")
        with self.assertLibvirtError("unsupported flags"):
            self.create_vol(pool, vol_xml("f.img", MiB), 0x80)
        self.assertEqual(os.listdir(target), [])
        # A sparse volume larger than the free space is thin provisioning.
        self.create_vol(pool, vol_xml("thin.img", free * 2, allocation=0))


class TestPersistence(HostStorageCase):

    def test_restart_keeps_pools_running(self):
        target = self.scratch_dir()
        pool = self.make_pool("keep", target)
        self.create_vol(pool, vol_xml("a.img", MiB))
        self.call(pool, h.PROPS_IFACE, "Set", "ssv", POOL_IFACE, "Autostart", dbus.Boolean(True))
        cfg = Path(self.private_bus.tmpdir.name) / "qemu" / "storage"
        self.assertTrue((cfg / "keep.xml").exists())
        self.assertTrue((cfg / "autostart" / "keep.xml").is_symlink())
        type(self)._restart()
        self.assertTrue(bool(self.call(pool, h.PROPS_IFACE, "Get", "ss", POOL_IFACE, "Active")))
        self.assertEqual(self.vol_names(pool), ["a.img"])

    @classmethod
    def _restart(cls):
        problems = cls.daemon.stop(cls.bus)
        if problems:
            raise AssertionError("; ".join(problems))
        cls.daemon = h.Daemon(cls.private_bus.address, cls.private_bus.tmpdir.name, cls.daemon_wrapper,
                              cls.daemon_env)
        cls.daemon.wait_for_name(cls.bus)


if __name__ == "__main__":
    unittest.main()


class LoopDevice:
    """A loop device over a sparse file, with partition scanning."""

    def __init__(self, size):
        self.tmp = tempfile.TemporaryDirectory(prefix="virtbus-loop-")
        self.file = os.path.join(self.tmp.name, "disk.img")
        with open(self.file, "wb") as f:
            f.truncate(size)
        self.dev = subprocess.run(["losetup", "--find", "--show", "--partscan", self.file], check=True,
                                  capture_output=True, text=True).stdout.strip()

    def close(self):
        subprocess.run(["losetup", "-d", self.dev], capture_output=True)
        self.tmp.cleanup()


@unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/dev/loop-control"), "needs root and loop devices")
class TestBlockPools(HostStorageCase):
    """fs, disk and logical pools on real loop devices (root only)."""

    def loop(self, size=64 * MiB):
        dev = LoopDevice(size)
        self.addCleanup(dev.close)
        return dev.dev

    def define(self, xml):
        path = str(self.qconnect("StoragePoolDefineXML", "su", xml, 0))
        self.addCleanup(self._drop_pool, path)
        return path

    def test_fs_pool_mkfs_mount_unmount(self):
        dev = self.loop()
        target = os.path.join(self.scratch_dir(), "mnt")
        self.addCleanup(lambda: subprocess.run(["umount", target], capture_output=True))
        path = self.define(f"<pool type='fs'><name>fsp</name><source><device path='{dev}'/>"
                           f"<format type='ext4'/></source><target><path>{target}</path></target></pool>")
        self.pool(path, "Build", "u", 4)  # NO_OVERWRITE: the device is empty, so mkfs
        blkid = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", dev], capture_output=True, text=True)
        self.assertEqual(blkid.stdout.strip(), "ext4")
        with self.assertLibvirtError("already formatted"):
            self.pool(path, "Build", "u", 4)
        self.pool(path, "Create", "u", 0)
        self.assertTrue(os.path.ismount(target))
        self.assertIn("lost+found", self.vol_names(path))
        vol = self.create_vol(path, vol_xml("on-fs.qcow2", 16 * MiB, "qcow2"))
        self.assertEqual(qemu_img_info(os.path.join(target, "on-fs.qcow2"))["format"], "qcow2")
        cap = int(self.pool(path, "GetInfo")[1])
        self.assertLess(cap, 64 * MiB)
        self.assertGreater(cap, 32 * MiB)
        self.vol(vol, "Delete", "u", 0)
        self.pool(path, "Destroy")
        self.assertFalse(os.path.ismount(target))
        self.pool(path, "Delete", "u", 0)
        self.assertFalse(os.path.exists(target))

    def test_disk_pool_partitions(self):
        dev = self.loop()
        path = self.define(f"<pool type='disk'><name>dsk</name><source><device path='{dev}'/>"
                           "<format type='gpt'/></source><target><path>/dev</path></target></pool>")
        self.pool(path, "Build", "u", 0)
        table = subprocess.run(["sfdisk", "--json", dev], capture_output=True, text=True, check=True).stdout
        self.assertIn('"label": "gpt"', table)
        self.pool(path, "Create", "u", 0)
        self.assertEqual(self.vol_names(path), [])
        vol = self.create_vol(path, vol_xml("ignored", 8 * MiB, "none"))
        name = os.path.basename(dev) + "p1"
        self.assertEqual(self.vol_names(path), [name])
        self.assertEqual(str(self.call(vol, h.PROPS_IFACE, "Get", "ss", VOL_IFACE, "Path")), f"/dev/{name}")
        vtype, cap, _ = self.vol(vol, "GetInfo", "u", 0)
        self.assertEqual((int(vtype), int(cap)), (1, 8 * MiB))
        self.vol(vol, "Delete", "u", 0)
        self.assertEqual(self.vol_names(path), [])
        self.pool(path, "Destroy")
        with self.assertLibvirtError("Storage pool already built"):
            self.pool(path, "Build", "u", 0)

    def test_logical_pool_metadata(self):
        if not os.path.exists("/usr/sbin/vgcreate"):
            self.skipTest("lvm2 is not installed")
        dev = self.loop()
        vg = "vbt" + h.new_uuid()[:8]
        self.addCleanup(lambda: (subprocess.run(["vgremove", "-f", vg], capture_output=True),
                                 subprocess.run(["pvremove", "-y", dev], capture_output=True)))
        path = self.define(f"<pool type='logical'><name>{vg}</name><source><device path='{dev}'/>"
                           f"<name>{vg}</name><format type='lvm2'/></source>"
                           f"<target><path>/dev/{vg}</path></target></pool>")
        self.pool(path, "Build", "u", 0)  # pvcreate + vgcreate
        vgs = subprocess.run(["vgs", "--noheadings", "-o", "vg_name", vg], capture_output=True, text=True)
        self.assertEqual(vgs.stdout.strip(), vg)
        sources = ET.fromstring(str(self.qconnect("FindStoragePoolSources", "ssu", "logical", "", 0)))
        names = [s.findtext("name") for s in sources.findall("source")]
        self.assertIn(vg, names)
        # Activating a volume group needs device-mapper, which some kernels
        # (this project's test machines) lack: either it starts and lists no
        # volumes, or it fails with LVM's own explanation.
        try:
            self.pool(path, "Create", "u", 0)
        except dbus.exceptions.DBusException as e:
            self.assertIn("vgchange", str(e))
        else:
            self.assertEqual(self.vol_names(path), [])
            self.pool(path, "Destroy")
        self.pool(path, "Delete", "u", 0)  # vgremove + pvremove
        vgs = subprocess.run(["vgs", "--noheadings", "-o", "vg_name", vg], capture_output=True, text=True)
        self.assertNotEqual(vgs.returncode, 0)
