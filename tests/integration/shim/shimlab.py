"""shimlab: a frontend namespace for insert-ethers-shim scenarios and the
latency benchmark.

  siteA ns                     hub ns ("frontend")                 local ns
  eth0 (dhclient) ── sb-siteA ┐                                    eth0 (udhcpc)
                              ├ br0 10.1.1.1/16 ── lan0 ───────────┘
                       eth0 ──┘ (enslaved or not: the topology under test)
                        │
  rack ns  eth0 ────────┘  (the private NIC's wire)

Real servers, confined to the hub namespace and the lab's temp dir: rsyslogd
(own imuxsock socket, traditional-format "messages"), ISC dhcpd on br0 with a
Rocks-style config (one subnet, no range), and the shim.
"""

import json
import os
import re
import subprocess
import time

import netlab
from netlab import wait_until

PXE_VENDOR = "PXEClient:Arch:00000:UNDI:002001"

RSYSLOG_CONF = """global(workDirectory="{dir}/rsyslog")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}" CreatePath="on" RateLimit.Interval="0")
*.* action(type="omfile" file="{dir}/messages" template="RSYSLOG_TraditionalFileFormat")
"""

DHCPD_CONF = """# Rocks-style: one private subnet, no range (unknown MACs get no lease).
ddns-update-style none;
authoritative;
subnet 10.1.0.0 netmask 255.255.0.0 {
  option routers 10.1.1.1;
}
"""

SHIM_CONF = """interfaces = {interfaces}
private_interface = "eth0"
ledger = "{dir}/ledger.db"
{feeder}
lock_file = "{dir}/insert-ethers.lock"
registered_check = "cat {dir}/registered.txt"
registered_check_interval = 1
announce_backoff_initial = 1
announce_backoff_max = 4
topology_check_interval_ms = 200
counters_interval = 1
log_level = "debug"
{extra}
"""

DHCLIENT_CONF = """send vendor-class-identifier "%s";
initial-interval 1;
backoff-cutoff 2;
timeout 600;
""" % PXE_VENDOR


def insert_ethers_accepts(line, private_if):
    """insert-ethers' listenDhcp() token rules (ROCKS.md §1.1), exactly.
    Returns the MAC if the line would make insert-ethers discover a node."""
    tokens = line.split()
    if not (len(tokens) > 5 and tokens[4] == "dhcpd:" and tokens[5] in ("DHCPDISCOVER", "BOOTREQUEST")):
        return None
    if len(tokens) < 10:
        return None
    if tokens[9].replace(":", "").strip() != private_if:
        return None
    return tokens[7]


class ShimLab:
    def __init__(self, lab, private_in_bridge=False, extra_conf="", tunnel_port=True, interfaces=("br0",),
                 feeder_conf=None):
        self.lab = lab
        self.dir = lab.dir
        self.sock = lab.path("log.sock")
        self.messages = lab.path("messages")
        self.lock = lab.path("insert-ethers.lock")
        self.registered = lab.path("registered.txt")
        self.hub = lab.netns("hub")
        self.site = lab.netns("siteA")
        self.local = lab.netns("local")
        self.rack = lab.netns("rack")
        h = self.hub
        h.run("ip link add br0 type bridge stp_state 0 forward_delay 0")
        h.run("ip link set br0 up")
        if tunnel_port:
            lab.veth(h, "sb-siteA", self.site, "eth0")
            h.run("ip link set sb-siteA master br0")
        lab.veth(h, "lan0", self.local, "eth0")
        h.run("ip link set lan0 master br0")
        lab.veth(h, "eth0", self.rack, "eth0")
        if private_in_bridge:
            h.run("ip link set eth0 master br0")
        h.run("ip addr add 10.1.1.1/16 dev br0")
        with open(self.registered, "w"):
            pass
        self.conf = lab.path("shim.conf")
        with open(self.conf, "w") as f:
            if feeder_conf is None:
                feeder_conf = 'feeder = "syslog"\nsyslog_socket = "%s"' % self.sock
            f.write(SHIM_CONF.format(dir=self.dir, feeder=feeder_conf, extra=extra_conf,
                                     interfaces="[%s]" % ", ".join('"%s"' % i for i in interfaces)))
        self.shim_bin = netlab.binary("insert-ethers-shim/insert-ethers-shim")
        self.lab_source = netlab.source_dir()
        self.shim = None

    # --- servers ---------------------------------------------------------
    def start_rsyslog(self):
        os.makedirs(self.lab.path("rsyslog"), exist_ok=True)
        conf = self.lab.path("rsyslog.conf")
        with open(conf, "w") as f:
            f.write(RSYSLOG_CONF.format(dir=self.dir, sock=self.sock))
        self.rsyslog = self.hub.spawn(["rsyslogd", "-n", "-f", conf, "-i", self.lab.path("rsyslog.pid")],
                                      name="rsyslogd")
        wait_until(lambda: os.path.exists(self.sock), 10, what="rsyslog socket")

    def start_dhcpd(self):
        conf = self.lab.path("dhcpd.conf")
        with open(conf, "w") as f:
            f.write(DHCPD_CONF)
        leases = self.lab.path("dhcpd.leases")
        open(leases, "w").close()
        self.dhcpd = self.hub.spawn(["dhcpd", "-4", "-f", "-d", "-cf", conf, "-lf", leases, "-pf",
                                     self.lab.path("dhcpd.pid"), "br0"], name="dhcpd")

    def start_shim(self):
        self.shim = self.hub.spawn([self.shim_bin, "-c", self.conf], name="shim")
        wait_until(lambda: "capturing DHCP requests on br0" in self.shim.log(), 10, what="shim capturing")

    # --- clients ---------------------------------------------------------
    def start_dhclient(self, ns, name):
        conf = self.lab.path("dhclient-%s.conf" % name)
        with open(conf, "w") as f:
            f.write(DHCLIENT_CONF)
        return ns.spawn(["dhclient", "-4", "-d", "-cf", conf, "-sf", "/bin/true", "-lf",
                         self.lab.path("dhclient-%s.leases" % name), "-pf", self.lab.path("dhclient-%s.pid" % name),
                         "eth0"], name="dhclient-" + name)

    def start_udhcpc(self, ns, name, vendor=PXE_VENDOR):
        return ns.spawn(["udhcpc", "-f", "-i", "eth0", "-t", "100000", "-T", "1", "-A", "1", "-s", "/bin/true",
                         "-V", vendor], name="udhcpc-" + name)

    # --- observations ----------------------------------------------------
    def shim_cli(self, *args):
        return self.hub.run([self.shim_bin, "-c", self.conf] + list(args), check=False)

    def ledger(self):
        r = self.shim_cli("list", "--json")
        if r.returncode != 0:
            raise AssertionError("list failed: %s" % r.stderr)
        return {e["mac"]: e for e in json.loads(r.stdout)}

    def entry(self, mac):
        return self.ledger().get(mac)

    def message_lines(self):
        try:
            with open(self.messages) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def accepted_macs(self, private_if="eth0"):
        """MACs in messages that insert-ethers would act on."""
        out = []
        for line in self.message_lines():
            mac = insert_ethers_accepts(line, private_if)
            if mac:
                out.append(mac)
        return out

    def dhcpd_saw_via_br0(self, mac):
        return re.search(r"DHCPDISCOVER from %s via br0" % re.escape(mac), self.dhcpd.log()) is not None
