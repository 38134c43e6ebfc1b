from __future__ import absolute_import, division, print_function

import rocks
import rocks.commands
from segbridge_rocks import commandsupport, setup

RollName = "segbridge"


class Command(rocks.commands.remove.command):
    """
    Undoes 'rocks sync segbridge': stops insert-ethers-shim and segbridged,
    removes segbridge's firewall rules, gives the private interface name
    and the private address back to the NIC (restoring its saved ifcfg file),
    deletes the bridge, removes the dhcpd drop-in and the br_netfilter
    settings, and regenerates dhcpd and iptables from the DB.

    By default nothing is changed: the exact commands are printed. Run again
    with dryrun=false to apply them.

    <param type='string' name='dryrun'>
    true (default): print the plan. false: carry it out.
    </param>

    <param type='string' name='bridge'>
    Bridge name. Default: bridge of /etc/segbridge/segbridged.conf (br0).
    </param>

    <param type='string' name='nic'>
    The NIC that gets the private address back. Default: the ifcfg file
    with BRIDGE=(the bridge).
    </param>

    <example cmd='remove segbridge'>
    Print what would be done.
    </example>

    <related>sync segbridge</related>
    """

    def run(self, params, args):
        (dryrun, bridge, nic) = self.fillParams([
            ("dryrun", "true"), ("bridge", None), ("nic", None)])
        options = setup.Options(bridge=bridge, nic=nic)

        def build():
            return setup.plan_teardown(commandsupport.gather(self, rocks), options)

        commandsupport.run_plan(self, build, bool(self.str2bool(dryrun)))
