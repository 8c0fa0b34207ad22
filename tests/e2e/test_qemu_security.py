# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guests without root: virtbusd --system runs QEMU as its QEMU user.

A system user made for the run (useradd --system, removed afterwards) is
VIRTBUS_QEMU_USER. Checked with real guests: QEMU's uid and gid in /proc,
the disk image and serial log owned by that user while the guest runs and
given back (uid, gid, mode) after Destroy, a guest poweroff, a failed
start, and a stop while virtbusd was down; a read-only image two guests
share stays theirs until the last one stops; the monitor socket refuses
other users; a user that does not exist is a clear error.

Needs root (useradd, chown): exits 77 (skipped) otherwise.
"""

import os
import pwd
import signal
import stat
import subprocess
import sys
import time
import unittest
from pathlib import Path

import harness
from harness import (EV_STARTED, EV_STOPPED, STARTED_BOOTED, STATE_SHUTOFF, STOPPED_DESTROYED,
                     STOPPED_SHUTDOWN, E2ETestCase)

USER = f"vbqemu{os.getpid() % 100000}"
ORIGINAL_GID = 12  # any group but the QEMU user's: its return is checked


def make_user():
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", USER],
                   check=True, capture_output=True)
    return pwd.getpwnam(USER)


def remove_user():
    subprocess.run(["userdel", USER], capture_output=True)
    subprocess.run(["groupdel", USER], capture_output=True)


def owner(path):
    st = os.stat(path)
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def ids(pid):
    """(real, effective, saved, fs) uids and gids of a process."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                fields[key] = [int(v) for v in value.split()]
    return fields


def connect_as_nobody(path):
    """errno name of a unix connect to `path` by user nobody ('' if it worked)."""
    code = ("import errno, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "try:\n"
            "    s.connect(sys.argv[1])\n"
            "except OSError as e:\n"
            "    print(errno.errorcode[e.errno])\n")
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "/usr/bin/python3", "-c", code, str(path)],
                       capture_output=True, text=True, timeout=10)
    return r.stdout.strip() or r.stderr.strip()


class Unprivileged(E2ETestCase):

    daemon_env = {"VIRTBUS_QEMU_USER": USER}

    @classmethod
    def setUpClass(cls):
        remove_user()  # a previous run that was killed
        cls.user = make_user()
        try:
            super().setUpClass()
        except BaseException:
            remove_user()
            raise
        # The QEMU user must get through to the images and logs, as it
        # would to /var/lib/...; the state directory stays the daemon's.
        os.chmod(cls.env.root, 0o711)
        os.chmod(cls.env.guest_dir, 0o711)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            remove_user()

    def image(self, name, mode=0o640):
        path = self.env.guest_dir / f"{name}.img"
        with open(path, "wb") as f:
            f.truncate(16 << 20)
        os.chown(path, 0, ORIGINAL_GID)
        os.chmod(path, mode)
        return path

    def disk_xml(self, path, target="vda", readonly=False):
        ro = "<readonly/>" if readonly else ""
        return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                f"<source file='{path}'/><target dev='{target}' bus='virtio'/>{ro}</disk>\n")

    def start(self, path, log):
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_marker(log)

    def assertQemuUser(self, pid):
        got = ids(pid)
        self.assertEqual(got["Uid"], [self.user.pw_uid] * 4)
        self.assertEqual(got["Gid"], [self.user.pw_gid] * 4)
        self.assertNotIn(0, got["Groups"])

    def assertGivenBack(self, disk, mode=0o640):
        self.assertEqual(owner(disk), (0, ORIGINAL_GID, mode))

    def test_runs_as_the_user_and_destroy_gives_the_disk_back(self):
        disk = self.image("d1")
        path, name, log = self.define(extra_devices=self.disk_xml(disk))
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        self.assertIsNotNone(pid)
        self.assertQemuUser(pid)
        self.assertEqual(owner(disk), (self.user.pw_uid, self.user.pw_gid, 0o640))
        # The serial log was created for QEMU, so it is the user's too.
        self.assertEqual(owner(log)[:2], (self.user.pw_uid, self.user.pw_gid))
        # The kernel is world-readable: left alone.
        kernel = harness.guest.ensure_guest()["kernel"]
        self.assertEqual(os.stat(kernel).st_uid, 0)
        host = self.env.state_dir / f"{name}.host"
        self.assertTrue(host.exists())

        self.env.dom(path, "Destroy", "u", 0)
        self.wait_event(path, EV_STOPPED, STOPPED_DESTROYED)
        self.assertGivenBack(disk)
        self.assertEqual(owner(log), (0, 0, 0o600))
        self.assertFalse(host.exists())

    def test_guest_poweroff_gives_the_disk_back(self):
        disk = self.image("d2", 0o400)
        path, name, log = self.define(extra_devices=self.disk_xml(disk))
        self.start(path, log)
        # QEMU writes it: the owner gets write permission for the run.
        self.assertEqual(owner(disk), (self.user.pw_uid, self.user.pw_gid, 0o600))
        self.env.dom(path, "Shutdown", "u", 0)
        self.wait_event(path, EV_STOPPED, STOPPED_SHUTDOWN, timeout=30)
        self.assertGivenBack(disk, 0o400)

    def test_failed_start_gives_the_disk_back(self):
        disk = self.image("d3")
        # More memory than QEMU can map: it fails after the disk was handed over.
        path, name, log = self.define(memory_mib=2 ** 40, extra_devices=self.disk_xml(disk))
        # QEMU's own words: it ran, as the user, with the disk handed over.
        with self.assertLibvirtError("process exited while connecting to monitor: .*memory"):
            self.env.dom(path, "Create", "u", 0)
        self.assertEqual(self.state(path)[0], STATE_SHUTOFF)
        self.assertGivenBack(disk)
        self.assertFalse((self.env.state_dir / f"{name}.host").exists())

    def test_stopped_while_the_daemon_was_down(self):
        disk = self.image("d4")
        path, name, log = self.define(extra_devices=self.disk_xml(disk))
        self.start(path, log)
        pid = self.env.qemu_pid(name)
        # A restart finds it running and keeps its files handed over.
        self.env.restart_daemon(kill=True)
        self.assertEqual(owner(disk)[:2], (self.user.pw_uid, self.user.pw_gid))
        self.env.kill_daemon()
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(harness.wait_gone([pid]), [])
        self.env.start_daemon()
        self.assertGivenBack(disk)
        self.assertEqual(self.state(path)[0], STATE_SHUTOFF)
        self.assertFalse((self.env.state_dir / f"{name}.host").exists())

    def test_shared_readonly_image_stays_until_the_last_guest_stops(self):
        # Unreadable for the user, so it must be handed over; two guests.
        shared = self.image("shared", 0o600)
        guests = []
        for _ in range(2):
            p, n, log = self.define(extra_devices=self.disk_xml(shared, readonly=True))
            self.start(p, log)
            guests.append(p)
        self.assertEqual(owner(shared), (self.user.pw_uid, self.user.pw_gid, 0o600))
        self.env.dom(guests[0], "Destroy", "u", 0)
        self.assertEqual(owner(shared)[:2], (self.user.pw_uid, self.user.pw_gid),
                         "still in use by the other guest")
        self.env.dom(guests[1], "Destroy", "u", 0)
        self.assertGivenBack(shared, 0o600)

    def test_monitor_socket_refuses_other_users(self):
        path, name, log = self.define()
        self.start(path, log)
        sock = self.env.state_dir / f"{name}.qmp"
        st = os.stat(sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600))
        self.assertEqual(stat.S_IMODE(os.stat(self.env.state_dir).st_mode), 0o700)
        self.assertEqual(connect_as_nobody(sock), "EACCES")
        # And QEMU's argv names no path for it: it inherited the socket.
        argv = self.env.guest_processes(name)[self.env.qemu_pid(name)]
        self.assertFalse(any(str(sock) in a for a in argv), argv)
        self.assertIn("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", argv)


class MissingUser(E2ETestCase):

    daemon_env = {"VIRTBUS_QEMU_USER": "no-such-virtbus-user"}

    def test_start_fails_naming_the_user(self):
        path, name, log = self.define()
        with self.assertLibvirtError("QEMU user 'no-such-virtbus-user' does not exist"):
            self.env.dom(path, "Create", "u", 0)
        self.assertEqual(self.state(path)[0], STATE_SHUTOFF)
        self.assertEqual(self.env.guest_processes(name), {})


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root (useradd, chown): skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
