# SPDX-License-Identifier: LGPL-2.1-or-later
"""Save, restore, managed save, core dumps and their jobs, end to end.

Guests boot with virtbus.counter=1: the busybox init prints
"VIRTBUS-GUEST-COUNT N" on the serial console every second, N counting
up in the guest's memory. A guest that was really saved and restored
continues from where it was; one that booted again starts from 0. QEMU
reopens (truncates) the serial log when a restored guest starts, so the
first count in the log after a restore is the guest's next one.

virtbusd runs here without CAP_DAC_OVERRIDE (setpriv), as root whose
permission bits mean something: a save into a directory it may not write
to fails as it would for libvirtd on a root-squashed share.
"""

import os
import re
import shutil
import struct
import tempfile
import time
import unittest
from pathlib import Path

import dbus

from harness import (DOMAIN_IFACE, EV_RESUMED, EV_STARTED, EV_STOPPED, EV_SUSPENDED, STARTED_BOOTED,
                     STATE_PAUSED, STATE_RUNNING, STATE_SHUTOFF, STOPPED_CRASHED, STOPPED_SAVED,
                     E2ETestCase, errmsg, pump)

STARTED_RESTORED, SUSPENDED_RESTORED = 2, 4
RUNNING_RESTORED, RUNNING_SAVE_CANCELED = 3, 7
SHUTOFF_SAVED, SHUTOFF_CRASHED = 5, 3
SAVE_RUNNING, SAVE_PAUSED = 2, 4
START_FORCE_BOOT = 8
UNDEFINE_MANAGED_SAVE = 1
LIST_MANAGEDSAVE, LIST_NO_MANAGEDSAVE = 256, 512
JOB_NONE, JOB_UNBOUNDED, JOB_COMPLETED, JOB_CANCELLED = 0, 2, 3, 5
JOB_STATS_COMPLETED, JOB_STATS_KEEP = 1, 2
OP_SAVE, OP_DUMP = 2, 8
DUMP_CRASH, DUMP_LIVE, DUMP_MEMORY_ONLY = 1, 2, 16
FORMAT_ELF, FORMAT_KDUMP_ZLIB = 0, 1
COUNT = re.compile(r"VIRTBUS-GUEST-COUNT (\d+)")
MEM_MIB = 96

NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
          "--bounding-set=-dac_override,-dac_read_search"]


def counts(log, since=0):
    try:
        text = Path(log).read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [int(n) for n in COUNT.findall(text[since:])]


class SaveBase(E2ETestCase):

    def boot(self, name=None):
        path, name, log = self.define(name, cmdline_extra="virtbus.counter=1", memory_mib=MEM_MIB)
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED)
        self.wait_count(log, 2)
        return path, name, log

    def wait_count(self, log, at_least, timeout=60.0, first_below=None):
        deadline = time.monotonic() + timeout
        while True:
            c = counts(log)
            if c and c[-1] >= at_least:
                return c
            if time.monotonic() >= deadline:
                self.fail(f"guest counter in {log} reached {c[-1:] or 'nothing'}, wanted {at_least}")
            time.sleep(0.1)

    def image_dir(self):
        d = tempfile.mkdtemp(prefix="images-", dir=self.env.guest_dir)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def running(self, name):
        return bool(self.env.guest_processes(name))


class SaveRestore(SaveBase):
    daemon_wrapper = NO_DAC

    def test_save_restore(self):
        path, name, log = self.boot()
        images = self.image_dir()
        image = os.path.join(images, "g.img")

        # ---- refused saves leave the guest running, and no file ----
        locked = os.path.join(images, "locked")
        os.mkdir(locked, 0o700)
        os.chown(locked, 65534, 65534)
        with self.assertLibvirtError(r"Failed to create file '.*locked/x.img': Permission denied"):
            self.env.dom(path, "Save", "ssu", os.path.join(locked, "x.img"), "", 0)
        with self.assertLibvirtError("No such file or directory"):
            self.env.dom(path, "Save", "ssu", os.path.join(images, "missing", "x.img"), "", 0)
        with self.assertLibvirtError("not absolute"):
            self.env.dom(path, "Save", "ssu", "relative.img", "", 0)
        with self.assertLibvirtError("mutually exclusive"):
            self.env.dom(path, "Save", "ssu", image, "", SAVE_RUNNING | SAVE_PAUSED)
        self.assertEqual(self.state(path)[0], STATE_RUNNING)
        self.assertEqual(os.listdir(locked), [])
        self.assertEqual(sorted(os.listdir(images)), ["locked"])
        before = counts(log)[-1]
        self.wait_count(log, before + 1)  # still counting

        # ---- save ----
        jobs = []
        match = self.env.bus.add_signal_receiver(lambda p: jobs.append(p), signal_name="JobCompleted",
                                                 dbus_interface=DOMAIN_IFACE, path=path)
        self.addCleanup(match.remove)
        self.env.dom(path, "Save", "ssu", image, "", 0)
        saved = counts(log)[-1]
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_SAVED))
        self.wait_event(path, EV_STOPPED, STOPPED_SAVED)
        self.assertFalse(self.running(name))
        self.assertEqual(sorted(os.listdir(images)), ["g.img", "locked"], "no temporary file left")
        with open(image, "rb") as f:
            self.assertEqual(f.read(16), b"VirtbusQemuSave\n")
        kind, stats = self.env.dom(path, "GetJobStats", "u", JOB_STATS_COMPLETED | JOB_STATS_KEEP)
        self.assertEqual(int(kind), JOB_COMPLETED)
        self.assertEqual(int(stats["operation"]), OP_SAVE)
        self.assertTrue(bool(stats["success"]))
        self.assertGreater(int(stats["memory_total"]), MEM_MIB * 1024 * 1024 // 2)
        deadline = time.monotonic() + 5
        while not jobs and time.monotonic() < deadline:
            pump(0.05)
        self.assertEqual(len(jobs), 1, "one JobCompleted signal")
        self.assertEqual(int(jobs[0]["operation"]), OP_SAVE)

        # ---- the image's XML, read and replaced without QEMU ----
        desc = str(self.env.connect("DomainSaveImageGetXMLDesc", "su", image, 0))
        self.assertIn(f"<name>{name}</name>", desc)
        self.assertIn("virtbus.counter=1", desc)
        with self.assertLibvirtError("does not match source"):
            self.env.connect("DomainSaveImageDefineXML", "ssu", image,
                             desc.replace(f"<memory unit='KiB'>{MEM_MIB * 1024}</memory>",
                                          f"<memory unit='KiB'>{2 * MEM_MIB * 1024}</memory>"), 0)
        new_log = log + ".restored"
        self.assertIn(log, desc)
        self.env.connect("DomainSaveImageDefineXML", "ssu", image, desc.replace(log, new_log), SAVE_PAUSED)
        self.assertIn(new_log, str(self.env.connect("DomainSaveImageGetXMLDesc", "su", image, 1)))

        # ---- restores that fail start nothing ----
        garbage = os.path.join(images, "garbage.img")
        with open(garbage, "wb") as f:
            f.write(os.urandom(64 * 1024))
        with self.assertLibvirtError("image magic is incorrect"):
            self.env.connect("DomainRestore", "ssu", garbage, "", 0)
        corrupt = os.path.join(images, "corrupt.img")
        shutil.copyfile(image, corrupt)
        with open(corrupt, "r+b") as f:
            f.seek(16 + 4 + 4 + 8)
            data_offset = struct.unpack("<Q", f.read(8))[0]
            f.seek(data_offset)
            f.write(os.urandom(256 * 1024))
        with self.assertLibvirtError("cannot start domain"):
            self.env.connect("DomainRestore", "ssu", corrupt, "", 0)
        with self.assertLibvirtError("does not match source"):
            self.env.connect("DomainRestore", "ssu", image, desc.replace(
                "<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>2</vcpu>"), 0)
        self.assertFalse(self.running(name))
        self.assertEqual(self.state(path)[0], STATE_SHUTOFF)

        # ---- restore: paused (as the image now says), then resumed ----
        mark = len(self.env.recorder.events)
        self.env.connect("DomainRestore", "ssu", image, "", 0)
        self.assertEqual(self.state(path)[0], STATE_PAUSED)
        self.wait_event(path, EV_STARTED, STARTED_RESTORED, start=mark)
        self.wait_event(path, EV_SUSPENDED, SUSPENDED_RESTORED, start=mark)
        self.assertEqual(counts(new_log), [], "paused: not counting")
        self.env.dom(path, "Resume", "")
        self.wait_event(path, EV_RESUMED, start=mark)
        after = self.wait_count(new_log, saved + 2)
        self.assertGreaterEqual(after[0], saved, f"the counter continues: saved at {saved}, now {after}")
        self.assertLessEqual(after[0], saved + 2, f"the counter continues: saved at {saved}, now {after}")
        with self.assertLibvirtError("already active"):
            self.env.connect("DomainRestore", "ssu", image, "", 0)
        self.assertTrue(os.path.exists(image), "Restore keeps the image")

    def test_managed_save(self):
        path, name, log = self.boot()
        save_dir = Path(self.env.dirs["VIRTBUS_QEMU_SAVE_DIR"])
        self.assertFalse(self.env.dom(path, "HasManagedSaveImage", "u", 0))

        self.env.dom(path, "ManagedSave", "u", 0)
        saved = counts(log)[-1]
        self.wait_event(path, EV_STOPPED, STOPPED_SAVED)
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_SAVED))
        self.assertTrue(self.env.dom(path, "HasManagedSaveImage", "u", 0))
        self.assertEqual(os.listdir(save_dir), [f"{name}.save"])
        self.assertIn(path, [str(p) for p in self.env.connect("ListDomains", "u", LIST_MANAGEDSAVE)])
        self.assertNotIn(path, [str(p) for p in self.env.connect("ListDomains", "u", LIST_NO_MANAGEDSAVE)])
        with self.assertLibvirtError("Refusing to undefine while domain managed save image exists"):
            self.env.dom(path, "Undefine", "u", 0)

        # Create resumes it, and the image is gone.
        mark = len(self.env.recorder.events)
        self.env.dom(path, "Create", "u", 0)
        self.wait_event(path, EV_STARTED, STARTED_RESTORED, start=mark)
        self.assertEqual(self.state(path), (STATE_RUNNING, RUNNING_RESTORED))
        after = self.wait_count(log, saved + 2)
        self.assertGreaterEqual(after[0], saved, f"saved at {saved}, now {after}")
        self.assertLessEqual(after[0], saved + 2, f"saved at {saved}, now {after}")
        self.assertFalse(self.env.dom(path, "HasManagedSaveImage", "u", 0))
        self.assertEqual(os.listdir(save_dir), [])

        # FORCE_BOOT discards the image: a fresh boot counts from 0.
        self.env.dom(path, "ManagedSave", "u", SAVE_PAUSED)
        self.assertTrue(self.env.dom(path, "HasManagedSaveImage", "u", 0))
        mark = len(self.env.recorder.events)
        self.env.dom(path, "Create", "u", START_FORCE_BOOT)
        self.wait_event(path, EV_STARTED, STARTED_BOOTED, start=mark)
        self.assertFalse(self.env.dom(path, "HasManagedSaveImage", "u", 0))
        self.assertEqual(self.wait_count(log, 1)[0], 0, "booted afresh")

        # ManagedSaveRemove, and Undefine with MANAGED_SAVE.
        self.env.dom(path, "ManagedSave", "u", 0)
        self.env.dom(path, "ManagedSaveRemove", "u", 0)
        self.assertFalse(self.env.dom(path, "HasManagedSaveImage", "u", 0))
        self.env.dom(path, "Create", "u", 0)
        self.wait_count(log, 1)
        self.env.dom(path, "ManagedSave", "u", 0)
        self.env.dom(path, "Undefine", "u", UNDEFINE_MANAGED_SAVE)
        self.assertEqual(os.listdir(save_dir), [])
        self.assertNotIn(path, self.list_domains())

    def test_core_dump(self):
        path, name, log = self.boot()
        images = self.image_dir()
        elf = os.path.join(images, "core.elf")
        with self.assertLibvirtError("only supported with memory-only dump"):
            self.env.dom(path, "CoreDump", "suu", elf, FORMAT_KDUMP_ZLIB, 0)
        with self.assertLibvirtError("mutually exclusive"):
            self.env.dom(path, "CoreDump", "suu", elf, FORMAT_ELF, DUMP_CRASH | DUMP_LIVE)
        with self.assertLibvirtError("no job is active"):
            self.env.dom(path, "AbortJob", "")
        self.assertEqual(int(self.env.dom(path, "GetJobInfo", "")[0]), JOB_NONE)

        self.env.dom(path, "CoreDump", "suu", elf, FORMAT_ELF, DUMP_MEMORY_ONLY)
        self.assertEqual(self.state(path)[0], STATE_RUNNING)
        with open(elf, "rb") as f:
            head = f.read(64)
            self.assertEqual(head[:4], b"\x7fELF")
            phoff, = struct.unpack_from("<Q", head, 32)
            phentsize, phnum = struct.unpack_from("<HH", head, 54)
            loads = 0
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                p_type, = struct.unpack("<I", f.read(4))
                loads += p_type == 1
        self.assertGreater(loads, 0, "PT_LOAD segments")
        size = os.path.getsize(elf)
        self.assertGreater(size, MEM_MIB * 1024 * 1024 * 0.9)
        self.assertLess(size, MEM_MIB * 1024 * 1024 * 1.2)
        kind, stats = self.env.dom(path, "GetJobStats", "u", JOB_STATS_COMPLETED)
        self.assertEqual((int(kind), int(stats["operation"])), (JOB_COMPLETED, OP_DUMP))
        self.assertEqual(int(self.env.dom(path, "GetJobStats", "u", JOB_STATS_COMPLETED)[0]), JOB_NONE,
                         "read once without KEEP_COMPLETED")

        kdump = os.path.join(images, "core.kdump")
        self.env.dom(path, "CoreDump", "suu", kdump, FORMAT_KDUMP_ZLIB, DUMP_MEMORY_ONLY | DUMP_LIVE)
        with open(kdump, "rb") as f:
            # QEMU writes kdump in makedumpfile's flattened form (it cannot
            # know the fd is seekable); `makedumpfile -R` turns it into KDUMP.
            self.assertIn(f.read(12), (b"makedumpfile", b"KDUMP   \0\0\0\0"[:12]))

        # Without MEMORY_ONLY: QEMU's own state stream, as libvirt writes.
        state = os.path.join(images, "core.state")
        self.env.dom(path, "CoreDump", "suu", state, FORMAT_ELF, 0)
        with open(state, "rb") as f:
            self.assertEqual(f.read(4), b"QEVM")
        before = counts(log)[-1]
        self.wait_count(log, before + 1)  # resumed after the dump

        self.env.dom(path, "CoreDump", "suu", elf, FORMAT_ELF, DUMP_MEMORY_ONLY | DUMP_CRASH)
        self.wait_event(path, EV_STOPPED, STOPPED_CRASHED)
        self.assertEqual(self.state(path), (STATE_SHUTOFF, SHUTOFF_CRASHED))
        self.assertFalse(self.running(name))
        self.assertEqual(sorted(os.listdir(images)), ["core.elf", "core.kdump", "core.state"])


class SlowSave(SaveBase):
    """Saves limited to 1 MiB/s, so there is time to watch and abort one."""
    daemon_env = {"VIRTBUS_QEMU_SAVE_MAX_BANDWIDTH": "1"}

    def test_abort_save(self):
        path, name, log = self.boot()
        images = self.image_dir()
        image = os.path.join(images, "slow.img")
        result = {}
        self.env.call_async(path, DOMAIN_IFACE, "Save", "ssu", (image, "", 0),
                            lambda: result.setdefault("ok", True),
                            lambda e: result.setdefault("error", e), timeout=120)
        # The job shows, with progress, while Save still runs.
        deadline = time.monotonic() + 30
        while True:
            pump(0.05)
            info = self.env.dom(path, "GetJobInfo", "")
            if int(info[0]) == JOB_UNBOUNDED and int(info[4]) > 0:
                break
            self.assertNotIn("ok", result, "the save finished before it could be watched")
            self.assertLess(time.monotonic(), deadline, f"no job progress: {info}")
        kind, stats = self.env.dom(path, "GetJobStats", "u", 0)
        self.assertEqual(int(kind), JOB_UNBOUNDED)
        self.assertEqual(int(stats["operation"]), OP_SAVE)
        self.assertGreater(int(stats["memory_total"]), 0)
        self.assertIn("time_elapsed", stats)
        self.assertEqual(self.state(path)[0], STATE_PAUSED)

        self.env.dom(path, "AbortJob", "")
        deadline = time.monotonic() + 30
        while not result and time.monotonic() < deadline:
            pump(0.05)
        self.assertIn("error", result)
        self.assertIn("operation aborted", errmsg(result["error"]))
        self.assertEqual(self.state(path), (STATE_RUNNING, RUNNING_SAVE_CANCELED))
        self.assertEqual(os.listdir(images), [], "no image, no temporary file")
        kind, stats = self.env.dom(path, "GetJobStats", "u", JOB_STATS_COMPLETED)
        self.assertEqual(int(kind), JOB_CANCELLED)
        self.assertFalse(bool(stats["success"]))
        before = counts(log)[-1]
        self.wait_count(log, before + 1)  # the guest runs on
        with self.assertLibvirtError("no job is active"):
            self.env.dom(path, "AbortJob", "")


if __name__ == "__main__":
    unittest.main()
