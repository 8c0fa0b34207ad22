# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared machinery of the integration tests.

Every test class gets its own private session bus (dbus-daemon with a
generated configuration listening on a unix:dir= address in a temporary
directory) and its own virtbusd --session on it, so each class starts from
the pristine test:///default world.  The daemon is only ever driven through
D-Bus.  Stopping it is part of the contract: SIGTERM must end it within one
second with status 0, and org.libvirt must be gone from the bus afterwards.

The binary is taken from $VIRTBUSD, else build/service/virtbusd below the
repository root.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid as uuidlib
from contextlib import contextmanager
from pathlib import Path

import dbus
import dbus.mainloop.glib
import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
from gi.repository import GLib  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

BUS_NAME = "org.libvirt"
CONN_PATH = "/org/libvirt/Test"
CONNECT_IFACE = "org.libvirt.Connect"
DOMAIN_IFACE = "org.libvirt.Domain"
SNAPSHOT_IFACE = "org.libvirt.DomainSnapshot"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECT_IFACE = "org.freedesktop.DBus.Introspectable"
PEER_IFACE = "org.freedesktop.DBus.Peer"

TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
TEST_PATH = CONN_PATH + "/domain/_" + TEST_UUID.replace("-", "_")

NOT_SUPPORTED = "this function is not supported by the connection driver"
UNKNOWN_OBJECT_ERRORS = {
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.UnknownInterface",
}

# libvirt's numbers (virDomainEventType and details, virDomainState and
# reasons, flag values), so tests read like the libvirt documentation.
EV_DEFINED, EV_UNDEFINED, EV_STARTED, EV_SUSPENDED, EV_RESUMED, EV_STOPPED = range(6)
DEFINED_ADDED, DEFINED_UPDATED, DEFINED_RENAMED = 0, 1, 2
UNDEFINED_REMOVED, UNDEFINED_RENAMED = 0, 1
STARTED_BOOTED, STARTED_RESTORED, STARTED_FROM_SNAPSHOT = 0, 2, 3
SUSPENDED_PAUSED = 0
RESUMED_UNPAUSED = 0
STOPPED_SHUTDOWN, STOPPED_DESTROYED, STOPPED_CRASHED = 0, 1, 2
STOPPED_SAVED, STOPPED_FROM_SNAPSHOT = 4, 6

STATE_RUNNING, STATE_PAUSED, STATE_SHUTOFF = 1, 3, 5
RUNNING_BOOTED, RUNNING_RESTORED, RUNNING_FROM_SNAPSHOT, RUNNING_UNPAUSED = 1, 3, 4, 5
PAUSED_USER = 1
SHUTOFF_UNKNOWN, SHUTOFF_SHUTDOWN, SHUTOFF_DESTROYED, SHUTOFF_CRASHED = 0, 1, 2, 3
SHUTOFF_SAVED, SHUTOFF_FROM_SNAPSHOT = 5, 7

UINT32_MAX = 0xFFFFFFFF

_SESSION_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="reply_timeout">120000</limit>
</busconfig>
"""

_mainloop = None


def glib_mainloop():
    """The one DBusGMainLoop of the process (dbus-python wants one)."""
    global _mainloop
    if _mainloop is None:
        _mainloop = dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    return _mainloop


def virtbusd_binary():
    path = os.environ.get("VIRTBUSD") or str(REPO_ROOT / "build" / "service" / "virtbusd")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeError(f"virtbusd not found at {path}: build it "
                           f"(ninja -C build service/virtbusd) or set VIRTBUSD")
    return path


class PrivateBus:
    """A dbus-daemon of type session, private to one test class."""

    def __init__(self):
        self.tmpdir = tempfile.TemporaryDirectory(prefix="virtbus-it-")
        conf = Path(self.tmpdir.name) / "session.conf"
        conf.write_text(_SESSION_CONF.format(dir=self.tmpdir.name))
        rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(
            ["dbus-daemon", f"--config-file={conf}", "--nofork",
             f"--print-address={wfd}"],
            pass_fds=(wfd,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(wfd)
        with os.fdopen(rfd) as r:
            self.address = r.readline().strip()
        if not self.address:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("dbus-daemon did not print its address")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tmpdir.cleanup()


_netns_ok = None


def private_netns_wrapper():
    """A daemon_wrapper that runs virtbusd in a network namespace of its own
    (loopback up, for VNC and migration ports), for tests whose calls make
    real networks as root (bridges, nftables, dnsmasq): they stay off the
    host. Empty when not root or `unshare --net` does not work (a container
    without CAP_SYS_ADMIN); checked once."""
    global _netns_ok
    if _netns_ok is None:
        _netns_ok = (os.geteuid() == 0 and shutil.which("unshare") is not None and
                     subprocess.run(["unshare", "--net", "true"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL).returncode == 0)
    if not _netns_ok:
        return ()
    return ("unshare", "--net", "--", "/bin/sh", "-c", 'ip link set lo up 2>/dev/null; exec "$0" "$@"')


class Daemon:
    """virtbusd --session on a PrivateBus."""

    START_TIMEOUT = 5.0
    STOP_TIMEOUT = 1.0

    def __init__(self, bus_address, logdir, wrapper=(), extra_env=None):
        self.bus_address = bus_address
        self.log_path = Path(logdir) / "virtbusd.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env["DBUS_SESSION_BUS_ADDRESS"] = bus_address
        env.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        # The QEMU connection keeps its files here, not in the user's home.
        for kind in ("CONFIG", "STATE", "LOG"):
            env[f"VIRTBUS_QEMU_{kind}_DIR"] = str(Path(logdir) / "qemu" / kind.lower())
        # Probed capabilities are keyed by the binary: one cache serves all.
        env.setdefault("VIRTBUS_QEMU_CACHE_DIR", str(REPO_ROOT / "build" / "qemu-caps-cache"))
        env.update(extra_env or {})
        argv = [virtbusd_binary(), "--session"]
        # `wrapper` must exec the daemon (nsenter does), so SIGTERM reaches it.
        self.proc = subprocess.Popen([*wrapper, *argv], env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def log_tail(self, lines=30):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for_name(self, bus):
        dbus_obj = bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"virtbusd exited with {self.proc.returncode} "
                                   f"before owning {BUS_NAME}:\n{self.log_tail()}")
            if dbus_obj.NameHasOwner(BUS_NAME, dbus_interface="org.freedesktop.DBus"):
                return
            time.sleep(0.01)
        raise RuntimeError(f"virtbusd did not own {BUS_NAME} within "
                           f"{self.START_TIMEOUT} s:\n{self.log_tail()}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, bus):
        """SIGTERM; returns a list of contract violations (empty if none)."""
        problems = []
        if self.proc.poll() is not None:
            problems.append(f"virtbusd had already exited with {self.proc.returncode}")
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=self.STOP_TIMEOUT)
                if rc != 0:
                    problems.append(f"virtbusd exited with status {rc} on SIGTERM")
            except subprocess.TimeoutExpired:
                problems.append(f"virtbusd still running {self.STOP_TIMEOUT} s after SIGTERM")
                self.proc.kill()
                self.proc.wait()
        if bus is not None:
            try:
                dbus_obj = bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
                deadline = time.monotonic() + 1.0
                owned = True
                while time.monotonic() < deadline:
                    owned = bool(dbus_obj.NameHasOwner(BUS_NAME, dbus_interface="org.freedesktop.DBus"))
                    if not owned:
                        break
                    time.sleep(0.01)
                if owned:
                    problems.append(f"{BUS_NAME} still owned after virtbusd exited")
            except dbus.DBusException as e:
                problems.append(f"cannot query the bus after stopping virtbusd: {e}")
        self.log.close()
        if problems:
            problems.append("daemon log:\n" + self.log_tail())
        return problems


class SignalCollector:
    """Records every signal virtbusd emits, dispatched by the GLib loop."""

    def __init__(self, bus):
        self.bus = bus
        self.signals = []
        self._match = bus.add_signal_receiver(
            self._on_signal, bus_name=BUS_NAME,
            interface_keyword="interface", member_keyword="member",
            path_keyword="path")

    def _on_signal(self, *args, interface=None, member=None, path=None):
        self.signals.append((str(interface), str(member), str(path), tuple(args)))

    def remove(self):
        self._match.remove()

    def clear(self):
        self.drain()
        self.signals.clear()

    def drain(self):
        """Dispatch every signal virtbusd sent before now.

        Messages from one sender arrive in order, so once a round trip to
        virtbusd has completed every signal it emitted earlier is queued;
        then the loop dispatches them.
        """
        self.bus.call_blocking(BUS_NAME, CONN_PATH, PEER_IFACE, "Ping", "", ())
        ctx = GLib.MainContext.default()
        for _ in range(3):
            while ctx.pending():
                ctx.iteration(False)

    def wait(self, predicate, timeout=2.0):
        """Runs the loop until predicate(signals) holds or timeout; returns it."""
        ctx = GLib.MainContext.default()
        deadline = time.monotonic() + timeout
        while True:
            while ctx.pending():
                ctx.iteration(False)
            if predicate(self.signals):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def domain_events(self):
        """[(path, event, detail)] of Connect.DomainEvent, in order."""
        self.drain()
        return [(str(a[0]), int(a[1]), int(a[2])) for (i, m, p, a) in self.signals
                if i == CONNECT_IFACE and m == "DomainEvent" and p == CONN_PATH]

    def of(self, member, path=None, interface=DOMAIN_IFACE):
        """Argument tuples of one per-object signal, in order."""
        self.drain()
        return [a for (i, m, p, a) in self.signals
                if i == interface and m == member and (path is None or p == path)]


def errname(exc):
    return exc.get_dbus_name() if isinstance(exc, dbus.DBusException) else None


def errmsg(exc):
    return exc.get_dbus_message() if isinstance(exc, dbus.DBusException) else str(exc)


def new_uuid():
    return str(uuidlib.uuid4())


def domain_path(uuid):
    return CONN_PATH + "/domain/_" + uuid.replace("-", "_")


def enc(raw):
    """The contract's path element escaping: keep [A-Za-z0-9], else _xx."""
    out = []
    for b in raw.encode():
        c = chr(b)
        if re.fullmatch(r"[A-Za-z0-9]", c):
            out.append(c)
        else:
            out.append("_%02x" % b)
    return "".join(out)


def snapshot_path(uuid, name):
    return CONN_PATH + "/domainsnapshot/_" + uuid.replace("-", "_") + "_" + enc(name)


def scratch_domain_xml(name, uuid, memory=1048576, current=524288, vcpus=2,
                       description=None, mac="52:54:00:12:34:56"):
    desc = f"  <description>{description}</description>\n" if description is not None else ""
    return f"""<domain type='test'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
{desc}  <memory unit='KiB'>{memory}</memory>
  <currentMemory unit='KiB'>{current}</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/{name}.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='{mac}'/>
      <source network='default'/>
    </interface>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


class DaemonTestCase(unittest.TestCase):
    """One private bus and one fresh virtbusd per test class."""

    collect_signals = True
    # A command prefix that execs the daemon (e.g. nsenter into a network
    # namespace), and extra environment for it.
    daemon_wrapper = ()
    daemon_env = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        glib_mainloop()
        cls.private_bus = PrivateBus()
        cls.bus = None
        cls.daemon = None
        try:
            cls.bus = dbus.bus.BusConnection(cls.private_bus.address, mainloop=glib_mainloop())
            cls.daemon = Daemon(cls.private_bus.address, cls.private_bus.tmpdir.name,
                                cls.daemon_wrapper, cls.daemon_env)
            cls.daemon.wait_for_name(cls.bus)
            cls.collector = SignalCollector(cls.bus) if cls.collect_signals else None
            cls.conn = cls.bus.get_object(BUS_NAME, CONN_PATH)
        except BaseException:
            cls._teardown_daemon()
            raise
        cls._scratch_counter = 0

    @classmethod
    def _teardown_daemon(cls):
        problems = []
        if cls.daemon is not None:
            problems = cls.daemon.stop(cls.bus)
            cls.daemon = None
        if cls.bus is not None:
            cls.bus.close()
            cls.bus = None
        cls.private_bus.stop()
        return problems

    @classmethod
    def tearDownClass(cls):
        problems = cls._teardown_daemon()
        super().tearDownClass()
        if problems:
            raise AssertionError("virtbusd shutdown contract violated: " + "; ".join(problems))

    # ---- calls ----

    def call(self, path, iface, method, signature="", *args, timeout=25.0):
        """A raw call with an explicit signature (no introspection)."""
        return self.bus.call_blocking(BUS_NAME, path, iface, method, signature, args,
                                      timeout=timeout)

    def connect(self, method, signature="", *args, **kw):
        return self.call(CONN_PATH, CONNECT_IFACE, method, signature, *args, **kw)

    def dom(self, path, method, signature="", *args, **kw):
        return self.call(path, DOMAIN_IFACE, method, signature, *args, **kw)

    def snap(self, path, method, signature="", *args, **kw):
        return self.call(path, SNAPSHOT_IFACE, method, signature, *args, **kw)

    def prop(self, path, iface, name):
        return self.call(path, PROPS_IFACE, "Get", "ss", iface, name)

    def dprop(self, path, name):
        return self.prop(path, DOMAIN_IFACE, name)

    def state(self, path):
        s = self.dom(path, "GetState", "u", 0)
        return (int(s[0]), int(s[1]))

    def xml(self, path, flags=0):
        return str(self.dom(path, "GetXMLDesc", "u", flags))

    def list_domains(self, flags=0):
        return [str(p) for p in self.connect("ListDomains", "u", flags)]

    def ping(self):
        self.call(CONN_PATH, PEER_IFACE, "Ping", "")

    # ---- errors ----

    @contextmanager
    def assertLibvirtError(self, prefix=None, regex=None, name="org.libvirt.Error"):
        """Expects a D-Bus error named `name` whose message starts with prefix."""
        try:
            yield
        except dbus.DBusException as e:
            self.assertEqual(errname(e), name, f"unexpected error: {e}")
            if prefix is not None:
                self.assertTrue(errmsg(e).startswith(prefix),
                                f"error message {errmsg(e)!r} does not start with {prefix!r}")
            if regex is not None:
                self.assertRegex(errmsg(e), regex)
        else:
            self.fail(f"expected {name}" + (f" ({prefix!r}...)" if prefix else "")
                      + ", call succeeded")

    def skip_if_not_supported(self, fn, *args, **kw):
        """Calls fn; skips the test if the driver says not supported."""
        try:
            return fn(*args, **kw)
        except dbus.DBusException as e:
            if errname(e) == "org.libvirt.Error" and errmsg(e).startswith(NOT_SUPPORTED):
                self.skipTest(f"not implemented by the driver: {errmsg(e)}")
            raise

    # ---- scratch domains ----

    def scratch_name(self, stem="scratch"):
        cls = type(self)
        cls._scratch_counter += 1
        return f"{stem}-{cls.__name__.lower()}-{cls._scratch_counter}"

    def define_scratch(self, stem="scratch", start=False, **xml_kw):
        """Defines (and optionally starts) a fresh persistent domain.

        Returns (path, name, uuid).  Events it causes are cleared.
        """
        name = self.scratch_name(stem)
        uuid = new_uuid()
        path = str(self.connect("DomainDefineXML", "s", scratch_domain_xml(name, uuid, **xml_kw)))
        self.assertEqual(path, domain_path(uuid))
        if start:
            self.dom(path, "Create", "u", 0)
        if self.collector is not None:
            self.collector.clear()
        return path, name, uuid

    def remove_domain(self, path):
        """Best effort: destroy and undefine a scratch domain."""
        try:
            if self.dprop(path, "Active"):
                self.dom(path, "Destroy", "u", 0)
        except dbus.DBusException:
            pass
        try:
            self.dom(path, "Undefine", "u", 2 | 1)  # SNAPSHOTS_METADATA | MANAGED_SAVE
        except dbus.DBusException:
            pass

    def assertDaemonAlive(self):
        self.assertTrue(self.daemon.alive(), "virtbusd died:\n" + self.daemon.log_tail())
        self.ping()
        self.list_domains()

