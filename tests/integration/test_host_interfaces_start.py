# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host interfaces at daemon start and without privilege, in a network
namespace the test creates (see iface_common.py): `onboot` definitions
are brought up when the daemon starts; a daemon without CAP_NET_ADMIN
reads the kernel's links and refuses changes saying why."""

import shutil
import unittest

from iface_common import HostInterfaceCase, addrs, iface_path, links


class TestOnboot(HostInterfaceCase):
    """Definitions with <start mode='onboot'/> are brought up when the
    daemon starts; one that cannot be is logged and skipped."""

    @classmethod
    def prepare_store(cls, directory):
        (directory / "brboot.xml").write_text(
            "<interface type='bridge' name='brboot'><start mode='onboot'/>"
            "<protocol family='ipv4'><ip address='192.0.2.9' prefix='24'/></protocol>"
            "<bridge><interface type='ethernet' name='veth2'/></bridge></interface>")
        (directory / "brfail.xml").write_text(
            "<interface type='bridge' name='brfail'><start mode='onboot'/>"
            "<bridge><interface type='ethernet' name='ghost9'/></bridge></interface>")
        (directory / "brnone.xml").write_text(
            "<interface type='bridge' name='brnone'><start mode='none'/><bridge/></interface>")

    def test_onboot_at_start(self):
        k = links()
        self.assertIn("UP", k["brboot"]["flags"])
        self.assertEqual(k["veth2"].get("master"), "brboot")
        self.assertEqual(addrs("brboot"), {("192.0.2.9", 24)})
        self.assertNotIn("brfail", k)
        self.assertNotIn("brnone", k)
        self.assertIn("cannot bring 'brfail' up at start: operation failed: interface 'ghost9' does not exist",
                      self.daemon.log_path.read_text())
        path = str(self.q("InterfaceLookupByName", "s", "brboot"))
        self.assertTrue(bool(self.iprop(path, "Active")))
        self.i(path, "Destroy", "u", 0)
        self.assertNotIn("brboot", links())


class TestWithoutNetAdmin(HostInterfaceCase):
    """The same namespace, the daemon without CAP_NET_ADMIN: reading works,
    changing the kernel fails saying why."""

    collect_signals = False
    wrapper_extra = ("setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin")

    @classmethod
    def setUpClass(cls):
        if not shutil.which("setpriv"):
            raise unittest.SkipTest("needs setpriv")
        super().setUpClass()

    def test_read_only(self):
        kernel = links()
        paths = [str(p) for p in self.q("ListInterfaces", "u", 0)]
        self.assertEqual(len(paths), len(kernel))
        path = self.define("<interface type='bridge' name='brX'><bridge/></interface>")
        with self.assertLibvirtError(regex="cannot create bridge 'brX'.*Operation not permitted.*CAP_NET_ADMIN"):
            self.i(path, "Create", "u", 0)
        self.assertNotIn("brX", links())
        veth = iface_path(kernel["veth0"]["address"])
        with self.assertLibvirtError(regex="cannot bring 'veth0' up.*CAP_NET_ADMIN"):
            self.i(veth, "Create", "u", 0)


if __name__ == "__main__":
    unittest.main()
