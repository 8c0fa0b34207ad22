# SPDX-License-Identifier: LGPL-2.1-or-later
"""StoragePool and StorageVol members and StoragePoolEvent on the test driver.

Driven only through D-Bus.  Expected values are the wire contract's test
world and libvirt 9.0's test:///default behaviour (checked with
`virsh -c test:///default`).  Tests that change the world work on
self-cleaning scratch objects, so test order inside a class does not matter.
"""

import unittest
import xml.etree.ElementTree as ET

import harness as h
from harness import CONN_PATH, PROPS_IFACE
from objects_common import *  # noqa: F401,F403


class TestStoragePools(ObjectsTestCase):

    def test_full_lifecycle(self):
        name = self.scratch_name("pool")
        uuid = h.new_uuid()
        before = self.list_pools()
        path = str(self.connect("StoragePoolDefineXML", "su", pool_xml(name, uuid), 0))
        self.addCleanup(self._remove_pool, path)
        self.assertEqual(path, pool_path(uuid))
        self.assertEvents("StoragePoolEvent", [(path, POOL_DEFINED, 0)])
        self.assertEqual(self.list_pools(), sorted(before + [path]))
        self.assertEqual(str(self.connect("StoragePoolLookupByName", "s", name)), path)
        self.assertEqual(str(self.connect("StoragePoolLookupByUUID", "s", uuid)), path)
        self.assertEqual(str(self.pprop(path, "Name")), name)
        self.assertEqual(str(self.pprop(path, "UUID")), uuid)
        self.assertIs(bool(self.pprop(path, "Active")), False)
        self.assertIs(bool(self.pprop(path, "Persistent")), True)
        self.assertEqual(self.pool_info(path)[0], POOL_INACTIVE)
        x = self.pool_xml_of(path)
        self.assertEqual((x.get("type"), x.findtext("name"), x.findtext("uuid")), ("dir", name, uuid))
        self.assertEqual(x.findtext("target/path"), f"/pools/{name}")

        # Inactive: no volumes, no refresh.
        with self.assertLibvirtError("Requested operation is not valid: storage pool is not active"):
            self.pool(path, "ListStorageVolumes", "u", 0)
        with self.assertLibvirtError(
                f"Requested operation is not valid: storage pool '{name}' is not active"):
            self.pool(path, "Refresh", "u", 0)
        with self.assertLibvirtError(
                f"Requested operation is not valid: storage pool '{name}' is not active"):
            self.pool(path, "StorageVolCreateXML", "su", vol_xml("x.img"), 0)
        with self.assertLibvirtError(
                f"Requested operation is not valid: storage pool '{name}' is not active"):
            self.pool(path, "Destroy", "")
        self.assertNoSignals()

        self.pool(path, "Build", "u", 0)
        self.assertEvents("StoragePoolEvent", [(path, POOL_CREATED, 0)])
        self.pool(path, "Delete", "u", 0)
        self.assertEvents("StoragePoolEvent", [(path, POOL_DELETED, 0)])
        self.assertIn(path, self.list_pools())  # Delete keeps the definition

        self.pool(path, "Create", "u", 0)
        self.assertEvents("StoragePoolEvent", [(path, POOL_STARTED, 0)])
        self.assertIs(bool(self.pprop(path, "Active")), True)
        self.assertEqual(self.pool_info(path)[0], POOL_RUNNING)
        self.assertEqual(self.list_vols(path), [])

        self.pool(path, "Refresh", "u", 0)
        self.collector.wait(lambda s: any(x[1] == "Refresh" for x in s))
        self.assertEqual(self.collector.of("Refresh", path, POOL_IFACE), [()])
        self.assertEqual(self._lifecycle("StoragePoolEvent"), [])
        refresh = [(i, p) for (i, m, p, a) in self.collector.signals if m == "Refresh"]
        self.assertEqual(refresh, [(POOL_IFACE, path)])
        self.collector.clear()

        # Active: no build, delete, undefine, create.
        for method, sig, args in (("Build", "u", (0,)), ("Delete", "u", (0,)),
                                  ("Undefine", "", ()), ("Create", "u", (0,))):
            with self.subTest(method=method):
                with self.assertLibvirtError(
                        f"Requested operation is not valid: storage pool '{name}' is active"):
                    self.pool(path, method, sig, *args)
        self.assertNoSignals()
        self.assertIs(bool(self.pprop(path, "Active")), True)

        self.pool(path, "Destroy", "")
        self.assertEvents("StoragePoolEvent", [(path, POOL_STOPPED, 0)])
        self.assertIs(bool(self.pprop(path, "Active")), False)

        self.pool(path, "Undefine", "")
        self.assertEvents("StoragePoolEvent", [(path, POOL_UNDEFINED, 0)])
        self.assertEqual(self.list_pools(), before)
        with self.assertLibvirtError(
                f"Storage pool not found: no storage pool with matching name '{name}'"):
            self.connect("StoragePoolLookupByName", "s", name)
        with self.assertLibvirtError("Storage pool not found"):
            self.connect("StoragePoolLookupByUUID", "s", uuid)

    def test_default_pool_wrong_order_changes_nothing(self):
        before = self.world()
        for method, sig, args in (("Build", "u", (0,)), ("Delete", "u", (0,)), ("Undefine", "", ())):
            with self.subTest(method=method):
                with self.assertLibvirtError(
                        "Requested operation is not valid: storage pool 'default-pool' is active"):
                    self.pool(POOL_PATH, method, sig, *args)
        self.assertNoSignals()
        self.assertEqual(self.world(), before)

    def test_create_xml_transient(self):
        name = self.scratch_name("tpool")
        uuid = h.new_uuid()
        path = str(self.connect("StoragePoolCreateXML", "su", pool_xml(name, uuid), 0))
        self.addCleanup(self._remove_pool, path)
        self.assertEqual(path, pool_path(uuid))
        self.assertEvents("StoragePoolEvent", [(path, POOL_STARTED, 0)])
        self.assertIs(bool(self.pprop(path, "Active")), True)
        self.assertIs(bool(self.pprop(path, "Persistent")), False)
        self.assertEqual(self.list_pools(PL_TRANSIENT), [path])
        with self.assertLibvirtError("invalid argument: pool has no config file"):
            self.call(path, PROPS_IFACE, "Set", "ssv", POOL_IFACE, "Autostart", True)
        self.pool(path, "Destroy", "")
        self.assertEvents("StoragePoolEvent", [(path, POOL_STOPPED, 0)])
        self.assertNotIn(path, self.list_pools())
        with self.assertLibvirtError("Storage pool not found"):
            self.connect("StoragePoolLookupByUUID", "s", uuid)

    def test_autostart_and_list_filters(self):
        inactive, _, _ = self.define_pool()
        active, _, _ = self.define_pool(start=True)
        self.call(inactive, PROPS_IFACE, "Set", "ssv", POOL_IFACE, "Autostart", True)
        self.assertIs(bool(self.pprop(inactive, "Autostart")), True)
        self.assertNoLibvirtSignals()
        all_ = self.list_pools()
        self.assertEqual(sorted([POOL_PATH, inactive, active]), all_)
        self.assertEqual(self.list_pools(PL_INACTIVE), [inactive])
        self.assertEqual(self.list_pools(PL_ACTIVE), sorted([POOL_PATH, active]))
        self.assertEqual(self.list_pools(PL_ACTIVE | PL_INACTIVE), all_)
        self.assertEqual(self.list_pools(PL_PERSISTENT), all_)
        self.assertEqual(self.list_pools(PL_TRANSIENT), [])
        self.assertEqual(self.list_pools(PL_AUTOSTART), [inactive])
        self.assertEqual(self.list_pools(PL_NO_AUTOSTART), sorted([POOL_PATH, active]))
        self.assertEqual(self.list_pools(PL_DIR), all_)
        self.call(inactive, PROPS_IFACE, "Set", "ssv", POOL_IFACE, "Autostart", False)
        self.assertEqual(self.list_pools(PL_AUTOSTART), [])
        for p in all_:
            self.assertEqual(str(self.connect("StoragePoolLookupByName", "s", str(self.pprop(p, "Name")))), p)
            self.assertEqual(str(self.connect("StoragePoolLookupByUUID", "s", str(self.pprop(p, "UUID")))), p)

    def test_bad_input(self):
        existing, ename, euuid = self.define_pool()
        before = self.world()
        cases = [
            ("duplicate name", pool_xml(ename, h.new_uuid(), "/pools/dupname"),
             f"operation failed: pool '{ename}' already exists with uuid {euuid}"),
            ("duplicate uuid", pool_xml("other-pool", euuid, "/pools/dupuuid"),
             f"operation failed: pool '{ename}' is already defined with uuid {euuid}"),
            # libvirt 9.0 accepts a relative target; virtbus refuses it.
            ("relative target", pool_xml("relpool", h.new_uuid(), "relative/dir"),
             "XML error: storage pool target path 'relative/dir' must be absolute"),
            ("bad uuid", pool_xml("baduuid", "not-a-uuid"),
             "XML error: malformed uuid element 'not-a-uuid'"),
            ("not xml", "<pool", "XML error: (storage_pool_definition):1: "),
        ]
        for label, xml, prefix in cases:
            for method in ("StoragePoolDefineXML", "StoragePoolCreateXML"):
                with self.subTest(label=label, method=method):
                    with self.assertLibvirtError(prefix):
                        self.connect(method, "su", xml, 0)
        self.assertEqual(self.world(), before)
        self.assertEvents("StoragePoolEvent", [])
        with self.assertLibvirtError(
                "Storage pool not found: no storage pool with matching name 'nosuch'"):
            self.connect("StoragePoolLookupByName", "s", "nosuch")
        with self.assertLibvirtError(
                "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID"):
            self.connect("StoragePoolLookupByUUID", "s", "not-a-uuid")
        for method, sig, args in (("Build", "u", (1,)), ("Refresh", "u", (1,)),
                                  ("GetXMLDesc", "u", (1,)), ("ListStorageVolumes", "u", (1,))):
            with self.subTest(method=method):
                with self.assertLibvirtError("unsupported flags (0x1)"):
                    self.pool(POOL_PATH if method != "Build" else existing, method, sig, *args)
        self.assertEqual(self.world(), before)
        self.assertDaemonAlive()



class TestStorageVolumes(ObjectsTestCase):

    def test_create_lookup_info_delete(self):
        path = self.create_vol("v1.img", capacity=1048576, allocation=4096, target="/elsewhere/v1.img")
        key = "/default-pool/v1.img"
        self.assertEqual(path, vol_path(key))
        self.assertEqual(path, CONN_PATH + "/storagevol/_2fdefault_2dpool_2fv1_2eimg")
        self.assertNoLibvirtSignals()
        self.assertEqual(self.list_vols(), [path])
        self.assertEqual(str(self.vprop(path, "Name")), "v1.img")
        self.assertEqual(str(self.vprop(path, "Key")), key)
        self.assertEqual(str(self.vprop(path, "Path")), key)
        self.assertEqual(str(self.pool(POOL_PATH, "StorageVolLookupByName", "s", "v1.img")), path)
        self.assertEqual(str(self.connect("StorageVolLookupByKey", "s", key)), path)
        self.assertEqual(str(self.connect("StorageVolLookupByPath", "s", key)), path)
        info = tuple(int(x) for x in self.vol(path, "GetInfo", "u", 0))
        self.assertEqual(info, (VOL_FILE, 1048576, 4096))
        x = ET.fromstring(str(self.vol(path, "GetXMLDesc", "u", 0)))
        self.assertEqual(x.get("type"), "file")
        self.assertEqual(x.findtext("name"), "v1.img")
        self.assertEqual(x.findtext("key"), key)
        self.assertEqual(x.findtext("target/path"), key)
        self.assertEqual(int(x.findtext("capacity")), 1048576)
        self.assertEqual(int(x.findtext("allocation")), 4096)
        self.assertEqual(self.pool_info(), (POOL_RUNNING, POOL_CAPACITY, 4096, POOL_CAPACITY - 4096))
        pxml = self.pool_xml_of(POOL_PATH)
        self.assertEqual(int(pxml.findtext("allocation")), 4096)

        self.vol(path, "Delete", "u", 0)
        self.assertNoLibvirtSignals()
        self.assertEqual(self.list_vols(), [])
        self.assertEqual(self.pool_info(), (POOL_RUNNING, POOL_CAPACITY, 0, POOL_CAPACITY))
        with self.assertLibvirtError(
                "Storage volume not found: no storage vol with matching name 'v1.img'"):
            self.pool(POOL_PATH, "StorageVolLookupByName", "s", "v1.img")
        with self.assertLibvirtError(
                f"Storage volume not found: no storage vol with matching key '{key}'"):
            self.connect("StorageVolLookupByKey", "s", key)
        with self.assertLibvirtError(
                f"Storage volume not found: no storage vol with matching path '{key}'"):
            self.connect("StorageVolLookupByPath", "s", key)

    def test_create_from(self):
        src = self.create_vol("src.img", capacity=2097152, allocation=0)
        clone = str(self.pool(POOL_PATH, "StorageVolCreateXMLFrom", "ssu",
                              vol_xml("clone.img", capacity=1048576), "/default-pool/src.img", 0))
        self.addCleanup(self._remove_vol, clone)
        self.assertEqual(clone, vol_path("/default-pool/clone.img"))
        self.assertEqual(self.list_vols(), sorted([src, clone]))
        self.assertEqual(str(self.vprop(clone, "Key")), "/default-pool/clone.img")
        self.assertEqual(str(self.connect("StorageVolLookupByPath", "s", "/default-pool/clone.img")), clone)
        with self.assertLibvirtError(
                "Storage volume not found: no storage vol with matching key '/default-pool/nosuch'"):
            self.pool(POOL_PATH, "StorageVolCreateXMLFrom", "ssu",
                      vol_xml("clone2.img"), "/default-pool/nosuch", 0)
        self.assertEqual(self.list_vols(), sorted([src, clone]))

    def test_duplicate_name(self):
        path = self.create_vol("dup.img")
        before = self.world()
        with self.assertLibvirtError("operation failed: storage vol already exists"):
            self.pool(POOL_PATH, "StorageVolCreateXML", "su", vol_xml("dup.img", capacity=5), 0)
        with self.assertLibvirtError("operation failed: storage vol already exists"):
            self.pool(POOL_PATH, "StorageVolCreateXMLFrom", "ssu", vol_xml("dup.img"),
                      "/default-pool/dup.img", 0)
        self.assertEqual(self.world(), before)
        self.assertEqual(tuple(int(x) for x in self.vol(path, "GetInfo", "u", 0))[1], 1048576)

    def test_bad_names(self):
        # libvirt 9.0's test driver accepts these (its keys would then be
        # paths outside the pool); virtbus refuses them.
        before = self.world()
        for name, msg in (("a/b", "Requested operation is not valid: volume name 'a/b' cannot contain '/'"),
                          ("..", "Requested operation is not valid: volume name '..' is not allowed"),
                          (".", "Requested operation is not valid: volume name '.' is not allowed"),
                          ("../escape", "Requested operation is not valid: volume name "
                                        "'../escape' cannot contain '/'")):
            with self.subTest(name=name):
                with self.assertLibvirtError(msg):
                    self.pool(POOL_PATH, "StorageVolCreateXML", "su", vol_xml(name), 0)
        with self.assertLibvirtError("XML error: (storage_volume_definition):1: "):
            self.pool(POOL_PATH, "StorageVolCreateXML", "su", "<volume>", 0)
        with self.assertLibvirtError(
                "internal error: Not enough free space in pool for volume 'huge.img'"):
            self.pool(POOL_PATH, "StorageVolCreateXML", "su",
                      vol_xml("huge.img", capacity=POOL_CAPACITY + 1, allocation=POOL_CAPACITY + 1), 0)
        self.assertEqual(self.world(), before)
        self.assertDaemonAlive()

    def test_volumes_only_in_active_pools(self):
        ppath, pname, _ = self.define_pool(start=True)
        v = self.create_vol("inpool.img", pool=ppath)
        key = f"/pools/{pname}/inpool.img"
        self.assertEqual(v, vol_path(key))
        self.assertEqual(str(self.vprop(v, "Path")), key)
        self.assertEqual(self.list_vols(ppath), [v])
        self.assertEqual(self.list_vols(), [])  # not in default-pool
        self.pool(ppath, "Destroy", "")
        with self.assertLibvirtError("Storage volume not found"):
            self.connect("StorageVolLookupByKey", "s", key)
        with self.assertLibvirtError(
                f"Requested operation is not valid: storage pool '{pname}' is not active"):
            self.pool(ppath, "StorageVolCreateXML", "su", vol_xml("other.img"), 0)
        # Starting the pool again brings its volume back at the same path.
        self.pool(ppath, "Create", "u", 0)
        self.assertEqual(self.list_vols(ppath), [v])
        self.assertEqual(str(self.connect("StorageVolLookupByKey", "s", key)), v)

    def test_resize_and_wipe_not_supported(self):
        path = self.create_vol("rw.img")
        with self.assertLibvirtError(f"{h.NOT_SUPPORTED}: virStorageVolResize"):
            self.vol(path, "Resize", "tu", 2097152, 0)
        with self.assertLibvirtError(f"{h.NOT_SUPPORTED}: virStorageVolWipePattern"):
            self.vol(path, "Wipe", "uu", 0, 0)
        self.assertEqual(tuple(int(x) for x in self.vol(path, "GetInfo", "u", 0))[1], 1048576)

    def test_flags_and_missing(self):
        path = self.create_vol("flags.img")
        for method, sig, args, fn in (("GetInfo", "u", (1,), "testStorageVolGetInfo"),
                                      ("GetXMLDesc", "u", (1,), "testStorageVolGetXMLDesc"),
                                      ("Delete", "u", (1,), "testStorageVolDelete")):
            with self.subTest(method=method):
                with self.assertLibvirtError(f"unsupported flags (0x1) in function {fn}"):
                    self.vol(path, method, sig, *args)
        self.assertIn(path, self.list_vols())
        with self.assertLibvirtError(
                "Storage volume not found: no storage vol with matching path '/nope'"):
            self.connect("StorageVolLookupByPath", "s", "/nope")
        self.assertDaemonAlive()


if __name__ == "__main__":
    unittest.main()
