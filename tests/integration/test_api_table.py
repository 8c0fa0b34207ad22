# SPDX-License-Identifier: LGPL-2.1-or-later
"""Which methods the Test and QEMU connections support, compared with README.md.

Every method of every interface is called once, on each connection, with
harmless dummy arguments
(empty strings, zeros, empty arrays).  A method is "not supported" when it
answers org.libvirt.Error "this function is not supported by the connection
driver: vir...", and "supported" on any other answer or error.  Domain and
snapshot methods run on a scratch domain (and a snapshot of it) that is
re-created whenever a previous call stopped, paused or removed it, so
Destroy, Undefine and friends never touch `test`.

On the QEMU connection the scratch domain is a real (diskless) QEMU guest
when a call starts it; it is destroyed at the end. Where the QEMU
connection has no objects of a kind, its list and define calls answer "not
supported", so none of their members can be reached and all are "no". Its
node device methods run on `computer`, its interface methods on a
definition of a NIC the host does not have (`vbapi0`): Create and Destroy
fail their checks and change nothing.
Networks are served when virtbusd runs as root (the table is generated
so, as CI runs); the scratch network is destroyed and undefined at the
end.

README.md holds the expected table between <!-- api-table:begin --> and
<!-- api-table:end -->.  With UPDATE_API_TABLE=1 the section is rewritten
(appended when README.md has no markers) instead of compared.
"""

import os
import re
import unittest

import dbus

import harness as h
from reference import methods

README = h.REPO_ROOT / "README.md"
BEGIN, END = "<!-- api-table:begin -->", "<!-- api-table:end -->"
IFACES = [("Connect", h.CONNECT_IFACE), ("Domain", h.DOMAIN_IFACE),
          ("DomainSnapshot", h.SNAPSHOT_IFACE), ("Network", "org.libvirt.Network"),
          ("StoragePool", "org.libvirt.StoragePool"), ("StorageVol", "org.libvirt.StorageVol"),
          ("Interface", "org.libvirt.Interface"), ("NodeDevice", "org.libvirt.NodeDevice"),
          ("Secret", "org.libvirt.Secret"), ("NWFilter", "org.libvirt.NWFilter")]

# Scratch objects for the other kinds: each call gets an object that exists,
# recreated when an earlier call (Undefine, Delete) removed it.
NET_XML = ("<network><name>api-net</name><uuid>c0ffee00-0000-4000-8000-0000000000e1</uuid>"
           "<bridge name='apibr0'/></network>")
POOL_XML = ("<pool type='dir'><name>api-pool</name><uuid>c0ffee00-0000-4000-8000-0000000000e2</uuid>"
            "<target><path>/api-pool</path></target></pool>")
VOL_XML = "<volume><name>api.img</name><capacity>1024</capacity></volume>"
IFACE_XML = ("<interface type='ethernet' name='api0'><start mode='none'/>"
             "<mac address='52:54:00:00:0a:01'/></interface>")

QEMU_IFACE_XML = ("<interface type='ethernet' name='vbapi0'><start mode='none'/>"
                  "<mac address='02:00:5e:a9:1e:01'/></interface>")

SCRATCH_NAME = "api-table-scratch"
SCRATCH_UUID = "c0ffee00-0000-4000-8000-00000000a91e"
SNAP_NAME = "api-table-snap"

# An answer with one of these names means the call never reached the
# member (a test bug or a broken daemon), not a classification.
BROKEN = {"org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
          "org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.DBus.Error.InvalidArgs",
          "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout"}


def dummy(sig):
    if sig in ("s", "o"):
        return ""
    if sig in ("y", "n", "q", "i", "u", "x", "t"):
        return 0
    if sig == "d":
        return 0.0
    if sig == "b":
        return False
    if sig.startswith("a{"):
        return dbus.Dictionary({}, signature=sig[2:-1])
    if sig.startswith("a"):
        return dbus.Array([], signature=sig[1:])
    raise ValueError(f"no dummy for {sig!r}")


QEMU_PATH = "/org/libvirt/QEMU"
QEMU_SCRATCH_UUID = "c0ffee00-0000-4000-8000-00000000a91f"
QEMU_SCRATCH_XML = (f"<domain type='qemu'><name>{SCRATCH_NAME}</name><uuid>{QEMU_SCRATCH_UUID}</uuid>"
                    "<memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os>"
                    "<devices><memballoon model='none'/></devices></domain>")
DRIVERS = ("Test", "QEMU")


def render(table):
    """table: {(interface, member): {driver: 'yes'/'no'}}."""
    lines = [BEGIN, "| interface | member | " + " | ".join(DRIVERS) + " |",
             "|---|---|" + "---|" * len(DRIVERS)]
    for (iface, member), values in table.items():
        lines.append(f"| {iface} | {member} | " + " | ".join(values.get(d, "?") for d in DRIVERS) + " |")
    lines.append(END)
    return "\n".join(lines)


def read_readme_table(text):
    """{(interface, member): {driver: 'yes'/'no'}} between the markers, or None."""
    m = re.search(re.escape(BEGIN) + r"(.*?)" + re.escape(END), text, re.S)
    if not m:
        return None
    table = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(DRIVERS) or cells[0] in ("interface", "") or set(cells[0]) <= set("-: "):
            continue
        iface = cells[0].strip("`").removeprefix("org.libvirt.")
        table[(iface, cells[1].strip("`"))] = {d: v.lower() for d, v in zip(DRIVERS, cells[2:])}
    return table


class TestApiTable(h.DaemonTestCase):
    # Network calls on QEMU make a real bridge: not on the host.
    daemon_wrapper = h.private_netns_wrapper()
    collect_signals = False

    def ensure_scratch(self):
        path = h.domain_path(SCRATCH_UUID)
        xml = h.scratch_domain_xml(SCRATCH_NAME, SCRATCH_UUID)
        try:
            persistent = bool(self.dprop(path, "Persistent"))
            state = self.state(path)[0]
        except dbus.DBusException:
            self.connect("DomainDefineXML", "s", xml)
            self.dom(path, "Create", "u", 0)
            return path
        if str(self.dprop(path, "Name")) != SCRATCH_NAME or not persistent:
            self.remove_domain(path)
            self.connect("DomainDefineXML", "s", xml)
            state = h.STATE_SHUTOFF
        if state == h.STATE_PAUSED:
            self.dom(path, "Resume", "")
        elif state != h.STATE_RUNNING:
            if bool(self.dom(path, "HasManagedSaveImage", "u", 0)):
                self.dom(path, "ManagedSaveRemove", "u", 0)
            self.dom(path, "Create", "u", 0)
        return path

    def ensure_snapshot(self):
        dom = self.ensure_scratch()
        try:
            return str(self.dom(dom, "SnapshotLookupByName", "su", SNAP_NAME, 0))
        except dbus.DBusException:
            return str(self.dom(dom, "SnapshotCreateXML", "su",
                                f"<domainsnapshot><name>{SNAP_NAME}</name></domainsnapshot>", 0))

    def ensure_object(self, lookup, define):
        try:
            return str(lookup())
        except dbus.DBusException:
            return str(define())

    def target(self, iface):
        c = self.connect
        if iface == h.CONNECT_IFACE:
            return h.CONN_PATH
        if iface == h.DOMAIN_IFACE:
            return self.ensure_scratch()
        if iface == h.SNAPSHOT_IFACE:
            return self.ensure_snapshot()
        if iface == "org.libvirt.Network":
            return self.ensure_object(lambda: c("NetworkLookupByName", "s", "api-net"),
                                      lambda: c("NetworkDefineXML", "s", NET_XML))
        pool = None
        if iface in ("org.libvirt.StoragePool", "org.libvirt.StorageVol"):
            pool = self.ensure_object(lambda: c("StoragePoolLookupByName", "s", "api-pool"),
                                      lambda: c("StoragePoolDefineXML", "su", POOL_XML, 0))
            if iface == "org.libvirt.StoragePool":
                return pool
            if not bool(self.call(pool, h.PROPS_IFACE, "Get", "ss", "org.libvirt.StoragePool", "Active")):
                self.call(pool, "org.libvirt.StoragePool", "Create", "u", 0)
            return self.ensure_object(
                lambda: self.call(pool, "org.libvirt.StoragePool", "StorageVolLookupByName", "s", "api.img"),
                lambda: self.call(pool, "org.libvirt.StoragePool", "StorageVolCreateXML", "su", VOL_XML, 0))
        if iface == "org.libvirt.Interface":
            return self.ensure_object(lambda: c("InterfaceLookupByName", "s", "api0"),
                                      lambda: c("InterfaceDefineXML", "su", IFACE_XML, 0))
        if iface == "org.libvirt.NodeDevice":
            return str(c("NodeDeviceLookupByName", "s", "computer"))
        return None

    def qemu_scratch(self):
        path = QEMU_PATH + "/domain/_" + QEMU_SCRATCH_UUID.replace("-", "_")
        try:
            self.call(path, h.PROPS_IFACE, "Get", "ss", h.DOMAIN_IFACE, "Name")
        except dbus.DBusException:
            path = str(self.call(QEMU_PATH, h.CONNECT_IFACE, "DomainDefineXML", "s", QEMU_SCRATCH_XML))
        return path

    def qemu_target(self, iface):
        if iface == h.CONNECT_IFACE:
            return QEMU_PATH
        if iface == h.DOMAIN_IFACE:
            return self.qemu_scratch()
        if iface == "org.libvirt.NodeDevice":
            # The host's `computer`: not a PCI device, so Detach, ReAttach
            # and Reset refuse it without touching the host.
            return str(self.call(QEMU_PATH, h.CONNECT_IFACE, "NodeDeviceLookupByName", "s", "computer"))
        if iface == "org.libvirt.Interface":
            # A definition of a NIC this host does not have: Create and
            # Destroy fail their checks before touching the kernel.
            c = lambda m, sig, *a: self.call(QEMU_PATH, h.CONNECT_IFACE, m, sig, *a)
            return self.ensure_object(lambda: c("InterfaceLookupByName", "s", "vbapi0"),
                                      lambda: c("InterfaceDefineXML", "su", QEMU_IFACE_XML, 0))
        if iface == "org.libvirt.Network":
            # Served when the daemon runs as root (the harness gives it a
            # network namespace of its own, so Create makes its bridge
            # there); otherwise the define is unsupported and so is every
            # member.
            def c(method, sig, *args):
                return self.call(QEMU_PATH, h.CONNECT_IFACE, method, sig, *args)
            try:
                return self.ensure_object(lambda: c("NetworkLookupByName", "s", "api-net"),
                                          lambda: c("NetworkDefineXML", "s", NET_XML))
            except dbus.DBusException:
                return None
        return None

    def classify(self, driver="Test"):
        table, broken, messages = {}, [], []
        target = self.target if driver == "Test" else self.qemu_target
        for short, iface in IFACES:
            for name, args, call in methods(iface):
                path = target(iface)
                if path is None:
                    # The test connection has no objects of this kind (its
                    # list and define calls are themselves unsupported), so
                    # none of the kind's members can be reached.
                    table[(short, name)] = "no"
                    continue
                sig = "".join(t for _, t in args)
                values = [dummy(t) for _, t in args]
                try:
                    self.call(path, iface, name, sig, *values, timeout=10)
                    table[(short, name)] = "yes"
                except dbus.DBusException as e:
                    if h.errname(e) in BROKEN:
                        broken.append(f"{short}.{name}: {h.errname(e)}: {h.errmsg(e)}")
                    # Only "not supported: virX" means the member is missing;
                    # the same code with other detail ("pool type '' does
                    # not support source discovery") is an implemented
                    # member refusing this input.
                    elif h.errname(e) == "org.libvirt.Error" and re.match(
                            r"^" + re.escape(h.NOT_SUPPORTED) + r": vir\w+$", h.errmsg(e)):
                        table[(short, name)] = "no"
                        messages.append((f"{short}.{name}", call, h.errmsg(e)))
                    else:
                        table[(short, name)] = "yes"
        return table, broken, messages

    def classify_qemu(self):
        try:
            return self.classify("QEMU")
        finally:
            # Guests outlive virtbusd: never leave the scratch one running.
            # Nor the scratch network (its bridge and dnsmasq outlive it too).
            try:
                net = str(self.call(QEMU_PATH, h.CONNECT_IFACE, "NetworkLookupByName", "s", "api-net"))
                for method in ("Destroy", "Undefine"):
                    try:
                        self.call(net, "org.libvirt.Network", method, "")
                    except dbus.DBusException:
                        pass
            except dbus.DBusException:
                pass
            try:
                path = self.qemu_scratch()
                if bool(self.call(path, h.PROPS_IFACE, "Get", "ss", h.DOMAIN_IFACE, "Active")):
                    self.call(path, h.DOMAIN_IFACE, "Destroy", "u", 0)
                self.call(path, h.DOMAIN_IFACE, "Undefine", "u", 0)
            except dbus.DBusException:
                pass

    def test_api_table(self):
        per_driver = {"Test": self.classify("Test"), "QEMU": self.classify_qemu()}
        self.assertDaemonAlive()
        table = {}
        for driver, (t, broken, _) in per_driver.items():
            self.assertEqual(broken, [], f"calls on {driver} that did not reach their member")
            for key, value in t.items():
                table.setdefault(key, {})[driver] = value
        section = render(table)
        for driver in DRIVERS:
            yes = sum(1 for v in table.values() if v.get(driver) == "yes")
            print(f"\nAPI table: {yes} of {len(table)} methods supported by the {driver} connection")
        print(section)

        if not README.is_file():
            print(f"note: {README} does not exist; nothing to compare")
            return
        text = README.read_text()
        expected = read_readme_table(text)
        if os.environ.get("UPDATE_API_TABLE") == "1":
            if expected is None:
                text = text.rstrip("\n") + "\n\n" + section + "\n"
            else:
                text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda m: section,
                              text, count=1, flags=re.S)
            README.write_text(text)
            print(f"note: rewrote the API table in {README}")
            return
        if expected is None:
            print(f"note: {README} has no {BEGIN} section; comparison skipped "
                  f"(run with UPDATE_API_TABLE=1 to add it)")
            return
        if not expected:
            self.fail(f"{README}: the {BEGIN} section holds no table yet; "
                      f"run with UPDATE_API_TABLE=1 to generate it")
        diffs = []
        for key in sorted(set(table) | set(expected)):
            if table.get(key) != expected.get(key):
                diffs.append(f"{key[0]}.{key[1]}: README says {expected.get(key)}, "
                             f"daemon says {table.get(key)}")
        self.assertEqual(diffs, [], "README.md API table is out of date "
                                    "(UPDATE_API_TABLE=1 rewrites it)")

    def test_readme_parser(self):
        table = {("Connect", "ListDomains"): {"Test": "yes", "QEMU": "yes"},
                 ("Domain", "Rename"): {"Test": "no", "QEMU": "yes"}}
        self.assertEqual(read_readme_table("x\n" + render(table) + "\ny"), table)
        self.assertIsNone(read_readme_table("no markers"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
