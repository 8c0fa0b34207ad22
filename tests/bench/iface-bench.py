#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""iface-bench: host interfaces on the QEMU connection with many links.

virtbusd --session on a private bus, run inside a network namespace this
script creates (needs root), first with only `lo`, then with N veth
devices (N/2 pairs, made with one `ip -batch`). For each: ListInterfaces
latency (one link dump, whatever N, when a link changed since the last
call; none when nothing did), InterfaceLookupByName and
GetXMLDesc of one link (a link and an address dump, plus routes), and the
daemon's RSS after the calls.

    /usr/bin/python3 tests/bench/iface-bench.py [--veths 1000] [--calls 50]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import dbus  # noqa: E402
import harness as h  # noqa: E402

QEMU = "/org/libvirt/QEMU"


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timed(fn, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out, r


def summary(ms):
    ms = sorted(ms)
    return f"median {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.2f} ms"


def measure(bus, pid, calls, ns):
    call = lambda m, sig, *a: bus.call_blocking(h.BUS_NAME, QEMU, h.CONNECT_IFACE, m, sig, a, timeout=120)
    lst, paths = timed(lambda: call("ListInterfaces", "u", 0), calls)
    # After a change to a link the next call dumps the kernel again.
    cold = []
    for i in range(calls):
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "alias", f"bench{i}"], check=True)
        ms, _ = timed(lambda: call("ListInterfaces", "u", 0), 1)
        cold += ms
    look, path = timed(lambda: call("InterfaceLookupByName", "s", "lo"), calls)
    xml, _ = timed(lambda: bus.call_blocking(h.BUS_NAME, str(path), "org.libvirt.Interface", "GetXMLDesc", "u",
                                             (0,), timeout=120), calls)
    return len(paths), lst, cold, look, xml, rss_kib(pid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--veths", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=50)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("iface-bench: needs root (it makes a network namespace)")
    ns = f"vbbench{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    bus = daemon = pbus = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        pbus = h.PrivateBus()
        bus = dbus.bus.BusConnection(pbus.address)
        env = {"VIRTBUS_INTERFACE_CONFIG_DIR": pbus.tmpdir.name + "/ifcfg"}
        daemon = h.Daemon(pbus.address, pbus.tmpdir.name, ("nsenter", f"--net=/run/netns/{ns}"), env)
        daemon.wait_for_name(bus)
        pid = daemon.proc.pid
        rows = [("only lo",) + measure(bus, pid, args.calls, ns)]
        batch = "".join(f"link add vb{i}a type veth peer name vb{i}b\n" for i in range(args.veths // 2))
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input=batch, text=True, check=True)
        rows.append((f"{args.veths} veth",) + measure(bus, pid, args.calls, ns))
        print(f"iface-bench: {args.calls} calls each, virtbusd pid {pid}")
        for label, n, lst, cold, look, xml, rss in rows:
            print(f"- {label}: {n} interfaces listed")
            print(f"  ListInterfaces        {summary(lst)} (nothing changed: cached dump)")
            print(f"  ListInterfaces        {summary(cold)} (after a link change: one new dump)")
            print(f"  InterfaceLookupByName {summary(look)}")
            print(f"  GetXMLDesc (lo)       {summary(xml)}")
            print(f"  virtbusd RSS          {rss / 1024:.1f} MiB")
    finally:
        if daemon is not None:
            problems = daemon.stop(bus)
            if problems:
                print("\n".join(problems), file=sys.stderr)
        if bus is not None:
            bus.close()
        if pbus is not None:
            pbus.stop()
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    main()
