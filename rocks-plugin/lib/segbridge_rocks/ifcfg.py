"""initscripts ifcfg files for the hub topology (EL6/EL7 network-scripts).

The private NIC becomes a port of the bridge and the private address moves to the
bridge. Rocks does not write these once the DB row is marked ``noreport``, so we do.
STP off and forward delay 0: a PXE ROM gives up long before a 15 s STP listening phase
ends (the Rocks KVM guide's "setfd" advice, ROCKS.md section 8).
"""
from __future__ import absolute_import, division, print_function

HEADER = ("# Written by 'rocks sync segbridge' (segbridge hub topology).\n"
          "# 'rocks remove segbridge' restores the original.\n")


def bridge(device, ip, netmask, mtu):
    lines = ["DEVICE=%s" % device, "TYPE=Bridge", "ONBOOT=yes", "BOOTPROTO=none",
             "IPADDR=%s" % ip, "NETMASK=%s" % netmask]
    if mtu:
        lines.append("MTU=%s" % mtu)
    lines += ["STP=off", "DELAY=0", "NM_CONTROLLED=no"]
    return HEADER + "\n".join(lines) + "\n"


def bridge_port(device, mac, bridge_name, mtu):
    lines = ["DEVICE=%s" % device]
    if mac:
        lines.append("HWADDR=%s" % mac)
    lines += ["ONBOOT=yes", "BOOTPROTO=none", "BRIDGE=%s" % bridge_name]
    if mtu:
        lines.append("MTU=%s" % mtu)
    lines.append("NM_CONTROLLED=no")
    return HEADER + "\n".join(lines) + "\n"


def plain(device, mac, ip, netmask, mtu):
    """What the private NIC gets back when no backup of its original file exists
    (the same keys Rocks' report host interface writes)."""
    lines = ["DEVICE=%s" % device]
    if mac:
        lines.append("HWADDR=%s" % mac)
    lines += ["IPADDR=%s" % ip, "NETMASK=%s" % netmask, "BOOTPROTO=none", "ONBOOT=yes"]
    if mtu:
        lines.append("MTU=%s" % mtu)
    return "\n".join(lines) + "\n"
