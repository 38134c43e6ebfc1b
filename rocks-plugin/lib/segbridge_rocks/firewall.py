"""The iptables rules segbridge needs, expressed as Rocks firewall DB rules.

Rocks renders /etc/sysconfig/iptables from the ``firewalls`` table (ROCKS.md section 3):
rules sorted by rulename, ``network=<subnet>`` becomes ``-i <device of that subnet>``,
``flags`` are appended after ``-j ACTION``. Hand edits of the iptables file are
overwritten, so everything goes through ``rocks add firewall`` and is applied with
``rocks sync host firewall localhost``.
"""
from __future__ import absolute_import, division, print_function

from segbridge_rocks import paths

# Sorted position matters: A19 precedes Rocks' A20-ALL-PRIVATE (which accepts
# everything arriving on the private device), A25 sits with the public service rules,
# A61 follows A60-FORWARD.
TUNNEL = "A25-SEGBRIDGE-TUNNEL"
BRIDGED = "A61-SEGBRIDGE-BRIDGED"
TUNNEL_SYSLOG = "A19-SEGBRIDGE-TUNNEL-SYSLOG"
ALL_RULENAMES = (TUNNEL_SYSLOG, TUNNEL, BRIDGED)


class Rule(object):
    def __init__(self, rulename, service, protocol, network, chain, action, flags, comment):
        self.rulename = rulename
        self.service = service
        self.protocol = protocol
        self.network = network
        self.chain = chain
        self.action = action
        self.flags = flags
        self.comment = comment

    def same_as(self, row):
        """row: ExistingRule from the DB."""
        return (
            str(row.service) == self.service
            and (row.protocol or "") == self.protocol
            and (row.network or "all") == self.network
            and (row.chain or "").upper() == self.chain
            and (row.action or "").upper() == self.action
            and (row.flags or "") == (self.flags or "")
        )


class ExistingRule(object):
    def __init__(self, rulename, service, protocol, network, chain, action, flags):
        self.rulename = rulename
        self.service = service
        self.protocol = protocol
        self.network = network
        self.chain = chain
        self.action = action
        self.flags = flags


def wanted_rules(port, syslog_guard, tap_prefix="sb-"):
    rules = [
        Rule(TUNNEL, str(port), "udp", "public", "INPUT", "ACCEPT", None,
             "segbridged tunnel datagrams from remote sites"),
        # With bridge-nf-call-iptables on, frames switched between br0 ports (eth0, the
        # sb- taps) traverse FORWARD, whose Rocks policy is DROP; A60-FORWARD only
        # covers them while exactly one private row exists, this rule always does.
        Rule(BRIDGED, "all", "all", "all", "FORWARD", "ACCEPT",
             "-m physdev --physdev-is-bridged",
             "frames bridged inside the private segment"),
    ]
    if syslog_guard:
        # insert-ethers trusts any dhcpd: line in /var/log/messages and rsyslog accepts
        # UDP 514 from the private side: a remote site must not be able to forge one.
        rules.append(Rule(TUNNEL_SYSLOG, "514", "udp", "private", "INPUT", "DROP",
                          "-m physdev --physdev-in %s+" % tap_prefix,
                          "no remote syslog from tunnel sites"))
    return rules


def add_argv(rule):
    argv = [paths.rocks_binary(), "add", "firewall", "host=localhost",
            "rulename=%s" % rule.rulename, "rulesrc=system", "service=%s" % rule.service,
            "protocol=%s" % rule.protocol, "network=%s" % rule.network,
            "chain=%s" % rule.chain, "action=%s" % rule.action]
    if rule.flags:
        argv.append("flags=%s" % rule.flags)
    argv.append("comment=%s" % rule.comment)
    return argv


def remove_argv(rulename):
    return [paths.rocks_binary(), "remove", "firewall", "host=localhost", rulename]


def sync_argv():
    return [paths.rocks_binary(), "sync", "host", "firewall", "localhost"]


EXISTING_SQL = (
    "select f.rulename, f.service, f.protocol, s.name, f.chain, f.action, f.flags "
    "from firewalls f left join subnets s on f.insubnet = s.id "
    "where f.rulename like '%SEGBRIDGE%'"
)
