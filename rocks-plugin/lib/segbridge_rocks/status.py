"""segbridged's view of the sites, from ``segbridgectl status --json`` (CONTRACTS.md)."""
from __future__ import absolute_import, division, print_function

import json

from segbridge_rocks import paths, process


class StatusError(Exception):
    pass


class Site(object):
    """One [[peer]] of the hub as segbridged reports it."""

    def __init__(self, entry):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str_types()):
            raise StatusError("peer entry without a name: %r" % (entry,))
        self.name = entry["name"]
        self.tap = entry.get("tap") or ("sb-" + self.name)
        self.state = entry.get("state", "unknown")
        self.endpoint = entry.get("endpoint") or ""
        self.handshake_age = _number(entry.get("last_handshake_age_s"))
        self.rx_bytes = _number(entry.get("rx_bytes")) or 0
        self.tx_bytes = _number(entry.get("tx_bytes")) or 0
        self.rx_frames = _number(entry.get("rx_frames")) or 0
        self.tx_frames = _number(entry.get("tx_frames")) or 0
        drops = entry.get("drops") or {}
        self.drops = 0
        if isinstance(drops, dict):
            for value in drops.values():
                self.drops += _number(value) or 0
        macs = entry.get("macs") or []
        self.macs = [m.lower() for m in macs if isinstance(m, str_types())]


class Status(object):
    def __init__(self, document):
        if not isinstance(document, dict):
            raise StatusError("status is not a JSON object")
        self.name = document.get("name")
        self.role = document.get("role")
        self.bridge = document.get("bridge")
        peers = document.get("peers", [])
        if not isinstance(peers, list):
            raise StatusError("'peers' is not a list")
        self.sites = [Site(p) for p in peers]


def str_types():
    try:
        return (str, unicode)  # noqa: F821 -- Python 2
    except NameError:
        return (str,)


def number_types():
    try:
        return (int, long, float)  # noqa: F821 -- Python 2
    except NameError:
        return (int, float)


def _number(value):
    if isinstance(value, bool) or not isinstance(value, number_types()):
        return None
    return value


def parse(text):
    try:
        document = json.loads(text)
    except ValueError as err:
        raise StatusError("segbridgectl printed invalid JSON: %s" % err)
    return Status(document)


def query(socket_path=None, timeout=5.0):
    """Run segbridgectl and parse its answer; StatusError with the reason otherwise."""
    argv = [paths.segbridgectl()]
    if socket_path:
        argv += ["-s", socket_path]
    argv += ["status", "--json"]
    result = process.run(argv, timeout=timeout)
    if not result.ok:
        raise StatusError(result.describe())
    return parse(result.stdout)


def human_bytes(count):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    value = float(count)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            if unit == "B":
                return "%d B" % count
            return "%.1f %s" % (value, unit)
        value /= 1024.0


def human_age(seconds):
    if seconds is None:
        return "never"
    seconds = int(seconds)
    if seconds < 120:
        return "%ds" % seconds
    if seconds < 7200:
        return "%dm" % (seconds // 60)
    return "%dh" % (seconds // 3600)
