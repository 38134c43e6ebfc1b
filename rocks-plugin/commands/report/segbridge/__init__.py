from __future__ import absolute_import, division, print_function

import rocks
import rocks.commands
from segbridge_rocks import checks, commandsupport

RollName = "segbridge"


class Command(rocks.commands.report.command):
    """
    Checks that this frontend is set up the way segbridge needs and says
    how to fix what is not: one DB row on subnet private naming the bridge,
    noreport, Kickstart_PrivateInterface, DHCPDARGS in /etc/sysconfig/dhcpd,
    the dhcpd drop-in, the shim's private_interface, segbridge's firewall
    rules in the DB, and whether segbridged answers.

    <param type='string' name='port'>
    Expected UDP port of segbridged. Default: from segbridged.conf.
    </param>

    <param type='string' name='syslogguard'>
    Whether the tunnel syslog guard rule is expected (default true).
    </param>

    <example cmd='report segbridge'>
    One line per check: ok, warn or FAIL, and the details.
    </example>

    <related>sync segbridge</related>
    <related>list segbridge site</related>
    """

    def run(self, params, args):
        (port, guard) = self.fillParams([("port", None), ("syslogguard", "true")])
        facts = commandsupport.gather(self, rocks)
        results = checks.run_checks(facts, commandsupport.parse_port(self, port),
                                    bool(self.str2bool(guard)))
        self.beginOutput()
        for check in results:
            self.addOutput(check.name, [check.state, check.detail])
        self.endOutput(header=["check", "state", "detail"], trimOwner=0)
