#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodedev-bench: the host node device driver with many devices.

Runs itself inside a fresh network namespace (`ip netns exec`), so the
daemon's /sys shows only that namespace's interfaces, and there, for
virtbusd --session on a private bus:

  burst    create P veth pairs (2P node devices) with one `ip -batch`; time
           until the last NodeDeviceEvent CREATED arrives, and RSS growth;
  list     ListNodeDevices (all, and CAP_NET) with 2P+ devices: p50/p99;
  xml      GetXMLDesc of one net device: p50/p99;
  latency  uevent -> D-Bus signal: from the moment a listener process
           blocked on its own uevent socket receives the veth's "add" (the
           kernel's broadcast reaches the daemon's socket at the same time)
           to the dispatch of the matching NodeDeviceEvent in this process;
  start    exec -> org.libvirt owned with 2P+ devices present.

Needs root. Run with Debian's python3 (python3-dbus, python3-gi):

    /usr/bin/python3 tests/bench/nodedev-bench.py [--pairs 500] [--trials 50]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

QEMU = "/org/libvirt/QEMU"
CAP_NET = 1 << 4


LISTENER = """
import socket, sys, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind((0, 1))
print("ready", flush=True)
while True:
    d = s.recv(65536)
    t = time.time()
    head = d.split(b"\\0", 1)[0]
    if head.startswith(b"add@/devices/virtual/net/vbl"):
        print(t, head.decode(), flush=True)
"""


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e6)
    return out


def inner(args):
    import dbus
    import harness as h
    from gi.repository import GLib

    results = {}
    # A separate process stamps each veth "add" uevent the moment its
    # recv returns (the kernel's broadcast reaches the daemon's socket at
    # the same time); in this process the GIL could delay the stamp.
    listener = subprocess.Popen([sys.executable, "-c", LISTENER], stdout=subprocess.PIPE, text=True)
    listener.stdout.readline()  # "ready": bound before anything is created
    uevents = {}  # "add@<devpath>" -> time the listener received it

    def read_uevents():
        for line in listener.stdout:
            t, key = line.split(" ", 1)
            uevents.setdefault(key.strip(), float(t))

    threading.Thread(target=read_uevents, daemon=True).start()

    bus_ = h.PrivateBus()
    logdir = tempfile.mkdtemp(prefix="nodedev-bench-")
    daemon = h.Daemon(bus_.address, logdir)
    bus = dbus.bus.BusConnection(bus_.address, mainloop=h.glib_mainloop())
    try:
        daemon.wait_for_name(bus)
        obj = bus.get_object(h.BUS_NAME, QEMU)
        conn = dbus.Interface(obj, h.CONNECT_IFACE)
        events = []

        def on_event(dev, event, detail):
            events.append((str(dev), int(event), time.time()))

        bus.add_signal_receiver(on_event, signal_name="NodeDeviceEvent", dbus_interface=h.CONNECT_IFACE,
                                path=QEMU)
        ctx = GLib.MainContext.default()
        GLib.timeout_add(50, lambda: True)  # wakes blocking iterations, so deadlines hold
        before = len(conn.ListNodeDevices(0))
        rss0 = rss_kb(daemon.proc.pid)

        # burst
        batch = "".join(f"link add vbb{i} type veth peer name vbc{i}\n" for i in range(args.pairs))
        t0 = time.monotonic()
        subprocess.run(["ip", "-batch", "-"], input=batch, text=True, check=True)
        want = 2 * args.pairs
        deadline = time.monotonic() + 120
        while sum(1 for e in events if e[1] == 0) < want and time.monotonic() < deadline:
            ctx.iteration(True)
        got = sum(1 for e in events if e[1] == 0)
        print(f"burst: {got}/{want} CREATED", file=sys.stderr)
        results["burst"] = (got, time.monotonic() - t0)
        listed = len(conn.ListNodeDevices(0))
        results["rss"] = (rss0, rss_kb(daemon.proc.pid), listed - before)

        # list and xml
        results["list_all"] = (listed, timed(lambda: conn.ListNodeDevices(0), args.calls))
        results["list_net"] = (len(conn.ListNodeDevices(CAP_NET)), timed(lambda: conn.ListNodeDevices(CAP_NET),
                                                                         args.calls))
        one = [str(p) for p in conn.ListNodeDevices(CAP_NET) if "vbb0" in str(p)][0]
        dev = dbus.Interface(bus.get_object(h.BUS_NAME, one), "org.libvirt.NodeDevice")
        results["xml"] = timed(lambda: dev.GetXMLDesc(0), args.calls)

        # uevent -> signal
        lat = []
        for i in range(args.trials):
            name = f"vbl{i}"
            prefix = f"{QEMU}/nodedev/" + h.enc(f"net_{name}_")
            events.clear()
            subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", f"vbm{i}"], check=True)
            deadline = time.monotonic() + 5
            hit = None
            while hit is None and time.monotonic() < deadline:
                ctx.iteration(True)
                hit = next((e for e in events if e[1] == 0 and e[0].startswith(prefix)), None)
            key = f"add@/devices/virtual/net/{name}"
            until = time.monotonic() + 2
            while key not in uevents and time.monotonic() < until:
                time.sleep(0.001)
            t_ue = uevents.get(key)
            if hit and t_ue:
                lat.append((hit[2] - t_ue) * 1e6)
            else:
                print(f"trial {i}: signal {'seen' if hit else 'missing'}, uevent {'seen' if t_ue else 'missing'}",
                      file=sys.stderr)
            subprocess.run(["ip", "link", "del", name], check=True)
        results["latency"] = lat
    finally:
        listener.kill()
        listener.wait()
        problems = daemon.stop(bus)
        bus.close()
        bus_.stop()

    # start with the devices present
    bus_ = h.PrivateBus()
    t0 = time.monotonic()
    daemon = h.Daemon(bus_.address, logdir)
    bus = dbus.bus.BusConnection(bus_.address, mainloop=h.glib_mainloop())
    try:
        daemon.wait_for_name(bus)
        results["start"] = (time.monotonic() - t0, rss_kb(daemon.proc.pid))
    finally:
        problems += daemon.stop(bus)
        bus.close()
        bus_.stop()
    if problems:
        print(f"daemon logs kept in {logdir}", file=sys.stderr)
    else:
        shutil.rmtree(logdir, ignore_errors=True)
    report(args, results, problems)


def report(args, r, problems):
    got, secs = r["burst"]
    rss0, rss1, added = r["rss"]
    print(f"| burst: {2 * args.pairs} veths created | {got} CREATED signals in {secs * 1000:.0f} ms |")
    print(f"| RSS | {rss0} KB -> {rss1} KB with {added} more devices "
          f"({(rss1 - rss0) * 1024 / max(added, 1):.0f} B per device) |")
    for key, label in (("list_all", "ListNodeDevices(0)"), ("list_net", "ListNodeDevices(CAP_NET)")):
        n, v = r[key]
        print(f"| {label}, {n} devices | p50 {pct(v, 50):.0f} µs, p99 {pct(v, 99):.0f} µs |")
    v = r["xml"]
    print(f"| GetXMLDesc (net) | p50 {pct(v, 50):.0f} µs, p99 {pct(v, 99):.0f} µs |")
    v = r["latency"]
    if v:
        print(f"| uevent -> NodeDeviceEvent ({len(v)} veth adds, {r['list_all'][0]} devices) | "
              f"p50 {pct(v, 50):.0f} µs, p99 {pct(v, 99):.0f} µs, max {max(v):.0f} µs |")
    secs, rss = r["start"]
    print(f"| start with {r['list_all'][0]} devices | {secs * 1000:.0f} ms to own the name, RSS {rss} KB |")
    for p in problems:
        print("problem:", p, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args)
    if os.geteuid() != 0:
        sys.exit("nodedev-bench: needs root (network namespaces)")
    ns = "vbbench" + uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        # The namespace dies with its veths; nothing leaks into the host.
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, "--inner",
                               "--pairs", str(args.pairs), "--trials", str(args.trials),
                               "--calls", str(args.calls)]).returncode
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    sys.exit(main())
