"""Unit checks for the e2e rig's stand-ins (no root, no namespaces): the
insert-ethers stand-in must apply Rocks' exact token rules, register a MAC
once, hand out addresses like `rocks report nextip`, and render dhcpd.conf the
way `rocks report host dhcpd` does (no range) — or the e2e test proves nothing."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster_db import ClusterDB, render_dhcpd_conf  # noqa: E402
import insert_ethers_standin as ie  # noqa: E402

MAC = "52:54:00:5b:01:01"


class StandinTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="segbridge-e2e-selftest-")
        self.db_path = os.path.join(self.dir, "cluster.db")
        db = ClusterDB(self.db_path)
        db.add_frontend("frontend", "eth0", "52:54:00:fe:00:01", "10.1.1.1")
        db.close()
        self.args = argparse.Namespace(
            db=self.db_path, syslog_socket=None, frontend_name="frontend", frontend_ip="10.1.1.1",
            network="10.1.0.0/16", rack=0, membership="Compute", basename="compute", filename="boot.ipxe",
            dhcpd_conf=os.path.join(self.dir, "dhcpd.conf"), dhcpd_restart=None)
        self.ie = ie.InsertEthers(self.args)

    def tearDown(self):
        self.ie.db.close()
        shutil.rmtree(self.dir)

    def names(self):
        return [r[0] for r in self.ie.db.interfaces() if r[0] != "frontend"]

    def test_accepts_the_shim_line_for_the_db_private_device(self):
        self.ie.listen_dhcp("Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via eth0" % MAC)
        self.assertEqual(self.names(), ["compute-0-0"])
        self.assertTrue(self.ie.db.mac_known(MAC))

    def test_trailing_colon_on_the_interface_is_stripped(self):
        self.ie.listen_dhcp("Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via eth0: network 10.1.0.0/16: "
                            "no free leases" % MAC)
        self.assertEqual(self.names(), ["compute-0-0"])

    def test_ignores_what_insert_ethers_ignores(self):
        for line in [
            "Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via br0: network 10.1.0.0/16: no free leases" % MAC,
            "Nov 24 18:00:00 fe dhcpd[123]: DHCPDISCOVER from %s via eth0" % MAC,  # tokens[4] != 'dhcpd:'
            "Nov 24 18:00:00 fe dhcpd: DHCPREQUEST from %s via eth0" % MAC,
            "Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via 10.1.1.1" % MAC,  # relayed
            "Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s (node) via eth0" % MAC,  # hostname shifts tokens
            "Nov 24 18:00:00 fe in.tftpd[9]: DHCPDISCOVER from %s via eth0" % MAC,
            "Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER",
            "",
        ]:
            self.ie.listen_dhcp(line)
        self.assertEqual(self.names(), [])

    def test_a_mac_is_registered_once_and_addresses_count_down(self):
        for _ in range(3):
            self.ie.listen_dhcp("Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via eth0" % MAC)
        self.ie.listen_dhcp("Nov 24 18:00:01 fe dhcpd: BOOTREQUEST from 52:54:00:10:00:01 via eth0")
        rows = {r[3]: (r[0], r[4]) for r in self.ie.db.interfaces() if r[0] != "frontend"}
        self.assertEqual(rows, {MAC: ("compute-0-0", "10.1.255.254"),
                                "52:54:00:10:00:01": ("compute-0-1", "10.1.255.253")})

    def test_dhcpd_conf_has_host_blocks_and_no_range(self):
        self.ie.listen_dhcp("Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via eth0" % MAC)
        with open(self.args.dhcpd_conf) as f:
            conf = f.read()
        self.assertNotIn("range", conf)
        self.assertIn("hardware ethernet %s;" % MAC, conf)
        self.assertIn("fixed-address 10.1.255.254;", conf)
        self.assertIn('filename "boot.ipxe";', conf)
        self.assertIn("next-server 10.1.1.1;", conf)
        # The frontend's own row is not kickstartable: no filename for it.
        fe_block = conf.split("host frontend-eth0 {")[1].split("}")[0]
        self.assertNotIn("filename", fe_block)
        if shutil.which("dhcpd") or os.path.exists("/usr/sbin/dhcpd"):
            r = subprocess.run(["/usr/sbin/dhcpd", "-t", "-4", "-q", "-cf", self.args.dhcpd_conf],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_render_is_deterministic(self):
        self.assertEqual(render_dhcpd_conf(self.ie.db, "10.1.0.0/16", "10.1.1.1"),
                         render_dhcpd_conf(self.ie.db, "10.1.0.0/16", "10.1.1.1"))

    def test_kickstart_log_fields(self):
        self.ie.listen_dhcp("Nov 24 18:00:00 fe dhcpd: DHCPDISCOVER from %s via eth0" % MAC)
        self.ie.listen_ks('10.1.255.254 - - [24/Nov/2026:18:00:05 +0000] "GET /install/sbin/kickstart.cgi?arch='
                          'x86_64&np=1 HTTP/1.1" 200 257 "-" "iPXE/1.0.0"')
        self.assertEqual(self.ie.kickstarted, {"compute-0-0": 200})

    def test_refuses_to_start_when_the_lock_exists(self):
        lock = os.path.join(self.dir, "insert-ethers")
        open(lock, "w").close()
        r = subprocess.run([sys.executable, os.path.join(HERE, "insert_ethers_standin.py"), "--messages",
                            os.path.join(self.dir, "messages"), "--db", self.db_path, "--lock-file", lock,
                            "--dhcpd-conf", self.args.dhcpd_conf, "--frontend-name", "frontend",
                            "--frontend-ip", "10.1.1.1", "--network", "10.1.0.0/16"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("lock file", r.stderr)


if __name__ == "__main__":
    unittest.main()
