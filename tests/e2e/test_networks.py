# SPDX-License-Identifier: LGPL-2.1-or-later
"""Virtual networks end to end, inside network namespaces the test makes.

virtbusd runs in a namespace of its own ("host", entered with nsenter so
the daemon is the process the harness signals), on the private system bus
of the harness. An "uplink" namespace stands behind it on a veth pair
(203.0.113.1 host side, 203.0.113.2 uplink side) and runs a small HTTP
server that answers with the address it sees the client come from. Guests
(the busybox test guest, with virtbus.net=dhcp on its command line) get a
lease from the network's dnsmasq, ping the bridge and fetch from the
server; all they learn is printed on their serial console.

Nothing leaves the machine; the namespaces, the server and whatever the
daemon made in them go away when the class ends, even after a failure.
Needs root (namespaces, nft, bridges); skipped otherwise.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import uuid as uuidlib
from pathlib import Path

import dbus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import CONN_PATH, CONNECT_IFACE, E2ETestCase, LIBVIRT_ERROR, errname, errmsg, pump, wait_gone  # noqa: E402

NET_IFACE = "org.libvirt.Network"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
UPLINK_HOST, UPLINK_PEER = "203.0.113.1", "203.0.113.2"
SERVER_PORT = 8080

_SERVER = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("seen=" + self.client_address[0] + "\n").encode()
        with open(sys.argv[1], "a") as f:
            f.write(self.client_address[0] + "\n")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", int(sys.argv[2])), H).serve_forever()
"""


def sh(*argv, check=True):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {r.stdout}")
    return r.stdout


def can_run():
    if os.geteuid() != 0:
        return "needs root (network namespaces, bridges, nftables)"
    for tool in ("ip", "nft", "dnsmasq", "nsenter"):
        if not any(os.access(f"{d}/{tool}", os.X_OK) for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin")):
            return f"{tool} is not installed"
    return None


class NetworkE2E(E2ETestCase):
    ns = f"vbh{os.getpid()}"
    up = f"vbu{os.getpid()}"

    @classmethod
    def setUpClass(cls):
        why = can_run()
        if why:
            raise unittest.SkipTest(why)
        cls.server = None
        try:
            sh("ip", "netns", "add", cls.ns)
            sh("ip", "netns", "add", cls.up)
            sh("ip", "-n", cls.ns, "link", "set", "lo", "up")
            sh("ip", "-n", cls.up, "link", "set", "lo", "up")
            sh("ip", "-n", cls.ns, "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", cls.up)
            sh("ip", "-n", cls.ns, "addr", "add", UPLINK_HOST + "/24", "dev", "up0")
            sh("ip", "-n", cls.ns, "link", "set", "up0", "up")
            sh("ip", "-n", cls.up, "addr", "add", UPLINK_PEER + "/24", "dev", "eth0")
            sh("ip", "-n", cls.up, "link", "set", "eth0", "up")
            cls.seen_file = Path(f"/tmp/vbnet-seen-{os.getpid()}")
            cls.seen_file.write_text("")
            cls.server = subprocess.Popen(
                ["ip", "netns", "exec", cls.up, sys.executable, "-c", _SERVER, str(cls.seen_file), str(SERVER_PORT)],
                stdin=subprocess.DEVNULL)
            cls.daemon_wrapper = ["nsenter", f"--net=/run/netns/{cls.ns}"]
            cls.daemon_env = {"VIRTBUS_NETWORK_DEFAULTS_DIR": "/nonexistent"}
            super().setUpClass()
        except BaseException:
            cls._teardown_host()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._teardown_host()

    @classmethod
    def _teardown_host(cls):
        # dnsmasq daemonizes out of the daemon's reach: any left in the
        # namespace is killed with it.
        for pid in sh("ip", "netns", "pids", cls.ns, check=False).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        if cls.server is not None:
            cls.server.kill()
            cls.server.wait()
        for pid in sh("ip", "netns", "pids", cls.up, check=False).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", cls.ns, check=False)
        sh("ip", "netns", "del", cls.up, check=False)
        try:
            cls.seen_file.unlink()
        except (AttributeError, OSError):
            pass

    # ---- helpers ----

    def in_ns(self, *argv, check=True):
        return sh("ip", "netns", "exec", self.ns, *argv, check=check)

    def links(self):
        return {l["ifname"] for l in json.loads(sh("ip", "-n", self.ns, "-j", "link", "show"))}

    def nft_tables(self):
        out = self.in_ns("nft", "list", "tables")
        return set(re.findall(r"table inet (virtbus_\w+)", out))

    def net_xml(self, name, bridge, subnet, mode="nat", dhcp=True, extra=""):
        fwd = f"<forward mode='{mode}'/>" if mode else ""
        dh = (f"<dhcp><range start='{subnet}.100' end='{subnet}.199'/></dhcp>" if dhcp else "")
        br = f"<bridge name='{bridge}' stp='on' delay='0'/>" if bridge else ""
        return (f"<network><name>{name}</name>{fwd}{br}{extra}"
                f"<ip address='{subnet}.1' netmask='255.255.255.0'>{dh}</ip></network>")

    def define_net(self, xml, start=True):
        path = str(self.env.connect("NetworkDefineXML", "s", xml))
        self.addCleanup(self.remove_net, path)
        if start:
            self.env.call(path, NET_IFACE, "Create", "")
        return path

    def remove_net(self, path):
        for m, sig, args in (("Destroy", "", ()), ("Undefine", "", ())):
            try:
                self.env.call(path, NET_IFACE, m, sig, *args)
            except dbus.DBusException:
                pass

    def bridge_of(self, path):
        xml = str(self.env.call(path, NET_IFACE, "GetXMLDesc", "u", 0))
        return re.search(r"<bridge name='([^']+)'", xml).group(1)

    def net_prop(self, path, name):
        return self.env.call(path, PROPS_IFACE, "Get", "ss", NET_IFACE, name)

    def guest_on(self, network, probe=True, renew=None):
        extra = "virtbus.net=dhcp"
        if probe:
            extra += f" virtbus.probe={UPLINK_PEER}:{SERVER_PORT}"
        if renew:
            extra += f" virtbus.renew={renew}"
        nic = (f"    <interface type='network'><source network='{network}'/>"
               f"<model type='virtio'/></interface>\n")
        path, name, log = self.create_transient(extra_devices=nic, cmdline_extra=extra)
        return path, name, log

    def wait_serial(self, log, pattern, timeout=60.0, start=0):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = Path(log).read_text(errors="replace")[start:]
            except OSError:
                text = ""
            m = rx.search(text)
            if m:
                return m
            time.sleep(0.1)
        tail = Path(log).read_text(errors="replace")[-2000:] if Path(log).exists() else ""
        self.fail(f"no {pattern!r} on the serial console within {timeout} s:\n{tail}")

    def guest_mac(self, path):
        xml = str(self.env.dom(path, "GetXMLDesc", "u", 0))
        return re.search(r"<mac address='([0-9a-f:]+)'", xml).group(1)

    def error_of(self, fn):
        with self.assertRaises(dbus.DBusException) as cm:
            fn()
        self.assertEqual(errname(cm.exception), LIBVIRT_ERROR)
        return errmsg(cm.exception)

    # ---- tests ----

    def test_nat_guest_lease_ping_masquerade_update_restart(self):
        net = self.define_net(self.net_xml("natnet", "", "192.168.150"))
        bridge = self.bridge_of(net)
        self.assertRegex(bridge, r"^virbr\d+$")
        self.assertIn(bridge, self.links())
        self.assertEqual(len(self.nft_tables()), 1)
        self.assertEqual(self.in_ns("cat", "/proc/sys/net/ipv4/ip_forward").strip(), "1")

        t0 = time.monotonic()
        dom, name, log = self.guest_on("natnet", renew=2)
        m = self.wait_serial(log, r"VIRTBUS-GUEST-IP eth0 (192\.168\.150\.\d+)")
        lease_s = time.monotonic() - t0
        ip = m.group(1)
        self.assertTrue(100 <= int(ip.rsplit(".", 1)[1]) <= 199, ip)
        self.wait_serial(log, r"VIRTBUS-GUEST-PING 192\.168\.150\.1 ok")
        self.wait_serial(log, rf"VIRTBUS-GUEST-PROBE seen={re.escape(UPLINK_HOST)}")
        self.assertIn(UPLINK_HOST, self.seen_file.read_text().split())
        self.assertNotIn(ip, self.seen_file.read_text().split())  # translated
        print(f"\nlease {lease_s:.1f} s after Create", file=sys.stderr)

        mac = self.guest_mac(dom)
        leases = self.env.call(net, NET_IFACE, "GetDHCPLeases", "su", mac, 0)
        self.assertEqual(len(leases), 1)
        l = leases[0]
        self.assertEqual((str(l[0]), int(l[2]), str(l[3]), str(l[5]), int(l[6])), (bridge, 0, mac, ip, 24))
        addrs = self.env.dom(dom, "InterfaceAddresses", "uu", 0, 0)
        self.assertEqual(len(addrs), 1)
        self.assertEqual(str(addrs[0][1]), mac)
        self.assertEqual([(int(a[0]), str(a[1]), int(a[2])) for a in addrs[0][2]], [(0, ip, 24)])
        tap = str(addrs[0][0])
        self.assertIn(tap, self.links())
        self.assertIn(f"master {bridge}", sh("ip", "-n", self.ns, "link", "show", tap))

        # Update live + config: a static host for this guest; its next
        # renewal (every 2 s) gets the new address.
        host = f"<host mac='{mac}' name='{name}' ip='192.168.150.50'/>"
        self.env.call(net, NET_IFACE, "Update", "uuisu", 3, 4, -1, host, 3)  # add-last, ip-dhcp-host, live|config
        self.assertIn("192.168.150.50", str(self.env.call(net, NET_IFACE, "GetXMLDesc", "u", 1)))
        self.wait_serial(log, r"VIRTBUS-GUEST-IP eth0 192\.168\.150\.50", timeout=40)
        self.env.call(net, NET_IFACE, "Update", "uuisu", 2, 4, -1, host, 3)  # delete
        self.assertNotIn("192.168.150.50", str(self.env.call(net, NET_IFACE, "GetXMLDesc", "u", 0)))

        # Daemon killed and started again: the network is adopted untouched.
        pid_file = Path(self.env.root / "network" / "natnet.pid")
        dns_pid = int(pid_file.read_text())
        rules = self.in_ns("nft", "list", "ruleset")
        idx = sh("ip", "-n", self.ns, "-j", "link", "show", bridge)
        self.env.restart_daemon(kill=True)
        self.assertEqual(int(pid_file.read_text()), dns_pid)
        os.kill(dns_pid, 0)
        self.assertEqual(self.in_ns("nft", "list", "ruleset"), rules)
        self.assertEqual(json.loads(sh("ip", "-n", self.ns, "-j", "link", "show", bridge))[0]["ifindex"],
                         json.loads(idx)[0]["ifindex"])
        self.assertTrue(bool(self.net_prop(net, "Active")))

        # The guest goes, and its tap with it; then the network, and all of it.
        self.env.dom(dom, "Destroy", "u", 0)
        deadline = time.monotonic() + 10
        while tap in self.links() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotIn(tap, self.links())
        self.env.recorder.clear()
        self.env.call(net, NET_IFACE, "Destroy", "")
        self.assertNotIn(bridge, self.links())
        self.assertEqual(self.nft_tables(), set())
        self.assertNotIn("virtbus", self.in_ns("nft", "list", "ruleset"))
        self.assertEqual(wait_gone([dns_pid], timeout=5), [])

    def test_route_forwards_without_translation(self):
        net = self.define_net(self.net_xml("routed", "vbroute0", "10.77.0", mode="route"))
        sh("ip", "-n", self.up, "route", "replace", "10.77.0.0/24", "via", UPLINK_HOST)
        self.addCleanup(sh, "ip", "-n", self.up, "route", "del", "10.77.0.0/24", check=False)
        dom, name, log = self.guest_on("routed")
        ip = self.wait_serial(log, r"VIRTBUS-GUEST-IP eth0 (10\.77\.0\.\d+)").group(1)
        self.wait_serial(log, rf"VIRTBUS-GUEST-PROBE seen={re.escape(ip)}")
        rules = self.in_ns("nft", "list", "ruleset")
        self.assertNotIn("masquerade", rules)
        self.env.dom(dom, "Destroy", "u", 0)
        self.env.call(net, NET_IFACE, "Destroy", "")

    def test_isolated_network_drops_traffic_to_the_uplink(self):
        net = self.define_net(self.net_xml("isol", "vbiso0", "10.78.0", mode=None))
        # Even with a way back, nothing from the isolated subnet gets out.
        sh("ip", "-n", self.up, "route", "replace", "10.78.0.0/24", "via", UPLINK_HOST)
        self.addCleanup(sh, "ip", "-n", self.up, "route", "del", "10.78.0.0/24", check=False)
        self.in_ns("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
        dom, name, log = self.guest_on("isol")
        ip = self.wait_serial(log, r"VIRTBUS-GUEST-IP eth0 (10\.78\.0\.\d+)").group(1)
        self.wait_serial(log, r"VIRTBUS-GUEST-PING 10\.78\.0\.1 ok")
        self.wait_serial(log, r"VIRTBUS-GUEST-PROBE-FAIL")
        self.assertNotIn(ip, self.seen_file.read_text().split())
        self.assertNotIn("VIRTBUS-GUEST-PROBE seen", Path(log).read_text(errors="replace"))
        self.env.dom(dom, "Destroy", "u", 0)
        self.env.call(net, NET_IFACE, "Destroy", "")

    def test_lifecycle_files_events_and_autostart(self):
        events = []
        rx = self.env.bus.add_signal_receiver(lambda path, ev: events.append((str(path), int(ev))), "NetworkEvent",
                                              CONNECT_IFACE, path=CONN_PATH)
        self.addCleanup(rx.remove)

        def wait_events(want, timeout=10.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(events) < len(want):
                pump(0.02)
            self.assertEqual(events, want)
            events.clear()

        net = self.define_net(self.net_xml("auto1", "vbauto0", "10.86.0", mode=None, dhcp=False), start=False)
        wait_events([(net, 0)])  # DEFINED
        cfg = self.env.root / "network" / "auto1.xml"
        self.assertIn("<bridge name='vbauto0'", cfg.read_text())
        self.assertRegex(cfg.read_text(), r"<mac address='52:54:00:")
        self.env.call(net, PROPS_IFACE, "Set", "ssv", NET_IFACE, "Autostart", dbus.Boolean(True))
        self.assertTrue((self.env.root / "network" / "autostart" / "auto1.xml").exists())
        self.assertNotIn("vbauto0", self.links())
        self.assertEqual(self.env.restart_daemon(), [])
        self.assertTrue(bool(self.net_prop(net, "Active")))  # autostarted
        wait_events([(net, 2)])  # STARTED, from the new daemon
        self.assertIn("vbauto0", self.links())
        self.assertEqual(len(self.nft_tables()), 1)
        # Undefine while running: still up, now transient; Destroy ends it.
        self.env.call(net, NET_IFACE, "Undefine", "")
        wait_events([(net, 1)])  # UNDEFINED
        self.assertFalse(cfg.exists())
        self.assertTrue(bool(self.net_prop(net, "Active")))
        self.assertFalse(bool(self.net_prop(net, "Persistent")))
        msg = self.error_of(lambda: self.env.call(net, PROPS_IFACE, "Set", "ssv", NET_IFACE, "Autostart",
                                                  dbus.Boolean(True)))
        self.assertIn("cannot set autostart for transient network", msg)
        self.env.call(net, NET_IFACE, "Destroy", "")
        wait_events([(net, 3)])  # STOPPED
        self.assertNotIn("vbauto0", self.links())
        self.assertEqual(self.nft_tables(), set())
        self.assertEqual([str(p) for p in self.env.connect("ListNetworks", "u", 0)], [])
        self.assertFalse((self.env.root / "network" / "auto1.status").exists())

    def test_bad_input_creates_nothing(self):
        before_links, before_tables = self.links(), self.nft_tables()
        running = self.define_net(self.net_xml("busy", "vbbusy0", "10.79.0"))
        busy_links, busy_tables = self.links(), self.nft_tables()
        conn = self.env.connect

        # Overlapping an active network's subnet, and a host route.
        for name, br, subnet, who in (("ovl1", "vbovl1", "10.79.0", "vbbusy0"),
                                      ("ovl2", "vbovl2", "203.0.113", "up0")):
            path = self.define_net(self.net_xml(name, br, subnet), start=False)
            msg = self.error_of(lambda: self.env.call(path, NET_IFACE, "Create", ""))
            self.assertIn(f"Network is already in use by interface {who}", msg)
            self.assertFalse(bool(self.net_prop(path, "Active")))
        # Bridge name already taken by a host link: refused at start.
        path = self.define_net(self.net_xml("taken", "up0", "10.80.0"), start=False)
        msg = self.error_of(lambda: self.env.call(path, NET_IFACE, "Create", ""))
        self.assertIn("up0", msg)
        # Bridge name of another network, too long, DHCP outside the subnet,
        # bad MAC: refused at define.
        bad = [
            (self.net_xml("dupbr", "vbbusy0", "10.81.0"), "bridge name 'vbbusy0' already in use"),
            (self.net_xml("longbr", "vb-way-too-long-name", "10.82.0"), "vb-way-too-long-name"),
            ("<network><name>range</name><forward mode='nat'/><ip address='10.83.0.1' prefix='24'>"
             "<dhcp><range start='10.84.0.2' end='10.84.0.9'/></dhcp></ip></network>", "not entirely within"),
            ("<network><name>mac</name><mac address='zz:54:00:00:00:01'/><forward mode='nat'/>"
             "<ip address='10.85.0.1' prefix='24'/></network>", "mac"),
        ]
        for xml, text in bad:
            msg = self.error_of(lambda: conn("NetworkDefineXML", "s", xml))
            self.assertIn(text.lower(), msg.lower())
        msg = self.error_of(lambda: conn("NetworkCreateXML", "s", self.net_xml("ovl3", "vbovl3", "10.79.0")))
        self.assertIn("already in use", msg)
        names = {str(self.env.call(p, PROPS_IFACE, "Get", "ss", NET_IFACE, "Name"))
                 for p in conn("ListNetworks", "u", 0)}
        self.assertEqual(names, {"busy", "ovl1", "ovl2", "taken"})
        self.assertEqual(self.links(), busy_links)
        self.assertEqual(self.nft_tables(), busy_tables)
        self.env.call(running, NET_IFACE, "Destroy", "")
        self.assertEqual(self.links(), before_links)
        self.assertEqual(self.nft_tables(), before_tables)


if __name__ == "__main__":
    unittest.main()
