# SPDX-License-Identifier: LGPL-2.1-or-later
"""Machinery of the end-to-end tests: real guests under a real virtbusd.

One Environment per test class: a temporary directory, a private SYSTEM bus
(dbus-daemon of type system, listening in that directory, a policy that lets
the test user own and call everything) and `virtbusd --system` on it, with
every directory of the QEMU driver pointed into the temporary directory:

    VIRTBUS_QEMU_CONFIG_DIR     persistent definitions
    VIRTBUS_QEMU_AUTOSTART_DIR  autostart marks
    VIRTBUS_QEMU_STATE_DIR      live state: <name>.pid, QMP sockets, status
    VIRTBUS_QEMU_LOG_DIR        QEMU's own output
    VIRTBUS_QEMU_CACHE_DIR      capabilities cache
    VIRTBUS_QEMU_SAVE_DIR       managed save images

QEMU runs as root (VIRTBUS_QEMU_USER=root) unless a test class sets
`daemon_env`: this host has no virtbus-qemu user, and most tests keep
their files in the 0700 temporary directory.

The daemon can be stopped, killed with SIGKILL and started again with the
same directories on the same bus, which is how the tests check that guests
outlive the daemon. QEMU processes are found through /proc: every one the
daemon starts for us mentions the temporary directory on its command line
(QMP socket, pid file, serial log), so teardown can kill whatever a failed
test left and then check that nothing is left.

The daemon binary: $VIRTBUS_DAEMON (meson sets it), else $VIRTBUSD, else
build/service/virtbusd below the repository root.

VIRTBUS_E2E_REFERENCE=libvirt runs the same tests against the real thing
instead: Debian's libvirtd (QEMU driver) and libvirt-dbus, in a private
mount and network namespace whose /etc/libvirt, /run/libvirt and
/var/{lib,cache,log}/libvirt are directories of the temporary directory.
That is how the tests' expectations were checked against libvirt.

Needs python3-dbus and python3-gi (Debian's /usr/bin/python3).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import contextmanager
from pathlib import Path

import dbus
import dbus.mainloop.glib
import gi

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import guest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]

BUS_NAME = "org.libvirt"
CONN_PATH = "/org/libvirt/QEMU"
CONNECT_IFACE = "org.libvirt.Connect"
DOMAIN_IFACE = "org.libvirt.Domain"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
PEER_IFACE = "org.freedesktop.DBus.Peer"
LIBVIRT_ERROR = "org.libvirt.Error"

# libvirt's numbers (virDomainEventType and details, virDomainState and
# reasons), so tests read like libvirt's documentation.
EV_DEFINED, EV_UNDEFINED, EV_STARTED, EV_SUSPENDED, EV_RESUMED, EV_STOPPED, EV_SHUTDOWN = range(7)
DEFINED_ADDED, DEFINED_UPDATED = 0, 1
STARTED_BOOTED = 0
SUSPENDED_PAUSED = 0
RESUMED_UNPAUSED = 0
STOPPED_SHUTDOWN, STOPPED_DESTROYED, STOPPED_CRASHED, STOPPED_SAVED, STOPPED_FAILED = 0, 1, 2, 4, 5
SHUTDOWN_FINISHED, SHUTDOWN_GUEST, SHUTDOWN_HOST = 0, 1, 2

STATE_RUNNING, STATE_PAUSED, STATE_SHUTOFF = 1, 3, 5
RUNNING_BOOTED, RUNNING_UNPAUSED = 1, 5
PAUSED_USER = 1
SHUTOFF_UNKNOWN, SHUTOFF_SHUTDOWN, SHUTOFF_DESTROYED, SHUTOFF_CRASHED = 0, 1, 2, 3

CALL_TIMEOUT = 60.0  # a Create waits for QEMU; several at once on 2 cores

REFERENCE = os.environ.get("VIRTBUS_E2E_REFERENCE", "")

# Runs inside `unshare -m -n`: libvirtd's host-wide directories become
# directories of $1, so nothing of the host's libvirt is read or touched,
# and the directories persist across restarts as virtbus's do.
_LIBVIRT_REFERENCE_SH = r"""
set -e
S=$1
mount --make-rprivate /
mkdir -p "$S/run" "$S/lib" "$S/cache" "$S/log" "$S/etc"
if [ ! -f "$S/etc/.copied" ]; then
    cp -a /etc/libvirt/. "$S/etc/"
    rm -f "$S"/etc/qemu/networks/autostart/*
    # Files in the test's 0700 temp dir, no virtlogd, no cgroups here.
    cat >>"$S/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
EOF
    touch "$S/etc/.copied"
fi
mount -t tmpfs tmpfs /run
mkdir -p /run/libvirt
mount --bind "$S/run" /run/libvirt
mount --bind "$S/lib" /var/lib/libvirt
mount --bind "$S/cache" /var/cache/libvirt
mount --bind "$S/log" /var/log/libvirt
mount --bind "$S/etc" /etc/libvirt
# libvirt autostarts once per host boot; here every start is a boot.
rm -f /run/libvirt/qemu/autostarted
# A killed libvirtd leaves its socket behind: wait for the new one.
rm -f /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro /run/libvirt/libvirt-admin-sock
/usr/sbin/libvirtd 2>>"$S/libvirtd.log" &
for i in $(seq 1000); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.01; done
exec /usr/sbin/libvirt-dbus --system
"""

_SYSTEM_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <keep_umask/>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="reply_timeout">300000</limit>
</busconfig>
"""

_mainloop = None


def glib_mainloop():
    """The one DBusGMainLoop of the process (dbus-python wants one)."""
    global _mainloop
    if _mainloop is None:
        _mainloop = dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    return _mainloop


def pump(seconds=0.0):
    """Dispatches pending GLib work (signals, async replies) for `seconds`."""
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + seconds
    while True:
        while ctx.pending():
            ctx.iteration(False)
        if time.monotonic() >= deadline:
            return
        time.sleep(0.005)


def daemon_binary():
    path = (os.environ.get("VIRTBUS_DAEMON") or os.environ.get("VIRTBUSD")
            or str(REPO_ROOT / "build" / "service" / "virtbusd"))
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeError(f"virtbusd not found at {path}: build it or set VIRTBUS_DAEMON")
    return path


def errname(exc):
    return exc.get_dbus_name() if isinstance(exc, dbus.DBusException) else None


def errmsg(exc):
    return exc.get_dbus_message() if isinstance(exc, dbus.DBusException) else str(exc)


# ---- processes ----

def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def pid_alive(pid):
    """True for a live process; a zombie (exited, not yet reaped) is dead."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] not in ("Z", "X")


def qemu_processes(mention):
    """{pid: argv} of live QEMU processes whose command line contains `mention`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = _cmdline(int(entry))
        if not argv or "qemu" not in os.path.basename(argv[0]):
            continue
        if any(mention in a for a in argv) and pid_alive(int(entry)):
            found[int(entry)] = argv
    return found


def wait_gone(pids, timeout=10.0):
    """Waits until none of `pids` is alive; returns the ones still alive."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in pids if pid_alive(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


# ---- bus and daemon ----

class SystemBus:
    """A private dbus-daemon of type system."""

    def __init__(self, directory):
        conf = Path(directory) / "system.conf"
        conf.write_text(_SYSTEM_CONF.format(dir=directory))
        rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(
            ["dbus-daemon", f"--config-file={conf}", "--nofork", f"--print-address={wfd}"],
            pass_fds=(wfd,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(wfd)
        with os.fdopen(rfd) as r:
            self.address = r.readline().strip()
        if not self.address:
            self.stop()
            raise RuntimeError("dbus-daemon did not print its address")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class EventRecorder:
    """Records Connect.DomainEvent (o i i) of /org/libvirt/QEMU.

    No sender filter: the daemon's unique name changes on every restart,
    and on this private bus only virtbusd emits these.
    """

    def __init__(self, bus):
        self.bus = bus
        self.events = []
        self._match = bus.add_signal_receiver(
            self._on_event, signal_name="DomainEvent", dbus_interface=CONNECT_IFACE,
            path=CONN_PATH)

    def _on_event(self, path, event, detail):
        self.events.append((str(path), int(event), int(detail)))

    def remove(self):
        self._match.remove()

    def drain(self):
        """Dispatches every event the daemon sent before now.

        Messages from one sender arrive in order, so after a round trip to
        the daemon everything it emitted earlier is queued here.
        """
        try:
            self.bus.call_blocking(BUS_NAME, CONN_PATH, PEER_IFACE, "Ping", "", (), timeout=5)
        except dbus.DBusException:
            pass  # no daemon right now: nothing more can be in flight
        pump()

    def clear(self):
        self.drain()
        self.events.clear()

    def of(self, path):
        self.drain()
        return [(e, d) for (p, e, d) in self.events if p == path]

    def find(self, path, event, detail=None, start=0):
        """Index of the first matching event at or after `start`, else None."""
        for i in range(start, len(self.events)):
            p, e, d = self.events[i]
            if p == path and e == event and (detail is None or d == detail):
                return i
        return None

    def wait_event(self, path, event, detail=None, timeout=10.0, start=0):
        """Waits for DomainEvent(path, event, detail); returns its index.

        detail None matches any detail. Raises AssertionError naming what
        did arrive.
        """
        deadline = time.monotonic() + timeout
        while True:
            pump()
            i = self.find(path, event, detail, start)
            if i is not None:
                return i
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no DomainEvent({path}, {event}, {detail}) within {timeout} s; "
                    f"events of that domain: {self.of(path)}")
            time.sleep(0.005)


class Daemon:
    """virtbusd --system on a SystemBus, restartable over the same directories."""

    START_TIMEOUT = 20.0  # first start probes QEMU's capabilities
    STOP_TIMEOUT = 5.0

    def __init__(self, bus_address, env_dirs, log_path, wrapper=None):
        self.wrapper = list(wrapper or [])  # e.g. nsenter into a test's netns
        self.bus_address = bus_address
        self.env_dirs = env_dirs
        self.log_path = Path(log_path)
        self.proc = None
        self.starts = 0

    def start(self, bus):
        assert self.proc is None or self.proc.poll() is not None, "virtbusd already running"
        env = dict(os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.update(self.env_dirs)
        self.starts += 1
        if REFERENCE == "libvirt":
            argv = ["unshare", "-m", "-n", "bash", "-c", _LIBVIRT_REFERENCE_SH, "reference",
                    str(self.log_path.parent / "libvirt")]
        else:
            argv = self.wrapper + [daemon_binary(), "--system"]
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts} ----\n".encode())
            log.flush()
            # The reference is two processes (libvirtd, libvirt-dbus): its
            # own session, so kill() reaches both. QEMU, daemonized by either
            # daemon, is in a session of its own and survives.
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         start_new_session=bool(REFERENCE))
        self._wait_name(bus, True)

    def _signal(self, sig):
        if REFERENCE:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
        else:
            self.proc.send_signal(sig)

    def _wait_group(self, timeout=10.0):
        """Reference mode: libvirtd may outlive libvirt-dbus by a moment, and
        a second libvirtd must not meet the first's pid file."""
        deadline = time.monotonic() + timeout
        while REFERENCE and time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def _wait_name(self, bus, owned, timeout=None):
        dbus_obj = bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
        deadline = time.monotonic() + (timeout or self.START_TIMEOUT)
        while time.monotonic() < deadline:
            if owned and self.proc.poll() is not None:
                raise RuntimeError(f"virtbusd exited with {self.proc.returncode} before "
                                   f"owning {BUS_NAME}:\n{self.log_tail()}")
            if bool(dbus_obj.NameHasOwner(BUS_NAME, dbus_interface="org.freedesktop.DBus")) == owned:
                return
            time.sleep(0.01)
        raise RuntimeError(f"{BUS_NAME} {'not owned' if owned else 'still owned'} after "
                           f"{timeout or self.START_TIMEOUT} s:\n{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, bus):
        """SIGTERM, as a service manager would; returns a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is not None:
            problems.append(f"virtbusd had already exited with {self.proc.returncode}")
        else:
            self._signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=self.STOP_TIMEOUT)
                if rc != 0:
                    problems.append(f"virtbusd exited with status {rc} on SIGTERM")
            except subprocess.TimeoutExpired:
                problems.append(f"virtbusd still running {self.STOP_TIMEOUT} s after SIGTERM")
                self._signal(signal.SIGKILL)
                self.proc.wait()
        self._wait_group()
        try:
            self._wait_name(bus, False, timeout=2.0)
        except (RuntimeError, dbus.DBusException) as e:
            problems.append(str(e))
        return problems

    def kill(self, bus):
        """SIGKILL: the daemon gets no chance to tidy up."""
        if self.alive():
            self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
            self._wait_group()
            self._wait_name(bus, False, timeout=5.0)

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


_live_environments = set()


def _emergency_cleanup(signum, frame):
    """meson's timeout sends SIGTERM, and Python would die without running
    any teardown: guests would outlive the test run. Kill ours first."""
    for env in list(_live_environments):
        if env.daemon is not None and env.daemon.alive():
            env.daemon._signal(signal.SIGKILL)
        for pid in qemu_processes(env.tmp):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if env.sysbus is not None:
            env.sysbus.proc.kill()
        if not os.environ.get("VIRTBUS_E2E_KEEP"):
            shutil.rmtree(env.tmp, ignore_errors=True)
    os._exit(128 + signum)


signal.signal(signal.SIGTERM, _emergency_cleanup)


class Environment:
    """Temp dir + private system bus + virtbusd, torn down without leftovers."""

    def __init__(self, daemon_env=None, daemon_wrapper=None):
        glib_mainloop()
        self.tmp = tempfile.mkdtemp(prefix="virtbus-e2e-")
        self.root = Path(self.tmp)
        self.dirs = {}
        for key, sub in (("VIRTBUS_QEMU_CONFIG_DIR", "config"),
                         ("VIRTBUS_QEMU_AUTOSTART_DIR", "config/autostart"),
                         ("VIRTBUS_QEMU_STATE_DIR", "state"),
                         ("VIRTBUS_QEMU_LOG_DIR", "log"),
                         ("VIRTBUS_QEMU_CACHE_DIR", "cache"),
                         ("VIRTBUS_QEMU_SAVE_DIR", "save")):
            self.dirs[key] = str(self.root / sub)
        self.guest_dir = self.root / "guests"  # serial logs, disk images
        self.guest_dir.mkdir()
        _live_environments.add(self)
        self.sysbus = None
        self.bus = None
        self.daemon = None
        self.recorder = None
        try:
            self.sysbus = SystemBus(self.tmp)
            self.bus = dbus.bus.BusConnection(self.sysbus.address, mainloop=glib_mainloop())
            self.recorder = EventRecorder(self.bus)
            env = {**self.dirs, "VIRTBUS_QEMU_USER": "root", **(daemon_env or {})}
            self.daemon = Daemon(self.sysbus.address, env, self.root / "virtbusd.log", daemon_wrapper)
            self.daemon.start(self.bus)
        except BaseException:
            self.close()
            raise

    @property
    def state_dir(self):
        if REFERENCE == "libvirt":
            return self.root / "libvirt" / "run" / "qemu"
        return Path(self.dirs["VIRTBUS_QEMU_STATE_DIR"])

    # ---- daemon lifecycle, same dirs, same bus ----

    def stop_daemon(self):
        return self.daemon.stop(self.bus)

    def kill_daemon(self):
        self.daemon.kill(self.bus)

    def start_daemon(self):
        self.daemon.start(self.bus)

    def restart_daemon(self, kill=False):
        """Stops (SIGTERM, or SIGKILL with kill=True) and starts virtbusd."""
        problems = []
        if kill:
            self.kill_daemon()
        else:
            problems = self.stop_daemon()
        self.start_daemon()
        return problems

    # ---- calls ----

    def call(self, path, iface, method, signature="", *args, timeout=CALL_TIMEOUT):
        """A call with an explicit signature, to the name's current owner."""
        return self.bus.call_blocking(BUS_NAME, path, iface, method, signature, args,
                                      timeout=timeout)

    def call_async(self, path, iface, method, signature, args, on_reply, on_error,
                   timeout=CALL_TIMEOUT):
        self.bus.call_async(BUS_NAME, path, iface, method, signature, args,
                            on_reply, on_error, timeout=timeout)

    def connect(self, method, signature="", *args, **kw):
        return self.call(CONN_PATH, CONNECT_IFACE, method, signature, *args, **kw)

    def dom(self, path, method, signature="", *args, **kw):
        return self.call(path, DOMAIN_IFACE, method, signature, *args, **kw)

    def connect_proxy(self):
        """dbus.Interface on /org/libvirt/QEMU that survives daemon restarts."""
        obj = self.bus.get_object(BUS_NAME, CONN_PATH, follow_name_owner_changes=True)
        return dbus.Interface(obj, CONNECT_IFACE)

    def domain_proxy(self, path):
        obj = self.bus.get_object(BUS_NAME, path, follow_name_owner_changes=True)
        return dbus.Interface(obj, DOMAIN_IFACE)

    # ---- guests ----

    def pidfile(self, name):
        return self.state_dir / f"{name}.pid"

    def qemu_pid(self, name):
        """The pid of the guest's QEMU: its pid file, checked against /proc."""
        try:
            pid = int(self.pidfile(name).read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid_alive(pid) and f"guest={name}" in " ".join(_cmdline(pid) or []):
            return pid
        procs = self.guest_processes(name)
        return next(iter(procs)) if len(procs) == 1 else None

    def guest_processes(self, name):
        """{pid: argv} of our live QEMUs started for domain `name`."""
        return {pid: argv for pid, argv in qemu_processes(self.tmp).items()
                if any(a == f"guest={name}" or a.startswith(f"guest={name},") for a in argv)}

    # ---- teardown ----

    def destroy_all(self):
        """Best effort through the API: destroy and undefine every domain."""
        try:
            paths = [str(p) for p in self.connect("ListDomains", "u", 0, timeout=10)]
        except dbus.DBusException:
            return
        for p in paths:
            for method in ("Destroy", "Undefine"):
                try:
                    self.dom(p, method, "u", 0, timeout=20)
                except dbus.DBusException:
                    pass

    def close(self):
        """Stops everything; returns a list of problems (empty if clean)."""
        problems = []
        if self.daemon is not None and self.daemon.alive():
            self.destroy_all()
            problems += self.stop_daemon()
        leftovers = qemu_processes(self.tmp)
        if leftovers:
            # Guests outlive the daemon by design; after destroy_all none of
            # ours should, so each one is reported, then killed.
            problems.append("QEMU processes left behind: " + "; ".join(
                f"{pid}: {' '.join(argv)[:200]}" for pid, argv in leftovers.items()))
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        still = wait_gone(list(qemu_processes(self.tmp)), timeout=10)
        if still:
            problems.append(f"QEMU processes survive SIGKILL: {still}")
        if self.recorder is not None:
            self.recorder.remove()
        if self.bus is not None:
            self.bus.close()
        if self.sysbus is not None:
            self.sysbus.stop()
        if problems and self.daemon is not None:
            problems.append("daemon log:\n" + self.daemon.log_tail())
        _live_environments.discard(self)
        if not os.environ.get("VIRTBUS_E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return problems


class E2ETestCase(unittest.TestCase):
    """One Environment per class; each test names its own guests."""

    daemon_env = {}  # extra environment of virtbusd
    daemon_wrapper = []  # argv virtbusd runs under (nsenter --net=... for network tests)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.guest_paths = guest.ensure_guest()
        except guest.GuestUnavailable as e:
            raise unittest.SkipTest(f"no test guest: {e}")
        cls.env = Environment(cls.daemon_env, cls.daemon_wrapper)
        cls._counter = 0

    @classmethod
    def tearDownClass(cls):
        problems = cls.env.close()
        super().tearDownClass()
        if problems:
            raise AssertionError("end-to-end teardown: " + "\n".join(problems))

    def setUp(self):
        super().setUp()
        if not self.env.daemon.alive():
            # A previous test killed it and failed before starting it again.
            self.env.start_daemon()
        self.env.recorder.clear()

    # ---- naming and definitions ----

    def new_name(self, stem="g"):
        cls = type(self)
        cls._counter += 1
        return f"{stem}{cls._counter}"

    def serial_log(self, name):
        return str(self.env.guest_dir / f"{name}.serial.log")

    def xml(self, name, **kw):
        kw.setdefault("serial_log", self.serial_log(name))
        return guest.domain_xml(name, **kw)

    def define(self, name=None, **kw):
        """Defines a guest; returns (path, name, serial log). Cleaned up after the test."""
        name = name or self.new_name()
        log = kw.get("serial_log") or self.serial_log(name)
        kw["serial_log"] = log
        path = str(self.env.connect("DomainDefineXML", "s", self.xml(name, **kw)))
        self.addCleanup(self.remove_domain, path, name)
        return path, name, log

    def create_transient(self, name=None, flags=0, **kw):
        name = name or self.new_name("t")
        log = kw.get("serial_log") or self.serial_log(name)
        kw["serial_log"] = log
        path = str(self.env.connect("DomainCreateXML", "su", self.xml(name, **kw), flags))
        self.addCleanup(self.remove_domain, path, name)
        return path, name, log

    def remove_domain(self, path, name):
        """Cleanup: Destroy and Undefine, tolerating either being moot; then
        kills the guest's QEMU if the daemon could not."""
        for method in ("Destroy", "Undefine"):
            try:
                self.env.dom(path, method, "u", 0, timeout=20)
            except dbus.DBusException:
                pass
        procs = self.env.guest_processes(name)
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_gone(list(procs))

    # ---- domain queries ----

    def state(self, path):
        s = self.env.dom(path, "GetState", "u", 0)
        return (int(s[0]), int(s[1]))

    def prop(self, path, name):
        return self.env.call(path, PROPS_IFACE, "Get", "ss", DOMAIN_IFACE, name)

    def set_prop(self, path, name, value):
        self.env.call(path, PROPS_IFACE, "Set", "ssv", DOMAIN_IFACE, name, value)

    def list_domains(self):
        return [str(p) for p in self.env.connect("ListDomains", "u", 0)]

    def wait_state(self, path, state, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            s = self.state(path)
            if s[0] == state:
                return s
            if time.monotonic() >= deadline:
                self.fail(f"{path} in state {s}, expected {state} within {timeout} s")
            time.sleep(0.05)

    def wait_event(self, path, event, detail=None, timeout=15.0, start=0):
        return self.env.recorder.wait_event(path, event, detail, timeout, start)

    def wait_marker(self, log, count=1, timeout=60.0):
        try:
            return guest.wait_for_marker(log, count, timeout)
        except TimeoutError as e:
            self.fail(f"{e}\ndaemon log:\n{self.env.daemon.log_tail()}")

    # ---- errors ----

    @contextmanager
    def assertLibvirtError(self, regex=None):
        """Expects org.libvirt.Error whose message matches regex (re.search)."""
        try:
            yield
        except dbus.DBusException as e:
            self.assertEqual(errname(e), LIBVIRT_ERROR, f"unexpected error: {e}")
            if regex is not None:
                self.assertRegex(errmsg(e), regex)
        else:
            self.fail(f"expected {LIBVIRT_ERROR}, the call succeeded")

    def assertNoGuestProcess(self, name, timeout=10.0):
        procs = self.env.guest_processes(name)
        alive = wait_gone(list(procs), timeout)
        self.assertEqual(alive, [], f"QEMU of {name} still running: {procs}")
