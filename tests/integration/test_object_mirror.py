# SPDX-License-Identifier: LGPL-2.1-or-later
"""A GDBusObjectManagerClient mirrors the test connection from one
GetManagedObjects and the signals that follow (InterfacesAdded,
InterfacesRemoved, PropertiesChanged), through every lifecycle operation of
tree_common's scenario, without calling anything else: after each
operation its cache equals what the list calls and GetAll report, and
objects appear in and leave its list exactly when they come and go.
"""

import unittest

import harness as h
from objects_common import NET_PATH, POOL_PATH
from tree_common import INTERFACE_IFACE, NODEDEV_IFACE, Mirror, TreeTestCase


class TestObjectMirror(TreeTestCase):

    def setUp(self):
        super().setUp()
        self.mirror = Mirror(self.private_bus.address)
        self.addCleanup(self.mirror.close)
        self.mirror.sync()

    def test_mirrors_the_pristine_world(self):
        truth = self.tree()
        self.assertEqual(self.mirror.contents(), truth)
        self.assertEqual(truth[h.TEST_PATH], (h.DOMAIN_IFACE, self.getall(h.TEST_PATH, h.DOMAIN_IFACE)))
        self.assertEqual(truth[h.TEST_PATH][1]["Name"], "test")
        self.assertIs(truth[h.TEST_PATH][1]["Active"], True)
        self.assertIn(NET_PATH, truth)
        self.assertIn(POOL_PATH, truth)
        kinds = {iface for iface, _ in truth.values()}
        self.assertTrue({INTERFACE_IFACE, NODEDEV_IFACE} <= kinds, kinds)

    def test_follows_every_lifecycle_operation(self):
        start = self.tree()
        self.assertEqual(self.mirror.contents(), start)
        self.mirror.take()
        paths = set(start)
        for label, call in self.scenario():
            call()
            self.mirror.sync()
            truth = self.tree()
            self.assertEqual(self.mirror.contents(), truth, f"after {label}")
            added, removed = self.mirror.take()
            self.assertEqual(sorted(added), sorted(set(truth) - paths), f"objects added by {label}")
            self.assertEqual(sorted(removed), sorted(paths - set(truth)), f"objects removed by {label}")
            paths = set(truth)
        # The scenario cleans up after itself.
        self.assertEqual(self.tree(), start)

    def test_a_second_client_sees_the_same(self):
        """A client that starts after changes gets them from
        GetManagedObjects and agrees with the one that followed them."""
        steps = self.scenario()
        cut = [label for label, _ in steps].index("domain start again")
        for _, call in steps[:cut]:
            call()
        self.mirror.sync()
        late = Mirror(self.private_bus.address)
        try:
            late.sync()
            truth = self.tree()
            self.assertEqual(late.contents(), truth)
            self.assertEqual(self.mirror.contents(), truth)
        finally:
            late.close()
        for _, call in steps[cut:]:
            call()


if __name__ == "__main__":
    unittest.main()
