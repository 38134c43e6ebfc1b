"""A fake Rocks 7 frontend in a temp directory for the rocks-plugin tests.

* an SQLite stand-in of the cluster DB (nodes, subnets, networks, firewalls,
  attributes) seeded like a fresh frontend: private eth0 10.1.1.1/16, public eth1,
  Rocks' default firewall rules (base:nodes/server-firewall.xml names);
* the fake `rocks` CLI and system tools from tests/fakebin (they log every call and
  apply the DB commands with Rocks' semantics);
* every path the code touches redirected into the temp dir via SEGBRIDGE_* variables;
* a Python path with the fake `rocks` package plus our commands installed into it the
  way the RPM installs them.
Works on Python 2.7 and 3.
"""
from __future__ import absolute_import, division, print_function

import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_ROOT = os.path.dirname(HERE)
LIB = os.path.join(PLUGIN_ROOT, "lib")
FAKEBIN = os.path.join(HERE, "fakebin")

SCHEMA = """
create table nodes (ID integer primary key, Name text unique, Rack int, Rank int);
create table subnets (ID integer primary key, name text unique, subnet text, netmask text,
                      mtu int default 1500);
create table networks (ID integer primary key, Node int, MAC text, IP text, Name text,
                       Device text, Subnet int, Module text, VlanID int, Options text,
                       Channel text);
create table firewalls (ID integer primary key, Rulename text, Rulesrc text, InSubnet int,
                        OutSubnet int, Service text, Protocol text, Action text, Chain text,
                        Flags text, Comment text, Category text, Catindex int,
                        unique (Rulename, Category, Catindex));
create table attributes (Attr text, Value text, Category text, Catindex int);
"""

SEED = """
insert into nodes values (1, 'cluster', 0, 0);
insert into nodes values (2, 'compute-0-0', 0, 0);
insert into subnets values (1, 'private', '10.1.0.0', '255.255.0.0', 1500);
insert into subnets values (2, 'public', '192.0.2.0', '255.255.255.0', 1500);
insert into networks values (1, 1, '52:54:00:00:00:01', '10.1.1.1', 'cluster', 'eth0', 1,
                             NULL, NULL, NULL, NULL);
insert into networks values (2, 1, '52:54:00:00:00:02', '192.0.2.10', 'cluster', 'eth1', 2,
                             NULL, NULL, NULL, NULL);
insert into networks values (3, 2, '52:54:00:aa:00:01', '10.1.255.254', 'compute-0-0', 'eth0',
                             1, NULL, NULL, NULL, NULL);
insert into attributes values ('Kickstart_PrivateHostname', 'cluster', 'global', 0);
insert into attributes values ('Kickstart_PrivateInterface', 'eth0', 'global', 0);
insert into firewalls values (NULL, 'A15-ALL-LOCAL', 'system', 0, NULL, 'all', 'all', 'ACCEPT',
                              'INPUT', '-i lo', NULL, 'global', 0);
insert into firewalls values (NULL, 'A20-ALL-PRIVATE', 'system', 1, NULL, 'all', 'all', 'ACCEPT',
                              'INPUT', NULL, NULL, 'global', 0);
insert into firewalls values (NULL, 'A20-SSH-PUBLIC', 'system', 2, NULL, 'ssh', 'tcp', 'ACCEPT',
                              'INPUT', '-m state --state NEW', NULL, 'global', 0);
insert into firewalls values (NULL, 'A60-FORWARD', 'system', 1, NULL, 'all', 'all', 'ACCEPT',
                              'FORWARD', NULL, NULL, 'host', 1);
insert into firewalls values (NULL, 'R900-PRIVILEGED-UDP', 'system', 2, NULL, '0:1023', 'udp',
                              'REJECT', 'INPUT', NULL, NULL, 'global', 0);
"""

ORIGINAL_IFCFG_ETH0 = """# Rocks-generated, hand-tuned by the admin
DEVICE=eth0
HWADDR=52:54:00:00:00:01
IPADDR=10.1.1.1
NETMASK=255.255.0.0
BOOTPROTO=none
ONBOOT=yes
ETHTOOL_OPTS="-K eth0 tx off"
"""

SEGBRIDGED_CONF = """# segbridged on the frontend
[daemon]
name = "frontend"
role = "hub"
listen = "0.0.0.0:7440"
bridge = "br0"
create_bridge = true
bridge_ports = []

[[peer]]
name = "sitea"
"""

SHIM_CONF = """# insert-ethers-shim
interfaces = ["br0"]
private_interface = "eth0"   # the DB's private device
ledger = "/var/lib/insert-ethers-shim/ledger.db"

[guards]
pxe_only = true
"""


class FakeDatabase(object):
    """The Rocks DB API our code uses: execute() -> rows, fetchone/fetchall, plus
    getHostname/getHostAttr of rocks.commands.DatabaseConnection."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.rows = []
        self.statements = []

    def execute(self, sql):
        self.statements.append(sql)
        cursor = self.conn.execute(sql)
        if sql.lstrip().lower().startswith("select"):
            self.rows = cursor.fetchall()
            return len(self.rows)
        self.conn.commit()
        self.rows = []
        return cursor.rowcount

    def fetchone(self):
        if not self.rows:
            return None
        return self.rows.pop(0)

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows

    def getHostname(self, hostname=None):
        if hostname in (None, "localhost"):
            return self.conn.execute("select value from attributes where attr = "
                                     "'Kickstart_PrivateHostname'").fetchone()[0]
        return hostname

    def getHostAttr(self, host, key):
        row = self.conn.execute("select value from attributes where attr = ? order by "
                                "category = 'host' desc", (key,)).fetchone()
        return row[0] if row else None

    def close(self):
        self.conn.close()


def _write(path, text):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    handle = open(path, "w")
    try:
        handle.write(text)
    finally:
        handle.close()


def read(path):
    handle = open(path)
    try:
        return handle.read()
    finally:
        handle.close()


def _real_python3():
    if sys.version_info[0] == 3:
        return os.path.realpath(sys.executable)
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(candidate):
            return candidate
    return "python3"


class _Capture(object):
    """stdout stand-in (commands print progress lines while a plan runs)."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass


class Sandbox(object):
    ENV = ("PATH", "SEGBRIDGE_CONF", "SEGBRIDGE_SHIM_CONF", "SEGBRIDGE_SEGBRIDGECTL",
           "SEGBRIDGE_SHIM", "SEGBRIDGE_ROCKS", "SEGBRIDGE_BACKUP_DIR",
           "SEGBRIDGE_NETWORK_SCRIPTS", "SEGBRIDGE_DHCPD_DROPIN", "SEGBRIDGE_DHCPD_SYSCONFIG",
           "SEGBRIDGE_MODULES_LOAD", "SEGBRIDGE_SYSCTL", "SEGBRIDGE_INSERT_ETHERS_LOCK",
           "SEGBRIDGE_SYS_CLASS_NET",
           "FAKE_CALLS", "FAKE_ROCKS_DB", "FAKE_IPTABLES", "FAKE_SHIM_LEDGER", "FAKE_SHIM_MODE",
           "FAKE_STATUS", "FAKE_FAIL_CALL")

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="segbridge-rocks-test-")
        self.saved_env = dict((k, os.environ.get(k)) for k in self.ENV)
        self.saved_path = list(sys.path)
        self.db_path = os.path.join(self.root, "cluster.db")
        conn = sqlite3.connect(self.db_path)
        conn.executescript(SCHEMA + SEED)
        conn.commit()
        conn.close()
        self.db = FakeDatabase(self.db_path)
        p = self.path
        # the fake tools are `#!/usr/bin/env python3`: point that at a real interpreter,
        # not a version-manager shim that costs a quarter second per call
        os.makedirs(p("bin"))
        os.symlink(_real_python3(), p("bin/python3"))
        env = {
            "PATH": os.pathsep.join([p("bin"), FAKEBIN, os.environ.get("PATH", "/usr/bin:/bin")]),
            "SEGBRIDGE_CONF": p("etc/segbridge/segbridged.conf"),
            "SEGBRIDGE_SHIM_CONF": p("etc/segbridge/insert-ethers-shim.conf"),
            "SEGBRIDGE_SEGBRIDGECTL": os.path.join(FAKEBIN, "segbridgectl"),
            "SEGBRIDGE_SHIM": os.path.join(FAKEBIN, "insert-ethers-shim"),
            "SEGBRIDGE_ROCKS": os.path.join(FAKEBIN, "rocks"),
            "SEGBRIDGE_BACKUP_DIR": p("etc/segbridge/backup"),
            "SEGBRIDGE_NETWORK_SCRIPTS": p("etc/sysconfig/network-scripts"),
            "SEGBRIDGE_DHCPD_DROPIN": p("etc/systemd/system/dhcpd.service.d/segbridge.conf"),
            "SEGBRIDGE_DHCPD_SYSCONFIG": p("etc/sysconfig/dhcpd"),
            "SEGBRIDGE_MODULES_LOAD": p("etc/modules-load.d/segbridge.conf"),
            "SEGBRIDGE_SYSCTL": p("etc/sysctl.d/90-segbridge.conf"),
            "SEGBRIDGE_INSERT_ETHERS_LOCK": p("var/lock/insert-ethers"),
            "SEGBRIDGE_SYS_CLASS_NET": p("sys/class/net"),
            "FAKE_CALLS": p("calls.log"),
            "FAKE_ROCKS_DB": self.db_path,
            "FAKE_IPTABLES": p("etc/sysconfig/iptables"),
            "FAKE_SHIM_LEDGER": p("ledger.json"),
            "FAKE_STATUS": p("status.json"),
        }
        for key in self.ENV:
            os.environ.pop(key, None)
        os.environ.update(env)
        _write(p("etc/sysconfig/network-scripts/ifcfg-eth0"), ORIGINAL_IFCFG_ETH0)
        _write(p("etc/sysconfig/network-scripts/ifcfg-eth1"), "DEVICE=eth1\n")
        _write(p("sys/class/net/eth0/address"), "52:54:00:00:00:01\n")
        _write(p("sys/class/net/eth1/address"), "52:54:00:00:00:02\n")
        _write(p("etc/sysconfig/dhcpd"), 'DHCPDARGS="eth0"\n')
        _write(p("etc/segbridge/segbridged.conf"), SEGBRIDGED_CONF)
        _write(p("etc/segbridge/insert-ethers-shim.conf"), SHIM_CONF)
        _write(p("ledger.json"), "[]")
        _write(p("calls.log"), "")
        self.install_rocks_tree()

    def path(self, relative):
        return os.path.join(self.root, relative)

    def install_rocks_tree(self):
        """site-packages as the RPM lays it out: rocks (fake) + our command packages +
        segbridge_rocks; and the insert-ethers plugin dir."""
        site = self.path("site-packages")
        shutil.copytree(os.path.join(HERE, "fakerocks", "rocks"), os.path.join(site, "rocks"))
        shutil.copytree(os.path.join(LIB, "segbridge_rocks"), os.path.join(site, "segbridge_rocks"))
        commands = os.path.join(PLUGIN_ROOT, "commands")
        for verb in os.listdir(commands):
            shutil.copytree(os.path.join(commands, verb, "segbridge"),
                            os.path.join(site, "rocks", "commands", verb, "segbridge"))
        plugins = self.path("plugins/insertethers")
        os.makedirs(plugins)
        _write(os.path.join(plugins, "__init__.py"), "")
        shutil.copy(os.path.join(PLUGIN_ROOT, "insertethers", "90-segbridge.py"), plugins)
        for name in list(sys.modules):
            if name == "rocks" or name.startswith("rocks.") or name.startswith("segbridge_rocks") \
                    or name.startswith("insertethers"):
                del sys.modules[name]
        sys.path.insert(0, site)
        sys.path.insert(0, self.path("plugins"))

    def calls(self):
        return [line for line in read(self.path("calls.log")).splitlines() if line]

    def clear_calls(self):
        _write(self.path("calls.log"), "")

    def sql(self, statement, args=()):
        conn = sqlite3.connect(self.db_path)
        try:
            rows = conn.execute(statement, args).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def run_command(self, verb_path, args):
        """rocks <verb> <noun...> args, dispatched like /opt/rocks/bin/rocks does."""
        import importlib
        module = importlib.import_module("rocks.commands." + verb_path)
        command = module.Command(FakeDatabase(self.db_path))
        saved, sys.stdout = sys.stdout, _Capture()
        try:
            command.runWrapper(verb_path.replace(".", " "), list(args))
        finally:
            self.progress = "".join(sys.stdout.parts)
            sys.stdout = saved
        return command.getText()

    def close(self):
        self.db.close()
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        sys.path[:] = self.saved_path
        for name in list(sys.modules):
            if name == "rocks" or name.startswith("rocks.") or name.startswith("segbridge_rocks") \
                    or name.startswith("insertethers"):
                del sys.modules[name]
        shutil.rmtree(self.root)
