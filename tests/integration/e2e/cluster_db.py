"""cluster_db: the slice of a Rocks frontend's cluster database the e2e rig needs.

Rocks keeps nodes and their interfaces in MySQL (`nodes`, `networks`, `subnets`;
../shared/ROCKS.md §7) and regenerates /etc/dhcp/dhcpd.conf from it with
`rocks report host dhcpd` (§2). This module is that, in SQLite (stdlib), for
the insert-ethers stand-in, the `rocks list host interface` stand-in and the
kickstart server of the e2e rig. Shared so all three agree on one schema.
"""

import ipaddress
import os
import sqlite3
import tempfile

SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  membership TEXT NOT NULL,
  rack INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  kickstartable INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS networks (
  id INTEGER PRIMARY KEY,
  node INTEGER NOT NULL REFERENCES nodes(id),
  mac TEXT UNIQUE,
  ip TEXT UNIQUE,
  name TEXT,
  device TEXT NOT NULL,
  subnet TEXT NOT NULL,
  added_at REAL
);
"""


class ClusterDB:
    """Nodes + private-network interfaces. One writer (insert-ethers), many readers."""

    def __init__(self, path):
        self.path = path
        self.conn = sqlite3.connect(path, timeout=10)
        self.conn.executescript(SCHEMA)
        self.conn.commit()

    def close(self):
        self.conn.close()

    def add_frontend(self, name, device, mac, ip):
        """The frontend's own private row (Rocks has one; it is not kickstartable)."""
        cur = self.conn.cursor()
        cur.execute("INSERT INTO nodes(name, membership, rack, rank, kickstartable) VALUES (?,?,?,?,0)",
                    (name, "Frontend", 0, 0))
        cur.execute("INSERT INTO networks(node, mac, ip, name, device, subnet) VALUES (?,?,?,?,?,?)",
                    (cur.lastrowid, mac.lower(), ip, name, device, "private"))
        self.conn.commit()

    def mac_known(self, mac):
        """insert-ethers' `select mac from networks where mac="%s"`."""
        row = self.conn.execute("SELECT 1 FROM networks WHERE mac = ?", (mac.lower(),)).fetchone()
        return row is not None

    def next_rank(self, membership, rack):
        row = self.conn.execute("SELECT MAX(rank) FROM nodes WHERE membership = ? AND rack = ?",
                                (membership, rack)).fetchone()
        return 0 if row[0] is None else row[0] + 1

    def next_ip(self, network):
        """`rocks report nextip private`: counts down from the top of the subnet,
        skipping addresses already in use (Rocks 6.2+ default increment -1)."""
        used = {r[0] for r in self.conn.execute("SELECT ip FROM networks WHERE ip IS NOT NULL")}
        net = ipaddress.ip_network(network)
        candidate = net.broadcast_address - 1
        while candidate > net.network_address:
            if str(candidate) not in used:
                return str(candidate)
            candidate -= 1
        raise RuntimeError("no free address left in %s" % network)

    def add_host(self, name, membership, rack, rank, device, ip, mac):
        """`rocks add host` + `rocks add host interface` in one transaction."""
        cur = self.conn.cursor()
        cur.execute("INSERT INTO nodes(name, membership, rack, rank) VALUES (?,?,?,?)",
                    (name, membership, rack, rank))
        cur.execute("INSERT INTO networks(node, mac, ip, name, device, subnet, added_at) "
                    "VALUES (?,?,?,?,?,?,strftime('%s','now'))",
                    (cur.lastrowid, mac.lower(), ip, name, device, "private"))
        self.conn.commit()

    def interfaces(self):
        """Rows for `rocks list host interface`: (host, subnet, iface, mac, ip, name, kickstartable)."""
        return self.conn.execute(
            "SELECT nodes.name, networks.subnet, networks.device, networks.mac, networks.ip, "
            "networks.name, nodes.kickstartable FROM networks JOIN nodes ON networks.node = nodes.id "
            "ORDER BY nodes.id").fetchall()

    def host_by_ip(self, ip):
        row = self.conn.execute("SELECT nodes.name FROM networks JOIN nodes ON networks.node = nodes.id "
                                "WHERE networks.ip = ?", (ip,)).fetchone()
        return row[0] if row else None


def render_dhcpd_conf(db, network, frontend_ip, domain="local", filename="pxelinux.0",
                      lease_time=1200):
    """dhcpd.conf the way `rocks report host dhcpd` writes it (ROCKS.md §2): one
    private subnet, no `range` (unknown MACs get "no free leases"), one host block
    per private interface with fixed-address, and filename/next-server for
    kickstartable appliances."""
    net = ipaddress.ip_network(network)
    lines = [
        "# Generated like `rocks report host dhcpd` by the segbridge e2e rig. Do not edit.",
        "option space PXE;",
        "option arch code 93 = unsigned integer 16;",
        "ddns-update-style none;",
        "",
        "subnet %s netmask %s {" % (net.network_address, net.netmask),
        "\tdefault-lease-time %d;" % lease_time,
        "\tmax-lease-time %d;" % lease_time,
        "\toption routers %s;" % frontend_ip,
        "\toption subnet-mask %s;" % net.netmask,
        "\toption domain-name \"%s\";" % domain,
        "\toption domain-name-servers %s;" % frontend_ip,
        "\toption broadcast-address %s;" % net.broadcast_address,
        "\toption interface-mtu 1500;",
        "",
        "\tgroup \"%s\" {" % domain,
    ]
    for host, _subnet, dev, mac, ip, _name, kickstartable in db.interfaces():
        if not mac or not ip:
            continue
        lines += [
            "\t\thost %s-%s {" % (host, dev),
            "\t\t\thardware ethernet %s;" % mac,
            "\t\t\toption host-name \"%s\";" % host,
            "\t\t\tfixed-address %s;" % ip,
        ]
        if kickstartable:
            lines += ["\t\t\tfilename \"%s\";" % filename, "\t\t\tnext-server %s;" % frontend_ip]
        lines.append("\t\t}")
    lines += ["\t}", "}", ""]
    return "\n".join(lines)


def write_atomically(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
