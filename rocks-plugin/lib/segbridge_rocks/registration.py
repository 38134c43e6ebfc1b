"""What the insert-ethers plugin does when Rocks has registered a node: stop the shim
announcing its MACs, record and log which site the node came from."""
from __future__ import absolute_import, division, print_function

import re
import syslog

from segbridge_rocks import config, facts, paths, process
from segbridge_rocks.shim import ShimClient, normalize_mac

SITE_ATTR = "segbridge_site"
_SITE = re.compile(r"^[a-z0-9-]{1,32}$")


def log(priority, message):
    text = "segbridge: " + message
    if not isinstance(text, str):
        # Python 2: program output arrives as unicode, and syslog.syslog would encode it
        # as ASCII and raise on the first non-ASCII byte
        text = text.encode("utf-8", "replace")
    syslog.syslog(priority, text)


def node_added(db, nodename, shim=None, runner=None, logger=None):
    """Returns the site name the node came from (None if unknown). Never raises for
    anything outside our control: insert-ethers swallows plugin exceptions anyway, but
    a half-done job must still log what it could not do."""
    shim = shim or ShimClient()
    runner = runner or process.run
    logger = logger or log
    macs = []
    for mac, device in facts.node_macs(db, nodename):
        normalized = normalize_mac(mac)
        if normalized:
            macs.append((normalized, device))
    if not macs:
        logger(syslog.LOG_WARNING, "node %s has no MAC in the DB; nothing to tell the shim"
               % nodename)
        return None

    entries, problem = shim.entries()
    if problem:
        logger(syslog.LOG_WARNING, "cannot read the shim ledger: %s" % problem)
    by_mac = dict((e.mac, e) for e in entries)

    site = None
    unmarked = []
    for mac, device in macs:
        result = shim.mark_registered(mac, nodename)
        if not result.ok:
            unmarked.append((mac, result))
        entry = by_mac.get(mac)
        if entry is None:
            logger(syslog.LOG_INFO, "node %s %s %s registered; not in the shim ledger "
                   "(seen by insert-ethers directly)" % (nodename, device, mac))
            continue
        where = entry.site or "unknown"
        if entry.port:
            where += " (port %s)" % entry.port
        logger(syslog.LOG_INFO, "node %s %s %s registered from site %s"
               % (nodename, device, mac, where))
        if entry.site and site is None:
            site = entry.site

    if unmarked and not shim.unresponsive:
        recheck = shim.recheck()
        for mac, result in unmarked:
            if recheck.ok:
                logger(syslog.LOG_INFO, "shim cannot mark %s registered (%s); sent it SIGHUP "
                       "to re-check registrations now" % (mac, result.describe()))
            else:
                logger(syslog.LOG_WARNING,
                       "could not mark %s registered in the shim ledger (%s) nor signal the "
                       "shim (%s); it stops announcing at its next registered_check"
                       % (mac, result.describe(), recheck.describe()))
    elif unmarked:
        logger(syslog.LOG_WARNING, "insert-ethers-shim does not answer; it stops announcing "
               "%s at its next registered_check" % ", ".join(m for m, _r in unmarked))

    if site is not None:
        if not _SITE.match(site):
            logger(syslog.LOG_WARNING, "ignoring odd site name %r for %s" % (site, nodename))
            return None
        argv = [paths.rocks_binary(), "set", "host", "attr", nodename, SITE_ATTR, site]
        result = runner(argv, timeout=30.0)
        if not result.ok:
            logger(syslog.LOG_WARNING, "could not record the site: %s" % result.describe())
    return site


def check_consistency(db, frontend, logger=None):
    """On `insert-ethers --update` (rocks sync config): warn when the DB's private
    device is not segbridged's bridge -- then insert-ethers and dhcpd see `via br0`
    for remote nodes and never match. Returns the warning text or None."""
    logger = logger or log
    try:
        daemon = config.read_daemon(paths.segbridged_conf())
        rows = facts.interfaces(db, frontend, "private")
    except ValueError as err:
        logger(syslog.LOG_WARNING, str(err))
        return str(err)
    if not daemon.exists:
        return None
    devices = [r.device for r in rows]
    if devices == [daemon.bridge]:
        return None
    message = ("the cluster DB names %s as %s's private interface but segbridged "
               "bridges into %s; run 'rocks report segbridge'"
               % (", ".join(devices) or "nothing", frontend, daemon.bridge))
    logger(syslog.LOG_WARNING, message)
    return message
