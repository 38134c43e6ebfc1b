"""The command docstrings are what `rocks <command> help` prints: Rocks parses them as
XML (DocStringHandler, '<docstring>%s</docstring>'); an unparsable one shows up as
'-- invalid doc string --'. Every parameter a command reads must be documented."""
from __future__ import absolute_import, division, print_function

import re
import unittest
import xml.dom.minidom

import sandbox

COMMANDS = ["list.segbridge.site", "list.segbridge.host", "sync.segbridge", "remove.segbridge", "report.segbridge"]


class CommandDocsTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()

    def tearDown(self):
        self.box.close()

    def test_docstrings_parse_and_document_every_parameter(self):
        import importlib
        import inspect
        for name in COMMANDS:
            module = importlib.import_module("rocks.commands." + name)
            doc = module.Command.__doc__
            dom = xml.dom.minidom.parseString("<docstring>%s</docstring>" % doc)
            documented = set(p.getAttribute("name") for p in dom.getElementsByTagName("param"))
            self.assertTrue(dom.getElementsByTagName("example"), name)
            source = inspect.getsource(module.Command.run)
            used = set(re.findall(r'\("([a-z-]+)", ', source))
            self.assertEqual(used, documented, name)
            self.assertEqual(getattr(module, "RollName", None), "segbridge", name)


if __name__ == "__main__":
    unittest.main()
