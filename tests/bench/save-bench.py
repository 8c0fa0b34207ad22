#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""save-bench: Save and Restore of a 256 MiB guest, virtbus against bare QEMU.

The guest is tests/e2e/guest.py's (same kernel, initramfs and devices in
both modes), booted until its marker, N rounds each:

  (a) bare QEMU: `stop`, then QEMU's own migration into a file through an
      fd (getfd + migrate fd:, polled with query-migrate until completed,
      the bandwidth limit lifted as virtbus and libvirt lift it),
      timed until the file is complete; restore: a new QEMU with
      -incoming defer, getfd + migrate-incoming, polled until completed,
      `cont`, timed from exec until `cont` returns;
  (b) virtbus: Domain.Save until the call returns (the guest paused,
      streamed into the image, the image synced and renamed, QEMU gone),
      and Connect.DomainRestore until the call returns (QEMU started,
      the state loaded, the guest running).

virtbus writes more than bare QEMU does: its header and XML, an fdatasync
of the image and of the directory, the rename. Bare QEMU's file is timed
twice: when QEMU is done (in the page cache) and after an fdatasync. Each (b) round follows an (a) round, so load weighs on both alike.
Run with Debian's python3 (python3-dbus, python3-gi):

    /usr/bin/python3 tests/bench/save-bench.py [--rounds 5] [--memory 256]
"""

import argparse
import array
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
import guest  # noqa: E402


UNLIMITED = (2**63 - 1) // (1024 * 1024) * 1024 * 1024


def pct(samples, p):
    s = sorted(samples)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def execute_fd(qmp, cmd, fd, **args):
    """A QMP command with `fd` attached (SCM_RIGHTS), as getfd wants."""
    msg = json.dumps({"execute": cmd, "arguments": args}).encode() + b"\n"
    qmp.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    while True:
        m = qmp._read()
        if "event" in m:
            continue
        if "error" in m:
            raise RuntimeError(f"QMP {cmd}: {m['error']}")
        return m.get("return")


def wait_migration(qmp, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = qmp.execute("query-migrate").get("status")
        if status == "completed":
            return
        if status in ("failed", "cancelled"):
            raise RuntimeError(f"migration {status}")
        time.sleep(0.005)
    raise TimeoutError("migration did not complete")


def start_bare(workdir, name, memory, incoming=False):
    log, sock = Path(workdir) / f"{name}.log", Path(workdir) / f"{name}.qmp"
    sock.unlink(missing_ok=True)
    argv = guest.bare_qemu_argv(name, log, sock, memory_mib=memory, paused=incoming)
    if incoming:
        argv += ["-incoming", "defer"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    qmp = guest.Qmp(sock, timeout=30)
    qmp.execute("qmp_capabilities")
    return proc, qmp, log


def bare_round(i, workdir, memory):
    """(save, save until the file is synced, restore) in seconds, bare QEMU."""
    image = Path(workdir) / f"bare{i}.img"
    proc, qmp, log = start_bare(workdir, f"bare{i}", memory)
    try:
        guest.wait_for_marker(log, 1, 120)
        # As virtbus (and libvirt) do for a file: no rate limit (QEMU's
        # default, 128 MiB/s, is meant for networks).
        qmp.execute("migrate-set-parameters", **{"max-bandwidth": UNLIMITED})
        t0 = time.monotonic()
        qmp.execute("stop")
        fd = os.open(image, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            execute_fd(qmp, "getfd", fd, fdname="save")
        finally:
            os.close(fd)
        qmp.execute("migrate", uri="fd:save")
        wait_migration(qmp)
        save = time.monotonic() - t0
        fd = os.open(image, os.O_RDONLY)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)
        synced = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
    t0 = time.monotonic()
    proc, qmp, _ = start_bare(workdir, f"bare{i}r", memory, incoming=True)
    try:
        fd = os.open(image, os.O_RDONLY)
        try:
            execute_fd(qmp, "getfd", fd, fdname="restore")
        finally:
            os.close(fd)
        qmp.execute("migrate-incoming", uri="fd:restore")
        wait_migration(qmp)
        qmp.execute("cont")
        restore = time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
    image.unlink()
    return save, synced, restore


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory", type=int, default=256, help="guest RAM in MiB")
    args = ap.parse_args()
    try:
        paths = guest.ensure_guest()
    except guest.GuestUnavailable as e:
        sys.exit(f"save-bench: {e}")
    qemu = subprocess.run([guest.qemu_binary(), "--version"], capture_output=True, text=True)
    print(f"guest: kernel {paths['version']}, {args.memory} MiB; "
          f"{qemu.stdout.splitlines()[0] if qemu.stdout else 'qemu ?'}; TCG; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", file=sys.stderr)

    import harness  # python3-dbus and python3-gi: only needed from here on
    rows = {k: [] for k in ("bare save", "bare save+sync", "bare restore", "virtbus save", "virtbus restore")}
    sizes = []
    env = harness.Environment()
    try:
        with tempfile.TemporaryDirectory(prefix="virtbus-save-bench-", dir=env.guest_dir) as workdir:
            name = "bench-save"
            log = str(env.guest_dir / f"{name}.serial.log")
            path = str(env.connect("DomainDefineXML", "s",
                                   guest.domain_xml(name, serial_log=log, memory_mib=args.memory)))
            image = os.path.join(workdir, "virtbus.img")
            for i in range(args.rounds):
                s, ss, r = bare_round(i, workdir, args.memory)
                rows["bare save"].append(s)
                rows["bare save+sync"].append(ss)
                rows["bare restore"].append(r)
                Path(log).unlink(missing_ok=True)
                env.dom(path, "Create", "u", 0)
                guest.wait_for_marker(log, 1, 120)
                t0 = time.monotonic()
                env.dom(path, "Save", "ssu", image, "", 0, timeout=300)
                rows["virtbus save"].append(time.monotonic() - t0)
                sizes.append(os.path.getsize(image))
                t0 = time.monotonic()
                env.connect("DomainRestore", "ssu", image, "", 0, timeout=300)
                rows["virtbus restore"].append(time.monotonic() - t0)
                env.dom(path, "Destroy", "u", 0)
                print(f"  round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in rows.items()),
                      file=sys.stderr, flush=True)
            env.dom(path, "Undefine", "u", 0)
    finally:
        problems = env.close()
        if problems:
            print("harness: " + "\n".join(problems), file=sys.stderr)

    print(f"\nimage size (virtbus): {sum(sizes) / len(sizes) / 1024 / 1024:.1f} MiB\n")
    print(f"| {'measure':<22} | {'N':>3} | {'p50 s':>7} | {'p90 s':>7} | {'virtbus / bare':>20} |")
    print(f"|{'-' * 24}|{'-' * 5}|{'-' * 9}|{'-' * 9}|{'-' * 22}|")
    for op, bases in (("save", ("save", "save+sync")), ("restore", ("restore",))):
        for b in bases:
            bare = rows[f"bare {b}"]
            print(f"| {'bare QEMU ' + b:<22} | {len(bare):>3} | {pct(bare, 50):>7.2f} | {pct(bare, 90):>7.2f} | "
                  f"{'':>20} |")
        ours = rows[f"virtbus {op}"]
        ratios = " / ".join(f"{pct(ours, 50) / pct(rows[f'bare {b}'], 50):.2f}x" for b in bases)
        print(f"| {'virtbus ' + op:<22} | {len(ours):>3} | {pct(ours, 50):>7.2f} | {pct(ours, 90):>7.2f} | "
              f"{ratios:>20} |")


if __name__ == "__main__":
    main()
