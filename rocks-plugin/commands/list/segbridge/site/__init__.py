from __future__ import absolute_import, division, print_function

import rocks.commands
from segbridge_rocks import status as segstatus
from segbridge_rocks.shim import ShimClient

RollName = "segbridge"


class Command(rocks.commands.list.command):
    """
    Lists the remote sites of this frontend's segbridge tunnel hub (the
    [[peer]] entries of /etc/segbridge/segbridged.conf) with their tunnel
    state as segbridged reports it ('segbridgectl status --json'), and how
    many nodes insert-ethers registered from each site (from the
    insert-ethers-shim ledger).

    <param type='string' name='socket'>
    Control socket of segbridged. Default: segbridgectl's default.
    </param>

    <example cmd='list segbridge site'>
    One line per site: tap, state, endpoint, handshake age, traffic, drops,
    MACs seen behind the site and registered nodes.
    </example>

    <related>report segbridge</related>
    <related>sync segbridge</related>
    """

    def run(self, params, args):
        (socket_path,) = self.fillParams([("socket", None)])
        try:
            status = segstatus.query(socket_path)
        except segstatus.StatusError as err:
            self.abort("cannot query segbridged: %s" % err)
            return

        nodes = {}
        entries, problem = ShimClient().entries()
        for entry in entries:
            if entry.state == "registered" and entry.site:
                nodes[entry.site] = nodes.get(entry.site, 0) + 1

        # str(): JSON text is unicode on Python 2, and Rocks' endOutput measures
        # non-str cells by their repr (u'...'), which would misalign the columns
        self.beginOutput()
        for site in status.sites:
            self.addOutput(str(site.name), [
                str(site.tap), str(site.state), str(site.endpoint) if site.endpoint else None,
                segstatus.human_age(site.handshake_age),
                segstatus.human_bytes(site.rx_bytes), segstatus.human_bytes(site.tx_bytes),
                str(site.drops), str(len(site.macs)),
                str(nodes.get(site.name, 0)) if not problem else None,
            ])
        self.endOutput(header=["site", "tap", "state", "endpoint", "handshake", "rx", "tx",
                               "drops", "macs", "nodes"], trimOwner=0)
