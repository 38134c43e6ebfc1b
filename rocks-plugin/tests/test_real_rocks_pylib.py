"""Opt-in: our commands on Rocks' real ``rocks.commands.Command`` (runWrapper, fillParams,
endOutput, the DocStringHandler behind ``help``) under Python 2.

Set SEGBRIDGE_ROCKS_PYLIB to a checkout of rocksclusters/core's ``src/rocks-pylib``
(the directory holding ``rocks/``) and run the suite with Python 2.7. The files are used
in place, not copied into this repository; sqlalchemy (only referenced by name in
rocks.commands) is stubbed."""
from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import sys
import tempfile
import unittest

import sandbox

PYLIB = os.environ.get("SEGBRIDGE_ROCKS_PYLIB")


@unittest.skipUnless(PYLIB and sys.version_info[0] == 2,
                     "set SEGBRIDGE_ROCKS_PYLIB and run with Python 2.7")
class RealRocksPylibTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()
        site = tempfile.mkdtemp(prefix="segbridge-real-rocks-")
        self.site = site
        rocks = os.path.join(site, "rocks")
        os.makedirs(os.path.join(rocks, "commands"))
        source = os.path.join(PYLIB, "rocks")
        for name in ("__init__.py", "graph.py", "util.py", os.path.join("commands", "__init__.py")):
            shutil.copy(os.path.join(source, name), os.path.join(rocks, name))
        with open(os.path.join(rocks, "__init__.py"), "a") as handle:
            handle.write('\nversion = "7.0"\nversion_major = "7"\n')  # what its Makefile adds
        for verb in ("list", "sync", "remove", "report"):
            os.makedirs(os.path.join(rocks, "commands", verb))
            shutil.copy(os.path.join(source, "commands", verb, "__init__.py"),
                        os.path.join(rocks, "commands", verb))
            shutil.copytree(os.path.join(sandbox.PLUGIN_ROOT, "commands", verb, "segbridge"),
                            os.path.join(rocks, "commands", verb, "segbridge"))
        stub = os.path.join(site, "sqlalchemy")
        os.makedirs(os.path.join(stub, "engine"))
        for path, text in (("__init__.py", "import engine\nimport exc\n"),
                           ("engine/__init__.py", "import result\n"),
                           ("engine/result.py", "class RowProxy(object):\n    pass\n"),
                           ("exc.py", "class OperationalError(Exception):\n    pass\n")):
            with open(os.path.join(stub, path), "w") as handle:
                handle.write(text)
        shutil.copytree(os.path.join(sandbox.LIB, "segbridge_rocks"),
                        os.path.join(site, "segbridge_rocks"))
        for name in list(sys.modules):
            if name == "rocks" or name.startswith("rocks.") or name.startswith("segbridge_rocks"):
                del sys.modules[name]
        sys.path.insert(0, site)

    def tearDown(self):
        self.box.close()
        shutil.rmtree(self.site)

    def run_command(self, name, args):
        import importlib

        class Database(sandbox.FakeDatabase):
            def getHostAttrs(self, host, showsource=0):
                return dict(self.conn.execute("select attr, value from attributes").fetchall())

            def commit(self):
                pass

        module = importlib.import_module("rocks.commands." + name)
        command = module.Command(Database(self.box.db_path))
        command.runWrapper(name.replace(".", " "), args)
        return command.getText()

    def test_commands_on_the_real_base_class(self):
        import rocks
        self.assertTrue(rocks.__file__.startswith(self.site))
        self.assertIn("rocks set host interface iface cluster", self.run_command("sync.segbridge", []))
        self.run_command("sync.segbridge", ["dryrun=false"])
        self.assertEqual(self.box.sql("select device from networks where id = 1"), [("br0",)])
        report = self.run_command("report.segbridge", [])
        self.assertIn("private interface:", report)
        with open(self.box.path("status.json"), "w") as handle:
            json.dump({"name": "fe", "role": "hub", "bridge": "br0", "peers": [
                {"name": "sitea", "tap": "sb-sitea", "state": "established"}]}, handle)
        self.assertIn("sitea:", self.run_command("list.segbridge.site", []))
        self.assertIn("compute-0-0:", self.run_command("list.segbridge.host", []))
        self.run_command("remove.segbridge", ["dryrun=false"])
        self.assertEqual(self.box.sql("select device from networks where id = 1"), [("eth0",)])


if __name__ == "__main__":
    unittest.main()
