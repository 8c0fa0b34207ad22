# SPDX-License-Identifier: LGPL-2.1-or-later
"""Secrets on the QEMU connection (drivers/secret/secret_store.cpp), driven
through D-Bus: define, values, usage lookups, ephemeral and private
semantics, SecretEvent, files on disk (0600, atomic) and persistence across
a daemon restart. Expected messages are libvirt 9.0's secret driver's."""

import os
import stat
import unittest
from pathlib import Path

import dbus

import harness as h

QEMU = "/org/libvirt/QEMU"
SECRET_IFACE = "org.libvirt.Secret"
SECRET_DEFINED, SECRET_UNDEFINED = 0, 1
USAGE_VOLUME, USAGE_CEPH = 1, 2


def secret_xml(uuid, usage="volume", target="/var/lib/images/a.img", ephemeral="no", private="no"):
    inner = {"volume": f"<volume>{target}</volume>", "ceph": f"<name>{target}</name>"}[usage]
    return (f"<secret ephemeral='{ephemeral}' private='{private}'><uuid>{uuid}</uuid>"
            f"<description>test</description><usage type='{usage}'>{inner}</usage></secret>")


class TestSecrets(h.DaemonTestCase):

    def qconnect(self, method, signature="", *args):
        return self.call(QEMU, h.CONNECT_IFACE, method, signature, *args)

    def sec(self, path, method, signature="", *args):
        return self.call(path, SECRET_IFACE, method, signature, *args)

    def secret_dir(self):
        return Path(self.private_bus.tmpdir.name) / "qemu" / "secrets"

    def events(self):
        self.collector.drain()
        return [(str(s[0]), int(s[1])) for s in self.collector.of("SecretEvent", path=QEMU,
                                                                           interface=h.CONNECT_IFACE)]

    def define(self, xml):
        path = str(self.qconnect("SecretDefineXML", "su", xml, 0))
        self.addCleanup(self._undefine, path)
        return path

    def _undefine(self, path):
        try:
            self.sec(path, "Undefine")
        except dbus.exceptions.DBusException:
            pass

    def test_define_value_lookup_undefine(self):
        uuid = h.new_uuid()
        self.collector.clear()
        path = self.define(secret_xml(uuid, target="/images/one.img"))
        self.assertEqual(path, f"{QEMU}/secret/_{uuid.replace('-', '_')}")
        self.assertEqual(str(self.prop(path, SECRET_IFACE, "UUID")), uuid)
        self.assertEqual(int(self.prop(path, SECRET_IFACE, "UsageType")), USAGE_VOLUME)
        self.assertEqual(str(self.prop(path, SECRET_IFACE, "UsageID")), "/images/one.img")
        self.assertEqual(str(self.qconnect("SecretLookupByUUID", "s", uuid)), path)
        self.assertEqual(str(self.qconnect("SecretLookupByUsage", "is", USAGE_VOLUME, "/images/one.img")), path)
        self.assertIn(path, [str(p) for p in self.qconnect("ListSecrets", "u", 0)])
        with self.assertLibvirtError(f"Secret not found: secret '{uuid}' does not have a value"):
            self.sec(path, "GetValue", "u", 0)
        self.sec(path, "SetValue", "ayu", dbus.ByteArray(b"s3cr\x00t"), 0)
        self.assertEqual(bytes(self.sec(path, "GetValue", "u", 0)), b"s3cr\x00t")
        xml = str(self.sec(path, "GetXMLDesc", "u", 0))
        self.assertIn(f"<uuid>{uuid}</uuid>", xml)
        self.assertNotIn("s3cr", xml)

        files = {p.name: p for p in self.secret_dir().iterdir()}
        self.assertEqual(set(files), {f"{uuid}.xml", f"{uuid}.base64"})
        for p in files.values():
            self.assertEqual(stat.S_IMODE(p.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(self.secret_dir().stat().st_mode), 0o700)

        self.sec(path, "Undefine")
        self.assertEqual(list(self.secret_dir().iterdir()), [])
        with self.assertLibvirtError(f"Secret not found: no secret with matching uuid '{uuid}'"):
            self.qconnect("SecretLookupByUUID", "s", uuid)
        self.assertEqual(self.events(), [(path, SECRET_DEFINED), (path, SECRET_UNDEFINED)])

    def test_ephemeral_never_on_disk_and_private_never_read(self):
        eph = self.define(secret_xml(h.new_uuid(), target="/images/eph.img", ephemeral="yes"))
        self.sec(eph, "SetValue", "ayu", dbus.ByteArray(b"volatile"), 0)
        self.assertEqual(bytes(self.sec(eph, "GetValue", "u", 0)), b"volatile")
        self.assertEqual(list(self.secret_dir().iterdir()), [])
        priv = self.define(secret_xml(h.new_uuid(), usage="ceph", target="client.admin", private="yes"))
        self.sec(priv, "SetValue", "ayu", dbus.ByteArray(b"hidden"), 0)
        with self.assertLibvirtError("Invalid secret: secret is private"):
            self.sec(priv, "GetValue", "u", 0)
        listed = lambda flags: sorted(str(p) for p in self.qconnect("ListSecrets", "u", flags))  # noqa: E731
        self.assertEqual(listed(1), [eph])  # EPHEMERAL
        self.assertEqual(listed(4), [priv])  # PRIVATE
        self.assertEqual(listed(2 | 8), [])  # NO_EPHEMERAL | NO_PRIVATE

    def test_conflicts_and_bad_input_change_nothing(self):
        uuid = h.new_uuid()
        self.define(secret_xml(uuid, target="/images/two.img"))
        other = h.new_uuid()
        with self.assertLibvirtError(
                f"internal error: a secret with UUID {uuid} already defined for use with /images/two.img"):
            self.qconnect("SecretDefineXML", "su", secret_xml(other, target="/images/two.img"), 0)
        with self.assertLibvirtError(
                f"internal error: a secret with UUID {uuid} is already defined for use with volume /images/two.img"):
            self.qconnect("SecretDefineXML", "su", secret_xml(uuid, target="/images/moved.img"), 0)
        with self.assertLibvirtError("XML error"):
            self.qconnect("SecretDefineXML", "su", "<secret><uuid>../../etc</uuid></secret>", 0)
        with self.assertLibvirtError(regex="unsupported flags"):
            self.qconnect("SecretDefineXML", "su", secret_xml(h.new_uuid()), 8)
        path = str(self.qconnect("SecretLookupByUUID", "s", uuid))
        with self.assertLibvirtError(regex="exceeds the limit of 65536"):
            self.sec(path, "SetValue", "ayu", dbus.ByteArray(b"x" * 65537), 0)
        self.assertEqual(sorted(p.name for p in self.secret_dir().iterdir()), [f"{uuid}.xml"])

    def test_survives_restart(self):
        uuid = h.new_uuid()
        path = str(self.qconnect("SecretDefineXML", "su", secret_xml(uuid, target="/images/keep.img"), 0))
        self.sec(path, "SetValue", "ayu", dbus.ByteArray(b"kept"), 0)
        problems = self.daemon.stop(self.bus)
        self.assertEqual(problems, [])
        type(self).daemon = h.Daemon(self.private_bus.address, self.private_bus.tmpdir.name)
        self.daemon.wait_for_name(self.bus)
        self.assertEqual(bytes(self.sec(path, "GetValue", "u", 0)), b"kept")
        self.assertEqual(str(self.qconnect("SecretLookupByUsage", "is", USAGE_VOLUME, "/images/keep.img")), path)
        self.sec(path, "Undefine")


if __name__ == "__main__":
    unittest.main()
