"""Authorization for real: virtbusd --system on a private system bus, a real
polkitd with the generated policy and the test's rules files, callers that
are unprivileged users made with useradd (setpriv). Runs against the Test
connection (the test:///default world), whose objects cover every kind the
checks name. Needs root; skipped otherwise."""

import time
import unittest

import polkit_env

TEST = "/org/libvirt/Test"
CONNECT = "org.libvirt.Connect"
DOMAIN = "org.libvirt.Domain"
NETWORK = "org.libvirt.Network"
POOL = "org.libvirt.StoragePool"
VOL = "org.libvirt.StorageVol"
NODEDEV = "org.libvirt.NodeDevice"
PROPS = "org.freedesktop.DBus.Properties"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"

ALICE, CAROL = "vbt-alice", "vbt-carol"

DOMAIN_XML = """<domain type='test'><name>{name}</name><memory>8192</memory>
<os><type>hvm</type></os></domain>"""

RULES = """
polkit.addRule(function(action, subject) {
    // Root is never asked: if virtbusd asked, this would refuse it.
    if (subject.user == "root")
        return polkit.Result.NO;
    if (subject.user == "%(alice)s") {
        var dom = action.lookup("domain_name") || "";
        if (action.id == "org.libvirt.api.domain.start")
            return dom == "%(alice)s-vm" ? polkit.Result.YES : polkit.Result.NO;
        // alice sees and reads only her own domains
        if ((action.id == "org.libvirt.api.domain.getattr" || action.id == "org.libvirt.api.domain.read")
                && dom.indexOf("%(alice)s-") != 0)
            return polkit.Result.NO;
    }
    return polkit.Result.NOT_HANDLED;
});
""" % {"alice": ALICE}


class PolkitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        polkit_env.require()
        cls.pk = polkit_env.PolkitEnvironment([ALICE, CAROL])
        cls.pk.set_rules("50-test.rules", RULES)
        cls.root = cls.pk.client("root")
        # alice-vm and bob-vm, both shut off.
        cls.alice_vm = cls.ok(cls.root.call(TEST, CONNECT, "DomainDefineXML", "s",
                                            DOMAIN_XML.format(name=ALICE + "-vm")))
        cls.bob_vm = cls.ok(cls.root.call(TEST, CONNECT, "DomainDefineXML", "s",
                                          DOMAIN_XML.format(name="bob-vm")))
        cls.test_dom = cls.ok(cls.root.call(TEST, CONNECT, "DomainLookupByName", "s", "test"))

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "pk", None):
            cls.pk.close()

    @staticmethod
    def ok(reply):
        if "ok" not in reply:
            raise AssertionError(f"call failed: {reply}")
        return reply["ok"]

    def assertDenied(self, reply, action):
        self.assertEqual(reply.get("error"), DENIED, reply)
        self.assertIn(action, reply.get("message", ""))

    def state(self, path):
        return self.ok(self.root.call(path, DOMAIN, "GetState", "u", 0))[0]

    def test_read_only_caller_reads(self):
        carol = self.pk.client(CAROL)
        doms = self.ok(carol.call(TEST, CONNECT, "ListDomains", "u", 0))
        self.assertIn(self.bob_vm, doms)
        self.assertIn(self.test_dom, doms)
        self.assertIn("<name>test</name>", self.ok(carol.call(self.test_dom, DOMAIN, "GetXMLDesc", "u", 0)))
        self.assertEqual(self.ok(carol.call(self.test_dom, PROPS, "Get", "ss", DOMAIN, "Name")), "test")
        props = self.ok(carol.call(self.test_dom, PROPS, "GetAll", "s", DOMAIN))
        self.assertEqual(props["Name"], "test")
        self.assertIn("Active", props)
        # The secure XML needs read-secure, which is not read-only.
        self.assertDenied(carol.call(self.test_dom, DOMAIN, "GetXMLDesc", "u", 1),
                          "org.libvirt.api.domain.read-secure")

    def test_read_only_caller_changes_nothing(self):
        carol = self.pk.client(CAROL)
        self.assertDenied(carol.call(self.bob_vm, DOMAIN, "Create", "u", 0), "org.libvirt.api.domain.start")
        self.assertEqual(self.state(self.bob_vm), 5)  # shut off
        self.assertDenied(carol.call(self.test_dom, DOMAIN, "Destroy", "u", 0), "org.libvirt.api.domain.stop")
        self.assertEqual(self.state(self.test_dom), 1)  # running
        self.assertDenied(carol.call(self.bob_vm, DOMAIN, "Undefine", "u", 0), "org.libvirt.api.domain.delete")
        self.assertDenied(carol.call(TEST, CONNECT, "DomainDefineXML", "s", DOMAIN_XML.format(name="carol-vm")),
                          "org.libvirt.api.domain.write")
        self.assertDenied(carol.call(self.bob_vm, PROPS, "Set", "ssv", DOMAIN, "Autostart", True),
                          "org.libvirt.api.domain.write")
        names = [self.ok(self.root.call(p, PROPS, "Get", "ss", DOMAIN, "Name"))
                 for p in self.ok(self.root.call(TEST, CONNECT, "ListDomains", "u", 0))]
        self.assertNotIn("carol-vm", names)
        self.assertIn("bob-vm", names)
        self.assertFalse(self.ok(self.root.call(self.bob_vm, PROPS, "Get", "ss", DOMAIN, "Autostart")))

        net = self.ok(self.root.call(TEST, CONNECT, "NetworkLookupByName", "s", "default"))
        self.assertDenied(carol.call(net, NETWORK, "Destroy", ""), "org.libvirt.api.network.stop")
        self.assertTrue(self.ok(self.root.call(net, PROPS, "Get", "ss", NETWORK, "Active")))
        self.assertDenied(carol.call(net, NETWORK, "Undefine", ""), "org.libvirt.api.network.delete")

        pool = self.ok(self.root.call(TEST, CONNECT, "StoragePoolLookupByName", "s", "default-pool"))
        self.assertDenied(carol.call(pool, POOL, "Destroy", ""), "org.libvirt.api.storage-pool.stop")
        self.assertTrue(self.ok(self.root.call(pool, PROPS, "Get", "ss", POOL, "Active")))
        self.assertDenied(carol.call(pool, POOL, "StorageVolCreateXML", "su",
                                     "<volume><name>carol.img</name><capacity>1024</capacity></volume>", 0),
                          "org.libvirt.api.storage-vol.create")
        vol = self.ok(self.root.call(pool, POOL, "StorageVolCreateXML", "su",
                                     "<volume><name>root.img</name><capacity>1024</capacity></volume>", 0))
        self.assertDenied(carol.call(vol, VOL, "Delete", "u", 0), "org.libvirt.api.storage-vol.delete")
        self.assertIn(vol, self.ok(self.root.call(pool, POOL, "ListStorageVolumes", "u", 0)))
        vols = self.ok(carol.call(pool, POOL, "ListStorageVolumes", "u", 0))
        self.assertIn(vol, vols)  # listing volumes is read-only

    def test_rule_grants_one_domain(self):
        alice = self.pk.client(ALICE)
        self.assertDenied(alice.call(self.bob_vm, DOMAIN, "Create", "u", 0), "org.libvirt.api.domain.start")
        self.assertEqual(self.state(self.bob_vm), 5)
        self.ok(alice.call(self.alice_vm, DOMAIN, "Create", "u", 0))
        self.assertEqual(self.state(self.alice_vm), 1)
        # start only: stopping it again is not hers
        self.assertDenied(alice.call(self.alice_vm, DOMAIN, "Destroy", "u", 0), "org.libvirt.api.domain.stop")
        self.ok(self.root.call(self.alice_vm, DOMAIN, "Destroy", "u", 0))

    def test_listing_filtered_by_getattr(self):
        alice = self.pk.client(ALICE)
        self.assertEqual(self.ok(alice.call(TEST, CONNECT, "ListDomains", "u", 0)), [self.alice_vm])
        self.assertDenied(alice.call(TEST, CONNECT, "DomainLookupByName", "s", "bob-vm"),
                          "org.libvirt.api.domain.getattr")
        self.assertEqual(self.ok(alice.call(TEST, CONNECT, "DomainLookupByName", "s", ALICE + "-vm")),
                         self.alice_vm)
        stats = self.ok(alice.call(TEST, CONNECT, "GetAllDomainStats", "uu", 1, 0))
        self.assertEqual([s[0] for s in stats], [ALICE + "-vm"])
        managed = self.ok(alice.call(TEST, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", ""))
        domains = [p for p, ifaces in managed.items() if DOMAIN in ifaces]
        self.assertEqual(domains, [self.alice_vm])
        self.assertIn(NETWORK, managed[self.ok(self.root.call(TEST, CONNECT, "NetworkLookupByName", "s",
                                                                  "default"))])
        # root, refused everything by the rules, is never asked: sees all.
        all_doms = self.ok(self.root.call(TEST, CONNECT, "ListDomains", "u", 0))
        self.assertGreaterEqual(len(all_doms), 3)

    def test_qemu_connection_filters_on_its_workers(self):
        # QEMU calls run on worker threads; their results are filtered
        # back on the bus thread.
        qemu = "/org/libvirt/QEMU"
        xml = """<domain type='qemu'><name>{name}</name><memory>65536</memory>
        <os><type arch='x86_64'>hvm</type></os></domain>"""
        mine = self.ok(self.root.call(qemu, CONNECT, "DomainDefineXML", "s", xml.format(name=ALICE + "-q")))
        other = self.ok(self.root.call(qemu, CONNECT, "DomainDefineXML", "s", xml.format(name="bob-q")))
        alice = self.pk.client(ALICE)
        self.assertEqual(self.ok(alice.call(qemu, CONNECT, "ListDomains", "u", 0)), [mine])
        self.assertDenied(alice.call(qemu, CONNECT, "DomainLookupByName", "s", "bob-q"),
                          "org.libvirt.api.domain.getattr")
        self.assertDenied(alice.call(other, DOMAIN, "Undefine", "u", 0), "org.libvirt.api.domain.delete")
        self.assertEqual(len(self.ok(self.root.call(qemu, CONNECT, "ListDomains", "u", 0))), 2)
        for path in (mine, other):
            self.ok(self.root.call(path, DOMAIN, "Undefine", "u", 0))

    def test_property_needing_more_than_read_only_is_left_out(self):
        carol = self.pk.client(CAROL)
        dev = self.ok(self.root.call(TEST, CONNECT, "NodeDeviceLookupByName", "s", "scsi_host1"))
        props = self.ok(carol.call(dev, PROPS, "GetAll", "s", NODEDEV))
        self.assertEqual(props.get("Name"), "scsi_host1")
        self.assertNotIn("Parent", props)  # node-device.read is not read-only
        self.assertIn("Parent", self.ok(self.root.call(dev, PROPS, "GetAll", "s", NODEDEV)))

    def test_verdicts_cached_until_the_caller_leaves(self):
        rule = """polkit.addRule(function(action, subject) {
            if (action.id == "org.libvirt.api.domain.suspend" && subject.user == "%s")
                return polkit.Result.%s;
        });"""
        self.pk.set_rules("60-cache.rules", rule % (CAROL, "NO"))
        time.sleep(1.0)
        first = self.pk.client(CAROL)
        self.assertDenied(first.call(self.test_dom, DOMAIN, "Suspend", ""), "org.libvirt.api.domain.suspend")
        self.pk.set_rules("60-cache.rules", rule % (CAROL, "YES"))
        # A new connection is asked anew and, once polkitd reloaded its
        # rules, allowed.
        deadline = time.monotonic() + 15
        while True:
            second = self.pk.client(CAROL)
            reply = second.call(self.test_dom, DOMAIN, "Suspend", "")
            second.close()
            if "ok" in reply or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertIn("ok", reply, "the rule change never took effect")
        self.assertEqual(self.state(self.test_dom), 3)  # paused
        # The first connection keeps its cached verdict.
        self.assertDenied(first.call(self.test_dom, DOMAIN, "Resume", ""), "org.libvirt.api.domain.suspend")
        self.assertEqual(self.state(self.test_dom), 3)
        first.close()
        third = self.pk.client(CAROL)
        self.ok(third.call(self.test_dom, DOMAIN, "Resume", ""))
        self.assertEqual(self.state(self.test_dom), 1)


if __name__ == "__main__":
    unittest.main()
