"""The Rocks-sanctioned hub setup (ROCKS.md section 2, option 1) and its undo.

Setup: the frontend's single DB row on subnet ``private`` is renamed to the bridge
(``br0``) and marked ``noreport``, ``Kickstart_PrivateInterface`` follows, the private
NIC becomes a port of the bridge that carries the private address. Then everything
Rocks generates from the DB follows by itself: ``DHCPDARGS="br0"``, the private
firewall rules as ``-i br0``, insert-ethers accepting ``via br0``. Our additions are
DB firewall rules, a dhcpd unit drop-in (EL7's unit ignores DHCPDARGS) and
br_netfilter for the tunnel syslog guard.
"""
from __future__ import absolute_import, division, print_function

import os

from segbridge_rocks import config, facts as factsmod, firewall, ifcfg, paths
from segbridge_rocks.plan import Backup, Plan, PlanError, RemoveFile, Run, WriteFile

DHCPD_DROPIN = """# Written by 'rocks sync segbridge'. EL7's dhcpd.service ignores
# /etc/sysconfig/dhcpd; Rocks writes DHCPDARGS there from the cluster DB (the
# frontend's private interface, br0 in the segbridge hub topology), so honour it.
[Service]
EnvironmentFile=-/etc/sysconfig/dhcpd
ExecStart=
ExecStart=/usr/sbin/dhcpd -f -cf /etc/dhcp/dhcpd.conf -user dhcpd -group dhcpd --no-pid $DHCPDARGS
"""

MODULES_LOAD = "# segbridge: iptables sees bridged frames (tunnel syslog guard)\nbr_netfilter\n"
SYSCTL = ("# segbridge: bridged frames pass iptables so the physdev rules apply\n"
          "net.bridge.bridge-nf-call-iptables = 1\n")


class Options(object):
    def __init__(self, bridge=None, nic=None, port=None, syslog_guard=True):
        self.bridge = bridge
        self.nic = nic
        self.port = port
        self.syslog_guard = syslog_guard


def _rocks(*words):
    return [paths.rocks_binary()] + list(words)


def _single_private(facts):
    rows = facts.private
    if len(rows) != 1:
        raise PlanError(
            "frontend %s has %d interfaces on subnet 'private' in the cluster DB; Rocks "
            "needs exactly one (with more, DHCPDARGS falls back to eth0, the private "
            "firewall rules are dropped and insert-ethers picks one at random). Fix it "
            "with 'rocks list host interface %s' / 'rocks remove host interface' first."
            % (facts.frontend, len(rows), facts.frontend))
    row = rows[0]
    if not row.ip:
        raise PlanError("the frontend's private interface %s has no IP in the DB" % row.device)
    return row


def _read(path):
    handle = open(path)
    try:
        return handle.read()
    finally:
        handle.close()


def _check_nic(notes, nic, db_mac):
    """Refuse before touching anything if the NIC does not exist here; a MAC that
    differs from the DB row is worth a note (ifcfg gets the DB's HWADDR)."""
    base = os.path.join(paths.sys_class_net(), nic)
    if not os.path.exists(base):
        raise PlanError("this host has no network interface %s (pass nic=<device>)" % nic)
    try:
        actual = _read(os.path.join(base, "address")).strip().lower()
    except (IOError, OSError):
        return
    if db_mac and actual and actual != db_mac.lower():
        notes.append("%s has MAC %s but the DB row says %s; ifcfg-%s gets HWADDR=%s"
                     % (nic, actual, db_mac, nic, db_mac))


def _write_if_changed(plan, path, content, why):
    """Adds a WriteFile step unless the file already has exactly this content."""
    step = WriteFile(path, content, why)
    try:
        if _read(path) == step.content:
            return False
    except (IOError, OSError):
        pass
    plan.add(step)
    return True


def _firewall_steps(plan, facts, wanted):
    existing = dict((r.rulename, r) for r in facts.rules)
    for rule in wanted:
        row = existing.pop(rule.rulename, None)
        if row is not None and rule.same_as(row):
            plan.note("firewall rule %s is already in the DB" % rule.rulename)
            continue
        if row is not None:
            plan.add(Run(firewall.remove_argv(rule.rulename),
                         "replace firewall rule %s (its definition changed)" % rule.rulename))
        plan.add(Run(firewall.add_argv(rule), "firewall: %s" % rule.comment))
    for rulename in sorted(existing):
        plan.add(Run(firewall.remove_argv(rulename),
                     "remove firewall rule %s (no longer wanted)" % rulename))


def _regenerate_steps(plan, facts):
    if facts.insert_ethers_running:
        raise PlanError(
            "insert-ethers is running (%s exists): 'rocks sync config' would silently do "
            "nothing. Quit insert-ethers (or remove a stale lock) and run this again."
            % paths.insert_ethers_lock())
    plan.add(Run(_rocks("sync", "config"),
                 "regenerate dhcpd.conf and /etc/sysconfig/dhcpd (DHCPDARGS) from the DB"))
    if facts.version_major >= 7:
        plan.add(Run(["systemctl", "restart", "dhcpd"], "restart dhcpd on the new interface"))
    else:
        plan.add(Run(["service", "dhcpd", "restart"], "restart dhcpd on the new interface"))
    plan.add(Run(firewall.sync_argv(), "regenerate and load /etc/sysconfig/iptables"))


def _shim_config_step(plan, device, why):
    path = paths.shim_conf()
    settings = config.read_shim(path)
    if not settings.exists:
        plan.note("%s does not exist yet: set private_interface = \"%s\" in it" % (path, device))
        return False
    if settings.from_rocks:
        # it reads the DB device itself at start: a restart is all it needs
        plan.add(Run(["systemctl", "try-restart", "insert-ethers-shim.service"],
                     "insert-ethers-shim reads the new private device from Rocks",
                     may_fail=True))
        return False
    if settings.private_interface == device:
        return False
    plan.add(Backup(path, os.path.join(paths.backup_dir(), os.path.basename(path)),
                    "save the original %s" % os.path.basename(path)))
    plan.add(WriteFile(path, config.with_private_interface(_read(path), device), why))
    return True


def plan_setup(facts, options):
    daemon = config.read_daemon(paths.segbridged_conf())
    bridge = factsmod.check_name(options.bridge or daemon.bridge, "bridge name")
    if len(bridge) > 15:
        raise PlanError("bridge name %r is longer than an interface name may be" % bridge)
    port = options.port or daemon.port
    row = _single_private(facts)
    if options.nic:
        nic = options.nic
    elif row.device != bridge:
        nic = row.device
    elif facts.private_interface_attr and facts.private_interface_attr != bridge:
        nic = facts.private_interface_attr
    elif len(_find_bridge_port(bridge)) == 1:
        nic = _find_bridge_port(bridge)[0]  # set up before: the port named in its ifcfg
    else:
        raise PlanError("the DB already names %s as the private interface; say which NIC "
                        "is its port with nic=<device>" % bridge)
    factsmod.check_name(nic, "NIC name")
    if nic == bridge:
        raise PlanError("nic and bridge are both %s" % nic)
    plan_notes = []
    _check_nic(plan_notes, nic, row.mac)
    fe = facts.frontend
    scripts = paths.network_scripts_dir()

    plan = Plan("segbridge hub setup for frontend %s: %s carries %s, %s is its port"
                % (fe, bridge, row.ip, nic))
    for note in plan_notes:
        plan.note(note)
    if daemon.exists and daemon.bridge != bridge:
        plan.note("%s says bridge = \"%s\"; set it to \"%s\"" % (daemon.path, daemon.bridge, bridge))
    if nic in daemon.bridge_ports:
        plan.note("%s lists %s in bridge_ports; with the ifcfg files below the network "
                  "service enslaves it, so remove it there" % (daemon.path, nic))

    # Order: what may fail for reasons outside Rocks (a kernel without br_netfilter)
    # and what is inert until dhcpd restarts come first, so a failure there leaves the
    # DB and the network untouched.
    # 1. bridge netfilter for the physdev rules
    if options.syslog_guard:
        _write_if_changed(plan, paths.modules_load_conf(), MODULES_LOAD,
                          "load br_netfilter at boot")
        if _write_if_changed(plan, paths.sysctl_conf(), SYSCTL,
                             "bridged frames traverse iptables"):
            plan.add(Run(["modprobe", "br_netfilter"],
                         "load br_netfilter now (built into bridge on older EL7 kernels)",
                         may_fail=True))
            plan.add(Run(["sysctl", "-p", paths.sysctl_conf()],
                         "apply the sysctl now (a kernel without bridge netfilter fails "
                         "here, before anything else changed: use syslogguard=false)"))
    else:
        for path in (paths.modules_load_conf(), paths.sysctl_conf()):
            if os.path.exists(path):
                plan.add(RemoveFile(path, "syslog guard off: no bridge netfilter at boot"))

    # 2. dhcpd must listen on the bridge (takes effect at the restart below)
    if facts.version_major >= 7:
        if _write_if_changed(plan, paths.dhcpd_dropin(), DHCPD_DROPIN,
                             "dhcpd.service honours DHCPDARGS (written by Rocks from the DB)"):
            plan.add(Run(["systemctl", "daemon-reload"], "load the dhcpd drop-in"))

    plan.add(Backup(os.path.join(scripts, "ifcfg-" + nic),
                    os.path.join(paths.backup_dir(), "ifcfg-" + nic),
                    "save the original ifcfg-%s" % nic))

    # 3. the cluster DB: the only place Rocks reads the private device from
    if row.device != bridge:
        if not row.mac:
            raise PlanError("the private DB row %s has no MAC; rename it by hand: rocks "
                            "remove host interface / add host interface %s %s ip=%s "
                            "subnet=private" % (row.device, fe, bridge, row.ip))
        plan.add(Run(_rocks("set", "host", "interface", "iface", fe, row.mac, bridge),
                     "cluster DB: the private interface of %s is now %s" % (fe, bridge)))
    if not row.noreport:
        value = "noreport"
        if row.options.strip():
            value = "noreport " + row.options.strip()
        plan.add(Run(_rocks("set", "host", "interface", "options", fe, "iface=" + bridge,
                            "options=" + value),
                     "cluster DB: Rocks must not write ifcfg-%s (we do, as a bridge)" % bridge))
    if facts.private_interface_attr != bridge:
        plan.add(Run(_rocks("set", "attr", "Kickstart_PrivateInterface", bridge),
                     "keep Kickstart_PrivateInterface consistent with the DB row"))

    # 4. the network: the address moves to the bridge, the NIC becomes its port
    # (unchanged files are not rewritten and the network is only bounced when they
    # change: running the command again on a working hub must not disturb it)
    changed = _write_if_changed(plan, os.path.join(scripts, "ifcfg-" + bridge),
                                ifcfg.bridge(bridge, row.ip, row.netmask, row.mtu),
                                "ifcfg-%s: bridge with the private address, STP off, no "
                                "forward delay" % bridge)
    changed = _write_if_changed(plan, os.path.join(scripts, "ifcfg-" + nic),
                                ifcfg.bridge_port(nic, row.mac, bridge, row.mtu),
                                "ifcfg-%s: port of %s" % (nic, bridge)) or changed
    if changed:
        plan.add(Run(["ifdown", nic], "take %s down (the private address leaves it)" % nic,
                     may_fail=True))
        plan.add(Run(["ifup", bridge], "bring up %s with the private address" % bridge))
        plan.add(Run(["ifup", nic], "enslave %s to %s" % (nic, bridge)))

    # 5. the shim announces `via <DB private device>`
    shim_changed = _shim_config_step(
        plan, bridge, "insert-ethers-shim: private_interface = %s (the DB device)" % bridge)

    # 6. firewall rules in the DB, then let Rocks regenerate everything
    _firewall_steps(plan, facts, firewall.wanted_rules(port, options.syslog_guard))
    _regenerate_steps(plan, facts)
    if shim_changed:
        plan.add(Run(["systemctl", "try-restart", "insert-ethers-shim.service"],
                     "restart the shim if it runs, to read its new private_interface",
                     may_fail=True))
    return plan


def _find_bridge_port(bridge):
    """The NIC whose ifcfg file says BRIDGE=<bridge> (what setup wrote)."""
    scripts = paths.network_scripts_dir()
    found = []
    if os.path.isdir(scripts):
        for name in sorted(os.listdir(scripts)):
            if not name.startswith("ifcfg-"):
                continue
            try:
                text = _read(os.path.join(scripts, name))
            except (IOError, OSError):
                continue
            for line in text.splitlines():
                if line.strip().replace('"', "") == "BRIDGE=%s" % bridge:
                    found.append(name[len("ifcfg-"):])
    return found


def plan_teardown(facts, options):
    daemon = config.read_daemon(paths.segbridged_conf())
    bridge = factsmod.check_name(options.bridge or daemon.bridge, "bridge name")
    row = _single_private(facts)
    if row.device != bridge:
        raise PlanError("the DB names %s, not %s, as the private interface: nothing to undo "
                        "(pass bridge=<name> if another bridge was used)" % (row.device, bridge))
    nic = options.nic
    if not nic:
        ports = _find_bridge_port(bridge)
        if len(ports) != 1:
            raise PlanError("cannot tell which NIC to give the private address back to "
                            "(ifcfg files with BRIDGE=%s: %s); pass nic=<device>"
                            % (bridge, ", ".join(ports) or "none"))
        nic = ports[0]
    factsmod.check_name(nic, "NIC name")
    _check_nic([], nic, None)
    fe = facts.frontend
    scripts = paths.network_scripts_dir()
    plan = Plan("undo the segbridge hub setup on %s: %s gets %s back, %s goes away"
                % (fe, nic, row.ip, bridge))

    plan.add(Run(["systemctl", "stop", "insert-ethers-shim.service", "segbridged.service"],
                 "stop the shim and the tunnel (they use %s)" % bridge, may_fail=True))
    for rule in sorted(r.rulename for r in facts.rules):
        plan.add(Run(firewall.remove_argv(rule), "remove firewall rule %s" % rule))

    if not row.mac:
        raise PlanError("the private DB row %s has no MAC; rename it by hand" % row.device)
    plan.add(Run(_rocks("set", "host", "interface", "iface", fe, row.mac, nic),
                 "cluster DB: the private interface of %s is %s again" % (fe, nic)))
    rest = row.options.strip()
    if row.noreport:
        rest = rest[len("noreport"):].strip()
        plan.add(Run(_rocks("set", "host", "interface", "options", fe, "iface=" + nic,
                            "options=" + (rest or "NULL")),
                     "cluster DB: Rocks writes ifcfg-%s again" % nic))
    plan.add(Run(_rocks("set", "attr", "Kickstart_PrivateInterface", nic),
                 "Kickstart_PrivateInterface = %s" % nic))

    backup = os.path.join(paths.backup_dir(), "ifcfg-" + nic)
    if os.path.exists(backup):
        original = _read(backup)
        why = "restore the original ifcfg-%s" % nic
    else:
        original = ifcfg.plain(nic, row.mac, row.ip, row.netmask, row.mtu)
        why = "ifcfg-%s with the private address (no saved original)" % nic
    plan.add(Run(["ifdown", nic], "release %s from %s" % (nic, bridge), may_fail=True))
    plan.add(Run(["ifdown", bridge], "take %s down" % bridge, may_fail=True))
    plan.add(WriteFile(os.path.join(scripts, "ifcfg-" + nic), original, why))
    plan.add(RemoveFile(os.path.join(scripts, "ifcfg-" + bridge), "forget ifcfg-%s" % bridge))
    plan.add(Run(["ip", "link", "delete", bridge, "type", "bridge"], "delete %s" % bridge,
                 may_fail=True))
    plan.add(Run(["ifup", nic], "bring %s up with the private address" % nic))

    plan.add(RemoveFile(paths.dhcpd_dropin(), "remove the dhcpd drop-in"))
    if facts.version_major >= 7:
        plan.add(Run(["systemctl", "daemon-reload"], "unload the dhcpd drop-in"))
    plan.add(RemoveFile(paths.modules_load_conf(), "no br_netfilter at boot"))
    plan.add(RemoveFile(paths.sysctl_conf(), "no bridge-nf sysctl at boot"))
    plan.note("br_netfilter stays loaded until the next reboot (harmless without br0)")
    _shim_config_step(plan, nic, "insert-ethers-shim: private_interface = %s" % nic)
    _regenerate_steps(plan, facts)
    return plan
