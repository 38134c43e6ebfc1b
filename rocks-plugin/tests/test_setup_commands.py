"""rocks sync segbridge / rocks remove segbridge against a fake frontend: the exact
commands printed, what they do to the (SQLite stand-in) cluster DB, the files written,
the iptables Rocks renders from our rules, idempotency, failure handling and undo."""
from __future__ import absolute_import, division, print_function

import os
import subprocess
import unittest

import sandbox
from sandbox import read


def strip_fakebin(line):
    return line.replace(os.path.join(sandbox.FAKEBIN, ""), "")


class SetupTest(unittest.TestCase):
    def setUp(self):
        self.box = sandbox.Sandbox()

    def tearDown(self):
        self.box.close()

    def sync(self, *args):
        return self.box.run_command("sync.segbridge", list(args))

    def remove(self, *args):
        return self.box.run_command("remove.segbridge", list(args))

    def private_row(self):
        return self.box.sql("select device, options from networks where node = 1 and subnet = 1")

    def attr(self, name):
        rows = self.box.sql("select value from attributes where attr = ?", (name,))
        return rows[0][0] if rows else None

    def command_error(self):
        import rocks.util
        return rocks.util.CommandError

    # --- dry run -----------------------------------------------------------------
    def test_dry_run_prints_exact_commands_and_changes_nothing(self):
        before = read(self.box.path("etc/sysconfig/network-scripts/ifcfg-eth0"))
        script = [strip_fakebin(l) for l in self.sync().splitlines()]
        for expected in [
            "rocks set host interface iface cluster 52:54:00:00:00:01 br0",
            "rocks set host interface options cluster iface=br0 options=noreport",
            "rocks set attr Kickstart_PrivateInterface br0",
            "ifdown eth0 || true",
            "ifup br0",
            "ifup eth0",
            "systemctl daemon-reload",
            "rocks add firewall host=localhost rulename=A25-SEGBRIDGE-TUNNEL rulesrc=system "
            "service=7440 protocol=udp network=public chain=INPUT action=ACCEPT "
            "'comment=segbridged tunnel datagrams from remote sites'",
            "rocks add firewall host=localhost rulename=A19-SEGBRIDGE-TUNNEL-SYSLOG "
            "rulesrc=system service=514 protocol=udp network=private chain=INPUT action=DROP "
            "'flags=-m physdev --physdev-in sb-+' 'comment=no remote syslog from tunnel sites'",
            "rocks sync config",
            "systemctl restart dhcpd",
            "rocks sync host firewall localhost",
        ]:
            self.assertIn(expected, script)
        # ordering that matters: the DB and the bridge before dhcpd is regenerated
        self.assertLess(script.index("ifup eth0"), script.index("rocks sync config"))
        self.assertLess(script.index("rocks sync config"),
                        script.index("rocks sync host firewall localhost"))
        self.assertEqual(self.box.calls(), [])
        self.assertEqual(self.private_row(), [("eth0", None)])
        self.assertEqual(read(self.box.path("etc/sysconfig/network-scripts/ifcfg-eth0")), before)
        self.assertFalse(os.path.exists(self.box.path("etc/sysconfig/network-scripts/ifcfg-br0")))

    def test_port_and_bridge_come_from_segbridged_conf(self):
        conf = self.box.path("etc/segbridge/segbridged.conf")
        text = read(conf).replace('"0.0.0.0:7440"', '"[::]:51820"').replace('"br0"', '"brsb"')
        with open(conf, "w") as handle:
            handle.write(text)
        script = strip_fakebin(self.sync())
        self.assertIn("service=51820 protocol=udp", script)
        self.assertIn("rocks set host interface iface cluster 52:54:00:00:00:01 brsb", script)
        self.assertIn("service=1 protocol=udp", strip_fakebin(self.sync("port=1")))

    def test_bad_port_is_refused(self):
        self.assertRaises(self.command_error(), self.sync, "port=70000")
        self.assertRaises(self.command_error(), self.sync, "port=ssh")

    # --- apply ---------------------------------------------------------------------
    def test_apply_configures_db_files_dhcpd_and_firewall(self):
        self.sync("dryrun=false")
        self.assertEqual(self.private_row(), [("br0", "noreport")])
        self.assertEqual(self.attr("Kickstart_PrivateInterface"), "br0")
        scripts = self.box.path("etc/sysconfig/network-scripts")
        br0 = read(os.path.join(scripts, "ifcfg-br0"))
        for line in ["DEVICE=br0", "TYPE=Bridge", "IPADDR=10.1.1.1", "NETMASK=255.255.0.0",
                     "STP=off", "DELAY=0", "ONBOOT=yes"]:
            self.assertIn(line + "\n", br0)
        eth0 = read(os.path.join(scripts, "ifcfg-eth0"))
        self.assertIn("BRIDGE=br0\n", eth0)
        self.assertIn("HWADDR=52:54:00:00:00:01\n", eth0)
        self.assertNotIn("IPADDR", eth0)
        self.assertEqual(read(self.box.path("etc/segbridge/backup/ifcfg-eth0")),
                         sandbox.ORIGINAL_IFCFG_ETH0)
        # dhcpd: Rocks wrote DHCPDARGS from the DB, our drop-in makes EL7 use it
        self.assertEqual(read(self.box.path("etc/sysconfig/dhcpd")), 'DHCPDARGS="br0"\n')
        dropin = read(self.box.path("etc/systemd/system/dhcpd.service.d/segbridge.conf"))
        self.assertIn("EnvironmentFile=-/etc/sysconfig/dhcpd\n", dropin)
        self.assertIn("ExecStart=\n", dropin)
        self.assertTrue(dropin.rstrip().endswith("--no-pid $DHCPDARGS"))
        self.assertIn("br_netfilter", read(self.box.path("etc/modules-load.d/segbridge.conf")))
        self.assertIn("net.bridge.bridge-nf-call-iptables = 1",
                      read(self.box.path("etc/sysctl.d/90-segbridge.conf")))
        # the shim now announces `via br0`; the rest of its config is untouched
        shim = read(self.box.path("etc/segbridge/insert-ethers-shim.conf"))
        self.assertEqual(shim, sandbox.SHIM_CONF.replace(
            'private_interface = "eth0"   # the', 'private_interface = "br0"  # the'))
        # iptables as Rocks renders it from the DB
        rules = read(self.box.path("etc/sysconfig/iptables")).splitlines()
        syslog_drop = "-A INPUT -i br0 -p udp --dport 514 -j DROP -m physdev --physdev-in sb-+"
        self.assertIn(syslog_drop, rules)
        self.assertIn("-A INPUT -i br0 -j ACCEPT", rules)
        self.assertLess(rules.index(syslog_drop), rules.index("-A INPUT -i br0 -j ACCEPT"))
        self.assertIn("-A INPUT -i eth1 -p udp --dport 7440 -j ACCEPT", rules)
        self.assertIn("-A FORWARD -i br0 -j ACCEPT", rules)
        self.assertIn("-A FORWARD -j ACCEPT -m physdev --physdev-is-bridged", rules)
        calls = self.box.calls()
        order = ["modprobe br_netfilter", "systemctl daemon-reload",
                 "rocks set host interface iface cluster 52:54:00:00:00:01 br0",
                 "ifdown eth0", "ifup br0", "ifup eth0",
                 "rocks sync config", "systemctl restart dhcpd", "rocks sync host firewall localhost"]
        positions = [calls.index(c) for c in order]
        self.assertEqual(positions, sorted(positions))

    def test_second_run_changes_nothing_and_keeps_the_original_backup(self):
        self.sync("dryrun=false")
        self.box.clear_calls()
        self.sync("dryrun=false")
        calls = self.box.calls()
        self.assertEqual(calls, ["rocks sync config", "systemctl restart dhcpd",
                                 "rocks sync host firewall localhost"])
        self.assertEqual(read(self.box.path("etc/segbridge/backup/ifcfg-eth0")),
                         sandbox.ORIGINAL_IFCFG_ETH0)
        self.assertEqual(len(self.box.sql("select * from firewalls where rulename like "
                                          "'%SEGBRIDGE%'")), 3)

    def test_changed_port_replaces_the_rule(self):
        self.sync("dryrun=false")
        self.box.clear_calls()
        self.sync("dryrun=false", "port=7441")
        self.assertEqual(self.box.sql("select service from firewalls where rulename = "
                                      "'A25-SEGBRIDGE-TUNNEL'"), [("7441",)])
        self.assertIn("-A INPUT -i eth1 -p udp --dport 7441 -j ACCEPT",
                      read(self.box.path("etc/sysconfig/iptables")))

    def test_syslog_guard_off_removes_rule_and_netfilter_files(self):
        self.sync("dryrun=false")
        self.sync("dryrun=false", "syslogguard=false")
        self.assertEqual(self.box.sql("select count(*) from firewalls where rulename = "
                                      "'A19-SEGBRIDGE-TUNNEL-SYSLOG'"), [(0,)])
        self.assertFalse(os.path.exists(self.box.path("etc/modules-load.d/segbridge.conf")))
        self.assertNotIn("514", read(self.box.path("etc/sysconfig/iptables")))

    def test_existing_options_are_kept_after_noreport(self):
        self.box.sql("update networks set options = 'speed=1000' where id = 1")
        self.sync("dryrun=false")
        self.assertEqual(self.private_row(), [("br0", "noreport speed=1000")])
        self.remove("dryrun=false")
        self.assertEqual(self.private_row(), [("eth0", "speed=1000")])

    def test_shim_reading_the_device_from_rocks_is_restarted_not_edited(self):
        conf = self.box.path("etc/segbridge/insert-ethers-shim.conf")
        text = sandbox.SHIM_CONF.replace('private_interface = "eth0"   # the DB\'s private device',
                                         "private_interface_from_rocks = true")
        with open(conf, "w") as handle:
            handle.write(text)
        self.sync("dryrun=false")
        self.assertEqual(read(conf), text)
        calls = self.box.calls()
        self.assertIn("systemctl try-restart insert-ethers-shim.service", calls)
        self.assertLess(calls.index("rocks set host interface iface cluster 52:54:00:00:00:01 br0"),
                        calls.index("systemctl try-restart insert-ethers-shim.service"))
        report = self.box.run_command("report.segbridge", [])
        self.assertIn("read from the Rocks DB", report)

    # --- refusals and failures -------------------------------------------------------
    def test_refuses_more_than_one_private_row(self):
        self.box.sql("insert into networks values (9, 1, '52:54:00:00:00:09', '10.1.1.2', "
                     "'cluster', 'eth2', 1, NULL, NULL, NULL, NULL)")
        try:
            self.sync()
            self.fail("expected an abort")
        except self.command_error() as err:
            self.assertIn("exactly one", str(err))
            self.assertIn("2 interfaces", str(err))

    def test_refuses_a_nic_this_host_does_not_have(self):
        try:
            self.sync("nic=eth7")
            self.fail("expected an abort")
        except self.command_error() as err:
            self.assertIn("no network interface eth7", str(err))
        self.assertEqual(self.box.calls(), [])

    def test_notes_a_mac_that_differs_from_the_db(self):
        with open(self.box.path("sys/class/net/eth0/address"), "w") as handle:
            handle.write("52:54:00:99:99:99\n")
        self.assertIn("# NOTE: eth0 has MAC 52:54:00:99:99:99 but the DB row says "
                      "52:54:00:00:00:01", self.sync())

    def test_refuses_while_insert_ethers_runs(self):
        lock = self.box.path("var/lock/insert-ethers")
        os.makedirs(os.path.dirname(lock))
        open(lock, "w").close()
        try:
            self.sync()
            self.fail("expected an abort")
        except self.command_error() as err:
            self.assertIn("insert-ethers is running", str(err))

    def test_failed_step_stops_the_plan_and_names_it(self):
        os.environ["FAKE_FAIL_CALL"] = "ifup br0"
        try:
            self.sync("dryrun=false")
            self.fail("expected an abort")
        except self.command_error() as err:
            self.assertIn("ifup br0", str(err))
            self.assertIn("failed", str(err))
        calls = self.box.calls()
        self.assertIn("ifup br0", calls)
        self.assertNotIn("ifup eth0", calls)
        self.assertNotIn("rocks sync config", calls)
        # fixed cause, second run completes from where the state is
        del os.environ["FAKE_FAIL_CALL"]
        self.sync("dryrun=false")
        self.assertEqual(self.private_row(), [("br0", "noreport")])
        self.assertEqual(read(self.box.path("etc/segbridge/backup/ifcfg-eth0")),
                         sandbox.ORIGINAL_IFCFG_ETH0)

    def test_kernel_without_bridge_netfilter_fails_before_db_and_network(self):
        os.environ["FAKE_FAIL_CALL"] = "sysctl -p"
        self.assertRaises(self.command_error(), self.sync, "dryrun=false")
        self.assertEqual(self.private_row(), [("eth0", None)])
        calls = self.box.calls()
        self.assertFalse([c for c in calls if c.startswith("rocks") or c.startswith("if")], calls)
        # the way out the error suggests
        del os.environ["FAKE_FAIL_CALL"]
        self.sync("dryrun=false", "syslogguard=false")
        self.assertEqual(self.private_row(), [("br0", "noreport")])

    # --- undo ---------------------------------------------------------------------
    def test_remove_restores_everything(self):
        self.sync("dryrun=false")
        self.box.clear_calls()
        self.remove("dryrun=false")
        self.assertEqual(self.private_row(), [("eth0", None)])
        self.assertEqual(self.attr("Kickstart_PrivateInterface"), "eth0")
        scripts = self.box.path("etc/sysconfig/network-scripts")
        self.assertEqual(read(os.path.join(scripts, "ifcfg-eth0")), sandbox.ORIGINAL_IFCFG_ETH0)
        self.assertFalse(os.path.exists(os.path.join(scripts, "ifcfg-br0")))
        for gone in ["etc/systemd/system/dhcpd.service.d/segbridge.conf",
                     "etc/modules-load.d/segbridge.conf", "etc/sysctl.d/90-segbridge.conf"]:
            self.assertFalse(os.path.exists(self.box.path(gone)), gone)
        self.assertEqual(self.box.sql("select count(*) from firewalls where rulename like "
                                      "'%SEGBRIDGE%'"), [(0,)])
        self.assertEqual(read(self.box.path("etc/sysconfig/dhcpd")), 'DHCPDARGS="eth0"\n')
        self.assertEqual(read(self.box.path("etc/segbridge/insert-ethers-shim.conf")),
                         sandbox.SHIM_CONF.replace('"eth0"   #', '"eth0"  #'))
        calls = self.box.calls()
        self.assertEqual(calls[0], "systemctl stop insert-ethers-shim.service segbridged.service")
        self.assertLess(calls.index("ifdown br0"), calls.index("ifup eth0"))
        self.assertIn("-A INPUT -i eth0 -j ACCEPT", read(self.box.path("etc/sysconfig/iptables")))

    def test_remove_without_setup_refuses(self):
        try:
            self.remove()
            self.fail("expected an abort")
        except self.command_error() as err:
            self.assertIn("nothing to undo", str(err))


class DryRunScriptTest(unittest.TestCase):
    """The printed script, run by sh, leaves the same state as dryrun=false."""

    def snapshot(self, box):
        state = {}
        for base, _dirs, files in os.walk(box.path("etc")):
            for name in files:
                full = os.path.join(base, name)
                state[os.path.relpath(full, box.root)] = read(full).replace(box.root, "ROOT")
        for table in ("networks", "attributes"):
            state[table] = sorted(box.sql("select * from %s" % table))
        state["firewalls"] = sorted(box.sql("select rulename, insubnet, service, protocol, "
                                            "action, chain, flags, comment from firewalls"))
        state["calls"] = [c.replace(box.root, "ROOT") for c in box.calls()]
        return state

    def test_script_equals_apply(self):
        box = sandbox.Sandbox()
        try:
            script = box.run_command("sync.segbridge", [])
            child = subprocess.Popen(["sh", "-e"], stdin=subprocess.PIPE)
            child.communicate(script.encode("utf-8"))
            self.assertEqual(child.returncode, 0)
            by_script = self.snapshot(box)
        finally:
            box.close()
        box = sandbox.Sandbox()
        try:
            box.run_command("sync.segbridge", ["dryrun=false"])
            by_apply = self.snapshot(box)
        finally:
            box.close()
        self.assertEqual(sorted(by_script.keys()), sorted(by_apply.keys()))
        for key in by_apply:
            self.assertEqual(by_script[key], by_apply[key], key)


if __name__ == "__main__":
    unittest.main()
