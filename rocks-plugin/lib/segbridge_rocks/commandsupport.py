"""Glue between Rocks command objects (rocks.commands.Command) and our library."""
from __future__ import absolute_import, division, print_function

import sys

from segbridge_rocks import facts as factsmod
from segbridge_rocks.plan import PlanError


def gather(command, rocks_module):
    db = command.db
    frontend = db.getHostname("localhost")
    attr = db.getHostAttr("localhost", "Kickstart_PrivateInterface")
    return factsmod.gather(db, frontend, attr, factsmod.rocks_version_major(rocks_module))


def parse_port(command, value):
    if value is None:
        return None
    try:
        port = int(value)
    except ValueError:
        port = 0
    if port < 1 or port > 65535:
        command.abort("port=%s is not a UDP port number" % value)
    return port


def progress(line):
    # printed as it happens: a plan runs for a minute (rocks sync config), the
    # command's text buffer would only appear at the end
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_plan(command, build, dryrun):
    """build() -> Plan. Dry run: the script becomes the command's output."""
    try:
        plan = build()
    except (PlanError, ValueError) as err:
        command.abort(str(err))
        return
    if dryrun:
        command.addText(plan.script())
        return
    for note in plan.notes:
        progress("NOTE: " + note)
    try:
        plan.execute(report=progress)
    except PlanError as err:
        command.abort("%s\nThe steps before it were applied; fix the cause and run the "
                      "command again (every step is safe to repeat)." % err)
    progress("done: %s" % plan.title)
