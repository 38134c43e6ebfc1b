"""The tunnels under test. Each one joins the two gateways' br0 in a Rig.

A tunnel reports why it cannot run (`unavailable()`), starts inside a rig
(`start()`, which returns only once frames cross), names the daemon processes
whose CPU time is charged to it (`daemons`), and says which version ran.
"""
import json
import os
import re
import shutil
import subprocess
import time

import rig as rigmod
from netlab import binary, build_dir, source_dir, wait_until

READY_TIMEOUT = 30.0  # seconds a tunnel may take to pass its first ping


def _first_line(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "unknown (%s)" % e
    text = (r.stdout or r.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def require_running(daemons):
    """Raise at once (instead of waiting out a timeout) if a daemon has exited."""
    for p in daemons:
        if not p.alive():
            raise RuntimeError("%s exited with %s: %s" % (p.name, p.popen.returncode, p.log().strip()[-1500:]))


def wait_while_running(predicate, daemons, timeout, what):
    """wait_until(predicate), but a daemon that exits ends the wait with its log."""
    def check():
        require_running(daemons)
        return predicate()
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except RuntimeError:
            raise
        except Exception as e:  # transient (control socket not there yet, ...)
            last = e
        else:
            last = None
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.0fs waiting for %s%s" % (
                timeout, what, " (last error: %r)" % (last,) if last else ""))
        time.sleep(0.2)


def wait_for_hosts_to_ping(rig, timeout=READY_TIMEOUT):
    """Frames really cross the tunnel: host A pings host B through both bridges."""
    wait_until(lambda: rig.ha.ok(["ping", "-c", "1", "-W", "1", rigmod.HOST_B_IP], timeout=5),
               timeout, interval=0.2, what="%s: host A to ping host B" % rig.tag)


class Tunnel:
    key = ""          # short id used on the command line and in results
    label = ""        # column/row label in the table
    kernel = False    # no daemon: CPU per GB is not attributable

    def __init__(self):
        self.daemons = []

    def unavailable(self):
        """None if this tunnel can run here, else the reason shown in its row."""
        return None

    def version(self):
        return "kernel " + os.uname().release

    def start(self, rig, workdir):
        raise NotImplementedError

    def final_state(self, rig):
        """Anything the daemons report about themselves after the run (for results.json)."""
        return None


class PlainBridge(Tunnel):
    """The ceiling: the two gateway bridges joined directly by a veth (no tunnel)."""
    key = "veth"
    label = "plain veth bridge (ceiling)"
    kernel = True

    def start(self, rig, workdir):
        rig.lab.veth(rig.ga, "ceil0", rig.gb, "ceil0", mtu=rigmod.MTU)
        for gw in rig.gateways():
            rig.add_bridge_port(gw, "ceil0")
        wait_for_hosts_to_ping(rig)


class KernelVxlan(Tunnel):
    """Kernel VXLAN, unencrypted. Its MTU is the LAN's (1500) so it can be a bridge
    port next to lan0; without a lower `dev` the kernel allows that and the
    50-byte overhead has to go somewhere (outer fragments or PMTU errors)."""
    key = "vxlan"
    label = "kernel VXLAN (no encryption)"
    kernel = True

    def start(self, rig, workdir):
        for gw, local, remote in ((rig.ga, rigmod.GW_A_WAN, rigmod.GW_B_WAN),
                                  (rig.gb, rigmod.GW_B_WAN, rigmod.GW_A_WAN)):
            gw.run(["ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "local", local,
                    "remote", remote, "dstport", "4789"])
            gw.run(["ip", "link", "set", "vx0", "mtu", str(rigmod.MTU)])
            rig.add_bridge_port(gw, "vx0")
        wait_for_hosts_to_ping(rig)


class OpenVpnTap(Tunnel):
    """OpenVPN 2.6 point-to-point, dev tap bridged, TLS with certificates made
    for this run (self-signed, pinned with --peer-fingerprint), AES-256-GCM data
    channel. Defaults otherwise (tun-mtu 1500, so full frames leave as fragmented
    outer UDP), plus --fast-io, the usual Linux tuning."""
    key = "openvpn"
    label = "OpenVPN tap AES-256-GCM"
    PORT = "1194"

    def unavailable(self):
        if shutil.which("openvpn") is None:
            return "not installed"
        if shutil.which("openssl") is None:
            return "openssl not installed"
        return None

    def version(self):
        return _first_line(["openvpn", "--version"])

    @staticmethod
    def _make_identity(workdir, name):
        key, crt = os.path.join(workdir, name + ".key"), os.path.join(workdir, name + ".crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=l2bench-" + name],
                       check=True, capture_output=True, timeout=30)
        out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-fingerprint", "-sha256"],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        fingerprint = out.strip().split("=", 1)[1]
        return key, crt, fingerprint

    def start(self, rig, workdir):
        ids = {name: self._make_identity(workdir, name) for name in ("gA", "gB")}
        sides = ((rig.ga, "gA", "gB", rigmod.GW_A_WAN, rigmod.GW_B_WAN, ["--tls-server", "--dh", "none"]),
                 (rig.gb, "gB", "gA", rigmod.GW_B_WAN, rigmod.GW_A_WAN, ["--tls-client"]))
        for gw, me, peer, local, remote, role in sides:
            # A persistent tap made first, so it is a bridge port before OpenVPN opens it.
            gw.run(["ip", "tuntap", "add", "dev", "ovpn0", "mode", "tap"])
            rig.add_bridge_port(gw, "ovpn0")
            key, crt, _ = ids[me]
            argv = ["openvpn", "--dev", "ovpn0", "--dev-type", "tap", "--proto", "udp",
                    "--local", local, "--lport", self.PORT, "--remote", remote, "--rport", self.PORT,
                    "--cert", crt, "--key", key, "--peer-fingerprint", ids[peer][2],
                    "--cipher", "AES-256-GCM", "--data-ciphers", "AES-256-GCM",
                    "--ping", "10", "--ping-restart", "60", "--fast-io", "--verb", "3"] + role
            self.daemons.append(gw.spawn(argv, name="openvpn"))
        wait_while_running(lambda: all("Initialization Sequence Completed" in p.log() for p in self.daemons),
                           self.daemons, READY_TIMEOUT, "OpenVPN: 'Initialization Sequence Completed' on both ends")
        wait_for_hosts_to_ping(rig)


class Segbridged(Tunnel):
    """segbridged, hub on gA and spoke on gB (docs/segbridged.conf.md), PSK mode."""
    key = "segbridged"
    label = "segbridged"
    PORT = 7440

    def unavailable(self):
        for rel in ("daemon/segbridged", "daemon/segbridgectl"):
            if not os.path.exists(os.path.join(build_dir(), rel)):
                return "not built"
        return None

    def version(self):
        try:
            rev = subprocess.run(["git", "-C", source_dir(), "describe", "--always", "--dirty"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            rev = ""
        return "segbridged git %s" % (rev or "unknown")

    def _config(self, workdir, side, psk):
        sock = os.path.join(workdir, "segbridged-%s.sock" % side)
        if side == "gA":
            daemon = ('name = "hub"\nrole = "hub"\nlisten = "%s:%d"\n' % (rigmod.GW_A_WAN, self.PORT))
            peer = 'name = "siteb"\n'
        else:
            daemon = 'name = "siteb"\nrole = "spoke"\n'
            peer = 'name = "hub"\nendpoint = "%s:%d"\n' % (rigmod.GW_A_WAN, self.PORT)
        text = ("[daemon]\n" + daemon +
                'bridge = "br0"\ncreate_bridge = false\ncontrol_socket = "%s"\npath_mtu = %d\n'
                'psk_file = "%s"\nlog_level = "info"\n\n[[peer]]\n%s' % (sock, rigmod.MTU, psk, peer))
        path = os.path.join(workdir, "segbridged-%s.conf" % side)
        with open(path, "w") as f:
            f.write(text)
        return path, sock

    def start(self, rig, workdir):
        daemon_bin, ctl_bin = binary("daemon/segbridged"), binary("daemon/segbridgectl")
        psk = os.path.join(workdir, "segbridged.psk")
        key = subprocess.run([daemon_bin, "genkey"], check=True, capture_output=True, text=True,
                             timeout=10).stdout
        with open(psk, "w") as f:
            f.write(key)
        os.chmod(psk, 0o600)
        socks = {}
        for gw, side in ((rig.ga, "gA"), (rig.gb, "gB")):
            conf, sock = self._config(workdir, side, psk)
            gw.run([daemon_bin, "--check", "-c", conf])
            self.daemons.append(gw.spawn([daemon_bin, "-c", conf], name="segbridged"))
            socks[gw.name] = sock

        def established():
            r = rig.gb.run([ctl_bin, "-s", socks[rig.gb.name], "status", "--json"], check=False, timeout=5)
            if r.returncode != 0:
                return False
            peers = json.loads(r.stdout).get("peers", [])
            return bool(peers) and all(p.get("state") == "established" for p in peers)

        wait_while_running(established, self.daemons, READY_TIMEOUT, "segbridged spoke: peer established")
        wait_for_hosts_to_ping(rig)
        self._ctl, self._socks = ctl_bin, socks

    def final_state(self, rig):
        state = {}
        for gw in rig.gateways():
            r = gw.run([self._ctl, "-s", self._socks[gw.name], "status", "--json"], check=False, timeout=5)
            try:
                state[gw.name.rsplit("-", 1)[1]] = json.loads(r.stdout)
            except ValueError:
                state[gw.name.rsplit("-", 1)[1]] = {"error": (r.stdout + r.stderr).strip()[-500:]}
        return state


ALL = (PlainBridge, KernelVxlan, OpenVpnTap, Segbridged)


def by_keys(keys):
    known = {t.key: t for t in ALL}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError("unknown tunnel(s) %s; choose from %s" % (", ".join(unknown), ", ".join(known)))
    return [known[k] for k in keys]


def openvpn_cipher_line(daemon):
    """The data-channel cipher OpenVPN reports it negotiated (for the record)."""
    m = re.search(r"Data Channel: cipher '([^']+)'", daemon.log())
    return m.group(1) if m else None
