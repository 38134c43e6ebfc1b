"""insert-ethers plugin of segbridge (installed in /opt/rocks/var/plugins/insertethers/).

Runs after 01-dhcpd (plugins are loaded sorted by file name). When insert-ethers has
added a node it tells insert-ethers-shim at once, so the shim stops re-announcing the
node's MAC, logs which site (segbridged peer) the node came from and stores it as the
host attribute ``segbridge_site``.

Rocks imports this module outside any try block: an import error here would stop
insert-ethers itself, so only the standard library and rocks.sql are imported at top
level and our own package is imported defensively.
"""
from __future__ import absolute_import, division, print_function

import socket
import syslog

import rocks.sql

try:
    from segbridge_rocks import registration
    IMPORT_ERROR = None
except Exception as err:  # noqa: BLE001 -- keep insert-ethers alive whatever happens
    registration = None
    IMPORT_ERROR = "%s: %s" % (err.__class__.__name__, err)


def _frontend_name(app):
    newdb = getattr(app, "newdb", None)
    if newdb is not None and hasattr(newdb, "getFrontendName"):
        try:
            return newdb.getFrontendName()
        except Exception:  # noqa: BLE001
            pass
    return socket.gethostname().split(".")[0]


class Plugin(rocks.sql.InsertEthersPlugin):
    "Tells insert-ethers-shim about registered nodes and records their site."

    def _usable(self):
        if registration is None:
            syslog.syslog(syslog.LOG_ERR, "segbridge: plugin disabled: %s" % IMPORT_ERROR)
            return False
        return True

    # nodeid: Rocks 6.0-6.1.1 pass it, 6.2 and 7.0 do not (ROCKS.md section 1.4)
    def added(self, nodename, nodeid=None):
        if self._usable():
            registration.node_added(self.app, nodename)

    def removed(self, nodename, nodeid=None):
        pass

    def update(self):
        if self._usable():
            registration.check_consistency(self.app, _frontend_name(self.app))

    def done(self):
        pass
