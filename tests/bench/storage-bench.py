#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""storage-bench: the QEMU connection's storage driver against the plain tools.

virtbusd --session (from build/, or $VIRTBUSD) on a private bus, a dir pool
in a scratch directory on the filesystem given by --dir (default /var/tmp),
and side by side in one run, each repetition alternating who goes first:

  upload    org.virtbus.StorageVolTransfer.Upload of a file of random data
            (non-sparse) into a raw volume, against
            `dd if=SRC of=DST bs=1M conv=notrunc,fsync` into a file of the
            same pool directory; the daemon fsyncs the volume too;
  download  Download of that volume into a file, then fsync of the file by
            the client, against `dd if=VOL of=DST bs=1M conv=fsync`;
  sparse    the same both ways with a file that is mostly holes, flag 1
            (sparse) against `dd ... conv=sparse,...`;
  clone     StorageVolCreateXMLFrom of a 1 GiB qcow2 holding --clone-data
            MiB of random data into a new qcow2, against
            `qemu-img convert -f qcow2 -O qcow2` of the same file;
  refresh   Refresh of a pool with --files files made outside virtbus,
            ListStorageVolumes of them, and the daemon's RSS after.

Page cache: as root, every timed copy starts with `sync` and
`echo 3 > /proc/sys/vm/drop_caches`, so both sides read cold; without root
nothing is dropped and the report says so. Times are medians of --reps.

    sudo /usr/bin/python3 tests/bench/storage-bench.py [--size-mib 512] [--reps 3] [--markdown]
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

QEMU = "/org/libvirt/QEMU"
POOL_IFACE = "org.libvirt.StoragePool"
VOL_IFACE = "org.libvirt.StorageVol"
XFER_IFACE = "org.virtbus.StorageVolTransfer"
MiB = 1 << 20
SPARSE = 1
CALL_TIMEOUT = 1800


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def drop_caches():
    os.sync()
    if os.geteuid() == 0:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def timed(fn):
    drop_caches()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def dd(src, dst, conv):
    subprocess.run(["dd", f"if={src}", f"of={dst}", "bs=1M", f"conv={conv}"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_random(path, size, extents=None):
    """A file of `size` bytes: random data, or only at the (offset, length)
    `extents` with holes between them."""
    with open(path, "wb") as f:
        if extents is None:
            for _ in range(size // (8 * MiB)):
                f.write(os.urandom(8 * MiB))
            f.write(os.urandom(size % (8 * MiB)))
        else:
            for off, n in extents:
                f.seek(off)
                f.write(os.urandom(n))
            f.truncate(size)


def vol_xml(name, capacity, fmt="raw"):
    return (f"<volume><name>{name}</name><capacity>{capacity}</capacity><allocation>0</allocation>"
            f"<target><format type='{fmt}'/></target></volume>")


class Bench:
    def __init__(self, bus, pool_dir, args):
        import dbus
        import harness as h
        self.dbus, self.h, self.bus, self.args = dbus, h, bus, args
        self.dir = pool_dir
        self.conn = dbus.Interface(bus.get_object(h.BUS_NAME, QEMU), h.CONNECT_IFACE)

    def call(self, path, iface, method, *args):
        obj = self.bus.get_object(self.h.BUS_NAME, path)
        return getattr(obj, method)(*args, dbus_interface=iface, timeout=CALL_TIMEOUT)

    def pool(self, name, target):
        xml = f"<pool type='dir'><name>{name}</name><target><path>{target}</path></target></pool>"
        path = str(self.conn.StoragePoolDefineXML(xml, 0))
        self.call(path, POOL_IFACE, "Build", 0)
        self.call(path, POOL_IFACE, "Create", 0)
        return path

    def drop_pool(self, path):
        self.call(path, POOL_IFACE, "Destroy")
        self.call(path, POOL_IFACE, "Undefine")

    def new_vol(self, pool, name, capacity, fmt="raw"):
        return str(self.call(pool, POOL_IFACE, "StorageVolCreateXML", vol_xml(name, capacity, fmt), 0))

    def delete_vol(self, vol):
        self.call(vol, VOL_IFACE, "Delete", 0)

    def transfer(self, pool, label, src, flags):
        """Upload and download of `src` through virtbus and through dd."""
        a, size = self.args, os.stat(src).st_size
        conv = "sparse," if flags & SPARSE else ""
        target = os.path.join(self.dir, "pool")
        up_v, up_d, down_v, down_d = [], [], [], []
        for rep in range(a.reps):
            vol = self.new_vol(pool, "up.img", size)
            ddst = os.path.join(target, "dd.img")
            Path(ddst).touch()
            os.truncate(ddst, size)

            def v_up():
                with open(src, "rb") as f:
                    self.call(vol, XFER_IFACE, "Upload", f.fileno(), 0, 0, flags)

            def d_up():
                dd(src, ddst, conv + "notrunc,fsync")

            order = [(v_up, up_v), (d_up, up_d)]
            for fn, out in (order if rep % 2 == 0 else order[::-1]):
                out.append(timed(fn))
            if subprocess.run(["cmp", "-s", src, os.path.join(target, "up.img")]).returncode != 0:
                raise RuntimeError(f"{label}: uploaded volume differs from the source")

            vout = os.path.join(self.dir, "down-v.img")
            dout = os.path.join(self.dir, "down-d.img")

            def v_down():
                with open(vout, "wb") as f:
                    self.call(vol, XFER_IFACE, "Download", f.fileno(), 0, 0, flags)
                    os.fsync(f.fileno())

            def d_down():
                dd(os.path.join(target, "up.img"), dout, conv + "fsync")

            order = [(v_down, down_v), (d_down, down_d)]
            for fn, out in (order if rep % 2 == 0 else order[::-1]):
                out.append(timed(fn))
            if subprocess.run(["cmp", "-s", src, vout]).returncode != 0:
                raise RuntimeError(f"{label}: downloaded file differs from the source")
            alloc = os.stat(os.path.join(target, "up.img")).st_blocks * 512
            for p in (vout, dout, ddst):
                os.unlink(p)
            self.delete_vol(vol)
        med = statistics.median
        return [(f"upload, {label}", size, med(up_v), med(up_d)),
                (f"download, {label}", size, med(down_v), med(down_d))], alloc

    def clone(self, pool):
        a = self.args
        target = os.path.join(self.dir, "pool")
        raw = os.path.join(self.dir, "seed.raw")
        write_random(raw, 1024 * MiB, [(0, a.clone_data * MiB // 2), (512 * MiB, a.clone_data * MiB // 2)])
        src = os.path.join(target, "src.qcow2")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, src], check=True)
        os.unlink(raw)
        self.call(pool, POOL_IFACE, "Refresh", 0)
        key = str(self.call(str(self.call(pool, POOL_IFACE, "StorageVolLookupByName", "src.qcow2")),
                            self.h.PROPS_IFACE, "Get", VOL_IFACE, "Key"))
        qdst = os.path.join(self.dir, "convert.qcow2")
        times_v, times_q = [], []
        for rep in range(a.reps):
            made = []

            def v_clone():
                made.append(str(self.call(pool, POOL_IFACE, "StorageVolCreateXMLFrom",
                                          vol_xml("copy.qcow2", 0, "qcow2"), key, 0)))

            def q_convert():
                subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", src, qdst], check=True)

            order = [(v_clone, times_v), (q_convert, times_q)]
            for fn, out in (order if rep % 2 == 0 else order[::-1]):
                out.append(timed(fn))
            subprocess.run(["qemu-img", "compare", "-q", src, os.path.join(target, "copy.qcow2")], check=True)
            self.delete_vol(made[0])
            os.unlink(qdst)
        return statistics.median(times_v), statistics.median(times_q)

    def refresh(self, daemon_pid):
        a = self.args
        target = os.path.join(self.dir, "many")
        pool = self.pool("many", target)
        rss0 = rss_kb(daemon_pid)
        block = b"\0" * 4096
        for i in range(a.files):
            with open(os.path.join(target, f"f{i:05d}.img"), "wb") as f:
                f.write(block)
        drop_caches()
        refresh = []
        for rep in range(a.reps):
            t = time.perf_counter()
            self.call(pool, POOL_IFACE, "Refresh", 0)
            refresh.append(time.perf_counter() - t)
        lists = []
        n = 0
        for _ in range(max(a.reps, 5)):
            t = time.perf_counter()
            n = len(self.call(pool, POOL_IFACE, "ListStorageVolumes", 0))
            lists.append(time.perf_counter() - t)
        if n != a.files:
            raise RuntimeError(f"refresh: {n} volumes listed, {a.files} files made")
        rss1 = rss_kb(daemon_pid)
        self.drop_pool(pool)
        return refresh, statistics.median(lists), n, rss0, rss1, rss_kb(daemon_pid)


def run(args):
    import dbus
    import harness as h

    h.Daemon.START_TIMEOUT = 30.0
    scratch = tempfile.mkdtemp(prefix="virtbus-storage-bench-", dir=args.dir)
    bus_ = h.PrivateBus()
    daemon = h.Daemon(bus_.address, scratch)
    bus = dbus.bus.BusConnection(bus_.address, mainloop=h.glib_mainloop())
    problems = []
    try:
        daemon.wait_for_name(bus)
        b = Bench(bus, scratch, args)
        pool = b.pool("bench", os.path.join(scratch, "pool"))
        size = args.size_mib * MiB
        src = os.path.join(scratch, "random.img")
        write_random(src, size)
        rows, _ = b.transfer(pool, f"{args.size_mib} MiB random", src, 0)
        os.unlink(src)
        # Sparse: 8 extents of 1 MiB spread over the file, the rest holes.
        step = size // 8
        write_random(src, size, [(i * step, MiB) for i in range(8)])
        srows, alloc = b.transfer(pool, f"{args.size_mib} MiB, 8 MiB data, sparse flag", src, SPARSE)
        rows += srows
        os.unlink(src)
        clone = b.clone(pool)
        refresh = b.refresh(daemon.proc.pid)
    finally:
        problems = daemon.stop(bus)
        bus.close()
        bus_.stop()
        subprocess.run(["rm", "-rf", scratch], check=False)
    report(args, rows, alloc, clone, refresh)
    for p in problems:
        print("problem:", p, file=sys.stderr)
    return 1 if problems else 0


def report(args, rows, alloc, clone, refresh):
    fsname = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", args.dir], capture_output=True,
                            text=True).stdout.strip()
    cache = "dropped before each timed copy" if os.geteuid() == 0 else "NOT dropped (not root)"
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    md = args.markdown
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load} "
          f"({os.cpu_count()} CPUs), {fsname} under {args.dir}, page cache {cache}, "
          f"medians of {args.reps}:\n")
    if md:
        print("| transfer | virtbus MB/s | dd MB/s | ratio virtbus/dd |")
        print("|---|---|---|---|")
    for label, size, tv, td in rows:
        mv, mdd = size / tv / 1e6, size / td / 1e6
        if md:
            print(f"| {label} | {mv:.0f} | {mdd:.0f} | {mv / mdd:.2f} |")
        else:
            print(f"{label:45} virtbus {mv:8.0f} MB/s  dd {mdd:8.0f} MB/s  ratio {mv / mdd:.2f}")
    print(f"\nsparse upload: the volume allocates {alloc // 1024} KiB\n")
    tv, tq = clone
    if md:
        print("| clone | virtbus s | qemu-img convert s | ratio qemu-img/virtbus |")
        print("|---|---|---|---|")
        print(f"| 1 GiB qcow2, {args.clone_data} MiB data, to qcow2 | {tv:.2f} | {tq:.2f} | {tq / tv:.2f} |")
    else:
        print(f"clone 1 GiB qcow2 ({args.clone_data} MiB data): virtbus {tv:.2f} s, qemu-img convert {tq:.2f} s, "
              f"ratio {tq / tv:.2f}")
    refreshes, tl, n, rss0, rss1, rss2 = refresh
    first, later = refreshes[0], statistics.median(refreshes[1:] or refreshes)
    if md:
        print("\n| dir pool with %d files | result |" % n)
        print("|---|---|")
        print(f"| Refresh, cold cache (first) | {first * 1000:.0f} ms |")
        print(f"| Refresh, warm (median of the rest) | {later * 1000:.0f} ms |")
        print(f"| ListStorageVolumes | {tl * 1000:.0f} ms |")
        print(f"| virtbusd RSS | {rss0} KB before the files, {rss1} KB after, {rss2} KB once the pool is gone |")
    else:
        print(f"refresh {n} files: first {first * 1000:.0f} ms, later {later * 1000:.0f} ms; "
              f"ListStorageVolumes {tl * 1000:.0f} ms; RSS {rss0} -> {rss1} KB, {rss2} KB without the pool")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=512, help="size of the transferred files")
    ap.add_argument("--clone-data", type=int, default=512, help="MiB of data in the 1 GiB qcow2")
    ap.add_argument("--files", type=int, default=10000, help="files in the refreshed pool")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dir", default="/var/tmp", help="where the pools go (the filesystem measured)")
    ap.add_argument("--markdown", action="store_true")
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
