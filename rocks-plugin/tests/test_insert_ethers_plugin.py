"""The insert-ethers plugin, loaded exactly the way insert-ethers' ServiceController
loads plugins (core:src/sql/insert-ethers.py l.593-697), called with the 7.0/6.2 and
the 6.1.1 signatures, against the fake shim CLI."""
from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys
import syslog
import time
import unittest

import sandbox
from sandbox import read

LEDGER = [
    {"mac": "52:54:00:aa:00:01", "site": "sitea", "state": "announced", "port": "sb-sitea"},
    {"mac": "52:54:00:bb:00:01", "site": "local", "state": "announced", "port": "eth0"},
]


class FakeScreen(object):
    pass


class FakeInsertor(object):
    screen = FakeScreen()


class FakeNewDb(object):
    def getFrontendName(self):
        return "cluster"


class FakeApp(sandbox.FakeDatabase):
    """insert-ethers' App: a rocks.sql.Application (execute/fetchall) plus insertor."""

    def __init__(self, path):
        sandbox.FakeDatabase.__init__(self, path)
        self.insertor = FakeInsertor()
        self.caller_args = []
        self.newdb = FakeNewDb()


def load_plugins(app, plugindir):
    """ServiceController.loadPlugins, minus the i18n."""
    import rocks.sql
    if plugindir not in sys.path:
        sys.path.append(plugindir)
    plugins = []
    for f in sorted(os.listdir(os.path.join(plugindir, "insertethers"))):
        modname, ext = os.path.splitext(f)
        if modname == "__init__" or ext != ".py":
            continue
        mods = __import__("insertethers.%s" % modname)
        m = getattr(mods, modname)
        plugin_class = getattr(m, "Plugin")
        if not issubclass(plugin_class, rocks.sql.InsertEthersPlugin):
            raise Exception("Invalid class")
        plugins.append(plugin_class(app))
    return plugins


class PluginTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()
        with open(self.box.path("ledger.json"), "w") as handle:
            json.dump(LEDGER, handle)
        self.logged = []
        self.saved_syslog = syslog.syslog
        syslog.syslog = self.fake_syslog
        self.app = FakeApp(self.box.db_path)
        plugins = load_plugins(self.app, self.box.path("plugins"))
        self.assertEqual(len(plugins), 1)
        self.plugin = plugins[0]

    def tearDown(self):
        syslog.syslog = self.saved_syslog
        self.app.close()
        self.box.close()

    def fake_syslog(self, *args):
        self.logged.append(args[-1])

    def add_node(self, name, mac):
        self.box.sql("insert into nodes (name, rack, rank) values (?, 0, 1)", (name,))
        nid = self.box.sql("select id from nodes where name = ?", (name,))[0][0]
        self.box.sql("insert into networks (node, mac, ip, name, device, subnet) values "
                     "(?, ?, '10.1.255.253', ?, 'eth0', 1)", (nid, mac, name))

    def host_attr(self, name):
        return self.box.sql("select value from attributes where attr = 'segbridge_site' and "
                            "category = 'host'")

    def test_added_marks_registered_logs_site_and_sets_attr(self):
        self.plugin.added("compute-0-0")  # Rocks 6.2 / 7.0 call
        calls = self.box.calls()
        self.assertIn("insert-ethers-shim -c %s list --json"
                      % self.box.path("etc/segbridge/insert-ethers-shim.conf"), calls)
        self.assertIn("insert-ethers-shim -c %s registered 52:54:00:aa:00:01 --host compute-0-0"
                      % self.box.path("etc/segbridge/insert-ethers-shim.conf"), calls)
        ledger = json.loads(read(self.box.path("ledger.json")))
        self.assertEqual(ledger[0]["state"], "registered")
        self.assertEqual(ledger[1]["state"], "announced")
        self.assertTrue([m for m in self.logged if "compute-0-0" in m and "site sitea" in m
                         and "sb-sitea" in m], self.logged)
        self.assertEqual(self.host_attr("compute-0-0"), [("sitea",)])

    def test_rocks_6_1_signature_with_nodeid(self):
        self.plugin.added("compute-0-0", 2)
        self.assertEqual(self.host_attr("compute-0-0"), [("sitea",)])

    def test_mac_case_and_unknown_node(self):
        self.add_node("compute-0-1", "52:54:00:BB:00:01")
        self.plugin.added("compute-0-1")
        self.assertIn("local", " ".join(self.logged))
        self.assertEqual(json.loads(read(self.box.path("ledger.json")))[1]["state"], "registered")
        self.logged = []
        self.plugin.added("no-such-node")
        self.assertTrue([m for m in self.logged if "no MAC" in m])

    def test_node_not_in_ledger_is_logged_not_fatal(self):
        self.add_node("compute-0-2", "52:54:00:cc:00:01")
        self.plugin.added("compute-0-2")
        self.assertTrue([m for m in self.logged if "not in the shim ledger" in m])
        self.assertEqual(self.host_attr("compute-0-2"), [])

    def test_shim_without_registered_command_gets_sighup(self):
        os.environ["FAKE_SHIM_MODE"] = "unsupported"
        self.plugin.added("compute-0-0")
        self.assertIn("systemctl reload insert-ethers-shim.service", self.box.calls())
        self.assertTrue([m for m in self.logged if "SIGHUP" in m and "exit 2" in m],
                        self.logged)
        self.assertTrue([m for m in self.logged if "site sitea" in m])
        self.assertEqual(self.host_attr("compute-0-0"), [("sitea",)])

    def test_shim_neither_marks_nor_reloads(self):
        os.environ["FAKE_SHIM_MODE"] = "unsupported"
        os.environ["FAKE_FAIL_CALL"] = "systemctl reload"
        self.plugin.added("compute-0-0")
        self.assertTrue([m for m in self.logged if "nor signal" in m], self.logged)
        self.assertEqual(self.host_attr("compute-0-0"), [("sitea",)])

    def test_registered_mark_needs_no_sighup(self):
        self.plugin.added("compute-0-0")
        self.assertNotIn("systemctl reload insert-ethers-shim.service", self.box.calls())

    def test_garbage_ledger_output_degrades(self):
        os.environ["FAKE_SHIM_MODE"] = "garbage"
        self.plugin.added("compute-0-0")
        self.assertTrue([m for m in self.logged if "invalid JSON" in m], self.logged)

    def test_hanging_shim_cannot_hang_insert_ethers(self):
        os.environ["FAKE_SHIM_MODE"] = "hang"
        start = time.time()
        self.plugin.added("compute-0-0")
        self.assertLess(time.time() - start, 8)  # one 5 s limit, not one per call
        self.assertTrue([m for m in self.logged if "timed out" in m], self.logged)
        self.assertEqual(len([c for c in self.box.calls() if "insert-ethers-shim" in c]), 1)

    def test_missing_shim_binary(self):
        os.environ["SEGBRIDGE_SHIM"] = self.box.path("nonexistent")
        self.plugin.added("compute-0-0")
        self.assertTrue([m for m in self.logged if "not run: " in m], self.logged)

    def test_update_warns_when_db_device_is_not_the_bridge(self):
        self.plugin.update()
        self.assertTrue([m for m in self.logged if "eth0" in m and "br0" in m], self.logged)
        self.logged = []
        self.box.sql("update networks set device = 'br0' where id = 1")
        self.plugin.update()
        self.assertEqual(self.logged, [])


class LogTest(unittest.TestCase):
    def test_non_ascii_program_output_reaches_syslog(self):
        box = sandbox.Sandbox()
        logged = []
        saved = syslog.syslog
        syslog.syslog = lambda *args: logged.append(args[-1])
        try:
            from segbridge_rocks import registration
            registration.log(syslog.LOG_INFO, u"caf\u00e9 \u2014 stderr")
        finally:
            syslog.syslog = saved
            box.close()
        self.assertEqual(len(logged), 1)
        self.assertIsInstance(logged[0], str)


class BrokenInstallTest(unittest.TestCase):
    """Without segbridge_rocks importable the plugin must still load (insert-ethers
    imports plugins outside any try block) and must log instead of raising."""

    def test_plugin_loads_and_logs_without_library(self):
        box = sandbox.Sandbox()
        try:
            os.remove(os.path.join(box.path("site-packages/segbridge_rocks"), "registration.py"))
            code = (
                "import sys, syslog\n"
                "sys.path[:0] = [%r, %r]\n"
                "logged = []\n"
                "syslog.syslog = lambda *a: logged.append(a[-1])\n"
                "import insertethers\n"
                "m = getattr(__import__('insertethers.90-segbridge'), '90-segbridge')\n"
                "class Ins: screen = None\n"
                "class App: insertor = Ins()\n"
                "p = m.Plugin(App())\n"
                "p.added('compute-0-0')\n"
                "p.update()\n"
                "assert len(logged) == 2 and 'plugin disabled' in logged[0], logged\n"
                "print('ok')\n" % (box.path("site-packages"), box.path("plugins")))
            child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
            out = child.communicate()[0].decode("utf-8", "replace")
            self.assertEqual(child.returncode, 0, out)
            self.assertIn("ok", out)
        finally:
            box.close()


if __name__ == "__main__":
    unittest.main()
