# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connect, Domain and DomainSnapshot members on the test driver.

Each implemented member is called at least once and its effect checked
(state, properties, XML, listings, lookups) together with the signals it
must emit.  Expected values are libvirt's test:///default behaviour and the
wire contract.  Tests that change a domain work on scratch domains, so the
order of tests inside a class does not matter.
"""

import os
import socket
import tempfile
import unittest
import xml.etree.ElementTree as ET

import dbus

import harness as h
from harness import (CONN_PATH, DOMAIN_IFACE, TEST_PATH, TEST_UUID,
                     EV_DEFINED, EV_UNDEFINED, EV_STARTED, EV_SUSPENDED,
                     EV_RESUMED, EV_STOPPED)

# virConnectListAllDomainsFlags
L_ACTIVE, L_INACTIVE, L_PERSISTENT, L_TRANSIENT = 1, 2, 4, 8
L_RUNNING, L_PAUSED, L_SHUTOFF, L_OTHER = 16, 32, 64, 128
L_MANAGEDSAVE, L_NO_MANAGEDSAVE, L_AUTOSTART, L_NO_AUTOSTART = 256, 512, 1024, 2048
L_HAS_SNAPSHOT, L_NO_SNAPSHOT, L_HAS_CHECKPOINT, L_NO_CHECKPOINT = 4096, 8192, 16384, 32768

AFFECT_LIVE, AFFECT_CONFIG = 1, 2
XML_SECURE, XML_INACTIVE = 1, 2
VCPU_MAXIMUM = 4
MEMORY_VIRTUAL = 1
DUMP_CRASH = 1
UNDEFINE_MANAGED_SAVE, UNDEFINE_SNAPSHOTS_METADATA = 1, 2

SNAP_CREATE_HALT = 8
SNAP_LIST_ROOTS, SNAP_LIST_LEAVES, SNAP_LIST_NO_LEAVES = 1, 4, 8
SNAP_LIST_INACTIVE, SNAP_LIST_ACTIVE = 32, 64
SNAP_DELETE_CHILDREN = 1
SNAP_REVERT_RUNNING = 1

META_DESCRIPTION, META_TITLE, META_ELEMENT = 0, 1, 2

# virDomainMemoryStatTags
MEMSTAT_ACTUAL_BALLOON = 6


def parse(xml):
    return ET.fromstring(xml)


def ev(path, event, detail):
    return (path, event, detail)


class EventsMixin:
    def assertEvents(self, expected, timeout=2.0):
        """The DomainEvent signals since the last clear() are exactly `expected`."""
        def count(sigs):
            return sum(1 for (i, m, p, a) in sigs
                       if i == h.CONNECT_IFACE and m == "DomainEvent")
        self.collector.wait(lambda s: count(s) >= len(expected), timeout)
        got = self.collector.domain_events()
        self.assertEqual(got, expected, "DomainEvent signals")
        self.collector.clear()

    def assertNoEvents(self):
        self.assertEvents([])


class TestInitialWorld(h.DaemonTestCase):
    """The pristine test:///default world, read only."""

    def test_connect_properties(self):
        self.assertIs(bool(self.prop(CONN_PATH, h.CONNECT_IFACE, "Encrypted")), False)
        self.assertIsInstance(self.prop(CONN_PATH, h.CONNECT_IFACE, "Encrypted"), dbus.Boolean)
        # wire-contract.md: Secure false.  (libvirt's testConnectIsSecure
        # answers 1; the contract decides here.)
        self.assertIs(bool(self.prop(CONN_PATH, h.CONNECT_IFACE, "Secure")), False)
        hostname = str(self.prop(CONN_PATH, h.CONNECT_IFACE, "Hostname"))
        self.assertIn(hostname, {socket.gethostname(), socket.getfqdn()})
        version = self.prop(CONN_PATH, h.CONNECT_IFACE, "Version")
        self.assertIsInstance(version, dbus.UInt64)
        self.assertEqual(int(version), 2)
        libversion = self.prop(CONN_PATH, h.CONNECT_IFACE, "LibVersion")
        self.assertIsInstance(libversion, dbus.UInt64)
        self.assertGreater(int(libversion), 0)

    def test_list_domains(self):
        self.assertEqual(self.list_domains(0), [TEST_PATH])

    def test_test_domain_properties(self):
        p = TEST_PATH
        self.assertEqual(str(self.dprop(p, "Name")), "test")
        self.assertEqual(str(self.dprop(p, "UUID")), TEST_UUID)
        self.assertEqual(int(self.dprop(p, "Id")), 1)
        self.assertIsInstance(self.dprop(p, "Id"), dbus.UInt32)
        self.assertIs(bool(self.dprop(p, "Active")), True)
        self.assertIs(bool(self.dprop(p, "Persistent")), True)
        self.assertIs(bool(self.dprop(p, "Autostart")), False)
        self.assertIs(bool(self.dprop(p, "Updated")), False)
        self.assertEqual(str(self.dprop(p, "OSType")), "linux")
        sched = self.dprop(p, "SchedulerType")
        self.assertEqual((str(sched[0]), int(sched[1])), ("fair", 1))

    def test_test_domain_state(self):
        self.assertEqual(self.state(TEST_PATH)[0], h.STATE_RUNNING)

    def test_test_domain_xml(self):
        root = parse(self.xml(TEST_PATH))
        self.assertEqual(root.tag, "domain")
        self.assertEqual(root.get("type"), "test")
        self.assertEqual(root.get("id"), "1")
        self.assertEqual(root.findtext("name"), "test")
        self.assertEqual(root.findtext("uuid"), TEST_UUID)
        mem = root.find("memory")
        self.assertEqual((mem.text, mem.get("unit", "KiB")), ("8388608", "KiB"))
        cur = root.find("currentMemory")
        self.assertEqual((cur.text, cur.get("unit", "KiB")), ("2097152", "KiB"))
        vcpu = root.find("vcpu")
        self.assertEqual((vcpu.text, vcpu.get("placement")), ("2", "static"))
        ostype = root.find("os/type")
        self.assertEqual((ostype.text, ostype.get("arch")), ("hvm", "i686"))
        self.assertEqual(root.find("os/boot").get("dev"), "hd")
        disks = root.findall("devices/disk")
        self.assertEqual(len(disks), 1)
        self.assertEqual((disks[0].get("type"), disks[0].get("device")), ("file", "disk"))
        self.assertEqual(disks[0].find("source").get("file"), "/guest/diskimage1")
        self.assertEqual((disks[0].find("target").get("dev"), disks[0].find("target").get("bus")),
                         ("vda", "virtio"))
        nets = root.findall("devices/interface")
        self.assertEqual(len(nets), 1)
        self.assertEqual(nets[0].get("type"), "network")
        self.assertEqual(nets[0].find("mac").get("address"), "aa:bb:cc:dd:ee:ff")
        self.assertEqual(nets[0].find("source").get("network"), "default")
        self.assertEqual(nets[0].find("target").get("dev"), "testnet0")
        self.assertEqual(root.find("devices/memballoon").get("model"), "virtio")
        # The inactive definition of a running domain carries no id.
        self.assertIsNone(parse(self.xml(TEST_PATH, XML_INACTIVE)).get("id"))
        self.assertEqual(parse(self.xml(TEST_PATH, XML_SECURE)).findtext("name"), "test")

    def test_lookups_return_the_listed_path(self):
        listed = self.list_domains(0)
        self.assertEqual(str(self.connect("DomainLookupByName", "s", "test")), listed[0])
        self.assertEqual(str(self.connect("DomainLookupByUUID", "s", TEST_UUID)), listed[0])
        self.assertEqual(str(self.connect("DomainLookupByID", "i", 1)), listed[0])
        # virUUIDParse accepts upper case and missing dashes; the path is
        # still the one canonical path.
        self.assertEqual(str(self.connect("DomainLookupByUUID", "s", TEST_UUID.upper())), TEST_PATH)
        self.assertEqual(str(self.connect("DomainLookupByUUID", "s", TEST_UUID.replace("-", ""))),
                         TEST_PATH)

    def test_lookup_failures(self):
        with self.assertLibvirtError("Domain not found: no domain with matching name 'nope'"):
            self.connect("DomainLookupByName", "s", "nope")
        with self.assertLibvirtError("Domain not found"):
            self.connect("DomainLookupByID", "i", 4242)
        with self.assertLibvirtError("Domain not found"):
            self.connect("DomainLookupByUUID", "s", "00000000-0000-0000-0000-000000000001")

    def test_vcpus(self):
        self.assertEqual(int(self.dom(TEST_PATH, "GetVcpus", "u", 0)), 2)
        self.assertEqual(int(self.dom(TEST_PATH, "GetVcpus", "u", VCPU_MAXIMUM)), 2)
        pins = self.dom(TEST_PATH, "GetVcpuPinInfo", "u", 0)
        self.assertEqual([[bool(b) for b in row] for row in pins], [[True] * 8, [True] * 8])

    def test_scheduler_parameters(self):
        params = self.dom(TEST_PATH, "GetSchedulerParameters", "u", 0)
        self.assertEqual(dict(params), {"weight": 50})
        self.assertIsInstance(params["weight"], dbus.UInt32)

    def test_memory_stats(self):
        stats = {int(k): int(v) for k, v in self.dom(TEST_PATH, "MemoryStats", "u", 0).items()}
        self.assertEqual(stats.get(MEMSTAT_ACTUAL_BALLOON), 2097152)

    def test_guest_queries(self):
        self.assertEqual(str(self.dom(TEST_PATH, "GetHostname", "u", 0)), "testhost")
        t = self.dom(TEST_PATH, "GetTime", "u", 0)
        self.assertEqual((int(t[0]), int(t[1])), (627319920, 0))
        ci = self.dom(TEST_PATH, "GetControlInfo", "u", 0)
        self.assertEqual(int(ci[0]), 0)  # VIR_DOMAIN_CONTROL_OK
        errors = self.dom(TEST_PATH, "GetDiskErrors", "u", 0)
        self.assertEqual([(str(d), int(e)) for d, e in errors], [("vda", 1)])
        fsinfo = self.dom(TEST_PATH, "GetFSInfo", "u", 0)
        self.assertEqual([(str(a), str(b), str(c), [str(x) for x in d]) for a, b, c, d in fsinfo],
                         [("/", "vda1", "ext4", ["vda"]), ("/boot", "vda2", "ext4", ["vda"])])
        addrs = self.dom(TEST_PATH, "InterfaceAddresses", "uu", 0, 0)
        self.assertEqual(
            [(str(n), str(m), [(int(t), str(a), int(p)) for t, a, p in al]) for n, m, al in addrs],
            [("testnet0", "aa:bb:cc:dd:ee:ff", [(0, "192.168.122.3", 24)])])
        peek = self.dom(TEST_PATH, "MemoryPeek", "ttu", 0, 16, MEMORY_VIRTUAL)
        self.assertEqual([int(b) for b in peek], list(range(16)))
        with self.assertLibvirtError("invalid argument"):
            self.dom(TEST_PATH, "MemoryPeek", "ttu", 0, 16, 0)

    def test_connect_queries(self):
        caps = parse(str(self.connect("GetCapabilities", "")))
        self.assertEqual(caps.tag, "capabilities")
        self.assertEqual(caps.findtext("host/cpu/arch"), "i686")
        self.assertIn("hvm", [g.findtext("os_type") for g in caps.findall("guest")])
        sysinfo = parse(str(self.connect("GetSysinfo", "u", 0)))
        self.assertEqual((sysinfo.tag, sysinfo.get("type")), ("sysinfo", "smbios"))
        models = [str(m) for m in self.connect("GetCPUModelNames", "su", "i686", 0)]
        self.assertGreater(len(models), 0)
        with self.assertLibvirtError("invalid argument: cannot find architecture nope"):
            self.connect("GetCPUModelNames", "su", "nope", 0)
        cpumap = self.connect("NodeGetCPUMap", "u", 0)
        self.assertEqual(len(cpumap), 8)
        self.assertTrue(any(bool(b) for b in cpumap))
        cpustats = {str(k): int(v) for k, v in self.connect("NodeGetCPUStats", "iu", -1, 0).items()}
        self.assertEqual(set(cpustats), {"user", "kernel", "idle", "iowait"})
        self.assertGreater(int(self.connect("NodeGetFreeMemory", "")), 0)
        model = self.connect("NodeGetSecurityModel", "")
        self.assertEqual((str(model[0]), str(model[1])), ("testSecurity", ""))

    def test_baseline_cpu(self):
        cpu = ("<cpu><arch>x86_64</arch><model>Nehalem</model><vendor>Intel</vendor>"
               "<topology sockets='1' cores='2' threads='1'/></cpu>")
        out = parse(str(self.connect("BaselineCPU", "asu", [cpu, cpu], 0)))
        self.assertEqual(out.tag, "cpu")
        self.assertEqual(out.findtext("model"), "Nehalem")


class TestListFilters(h.DaemonTestCase):
    """ListDomains with each of libvirt's filter flags over a mixed world."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The helpers are instance methods; borrow an instance to build the world.
        self = cls("test_unfiltered")
        world = {}
        world[TEST_PATH] = dict(name="test", active=True, persistent=True, state="running",
                                managedsave=False, autostart=False, snapshot=False)
        p, n, _ = self.define_scratch("inactive")
        self.call(p, h.PROPS_IFACE, "Set", "ssv", DOMAIN_IFACE, "Autostart", dbus.Boolean(True))
        world[p] = dict(name=n, active=False, persistent=True, state="shutoff",
                        managedsave=False, autostart=True, snapshot=False)
        p, n, _ = self.define_scratch("paused", start=True)
        self.dom(p, "Suspend", "")
        world[p] = dict(name=n, active=True, persistent=True, state="paused",
                        managedsave=False, autostart=False, snapshot=False)
        n = self.scratch_name("transient")
        u = h.new_uuid()
        p = str(self.connect("DomainCreateXML", "su", h.scratch_domain_xml(n, u), 0))
        world[p] = dict(name=n, active=True, persistent=False, state="running",
                        managedsave=False, autostart=False, snapshot=False)
        p, n, _ = self.define_scratch("saved", start=True)
        self.dom(p, "ManagedSave", "u", 0)
        world[p] = dict(name=n, active=False, persistent=True, state="shutoff",
                        managedsave=True, autostart=False, snapshot=False)
        p, n, _ = self.define_scratch("snapped", start=True)
        self.dom(p, "SnapshotCreateXML", "su", "<domainsnapshot><name>s</name></domainsnapshot>", 0)
        world[p] = dict(name=n, active=True, persistent=True, state="running",
                        managedsave=False, autostart=False, snapshot=True)
        cls.world = world

    def expect(self, flags):
        groups = [
            (L_ACTIVE | L_INACTIVE, {L_ACTIVE: lambda d: d["active"],
                                     L_INACTIVE: lambda d: not d["active"]}),
            (L_PERSISTENT | L_TRANSIENT, {L_PERSISTENT: lambda d: d["persistent"],
                                          L_TRANSIENT: lambda d: not d["persistent"]}),
            (L_RUNNING | L_PAUSED | L_SHUTOFF | L_OTHER,
             {L_RUNNING: lambda d: d["state"] == "running",
              L_PAUSED: lambda d: d["state"] == "paused",
              L_SHUTOFF: lambda d: d["state"] == "shutoff",
              L_OTHER: lambda d: d["state"] not in ("running", "paused", "shutoff")}),
            (L_MANAGEDSAVE | L_NO_MANAGEDSAVE, {L_MANAGEDSAVE: lambda d: d["managedsave"],
                                                L_NO_MANAGEDSAVE: lambda d: not d["managedsave"]}),
            (L_AUTOSTART | L_NO_AUTOSTART, {L_AUTOSTART: lambda d: d["autostart"],
                                            L_NO_AUTOSTART: lambda d: not d["autostart"]}),
            (L_HAS_SNAPSHOT | L_NO_SNAPSHOT, {L_HAS_SNAPSHOT: lambda d: d["snapshot"],
                                              L_NO_SNAPSHOT: lambda d: not d["snapshot"]}),
            (L_HAS_CHECKPOINT | L_NO_CHECKPOINT, {L_HAS_CHECKPOINT: lambda d: False,
                                                  L_NO_CHECKPOINT: lambda d: True}),
        ]
        out = set()
        for path, d in self.world.items():
            ok = True
            for mask, preds in groups:
                if flags & mask:
                    ok = ok and any(pred(d) for bit, pred in preds.items() if flags & bit)
            if ok:
                out.add(path)
        return out

    def test_unfiltered(self):
        self.assertEqual(set(self.list_domains(0)), set(self.world))
        self.assertEqual(len(self.list_domains(0)), len(self.world))

    def test_each_flag(self):
        for flag in [L_ACTIVE, L_INACTIVE, L_PERSISTENT, L_TRANSIENT, L_RUNNING, L_PAUSED,
                     L_SHUTOFF, L_OTHER, L_MANAGEDSAVE, L_NO_MANAGEDSAVE, L_AUTOSTART,
                     L_NO_AUTOSTART, L_HAS_SNAPSHOT, L_NO_SNAPSHOT, L_HAS_CHECKPOINT,
                     L_NO_CHECKPOINT]:
            with self.subTest(flag=flag):
                self.assertEqual(set(self.list_domains(flag)), self.expect(flag))

    def test_combinations(self):
        for flags in [L_ACTIVE | L_INACTIVE, L_ACTIVE | L_PERSISTENT, L_INACTIVE | L_AUTOSTART,
                      L_RUNNING | L_PAUSED, L_ACTIVE | L_TRANSIENT, L_SHUTOFF | L_NO_MANAGEDSAVE,
                      L_PERSISTENT | L_RUNNING | L_NO_SNAPSHOT]:
            with self.subTest(flags=flags):
                self.assertEqual(set(self.list_domains(flags)), self.expect(flags))

    def test_lookups_match_listing(self):
        for path in self.list_domains(0):
            name = str(self.dprop(path, "Name"))
            uuid = str(self.dprop(path, "UUID"))
            self.assertEqual(name, self.world[path]["name"])
            self.assertEqual(path, h.domain_path(uuid))
            self.assertEqual(str(self.connect("DomainLookupByName", "s", name)), path)
            self.assertEqual(str(self.connect("DomainLookupByUUID", "s", uuid)), path)
            if self.world[path]["active"]:
                dom_id = int(self.dprop(path, "Id"))
                self.assertEqual(str(self.connect("DomainLookupByID", "i", dom_id)), path)
            else:
                self.assertEqual(int(self.dprop(path, "Id")), h.UINT32_MAX)

    def test_unknown_flag(self):
        with self.assertLibvirtError(regex=r"^unsupported flags "
                                           r"\(0x40000000\) in function \S+$"):
            self.list_domains(0x40000000)


class TestLifecycle(EventsMixin, h.DaemonTestCase):
    """State changes of domains and the DomainEvent signals they emit."""

    def test_define_start_suspend_resume_shutdown(self):
        name = self.scratch_name()
        uuid = h.new_uuid()
        self.collector.clear()
        path = str(self.connect("DomainDefineXML", "s", h.scratch_domain_xml(name, uuid)))
        self.assertEqual(path, h.domain_path(uuid))
        self.assertEvents([ev(path, EV_DEFINED, h.DEFINED_ADDED)])
        self.assertIn(path, self.list_domains(0))
        self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_UNKNOWN))
        self.assertIs(bool(self.dprop(path, "Active")), False)
        self.assertIs(bool(self.dprop(path, "Persistent")), True)
        self.assertEqual(int(self.dprop(path, "Id")), h.UINT32_MAX)
        self.assertIsNone(parse(self.xml(path)).get("id"))

        self.dom(path, "Create", "u", 0)
        self.assertEvents([ev(path, EV_STARTED, h.STARTED_BOOTED)])
        self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_BOOTED))
        self.assertIs(bool(self.dprop(path, "Active")), True)
        dom_id = int(self.dprop(path, "Id"))
        self.assertNotIn(dom_id, (1, h.UINT32_MAX))
        self.assertEqual(parse(self.xml(path)).get("id"), str(dom_id))
        self.assertEqual(str(self.connect("DomainLookupByID", "i", dom_id)), path)
        with self.assertLibvirtError():
            self.dom(path, "Create", "u", 0)
        self.assertNoEvents()

        self.dom(path, "Suspend", "")
        self.assertEvents([ev(path, EV_SUSPENDED, h.SUSPENDED_PAUSED)])
        self.assertEqual(self.state(path), (h.STATE_PAUSED, h.PAUSED_USER))
        with self.assertLibvirtError():
            self.dom(path, "Suspend", "")
        self.assertNoEvents()

        self.dom(path, "Resume", "")
        self.assertEvents([ev(path, EV_RESUMED, h.RESUMED_UNPAUSED)])
        self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_UNPAUSED))
        with self.assertLibvirtError():
            self.dom(path, "Resume", "")
        self.assertNoEvents()

        self.dom(path, "Shutdown", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_SHUTDOWN)])
        self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_SHUTDOWN))
        self.assertEqual(int(self.dprop(path, "Id")), h.UINT32_MAX)
        with self.assertLibvirtError():
            self.dom(path, "Shutdown", "u", 0)

        self.collector.clear()
        self.dom(path, "Undefine", "u", 0)
        self.assertEvents([ev(path, EV_UNDEFINED, h.UNDEFINED_REMOVED)])
        self.assertNotIn(path, self.list_domains(0))
        with self.assertLibvirtError(f"Domain not found: no domain with matching name '{name}'"):
            self.connect("DomainLookupByName", "s", name)

    def test_destroy(self):
        path, _, _ = self.define_scratch(start=True)
        self.dom(path, "Destroy", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_DESTROYED)])
        self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_DESTROYED))
        with self.assertLibvirtError("Requested operation is not valid: domain is not running"):
            self.dom(path, "Destroy", "u", 0)
        self.assertNoEvents()
        self.remove_domain(path)

    def test_reboot_and_reset(self):
        path, _, _ = self.define_scratch(start=True)
        self.dom(path, "Reboot", "u", 0)
        # on_reboot=restart: the domain keeps running, no lifecycle event.
        self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_BOOTED))
        self.assertNoEvents()
        for args in self.collector.of("Reboot", path):
            self.assertEqual(args, ())
        self.collector.clear()
        self.dom(path, "Reset", "u", 0)
        self.assertEqual(self.state(path)[0], h.STATE_RUNNING)
        self.assertNoEvents()
        self.dom(path, "Destroy", "u", 0)
        with self.assertLibvirtError("Requested operation is not valid: domain is not running"):
            self.dom(path, "Reboot", "u", 0)
        with self.assertLibvirtError("Requested operation is not valid: domain is not running"):
            self.dom(path, "Reset", "u", 0)
        self.remove_domain(path)

    def test_transient_domain(self):
        name = self.scratch_name("transient")
        uuid = h.new_uuid()
        self.collector.clear()
        path = str(self.connect("DomainCreateXML", "su", h.scratch_domain_xml(name, uuid), 0))
        self.assertEqual(path, h.domain_path(uuid))
        self.assertEvents([ev(path, EV_STARTED, h.STARTED_BOOTED)])
        self.assertIs(bool(self.dprop(path, "Persistent")), False)
        self.assertIs(bool(self.dprop(path, "Active")), True)
        self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_BOOTED))
        self.assertIn(path, self.list_domains(L_TRANSIENT))
        self.dom(path, "Destroy", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_DESTROYED)])
        # A transient domain is gone once it stops.
        self.assertNotIn(path, self.list_domains(0))
        with self.assertLibvirtError("Domain not found"):
            self.connect("DomainLookupByUUID", "s", uuid)
        try:
            self.dom(path, "GetState", "u", 0)
            self.fail("a vanished domain still answers")
        except dbus.DBusException as e:
            self.assertIn(h.errname(e), h.UNKNOWN_OBJECT_ERRORS, str(e))

    def test_create_with_files(self):
        # libvirt's test driver implements both (testDomainCreateWithFiles,
        # testDomainCreateXMLWithFiles): they start like Create/CreateXML.
        path, _, _ = self.define_scratch()
        self.dom(path, "CreateWithFiles", "ahu", dbus.Array([], signature="h"), 0)
        self.assertEvents([ev(path, EV_STARTED, h.STARTED_BOOTED)])
        self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_BOOTED))
        self.remove_domain(path)
        self.collector.clear()
        name, uuid = self.scratch_name("transient"), h.new_uuid()
        tpath = str(self.connect("DomainCreateXMLWithFiles", "sahu", h.scratch_domain_xml(name, uuid),
                                 dbus.Array([], signature="h"), 0))
        self.assertEqual(tpath, h.domain_path(uuid))
        self.assertEvents([ev(tpath, EV_STARTED, h.STARTED_BOOTED)])
        self.assertIs(bool(self.dprop(tpath, "Persistent")), False)
        self.dom(tpath, "Destroy", "u", 0)

    def test_undefine_running_makes_transient(self):
        path, _, _ = self.define_scratch(start=True)
        self.dom(path, "Undefine", "u", 0)
        self.assertEvents([ev(path, EV_UNDEFINED, h.UNDEFINED_REMOVED)])
        self.assertIs(bool(self.dprop(path, "Persistent")), False)
        self.assertIs(bool(self.dprop(path, "Active")), True)
        self.dom(path, "Shutdown", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_SHUTDOWN)])
        self.assertNotIn(path, self.list_domains(0))

    def test_define_updates(self):
        path, name, uuid = self.define_scratch()
        self.connect("DomainDefineXML", "s", h.scratch_domain_xml(name, uuid, current=262144))
        self.assertEvents([ev(path, EV_DEFINED, h.DEFINED_UPDATED)])
        self.assertEqual(parse(self.xml(path)).findtext("currentMemory"), "262144")
        # Same name, other UUID; same UUID, other name: both refused.
        with self.assertLibvirtError("operation failed"):
            self.connect("DomainDefineXML", "s", h.scratch_domain_xml(name, h.new_uuid()))
        with self.assertLibvirtError("operation failed"):
            self.connect("DomainDefineXML", "s", h.scratch_domain_xml(name + "-other", uuid))
        with self.assertLibvirtError("operation failed"):
            self.connect("DomainCreateXML", "su", h.scratch_domain_xml("test", h.new_uuid()), 0)
        self.assertNoEvents()
        self.assertEqual(len([p for p in self.list_domains(0) if p == path]), 1)
        self.remove_domain(path)

    def test_rename(self):
        path, name, uuid = self.define_scratch()
        new = name + "-renamed"
        self.dom(path, "Rename", "su", new, 0)
        self.assertEvents([ev(path, EV_UNDEFINED, h.UNDEFINED_RENAMED),
                           ev(path, EV_DEFINED, h.DEFINED_RENAMED)])
        self.assertEqual(str(self.dprop(path, "Name")), new)
        self.assertEqual(str(self.connect("DomainLookupByName", "s", new)), path)
        self.assertEqual(parse(self.xml(path)).findtext("name"), new)
        with self.assertLibvirtError("Domain not found"):
            self.connect("DomainLookupByName", "s", name)
        self.dom(path, "Create", "u", 0)
        self.collector.clear()
        with self.assertLibvirtError("Requested operation is not valid: cannot rename active domain"):
            self.dom(path, "Rename", "su", name, 0)
        self.assertNoEvents()
        self.remove_domain(path)

    def test_managed_save(self):
        path, _, _ = self.define_scratch(start=True)
        self.assertIs(bool(self.dom(path, "HasManagedSaveImage", "u", 0)), False)
        self.dom(path, "ManagedSave", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_SAVED)])
        self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_SAVED))
        self.assertIs(bool(self.dom(path, "HasManagedSaveImage", "u", 0)), True)
        self.assertIn(path, self.list_domains(L_MANAGEDSAVE))
        self.assertNotIn(path, self.list_domains(L_NO_MANAGEDSAVE))
        with self.assertLibvirtError("Requested operation is not valid: Refusing to undefine "
                                     "while domain managed save image exists"):
            self.dom(path, "Undefine", "u", 0)
        self.dom(path, "ManagedSaveRemove", "u", 0)
        self.assertIs(bool(self.dom(path, "HasManagedSaveImage", "u", 0)), False)
        self.assertNotIn(path, self.list_domains(L_MANAGEDSAVE))
        # Starting again clears a managed save image.
        self.dom(path, "Create", "u", 0)
        self.dom(path, "ManagedSave", "u", 0)
        self.collector.clear()
        self.dom(path, "Create", "u", 0)
        self.assertEqual(self.state(path)[0], h.STATE_RUNNING)
        self.assertIs(bool(self.dom(path, "HasManagedSaveImage", "u", 0)), False)
        self.assertEqual(len(self.collector.domain_events()), 1)
        self.collector.clear()
        self.dom(path, "ManagedSave", "u", 0)
        self.collector.clear()
        self.dom(path, "Undefine", "u", UNDEFINE_MANAGED_SAVE)
        self.assertEvents([ev(path, EV_UNDEFINED, h.UNDEFINED_REMOVED)])
        self.assertNotIn(path, self.list_domains(0))

    def test_managed_save_of_transient_refused(self):
        name = self.scratch_name("transient")
        path = str(self.connect("DomainCreateXML", "su", h.scratch_domain_xml(name, h.new_uuid()), 0))
        self.collector.clear()
        with self.assertLibvirtError("Requested operation is not valid"):
            self.dom(path, "ManagedSave", "u", 0)
        self.assertNoEvents()
        self.dom(path, "Destroy", "u", 0)

    def test_save_and_restore(self):
        path, name, uuid = self.define_scratch(start=True)
        with tempfile.TemporaryDirectory(prefix="virtbus-save-") as d:
            image = os.path.join(d, "image.sav")
            self.dom(path, "Save", "ssu", image, "", 0)
            self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_SAVED)])
            self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_SAVED))
            self.assertTrue(os.path.isfile(image))
            self.assertGreater(os.path.getsize(image), 0)
            saved = parse(str(self.connect("DomainSaveImageGetXMLDesc", "su", image, 0)))
            self.assertEqual((saved.findtext("name"), saved.findtext("uuid")), (name, uuid))

            xml = h.scratch_domain_xml(name, uuid, description="edited in the image")
            self.connect("DomainSaveImageDefineXML", "ssu", image, xml, 0)
            saved = parse(str(self.connect("DomainSaveImageGetXMLDesc", "su", image, 0)))
            self.assertEqual(saved.findtext("description"), "edited in the image")
            self.assertNoEvents()

            self.connect("DomainRestore", "ssu", image, "", 0)
            self.assertEvents([ev(path, EV_STARTED, h.STARTED_RESTORED)])
            self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_RESTORED))
            self.assertIs(bool(self.dprop(path, "Active")), True)

            with self.assertLibvirtError():
                self.connect("DomainRestore", "ssu", os.path.join(d, "missing.sav"), "", 0)
            with self.assertLibvirtError():
                self.connect("DomainSaveImageGetXMLDesc", "su", os.path.join(d, "missing.sav"), 0)
        self.dom(path, "Destroy", "u", 0)
        with self.assertLibvirtError("Requested operation is not valid: domain is not running"):
            self.dom(path, "Save", "ssu", "/nonexistent/x.sav", "", 0)
        self.remove_domain(path)

    def test_core_dump(self):
        path, _, _ = self.define_scratch(start=True)
        with tempfile.TemporaryDirectory(prefix="virtbus-dump-") as d:
            dump = os.path.join(d, "core")
            self.dom(path, "CoreDump", "suu", dump, 0, 0)
            self.assertTrue(os.path.isfile(dump))
            self.assertNoEvents()
            self.assertEqual(self.state(path)[0], h.STATE_RUNNING)
            self.dom(path, "CoreDump", "suu", dump, 0, DUMP_CRASH)
            self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_CRASHED)])
            self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_CRASHED))
        self.remove_domain(path)

    def test_autostart_property(self):
        path, _, _ = self.define_scratch()
        self.assertIs(bool(self.dprop(path, "Autostart")), False)
        self.call(path, h.PROPS_IFACE, "Set", "ssv", DOMAIN_IFACE, "Autostart", dbus.Boolean(True))
        self.assertIs(bool(self.dprop(path, "Autostart")), True)
        self.assertIn(path, self.list_domains(L_AUTOSTART))
        self.call(path, h.PROPS_IFACE, "Set", "ssv", DOMAIN_IFACE, "Autostart", dbus.Boolean(False))
        self.assertIs(bool(self.dprop(path, "Autostart")), False)
        self.assertNotIn(path, self.list_domains(L_AUTOSTART))
        self.remove_domain(path)

    def test_guest_actions(self):
        path, _, _ = self.define_scratch(start=True)
        self.dom(path, "InjectNMI", "u", 0)
        self.dom(path, "SendKey", "uuauu", 0, 0, dbus.Array([30, 48], signature="u"), 0)
        self.dom(path, "SendProcessSignal", "xuu", 1, 9, 0)
        with self.assertLibvirtError("invalid argument: only sending a signal to pid 1 is supported"):
            self.dom(path, "SendProcessSignal", "xuu", 2, 9, 0)
        self.dom(path, "SetUserPassword", "ssu", "root", "secret", 0)
        self.assertEqual(int(self.dom(path, "FSFreeze", "asu", dbus.Array([], signature="s"), 0)), 2)
        self.assertEqual(int(self.dom(path, "FSFreeze", "asu", dbus.Array([], signature="s"), 0)), 0)
        self.assertEqual(int(self.dom(path, "FSThaw", "asu", ["/"], 0)), 1)
        self.assertEqual(int(self.dom(path, "FSThaw", "asu", dbus.Array([], signature="s"), 0)), 1)
        with self.assertLibvirtError("Requested operation is not valid: mount point not found: /nope"):
            self.dom(path, "FSFreeze", "asu", ["/nope"], 0)
        self.dom(path, "FSTrim", "stu", "/", 0, 0)
        with self.assertLibvirtError("Requested operation is not valid: mount point not found: /nope"):
            self.dom(path, "FSTrim", "stu", "/nope", 0, 0)
        self.assertNoEvents()
        self.assertEqual(self.state(path)[0], h.STATE_RUNNING)
        self.dom(path, "Destroy", "u", 0)
        self.collector.clear()
        for method, sig, args in [("InjectNMI", "u", (0,)), ("GetHostname", "u", (0,)),
                                  ("SendKey", "uuauu", (0, 0, [30], 0)),
                                  ("GetFSInfo", "u", (0,)), ("MemoryStats", "u", (0,))]:
            with self.subTest(method=method):
                with self.assertLibvirtError("Requested operation is not valid: domain is not running"):
                    self.dom(path, method, sig, *args)
        self.remove_domain(path)


class TestTunables(EventsMixin, h.DaemonTestCase):
    """Setters and the getters that must reflect them."""

    def setUp(self):
        self.path, self.name, self.uuid = self.define_scratch(start=True)

    def tearDown(self):
        self.remove_domain(self.path)

    def test_vcpus(self):
        p = self.path
        self.assertEqual(int(self.dom(p, "GetVcpus", "u", 0)), 2)
        self.dom(p, "SetVcpus", "uu", 1, 0)
        self.assertEqual(int(self.dom(p, "GetVcpus", "u", 0)), 1)
        self.assertEqual(int(self.dom(p, "GetVcpus", "u", VCPU_MAXIMUM)), 2)
        with self.assertLibvirtError("invalid argument"):
            self.dom(p, "SetVcpus", "uu", 3, 0)
        self.assertEqual(int(self.dom(p, "GetVcpus", "u", 0)), 1)

    def test_vcpu_pinning(self):
        p = self.path
        cpumap = [True, False, True, False, False, False, False, False]
        self.dom(p, "PinVcpu", "uabu", 1, cpumap, 0)
        pins = [[bool(b) for b in row] for row in self.dom(p, "GetVcpuPinInfo", "u", 0)]
        self.assertEqual(pins, [[True] * 8, cpumap])
        with self.assertLibvirtError("invalid argument"):
            self.dom(p, "PinVcpu", "uabu", 7, cpumap, 0)

    def test_emulator_pinning(self):
        p = self.path
        self.assertEqual([bool(b) for b in self.dom(p, "GetEmulatorPinInfo", "u", 0)], [True] * 8)
        cpumap = [False, True, False, False, False, False, False, False]
        self.dom(p, "PinEmulator", "abu", cpumap, 0)
        self.assertEqual([bool(b) for b in self.dom(p, "GetEmulatorPinInfo", "u", 0)], cpumap)
        with self.assertLibvirtError("invalid argument"):
            self.dom(p, "PinEmulator", "abu", [False] * 8, 0)

    def test_iothreads(self):
        p = self.path
        self.assertEqual(list(self.dom(p, "GetIOThreadInfo", "u", 0)), [])
        self.dom(p, "AddIOThread", "uu", 1, 0)
        info = [(int(i), [bool(b) for b in m]) for i, m in self.dom(p, "GetIOThreadInfo", "u", 0)]
        self.assertEqual(info, [(1, [True] * 8)])
        ids = [t.get("id") for t in parse(self.xml(p)).findall("iothreadids/iothread")]
        self.assertEqual(ids, ["1"])
        with self.assertLibvirtError("invalid argument: an IOThread is already using "
                                     "iothread_id '1'"):
            self.dom(p, "AddIOThread", "uu", 1, 0)
        with self.assertLibvirtError("invalid argument: invalid value of 0 for iothread_id"):
            self.dom(p, "AddIOThread", "uu", 0, 0)
        cpumap = [False, True, False, False, False, False, False, False]
        self.dom(p, "PinIOThread", "uabu", 1, cpumap, 0)
        info = [(int(i), [bool(b) for b in m]) for i, m in self.dom(p, "GetIOThreadInfo", "u", 0)]
        self.assertEqual(info, [(1, cpumap)])
        with self.assertLibvirtError("invalid argument"):
            self.dom(p, "PinIOThread", "uabu", 7, cpumap, 0)
        self.dom(p, "DelIOThread", "uu", 1, 0)
        self.assertEqual(list(self.dom(p, "GetIOThreadInfo", "u", 0)), [])
        with self.assertLibvirtError("invalid argument: cannot find IOThread '1' in iothreadids list"):
            self.dom(p, "DelIOThread", "uu", 1, 0)
        self.assertNoEvents()

    def test_memory(self):
        p = self.path
        self.dom(p, "SetMemory", "tu", 262144, 0)
        self.assertEqual(parse(self.xml(p)).findtext("currentMemory"), "262144")
        stats = {int(k): int(v) for k, v in self.dom(p, "MemoryStats", "u", 0).items()}
        self.assertEqual(stats.get(MEMSTAT_ACTUAL_BALLOON), 262144)
        for args in self.collector.of("BalloonChange", p):
            self.assertEqual(int(args[0]), 262144)
        with self.assertLibvirtError("invalid argument: cannot set memory higher than max memory"):
            self.dom(p, "SetMemory", "tu", 2 * 1048576, 0)
        self.assertEqual(parse(self.xml(p)).findtext("currentMemory"), "262144")
        self.dom(p, "SetMemoryStatsPeriod", "iu", 10, AFFECT_LIVE)
        stats_el = parse(self.xml(p)).find("devices/memballoon/stats")
        self.assertIsNotNone(stats_el)
        self.assertEqual(stats_el.get("period"), "10")
        self.assertNoEvents()

    def test_memory_parameters(self):
        p = self.path
        before = dict(self.dom(p, "GetMemoryParameters", "u", 0))
        self.assertEqual(set(before), {"hard_limit", "soft_limit", "swap_hard_limit"})
        self.dom(p, "SetMemoryParameters", "a{sv}u",
                 {"soft_limit": dbus.UInt64(131072)}, 0)
        after = dict(self.dom(p, "GetMemoryParameters", "u", 0))
        self.assertEqual(int(after["soft_limit"]), 131072)
        self.assertIsInstance(after["soft_limit"], dbus.UInt64)
        self.assertEqual(int(after["hard_limit"]), int(before["hard_limit"]))

    def test_blkio_parameters(self):
        p = self.path
        self.assertIn("weight", dict(self.dom(p, "GetBlockIOParameters", "u", 0)))
        self.dom(p, "SetBlockIOParameters", "a{sv}u", {"weight": dbus.UInt32(500)}, 0)
        self.assertEqual(int(self.dom(p, "GetBlockIOParameters", "u", 0)["weight"]), 500)

    def test_block_iotune(self):
        p = self.path
        tune = dict(self.dom(p, "GetBlockIOTune", "su", "vda", 0))
        self.assertEqual(int(tune["total_bytes_sec"]), 0)
        self.assertEqual(len(tune), 20)
        # libvirt's test driver checks each value against its _max (0 when
        # unset), so both are set.
        self.dom(p, "SetBlockIOTune", "sa{sv}u", "vda",
                 {"total_bytes_sec": dbus.UInt64(1000000),
                  "total_bytes_sec_max": dbus.UInt64(2000000)}, 0)
        tune = self.dom(p, "GetBlockIOTune", "su", "vda", 0)
        self.assertEqual((int(tune["total_bytes_sec"]), int(tune["total_bytes_sec_max"])),
                         (1000000, 2000000))
        with self.assertLibvirtError("invalid argument"):
            self.dom(p, "SetBlockIOTune", "sa{sv}u", "vda",
                     {"read_bytes_sec": dbus.UInt64(5)}, 0)
        with self.assertLibvirtError("invalid argument"):
            self.dom(p, "GetBlockIOTune", "su", "vdz", 0)

    def test_interface_parameters(self):
        p = self.path
        mac = "52:54:00:12:34:56"
        params = dict(self.dom(p, "GetInterfaceParameters", "su", mac, 0))
        self.assertEqual(int(params["inbound.average"]), 0)
        self.assertEqual(len(params), 7)
        self.dom(p, "SetInterfaceParameters", "sa{sv}u", mac,
                 {"inbound.average": dbus.UInt32(1000)}, 0)
        self.assertEqual(int(self.dom(p, "GetInterfaceParameters", "su", mac, 0)["inbound.average"]),
                         1000)

    def test_numa_parameters(self):
        p = self.path
        params = dict(self.dom(p, "GetNumaParameters", "u", 0))
        self.assertEqual(set(params), {"numa_mode", "numa_nodeset"})
        self.assertIsInstance(params["numa_mode"], dbus.Int32)
        self.dom(p, "SetNumaParameters", "a{sv}u", {"numa_nodeset": "0"}, AFFECT_CONFIG)
        after = dict(self.dom(p, "GetNumaParameters", "u", AFFECT_CONFIG))
        self.assertEqual(str(after["numa_nodeset"]), "0")

    def test_perf_events(self):
        p = self.path
        events = dict(self.dom(p, "GetPerfEvents", "u", 0))
        self.assertIn("cmt", events)
        self.assertIs(bool(events["cmt"]), False)
        self.dom(p, "SetPerfEvents", "a{sv}u", {"cmt": dbus.Boolean(True)}, 0)
        self.assertIs(bool(self.dom(p, "GetPerfEvents", "u", 0)["cmt"]), True)

    def test_scheduler_parameters(self):
        p = self.path
        self.assertEqual(dict(self.dom(p, "GetSchedulerParameters", "u", 0)), {"weight": 50})
        self.dom(p, "SetSchedulerParameters", "a{sv}u", {"weight": dbus.UInt32(60)}, 0)
        with self.assertLibvirtError("argument unsupported: parameter 'nonsense' not supported"):
            self.dom(p, "SetSchedulerParameters", "a{sv}u", {"nonsense": dbus.UInt32(1)}, 0)

    def test_time(self):
        p = self.path
        self.dom(p, "SetTime", "tuu", 1000, 5, 0)
        t = self.dom(p, "GetTime", "u", 0)
        self.assertEqual((int(t[0]), int(t[1])), (1000, 5))

    def test_metadata(self):
        p = self.path
        self.collector.clear()
        with self.assertLibvirtError("metadata not found"):
            self.dom(p, "GetMetadata", "isu", META_DESCRIPTION, "", 0)
        self.dom(p, "SetMetadata", "isssu", META_DESCRIPTION, "hello", "", "", 0)
        self.assertEqual(str(self.dom(p, "GetMetadata", "isu", META_DESCRIPTION, "", 0)), "hello")
        self.assertEqual(parse(self.xml(p)).findtext("description"), "hello")
        self.dom(p, "SetMetadata", "isssu", META_TITLE, "A title", "", "", 0)
        self.assertEqual(str(self.dom(p, "GetMetadata", "isu", META_TITLE, "", 0)), "A title")
        uri = "http://example.org/virtbus"
        self.dom(p, "SetMetadata", "isssu", META_ELEMENT, "<thing>bar</thing>", "ex", uri, 0)
        # libvirt answers the element without its namespace; the domain XML
        # keeps it in the namespace under <metadata>.
        el = parse(str(self.dom(p, "GetMetadata", "isu", META_ELEMENT, uri, 0)))
        self.assertEqual((el.tag, el.text), ("thing", "bar"))
        self.assertEqual(parse(self.xml(p)).findtext("metadata/{%s}thing" % uri), "bar")
        self.assertEqual([(int(a[0]), str(a[1])) for a in self.collector.of("MetadataChange", p)],
                         [(META_DESCRIPTION, ""), (META_TITLE, ""), (META_ELEMENT, uri)])
        self.assertNoEvents()


class TestDevices(EventsMixin, h.DaemonTestCase):
    """Device hotplug (not in libvirt's test driver; checked where present)."""

    DISK = ("<disk type='file' device='disk'><source file='/guest/extra.img'/>"
            "<target dev='vdb' bus='virtio'/></disk>")

    def test_attach_detach_live(self):
        path, _, _ = self.define_scratch(start=True)
        try:
            self.skip_if_not_supported(self.dom, path, "AttachDevice", "su", self.DISK,
                                       AFFECT_LIVE | AFFECT_CONFIG)
            targets = [t.get("dev") for t in parse(self.xml(path)).findall("devices/disk/target")]
            self.assertIn("vdb", targets)
            targets = [t.get("dev") for t in
                       parse(self.xml(path, XML_INACTIVE)).findall("devices/disk/target")]
            self.assertIn("vdb", targets)
            added = self.collector.of("DeviceAdded", path)
            self.assertEqual(len(added), 1, "DeviceAdded after a live attach")
            self.assertNotEqual(str(added[0][0]), "")
            self.assertNoEvents()

            self.dom(path, "DetachDevice", "su", self.DISK, AFFECT_LIVE | AFFECT_CONFIG)
            targets = [t.get("dev") for t in parse(self.xml(path)).findall("devices/disk/target")]
            self.assertNotIn("vdb", targets)
            removed = self.collector.of("DeviceRemoved", path)
            self.assertEqual([str(a[0]) for a in removed], [str(added[0][0])])
            self.assertNoEvents()
        finally:
            self.remove_domain(path)

    def test_update_device(self):
        path, _, _ = self.define_scratch()
        try:
            iface = ("<interface type='network'><mac address='52:54:00:12:34:56'/>"
                     "<source network='default'/><link state='down'/></interface>")
            self.skip_if_not_supported(self.dom, path, "UpdateDevice", "su", iface, AFFECT_CONFIG)
            link = parse(self.xml(path, XML_INACTIVE)).find("devices/interface/link")
            self.assertIsNotNone(link)
            self.assertEqual(link.get("state"), "down")
        finally:
            self.remove_domain(path)


class TestStats(h.DaemonTestCase):
    """GetStats / GetAllDomainStats (not in libvirt 9.0's test driver)."""

    def test_get_stats(self):
        stats = self.skip_if_not_supported(self.dom, TEST_PATH, "GetStats", "uu", 1, 0)
        self.assertEqual(int(stats["state.state"]), h.STATE_RUNNING)

    def test_get_all_domain_stats(self):
        records = self.skip_if_not_supported(self.connect, "GetAllDomainStats", "uu", 1, 0)
        names = sorted(str(r[0]) for r in records)
        self.assertEqual(names, ["test"])
        self.assertEqual(int(records[0][1]["state.state"]), h.STATE_RUNNING)


class TestSnapshots(EventsMixin, h.DaemonTestCase):

    def snapshot(self, path, name, flags=0, description=None):
        desc = f"<description>{description}</description>" if description else ""
        return str(self.dom(path, "SnapshotCreateXML", "su",
                            f"<domainsnapshot><name>{name}</name>{desc}</domainsnapshot>", flags))

    def snapshots(self, path, flags=0):
        return [str(p) for p in self.dom(path, "ListDomainSnapshots", "u", flags)]

    def test_create_list_lookup(self):
        path, _, uuid = self.define_scratch(start=True)
        s1 = self.snapshot(path, "s1", description="first")
        self.assertEqual(s1, h.snapshot_path(uuid, "s1"))
        self.assertNoEvents()
        self.assertEqual(self.snapshots(path), [s1])
        self.assertEqual(str(self.dom(path, "SnapshotLookupByName", "su", "s1", 0)), s1)
        self.assertEqual(str(self.dom(path, "SnapshotCurrent", "u", 0)), s1)
        self.assertIs(bool(self.snap(s1, "IsCurrent", "u", 0)), True)
        x = parse(str(self.snap(s1, "GetXMLDesc", "u", 0)))
        self.assertEqual(x.tag, "domainsnapshot")
        self.assertEqual(x.findtext("name"), "s1")
        self.assertEqual(x.findtext("description"), "first")
        self.assertEqual(x.findtext("state"), "running")
        self.assertEqual(x.findtext("domain/uuid"), uuid)
        with self.assertLibvirtError("Domain snapshot not found: snapshot 's1' does not have a parent"):
            self.snap(s1, "GetParent", "u", 0)

        s2 = self.snapshot(path, "second snap.2")
        self.assertEqual(s2, h.snapshot_path(uuid, "second snap.2"))
        self.assertEqual(str(self.dom(path, "SnapshotLookupByName", "su", "second snap.2", 0)), s2)
        self.assertEqual(str(self.snap(s2, "GetParent", "u", 0)), s1)
        self.assertEqual(parse(str(self.snap(s2, "GetXMLDesc", "u", 0))).findtext("parent/name"), "s1")
        self.assertEqual([str(p) for p in self.snap(s1, "ListChildren", "u", 0)], [s2])
        self.assertEqual([str(p) for p in self.snap(s2, "ListChildren", "u", 0)], [])
        self.assertIs(bool(self.snap(s1, "IsCurrent", "u", 0)), False)
        self.assertIs(bool(self.snap(s2, "IsCurrent", "u", 0)), True)
        self.assertEqual(sorted(self.snapshots(path)), sorted([s1, s2]))
        self.assertEqual(self.snapshots(path, SNAP_LIST_ROOTS), [s1])
        self.assertEqual(self.snapshots(path, SNAP_LIST_LEAVES), [s2])
        self.assertEqual(self.snapshots(path, SNAP_LIST_NO_LEAVES), [s1])
        self.assertEqual(sorted(self.snapshots(path, SNAP_LIST_ACTIVE)), sorted([s1, s2]))
        self.assertEqual(self.snapshots(path, SNAP_LIST_INACTIVE), [])
        self.assertIn(path, self.list_domains(L_HAS_SNAPSHOT))
        self.assertNotIn(path, self.list_domains(L_NO_SNAPSHOT))
        with self.assertLibvirtError("Domain snapshot not found: no domain snapshot with matching "
                                     "name 'nope'"):
            self.dom(path, "SnapshotLookupByName", "su", "nope", 0)
        self.assertNoEvents()
        self.remove_domain(path)

    def test_no_current_snapshot(self):
        path, _, _ = self.define_scratch()
        with self.assertLibvirtError("Domain snapshot not found"):
            self.dom(path, "SnapshotCurrent", "u", 0)
        self.assertEqual(self.snapshots(path), [])
        self.remove_domain(path)

    def test_revert_running_to_running(self):
        # wire-contract.md: reverting emits STOPPED/FROM_SNAPSHOT then
        # STARTED/FROM_SNAPSHOT.
        path, _, _ = self.define_scratch(start=True)
        s1 = self.snapshot(path, "s1")
        self.dom(path, "SetMemory", "tu", 262144, 0)
        self.snapshot(path, "s2")
        self.collector.clear()
        self.snap(s1, "Revert", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_FROM_SNAPSHOT),
                           ev(path, EV_STARTED, h.STARTED_FROM_SNAPSHOT)])
        self.assertEqual(self.state(path)[0], h.STATE_RUNNING)
        self.assertIs(bool(self.snap(s1, "IsCurrent", "u", 0)), True)
        self.assertEqual(str(self.dom(path, "SnapshotCurrent", "u", 0)), s1)
        self.assertEqual(parse(self.xml(path)).findtext("currentMemory"), "524288")
        self.remove_domain(path)

    def test_revert_shutoff_to_running(self):
        path, _, _ = self.define_scratch(start=True)
        s1 = self.snapshot(path, "s1")
        self.dom(path, "Destroy", "u", 0)
        self.collector.clear()
        self.snap(s1, "Revert", "u", 0)
        self.assertEvents([ev(path, EV_STARTED, h.STARTED_FROM_SNAPSHOT)])
        self.assertEqual(self.state(path), (h.STATE_RUNNING, h.RUNNING_FROM_SNAPSHOT))
        self.remove_domain(path)

    def test_revert_running_to_shutoff(self):
        path, _, _ = self.define_scratch()
        s1 = self.snapshot(path, "off")
        self.assertEqual(parse(str(self.snap(s1, "GetXMLDesc", "u", 0))).findtext("state"), "shutoff")
        self.assertEqual(self.snapshots(path, SNAP_LIST_INACTIVE), [s1])
        self.dom(path, "Create", "u", 0)
        self.collector.clear()
        self.snap(s1, "Revert", "u", 0)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_FROM_SNAPSHOT)])
        self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_FROM_SNAPSHOT))
        self.remove_domain(path)

    def test_create_halt(self):
        path, _, _ = self.define_scratch(start=True)
        self.snapshot(path, "halted", SNAP_CREATE_HALT)
        self.assertEvents([ev(path, EV_STOPPED, h.STOPPED_FROM_SNAPSHOT)])
        self.assertEqual(self.state(path), (h.STATE_SHUTOFF, h.SHUTOFF_FROM_SNAPSHOT))
        self.remove_domain(path)

    def test_delete(self):
        path, _, _ = self.define_scratch(start=True)
        s1 = self.snapshot(path, "s1")
        s2 = self.snapshot(path, "s2")
        s3 = self.snapshot(path, "s3")
        self.snap(s2, "Delete", "u", 0)
        self.assertEqual(sorted(self.snapshots(path)), sorted([s1, s3]))
        # s3 is reparented to s1.
        self.assertEqual(str(self.snap(s3, "GetParent", "u", 0)), s1)
        try:
            self.snap(s2, "GetXMLDesc", "u", 0)
            self.fail("a deleted snapshot still answers")
        except dbus.DBusException as e:
            self.assertIn(h.errname(e), h.UNKNOWN_OBJECT_ERRORS, str(e))
        self.snap(s1, "Delete", "u", SNAP_DELETE_CHILDREN)
        self.assertEqual(self.snapshots(path), [])
        with self.assertLibvirtError("Domain snapshot not found"):
            self.dom(path, "SnapshotCurrent", "u", 0)
        self.assertNoEvents()
        self.remove_domain(path)

    def test_undefine_with_snapshots(self):
        path, _, _ = self.define_scratch()
        self.snapshot(path, "s1")
        self.collector.clear()
        with self.assertLibvirtError("Requested operation is not valid: cannot delete inactive "
                                     "domain with 1 snapshots"):
            self.dom(path, "Undefine", "u", 0)
        self.assertNoEvents()
        self.dom(path, "Undefine", "u", UNDEFINE_SNAPSHOTS_METADATA)
        self.assertEvents([ev(path, EV_UNDEFINED, h.UNDEFINED_REMOVED)])
        self.assertNotIn(path, self.list_domains(0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
