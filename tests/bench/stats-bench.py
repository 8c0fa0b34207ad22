#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""stats-bench: Connect.GetAllDomainStats over many running QEMU guests.

Starts G guests of tests/e2e/guest.py (96 MiB, one vCPU, a qcow2 disk, a
user-mode NIC, a virtio balloon) through virtbusd (the e2e harness's
private system bus), lets them boot (the marker on their serial), then
times N calls of GetAllDomainStats(0 = every group, flags 0) and of the
single-group call for state only, and one Domain.GetStats per guest.
Reports p50/p95 and the number of keys per guest.

Run as root with Debian's python3 (python3-dbus, python3-gi):

    /usr/bin/python3 tests/bench/stats-bench.py [--guests 20] [--rounds 50]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
import guest  # noqa: E402


# In 64 MiB the test guest printed nothing within 6 minutes (20 guests).
MEM_MIB = 96


def pct(samples, p):
    s = sorted(samples)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def timed(fn, rounds):
    out = []
    for _ in range(rounds):
        t0 = time.monotonic()
        fn()
        out.append(time.monotonic() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guests", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()
    import harness  # python3-dbus and python3-gi
    env = harness.Environment()
    try:
        paths = []
        t_boot = time.monotonic()
        for i in range(args.guests):
            name = f"stats{i}"
            log = str(env.guest_dir / f"{name}.serial.log")
            image = str(env.guest_dir / f"{name}.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "16M"], check=True)
            extra = ("    <interface type='user'><model type='virtio'/></interface>\n"
                     f"    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                     f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>\n")
            # no_timer_check: under 20 booting TCG guests the kernel's IO-APIC
            # timer check can fail and panic the guest (seen here).
            xml = guest.domain_xml(name, serial_log=log, memory_mib=MEM_MIB, extra_devices=extra,
                                   cmdline_extra="no_timer_check").replace(
                "<memballoon model='none'/>", "<memballoon model='virtio'/>")
            paths.append((str(env.connect("DomainCreateXML", "su", xml, 0)), log))
        for _, log in paths:
            guest.wait_for_marker(log, 1, timeout=600)
        boot = time.monotonic() - t_boot
        print(f"{args.guests} guests booted in {boot:.0f} s", file=sys.stderr)

        records = env.connect("GetAllDomainStats", "uu", 0, 0)
        assert len(records) == args.guests, len(records)
        keys = sorted(len(r) for _, r in records)
        rows = [
            ("GetAllDomainStats, all groups", timed(lambda: env.connect("GetAllDomainStats", "uu", 0, 0),
                                                    args.rounds)),
            ("GetAllDomainStats, state only", timed(lambda: env.connect("GetAllDomainStats", "uu", 1, 0),
                                                    args.rounds)),
            ("Domain.GetStats, all groups (one guest)",
             timed(lambda: env.dom(paths[0][0], "GetStats", "uu", 0, 0), args.rounds)),
        ]
        print(f"\n{args.guests} running TCG guests ({MEM_MIB} MiB, booted), {args.rounds} calls each; "
              f"keys per guest {keys[0]}-{keys[-1]}")
        print(f"{'call':45} {'p50 ms':>8} {'p95 ms':>8}")
        for label, s in rows:
            print(f"{label:45} {pct(s, 50) * 1000:8.1f} {pct(s, 95) * 1000:8.1f}")
    finally:
        problems = env.close()
        for i in range(args.guests):
            Path(env.guest_dir / f"stats{i}.qcow2").unlink(missing_ok=True)
        if problems:
            print("harness: " + "\n".join(problems), file=sys.stderr)


if __name__ == "__main__":
    main()
