"""rocks list segbridge site (segbridgectl status --json + shim ledger) and
rocks report segbridge (consistency checks)."""
from __future__ import absolute_import, division, print_function

import json
import os
import unittest

import sandbox

STATUS = {"name": "frontend", "role": "hub", "bridge": "br0", "peers": [
    {"name": "sitea", "tap": "sb-sitea", "state": "established", "endpoint": "192.0.2.2:40000",
     "last_handshake_age_s": 3.2, "rx_bytes": 5 * 1024 * 1024, "tx_bytes": 1000,
     "rx_frames": 10, "tx_frames": 20, "fragments": {"tx": 0, "rx": 0, "reassembled": 0},
     "drops": {"replay": 2, "auth": 1}, "macs": ["52:54:00:AA:00:01", "52:54:00:aa:00:02"]},
    {"name": "siteb", "tap": "sb-siteb", "state": "connecting", "endpoint": None,
     "last_handshake_age_s": None, "rx_bytes": 0, "tx_bytes": 0, "rx_frames": 0,
     "tx_frames": 0, "drops": {}, "macs": []},
]}
LEDGER = [
    {"mac": "52:54:00:aa:00:01", "site": "sitea", "state": "registered"},
    {"mac": "52:54:00:aa:00:02", "site": "sitea", "state": "announced"},
    {"mac": "52:54:00:bb:00:01", "site": "siteb", "state": "registered"},
    {"mac": "not-a-mac", "site": "siteb", "state": "registered"},
    "junk",
]


class ListSiteTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()

    def tearDown(self):
        self.box.close()

    def write(self, name, document):
        with open(self.box.path(name), "w") as handle:
            if isinstance(document, str):
                handle.write(document)
            else:
                json.dump(document, handle)

    def rows(self):
        text = self.box.run_command("list.segbridge.site", [])
        return [line.split() for line in text.splitlines()]

    def test_lists_every_site_with_state_traffic_and_nodes(self):
        self.write("status.json", STATUS)
        self.write("ledger.json", LEDGER)
        rows = self.rows()
        self.assertEqual(rows[0], ["SITE", "TAP", "STATE", "ENDPOINT", "HANDSHAKE", "RX", "TX",
                                   "DROPS", "MACS", "NODES"])
        self.assertEqual(rows[1], ["sitea:", "sb-sitea", "established", "192.0.2.2:40000", "3s",
                                   "5.0", "MiB", "1000", "B", "3", "2", "1"])
        self.assertEqual(rows[2][:3], ["siteb:", "sb-siteb", "connecting"])
        self.assertEqual(rows[2][4], "never")
        self.assertEqual(rows[2][-1], "1")  # the malformed ledger rows are ignored
        self.assertIn("segbridgectl status --json", " ".join(self.box.calls()))

    def test_socket_parameter_is_passed_on(self):
        self.write("status.json", STATUS)
        self.box.run_command("list.segbridge.site", ["socket=/tmp/x.sock"])
        self.assertIn("segbridgectl -s /tmp/x.sock status --json", self.box.calls())

    def test_daemon_down_is_a_clear_error(self):
        import rocks.util
        try:
            self.box.run_command("list.segbridge.site", [])
            self.fail("expected an abort")
        except rocks.util.CommandError as err:
            self.assertIn("cannot query segbridged", str(err))
            self.assertIn("cannot connect", str(err))

    def test_invalid_status_is_a_clear_error(self):
        import rocks.util
        for bad in ["{", "[]", json.dumps({"peers": {"a": 1}}), json.dumps({"peers": [{}]})]:
            self.write("status.json", bad)
            self.assertRaises(rocks.util.CommandError, self.box.run_command,
                              "list.segbridge.site", [])

    def test_ledger_unavailable_leaves_nodes_empty(self):
        self.write("status.json", STATUS)
        os.environ["FAKE_SHIM_MODE"] = "garbage"
        rows = self.rows()
        # unknown, not zero: Rocks prints an empty cell as a run of '-'
        self.assertEqual(set(rows[1][-1]), set("-"))
        self.assertEqual(rows[1][-2], "2")


class ListHostTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()
        with open(self.box.path("ledger.json"), "w") as handle:
            json.dump(LEDGER, handle)

    def tearDown(self):
        self.box.close()

    def test_joins_db_interfaces_with_the_ledger(self):
        rows = [l.split() for l in self.box.run_command("list.segbridge.host", []).splitlines()]
        self.assertEqual(rows[0], ["HOST", "IFACE", "MAC", "SITE", "STATE"])
        by_mac = dict((r[2], r) for r in rows[1:])
        self.assertEqual(by_mac["52:54:00:aa:00:01"],
                         ["compute-0-0:", "eth0", "52:54:00:aa:00:01", "sitea", "registered"])
        # the frontend's own NICs are not in the ledger: empty cells
        self.assertEqual(set(by_mac["52:54:00:00:00:01"][3]), set("-"))

    def test_site_filter(self):
        rows = self.box.run_command("list.segbridge.host", ["site=sitea"]).splitlines()
        self.assertEqual(len(rows), 2)
        self.assertEqual(self.box.run_command("list.segbridge.host", ["site=siteb"]), "")

    def test_unreadable_ledger_is_an_error(self):
        import rocks.util
        os.environ["FAKE_SHIM_MODE"] = "garbage"
        self.assertRaises(rocks.util.CommandError, self.box.run_command,
                          "list.segbridge.host", [])


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()

    def tearDown(self):
        self.box.close()

    def states(self):
        text = self.box.run_command("report.segbridge", [])
        out = {}
        for line in text.splitlines()[1:]:
            name, rest = line.split(":", 1)
            out[name.strip()] = rest.split()[0]
        return out

    def test_fresh_frontend_fails_the_right_checks(self):
        states = self.states()
        self.assertEqual(states["private interface"], "FAIL")
        self.assertEqual(states["firewall A25-SEGBRIDGE-TUNNEL"], "FAIL")
        self.assertEqual(states["dhcpd drop-in"], "warn")
        self.assertEqual(states["segbridged"], "warn")

    def test_after_setup_everything_is_ok(self):
        self.box.run_command("sync.segbridge", ["dryrun=false"])
        with open(self.box.path("status.json"), "w") as handle:
            json.dump(STATUS, handle)
        states = self.states()
        self.assertEqual(set(states.values()), set(["ok"]), states)

    def test_detects_drift(self):
        self.box.run_command("sync.segbridge", ["dryrun=false"])
        # someone cleared the options and hand-edited DHCPDARGS
        self.box.sql("update networks set options = NULL where id = 1")
        with open(self.box.path("etc/sysconfig/dhcpd"), "w") as handle:
            handle.write('DHCPDARGS="eth0"\n')
        self.box.sql("update firewalls set service = '9999' where rulename = "
                     "'A25-SEGBRIDGE-TUNNEL'")
        states = self.states()
        self.assertEqual(states["noreport"], "FAIL")
        self.assertEqual(states["DHCPDARGS"], "FAIL")
        self.assertEqual(states["firewall A25-SEGBRIDGE-TUNNEL"], "FAIL")


if __name__ == "__main__":
    unittest.main()
