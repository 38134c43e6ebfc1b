"""The benchmark rig: two hosts, each behind a gateway, the gateways joined by a WAN.

    hA eth0 ── lan0 ┐                                        ┌ lan0 ── eth0 hB
    10.1.0.1/16     br0 + <tunnel dev>   wan0 ═══ wan0   <tunnel dev> + br0     10.1.0.2/16
                gA  ┘            192.0.2.1/24   192.0.2.2/24         └  gB

Every link is a veth at MTU 1500 (hosts, LAN and WAN alike), so a tunnel has to
carry 1514-byte frames over a 1500-byte path. The tunnel under test adds its
device (veth, vxlan, tap) to each gateway's br0; everything else is identical
for every tunnel, which is what makes the columns comparable.
"""

HOST_A_IP = "10.1.0.1"
HOST_B_IP = "10.1.0.2"
GW_A_WAN = "192.0.2.1"
GW_B_WAN = "192.0.2.2"
MTU = 1500

# Offloads a real NIC does in hardware and veth does in software: the
# difference between "on" and "off" is 64 KB super-frames versus MTU-sized ones
# entering the bridge.
SEGMENTATION_OFFLOADS = ("tso", "gso", "gro")


class Rig:
    """Four namespaces wired as above, created inside a netlab Lab."""

    def __init__(self, lab, tag):
        self.lab = lab
        self.tag = tag
        self.ha = lab.netns(tag + "-hA")
        self.ga = lab.netns(tag + "-gA")
        self.gb = lab.netns(tag + "-gB")
        self.hb = lab.netns(tag + "-hB")
        for ns in self.namespaces():
            # No IPv6 chatter (DAD, router solicitations) in the measurements.
            ns.run("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
        lab.veth(self.ha, "eth0", self.ga, "lan0", mtu=MTU)
        lab.veth(self.ga, "wan0", self.gb, "wan0", mtu=MTU)
        lab.veth(self.gb, "lan0", self.hb, "eth0", mtu=MTU)
        self.ha.run(["ip", "addr", "add", HOST_A_IP + "/16", "dev", "eth0"])
        self.hb.run(["ip", "addr", "add", HOST_B_IP + "/16", "dev", "eth0"])
        self.ga.run(["ip", "addr", "add", GW_A_WAN + "/24", "dev", "wan0"])
        self.gb.run(["ip", "addr", "add", GW_B_WAN + "/24", "dev", "wan0"])
        for gw in self.gateways():
            # PXE-safe bridge: no STP, ports forward at once.
            gw.run("ip link add br0 type bridge stp_state 0 forward_delay 0 && "
                   "ip link set lan0 master br0 && ip link set br0 up")
            # If br_netfilter is loaded, bridged frames would also traverse this
            # namespace's (empty) iptables hooks; that cost is not the tunnel's.
            gw.run("if [ -d /proc/sys/net/bridge ]; then sysctl -qw net.bridge.bridge-nf-call-iptables=0 "
                   "net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0; fi")

    def namespaces(self):
        return (self.ha, self.ga, self.gb, self.hb)

    def gateways(self):
        return (self.ga, self.gb)

    def hosts(self):
        return (self.ha, self.hb)

    def add_bridge_port(self, gw, dev):
        """Enslave a tunnel device to the gateway's br0 and bring it up."""
        gw.run(["ip", "link", "set", dev, "master", "br0"])
        gw.run(["ip", "link", "set", dev, "up"])

    def set_host_offloads(self, on):
        """Turn the hosts' segmentation offloads on or off; returns what ethtool reports."""
        state = "on" if on else "off"
        args = []
        for feature in SEGMENTATION_OFFLOADS:
            args += [feature, state]
        report = {}
        for host in self.hosts():
            host.run(["ethtool", "-K", "eth0"] + args)
            report[host.name] = self._offload_state(host)
            wrong = [f for f, v in report[host.name].items() if v != state]
            if wrong:
                raise RuntimeError("%s: ethtool left %s not %s" % (host.name, ", ".join(wrong), state))
        return report

    @staticmethod
    def _offload_state(host):
        names = {"tcp-segmentation-offload": "tso", "generic-segmentation-offload": "gso",
                 "generic-receive-offload": "gro"}
        out = host.run(["ethtool", "-k", "eth0"]).stdout
        state = {}
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in names:
                state[names[key.strip()]] = value.split()[0]
        return state

    def forget_path_mtu(self):
        """Drop learned PMTU exceptions on the hosts so no test inherits another's."""
        for host in self.hosts():
            host.run("ip route flush cache", check=False)

    def wan_ip_counters(self):
        """Sum of the gateways' /proc/net/snmp Ip counters (fragments created/received)."""
        total = {}
        for gw in self.gateways():
            for key, value in read_snmp(gw, "Ip").items():
                total[key] = total.get(key, 0) + value
        return total


def read_snmp(ns, proto):
    """The counters of one protocol ('Ip', 'Udp', ...) of /proc/net/snmp inside namespace ns."""
    lines = [l.split() for l in ns.run(["cat", "/proc/net/snmp"]).stdout.splitlines() if l.startswith(proto + ":")]
    if len(lines) < 2:
        raise RuntimeError("%s: no %s rows in /proc/net/snmp" % (ns.name, proto))
    header, values = lines[0][1:], lines[1][1:]
    return {k: int(v) for k, v in zip(header, values)}
