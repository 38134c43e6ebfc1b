from __future__ import absolute_import, division, print_function

import rocks.commands
from segbridge_rocks import facts
from segbridge_rocks.shim import ShimClient, normalize_mac

RollName = "segbridge"


class Command(rocks.commands.list.command):
    """
    Lists which site (segbridged peer, or 'local') each host's interfaces
    were seen behind, joining the cluster DB's interfaces with the
    insert-ethers-shim ledger, and the ledger state of each MAC
    (discovered, announced, registered, ignored).

    <param type='string' name='site'>
    Only hosts seen behind this site.
    </param>

    <example cmd='list segbridge host'>
    One line per host interface with a MAC.
    </example>

    <example cmd='list segbridge host site=sitea'>
    Only the hosts installed from site sitea.
    </example>

    <related>list segbridge site</related>
    """

    def run(self, params, args):
        (site_filter,) = self.fillParams([("site", None)])
        entries, problem = ShimClient().entries()
        if problem:
            self.abort("cannot read the insert-ethers-shim ledger: %s" % problem)
            return
        by_mac = dict((e.mac, e) for e in entries)
        self.db.execute(facts.ALL_MACS_SQL)
        rows = self.db.fetchall() or []
        self.beginOutput()
        for host, device, mac in sorted(rows, key=lambda r: (str(r[0]), str(r[1]))):
            entry = by_mac.get(normalize_mac(mac))
            site = entry.site if entry else None
            if site_filter and site != site_filter:
                continue
            self.addOutput(str(host), [str(device), str(mac),
                                       str(site) if site else None,
                                       str(entry.state) if entry else None])
        self.endOutput(header=["host", "iface", "mac", "site", "state"], trimOwner=0)
