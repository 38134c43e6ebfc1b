"""tomlish (the TOML subset reader for Python 2.7) and the config helpers, against the
example configs the RPM installs."""
from __future__ import absolute_import, division, print_function

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from segbridge_rocks import config, tomlish  # noqa: E402

RPM_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "rpm")


class TomlishTest(unittest.TestCase):
    def test_reads_the_shipped_examples(self):
        daemon = config.read_daemon(os.path.join(RPM_DIR, "segbridged.conf.example"))
        self.assertTrue(daemon.exists)
        self.assertEqual((daemon.bridge, daemon.port, daemon.role), ("br0", 7440, "hub"))
        self.assertEqual(daemon.bridge_ports, [])
        shim = config.read_shim(os.path.join(RPM_DIR, "insert-ethers-shim.conf.example"))
        self.assertEqual(shim.private_interface, "eth0")
        self.assertEqual(shim.interfaces, ["br0"])
        self.assertEqual(shim.tunnel_port_prefix, "sb-")

    def test_values(self):
        doc = tomlish.loads(
            'a = "x # not a comment"  # comment\n'
            "b = 'lit\\eral'\n"
            "c = -12\n"
            "d = [ \"p\", # first\n  'q',\n]\n"
            "e = false\n"
            'f = "tab\\there \\"q\\""\n'
            "[t]\n"
            "x = 1_000\n"
            "[[p]]\n"
            "n = 1\n"
            "[[p]]\n"
            "n = 2\n")
        self.assertEqual(doc["a"], "x # not a comment")
        self.assertEqual(doc["b"], "lit\\eral")
        self.assertEqual(doc["c"], -12)
        self.assertEqual(doc["d"], ["p", "q"])
        self.assertEqual(doc["e"], False)
        self.assertEqual(doc["f"], 'tab\there "q"')
        self.assertEqual(doc["t"], {"x": 1000})
        self.assertEqual(doc["p"], [{"n": 1}, {"n": 2}])

    def test_errors_name_file_and_line(self):
        cases = [
            ('a = "open\n', "f.conf:1"),
            ("\n\nnot a key\n", "f.conf:3"),
            ("a = 1\na = 2\n", "f.conf:2: duplicate key a"),
            ("[x]\n[x]\n", "f.conf:2: table [x] defined twice"),
            ("a = [1, 2\n", "f.conf:1: unterminated array"),
            ("a = 1 2\n", "f.conf:1: unexpected text"),
            ('a = "\\q"\n', "f.conf:1: unsupported escape"),
            ("a = 1979-05-27T07:32:00Z\n", "f.conf:1: unsupported value"),
            ("x = 1\n[[x]]\n", "f.conf:2: x is not an array of tables"),
        ]
        for text, message in cases:
            try:
                tomlish.loads(text, "f.conf")
                self.fail("accepted %r" % text)
            except ValueError as err:
                self.assertIn(message, str(err))

    def test_parse_port(self):
        self.assertEqual(config.parse_port("0.0.0.0:7440"), 7440)
        self.assertEqual(config.parse_port("[::]:51820"), 51820)
        self.assertEqual(config.parse_port(":9"), 9)
        for bad in ["7440", "host:0", "host:65536", "[::]7440", "a:b:1", None]:
            self.assertRaises(ValueError, config.parse_port, bad)

    def test_missing_files_give_defaults(self):
        daemon = config.read_daemon("/nonexistent/segbridged.conf")
        self.assertFalse(daemon.exists)
        self.assertEqual((daemon.bridge, daemon.port), ("br0", 7440))


class PrivateInterfaceRewriteTest(unittest.TestCase):
    def test_replaces_only_the_top_level_key(self):
        text = ('# c\nprivate_interface = "eth0"  # keep me\n'
                '[x]\nprivate_interface = "zzz"\n')
        out = config.with_private_interface(text, "br0")
        self.assertEqual(out, '# c\nprivate_interface = "br0"  # keep me\n'
                              '[x]\nprivate_interface = "zzz"\n')

    def test_adds_missing_key_before_first_table(self):
        out = config.with_private_interface('a = 1\n[t]\nb = 2\n', "br0")
        self.assertEqual(out, 'a = 1\nprivate_interface = "br0"\n\n[t]\nb = 2\n')
        self.assertEqual(tomlish.loads(out)["private_interface"], "br0")
        out = config.with_private_interface('a = 1', "br0")
        self.assertEqual(out, 'a = 1\nprivate_interface = "br0"\n')

    def test_shipped_example_roundtrip(self):
        with open(os.path.join(RPM_DIR, "insert-ethers-shim.conf.example")) as handle:
            text = handle.read()
        out = config.with_private_interface(text, "br0")
        self.assertEqual(tomlish.loads(out)["private_interface"], "br0")
        self.assertEqual(len(out.splitlines()), len(text.splitlines()))


if __name__ == "__main__":
    unittest.main()
