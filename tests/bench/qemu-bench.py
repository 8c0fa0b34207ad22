#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""qemu-bench: what the QEMU driver costs over QEMU itself.

Process-level, so Python (the other benches time D-Bus calls in C++). One
run measures, N rounds each, for the test guest of tests/e2e/guest.py (same
kernel, initramfs, -m and devices in every mode):

  (a) bare QEMU: exec -> QMP greeting -> qmp_capabilities -> cont, timed
      until `cont` returns; the floor any driver stands on;
  (b) virtbus: Domain.Create until the call returns and until the
      STARTED event, then Destroy until the STOPPED event; when (a) runs
      too, each (b) round follows an (a) round, so a busy machine weighs on
      both alike;
  (c) virtbus: SIGKILL of virtbusd with G guests running, then a new
      virtbusd until it owns org.libvirt and until every guest reads back
      as running (reconnected);
  (d) libvirt, when /usr/sbin/libvirtd with its QEMU driver is installed
      and running: the same create/destroy through virsh -c qemu:///system.
      It never starts a system libvirtd. For libvirt's figures through the
      same D-Bus calls, run (b) and (c) with VIRTBUS_E2E_REFERENCE=libvirt:
      the harness then starts Debian's libvirtd + libvirt-dbus in private
      namespaces instead of virtbusd.

Prints one table with p50/p90 and each figure's ratio to the bare QEMU
start. Run with Debian's python3 (python3-dbus, python3-gi for b and c):

    /usr/bin/python3 tests/bench/qemu-bench.py [--rounds 10] [--guests 10]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
E2E = HERE.parent / "e2e"
sys.path.insert(0, str(E2E))
import guest  # noqa: E402

ROWS = []  # (label, samples in seconds or None, note)


def pct(samples, p):
    s = sorted(samples)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def row(label, samples=None, note=""):
    ROWS.append((label, samples, note))
    if samples:
        print(f"  {label}: p50 {pct(samples, 50) * 1000:.1f} ms", file=sys.stderr, flush=True)
    else:
        print(f"  {label}: {note}", file=sys.stderr, flush=True)


# ---- (a) bare QEMU ----

def bare_round(i, workdir):
    """One bare start: (exec -> greeting, exec -> cont returned), seconds."""
    log, sock = Path(workdir) / f"bare{i}.log", Path(workdir) / f"bare{i}.qmp"
    argv = guest.bare_qemu_argv(f"bare{i}", log, sock, paused=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        qmp = guest.Qmp(sock)
        t1 = time.monotonic()
        qmp.execute("qmp_capabilities")
        qmp.execute("cont")
        t2 = time.monotonic()
        qmp.execute("quit")
        proc.wait(timeout=10)
        return t1 - t0, t2 - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def bench_bare(rounds, workdir):
    greeting, cont = [], []
    for i in range(rounds):
        g, c = bare_round(i, workdir)
        greeting.append(g)
        cont.append(c)
    row("bare QEMU: exec -> QMP greeting", greeting)
    row("bare QEMU: exec -> cont returned", cont)
    return cont


# ---- (b) and (c): virtbus through the harness ----

def _environment():
    import harness  # python3-dbus and python3-gi: only needed from here on
    return harness, harness.Environment()


def _who():
    # VIRTBUS_E2E_REFERENCE=libvirt: the same D-Bus calls, answered by
    # libvirtd + libvirt-dbus (see tests/e2e/harness.py).
    return "libvirt-dbus" if os.environ.get("VIRTBUS_E2E_REFERENCE") else "virtbus"


def bench_virtbus_lifecycle(rounds, workdir=None):
    """(b) Create -> reply, -> STARTED; Destroy -> STOPPED, one persistent guest.

    With `workdir`, each round starts with a bare QEMU start (a), so both
    see the same load on a shared machine; returns the bare samples."""
    harness, env = _environment()
    try:
        name = "bench-b"
        log = str(env.guest_dir / f"{name}.serial.log")
        path = str(env.connect("DomainDefineXML", "s", guest.domain_xml(name, serial_log=log)))
        reply, started, stopped, greeting, cont = [], [], [], [], []
        for i in range(rounds):
            if workdir:
                g, c = bare_round(i, workdir)
                greeting.append(g)
                cont.append(c)
            env.recorder.clear()
            t0 = time.monotonic()
            env.dom(path, "Create", "u", 0)
            t1 = time.monotonic()
            env.recorder.wait_event(path, harness.EV_STARTED, harness.STARTED_BOOTED, timeout=30)
            t2 = time.monotonic()
            reply.append(t1 - t0)
            started.append(t2 - t0)
            t3 = time.monotonic()
            env.dom(path, "Destroy", "u", 0)
            env.recorder.wait_event(path, harness.EV_STOPPED, harness.STOPPED_DESTROYED, timeout=30)
            stopped.append(time.monotonic() - t3)
        if workdir:
            row("bare QEMU: exec -> QMP greeting", greeting)
            row("bare QEMU: exec -> cont returned", cont)
        row(f"{_who()}: Create -> call returned", reply)
        row(f"{_who()}: Create -> STARTED event", started)
        row(f"{_who()}: Destroy -> STOPPED event", stopped)
        return cont
    finally:
        problems = env.close()
        if problems:
            print("harness: " + "\n".join(problems), file=sys.stderr)


def bench_virtbus_restart(rounds, nguests):
    """(c) SIGKILL virtbusd with nguests running, start it, wait for all."""
    harness, env = _environment()
    try:
        paths = []
        for i in range(nguests):
            name = f"bench-c{i}"
            log = str(env.guest_dir / f"{name}.serial.log")
            p = str(env.connect("DomainCreateXML", "su", guest.domain_xml(name, serial_log=log), 0))
            paths.append((p, log))
        # Booting guests compete with the daemon for 2 cores: measure idle ones.
        for _, log in paths:
            guest.wait_for_marker(log, 1, timeout=300)
        owned, reconnected = [], []
        for _ in range(rounds):
            env.kill_daemon()
            t0 = time.monotonic()
            env.start_daemon()
            t1 = time.monotonic()
            pending = {p for p, _ in paths}
            deadline = t0 + 60
            while pending and time.monotonic() < deadline:
                for p in list(pending):
                    try:
                        if int(env.dom(p, "GetState", "u", 0)[0]) == harness.STATE_RUNNING:
                            pending.discard(p)
                    except harness.dbus.DBusException:
                        pass
            if pending:
                raise RuntimeError(f"{len(pending)} guests not running 60 s after restart")
            owned.append(t1 - t0)
            reconnected.append(time.monotonic() - t0)
        row(f"{_who()}: restart, {nguests} guests -> org.libvirt owned", owned)
        row(f"{_who()}: restart, {nguests} guests -> all running", reconnected)
    finally:
        problems = env.close()
        if problems:
            print("harness: " + "\n".join(problems), file=sys.stderr)


# ---- (d) libvirt ----

LIBVIRT_QEMU_DRIVER = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so"


def bench_libvirt(rounds, workdir):
    label = "libvirt (virsh -c qemu:///system): create + destroy"
    if not (os.path.exists("/usr/sbin/libvirtd") and os.path.exists(LIBVIRT_QEMU_DRIVER)
            and shutil.which("virsh")):
        row(label, None, "not installed")
        return
    virsh = ["virsh", "-q", "-c", "qemu:///system"]
    # A system libvirtd owns host-wide state: use one that runs, never start one.
    if subprocess.run(virsh + ["version"], capture_output=True).returncode != 0:
        row(label, None, "installed, libvirtd not running")
        return
    name = "virtbus-bench-libvirt"
    log = Path(workdir) / "libvirt.serial.log"
    xml = Path(workdir) / "libvirt.xml"
    xml.write_text(guest.domain_xml(name, serial_log=str(log)))
    create, destroy = [], []
    for _ in range(rounds):
        t0 = time.monotonic()
        subprocess.run(virsh + ["create", str(xml)], check=True, capture_output=True)
        create.append(time.monotonic() - t0)
        t0 = time.monotonic()
        subprocess.run(virsh + ["destroy", name], check=True, capture_output=True)
        destroy.append(time.monotonic() - t0)
    row("libvirt: virsh create (incl. virsh startup)", create)
    row("libvirt: virsh destroy (incl. virsh startup)", destroy)


def print_table(base):
    base50 = pct(base, 50) if base else None
    print()
    print(f"| {'measure':<50} | {'N':>3} | {'p50 ms':>8} | {'p90 ms':>8} | {'p50 / bare cont':>15} |")
    print(f"|{'-' * 52}|{'-' * 5}|{'-' * 10}|{'-' * 10}|{'-' * 17}|")
    for label, samples, note in ROWS:
        if not samples:
            print(f"| {label:<50} | {'':>3} | {note:<32} |")
            continue
        p50, p90 = pct(samples, 50), pct(samples, 90)
        ratio = f"{p50 / base50:.2f}x" if base50 else ""
        print(f"| {label:<50} | {len(samples):>3} | {p50 * 1000:>8.1f} | {p90 * 1000:>8.1f} | {ratio:>15} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--guests", type=int, default=10, help="running guests for the restart figure")
    ap.add_argument("--only", choices=["bare", "virtbus", "restart", "libvirt"], action="append",
                    help="run only these parts (repeatable)")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip libvirt-dbus + libvirtd even where they are installed")
    ap.add_argument("--emit-rows", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    parts = set(args.only or ["bare", "virtbus", "restart", "libvirt"])

    try:
        paths = guest.ensure_guest()
    except guest.GuestUnavailable as e:
        sys.exit(f"qemu-bench: {e}")
    qemu = subprocess.run([guest.qemu_binary(), "--version"], capture_output=True, text=True)
    print(f"guest: kernel {paths['version']}, {guest.CMDLINE!r}; "
          f"{qemu.stdout.splitlines()[0] if qemu.stdout else 'qemu ?'}; TCG; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", file=sys.stderr)

    base = None
    with tempfile.TemporaryDirectory(prefix="virtbus-qemu-bench-") as workdir:
        # Bare rounds interleave with the virtbus ones when both run.
        interleave = "bare" in parts and "virtbus" in parts and not args.emit_rows
        if "bare" in parts and not interleave:
            base = bench_bare(args.rounds, workdir)
        for part, fn, fargs in (("virtbus", bench_virtbus_lifecycle,
                                 (args.rounds, workdir if interleave else None)),
                                ("restart", bench_virtbus_restart, (args.rounds, args.guests))):
            if part not in parts:
                continue
            try:
                r = fn(*fargs)
                if part == "virtbus" and interleave:
                    base = r
            except Exception as e:  # the driver may not exist yet: say so, go on
                row(f"{_who()} ({part})", None, f"unavailable: {str(e).splitlines()[0][:120]}")
        if "libvirt" in parts:
            bench_libvirt(args.rounds, workdir)
        if not args.no_reference and not args.emit_rows and not os.environ.get("VIRTBUS_E2E_REFERENCE"):
            run_reference(args, parts)
    if args.emit_rows:
        print(json.dumps(ROWS))
        return
    print_table(base)


def run_reference(args, parts):
    """(b) and (c) again, in this run, through libvirt-dbus + libvirtd.

    The e2e harness picks its daemon when imported, so the reference runs in
    a child process of this script; its rows join this table."""
    label = "libvirt-dbus + libvirtd (same D-Bus calls)"
    if not all(os.path.exists(p) for p in ("/usr/sbin/libvirtd", "/usr/sbin/libvirt-dbus", LIBVIRT_QEMU_DRIVER)):
        row(label, None, "not installed")
        return
    only = [f"--only={p}" for p in ("virtbus", "restart") if p in parts]
    if not only:
        return
    cmd = [sys.executable, __file__, "--emit-rows", f"--rounds={args.rounds}", f"--guests={args.guests}"] + only
    r = subprocess.run(cmd, env=dict(os.environ, VIRTBUS_E2E_REFERENCE="libvirt"), capture_output=True, text=True)
    try:
        ROWS.extend(tuple(x) for x in json.loads(r.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        row(label, None, f"failed: {(r.stderr.strip().splitlines() or ['?'])[-1][:100]}")


if __name__ == "__main__":
    main()
