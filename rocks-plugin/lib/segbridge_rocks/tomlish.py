"""Read the simple TOML that segbridged.conf and insert-ethers-shim.conf use.

Rocks 7's Python 2.7 has no TOML library and we must not pull one in, so this reads
the subset our documented config files use: ``[table]``, ``[[array-of-tables]]``,
``key = "string" | 'literal' | integer | true | false | [ array, of, scalars ]``
(arrays may span lines) and ``#`` comments. Anything else is a ValueError naming
``file:line`` -- the daemons' own ``--check`` remains the authority on validity.
"""
from __future__ import absolute_import, division, print_function

import re

_KEY = re.compile(r"^([A-Za-z0-9_-]+)\s*=\s*(.*)$")
_INT = re.compile(r"^[+-]?[0-9][0-9_]*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}


class _Cursor(object):
    def __init__(self, text, where):
        self.text = text
        self.pos = 0
        self.where = where

    def fail(self, what):
        raise ValueError("%s: %s" % (self.where, what))

    def skip_space(self, newlines=False):
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.pos += 1
            elif ch == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
                if not newlines:
                    return
            else:
                return

    def peek(self):
        if self.pos < len(self.text):
            return self.text[self.pos]
        return ""

    def value(self):
        ch = self.peek()
        if ch == '"':
            return self.basic_string()
        if ch == "'":
            end = self.text.find("'", self.pos + 1)
            if end < 0 or "\n" in self.text[self.pos:end]:
                self.fail("unterminated literal string")
            text = self.text[self.pos + 1:end]
            self.pos = end + 1
            return text
        if ch == "[":
            return self.array()
        match = re.match(r"[A-Za-z0-9_+.:-]+", self.text[self.pos:])
        if not match:
            self.fail("expected a value")
        word = match.group(0)
        self.pos += len(word)
        if word == "true":
            return True
        if word == "false":
            return False
        if _INT.match(word):
            return int(word.replace("_", ""))
        try:
            return float(word)
        except ValueError:
            self.fail("unsupported value %r" % word)

    def basic_string(self):
        self.pos += 1
        out = []
        while True:
            if self.pos >= len(self.text) or self.text[self.pos] == "\n":
                self.fail("unterminated string")
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                code = self.text[self.pos + 1:self.pos + 2]
                if code in _ESCAPES:
                    out.append(_ESCAPES[code])
                    self.pos += 2
                    continue
                self.fail("unsupported escape \\%s" % code)
            out.append(ch)
            self.pos += 1

    def array(self):
        self.pos += 1
        items = []
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "]":
                self.pos += 1
                return items
            if self.peek() == "":
                self.fail("unterminated array")
            items.append(self.value())
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() == "":
                self.fail("unterminated array")
            elif self.peek() != "]":
                self.fail("expected ',' or ']' in array")


def loads(text, name="<string>"):
    """Parse text; returns a dict (tables are dicts, [[x]] is a list of dicts)."""
    root = {}
    current = root
    lines = text.splitlines(True)
    index = 0
    while index < len(lines):
        lineno = index + 1
        line = lines[index]
        index += 1
        stripped = line.strip()
        where = "%s:%d" % (name, lineno)
        if not stripped or stripped.startswith("#"):
            continue
        header = re.match(r"^\[\[\s*([A-Za-z0-9_-]+)\s*\]\]\s*(#.*)?$", stripped)
        if header:
            tables = root.setdefault(header.group(1), [])
            if not isinstance(tables, list):
                raise ValueError("%s: %s is not an array of tables" % (where, header.group(1)))
            current = {}
            tables.append(current)
            continue
        header = re.match(r"^\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$", stripped)
        if header:
            if header.group(1) in root:
                raise ValueError("%s: table [%s] defined twice" % (where, header.group(1)))
            current = {}
            root[header.group(1)] = current
            continue
        match = _KEY.match(stripped)
        if not match:
            raise ValueError("%s: expected 'key = value' or a [table] header" % where)
        key = match.group(1)
        rest = match.group(2)
        # An array may continue on the following lines: feed them in until it closes.
        cursor = _Cursor(rest, where)
        while True:
            try:
                value = cursor.value()
                break
            except ValueError as err:
                if "unterminated array" not in str(err) or index >= len(lines):
                    raise
                rest += "\n" + lines[index].rstrip("\r\n")
                index += 1
                cursor = _Cursor(rest, where)
        cursor.skip_space()
        if cursor.peek() not in ("", "\n"):
            raise ValueError("%s: unexpected text after the value of %s" % (where, key))
        if key in current:
            raise ValueError("%s: duplicate key %s" % (where, key))
        current[key] = value
    return root


def load(path):
    try:
        handle = open(path)
    except (IOError, OSError) as err:
        raise ValueError("cannot read %s: %s" % (path, err.strerror or err))
    try:
        return loads(handle.read(), path)
    finally:
        handle.close()
