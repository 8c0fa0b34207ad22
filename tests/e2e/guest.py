# SPDX-License-Identifier: LGPL-2.1-or-later
"""The real test guest: build it, describe it as libvirt domain XML, watch it.

The guest is a Debian kernel and a busybox initramfs built by
build-guest.sh (cached; the first build downloads one kernel package from
the Debian archive). It prints MARKER on its serial console on every boot,
and the ACPI power button powers it off, so Shutdown, Reboot and Reset
have visible effects within seconds under TCG.

Also a bare-QEMU equivalent of the same domain and a minimal QMP client,
which the benchmark and the guest's own self-check use.

python3 stdlib only.
"""

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BUILD_SCRIPT = HERE / "build-guest.sh"

MARKER = "VIRTBUS-GUEST-READY"
# quiet: every console byte is a port write that TCG emulates, so kernel
# chatter costs boot time (the init's own lines still show).
# no_timer_check: on a loaded host a TCG guest's timer check can miss its
# window and the kernel panics ("IO-APIC + timer doesn't work"), seen once
# in 20 guests booting together.
CMDLINE = "console=ttyS0 quiet no_timer_check"
QEMU = "qemu-system-x86_64"


class GuestUnavailable(Exception):
    """The guest cannot be built or booted on this host (no QEMU, no archive)."""


def guest_dir():
    return Path(os.environ.get("VIRTBUS_GUEST_DIR") or REPO_ROOT / "build" / "guest")


def qemu_binary():
    return shutil.which(QEMU) or ("/usr/bin/" + QEMU if os.access("/usr/bin/" + QEMU, os.X_OK) else None)


_paths = None


def ensure_guest(outdir=None):
    """Builds the guest if needed; returns {kernel, bzimage, initrd, version}.

    Raises GuestUnavailable when QEMU is missing or the build fails, so
    callers can skip honestly (the reason is in the message).
    """
    global _paths
    if _paths is not None and outdir is None:
        return _paths
    if qemu_binary() is None:
        raise GuestUnavailable(f"{QEMU} is not installed (Debian: qemu-system-x86)")
    out = Path(outdir) if outdir else guest_dir()
    try:
        r = subprocess.run(["bash", str(BUILD_SCRIPT), str(out)], capture_output=True,
                           text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GuestUnavailable(f"build-guest.sh did not run: {e}") from e
    if r.returncode != 0:
        raise GuestUnavailable(f"build-guest.sh {out} failed ({r.returncode}):\n{r.stderr.strip()}")
    paths = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    for key in ("kernel", "initrd"):
        if not os.path.isfile(paths.get(key, "")):
            raise GuestUnavailable(f"build-guest.sh printed no usable {key}: {r.stdout!r}")
    if outdir is None:
        _paths = paths
    return paths


def domain_xml(name, uuid=None, serial_log=None, memory_mib=128, on_reboot="restart",
               on_poweroff="destroy", extra_devices="", emulator=None, kernel=None, cmdline_extra="",
               serial_type="file"):
    """libvirt domain XML for one test guest.

    emulator: None means the host's qemu-system-x86_64 (what virt-install
    writes); pass a string to test a bad one. kernel: override the image
    (the bzImage, a missing file). cmdline_extra: more kernel arguments
    (virtbus.net=dhcp and friends, see build-guest.sh). serial_type: "file"
    writes the serial console to serial_log; "pty" gives the guest a pty
    serial (for console clients) whose output QEMU also logs to serial_log.
    """
    paths = ensure_guest()
    if serial_log is None:
        raise ValueError("serial_log is required: the marker is read from it")
    emu = emulator if emulator is not None else qemu_binary()
    uuid_el = f"\n  <uuid>{uuid}</uuid>" if uuid else ""
    if serial_type == "file":
        serial = (f"<serial type='file'>\n      <source path='{serial_log}'/>\n"
                  "      <target port='0'/>\n    </serial>")
    elif serial_type == "pty":
        serial = (f"<serial type='pty'>\n      <log file='{serial_log}' append='off'/>\n"
                  "      <target port='0'/>\n    </serial>")
    else:
        raise ValueError(f"serial_type {serial_type!r}: file or pty")
    return f"""<domain type='qemu'>
  <name>{name}</name>{uuid_el}
  <memory unit='KiB'>{int(memory_mib) * 1024}</memory>
  <currentMemory unit='KiB'>{int(memory_mib) * 1024}</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel or paths['kernel']}</kernel>
    <initrd>{paths['initrd']}</initrd>
    <cmdline>{(CMDLINE + " " + cmdline_extra).strip()}</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>{on_poweroff}</on_poweroff>
  <on_reboot>{on_reboot}</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{emu}</emulator>
    <controller type='usb' model='none'/>
    {serial}
    <memballoon model='none'/>
{extra_devices}  </devices>
</domain>
"""


def marker_count(log):
    try:
        return Path(log).read_text(errors="replace").count(MARKER)
    except FileNotFoundError:
        return 0


def log_tail(log, lines=20):
    try:
        return "\n".join(Path(log).read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"<{e}>"


def wait_for_marker(log, count=1, timeout=30.0):
    """Waits until MARKER occurs `count` times in the serial log.

    Returns the seconds waited; raises TimeoutError with the log's tail.
    """
    start = time.monotonic()
    deadline = start + timeout
    while True:
        n = marker_count(log)
        if n >= count:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{MARKER} seen {n} time(s) in {log}, wanted {count}, "
                               f"after {timeout} s; log tail:\n{log_tail(log)}")
        time.sleep(0.02)


# ---- bare QEMU: the same guest without any daemon ----

def bare_qemu_argv(name, serial_log, qmp_socket, memory_mib=128, kernel=None, paused=True,
                   no_shutdown=False, pidfile=None):
    """The QEMU command line a libvirt-style driver would build for domain_xml().

    paused: -S, so the caller can time exec -> QMP -> cont.
    """
    paths = ensure_guest()
    argv = [qemu_binary(), "-name", f"guest={name}", "-machine", "pc,accel=tcg",
            "-m", str(memory_mib), "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none",
            "-kernel", kernel or paths["kernel"], "-initrd", paths["initrd"],
            "-append", CMDLINE,
            "-chardev", f"file,id=charserial0,path={serial_log}",
            "-device", "isa-serial,chardev=charserial0,id=serial0",
            "-qmp", f"unix:{qmp_socket},server=on,wait=off"]
    if paused:
        argv.append("-S")
    if no_shutdown:
        argv.append("-no-shutdown")
    if pidfile:
        argv += ["-pidfile", str(pidfile)]
    return argv


class Qmp:
    """A blocking QMP client: greeting, commands, and the events in between."""

    def __init__(self, path, timeout=5.0):
        self.events = []
        deadline = time.monotonic() + timeout
        # QEMU creates the socket a few ms after exec.
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.001)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.greeting = self._read()

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            m = self._read()
            if "event" in m:
                self.events.append(m)
                continue
            if "error" in m:
                raise RuntimeError(f"QMP {cmd}: {m['error']}")
            return m.get("return")

    def wait_event(self, name, timeout=10.0):
        for e in self.events:
            if e["event"] == name:
                return e
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self._read()
            if "event" in m:
                self.events.append(m)
                if m["event"] == name:
                    return m
        raise TimeoutError(f"no QMP {name} event within {timeout} s")

    def close(self):
        self.sock.close()


def self_check(workdir, kernel=None, timeout=60.0):
    """Boots the guest in bare QEMU and powers it off through ACPI.

    Returns (seconds from exec to the marker, the SHUTDOWN event). QEMU
    runs without -no-shutdown, so it must exit by itself.
    """
    workdir = Path(workdir)
    log, sock = workdir / "selfcheck-serial.log", workdir / "selfcheck.qmp"
    for p in (log, sock):
        p.unlink(missing_ok=True)
    argv = bare_qemu_argv("selfcheck", log, sock, kernel=kernel, paused=False)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        qmp = Qmp(sock)
        qmp.execute("qmp_capabilities")
        wait_for_marker(log, 1, timeout)
        boot = time.monotonic() - t0
        qmp.execute("system_powerdown")
        ev = qmp.wait_event("SHUTDOWN", timeout)
        proc.wait(timeout=10)
        return boot, ev
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description="build the test guest and boot it once in bare QEMU")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    t = time.monotonic()
    p = ensure_guest()
    print(f"guest {p['version']} ready in {time.monotonic() - t:.2f} s: {p['kernel']} {p['initrd']}")
    with tempfile.TemporaryDirectory(prefix="virtbus-guest-") as d:
        for label, k in (("vmlinux (PVH)", p["kernel"]), ("bzImage", p.get("bzimage"))):
            if not k or not os.path.isfile(k):
                continue
            for _ in range(args.rounds):
                boot, ev = self_check(d, kernel=k)
                print(f"{label}: marker after {boot:.2f} s, SHUTDOWN {ev.get('data')}")
