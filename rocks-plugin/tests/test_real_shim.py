"""Contract check against the real insert-ethers-shim binary, when the build has it
(SEGBRIDGE_BUILD_DIR/insert-ethers-shim/insert-ethers-shim): its `list --json` parses,
the plugin finds the site of a ledger entry, and marking a MAC registered either works
or falls back to SIGHUP."""
from __future__ import absolute_import, division, print_function

import os
import syslog
import unittest

import sandbox


def real_shim():
    build = os.environ.get("SEGBRIDGE_BUILD_DIR")
    if not build:
        return None
    path = os.path.join(build, "insert-ethers-shim", "insert-ethers-shim")
    return path if os.access(path, os.X_OK) else None


@unittest.skipIf(real_shim() is None, "insert-ethers-shim is not built")
class RealShimTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()
        self.conf = self.box.path("real-shim.conf")
        with open(self.conf, "w") as handle:
            handle.write('interfaces = ["br0"]\nprivate_interface = "eth0"\n'
                         'ledger = "%s"\nfeeder = "file"\nfeed_file = "%s"\nlock_file = "%s"\n'
                         % (self.box.path("ledger.db"), self.box.path("messages"),
                            self.box.path("lock")))
        self.logged = []
        self.saved = syslog.syslog
        syslog.syslog = lambda *args: self.logged.append(args[-1])

    def tearDown(self):
        syslog.syslog = self.saved
        self.box.close()

    def test_plugin_against_the_real_shim(self):
        from segbridge_rocks import process, registration
        from segbridge_rocks.shim import ShimClient
        mac = "52:54:00:aa:00:01"  # compute-0-0's MAC in the sandbox DB
        result = process.run([real_shim(), "-c", self.conf, "announce", mac])
        self.assertTrue(result.ok, result.describe())
        client = ShimClient(binary=real_shim(), config=self.conf)
        entries, problem = client.entries()
        self.assertIsNone(problem)
        self.assertEqual([e.mac for e in entries], [mac])
        site = registration.node_added(self.box.db, "compute-0-0", shim=client)
        self.assertEqual(site, entries[0].site)
        self.assertTrue([m for m in self.logged if "registered from site %s" % site in m],
                        self.logged)
        after, _ = client.entries()
        if after[0].state != "registered":
            # no `registered` command yet: the plugin must have signalled the shim
            self.assertIn("systemctl reload insert-ethers-shim.service", self.box.calls())


if __name__ == "__main__":
    unittest.main()
