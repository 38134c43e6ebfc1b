"""Run an external program with a time limit, on Python 2.6+ and 3.

insert-ethers calls its plugins synchronously from its TUI loop, so nothing we run from
there may hang: every call has a deadline after which the child is killed.
Python 2's subprocess has no ``timeout=``, hence the small poll loop.
"""
from __future__ import absolute_import, division, print_function

import os
import subprocess
import tempfile
import time


class Result(object):
    def __init__(self, argv, returncode, stdout, stderr, timed_out=False):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out

    @property
    def ok(self):
        return self.returncode == 0 and not self.timed_out

    def describe(self):
        """One line for logs: what ran and how it ended."""
        what = " ".join(self.argv)
        if self.timed_out:
            return "%s: timed out" % what
        if self.returncode is None:
            return "%s: not run: %s" % (what, self.stderr.strip())
        if self.returncode != 0:
            detail = self.stderr.strip().splitlines()
            tail = detail[-1] if detail else ""
            return "%s: exit %d %s" % (what, self.returncode, tail)
        return "%s: ok" % what


def _text(data):
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


def run(argv, timeout=10.0, env=None):
    """Run argv (a list, never a shell string) and return a Result.

    A program that cannot be started yields returncode None (not an exception): callers
    in insert-ethers must degrade, never crash. Output goes to temporary files, not
    pipes, so a child printing more than a pipe buffer (a big ``list --json``) cannot
    block while we wait for it.
    """
    out_file = tempfile.TemporaryFile()
    err_file = tempfile.TemporaryFile()
    devnull = open(os.devnull, "rb")
    try:
        try:
            child = subprocess.Popen(
                argv, stdin=devnull, stdout=out_file, stderr=err_file, close_fds=True, env=env
            )
        except OSError as err:
            return Result(argv, None, "", str(err))
        deadline = time.time() + timeout
        delay = 0.002
        timed_out = False
        while child.poll() is None:
            if time.time() >= deadline:
                timed_out = True
                try:
                    child.kill()
                except OSError:
                    pass
                child.wait()
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        out_file.seek(0)
        err_file.seek(0)
        return Result(
            argv, child.returncode, _text(out_file.read()), _text(err_file.read()), timed_out
        )
    finally:
        out_file.close()
        err_file.close()
        devnull.close()
