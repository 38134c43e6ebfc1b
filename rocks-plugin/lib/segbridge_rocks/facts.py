"""What the cluster DB says about the frontend, read with the same queries Rocks'
own generators use (ROCKS.md sections 2 and 3), so our view cannot differ from what
dhcpd, the firewall and insert-ethers will be configured with.

``db`` is anything with Rocks' ``execute(sql) -> rowcount`` / ``fetchall()``:
a command's ``self.db`` or insert-ethers' ``app``.
"""
from __future__ import absolute_import, division, print_function

import os
import re

from segbridge_rocks import firewall, paths

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_name(value, what):
    """Every name we put into SQL or a shell line must be a plain identifier."""
    if value is None or not _NAME.match(value) or len(value) > 64:
        raise ValueError("invalid %s %r" % (what, value))
    return value


class Interface(object):
    def __init__(self, device, mac, ip, options, netmask, mtu):
        self.device = device
        self.mac = mac
        self.ip = ip
        self.options = options or ""
        self.netmask = netmask
        self.mtu = mtu

    @property
    def noreport(self):
        # report host interface uses re.match('noreport', options.lower()): the word
        # must come first (ROCKS.md section 2)
        return self.options.lower().startswith("noreport")


INTERFACES_SQL = (
    "select n.device, n.mac, n.ip, n.options, s.netmask, s.mtu "
    "from networks n, subnets s, nodes h "
    "where h.name = '%s' and n.node = h.id and n.subnet = s.id and s.name = '%s' "
    "and n.device not like 'vlan%%' and (n.vlanid is NULL or n.vlanid = 0)"
)

NODE_MACS_SQL = (
    "select n.mac, n.device from networks n, nodes h "
    "where h.name = '%s' and n.node = h.id and n.mac is not NULL"
)


ALL_MACS_SQL = (
    "select h.name, n.device, n.mac from networks n, nodes h "
    "where n.node = h.id and n.mac is not NULL"
)


def interfaces(db, host, subnet):
    check_name(host, "host name")
    check_name(subnet, "subnet name")
    db.execute(INTERFACES_SQL % (host, subnet))
    return [Interface(*row) for row in (db.fetchall() or [])]


def node_macs(db, host):
    check_name(host, "host name")
    db.execute(NODE_MACS_SQL % host)
    return [(row[0], row[1]) for row in (db.fetchall() or []) if row[0]]


def existing_rules(db):
    db.execute(firewall.EXISTING_SQL)
    return [firewall.ExistingRule(*row) for row in (db.fetchall() or [])]


class Facts(object):
    """Everything the plans and the report need, gathered once."""

    def __init__(self, frontend, private, public, private_interface_attr, version_major,
                 rules, insert_ethers_running):
        self.frontend = frontend
        self.private = private
        self.public = public
        self.private_interface_attr = private_interface_attr
        self.version_major = version_major
        self.rules = rules
        self.insert_ethers_running = insert_ethers_running


def gather(db, frontend, private_interface_attr, version_major):
    return Facts(
        frontend,
        interfaces(db, frontend, "private"),
        interfaces(db, frontend, "public"),
        private_interface_attr,
        int(version_major),
        existing_rules(db),
        os.path.exists(paths.insert_ethers_lock()),
    )


def rocks_version_major(rocks_module):
    """rocks.version_major exists from 6.2 on; 6.1.1 only has rocks.version."""
    major = getattr(rocks_module, "version_major", None)
    if major is None:
        major = str(getattr(rocks_module, "version", "7")).split(".")[0]
    try:
        return int(major)
    except ValueError:
        return 7
