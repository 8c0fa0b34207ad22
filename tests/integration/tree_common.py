# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by test_object_mirror.py and test_properties_changed.py: the whole
object tree of the test connection read the libvirt-dbus way (list calls,
then GetAll with its double variants unwrapped), a GDBusObjectManagerClient
mirroring it, and one scenario of lifecycle operations on domains,
snapshots, networks, pools and volumes that both files replay.
"""

import os
import shutil
import tempfile

import dbus
import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

import harness as h  # noqa: E402
from harness import BUS_NAME, CONN_PATH, DOMAIN_IFACE, PEER_IFACE, PROPS_IFACE, SNAPSHOT_IFACE  # noqa: E402
from objects_common import (NETWORK_IFACE, POOL_IFACE, VOL_IFACE, ObjectsTestCase,  # noqa: E402
                            network_xml, pool_xml, vol_xml)

OM_IFACE = "org.freedesktop.DBus.ObjectManager"
INTERFACE_IFACE = "org.libvirt.Interface"
NODEDEV_IFACE = "org.libvirt.NodeDevice"
SECRET_IFACE = "org.libvirt.Secret"
NWFILTER_IFACE = "org.libvirt.NWFilter"

SNAPSHOT_CREATE_HALT = 8
UNDEFINE_SNAPSHOTS_METADATA = 2


def plain(v):
    """A dbus-python or GLib value as plain Python, for comparisons."""
    if isinstance(v, (bool, dbus.Boolean)):  # dbus.Boolean is an int
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, tuple) or isinstance(v, dbus.Struct):
        return tuple(plain(x) for x in v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    raise TypeError(f"unexpected value {v!r}")


class Mirror:
    """A Gio.DBusObjectManagerClient on the test connection, on its own
    connection to the bus, fed only by GetManagedObjects at construction and
    by signals afterwards."""

    def __init__(self, address):
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        self.conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        self.manager = Gio.DBusObjectManagerClient.new_sync(
            self.conn, Gio.DBusObjectManagerClientFlags.NONE, BUS_NAME, CONN_PATH, None, None, None)
        self.added, self.removed = [], []
        self.manager.connect("object-added", lambda _m, o: self.added.append(o.get_object_path()))
        self.manager.connect("object-removed", lambda _m, o: self.removed.append(o.get_object_path()))

    def sync(self):
        """Dispatches every signal virtbusd sent this connection so far.

        A Peer.Ping (which reads no state) is the barrier: virtbusd's
        messages to one connection arrive in order, so its reply comes after
        every signal emitted before it, and those are then queued on the
        main context.
        """
        self.conn.call_sync(BUS_NAME, CONN_PATH, PEER_IFACE, "Ping", None, None,
                            Gio.DBusCallFlags.NONE, -1, None)
        ctx = GLib.MainContext.default()
        for _ in range(3):
            while ctx.pending():
                ctx.iteration(False)

    def contents(self):
        """{path: (interface, {property: value})} from the client's cache."""
        out = {}
        for obj in self.manager.get_objects():
            proxies = obj.get_interfaces()
            assert len(proxies) == 1, f"{obj.get_object_path()}: {len(proxies)} interfaces"
            p = proxies[0]
            props = {n: plain(p.get_cached_property(n).unpack())
                     for n in (p.get_cached_property_names() or [])}
            out[obj.get_object_path()] = (p.get_interface_name(), props)
        return out

    def take(self):
        """(added, removed) object paths since the last take."""
        added, removed = self.added, self.removed
        self.added, self.removed = [], []
        return added, removed

    def close(self):
        self.manager = None
        self.conn.close_sync(None)


class TreeTestCase(ObjectsTestCase):
    """Reads the tree and runs the scenario."""

    def getall(self, path, iface):
        values = self.call(path, PROPS_IFACE, "GetAll", "s", iface)
        for k, v in values.items():
            self.assertEqual(getattr(v, "variant_level", 0), 2,
                             f"{path} {k}: GetAll's values are variants of variants")
        return {str(k): plain(v) for k, v in values.items()}

    def tree(self):
        """{path: (interface, {property: value})} of every object, found
        through the list calls and read with GetAll."""
        objs = {}

        def add(paths, iface):
            for p in paths:
                self.assertNotIn(str(p), objs)
                objs[str(p)] = (iface, self.getall(p, iface))

        domains = self.list_domains()
        add(domains, DOMAIN_IFACE)
        for d in domains:
            add(self.dom(d, "ListDomainSnapshots", "u", 0), SNAPSHOT_IFACE)
        add(self.list_networks(), NETWORK_IFACE)
        pools = self.list_pools()
        add(pools, POOL_IFACE)
        for p in pools:
            if self.pprop(p, "Active"):
                add(self.pool(p, "ListStorageVolumes", "u", 0), VOL_IFACE)
        for method, iface in (("ListInterfaces", INTERFACE_IFACE), ("ListNodeDevices", NODEDEV_IFACE),
                              ("ListSecrets", SECRET_IFACE), ("ListNWFilters", NWFILTER_IFACE)):
            try:
                add(self.connect(method, "u", 0), iface)
            except dbus.DBusException as e:
                if not h.errmsg(e).startswith(h.NOT_SUPPORTED):
                    raise
        return objs

    # ---- the scenario ----

    def scenario(self):
        """[(label, call)]: every lifecycle operation the test driver has on
        the object kinds with properties or children, in an order where
        each one succeeds, leaving the world as it found it. A call that
        changes nothing is part of it too."""
        tmp = tempfile.mkdtemp(prefix="virtbus-tree-")
        self.addCleanup(shutil.rmtree, tmp, True)
        image = os.path.join(tmp, "t.sav")

        name, uuid = self.scratch_name("tree"), h.new_uuid()
        new_name = name + "-renamed"
        d = h.domain_path(uuid)
        t_name, t_uuid = self.scratch_name("transient"), h.new_uuid()
        t = h.domain_path(t_uuid)
        n_name, n_uuid = self.scratch_name("net"), h.new_uuid()
        n = h.CONN_PATH + "/network/_" + n_uuid.replace("-", "_")
        tn_name, tn_uuid = self.scratch_name("tnet"), h.new_uuid()
        p_name, p_uuid = self.scratch_name("pool"), h.new_uuid()
        p = h.CONN_PATH + "/storagepool/_" + p_uuid.replace("-", "_")
        vol = lambda key: h.CONN_PATH + "/storagevol/" + h.enc(key)  # noqa: E731
        v1 = vol(f"/pools/{p_name}/v1.img")
        s1, s2 = h.snapshot_path(uuid, "s1"), h.snapshot_path(uuid, "s2")

        def snapshot(path, sname, flags=0):
            return lambda: self.dom(path, "SnapshotCreateXML", "su",
                                    f"<domainsnapshot><name>{sname}</name></domainsnapshot>", flags)

        def autostart(path, iface, value):
            return lambda: self.call(path, PROPS_IFACE, "Set", "ssv", iface, "Autostart", value)

        def refused(call):
            def run():
                with self.assertLibvirtError():
                    call()
            return run

        return [
            # A persistent domain through its whole life.
            ("domain define", lambda: self.connect("DomainDefineXML", "s", h.scratch_domain_xml(name, uuid))),
            ("domain define again", lambda: self.connect("DomainDefineXML", "s",
                                                          h.scratch_domain_xml(name, uuid))),
            ("domain start", lambda: self.dom(d, "Create", "u", 0)),
            ("domain suspend", lambda: self.dom(d, "Suspend", "")),
            ("domain resume", lambda: self.dom(d, "Resume", "")),
            ("domain resume while running", refused(lambda: self.dom(d, "Resume", ""))),
            ("domain autostart on", autostart(d, DOMAIN_IFACE, True)),
            ("domain autostart on again", autostart(d, DOMAIN_IFACE, True)),
            ("domain stop", lambda: self.dom(d, "Destroy", "u", 0)),
            ("domain rename", lambda: self.dom(d, "Rename", "su", new_name, 0)),
            ("domain autostart off", autostart(d, DOMAIN_IFACE, False)),
            ("domain snapshot while off", snapshot(d, "s1")),
            ("domain start again", lambda: self.dom(d, "Create", "u", 0)),
            ("domain snapshot and halt", snapshot(d, "s2", SNAPSHOT_CREATE_HALT)),
            ("snapshot revert to running", lambda: self.snap(s2, "Revert", "u", 0)),
            ("snapshot delete", lambda: self.snap(s2, "Delete", "u", 0)),
            ("domain managed save", lambda: self.dom(d, "ManagedSave", "u", 0)),
            ("domain start from managed save", lambda: self.dom(d, "Create", "u", 0)),
            ("domain undefine while running", lambda: self.dom(d, "Undefine", "u",
                                                                UNDEFINE_SNAPSHOTS_METADATA)),
            ("domain define while running", lambda: self.connect("DomainDefineXML", "s",
                                                                  h.scratch_domain_xml(new_name, uuid))),
            ("domain undefine again while running", lambda: self.dom(d, "Undefine", "u",
                                                                      UNDEFINE_SNAPSHOTS_METADATA)),
            ("transient domain stop, snapshot s1 with it", lambda: self.dom(d, "Shutdown", "u", 0)),
            # A transient domain, saved and restored.
            ("transient domain create", lambda: self.connect("DomainCreateXML", "su",
                                                              h.scratch_domain_xml(t_name, t_uuid), 0)),
            ("transient domain save", lambda: self.dom(t, "Save", "ssu", image, "", 0)),
            ("transient domain restore", lambda: self.connect("DomainRestore", "ssu", image, "", 0)),
            ("transient domain destroy", lambda: self.dom(t, "Destroy", "u", 0)),
            # A network.
            ("network define", lambda: self.connect("NetworkDefineXML", "s", network_xml(n_name, n_uuid,
                                                                                         octet=201))),
            ("network start", lambda: self.net(n, "Create", "")),
            ("network autostart on", autostart(n, NETWORK_IFACE, True)),
            ("network autostart on again", autostart(n, NETWORK_IFACE, True)),
            ("network stop", lambda: self.net(n, "Destroy", "")),
            ("network stop again", lambda: self.net(n, "Destroy", "")),
            ("network undefine", lambda: self.net(n, "Undefine", "")),
            ("transient network create", lambda: self.connect("NetworkCreateXML", "s",
                                                               network_xml(tn_name, tn_uuid, octet=202))),
            ("transient network stop", lambda: self.net(h.CONN_PATH + "/network/_" + tn_uuid.replace("-", "_"),
                                                        "Destroy", "")),
            # A pool and its volumes.
            ("pool define", lambda: self.connect("StoragePoolDefineXML", "su", pool_xml(p_name, p_uuid), 0)),
            ("pool start", lambda: self.pool(p, "Create", "u", 0)),
            ("pool autostart on", autostart(p, POOL_IFACE, True)),
            ("pool autostart on again", autostart(p, POOL_IFACE, True)),
            ("volume create", lambda: self.pool(p, "StorageVolCreateXML", "su", vol_xml("v1.img"), 0)),
            ("volume create another", lambda: self.pool(p, "StorageVolCreateXML", "su", vol_xml("v2.img"), 0)),
            ("volume delete", lambda: self.vol(v1, "Delete", "u", 0)),
            ("pool stop, its volumes with it", lambda: self.pool(p, "Destroy", "")),
            ("pool start, its volumes back", lambda: self.pool(p, "Create", "u", 0)),
            ("pool stop again", lambda: self.pool(p, "Destroy", "")),
            ("pool create over its stopped definition", lambda: self.connect(
                "StoragePoolCreateXML", "su", pool_xml(p_name, p_uuid), 0)),
            ("transient pool stop", lambda: self.pool(p, "Destroy", "")),
        ]
