#!/usr/bin/env python3
"""insert-ethers stand-in for the segbridge e2e rig.

Rocks' real insert-ethers is a newt TUI bound to MySQL; this is its discovery
loop, reproduced from the source (../shared/ROCKS.md §1):

* tails the syslog messages file from its end, never re-reading old lines;
* accepts a line only if `tokens[4] == 'dhcpd:'`, `tokens[5]` is DHCPDISCOVER
  or BOOTREQUEST, and `tokens[9]` with ':' removed equals the DB device of the
  frontend's interface on subnet private; the MAC is `tokens[7]`;
* a MAC already in `networks` is ignored (so a node is registered once);
* a new MAC gets the next name `<basename>-<rack>-<rank>`, the next free
  private IP (counting down, like `rocks report nextip`), a host row, and then
  dhcpd.conf is regenerated and dhcpd restarted (what 01-dhcpd.py does);
* holds the lock file (/var/lock/insert-ethers on Rocks) while running and
  refuses to start if it exists;
* tails the HTTP access log for kickstart.cgi requests (`fields[0]` client,
  `fields[8]` status), like listenKs().

Every action is printed as one `insert-ethers: ...` line on stdout.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_db import ClusterDB, render_dhcpd_conf, write_atomically  # noqa: E402

KS_PATHS = ("install/sbin/public/kickstart.cgi", "install/sbin/kickstart.cgi",
            "install/sbin/public/jumpstart.cgi")


def say(msg):
    print("insert-ethers: %s" % msg, flush=True)


class Tail:
    """Follows a file from its current end, yielding complete lines only."""

    def __init__(self, path):
        self.path = path
        self.f = None
        self.buf = ""
        self._open(seek_end=True)

    def _open(self, seek_end):
        try:
            self.f = open(self.path, "r", errors="replace")
        except FileNotFoundError:
            self.f = None
            return
        if seek_end:
            self.f.seek(0, 2)

    def lines(self):
        if self.f is None:
            # The file did not exist when we started: everything in it is new.
            self._open(seek_end=False)
            if self.f is None:
                return []
        chunk = self.f.read()
        if not chunk:
            return []
        self.buf += chunk
        out = self.buf.split("\n")
        self.buf = out.pop()
        return out


class Syslog:
    """Optional: insert-ethers' plugins syslog what they add (sample.py)."""

    def __init__(self, path):
        self.sock = None
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.path = path

    def send(self, msg):
        if not self.sock:
            return
        # facility daemon (3) * 8 + info (6)
        try:
            self.sock.sendto(("<30>insert-ethers[%d]: %s" % (os.getpid(), msg)).encode(), self.path)
        except OSError as e:
            say("syslog send failed: %s" % e)


class InsertEthers:
    def __init__(self, args):
        self.a = args
        self.db = ClusterDB(args.db)
        self.syslog = Syslog(args.syslog_socket)
        self.subnet_dev = self.private_device()
        self.kickstarted = {}

    def private_device(self):
        """The frontend's DB device on subnet private (insert-ethers l.1318-1327)."""
        row = self.db.conn.execute(
            "SELECT networks.device FROM networks JOIN nodes ON networks.node = nodes.id "
            "WHERE networks.subnet = 'private' AND nodes.name = ?", (self.a.frontend_name,)).fetchone()
        if row is None:
            raise SystemExit("insert-ethers: frontend %s has no interface on subnet private" %
                             self.a.frontend_name)
        return row[0]

    def listen_dhcp(self, line):
        tokens = line.split()
        if len(tokens) > 5 and tokens[4] == "dhcpd:" and tokens[5] in ("DHCPDISCOVER", "BOOTREQUEST"):
            if len(tokens) < 10:
                return
            interface = tokens[9].replace(":", "").strip()
            if interface != self.subnet_dev:
                return
            self.discover(tokens[7].lower())

    def discover(self, mac):
        if self.db.mac_known(mac):
            return
        rack = self.a.rack
        rank = self.db.next_rank(self.a.membership, rack)
        name = "%s-%d-%d" % (self.a.basename, rack, rank)
        ip = self.db.next_ip(self.a.network)
        t0 = time.monotonic()
        self.db.add_host(name, self.a.membership, rack, rank, "eth0", ip, mac)
        say("added %s mac %s ip %s" % (name, mac, ip))
        self.syslog.send("insert-ethers adding node %s mac %s ip %s" % (name, mac, ip))
        self.update_dhcpd()
        say("dhcpd restarted for %s in %.2fs" % (name, time.monotonic() - t0))

    def update_dhcpd(self):
        text = render_dhcpd_conf(self.db, self.a.network, self.a.frontend_ip, filename=self.a.filename)
        write_atomically(self.a.dhcpd_conf, text)
        if self.a.dhcpd_restart:
            r = subprocess.run(self.a.dhcpd_restart, shell=True, capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                say("dhcpd restart failed (%d): %s %s" % (r.returncode, r.stdout.strip(), r.stderr.strip()))

    def listen_ks(self, line):
        if not any(p in line for p in KS_PATHS):
            return
        fields = line.split()
        if len(fields) < 9:
            return
        try:
            status = int(fields[8])
        except ValueError:
            return
        name = self.db.host_by_ip(fields[0])
        if name is None:
            return
        if self.kickstarted.get(name) != status:
            self.kickstarted[name] = status
            say("kickstart %s %s status %d" % (name, fields[0], status))

    def run(self, stop):
        log = Tail(self.a.messages)
        kslog = Tail(self.a.access_log) if self.a.access_log else None
        say("listening on %s for DHCPDISCOVER via %s (lock %s)" % (self.a.messages, self.subnet_dev,
                                                                   self.a.lock_file))
        while not stop():
            for line in log.lines():
                self.listen_dhcp(line)
            if kslog:
                for line in kslog.lines():
                    self.listen_ks(line)
            time.sleep(self.a.poll)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", required=True, help="syslog file in traditional format")
    p.add_argument("--access-log", help="HTTP access log (Apache format) for kickstart tracking")
    p.add_argument("--db", required=True, help="cluster database (cluster_db.py SQLite file)")
    p.add_argument("--lock-file", required=True, help="held while running (/var/lock/insert-ethers)")
    p.add_argument("--dhcpd-conf", required=True)
    p.add_argument("--dhcpd-restart", help="shell command that restarts dhcpd")
    p.add_argument("--frontend-name", required=True)
    p.add_argument("--frontend-ip", required=True)
    p.add_argument("--network", required=True, help="private network, e.g. 10.1.0.0/16")
    p.add_argument("--filename", default="pxelinux.0", help="PXE boot file for kickstartable nodes")
    p.add_argument("--basename", default="compute")
    p.add_argument("--membership", default="Compute")
    p.add_argument("--rack", type=int, default=0)
    p.add_argument("--syslog-socket", help="unix datagram socket to syslog additions to")
    p.add_argument("--poll", type=float, default=0.05, help="seconds between reads of the logs")
    a = p.parse_args()

    # insert-ethers run(): refuse to start when the lock exists, else touch it.
    if os.path.isfile(a.lock_file):
        sys.exit("insert-ethers: error - lock file %s exists" % a.lock_file)
    ie = InsertEthers(a)
    open(a.lock_file, "w").close()
    stopping = []
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda *_: stopping.append(True))
    try:
        ie.run(lambda: bool(stopping))
    finally:
        try:
            os.unlink(a.lock_file)
        except FileNotFoundError:
            pass
        say("exiting, lock removed")


if __name__ == "__main__":
    main()
