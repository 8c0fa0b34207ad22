# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every object-tree signal of tree_common's scenario, checked against the
whole tree read before and after each operation (list calls and GetAll):

- each property whose value changed is in exactly one PropertiesChanged,
  with its new value, on the object's path and interface, and nothing
  unchanged is ever signalled; an operation that changes nothing (an
  Autostart set to its value, Suspend and Resume, a refused Resume)
  signals nothing;
- an object that appeared has exactly one InterfacesAdded carrying what
  GetAll then reports, one that went exactly one InterfacesRemoved, and
  neither gets a PropertiesChanged;
- those signals come before the operation's lifecycle events, so a client
  that mirrors the tree already has the new state when it hears of them.
"""

import unittest

from harness import CONN_PATH, CONNECT_IFACE, PROPS_IFACE
from tree_common import OM_IFACE, TreeTestCase, plain

# What each step changes, as property names over every object it touches:
# a check that the generic comparison below has something to compare.
CHANGES = {
    "domain define": set(),
    "domain define again": set(),
    "domain start": {"Active", "Id"},
    "domain suspend": set(),
    "domain resume": set(),
    "domain resume while running": set(),
    "domain autostart on": {"Autostart"},
    "domain autostart on again": set(),
    "domain stop": {"Active", "Id"},
    "domain rename": {"Name"},
    "domain autostart off": {"Autostart"},
    "domain snapshot while off": set(),
    "domain start again": {"Active", "Id"},
    "domain snapshot and halt": {"Active", "Id"},
    "snapshot revert to running": {"Active", "Id"},
    "snapshot delete": set(),
    "domain managed save": {"Active", "Id"},
    "domain start from managed save": {"Active", "Id"},
    "domain undefine while running": {"Persistent"},
    "domain define while running": {"Persistent"},
    "domain undefine again while running": {"Persistent"},
    "transient domain stop, snapshot s1 with it": set(),
    "transient domain create": set(),
    "transient domain save": set(),
    "transient domain restore": set(),
    "transient domain destroy": set(),
    "network define": set(),
    "network start": {"Active"},
    "network autostart on": {"Autostart"},
    "network autostart on again": set(),
    "network stop": {"Active"},
    "network stop again": set(),
    "network undefine": set(),
    "transient network create": set(),
    "transient network stop": set(),
    "pool define": set(),
    "pool start": {"Active"},
    "pool autostart on": {"Autostart"},
    "pool autostart on again": set(),
    "volume create": set(),
    "volume create another": set(),
    "volume delete": set(),
    "pool stop, its volumes with it": {"Active"},
    "pool start, its volumes back": {"Active"},
    "pool stop again": {"Active"},
    # Transient now: no config file, so no autostart either.
    "pool create over its stopped definition": {"Active", "Persistent", "Autostart"},
    "transient pool stop": set(),
}

# How many objects each step adds and removes, where it does.
COMES_AND_GOES = {
    "domain define": (1, 0),
    "domain snapshot while off": (1, 0),
    "domain snapshot and halt": (1, 0),
    "snapshot delete": (0, 1),
    "transient domain stop, snapshot s1 with it": (0, 2),
    "transient domain create": (1, 0),
    "transient domain save": (0, 1),
    "transient domain restore": (1, 0),
    "transient domain destroy": (0, 1),
    "network define": (1, 0),
    "network undefine": (0, 1),
    "transient network create": (1, 0),
    "transient network stop": (0, 1),
    "pool define": (1, 0),
    "volume create": (1, 0),
    "volume create another": (1, 0),
    "volume delete": (0, 1),
    "pool stop, its volumes with it": (0, 1),
    "pool start, its volumes back": (1, 0),
    "pool stop again": (0, 1),
    "pool create over its stopped definition": (1, 0),
    "transient pool stop": (0, 2),
}


class TestPropertiesChanged(TreeTestCase):

    def check(self, label, before, after, signals):
        tree = [(i, m, p, a) for (i, m, p, a) in signals if i in (OM_IFACE, PROPS_IFACE)]
        appeared, gone = set(after) - set(before), set(before) - set(after)
        self.assertEqual((len(appeared), len(gone)), COMES_AND_GOES.get(label, (0, 0)), f"{label}: objects")

        added = [(str(a[0]), plain(a[1])) for (i, m, p, a) in tree if m == "InterfacesAdded"]
        removed = [(str(a[0]), plain(a[1])) for (i, m, p, a) in tree if m == "InterfacesRemoved"]
        for (i, m, p, a) in tree:
            if m in ("InterfacesAdded", "InterfacesRemoved"):
                self.assertEqual((i, p), (OM_IFACE, CONN_PATH), f"{label}: {m}")
        self.assertEqual(sorted(p for p, _ in added), sorted(appeared), f"{label}: InterfacesAdded")
        for path, ifaces in added:
            iface, props = after[path]
            self.assertEqual(ifaces, {iface: props}, f"{label}: InterfacesAdded for {path}")
        self.assertEqual(sorted(p for p, _ in removed), sorted(gone), f"{label}: InterfacesRemoved")
        for path, ifaces in removed:
            self.assertEqual(ifaces, [before[path][0]], f"{label}: InterfacesRemoved for {path}")

        signalled = {}
        for (i, m, path, a) in tree:
            if m != "PropertiesChanged":
                continue
            self.assertTrue(path in before and path in after,
                            f"{label}: PropertiesChanged for {path}, which came or went")
            iface, changed, invalidated = str(a[0]), plain(a[1]), plain(a[2])
            self.assertEqual(iface, after[path][0], f"{label}: PropertiesChanged interface on {path}")
            self.assertEqual(invalidated, [], f"{label}: invalidated properties on {path}")
            self.assertTrue(changed, f"{label}: an empty PropertiesChanged on {path}")
            for name, value in changed.items():
                signalled[(path, name)] = signalled.get((path, name), 0) + 1
                self.assertEqual(value, after[path][1][name], f"{label}: {path} {name} signalled")
        really = {(path, name) for path in set(before) & set(after)
                  for name, value in after[path][1].items() if before[path][1].get(name) != value}
        self.assertEqual(set(signalled), really, f"{label}: signalled vs changed properties")
        self.assertEqual({k: n for k, n in signalled.items() if n != 1}, {}, f"{label}: signalled twice")
        self.assertEqual({name for _, name in really}, CHANGES[label], f"{label}: what changed")

        # The object tree first, then the lifecycle events.
        kinds = [("tree" if i in (OM_IFACE, PROPS_IFACE) else "event")
                 for (i, m, p, a) in signals if i in (OM_IFACE, PROPS_IFACE)
                 or (i == CONNECT_IFACE and m.endswith("Event"))]
        self.assertEqual(kinds, sorted(kinds, key=lambda k: k == "event"), f"{label}: signal order")

    def test_every_lifecycle_operation(self):
        steps = self.scenario()
        self.assertEqual(sorted(label for label, _ in steps), sorted(CHANGES))
        before = self.tree()
        start = before
        for label, call in steps:
            self.collector.clear()
            call()
            self.collector.drain()
            after = self.tree()
            self.check(label, before, after, list(self.collector.signals))
            before = after
        self.assertEqual(before, start)

    def test_failed_calls_signal_nothing(self):
        before = self.tree()
        self.collector.clear()
        for call in (lambda: self.dom("/org/libvirt/Test/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f",
                                      "Create", "u", 0),
                     lambda: self.connect("DomainDefineXML", "s", "<domain"),
                     lambda: self.connect("NetworkCreateXML", "s", "<network><name>default</name></network>")):
            with self.assertLibvirtError():
                call()
        self.collector.drain()
        self.assertEqual([s for s in self.collector.signals if s[0] in (OM_IFACE, PROPS_IFACE)], [])
        self.assertEqual(self.tree(), before)


if __name__ == "__main__":
    unittest.main()
