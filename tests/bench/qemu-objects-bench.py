#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""qemu-objects-bench: what persistence costs the QEMU connection.

For virtbusd --session on a private bus, with the QEMU driver's files in a
temp dir, in one run:

  churn   DomainDefineXML + Undefine of one domain, N times, on
          /org/libvirt/Test (in memory) and /org/libvirt/QEMU (each define
          validates against the probed capabilities and writes the
          definition atomically: temp file, fsync, rename, fsync of the
          directory; each undefine unlinks it);
  start   exec -> org.libvirt owned, with 0 and with D persistent QEMU
          definitions on disk (read, parsed and indexed at start), and the
          RSS once owned.

No guest runs. Run with Debian's python3 (python3-dbus):

    /usr/bin/python3 tests/bench/qemu-objects-bench.py [--churn 500] [--domains 10000]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import dbus  # noqa: E402
import harness as h  # noqa: E402

XML_TEST = ("<domain type='test'><name>churn</name><memory>1024</memory>"
            "<os><type>hvm</type></os></domain>")


def qemu_xml(name, uuid=None):
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<domain type='qemu'><name>{name}</name>{u}<memory unit='MiB'>64</memory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def start_daemon(address, env, log):
    t0 = time.monotonic()
    proc = subprocess.Popen([h.virtbusd_binary(), "--session"], env=env, stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    bus = dbus.bus.BusConnection(address)
    deadline = t0 + 120
    while time.monotonic() < deadline:
        if bus.name_has_owner(h.BUS_NAME):
            return proc, bus, time.monotonic() - t0
        if proc.poll() is not None:
            raise RuntimeError(f"virtbusd exited with {proc.returncode}")
        time.sleep(0.0005)
    raise RuntimeError("virtbusd did not own org.libvirt")


def stop_daemon(proc, bus):
    bus.close()
    proc.terminate()
    proc.wait(timeout=30)


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def churn(bus, conn_path, xml, n):
    conn = dbus.Interface(bus.get_object(h.BUS_NAME, conn_path), h.CONNECT_IFACE)
    samples = []
    for _ in range(n):
        t0 = time.monotonic()
        path = conn.DomainDefineXML(xml)
        dbus.Interface(bus.get_object(h.BUS_NAME, path), h.DOMAIN_IFACE).Undefine(0)
        samples.append(time.monotonic() - t0)
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--churn", type=int, default=500)
    ap.add_argument("--domains", type=int, default=10000)
    ap.add_argument("--restarts", type=int, default=5)
    args = ap.parse_args()

    pbus = h.PrivateBus()
    rows = []
    with tempfile.TemporaryDirectory(prefix="virtbus-qobj-bench-") as tmp:
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=pbus.address)
        for kind in ("CONFIG", "STATE", "LOG"):
            env[f"VIRTBUS_QEMU_{kind}_DIR"] = f"{tmp}/{kind.lower()}"
        env.setdefault("VIRTBUS_QEMU_CACHE_DIR", str(h.REPO_ROOT / "build" / "qemu-caps-cache"))
        log = open(f"{tmp}/virtbusd.log", "w")
        try:
            proc, bus, _ = start_daemon(pbus.address, env, log)
            conn = dbus.Interface(bus.get_object(h.BUS_NAME, "/org/libvirt/QEMU"), h.CONNECT_IFACE)
            # The first QEMU define waits for the capability probe (cached
            # on disk afterwards): keep it out of the figures.
            p = conn.DomainDefineXML(qemu_xml("warm"))
            dbus.Interface(bus.get_object(h.BUS_NAME, p), h.DOMAIN_IFACE).Undefine(0)
            test = churn(bus, h.CONN_PATH, XML_TEST, args.churn)
            qemu = churn(bus, "/org/libvirt/QEMU", qemu_xml("churn"), args.churn)
            rows.append(("Test: DefineXML + Undefine (ms)", test))
            rows.append(("QEMU: DefineXML + Undefine, persisted (ms)", qemu))
            stop_daemon(proc, bus)

            starts, rss = [], []
            for _ in range(args.restarts):
                proc, bus, t = start_daemon(pbus.address, env, log)
                starts.append(t)
                rss.append(rss_kb(proc.pid))
                stop_daemon(proc, bus)
            rows.append(("start -> name owned, 0 QEMU definitions (ms)", starts))
            rss0 = statistics.median(rss)

            # D definitions written the way virtbusd itself writes them.
            proc, bus, _ = start_daemon(pbus.address, env, log)
            conn = dbus.Interface(bus.get_object(h.BUS_NAME, "/org/libvirt/QEMU"), h.CONNECT_IFACE)
            t0 = time.monotonic()
            for i in range(args.domains):
                conn.DomainDefineXML(qemu_xml(f"persist-{i}"))
            define_each = (time.monotonic() - t0) / args.domains
            stop_daemon(proc, bus)
            starts, rss = [], []
            for _ in range(args.restarts):
                proc, bus, t = start_daemon(pbus.address, env, log)
                n = len(dbus.Interface(bus.get_object(h.BUS_NAME, "/org/libvirt/QEMU"),
                                       h.CONNECT_IFACE).ListDomains(0))
                if n != args.domains:
                    raise RuntimeError(f"{n} domains after restart, wanted {args.domains}")
                starts.append(t)
                rss.append(rss_kb(proc.pid))
                stop_daemon(proc, bus)
            rows.append((f"start -> name owned, {args.domains} QEMU definitions (ms)", starts))
        finally:
            log.close()
            pbus.stop()

    print(f"\nload {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; "
          f"defining {args.domains} persistent QEMU domains: {define_each * 1000:.2f} ms each")
    print("| measure | N | p50 | p99 |")
    print("|---|---:|---:|---:|")
    for label, s in rows:
        q = statistics.quantiles(s, n=100) if len(s) > 1 else [s[0]] * 99
        print(f"| {label} | {len(s)} | {statistics.median(s) * 1000:.2f} | {q[98] * 1000:.2f} |")
    print(f"| RSS once owned, 0 definitions (KB) | | {rss0:.0f} | |")
    print(f"| RSS once owned, {args.domains} definitions (KB) | | {statistics.median(rss):.0f} | |")
    print(f"| RSS per persistent QEMU definition (KB) | | "
          f"{(statistics.median(rss) - rss0) / args.domains:.2f} | |")


if __name__ == "__main__":
    main()
