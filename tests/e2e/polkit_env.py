"""A real polkit setup for tests and benchmarks: the e2e Environment (private
system bus + virtbusd --system), a real polkitd on that bus, unprivileged
users made with useradd, and clients running as them.

polkitd only reads actions from /usr/share/polkit-1/actions and rules from
/etc/polkit-1/rules.d and /usr/share/polkit-1/rules.d, so it runs in a
private mount namespace (unshare -m) where those three directories are
directories of the test: the generated virtbus policy, the test's rules and
nothing else. The host's polkit configuration is never touched.

Needs root (useradd, setpriv, unshare), polkitd, and the generated policy
($VIRTBUS_POLKIT_POLICY, meson sets it; else build/polkit/...).
"""

import json
import os
import pwd
import shutil
import subprocess
import time
import unittest
from pathlib import Path

import harness

POLKITD = "/usr/lib/polkit-1/polkitd"
HERE = Path(__file__).resolve().parent

_MOUNT_SH = """set -e
mount --bind "$1/actions" /usr/share/polkit-1/actions
mount --bind "$1/rules" /etc/polkit-1/rules.d
mount --bind "$1/no-rules" /usr/share/polkit-1/rules.d
exec "$2" --no-debug
"""


def policy_file():
    p = os.environ.get("VIRTBUS_POLKIT_POLICY")
    if p:
        return Path(p)
    return harness.REPO_ROOT / "build" / "polkit" / "org.libvirt.api.policy"


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (useradd, setpriv, a polkitd of its own)"
    for tool in ("useradd", "userdel", "setpriv", "unshare"):
        if not shutil.which(tool):
            return f"{tool} not found"
    if not os.access(POLKITD, os.X_OK):
        return f"{POLKITD} not found (apt-get install polkitd)"
    if not policy_file().exists():
        return f"{policy_file()} not built"
    return None


def ensure_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True)


def remove_user(name):
    subprocess.run(["userdel", name], stderr=subprocess.DEVNULL, check=False)


class Client:
    """One bus connection of `user` (a polkit_client.py process)."""

    def __init__(self, env, user):
        self.user = user
        argv = ["/usr/bin/python3", str(env.client_script)]
        if user != "root":
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + argv
        e = {"DBUS_SYSTEM_BUS_ADDRESS": env.sysbus.address, "PATH": "/usr/bin:/bin",
             "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(argv, env=e, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd="/")

    def request(self, req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"client of {self.user} died (status {self.proc.wait()})")
        return json.loads(line)

    def call(self, path, iface, method, sig="", *args):
        return self.request({"path": path, "iface": iface, "method": method, "sig": sig, "args": list(args)})

    def timed(self, n, path, iface, method, sig="", *args):
        r = self.request({"timed": n, "path": path, "iface": iface, "method": method, "sig": sig,
                          "args": list(args)})
        if "times" not in r:
            raise RuntimeError(f"timed call failed: {r}")
        return r["times"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class PolkitEnvironment:
    """harness.Environment + polkitd + users; rules written with set_rules()."""

    def __init__(self, users):
        self.users = list(users)
        for u in self.users:
            ensure_user(u)
        self.env = harness.Environment()
        self.polkitd = None
        self.clients = []
        try:
            root = Path(self.env.tmp)
            # The bus socket and the client script live here: other users
            # must reach them.
            os.chmod(root, 0o755)
            self.client_script = root / "polkit_client.py"
            shutil.copy(HERE / "polkit_client.py", self.client_script)
            self.pk = root / "polkit"
            for d in ("actions", "rules", "no-rules"):
                (self.pk / d).mkdir(parents=True)
            shutil.copy(policy_file(), self.pk / "actions" / "org.libvirt.api.policy")
            # polkitd runs its rules as user polkitd: it must read them.
            os.chmod(self.pk / "rules", 0o755)
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.env.sysbus.address)
            self.log = open(root / "polkitd.log", "wb")
            self.polkitd = subprocess.Popen(["unshare", "-m", "sh", "-c", _MOUNT_SH, "polkit", str(self.pk),
                                             POLKITD], env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                            stderr=subprocess.STDOUT)
            self._wait_polkitd()
        except BaseException:
            self.close()
            raise

    @property
    def sysbus(self):
        return self.env.sysbus

    def _wait_polkitd(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.polkitd.poll() is not None:
                raise RuntimeError(f"polkitd exited: {self.log_tail()}")
            if self.env.bus.name_has_owner("org.freedesktop.PolicyKit1"):
                return
            time.sleep(0.05)
        raise RuntimeError("polkitd did not take its bus name")

    def log_tail(self):
        return (Path(self.env.tmp) / "polkitd.log").read_text(errors="replace")[-2000:]

    def set_rules(self, name, text):
        """Writes a rules file; polkitd notices and reloads its rules."""
        path = self.pk / "rules" / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)

    def client(self, user):
        c = Client(self, user)
        self.clients.append(c)
        return c

    def close(self):
        for c in self.clients:
            c.close()
        if self.polkitd and self.polkitd.poll() is None:
            self.polkitd.terminate()
            try:
                self.polkitd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.polkitd.kill()
                self.polkitd.wait()
        if getattr(self, "log", None):
            self.log.close()
        self.env.close()
        for u in self.users:
            remove_user(u)


def require():
    reason = skip_reason()
    if reason:
        raise unittest.SkipTest(reason)
