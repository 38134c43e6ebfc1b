"""A list of steps that is either printed as a shell script (dry run, the default of
every segbridge command that changes the frontend) or executed in order, stopping at
the first failure. Printing and executing walk the same objects, so what an admin
reviews is exactly what runs.
"""
from __future__ import absolute_import, division, print_function

import os
import re

from segbridge_rocks import process

_SAFE = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
_HEREDOC = "SEGBRIDGE_EOF"


def shell_quote(word):
    if word and _SAFE.match(word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


class PlanError(Exception):
    pass


class Run(object):
    """Run a program. may_fail: a non-zero exit is reported but does not stop the plan."""

    def __init__(self, argv, why, may_fail=False, timeout=600.0):
        self.argv = list(argv)
        self.why = why
        self.may_fail = may_fail
        self.timeout = timeout

    def shell(self):
        line = " ".join(shell_quote(w) for w in self.argv)
        if self.may_fail:
            line += " || true"
        return line

    def execute(self, runner):
        result = runner(self.argv, self.timeout)
        if not result.ok and not self.may_fail:
            raise PlanError(result.describe())
        return result.describe()


class WriteFile(object):
    def __init__(self, path, content, why, mode=0o644):
        if _HEREDOC in content:
            raise ValueError("file content may not contain %s" % _HEREDOC)
        if content and not content.endswith("\n"):
            content += "\n"
        self.path = path
        self.content = content
        self.why = why
        self.mode = mode

    def shell(self):
        directory = os.path.dirname(self.path)
        return "mkdir -p %s\ncat > %s <<'%s'\n%s%s\nchmod %o %s" % (
            shell_quote(directory), shell_quote(self.path), _HEREDOC, self.content,
            _HEREDOC, self.mode, shell_quote(self.path))

    def execute(self, runner):
        directory = os.path.dirname(self.path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory)
        # write-then-rename: a crash never leaves a half-written ifcfg or config file
        temporary = self.path + ".segbridge-tmp"
        handle = open(temporary, "w")
        try:
            handle.write(self.content)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            handle.close()
        os.chmod(temporary, self.mode)
        os.rename(temporary, self.path)
        return "wrote %s" % self.path


class Backup(object):
    """Keep the first original of a file we are about to replace (never overwrite an
    older backup: running setup twice must not save our own generated file)."""

    def __init__(self, path, backup, why):
        self.path = path
        self.backup = backup
        self.why = why

    def shell(self):
        return "mkdir -p %s\n[ -e %s ] || [ ! -e %s ] || cp -p %s %s" % (
            shell_quote(os.path.dirname(self.backup)), shell_quote(self.backup),
            shell_quote(self.path), shell_quote(self.path), shell_quote(self.backup))

    def execute(self, runner):
        if os.path.exists(self.backup) or not os.path.exists(self.path):
            return "backup of %s: nothing to do" % self.path
        directory = os.path.dirname(self.backup)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        source = open(self.path, "rb")
        try:
            data = source.read()
        finally:
            source.close()
        target = open(self.backup, "wb")
        try:
            target.write(data)
        finally:
            target.close()
        os.chmod(self.backup, os.stat(self.path).st_mode & 0o7777)
        return "saved %s as %s" % (self.path, self.backup)


class RemoveFile(object):
    def __init__(self, path, why):
        self.path = path
        self.why = why

    def shell(self):
        return "rm -f %s" % shell_quote(self.path)

    def execute(self, runner):
        if os.path.lexists(self.path):
            os.unlink(self.path)
            return "removed %s" % self.path
        return "%s: already absent" % self.path


class Plan(object):
    def __init__(self, title):
        self.title = title
        self.steps = []
        self.notes = []

    def add(self, step):
        self.steps.append(step)
        return step

    def note(self, text):
        """Something the admin must know that is not a step (printed as a comment)."""
        self.notes.append(text)

    def script(self):
        out = ["#!/bin/sh", "# %s" % self.title,
               "# Dry run: nothing was changed. Review, then run the same command with",
               "# dryrun=false (or pipe this script to 'sh -e').", "set -e"]
        for note in self.notes:
            out.append("# NOTE: %s" % note)
        for number, step in enumerate(self.steps):
            out.append("")
            out.append("# %d. %s" % (number + 1, step.why))
            out.append(step.shell())
        return "\n".join(out) + "\n"

    def execute(self, runner=None, report=None):
        """Run every step; report(text) gets one line per step. PlanError names the
        failing step; the steps before it have been applied (the plan is idempotent,
        so fix the cause and run it again)."""
        if runner is None:
            runner = _default_runner
        for number, step in enumerate(self.steps):
            try:
                outcome = step.execute(runner)
            except (OSError, IOError) as err:
                raise PlanError("step %d (%s) failed: %s" % (number + 1, step.why, err))
            except PlanError as err:
                raise PlanError("step %d (%s) failed: %s" % (number + 1, step.why, err))
            if report is not None:
                report("%d. %s: %s" % (number + 1, step.why, outcome))


def _default_runner(argv, timeout):
    return process.run(argv, timeout=timeout)
