#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""network-bench: what a virtual network costs on the QEMU connection.

virtbusd --system on the e2e harness's private system bus, inside a network
namespace made for the run (nothing touches the host's network):

  create/destroy  NetworkCreateXML of a NAT network with DHCP (bridge, nft
                  table, dnsmasq, state file) and its Destroy, N times;
  100 networks    NetworkDefineXML + Create of 100 NAT networks: wall time,
                  virtbusd's RSS before and after, the dnsmasq processes'
                  RSS, and the rules and tables in `nft list ruleset`;
                  then all destroyed (and checked gone).

Needs root. Run with Debian's python3 (python3-dbus, python3-gi):

    /usr/bin/python3 tests/bench/network-bench.py [--iterations 20] [--networks 100]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import harness  # noqa: E402

NET_IFACE = "org.libvirt.Network"


def sh(*argv):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def nat_xml(name, third, bridge=""):
    br = f"<bridge name='{bridge}' delay='0'/>" if bridge else ""
    return (f"<network><name>{name}</name><forward mode='nat'/>{br}"
            f"<ip address='10.{third // 250 + 100}.{third % 250}.1' prefix='24'><dhcp>"
            f"<range start='10.{third // 250 + 100}.{third % 250}.100' "
            f"end='10.{third // 250 + 100}.{third % 250}.200'/></dhcp></ip></network>")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--networks", type=int, default=100)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("network-bench needs root (namespaces, bridges, nftables)")
    ns = f"vbbench{os.getpid()}"
    sh("ip", "netns", "add", ns)
    env = None
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        env = harness.Environment({"VIRTBUS_NETWORK_DEFAULTS_DIR": "/nonexistent"},
                                  ["nsenter", f"--net=/run/netns/{ns}"])
        conn = env.connect
        create, destroy = [], []
        for i in range(args.iterations):
            t0 = time.perf_counter()
            path = str(conn("NetworkCreateXML", "s", nat_xml("bench", 0)))
            t1 = time.perf_counter()
            env.call(path, NET_IFACE, "Destroy", "")
            t2 = time.perf_counter()
            create.append((t1 - t0) * 1000)
            destroy.append((t2 - t1) * 1000)

        pid = env.daemon.proc.pid
        rss0 = rss_kib(pid)
        t0 = time.perf_counter()
        paths = []
        for i in range(args.networks):
            p = str(conn("NetworkDefineXML", "s", nat_xml(f"n{i}", i + 1)))
            env.call(p, NET_IFACE, "Create", "")
            paths.append(p)
        t_all = time.perf_counter() - t0
        rss1 = rss_kib(pid)
        pids = [int(p) for p in sh("ip", "netns", "pids", ns).split()]
        dns = [p for p in pids if Path(f"/proc/{p}/comm").read_text().strip() == "dnsmasq"]
        dns_rss = sum(rss_kib(p) for p in dns)
        ruleset = json.loads(sh("ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"))["nftables"]
        rules = sum(1 for o in ruleset if "rule" in o)
        tables = sum(1 for o in ruleset if "table" in o)
        t0 = time.perf_counter()
        for p in paths:
            env.call(p, NET_IFACE, "Destroy", "")
            env.call(p, NET_IFACE, "Undefine", "")
        t_down = time.perf_counter() - t0
        left = sh("ip", "netns", "exec", ns, "nft", "list", "ruleset").count("table inet virtbus_")

        def fmt(v):
            return f"median {statistics.median(v):.1f} ms, p90 {sorted(v)[int(len(v) * 0.9) - 1]:.1f} ms"

        print(f"| NAT network Create (bridge + nft table + dnsmasq), {args.iterations}x | {fmt(create)} |")
        print(f"| NAT network Destroy, {args.iterations}x | {fmt(destroy)} |")
        print(f"| {args.networks} NAT networks defined + started | {t_all:.2f} s "
              f"({t_all / args.networks * 1000:.0f} ms each) |")
        print(f"| virtbusd RSS, before -> with {args.networks} active | {rss0 / 1024:.1f} MB -> {rss1 / 1024:.1f} MB "
              f"({(rss1 - rss0) / args.networks:.0f} KiB per network) |")
        print(f"| dnsmasq processes, RSS total | {len(dns)}, {dns_rss / 1024:.1f} MB "
              f"({dns_rss / max(len(dns), 1) / 1024:.2f} MB each) |")
        print(f"| nft with {args.networks} active | {tables} tables, {rules} rules "
              f"({rules / args.networks:.0f} per NAT network) |")
        print(f"| {args.networks} networks destroyed + undefined | {t_down:.2f} s; virtbus tables left: {left} |")
    finally:
        if env is not None:
            problems = env.close()
            if problems:
                print("teardown: " + "\n".join(problems), file=sys.stderr)
        for p in subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE, text=True).stdout.split():
            try:
                os.kill(int(p), 9)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    main()
