"""insert-ethers-shim behind a real segbridged tunnel: a remote node (ISC
dhclient sending a PXE vendor class) on a spoke site's bridge, segbridged hub
and spoke over a "WAN" veth (192.0.2.0/24), ISC dhcpd and the shim on the
hub's br0. The shim must attribute the MAC to the tunnel tap sb-sitea (site
"sitea"), and rsyslog must receive a line insert-ethers accepts.

  node ns                 site gateway ns                        hub ns
  eth0 (dhclient) ── lan1 ┤ br0 ── sb-frontend (segbridged spoke)   br0 ── sb-sitea (segbridged hub)
                          wan0 192.0.2.2 ═══════════════════ wan0 192.0.2.1
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402
from netlab import Lab, Scenario, require_root, wait_until  # noqa: E402
from shimlab import DHCLIENT_CONF, DHCPD_CONF, RSYSLOG_CONF, SHIM_CONF, insert_ethers_accepts  # noqa: E402

HUB_CONF = """[daemon]
name = "frontend"
role = "hub"
listen = "192.0.2.1:7440"
bridge = "br0"
create_bridge = false
control_socket = "{dir}/hub.sock"
psk_file = "{dir}/psk"

[[peer]]
name = "sitea"
"""

SPOKE_CONF = """[daemon]
name = "sitea"
role = "spoke"
bridge = "br0"
create_bridge = true
remove_bridge_on_exit = true
bridge_ports = ["lan1"]
control_socket = "{dir}/spoke.sock"
psk_file = "{dir}/psk"

[[peer]]
name = "frontend"
endpoint = "192.0.2.1:7440"
keepalive = 5
"""

require_root()
sc = Scenario("shim_segbridged")
segbridged = netlab.binary("daemon/segbridged")
segbridgectl = netlab.binary("daemon/segbridgectl")
shim_bin = netlab.binary("insert-ethers-shim/insert-ethers-shim")

with Lab("shsb") as lab:
    hub, gw, node = lab.netns("hub"), lab.netns("gw"), lab.netns("node")
    lab.veth(hub, "wan0", gw, "wan0")
    hub.run("ip addr add 192.0.2.1/24 dev wan0")
    gw.run("ip addr add 192.0.2.2/24 dev wan0")
    lab.veth(gw, "lan1", node, "eth0")
    hub.run("ip link add br0 type bridge stp_state 0 forward_delay 0 && ip link set br0 up")
    hub.run("ip addr add 10.1.1.1/16 dev br0")
    lab.veth(hub, "eth0", lab.netns("rack"), "eth0")  # private NIC outside br0

    key = hub.run([segbridged, "genkey"]).stdout.strip()
    psk = lab.path("psk")
    with open(psk, "w") as f:
        f.write(key + "\n")
    os.chmod(psk, 0o600)
    for name, text in (("hub.conf", HUB_CONF), ("spoke.conf", SPOKE_CONF)):
        with open(lab.path(name), "w") as f:
            f.write(text.format(dir=lab.dir))

    # Frontend services.
    sock = lab.path("log.sock")
    os.makedirs(lab.path("rsyslog"))
    with open(lab.path("rsyslog.conf"), "w") as f:
        f.write(RSYSLOG_CONF.format(dir=lab.dir, sock=sock))
    hub.spawn(["rsyslogd", "-n", "-f", lab.path("rsyslog.conf"), "-i", lab.path("rsyslog.pid")], name="rsyslogd")
    wait_until(lambda: os.path.exists(sock), 10, what="rsyslog socket")
    with open(lab.path("dhcpd.conf"), "w") as f:
        f.write(DHCPD_CONF)
    open(lab.path("dhcpd.leases"), "w").close()
    dhcpd = hub.spawn(["dhcpd", "-4", "-f", "-d", "-cf", lab.path("dhcpd.conf"), "-lf", lab.path("dhcpd.leases"),
                       "-pf", lab.path("dhcpd.pid"), "br0"], name="dhcpd")
    open(lab.path("insert-ethers.lock"), "w").close()  # insert-ethers "running"
    open(lab.path("registered.txt"), "w").close()
    with open(lab.path("shim.conf"), "w") as f:
        f.write(SHIM_CONF.format(dir=lab.dir, feeder='feeder = "syslog"\nsyslog_socket = "%s"' % sock, extra="",
                                 interfaces='["br0"]'))
    shim = hub.spawn([shim_bin, "-c", lab.path("shim.conf")], name="shim")

    hub_d = hub.spawn([segbridged, "-c", lab.path("hub.conf")], name="segbridged-hub")
    spoke_d = gw.spawn([segbridged, "-c", lab.path("spoke.conf")], name="segbridged-spoke")

    def tunnel_up():
        def established():
            r = hub.run([segbridgectl, "-s", lab.path("hub.sock"), "status", "--json"], check=False)
            if r.returncode != 0:
                return False
            peers = json.loads(r.stdout)["peers"]
            return any(p["name"] == "sitea" and p["state"] == "established" for p in peers)

        wait_until(established, 30, what="segbridged session established")
        ports = hub.run("ip -j link show master br0").stdout
        assert "sb-sitea" in ports, ports

    sc.check("segbridged hub and spoke establish a session; sb-sitea is a port of br0", tunnel_up)

    node_mac = node.mac("eth0")
    with open(lab.path("dhclient.conf"), "w") as f:
        f.write(DHCLIENT_CONF)
    node.spawn(["dhclient", "-4", "-d", "-cf", lab.path("dhclient.conf"), "-sf", "/bin/true", "-lf",
                lab.path("dhclient.leases"), "-pf", lab.path("dhclient.pid"), "eth0"], name="dhclient")

    def attributed():
        def entry():
            r = hub.run([shim_bin, "-c", lab.path("shim.conf"), "list", "--json"], check=False)
            if r.returncode != 0:
                return None
            return {e["mac"]: e for e in json.loads(r.stdout)}.get(node_mac)

        e = wait_until(entry, 30, what="remote node in the shim's ledger")
        assert e["site"] == "sitea" and e["port"] == "sb-sitea", e

    sc.check("remote node's MAC recorded with site sitea (port sb-sitea)", attributed)

    def announced():
        def accepted():
            try:
                with open(lab.path("messages")) as f:
                    return any(insert_ethers_accepts(l, "eth0") == node_mac for l in f)
            except FileNotFoundError:
                return False

        wait_until(accepted, 10, what="insert-ethers-acceptable line for the remote node")

    sc.check("rsyslog received a line insert-ethers accepts for the remote node", announced)
    sc.check("dhcpd logged the remote node via br0 (through the tunnel)",
             lambda: wait_until(lambda: ("DHCPDISCOVER from %s via br0" % node_mac) in dhcpd.log(), 15,
                                what="dhcpd line"))

sys.exit(sc.finish())
