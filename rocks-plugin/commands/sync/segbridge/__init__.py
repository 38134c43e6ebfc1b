from __future__ import absolute_import, division, print_function

import rocks
import rocks.commands
from segbridge_rocks import commandsupport, setup

RollName = "segbridge"


class Command(rocks.commands.sync.command):
    """
    Sets this frontend up as a segbridge hub the way Rocks expects: the
    cluster DB names the bridge (br0) as the frontend's private interface
    (marked noreport, Kickstart_PrivateInterface follows), the private NIC
    becomes a port of the bridge that carries the private address, dhcpd
    listens on the bridge (DHCPDARGS from the DB; a dhcpd.service drop-in on
    Rocks 7), firewall rules go into the DB (segbridged's UDP port on the
    public network, bridged FORWARD traffic, no syslog from tunnel ports),
    and dhcpd.conf, /etc/sysconfig/dhcpd and iptables are regenerated with
    'rocks sync config' and 'rocks sync host firewall localhost'.

    By default nothing is changed: the exact commands are printed as a shell
    script. Run again with dryrun=false to apply them. Every step can be
    repeated safely. 'rocks remove segbridge' undoes it.

    <param type='string' name='dryrun'>
    true (default): print the plan. false: carry it out.
    </param>

    <param type='string' name='bridge'>
    Bridge name. Default: bridge of /etc/segbridge/segbridged.conf (br0).
    </param>

    <param type='string' name='nic'>
    The private NIC that becomes a bridge port. Default: the device the DB
    names as the frontend's private interface (eth0).
    </param>

    <param type='string' name='port'>
    UDP port of segbridged. Default: from 'listen' in segbridged.conf (7440).
    </param>

    <param type='string' name='syslogguard'>
    true (default): drop syslog (UDP 514) arriving through tunnel ports, so
    a remote site cannot forge the dhcpd lines insert-ethers trusts. Loads
    br_netfilter.
    </param>

    <example cmd='sync segbridge'>
    Print what would be done.
    </example>

    <example cmd='sync segbridge dryrun=false'>
    Do it.
    </example>

    <related>remove segbridge</related>
    <related>report segbridge</related>
    """

    def run(self, params, args):
        (dryrun, bridge, nic, port, guard) = self.fillParams([
            ("dryrun", "true"), ("bridge", None), ("nic", None), ("port", None),
            ("syslogguard", "true")])
        options = setup.Options(bridge=bridge, nic=nic,
                                port=commandsupport.parse_port(self, port),
                                syslog_guard=bool(self.str2bool(guard)))

        def build():
            return setup.plan_setup(commandsupport.gather(self, rocks), options)

        commandsupport.run_plan(self, build, bool(self.str2bool(dryrun)))
