# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the host interface tests: a daemon in a network namespace the
test creates (nsenter), with four veth pairs, and `ip -j` readers of the
kernel's state. Needs root; the classes skip otherwise."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import dbus

import harness as h

QEMU = "/org/libvirt/QEMU"
IFACE = "org.libvirt.Interface"
XML_INACTIVE = 1
NS = f"vbif{os.getpid()}"
VETHS = ["veth0", "veth1", "veth2", "veth3"]


def ip(*args, check=True):
    return subprocess.run(["ip", "-n", NS, *args], check=check, capture_output=True, text=True)


def ipj(*args):
    return json.loads(ip("-j", *args).stdout or "[]")


def links():
    """name -> `ip -j -d link` record, for the namespace."""
    return {l["ifname"]: l for l in ipj("-d", "link", "show")}


def addrs(name):
    out = ipj("addr", "show", "dev", name)
    return {(a["local"], a["prefixlen"]) for rec in out for a in rec.get("addr_info", [])
            if a.get("scope") != "link"}


def master_of(name):
    return links()[name].get("master")


def kernel_supports(kind):
    probe = f"vbprobe{os.getpid() % 1000}"
    extra = ["link", "veth0"] if kind == "vlan" else []
    args = ["link", "add", *extra, "name", probe, "type", kind] + (["id", "3"] if kind == "vlan" else [])
    if ip(*args, check=False).returncode != 0:
        return False
    ip("link", "del", probe)
    return True


def iface_path(mac):
    return QEMU + "/interface/" + h.enc(mac)


def kernel_state():
    """What a failed call must leave unchanged: links, masters, addresses."""
    return {n: (l.get("master"), l.get("address"), l["mtu"], tuple(sorted(addrs(n)))) for n, l in links().items()}


class HostInterfaceCase(h.DaemonTestCase):
    """A daemon in a fresh namespace with four veth pairs."""

    wrapper_extra = ()

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nsenter"):
            raise unittest.SkipTest("needs root, ip and nsenter")
        subprocess.run(["ip", "netns", "add", NS], check=True)
        cls.cfgdir = tempfile.TemporaryDirectory(prefix="virtbus-ifcfg-")
        try:
            for v in VETHS:
                ip("link", "add", v, "type", "veth", "peer", "name", v + "p")
            ip("link", "set", "lo", "up")
            cls.prepare_store(Path(cls.cfgdir.name))
            cls.daemon_wrapper = ("nsenter", f"--net=/run/netns/{NS}", *cls.wrapper_extra)
            cls.daemon_env = {"VIRTBUS_INTERFACE_CONFIG_DIR": cls.cfgdir.name}
            super().setUpClass()
        except BaseException:
            subprocess.run(["ip", "netns", "del", NS], check=False)
            cls.cfgdir.cleanup()
            raise

    @classmethod
    def prepare_store(cls, directory):
        """Definitions on disk before the daemon starts."""

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            subprocess.run(["ip", "netns", "del", NS], check=False)
            cls.cfgdir.cleanup()

    def q(self, method, signature="", *args):
        return self.call(QEMU, h.CONNECT_IFACE, method, signature, *args)

    def i(self, path, method, signature="", *args):
        return self.call(path, IFACE, method, signature, *args)

    def iprop(self, path, name):
        return self.prop(path, IFACE, name)

    def stored(self):
        return sorted(p.name for p in Path(self.cfgdir.name).iterdir() if p.suffix == ".xml")

    def define(self, xml):
        path = str(self.q("InterfaceDefineXML", "su", xml, 0))
        self.addCleanup(self._remove, path)
        return path

    def _remove(self, path):
        for method in ("Destroy", "Undefine"):
            try:
                self.i(path, method, *(("u", 0) if method == "Destroy" else ()))
            except dbus.DBusException:
                pass
