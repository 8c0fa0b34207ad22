#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""snapshot-bench: snapshot create and revert of a running guest, virtbus
against the same QMP commands sent to a bare QEMU.

The test guest of tests/e2e/guest.py (same kernel, initramfs, --memory-mib
and a qcow2 disk on virtio) runs twice side by side: under virtbusd (the
e2e harness: a private system bus, QEMU as root) and as a bare QEMU driven
over QMP by this script. Each round, alternating who goes first:

  internal create  Domain.SnapshotCreateXML (memory + disks in the qcow2
                   image) until the call returns, against snapshot-save,
                   polling query-jobs until concluded, job-dismiss;
  internal revert  DomainSnapshot.Revert until the call returns (the guest
                   runs again), against stop, snapshot-load (same polling),
                   cont;
  external create  SnapshotCreateXML with DISK_ONLY (qemu-img create of an
                   overlay, blockdev-add, blockdev-snapshot) until the call
                   returns, against qemu-img create + blockdev-add +
                   transaction(blockdev-snapshot).

Snapshots are deleted between rounds (internal; external ones stack up as
a chain, one per round). Prints p50/p90 per row in ms and the ratio of the
medians. Run with Debian's python3 (python3-dbus, python3-gi):

    /usr/bin/python3 tests/bench/snapshot-bench.py [--rounds 5] [--memory-mib 128]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
import guest  # noqa: E402

DISK_ONLY = 16


def pct(samples, p):
    s = sorted(samples)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def make_disk(path):
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)


def run_job(qmp, cmd, **args):
    qmp.execute(cmd, **args)
    while True:
        for job in qmp.execute("query-jobs"):
            if job["id"] == args["job-id"] and job["status"] == "concluded":
                qmp.execute("job-dismiss", id=args["job-id"])
                if job.get("error"):
                    raise RuntimeError(job["error"])
                return
        time.sleep(0.002)


class Bare:
    """The guest under a bare QEMU with the disk as virtbus gives it."""

    def __init__(self, workdir, memory_mib):
        self.dir = Path(workdir)
        self.disk = self.dir / "bare.qcow2"
        make_disk(self.disk)
        log, sock = self.dir / "bare.log", self.dir / "bare.qmp"
        argv = guest.bare_qemu_argv("bare", log, sock, memory_mib=memory_mib, paused=False)
        argv += ["-blockdev", f'{{"node-name":"libvirt-1-storage","driver":"file","filename":"{self.disk}"}}',
                 "-blockdev", '{"node-name":"libvirt-1-format","driver":"qcow2","file":"libvirt-1-storage"}',
                 "-device", "virtio-blk-pci,drive=libvirt-1-format,id=virtio-disk0"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.qmp = guest.Qmp(sock)
        self.qmp.execute("qmp_capabilities")
        guest.wait_for_marker(log, 1, 120)
        self.top = "libvirt-1-format"
        self.image = str(self.disk)
        self.n = 0

    def internal_create(self, tag):
        t0 = time.monotonic()
        run_job(self.qmp, "snapshot-save", **{"job-id": "s" + tag, "tag": tag, "vmstate": self.top,
                                              "devices": [self.top]})
        return time.monotonic() - t0

    def internal_revert(self, tag):
        t0 = time.monotonic()
        self.qmp.execute("stop")
        run_job(self.qmp, "snapshot-load", **{"job-id": "l" + tag, "tag": tag, "vmstate": self.top,
                                              "devices": [self.top]})
        self.qmp.execute("cont")
        return time.monotonic() - t0

    def internal_delete(self, tag):
        run_job(self.qmp, "snapshot-delete", **{"job-id": "d" + tag, "tag": tag, "devices": [self.top]})

    def external_create(self, tag):
        self.n += 1
        overlay, node = str(self.dir / f"bare.{tag}"), f"ov{self.n}"
        t0 = time.monotonic()
        info = subprocess.run(["qemu-img", "info", "-U", "--output=json", self.image], capture_output=True,
                              text=True, check=True).stdout
        size = __import__("json").loads(info)["virtual-size"]
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", self.image, "-u",
                        overlay, str(size)], check=True)
        self.qmp.execute("blockdev-add", driver="qcow2", **{"node-name": node},
                         file={"driver": "file", "filename": overlay}, backing=None)
        self.qmp.execute("transaction", actions=[{"type": "blockdev-snapshot",
                                                  "data": {"node": self.top, "overlay": node}}])
        elapsed = time.monotonic() - t0
        self.top, self.image = node, overlay
        return elapsed

    def close(self):
        try:
            self.qmp.execute("quit")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Virtbus:
    def __init__(self, memory_mib):
        import harness
        self.env = harness.Environment()
        name = "snapbench"
        disk = self.env.guest_dir / f"{name}.qcow2"
        make_disk(disk)
        log = str(self.env.guest_dir / f"{name}.serial.log")
        devices = (f"    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                   f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>\n")
        xml = guest.domain_xml(name, serial_log=log, memory_mib=memory_mib, extra_devices=devices)
        self.path = str(self.env.connect("DomainDefineXML", "s", xml))
        self.env.dom(self.path, "Create", "u", 0)
        guest.wait_for_marker(log, 1, 120)

    def snap(self, tag, flags=0):
        return str(self.env.dom(self.path, "SnapshotCreateXML", "su",
                                f"<domainsnapshot><name>{tag}</name></domainsnapshot>", flags, timeout=600))

    def internal_create(self, tag):
        t0 = time.monotonic()
        self.last = self.snap(tag)
        return time.monotonic() - t0

    def internal_revert(self, tag):
        t0 = time.monotonic()
        self.env.call(self.last, "org.libvirt.DomainSnapshot", "Revert", "u", 0, timeout=600)
        return time.monotonic() - t0

    def internal_delete(self, tag):
        self.env.call(self.last, "org.libvirt.DomainSnapshot", "Delete", "u", 0, timeout=600)

    def external_create(self, tag):
        t0 = time.monotonic()
        self.snap(tag, DISK_ONLY)
        return time.monotonic() - t0

    def close(self):
        try:
            self.env.dom(self.path, "Destroy", "u", 0)
            self.env.dom(self.path, "Undefine", "u", 2)
        finally:
            problems = self.env.close()
            if problems:
                print("harness: " + "\n".join(problems), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory-mib", type=int, default=128)
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory(prefix="snapbench.", dir="/var/tmp") as work:
        bare, vb = Bare(work, args.memory_mib), None
        try:
            vb = Virtbus(args.memory_mib)
            for i in range(args.rounds):
                order = (bare, vb) if i % 2 == 0 else (vb, bare)
                for who in order:
                    label = "bare QEMU" if who is bare else "virtbus"
                    tag = f"r{i}"
                    rows.setdefault(("internal create", label), []).append(who.internal_create(tag))
                    time.sleep(1)  # the guest runs a moment before it is reverted
                    rows.setdefault(("internal revert", label), []).append(who.internal_revert(tag))
                    who.internal_delete(tag)
                    rows.setdefault(("external create", label), []).append(who.external_create("e" + tag))
        finally:
            bare.close()
            if vb:
                vb.close()
    print(f"| operation ({args.memory_mib} MiB guest, {args.rounds} rounds) | bare QEMU p50 / p90 (ms) "
          "| virtbus p50 / p90 (ms) | ratio of p50 |")
    print("|---|---|---|---|")
    for op in ("internal create", "internal revert", "external create"):
        b, v = rows[(op, "bare QEMU")], rows[(op, "virtbus")]
        print(f"| {op} | {pct(b, 50) * 1000:.0f} / {pct(b, 90) * 1000:.0f} "
              f"| {pct(v, 50) * 1000:.0f} / {pct(v, 90) * 1000:.0f} | {pct(v, 50) / pct(b, 50):.2f} |")


if __name__ == "__main__":
    main()
