# SPDX-License-Identifier: LGPL-2.1-or-later
"""The QEMU driver end to end: real guests under TCG, driven over D-Bus.

Each test defines its own guests (the busybox guest of guest.py, which
prints a marker on its serial console on every boot and powers off on the
ACPI power button) and checks what a libvirt client would see: the reply,
GetState, the DomainEvent signals, and the QEMU process itself. Expected
events and states are libvirt's (qemu_process.c, qemu_driver.c):

- guest poweroff: SHUTDOWN/GUEST (QEMU reports guest:true) then
  STOPPED/SHUTDOWN, state shutoff/shutdown;
- QEMU gone without a SHUTDOWN event (killed): STOPPED/FAILED, state
  shutoff/crashed (processMonitorEOFEvent);
- Reboot is a fake reboot (system_powerdown, then system_reset and cont),
  except with on_reboot=destroy, where it is a shutdown.

Skips only when QEMU or the guest is unavailable (see harness.E2ETestCase).
"""

import os
import signal
import time
import unittest

import dbus

import harness
from harness import (EV_DEFINED, EV_RESUMED, EV_SHUTDOWN, EV_STARTED, EV_STOPPED,
                     EV_SUSPENDED, DEFINED_ADDED, PAUSED_USER, RESUMED_UNPAUSED,
                     RUNNING_BOOTED, RUNNING_UNPAUSED, SHUTDOWN_GUEST, SHUTOFF_CRASHED,
                     SHUTOFF_DESTROYED, SHUTOFF_SHUTDOWN, STARTED_BOOTED, STATE_PAUSED,
                     STATE_RUNNING, STATE_SHUTOFF, STOPPED_DESTROYED, STOPPED_FAILED,
                     STOPPED_SHUTDOWN, SUSPENDED_PAUSED, E2ETestCase, errmsg, errname,
                     pid_alive, pump)


class Lifecycle(E2ETestCase):

    def start(self, path, log=None):
        """Create and wait for STARTED/BOOTED (and the marker, given a log)."""
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        if log is not None:
            self.wait_marker(log)

    def test_define_create_shutdown(self):
        path, name, log = self.define()
        self.wait_event(path, EV_DEFINED, DEFINED_ADDED)
        self.assertIn(path, self.list_domains())
        self.assertEqual(self.state(path)[0], STATE_SHUTOFF)
        self.assertFalse(self.prop(path, "Active"))
        self.assertTrue(self.prop(path, "Persistent"))

        self.env.dom(path, "Create", "u", 0)
        # libvirt's Create returns with the guest running and the event queued.
        self.assertEqual(self.state(path), (STATE_RUNNING, RUNNING_BOOTED))
        self.assertTrue(self.prop(path, "Active"))
        self.assertGreater(int(self.prop(path, "Id")), 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)
        pid = self.env.qemu_pid(name)
        self.assertIsNotNone(pid, f"no QEMU process for {name}")

        self.env.dom(path, "Shutdown", "u", 0)
        i = self.wait_event(path, EV_SHUTDOWN, SHUTDOWN_GUEST, timeout=30)
        self.wait_event(path, EV_STOPPED, STOPPED_SHUTDOWN, timeout=15, start=i + 1)
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_SHUTDOWN))
        self.assertFalse(self.prop(path, "Active"))
        self.assertEqual(harness.wait_gone([pid]), [], "QEMU still running after shutdown")
        self.assertIn(path, self.list_domains(), "a persistent domain stays defined")

    def test_destroy(self):
        path, name, log = self.define()
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        t0 = time.monotonic()
        self.env.dom(path, "Destroy", "u", 0)
        # Destroy returns once QEMU is gone, as libvirt's does.
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_DESTROYED))
        self.wait_event(path, EV_STOPPED, STOPPED_DESTROYED, timeout=5)
        self.assertLess(time.monotonic() - t0, 5.0, "Destroy is not quick")
        self.assertFalse(pid_alive(pid), "QEMU still running after Destroy returned")
        self.assertEqual(self.env.recorder.of(path).count((EV_STOPPED, STOPPED_DESTROYED)), 1)

    def test_suspend_resume(self):
        path, name, log = self.define()
        self.start(path, log)
        self.env.dom(path, "Suspend")
        self.assertEqual(self.state(path), (STATE_PAUSED, PAUSED_USER))
        self.wait_event(path, EV_SUSPENDED, SUSPENDED_PAUSED)
        self.env.dom(path, "Resume")
        self.assertEqual(self.state(path), (STATE_RUNNING, RUNNING_UNPAUSED))
        self.wait_event(path, EV_RESUMED, RESUMED_UNPAUSED)
        # The guest really runs again: it answers the power button.
        self.env.dom(path, "Shutdown", "u", 0)
        self.wait_event(path, EV_STOPPED, STOPPED_SHUTDOWN, timeout=30)

    def assertRebooted(self, path, name, log, pid):
        self.wait_marker(log, count=2)
        self.assertEqual(self.state(path)[0], STATE_RUNNING)
        self.assertEqual(self.env.qemu_pid(name), pid, "a reboot keeps the QEMU process")
        pump(0.2)
        self.assertNotIn(EV_STOPPED, [e for e, _ in self.env.recorder.of(path)])

    def test_reset(self):
        path, name, log = self.define()
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        self.env.dom(path, "Reset", "u", 0)
        self.assertRebooted(path, name, log, pid)

    def test_reboot(self):
        path, name, log = self.define()
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        self.env.dom(path, "Reboot", "u", 0)
        self.assertRebooted(path, name, log, pid)

    def test_reboot_with_on_reboot_destroy(self):
        # libvirt turns Reboot into a shutdown when on_reboot is destroy.
        path, name, log = self.define(on_reboot="destroy")
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        self.env.dom(path, "Reboot", "u", 0)
        self.wait_event(path, EV_STOPPED, STOPPED_SHUTDOWN, timeout=30)
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_SHUTDOWN))
        self.assertEqual(harness.wait_gone([pid]), [])
        self.assertEqual(harness.guest.marker_count(log), 1, "the guest booted again")

    def test_transient_gone_after_stop(self):
        path, name, log = self.create_transient()
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.assertFalse(self.prop(path, "Persistent"))
        self.assertIn(path, self.list_domains())
        self.wait_marker(log)
        self.env.dom(path, "Shutdown", "u", 0)
        self.wait_event(path, EV_STOPPED, STOPPED_SHUTDOWN, timeout=30)
        self.assertNotIn(path, self.list_domains())
        with self.assertLibvirtError(f"^Domain not found: no domain with matching name '{name}'"):
            self.env.connect("DomainLookupByName", "s", name)
        with self.assertRaises(dbus.DBusException):
            self.state(path)
        self.assertNoGuestProcess(name)

    def test_qemu_killed(self):
        path, name, log = self.define()
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        self.assertIsNotNone(pid, f"no pid file {self.env.pidfile(name)} and no QEMU with guest={name}")
        os.kill(pid, signal.SIGKILL)
        self.wait_event(path, EV_STOPPED, STOPPED_FAILED, timeout=10)
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_CRASHED))
        self.assertFalse(self.prop(path, "Active"))
        self.assertIn(path, self.list_domains())
        # Nothing stale (socket, pid file) stands in the way of a new start.
        os.unlink(log)
        self.start(path, log)
        self.env.dom(path, "Destroy", "u", 0)

    def test_guests_survive_daemon_kill(self):
        guests = [self.define() for _ in range(2)]
        for path, _, log in guests:
            self.start(path, log)
        pids = {name: self.env.qemu_pid(name) for _, name, _ in guests}
        self.assertTrue(all(pids.values()), f"QEMU pids: {pids}")

        self.env.kill_daemon()
        self.assertTrue(all(pid_alive(p) for p in pids.values()), "guests died with the daemon")
        self.env.start_daemon()

        for path, name, _ in guests:
            self.assertIn(path, self.list_domains())
            self.assertEqual(self.state(path)[0], STATE_RUNNING)
            self.assertTrue(self.prop(path, "Active"))
            self.assertEqual(self.env.qemu_pid(name), pids[name], "the same QEMU, reconnected")
        self.env.recorder.clear()
        for path, _, _ in guests:
            self.env.dom(path, "Suspend")
            self.wait_event(path, EV_SUSPENDED, SUSPENDED_PAUSED)
            self.assertEqual(self.state(path), (STATE_PAUSED, PAUSED_USER))
            self.env.dom(path, "Resume")
            self.wait_event(path, EV_RESUMED, RESUMED_UNPAUSED)
            self.assertEqual(self.state(path)[0], STATE_RUNNING)
        for path, _, _ in guests:
            self.env.dom(path, "Shutdown", "u", 0)
        for path, _, _ in guests:
            self.wait_event(path, EV_STOPPED, STOPPED_SHUTDOWN, timeout=30)
            self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_SHUTDOWN))
        self.assertEqual(harness.wait_gone(list(pids.values())), [])

    def test_autostart(self):
        path, name, log = self.define()
        self.set_prop(path, "Autostart", dbus.Boolean(True))
        self.assertTrue(self.prop(path, "Autostart"))
        self.assertFalse(self.prop(path, "Active"))
        problems = self.env.restart_daemon()
        self.assertEqual(problems, [], "virtbusd did not stop cleanly")
        # No STARTED event is required: libvirtd autostarts before any
        # client can have subscribed, so a client cannot count on one.
        self.wait_state(path, STATE_RUNNING, timeout=30)
        self.wait_marker(log)
        self.assertTrue(self.prop(path, "Active"))
        self.assertTrue(self.prop(path, "Autostart"))
        self.set_prop(path, "Autostart", dbus.Boolean(False))
        self.assertFalse(self.prop(path, "Autostart"))
        self.env.dom(path, "Destroy", "u", 0)


class StartFailures(E2ETestCase):
    """A start that fails leaves the domain as it was: shut off, no QEMU."""

    def assertStartFails(self, path, name, regex, flags=0):
        with self.assertLibvirtError(regex):
            self.env.dom(path, "Create", "u", flags)
        self.assertEqual(self.state(path)[0], STATE_SHUTOFF)
        self.assertFalse(self.prop(path, "Active"))
        self.assertNoGuestProcess(name, timeout=2)
        pump(0.2)
        self.assertNotIn(EV_STARTED, [e for e, _ in self.env.recorder.of(path)])

    def assertDefineOrStartFails(self, name, regex, **xml_kw):
        """libvirt rejects some definitions at define time, others only when
        QEMU or the host says no; either way nothing may remain running and
        a rejected definition must not be listed."""
        before = self.list_domains()
        try:
            path, name, _ = self.define(name, **xml_kw)
        except dbus.DBusException as e:
            self.assertEqual(errname(e), harness.LIBVIRT_ERROR, f"unexpected error: {e}")
            self.assertRegex(errmsg(e), regex)
            self.assertEqual(self.list_domains(), before)
            return
        self.assertStartFails(path, name, regex)

    def disk(self, source, bus="virtio", dev="vda"):
        return (f"    <disk type='file' device='disk'>\n"
                f"      <driver name='qemu' type='raw'/>\n"
                f"      <source file='{source}'/>\n"
                f"      <target dev='{dev}' bus='{bus}'/>\n"
                f"    </disk>\n")

    def test_missing_disk(self):
        missing = str(self.env.guest_dir / "missing.img")
        path, name, _ = self.define(extra_devices=self.disk(missing))
        self.assertStartFails(path, name, missing)

    def test_bad_emulator(self):
        self.assertDefineOrStartFails(self.new_name(), "/nonexistent", emulator="/nonexistent")

    def test_disk_is_a_directory(self):
        d = self.env.guest_dir / "a-directory"
        d.mkdir()
        self.assertDefineOrStartFails(self.new_name(), str(d), extra_devices=self.disk(str(d)))

    def test_absurd_memory(self):
        # 2^50 KiB parses as a size (libvirt's bound is LLONG_MAX bytes) but
        # no host can give it.
        self.assertDefineOrStartFails(self.new_name(), r"(?i)memory|ram|size|alloc",
                                      memory_mib=2 ** 40)

    def test_unknown_create_flags(self):
        path, name, _ = self.define()
        self.assertStartFails(path, name, r"^unsupported flags \(0x80000000\) in function \S+$",
                              flags=0x80000000)


class BadDefinitions(E2ETestCase):
    """Definitions libvirt rejects at DomainDefineXML; nothing may change."""

    def assertDefineRejected(self, xml, regex):
        before = self.list_domains()
        self.env.recorder.clear()
        with self.assertLibvirtError(regex):
            self.env.connect("DomainDefineXML", "s", xml)
        self.assertEqual(self.list_domains(), before)
        self.env.recorder.drain()
        self.assertEqual(self.env.recorder.events, [])

    def test_duplicate_name(self):
        path, name, _ = self.define(uuid="0e5ba9f2-7f26-4b1c-a33e-21d5d9b42d01")
        other = self.xml(name, uuid="0e5ba9f2-7f26-4b1c-a33e-21d5d9b42d02")
        self.assertDefineRejected(other, f"^operation failed: domain '{name}' already exists "
                                         f"with uuid 0e5ba9f2-7f26-4b1c-a33e-21d5d9b42d01$")
        self.assertIn("0e5ba9f2-7f26-4b1c-a33e-21d5d9b42d01", str(self.prop(path, "UUID")))

    def test_duplicate_uuid(self):
        uuid = "0e5ba9f2-7f26-4b1c-a33e-21d5d9b42d03"
        path, name, _ = self.define(uuid=uuid)
        other = self.xml(self.new_name(), uuid=uuid)
        self.assertDefineRejected(other, f"^operation failed: domain '{name}' is already "
                                         f"defined with uuid {uuid}$")
        self.assertEqual(str(self.prop(path, "Name")), name)

    def test_duplicate_uuid_of_running_guest(self):
        uuid = "0e5ba9f2-7f26-4b1c-a33e-21d5d9b42d04"
        path, name, log = self.define(uuid=uuid)
        self.env.dom(path, "Create", "u", 0)
        other = self.xml(self.new_name(), uuid=uuid)
        self.assertDefineRejected(other, f"domain '{name}' is already defined with uuid {uuid}")
        self.assertEqual(self.state(path)[0], STATE_RUNNING)
        self.env.dom(path, "Destroy", "u", 0)

    def test_zero_memory(self):
        self.assertDefineRejected(self.xml(self.new_name(), memory_mib=0), r"(?i)memory")

    def test_unknown_disk_bus(self):
        xml = self.xml(self.new_name(), extra_devices=(
            "    <disk type='file' device='disk'>\n"
            "      <source file='/dev/null'/>\n"
            "      <target dev='vda' bus='bogus'/>\n"
            "    </disk>\n"))
        self.assertDefineRejected(xml, "bogus")


class Concurrency(E2ETestCase):

    def test_concurrent_create(self):
        guests = [self.define() for _ in range(3)]
        replies, errors = [], []
        for path, _, _ in guests:
            self.env.call_async(path, harness.DOMAIN_IFACE, "Create", "u", (0,),
                                lambda *a, p=path: replies.append(p),
                                lambda e, p=path: errors.append((p, e)))
        deadline = time.monotonic() + harness.CALL_TIMEOUT
        while len(replies) + len(errors) < len(guests) and time.monotonic() < deadline:
            pump(0.05)
        self.assertEqual(errors, [])
        self.assertCountEqual(replies, [p for p, _, _ in guests])
        for path, name, log in guests:
            self.wait_event(path, EV_STARTED, STARTED_BOOTED)
            self.assertEqual(self.state(path)[0], STATE_RUNNING)
        for path, name, log in guests:
            # Three TCG guests share two cores: allow for slower boots.
            self.wait_marker(log, timeout=120)
        pids = [self.env.qemu_pid(name) for _, name, _ in guests]
        self.assertEqual(len(set(pids)), 3, f"QEMU pids: {pids}")
        for path, _, _ in guests:
            self.env.dom(path, "Destroy", "u", 0)
            self.wait_event(path, EV_STOPPED, STOPPED_DESTROYED)


if __name__ == "__main__":
    unittest.main(verbosity=2)
