# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guest input, consoles, display and statistics of the QEMU driver, end to end.

Three real TCG guests (guest.py's busybox guest) run at once:
- "con": a pty serial (QEMU also logs it to the serial log) with
  virtbus.shell=1 (a shell on ttyS0, keyboard lines echoed as
  VIRTBUS-GUEST-KEY), a VNC display with a VGA card and a virtio balloon;
- "plain1", "plain2": today's file serial, no display.
Each has a qcow2 disk and an ethernet NIC (a tap virtbusd makes), so every
statistics group has counters.

The console is org.virtbus.DomainConsole (virtbus's extension):
OpenConsole hands a socket relayed to the guest's pty.
"""

import os
import re
import select
import subprocess
import time
import unittest
from pathlib import Path

import dbus

from harness import EV_STARTED, STARTED_BOOTED, E2ETestCase

CONSOLE_IFACE = "org.virtbus.DomainConsole"
CONSOLE_FORCE, CONSOLE_SAFE = 1, 2
STATS_ENFORCE = 1 << 31
LIST_ACTIVE, LIST_INACTIVE = 1, 2
KEY_H, KEY_I, KEY_ENTER = 35, 23, 28  # Linux input keycodes
MEM_MIB = 96

# libvirt's key names of the groups virtbus fills (virConnectGetAllDomainStats
# documentation); N is a device or vCPU index.
LIBVIRT_KEYS = [
    r"state\.state", r"state\.reason",
    r"cpu\.time", r"cpu\.user", r"cpu\.system",
    r"balloon\.(current|maximum|swap_in|swap_out|major_fault|minor_fault|unused|available|rss|usable"
    r"|last-update|disk_caches|hugetlb_pgalloc|hugetlb_pgfail)",
    r"vcpu\.(current|maximum)", r"vcpu\.\d+\.(state|time|wait|halted|delay)",
    r"net\.count", r"net\.\d+\.name", r"net\.\d+\.(rx|tx)\.(bytes|pkts|errs|drop)",
    r"block\.count", r"block\.\d+\.(name|backingIndex|path|allocation|capacity|physical|threshold)",
    r"block\.\d+\.(rd|wr)\.(reqs|bytes|times)", r"block\.\d+\.fl\.(reqs|times)",
]
# What every running guest here must report.
REQUIRED_KEYS = [
    "state.state", "state.reason", "cpu.time", "cpu.user", "cpu.system",
    "balloon.current", "balloon.maximum", "balloon.rss",
    "vcpu.current", "vcpu.maximum", "vcpu.0.state", "vcpu.0.time", "vcpu.0.wait", "vcpu.0.delay",
    "net.count", "net.0.name", "net.0.rx.bytes", "net.0.rx.pkts", "net.0.rx.errs", "net.0.rx.drop",
    "net.0.tx.bytes", "net.0.tx.pkts", "net.0.tx.errs", "net.0.tx.drop",
    "block.count", "block.0.name", "block.0.path", "block.0.rd.reqs", "block.0.rd.bytes",
    "block.0.rd.times", "block.0.wr.reqs", "block.0.wr.bytes", "block.0.wr.times",
    "block.0.fl.reqs", "block.0.fl.times",
]


def read_until(fd, pattern, timeout=20.0):
    """Reads fd until `pattern` (bytes regex) matches; returns what was read."""
    got = b""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, got):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{pattern!r} not read within {timeout} s; got {got[-400:]!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise EOFError(f"EOF before {pattern!r}; got {got[-400:]!r}")
            got += chunk
    return got


def read_eof(fd, timeout=10.0):
    """True when fd reaches EOF within the timeout (output before it is skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        if r:
            try:
                if not os.read(fd, 4096):
                    return True
            except ConnectionResetError:
                return True
    return False


def wait_text(path, text, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return False


class Console(E2ETestCase):

    def guest(self, stem, console=False):
        name = self.new_name(stem)
        image = str(self.env.guest_dir / f"{name}.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "16M"], check=True)
        self.addCleanup(lambda: os.path.exists(image) and os.unlink(image))
        extra = ("    <interface type='ethernet'><model type='virtio'/></interface>\n"
                 f"    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                 f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>\n")
        kw = {}
        if console:
            extra += ("    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n"
                      "    <video><model type='vga'/></video>\n")
            kw = {"serial_type": "pty", "cmdline_extra": "virtbus.shell=1"}
        xml = self.xml(name, memory_mib=MEM_MIB, extra_devices=extra, **kw).replace(
            "<memballoon model='none'/>", "<memballoon model='virtio'/>")
        path = str(self.env.connect("DomainDefineXML", "s", xml))
        self.addCleanup(self.remove_domain, path, name)
        return path, name, self.serial_log(name)

    def console(self, path, devname="", flags=0):
        fd = self.env.call(path, CONSOLE_IFACE, "OpenConsole", "su", devname, flags)
        raw = fd.take()
        self.addCleanup(lambda: _close(raw))
        return raw

    def test_console_input_display_stats(self):
        con, con_name, con_log = self.guest("con", console=True)
        plains = [self.guest("plain") for _ in range(2)]
        for path, _, _ in [(con, con_name, con_log)] + plains:
            self.env.dom(path, "Create", "u", 0)
        for path, _, log in [(con, con_name, con_log)] + plains:
            self.wait_event(path, EV_STARTED, STARTED_BOOTED)
            self.wait_marker(log)
        self.assertIn("<log file=", str(self.env.dom(con, "GetXMLDesc", "u", 0)))

        # ---- the serial console: type a command, read its answer ----
        first = self.console(con)
        os.write(first, b"echo hi-$((6*7))\n")
        read_until(first, rb"hi-42")

        # One client at a time: without FORCE (SAFE or not) a busy console
        # is refused; FORCE takes it and the first client gets EOF.
        for flags in (0, CONSOLE_SAFE):
            with self.assertLibvirtError("Active console session exists for this domain"):
                self.env.call(con, CONSOLE_IFACE, "OpenConsole", "su", "", flags)
        second = self.console(con, "serial0", CONSOLE_FORCE | CONSOLE_SAFE)
        self.assertTrue(read_eof(first), "the first client was not cut off")
        os.write(second, b"echo second-$((2*3))\n")
        read_until(second, rb"second-6")

        # ---- keys: h, i, Enter on the PS/2 keyboard (Linux keycodes) ----
        for code in (KEY_H, KEY_I, KEY_ENTER):
            self.env.dom(con, "SendKey", "uuauu", 0, 0, [code], 0)
        self.assertTrue(wait_text(con_log, "VIRTBUS-GUEST-KEY hi"),
                        "the guest did not echo the typed line")
        # The same keys as qnum (XT scancodes) with a hold time.
        for code in (0x23, 0x17, 0x1c):
            self.env.dom(con, "SendKey", "uuauu", 9, 50, [code], 0)
        deadline = time.monotonic() + 20
        while Path(con_log).read_text(errors="replace").count("VIRTBUS-GUEST-KEY hi") < 2:
            self.assertLess(time.monotonic(), deadline, "qnum keys were not typed")
            time.sleep(0.1)

        # ---- NMI: the guest kernel reports an unknown NMI and carries on ----
        self.env.dom(con, "InjectNMI", "u", 0)
        self.assertTrue(wait_text(con_log, "NMI received"), "the guest saw no NMI")
        os.write(second, b"echo alive-$((5+5))\n")
        read_until(second, rb"alive-10")

        # ---- display: a VNC connection, a screenshot ----
        gfd = self.env.dom(con, "OpenGraphicsFD", "uu", 0, 0).take()
        self.addCleanup(lambda: _close(gfd))
        self.assertEqual(read_until(gfd, rb"\n", 10)[:12], b"RFB 003.008\n")
        mime, shot = self.env.call(con, CONSOLE_IFACE, "Screenshot", "uu", 0, 0)
        sfd = shot.take()
        self.addCleanup(lambda: _close(sfd))
        head = os.read(sfd, 16)
        if str(mime) == "image/png":
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        else:
            self.assertEqual(str(mime), "image/x-portable-pixmap")
            self.assertEqual(head[:2], b"P6")
        self.assertGreater(os.fstat(sfd).st_size, 100)

        # ---- bad input: clear errors, nothing changes ----
        plain = plains[0][0]
        with self.assertLibvirtError("cannot find character device nosuch"):
            self.env.call(con, CONSOLE_IFACE, "OpenConsole", "su", "nosuch", 0)
        with self.assertLibvirtError("unsupported flags"):
            self.env.call(con, CONSOLE_IFACE, "OpenConsole", "su", "", 4)
        with self.assertLibvirtError("character device serial0 is not using a PTY"):
            self.env.call(plain, CONSOLE_IFACE, "OpenConsole", "su", "serial0", 0)
        with self.assertLibvirtError("nkeycodes must be <= 16"):
            self.env.dom(con, "SendKey", "uuauu", 0, 0, [KEY_H] * 17, 0)
        with self.assertLibvirtError("Unsupported codeset"):
            self.env.dom(con, "SendKey", "uuauu", 42, 0, [KEY_H], 0)
        with self.assertLibvirtError("cannot translate keycode 767 of linux codeset to qnum keycode"):
            self.env.dom(con, "SendKey", "uuauu", 0, 0, [767], 0)
        with self.assertLibvirtError("No graphics backend with index 0"):
            self.env.dom(plain, "OpenGraphicsFD", "uu", 0, 0)
        with self.assertLibvirtError("No graphics backend with index 3"):
            self.env.dom(con, "OpenGraphicsFD", "uu", 3, 0)
        with self.assertLibvirtError("no screens to take screenshot from"):
            self.env.call(plain, CONSOLE_IFACE, "Screenshot", "uu", 0, 0)
        with self.assertLibvirtError("no such screen ID"):
            self.env.call(con, CONSOLE_IFACE, "Screenshot", "uu", 5, 0)
        # The console still works after all that.
        os.write(second, b"echo still-$((1+1))\n")
        read_until(second, rb"still-2")

        # ---- statistics: every group's keys, libvirt's names only ----
        idle_path, idle_name, _ = self.define(memory_mib=64)
        records = {str(n): {str(k): v for k, v in r.items()}
                   for n, r in self.env.connect("GetAllDomainStats", "uu", 0, 0)}
        running = [con_name] + [name for _, name, _ in plains]
        for name in running + [idle_name]:
            self.assertIn(name, records)
        for name in running:
            st = records[name]
            missing = [k for k in REQUIRED_KEYS if k not in st]
            self.assertEqual(missing, [], f"{name} lacks keys")
            unknown = [k for k in st if not any(re.fullmatch(p, k) for p in LIBVIRT_KEYS)]
            self.assertEqual(unknown, [], f"{name} has keys libvirt does not name")
            self.assertEqual(int(st["state.state"]), 1)
            self.assertEqual(int(st["balloon.maximum"]), MEM_MIB * 1024)
            self.assertGreater(int(st["balloon.rss"]), 1024)
            self.assertGreater(int(st["cpu.time"]), 0)
            self.assertEqual(str(st["block.0.name"]), "vda")
            self.assertTrue(str(st["net.0.name"]).startswith("vnet"), st["net.0.name"])
        # The guest read its disk? At least the kernel probed it.
        self.assertGreater(int(records[con_name]["block.0.rd.reqs"]), 0)
        # An inactive guest: state and configured figures only.
        self.assertEqual(int(records[idle_name]["state.state"]), 5)
        self.assertNotIn("cpu.time", records[idle_name])
        # The list filters and groups.
        active = {str(n) for n, _ in self.env.connect("GetAllDomainStats", "uu", 1, LIST_ACTIVE)}
        self.assertTrue(set(running) <= active and idle_name not in active)
        inactive = {str(n) for n, _ in self.env.connect("GetAllDomainStats", "uu", 1, LIST_INACTIVE)}
        self.assertIn(idle_name, inactive)
        self.assertNotIn(con_name, inactive)
        only = {str(k) for k in self.env.dom(con, "GetStats", "uu", 8, 0)}
        self.assertTrue(only and all(k.startswith("vcpu.") for k in only), only)
        self.assertEqual(dict(self.env.dom(idle_path, "GetStats", "uu", 1, LIST_ACTIVE)), {})
        with self.assertLibvirtError(r"Stats types bits 0x40 are not supported by this daemon or QEMU"):
            self.env.connect("GetAllDomainStats", "uu", 1 | 64, STATS_ENFORCE)
        self.assertIn("state.state", {str(k) for k in self.env.dom(con, "GetStats", "uu", 1 | 64, 0)})


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


if __name__ == "__main__":
    unittest.main()
