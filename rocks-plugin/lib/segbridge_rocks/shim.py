"""Talk to insert-ethers-shim through its command line (never its SQLite file directly:
the ledger schema belongs to the shim and is migrated by it).

Commands used (CONTRACTS.md, shim team): ``-c FILE list --json`` and the proposed
extension ``-c FILE registered MAC [--host NAME]`` that moves a ledger entry to state
``registered`` at once. A shim without it (usage error, exit 2) or one that fails gets
SIGHUP instead (``systemctl reload insert-ethers-shim``), which makes the running shim
re-check registrations immediately -- either way announcements stop at once rather than
at the next ``registered_check`` poll.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import re

from segbridge_rocks import paths, process

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def normalize_mac(mac):
    """'52-54-00-AB-CD-EF' / '52:54:00:ab:cd:ef' -> '52:54:00:ab:cd:ef'; None if not a MAC."""
    if mac is None:
        return None
    value = mac.strip().lower().replace("-", ":")
    if _MAC.match(value):
        return value
    return None


class LedgerEntry(object):
    def __init__(self, mac, site, state, port):
        self.mac = mac
        self.site = site
        self.state = state
        self.port = port


def parse_list(text):
    """Entries of ``list --json``: a JSON array of objects with at least ``mac`` and
    ``site`` (``state``, ``port`` optional). An object wrapping the array under
    ``entries`` is accepted too. Malformed entries are skipped, not fatal."""
    document = json.loads(text)
    if isinstance(document, dict):
        document = document.get("entries", [])
    entries = []
    if not isinstance(document, list):
        return entries
    for item in document:
        if not isinstance(item, dict):
            continue
        mac = normalize_mac(item.get("mac"))
        if mac is None:
            continue
        entries.append(LedgerEntry(mac, item.get("site"), item.get("state"), item.get("port")))
    return entries


class ShimClient(object):
    def __init__(self, binary=None, config=None, timeout=5.0):
        self.binary = binary or paths.shim_binary()
        self.config = config or paths.shim_conf()
        self.timeout = timeout
        # after one timeout the shim is presumed hung: further calls are skipped so
        # insert-ethers waits at most one timeout per node
        self.unresponsive = False

    def _run(self, words):
        if self.unresponsive:
            return process.Result(self._argv(words), None, "",
                                  "skipped: insert-ethers-shim timed out earlier")
        result = process.run(self._argv(words), timeout=self.timeout)
        if result.timed_out:
            self.unresponsive = True
        return result

    def _argv(self, words):
        argv = [self.binary]
        if self.config and os.path.exists(self.config):
            argv += ["-c", self.config]
        return argv + list(words)

    def mark_registered(self, mac, host=None):
        """Returns the process Result; never raises."""
        words = ["registered", mac]
        if host:
            words += ["--host", host]
        return self._run(words)

    def recheck(self):
        """Ask the running shim to re-check registrations now (its SIGHUP)."""
        return process.run(["systemctl", "reload", "insert-ethers-shim.service"],
                           timeout=self.timeout)

    def entries(self):
        """(entries, None) or ([], reason)."""
        result = self._run(["list", "--json"])
        if not result.ok:
            return [], result.describe()
        try:
            return parse_list(result.stdout), None
        except ValueError as err:
            return [], "insert-ethers-shim list --json printed invalid JSON: %s" % err
