"""Rigs for segbridged scenarios: an "internet" switch namespace, gateway
namespaces (hub / spokes) each running segbridged with its bridge br0, and a
host namespace behind each gateway's bridge. Everything lives in a netlab Lab
(unique prefix, full teardown)."""

import json
import os
import signal
import subprocess
import time

from netlab import binary, wait_until

WAN_PREFIX = "192.0.2."
PORT = 7440


class Gateway:
    def __init__(self, rig, name, role, wan_ip, host_ip):
        self.rig = rig
        self.name = name
        self.role = role
        self.wan_ip = wan_ip
        self.host_ip = host_ip
        self.ns = rig.lab.netns(name)
        self.host = rig.lab.netns("h" + name)
        self.conf = rig.lab.path("%s.conf" % name)
        # In a directory the daemon creates (and hands over if it drops root).
        self.sock = rig.lab.path("%s-run/control.sock" % name)
        self.proc = None
        self.peers = []

    # --- config -------------------------------------------------------
    def write_config(self, peers, extra_daemon="", remove_bridge=True, listen=None):
        lines = [
            "[daemon]",
            'name = "%s"' % self.name,
            'role = "%s"' % self.role,
            'bridge = "br0"',
            "create_bridge = true",
            "remove_bridge_on_exit = %s" % ("true" if remove_bridge else "false"),
            'bridge_ports = ["lan0"]',
            'control_socket = "%s"' % self.sock,
            'psk_file = "%s"' % self.rig.psk,
            'log_level = "debug"',
        ]
        if self.role == "hub":
            lines.append('listen = "%s"' % (listen or "%s:%d" % (self.wan_ip, PORT)))
        if extra_daemon:
            lines.append(extra_daemon)
        for p in peers:
            lines += ["", "[[peer]]", 'name = "%s"' % p["name"]]
            if p.get("endpoint"):
                lines.append('endpoint = "%s"' % p["endpoint"])
            if p.get("keepalive"):
                lines.append("keepalive = %d" % p["keepalive"])
            lines += p.get("extra", [])  # more keys for this peer, as TOML lines
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.peers = [p["name"] for p in peers]

    # --- process ------------------------------------------------------
    def start(self):
        self.proc = self.ns.spawn([binary("daemon/segbridged"), "-c", self.conf], name="segbridged-" + self.name)
        wait_until(lambda: os.path.exists(self.sock) and self.status(), 10,
                   what="segbridged %s control socket" % self.name)
        return self.proc

    def status(self):
        r = self.ns.run([binary("daemon/segbridgectl"), "-s", self.sock, "status", "--json"], check=False,
                        timeout=10)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def peer_status(self, name):
        st = self.status()
        for p in st["peers"]:
            if p["name"] == name:
                return p
        raise KeyError(name)

    def wait_established(self, peer, timeout=10):
        wait_until(lambda: self.peer_status(peer)["state"] == "established", timeout,
                   what="%s: peer %s established" % (self.name, peer))

    def thread_proc(self, comm, name):
        """/proc/<pid>/task/<tid>/<name> of the daemon's thread named `comm` (sb-tx, sb-rx)."""
        task = "/proc/%d/task" % self.proc.pid
        for t in os.listdir(task):
            if open(os.path.join(task, t, "comm")).read().strip() == comm:
                return open(os.path.join(task, t, name)).read()
        raise AssertionError("%s: no thread named %s" % (self.name, comm))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.popen.wait(5)

    def stop(self):
        return self.proc.stop(timeout=5)

    # --- host behind the bridge ----------------------------------------
    def host_mac(self):
        return self.host.mac("eth0")


class Rig:
    """hub + spokes on a WAN switch (MTU 1500), one host behind each gateway."""

    def __init__(self, lab, spokes=("sitea",), hub="hub", start=True, ipv6_wan=False, hub_listen=None,
                 hub_extra=""):
        self.lab = lab
        self.psk = lab.path("psk")
        key = subprocess.run([binary("daemon/segbridged"), "genkey"], capture_output=True, text=True,
                             check=True).stdout.strip()
        fd = os.open(self.psk, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (key + "\n").encode())
        os.close(fd)
        self.inet = lab.netns("inet")
        self.inet.run("ip link add wan type bridge && ip link set wan up")
        self.ipv6_wan = ipv6_wan
        self.gateways = {}
        self.hub = self._gateway(hub, "hub", 1, 1)
        self.spokes = []
        for i, s in enumerate(spokes):
            self.spokes.append(self._gateway(s, "spoke", 2 + i, 2 + i))
        self.hub_listen = hub_listen
        self.hub.write_config([{"name": s.name} for s in self.spokes], listen=hub_listen, extra_daemon=hub_extra)
        for s in self.spokes:
            s.write_config([{"name": hub, "endpoint": self.hub_endpoint(), "keepalive": 5}])
        if start:
            self.hub.start()
            for s in self.spokes:
                s.start()

    def hub_endpoint(self):
        if self.ipv6_wan:
            return "[2001:db8::1]:%d" % PORT
        return "%s1:%d" % (WAN_PREFIX, PORT)

    def _gateway(self, name, role, wan_octet, host_octet):
        gw = Gateway(self, name, role, "%s%d" % (WAN_PREFIX, wan_octet), "10.1.%d.1" % host_octet)
        if role == "hub" and self.ipv6_wan:
            gw.wan_ip = "[2001:db8::1]"
        lab = self.lab
        # WAN: gateway wan0 <-> inet switch port
        lab.veth(gw.ns, "wan0", self.inet, "w" + name[:8], mtu=1500)
        self.inet.run("ip link set w%s master wan" % name[:8])
        gw.ns.run("ip addr add %s%d/24 dev wan0" % (WAN_PREFIX, wan_octet))
        gw.ns.run("ip addr add 2001:db8::%d/64 dev wan0 nodad" % wan_octet)
        # LAN: gateway lan0 (enslaved by segbridged) <-> host eth0, MTU 1500
        lab.veth(gw.ns, "lan0", gw.host, "eth0", mtu=1500)
        gw.host.run("ip addr add %s/16 dev eth0" % gw.host_ip)
        # IPv6 link-local on the host: needs DAD to finish; make it quick.
        gw.host.run("sysctl -qw net.ipv6.conf.eth0.accept_dad=0")
        self.gateways[name] = gw
        if role == "hub":
            gw.wan_ip = gw.wan_ip if self.ipv6_wan else "%s%d" % (WAN_PREFIX, wan_octet)
        return gw

    def wait_all_established(self, timeout=10):
        for s in self.spokes:
            s.wait_established(self.hub.name, timeout)
            self.hub.wait_established(s.name, timeout)


def snmp_ip_frag(ns):
    """(FragCreates, ReasmReqds, FragFails) of a namespace's IPv4 stack."""
    text = ns.run("cat /proc/net/snmp").stdout.splitlines()
    ip = [l.split() for l in text if l.startswith("Ip:")]
    fields = dict(zip(ip[0][1:], map(int, ip[1][1:])))
    return fields["FragCreates"], fields["ReasmReqds"], fields["FragFails"]


def snmp6_frag(ns):
    text = ns.run("cat /proc/net/snmp6").stdout.splitlines()
    vals = dict(l.split() for l in text if l.strip())
    return int(vals.get("Ip6FragCreates", 0)), int(vals.get("Ip6ReasmReqds", 0))
