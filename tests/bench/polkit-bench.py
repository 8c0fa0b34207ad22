#!/usr/bin/python3
"""What authorization costs: virtbusd --system on a private system bus with
a real polkitd (tests/e2e/polkit_env.py), the same call made by root (never
checked), by an unprivileged user on a fresh connection (polkit asked) and
by that user again (verdict cached), and calls per second from 16
unprivileged clients against 16 root clients, all in one run.

The call is Domain.GetState on the test:///default domain (domain.read,
allowed to anyone by the policy's defaults), through clients written in
Python (tests/e2e/polkit_client.py), so absolute times include Python's
share of a call; the ratios are what matters.

Usage (root): tests/bench/polkit-bench.py [--calls N] [--fresh N] [--markdown]
"""
import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import polkit_env  # noqa: E402

USERS = [f"vbb-user{i}" for i in range(16)]
TEST = "/org/libvirt/Test"
DOMAIN = "org.libvirt.Domain"
CALL = ("org.libvirt.Domain", "GetState", "u", 0)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def ms(x):
    return f"{x * 1000:.3f}"


def first_calls(pk, user, path, n):
    """The first call of n fresh connections of `user`."""
    out = []
    for _ in range(n):
        c = pk.client(user)
        out += c.timed(1, path, *CALL)
        c.close()
    return out


def throughput(pk, users, path, calls):
    clients = [pk.client(u) for u in users]
    for c in clients:
        c.timed(1, path, *CALL)  # connect, and for users: polkit once
    start = time.perf_counter()
    threads = [threading.Thread(target=c.timed, args=(calls, path) + CALL) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in clients:
        c.close()
    return len(clients) * calls / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--fresh", type=int, default=30)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    reason = polkit_env.skip_reason()
    if reason:
        print(f"polkit-bench: skipped: {reason}")
        return 0
    pk = polkit_env.PolkitEnvironment(USERS)
    try:
        root = pk.client("root")
        path = root.call(TEST, "org.libvirt.Connect", "DomainLookupByName", "s", "test")["ok"]
        user = USERS[0]
        rows = []
        root_first = first_calls(pk, "root", path, a.fresh)
        user_first = first_calls(pk, user, path, a.fresh)
        root_calls = root.timed(a.calls, path, *CALL)
        u = pk.client(user)
        user_calls = u.timed(a.calls, path, *CALL)
        rows.append(("first call on a new connection", root_first, user_first))
        rows.append(("later calls (verdict cached)", root_calls, user_calls))
        root_tp = throughput(pk, ["root"] * 16, path, a.calls // 4)
        user_tp = throughput(pk, USERS, path, a.calls // 4)
        load = os.getloadavg()[0]
    finally:
        pk.close()

    lines = [f"load average {load:.2f}, {os.cpu_count()} CPUs; Domain.GetState, Python clients",
             "",
             "| call | root p50 ms | root p99 ms | unprivileged p50 ms | unprivileged p99 ms | ratio p50 |",
             "|---|---|---|---|---|---|"]
    for name, r, uu in rows:
        lines.append(f"| {name} | {ms(statistics.median(r))} | {ms(pct(r, 99))} | "
                     f"{ms(statistics.median(uu))} | {ms(pct(uu, 99))} | "
                     f"{statistics.median(uu) / statistics.median(r):.2f}x |")
    lines += ["", "| 16 clients | calls/s |", "|---|---|",
              f"| root | {root_tp:.0f} |", f"| unprivileged (16 users) | {user_tp:.0f} |",
              f"| ratio | {user_tp / root_tp:.2f} |"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
