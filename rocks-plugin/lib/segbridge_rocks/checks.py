"""`rocks report segbridge`: is this frontend set up the way segbridge needs?

Each check compares two things that must agree (the DB, the files Rocks generated from
it, our configs, the running daemon) and says how to fix a mismatch.
"""
from __future__ import absolute_import, division, print_function

import os
import re

from segbridge_rocks import config, firewall, paths, status as statusmod

OK = "ok"
WARN = "warn"
FAIL = "FAIL"


class Check(object):
    def __init__(self, name, state, detail):
        self.name = name
        self.state = state
        self.detail = detail


def _dhcpdargs(path):
    if not os.path.exists(path):
        return None
    handle = open(path)
    try:
        for line in handle:
            match = re.match(r'^\s*DHCPDARGS\s*=\s*"?([^"#]*)"?', line)
            if match:
                return match.group(1).strip()
    finally:
        handle.close()
    return None


def run_checks(facts, port=None, syslog_guard=True, query_status=None):
    if query_status is None:
        query_status = statusmod.query
    out = []
    daemon = None
    try:
        daemon = config.read_daemon(paths.segbridged_conf())
    except ValueError as err:
        out.append(Check("segbridged.conf", FAIL, str(err)))
    bridge = daemon.bridge if daemon else config.DEFAULT_BRIDGE

    if len(facts.private) != 1:
        out.append(Check("private interface", FAIL,
                         "%d DB rows on subnet private for %s; Rocks needs exactly one"
                         % (len(facts.private), facts.frontend)))
        device = None
    else:
        row = facts.private[0]
        device = row.device
        if device == bridge:
            out.append(Check("private interface", OK, "DB private device is %s" % device))
        else:
            out.append(Check("private interface", FAIL,
                             "DB private device is %s, segbridged bridges into %s: dhcpd logs "
                             "'via %s' -- run 'rocks sync segbridge'" % (device, bridge, bridge)))
        if device == bridge and not row.noreport:
            out.append(Check("noreport", FAIL, "options of %s do not start with noreport: Rocks "
                             "will write a plain ifcfg-%s over the bridge" % (device, device)))
        elif device == bridge:
            out.append(Check("noreport", OK, "Rocks leaves ifcfg-%s alone" % device))
    if device is not None:
        if facts.private_interface_attr == device:
            out.append(Check("Kickstart_PrivateInterface", OK, device))
        else:
            out.append(Check("Kickstart_PrivateInterface", WARN,
                             "%s, DB row says %s" % (facts.private_interface_attr, device)))
        args = _dhcpdargs(paths.dhcpd_sysconfig())
        if args == device:
            out.append(Check("DHCPDARGS", OK, device))
        else:
            out.append(Check("DHCPDARGS", FAIL, "%s has %r, expected %r: run 'rocks sync config'"
                             % (paths.dhcpd_sysconfig(), args, device)))
        if facts.version_major >= 7:
            if os.path.exists(paths.dhcpd_dropin()):
                out.append(Check("dhcpd drop-in", OK, paths.dhcpd_dropin()))
            else:
                out.append(Check("dhcpd drop-in", WARN, "%s missing: dhcpd.service ignores "
                                 "DHCPDARGS and listens wherever a subnet matches"
                                 % paths.dhcpd_dropin()))
        try:
            shim = config.read_shim(paths.shim_conf())
            if not shim.exists:
                out.append(Check("shim private_interface", WARN, "%s missing" % shim.path))
            elif shim.from_rocks:
                out.append(Check("shim private_interface", OK, "read from the Rocks DB at start"))
            elif shim.private_interface == device:
                out.append(Check("shim private_interface", OK, device))
            else:
                out.append(Check("shim private_interface", FAIL,
                                 "%s, but insert-ethers only accepts 'via %s'"
                                 % (shim.private_interface, device)))
        except ValueError as err:
            out.append(Check("shim config", FAIL, str(err)))

    wanted_port = port or (daemon.port if daemon else config.DEFAULT_PORT)
    existing = dict((r.rulename, r) for r in facts.rules)
    for rule in firewall.wanted_rules(wanted_port, syslog_guard):
        row = existing.get(rule.rulename)
        if row is None:
            out.append(Check("firewall " + rule.rulename, FAIL, "missing from the DB"))
        elif not rule.same_as(row):
            out.append(Check("firewall " + rule.rulename, FAIL, "differs from the wanted rule"))
        else:
            out.append(Check("firewall " + rule.rulename, OK, rule.comment))

    try:
        status = query_status(daemon.control_socket if daemon else None)
        up = len([s for s in status.sites if s.state == "established"])
        out.append(Check("segbridged", OK, "%d of %d sites established" % (up, len(status.sites))))
    except statusmod.StatusError as err:
        out.append(Check("segbridged", WARN, "status unavailable: %s" % err))
    return out
