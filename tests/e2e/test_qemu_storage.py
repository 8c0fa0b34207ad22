# SPDX-License-Identifier: LGPL-2.1-or-later
"""A guest of the QEMU driver booting with a disk given as
<disk type='volume'>: the storage driver's volume is resolved to its file,
QEMU opens that file, the live XML still names pool and volume, and the
volume cannot be deleted, wiped or shrunk while the guest runs."""

import os
import subprocess
import tempfile
import unittest

import dbus

from harness import EV_STARTED, STARTED_BOOTED, E2ETestCase

POOL_IFACE = "org.libvirt.StoragePool"
VOL_IFACE = "org.libvirt.StorageVol"
MiB = 1 << 20


class VolumeDisks(E2ETestCase):

    def make_pool(self):
        target = tempfile.mkdtemp(prefix="virtbus-e2e-pool-", dir=str(self.env.guest_dir))
        xml = f"<pool type='dir'><name>{self.new_name('pool')}</name><target><path>{target}</path></target></pool>"
        pool = str(self.env.connect("StoragePoolDefineXML", "su", xml, 0))
        self.env.call(pool, POOL_IFACE, "Create", "u", 0)
        self.addCleanup(self._drop_pool, pool)
        return pool, target

    def _drop_pool(self, pool):
        for method in ("Destroy", "Undefine"):
            try:
                self.env.call(pool, POOL_IFACE, method)
            except dbus.exceptions.DBusException:
                pass

    def test_guest_boots_from_a_volume(self):
        pool, target = self.make_pool()
        pool_name = str(self.env.call(pool, "org.freedesktop.DBus.Properties", "Get", "ss", POOL_IFACE, "Name"))
        vol = str(self.env.call(pool, POOL_IFACE, "StorageVolCreateXML", "su",
                                "<volume><name>root.qcow2</name><capacity>33554432</capacity>"
                                "<target><format type='qcow2'/></target></volume>", 0))
        name = self.new_name("vold")
        disk = (f"    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
                f"<source pool='{pool_name}' volume='root.qcow2'/><target dev='vda' bus='virtio'/></disk>\n")
        path = str(self.env.connect("DomainDefineXML", "s", self.xml(name, extra_devices=disk)))
        self.addCleanup(self.remove_domain, path, name)
        log = self.serial_log(name)
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)

        image = os.path.join(target, "root.qcow2")
        pid = self.env.qemu_pid(name)
        self.assertIsNotNone(pid)
        opened = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")
                  if os.path.islink(f"/proc/{pid}/fd/{fd}")}
        self.assertIn(image, opened)
        live = str(self.env.dom(path, "GetXMLDesc", "u", 0))
        self.assertIn(f"pool='{pool_name}'", live)
        self.assertIn("volume='root.qcow2'", live)

        for method, sig, args in (("Delete", "u", (0,)), ("Wipe", "uu", (0, 0)),
                                  ("Resize", "tu", (MiB, 4))):
            with self.assertRaisesRegex(dbus.exceptions.DBusException, "in use by a running domain"):
                self.env.call(vol, VOL_IFACE, method, sig, *args)
        info = subprocess.run(["qemu-img", "info", "-U", image], capture_output=True, text=True)
        self.assertIn("qcow2", info.stdout)

        self.env.dom(path, "Destroy", "u", 0)
        self.env.call(vol, VOL_IFACE, "Delete", "u", 0)
        self.assertFalse(os.path.exists(image))

    def test_missing_volume_is_a_clear_error(self):
        pool, _ = self.make_pool()
        pool_name = str(self.env.call(pool, "org.freedesktop.DBus.Properties", "Get", "ss", POOL_IFACE, "Name"))
        name = self.new_name("novol")
        disk = (f"    <disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
                f"<source pool='{pool_name}' volume='absent.img'/><target dev='vda' bus='virtio'/></disk>\n")
        path = str(self.env.connect("DomainDefineXML", "s", self.xml(name, extra_devices=disk)))
        self.addCleanup(self.remove_domain, path, name)
        with self.assertRaisesRegex(dbus.exceptions.DBusException, "no storage vol with matching name 'absent.img'"):
            self.env.dom(path, "Create", "u", 0)
        self.assertEqual(self.env.guest_processes(name), {})


if __name__ == "__main__":
    unittest.main()
