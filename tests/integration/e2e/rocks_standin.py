#!/usr/bin/env python3
"""`rocks list host interface` stand-in for the segbridge e2e rig.

Prints the registered interfaces from the rig's cluster database in the
column layout of Rocks' `rocks list host interface`, so the insert-ethers-shim
`registered_check` can run it exactly as it runs the real command.

usage: rocks_standin.py --db FILE list host interface [HOST...]
"""
import argparse
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_db import ClusterDB  # noqa: E402


def main():
    p = argparse.ArgumentParser(description="rocks list host interface (e2e stand-in)")
    p.add_argument("--db", required=True)
    p.add_argument("--network", default="10.1.0.0/16")
    p.add_argument("words", nargs="+", help="list host interface [HOST...]")
    a = p.parse_args()
    if a.words[:3] != ["list", "host", "interface"]:
        sys.exit("rocks stand-in: only `list host interface [HOST...]` is implemented")
    hosts = set(a.words[3:])
    if not os.path.exists(a.db):
        sys.exit("rocks stand-in: no cluster database at %s" % a.db)
    netmask = str(ipaddress.ip_network(a.network).netmask)
    db = ClusterDB(a.db)
    rows = [("HOST", "SUBNET", "IFACE", "MAC", "IP", "NETMASK", "MODULE", "NAME", "VLAN", "OPTIONS",
             "CHANNEL")]
    for host, subnet, dev, mac, ip, name, _ks in db.interfaces():
        if hosts and host not in hosts:
            continue
        rows.append((host + ":", subnet, dev, mac or "-----------------", ip or "-------", netmask, "------",
                     name or "------", "----", "-------", "-------"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(" ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
