# rocks.sql.InsertEthersPlugin as in core:src/rocks-pylib/rocks/sql.py (Rocks 7.0).


class InsertEthersPlugin:
    """Base class for any module that wants to be notified when a node
    is added or deleted in the cluster"""

    def __init__(self, app):
        self.app = app
        # This will not be available during --update.
        self.screen = app.insertor.screen

    def update(self):
        pass

    def done(self):
        pass

    def added(self, nodename):
        pass

    def removed(self, nodename):
        pass

    def changed(self, old, new):
        pass

    def updateConfig(self):
        noUpdate = self.app.db.getHostAttr("localhost", "Config_NoUpdate")
        return noUpdate is None
