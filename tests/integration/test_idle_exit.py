# SPDX-License-Identifier: LGPL-2.1-or-later
"""Idle exit (--timeout) of the session daemon, and D-Bus activation back.

A private session bus whose service directory holds the session activation
file, its Exec line pointed at the built virtbusd with --timeout 2.  The
test world starts with the domain `test` running and the network `default`
and the pool `default-pool` active; each of them keeps virtbusd alive, and
with all of them stopped it exits about 2 s after the last call.
"""

import os
import re
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import dbus

from harness import (BUS_NAME, CONN_PATH, CONNECT_IFACE, DOMAIN_IFACE, PEER_IFACE, REPO_ROOT,
                     _SESSION_CONF, glib_mainloop, virtbusd_binary)

TIMEOUT = 2
NETWORK_IFACE = "org.libvirt.Network"
POOL_IFACE = "org.libvirt.StoragePool"
DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")


def session_service_file():
    path = os.environ.get("VIRTBUS_SESSION_SERVICE") or str(
        REPO_ROOT / "build" / "systemd" / "org.libvirt.session.service")
    if not os.path.isfile(path):
        raise RuntimeError(f"session activation file not found at {path}: build it or set "
                           f"VIRTBUS_SESSION_SERVICE")
    return path


class IdleExitTest(unittest.TestCase):

    def setUp(self):
        glib_mainloop()
        self.tmp = tempfile.TemporaryDirectory(prefix="virtbus-idle-")
        tmp = Path(self.tmp.name)
        services = tmp / "services"
        services.mkdir()
        self.cmd = [virtbusd_binary(), "--session", "--timeout", str(TIMEOUT)]
        text = Path(session_service_file()).read_text()
        self.assertRegex(text, r"(?m)^Exec=\S+/virtbusd --session$")
        (services / "org.libvirt.service").write_text(
            re.sub(r"(?m)^Exec=.*$", "Exec=" + " ".join(self.cmd), text))
        conf = _SESSION_CONF.format(dir=tmp).replace(
            "<auth>", f"<servicedir>{services}</servicedir>\n  <auth>", 1)
        (tmp / "session.conf").write_text(conf)
        # Activated daemons inherit the bus's environment.
        self.env = dict(os.environ)
        self.env.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        for kind in ("CONFIG", "STATE", "LOG"):
            self.env[f"VIRTBUS_QEMU_{kind}_DIR"] = str(tmp / "qemu" / kind.lower())
        self.env.setdefault("VIRTBUS_QEMU_CACHE_DIR", str(REPO_ROOT / "build" / "qemu-caps-cache"))
        self.log_path = tmp / "bus.log"
        self.log = open(self.log_path, "wb")
        rfd, wfd = os.pipe()
        self.bus_proc = subprocess.Popen(
            ["dbus-daemon", f"--config-file={tmp / 'session.conf'}", "--nofork",
             f"--print-address={wfd}"],
            pass_fds=(wfd,), env=self.env, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT)
        os.close(wfd)
        with os.fdopen(rfd) as r:
            self.address = r.readline().strip()
        self.assertTrue(self.address, "dbus-daemon did not print its address")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        self.bus = dbus.bus.BusConnection(self.address, mainloop=glib_mainloop())

    def tearDown(self):
        pid = self.owner_pid()
        if pid:
            os.kill(pid, 15)
            self.wait_gone(2)
        self.bus.close()
        self.bus_proc.terminate()
        self.bus_proc.wait(timeout=5)
        self.log.close()
        self.tmp.cleanup()

    # ---- helpers ----

    def log_tail(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    def owner_pid(self):
        try:
            return int(self.bus.call_blocking(*DBUS, "GetConnectionUnixProcessID", "s", (BUS_NAME,)))
        except dbus.DBusException:
            return None

    def owned(self):
        return bool(self.bus.call_blocking(*DBUS, "NameHasOwner", "s", (BUS_NAME,)))

    def wait_gone(self, seconds):
        """Seconds until org.libvirt had no owner, or None."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if not self.owned():
                return time.monotonic() - start
            time.sleep(0.02)
        return None

    def call(self, path, iface, method, signature="", *args):
        return self.bus.call_blocking(BUS_NAME, path, iface, method, signature, args, timeout=20)

    def lookup(self, kind, name):
        return str(self.call(CONN_PATH, CONNECT_IFACE, kind + "LookupByName", "s", name))

    def stop_all(self, keep=()):
        """Stops what the test world runs, except the kinds in keep."""
        if "domain" not in keep:
            self.call(self.lookup("Domain", "test"), DOMAIN_IFACE, "Destroy", "u", 0)
        if "network" not in keep:
            self.call(self.lookup("Network", "default"), NETWORK_IFACE, "Destroy")
        if "pool" not in keep:
            self.call(self.lookup("StoragePool", "default-pool"), POOL_IFACE, "Destroy")

    def assertStays(self, pid, seconds):
        time.sleep(seconds)
        self.assertEqual(self.owner_pid(), pid, "virtbusd exited while busy:\n" + self.log_tail())

    def assertExitsIdle(self, since_last_call):
        gone = self.wait_gone(TIMEOUT + 3)
        self.assertIsNotNone(gone, "virtbusd did not exit when idle:\n" + self.log_tail())
        idle = time.monotonic() - since_last_call
        # It counts from when the call arrived, a little before its reply.
        self.assertGreaterEqual(idle, TIMEOUT - 0.1, "virtbusd exited before the timeout")

    # ---- tests ----

    def test_exits_when_idle_calls_postpone(self):
        proc = subprocess.Popen(self.cmd, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=self.log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 5
            while not self.owned() and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            self.assertTrue(self.owned(), "virtbusd did not start:\n" + self.log_tail())
            self.stop_all()
            # Calls closer together than the timeout keep it, for longer
            # than the timeout.
            for _ in range(8):
                time.sleep(TIMEOUT / 4)
                self.call(CONN_PATH, PEER_IFACE, "Ping")
            last = time.monotonic()
            self.assertIsNone(proc.poll(), "virtbusd exited despite calls:\n" + self.log_tail())
            rc = proc.wait(timeout=TIMEOUT + 3)
            self.assertGreaterEqual(time.monotonic() - last, TIMEOUT - 0.1)
            self.assertEqual(rc, 0, "idle exit is not a clean exit:\n" + self.log_tail())
            self.assertIn(f"idle for {TIMEOUT} s: exiting", self.log_tail())
            self.assertIsNotNone(self.wait_gone(1), "org.libvirt still owned after the exit")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def test_active_objects_keep_it_and_activation_brings_it_back(self):
        self.assertFalse(self.owned())
        # The first call activates it, in the pristine test world.
        self.assertIn(self.lookup("Domain", "test"),
                      [str(p) for p in self.call(CONN_PATH, CONNECT_IFACE, "ListDomains", "u", 1)])
        first = self.owner_pid()
        self.assertIsNotNone(first)
        cmdline = Path(f"/proc/{first}/cmdline").read_bytes().split(b"\0")[:-1]
        self.assertEqual([a.decode() for a in cmdline], self.cmd)

        # An active network alone keeps it.
        self.stop_all(keep=("network",))
        self.assertStays(first, TIMEOUT * 2.5)
        # So does a running domain.
        self.stop_all(keep=("domain", "pool"))
        test = self.lookup("Domain", "test")
        self.call(test, DOMAIN_IFACE, "Create", "u", 0)
        self.assertStays(first, TIMEOUT * 2.5)
        # Nothing running: gone after the timeout.
        self.call(test, DOMAIN_IFACE, "Destroy", "u", 0)
        self.assertExitsIdle(time.monotonic())

        # The next call starts a new one, with the test world back as it was.
        path = self.lookup("Domain", "test")
        second = self.owner_pid()
        self.assertIsNotNone(second)
        self.assertNotEqual(second, first)
        state = self.call(path, DOMAIN_IFACE, "GetState", "u", 0)
        self.assertEqual(int(state[0]), 1)


if __name__ == "__main__":
    unittest.main()
