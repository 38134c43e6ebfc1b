# rocks.commands stand-in: Command keeps Rocks' method names and behaviour for the
# parts segbridge uses (runWrapper's k=v splitting, fillParams, str2bool, abort,
# addText/getText, beginOutput/addOutput/endOutput). The DB is reached through
# self.db with execute() -> row count, fetchone(), fetchall(), getHostname(),
# getHostAttr() like rocks.commands.DatabaseConnection.
import re

import rocks.util


class Command:
    MustBeRoot = 1

    def __init__(self, database):
        self.db = database
        self.newdb = database
        self.text = ""
        self.output = []
        self._params = {}
        self._args = []

    def abort(self, msg):
        raise rocks.util.CommandError(msg)

    def fillParams(self, names, params=None):
        # not `list`: like in Rocks, the rocks.commands.list package shadows it here
        if not isinstance(names, (type([]), type(()))):
            names = [names]
        if not params:
            params = self._params
        out = []
        for e in names:
            key = e[0]
            default = e[1] if len(e) == 2 else None
            out.append(params.get(key, default))
        return out

    def str2bool(self, s):
        if s and s.upper() in ["ON", "YES", "Y", "TRUE", "1"]:
            return 1
        return 0

    def addText(self, s):
        if s:
            self.text += s

    def getText(self):
        return self.text

    def beginOutput(self):
        self.output = []

    def addOutput(self, owner, vals):
        row = ["%s:" % owner]
        if isinstance(vals, (type([]), type(()))):
            row.extend(vals)
        else:
            row.append(vals)
        self.output.append(row)

    def endOutput(self, header=[], padChar="-", trimOwner=1, linesep="\n"):
        if not self.output:
            return
        rows = [[h.upper() for h in header]] + self.output
        widths = []
        for row in rows:
            for i, cell in enumerate(row):
                text = "" if cell is None else str(cell)
                if len(widths) <= i:
                    widths.append(0)
                widths[i] = max(widths[i], len(text))
        for row in rows:
            cells = []
            for i, cell in enumerate(row):
                text = "" if cell is None else str(cell)
                cells.append(text.ljust(widths[i]) if text else "".ljust(widths[i], padChar))
            self.addText(" ".join(cells) + linesep)

    def runWrapper(self, name, args):
        params = {}
        rest = []
        pattern = re.compile(r"^[a-zA-z0-9\-_+]+=")
        for arg in args:
            if pattern.match(arg):
                key, value = arg.split("=", 1)
                params[key] = value
            else:
                rest.append(arg)
        self._args = rest
        self._params = params
        self.run(params, rest)

    def run(self, flags, args):
        pass


class Plugin:
    def __init__(self, command):
        self.owner = command
        self.db = command.db
