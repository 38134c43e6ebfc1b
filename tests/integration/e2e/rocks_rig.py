"""rocks_rig: a Rocks-like frontend and a remote site, in network namespaces,
for segbridge's end-to-end demo (scripts/demo.py) and integration test
(tests/integration/e2e/e2e_pxe_test.py). Both import this one module.

Topology (the recommended hub topology, docs/ARCHITECTURE.md "End to end"):

  local node ns        frontend ns                            site1 gateway ns
  eth0 ──────── eth0 ─┐                                      ┌─ tap pxe0 ── qemu (iPXE, -boot n)
  (udhcpc)            ├─ br0 10.1.1.1/16                     ├─ br0 (created by segbridged)
            sb-site1 ─┘  (segbridged hub tap)   (spoke tap)  └─ sb-frontend
              wan0 192.0.2.1/24 ════ 1500-MTU veth "WAN" ════ wan0 192.0.2.2/24

Frontend services, all real and all confined to the rig's namespaces and temp
dir: rsyslogd (its own imuxsock socket, traditional-format messages file),
ISC dhcpd on br0 with a Rocks-generated dhcpd.conf (no range) and a private
/dev/log (unshare --mount), in.tftpd, an HTTP server for
/install/sbin/kickstart.cgi with an Apache access log, the insert-ethers
stand-in and `rocks list host interface` stand-in (this directory), and the
insert-ethers-shim. The remote site runs segbridged as a spoke. With
second_site=True (the test) a second spoke (site2, own WAN link 192.0.2.4/30)
serves a DHCP-client node, to prove per-site attribution.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from cluster_db import ClusterDB, render_dhcpd_conf, write_atomically  # noqa: E402
import netlab  # noqa: E402
from netlab import Lab, wait_until  # noqa: E402

NETWORK = "10.1.0.0/16"
FRONTEND_IP = "10.1.1.1"
WAN_HUB = "192.0.2.1"
WAN_SPOKE = "192.0.2.2"
TUNNEL_PORT = 7440
SITE = "site1"
FRONTEND_NAME = "frontend"
PRIVATE_DEVICE = "eth0"  # the frontend's private NIC as Rocks' DB knows it
BOOT_FILE = "segbridge-e2e.ipxe"  # what dhcpd hands out as `filename` (pxelinux.0 on Rocks)
REMOTE_MAC = "52:54:00:5b:01:01"
# Optional second site (the test's multi-site check): a DHCP-client node.
SITE2 = "site2"
SITE2_MAC = "52:54:00:5b:02:01"
WAN_HUB2 = "192.0.2.5"  # the frontend's second WAN link, 192.0.2.4/30
WAN_SPOKE2 = "192.0.2.6"
LOCAL_MAC = "52:54:00:10:00:01"
FRONTEND_MAC = "52:54:00:fe:00:01"
PXE_VENDOR_CLASS = "PXEClient:Arch:00000:UNDI:002001"  # what a BIOS PXE ROM sends as option 60
KS_URL = "http://%s/install/sbin/kickstart.cgi?arch=x86_64&np=1" % FRONTEND_IP

# Like pxelinux loading the installer kernel on a Rocks node: 1 MiB over TFTP
# with iPXE's blksize 1432, i.e. 1478-byte frames that only cross a 1500-byte
# path because segbridged fragments them inside the tunnel.
KERNEL_FILE = "vmlinuz"
KERNEL_SIZE = 1 << 20
TFTP_BLKSIZE = 1432

IPXE_SCRIPT = """#!ipxe
echo segbridge-e2e: boot file fetched over TFTP from ${next-server} as ${ip}
imgfetch tftp://${next-server}/%s && echo segbridge-e2e: KERNEL FETCHED || echo segbridge-e2e: kernel fetch FAILED
imgstat
imgfetch %s && echo segbridge-e2e: KICKSTART FETCHED || echo segbridge-e2e: kickstart fetch FAILED
""" % (KERNEL_FILE, KS_URL)


def kernel_bytes():
    """KERNEL_SIZE deterministic, incompressible bytes (a SHA-256 chain)."""
    out, block = bytearray(), b"segbridge-e2e"
    while len(out) < KERNEL_SIZE:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:KERNEL_SIZE])

RSYSLOG_CONF = """# rsyslogd for the e2e frontend: its own socket, nothing from the host.
global(workDirectory="{dir}/var/spool/rsyslog")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}" CreatePath="on" RateLimit.Interval="0")
# /var/log/messages in the traditional format insert-ethers tokenizes.
*.* action(type="omfile" file="{dir}/var/log/messages" template="RSYSLOG_TraditionalFileFormat")
# The same lines with microsecond timestamps, for the stage timings.
*.* action(type="omfile" file="{dir}/var/log/messages.precise" template="RSYSLOG_FileFormat")
"""

# Runs its command in a private mount namespace (it is started under
# `unshare --mount --propagation private`) whose /dev is a small tmpfs with the
# usual nodes and /dev/log -> the rig's rsyslog socket: syslog(3) callers such
# as dhcpd and in.tftpd log to the rig, never to the host.
WITH_DEVLOG = r"""#!/bin/sh
# usage: with-devlog SOCKET EMPTY_DIR CMD [ARGS...]
set -e
sock=$1 dev=$2
shift 2
mount -t tmpfs -o mode=0755,size=64k segbridge-dev "$dev"
for n in null zero full random urandom tty; do
  if [ -e "/dev/$n" ]; then : >"$dev/$n"; mount --bind "/dev/$n" "$dev/$n"; fi
done
for d in pts shm; do
  if [ -d "/dev/$d" ]; then mkdir "$dev/$d"; mount --rbind "/dev/$d" "$dev/$d"; fi
done
if [ -e /dev/net/tun ]; then mkdir "$dev/net"; : >"$dev/net/tun"; mount --bind /dev/net/tun "$dev/net/tun"; fi
ln -s /proc/self/fd "$dev/fd"
ln -s "$sock" "$dev/log"
mount --move "$dev" /dev
exec "$@"
"""

# The frontend's `service dhcpd start|stop|restart` (what insert-ethers'
# 01-dhcpd plugin runs after regenerating dhcpd.conf).
SERVICE_DHCPD = r"""#!/bin/sh
# usage: service-dhcpd start|stop|restart
PIDFILE={pidfile}
# A zombie counts as stopped: its reaper (not us) may take a while.
alive() {{ [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }}
running() {{
  [ -s "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  alive "$pid" && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = dhcpd ]
}}
stop() {{
  if running; then
    kill "$pid"
    i=0
    while alive "$pid"; do
      i=$((i + 1))
      if [ $i -eq 100 ]; then kill -9 "$pid"; fi
      if [ $i -gt 200 ]; then echo "service-dhcpd: $pid does not exit" >&2; exit 1; fi
      sleep 0.02
    done
  fi
  rm -f "$PIDFILE"
}}
start() {{
  if running; then return 0; fi
  /usr/sbin/dhcpd -t -4 -q -cf {conf} || {{ echo "service-dhcpd: bad {conf}" >&2; exit 1; }}
  setsid unshare --mount --propagation private sh {bindir}/with-devlog {sock} {devdir} \
    /usr/sbin/dhcpd -f -4 -cf {conf} -lf {leases} -pf "$PIDFILE" {iface} </dev/null >>{log} 2>&1 &
  echo $! >"$PIDFILE"
  i=0
  until running; do
    i=$((i + 1))
    if [ $i -gt 250 ]; then echo "service-dhcpd: dhcpd did not start (see {log})" >&2; exit 1; fi
    sleep 0.02
  done
}}
case "$1" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  *) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
"""

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1bc|\r")


class RigError(RuntimeError):
    pass


class Watch(threading.Thread):
    """Tails the rig's logs in the background and timestamps every new line on
    arrival (time.monotonic()), so stage times are observed, not inferred."""

    def __init__(self, interval=0.05):
        super().__init__(daemon=True, name="rig-watch")
        self.interval = interval
        self.lock = threading.Lock()
        self.files = {}
        self.stop_event = threading.Event()

    def add(self, key, path):
        with self.lock:
            self.files[key] = {"path": path, "offset": 0, "buf": "", "lines": []}

    def _poll(self):
        # One timestamp per sweep: lines from different files seen in the same
        # sweep tie instead of being ordered by which file was read first.
        now = time.monotonic()
        with self.lock:
            items = list(self.files.values())
        for f in items:
            try:
                with open(f["path"], "r", errors="replace") as fh:
                    fh.seek(f["offset"])
                    chunk = fh.read()
                    f["offset"] = fh.tell()
            except FileNotFoundError:
                continue
            if not chunk:
                continue
            parts = (f["buf"] + chunk).split("\n")
            f["buf"] = parts.pop()
            with self.lock:
                f["lines"].extend((now, ANSI.sub("", p)) for p in parts)

    def run(self):
        while not self.stop_event.is_set():
            self._poll()
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()

    def lines(self, key):
        with self.lock:
            return list(self.files[key]["lines"]) if key in self.files else []

    def find_all(self, key, pattern):
        rx = re.compile(pattern)
        return [(t, line, m) for t, line in self.lines(key) for m in [rx.search(line)] if m]

    def first(self, key, pattern):
        hits = self.find_all(key, pattern)
        return hits[0] if hits else None

    def wait(self, key, pattern, timeout, what=None, alive=None):
        """(t, line, match) of the first line matching; raises RigError on timeout
        or as soon as `alive` (a netlab Process this depends on) has exited."""
        proc_name = getattr(alive, "name", None)
        if alive is not None and hasattr(alive, "alive"):
            alive = alive.alive
        deadline = time.monotonic() + timeout
        while True:
            hit = self.first(key, pattern)
            if hit:
                return hit
            if alive is not None and not alive():
                self._poll()
                hit = self.first(key, pattern)
                if hit:
                    return hit
                raise RigError("%s: gave up, %s exited" % (what or pattern, proc_name or "a process it depends on"))
            if time.monotonic() > deadline:
                raise RigError("timed out after %.0fs waiting for %s" % (timeout, what or pattern))
            time.sleep(0.05)


class Stage:
    def __init__(self, name, t, detail):
        self.name, self.t, self.detail = name, t, detail


class RockLab(Lab):
    """A Lab that also stops dhcpd, which the frontend's `service-dhcpd` runs
    detached (insert-ethers restarts it), before the namespaces go."""

    def __init__(self, tag, rig):
        super().__init__(tag)
        self.rig = rig

    def close(self):
        if not self._closed:
            try:
                self.rig._stop_dhcpd()
            except Exception as e:  # never block the rest of teardown
                print("rocks_rig: stopping dhcpd: %r" % (e,), file=sys.stderr)
            self.rig.watch.stop()
        super().close()


def have_real_components():
    """(segbridged_and_ctl, shim) — which project binaries are built."""
    bd = netlab.build_dir()
    daemon = all(os.path.exists(os.path.join(bd, p)) for p in ("daemon/segbridged", "daemon/segbridgectl"))
    shim = os.path.exists(os.path.join(bd, "insert-ethers-shim/insert-ethers-shim"))
    return daemon, shim


def qemu_available():
    return shutil.which("qemu-system-x86_64") is not None and os.path.exists("/usr/lib/ipxe/qemu/efi-virtio.rom")


class RocksRig:
    """Builds and drives the whole scenario. `tunnel` is "segbridged" or
    "veth-standin"; `shim` True/False; `node` "qemu" or "client" (fallback)."""

    def __init__(self, tunnel="segbridged", shim=True, node="qemu", out=None, on_stage=None, tag="e2e",
                 second_site=False):
        self.tunnel = tunnel
        self.second_site = second_site and tunnel == "segbridged"
        self.use_shim = shim
        self.node_kind = node
        self.out = out or (lambda msg: None)
        self.on_stage = on_stage or (lambda stage: None)
        self.watch = Watch()
        self.lab = RockLab(tag, self)
        self.dir = self.lab.dir
        self.t0 = time.monotonic()
        self.stages = []
        self.procs = {}
        self.dhcpd_started = False
        self.remote_ip = None
        self.remote_port = "pxe0" if node == "qemu" else "node0"
        for d in ("bin", "etc", "run", "dev-empty", "var/log", "var/lock", "var/lib",
                  "var/spool/rsyslog", "tftpboot", "httpd"):
            os.makedirs(self.p(d), exist_ok=True)

    # ---------------------------------------------------------------- helpers
    def p(self, rel):
        return os.path.join(self.dir, rel)

    @property
    def sock(self):
        return self.p("run/log.sock")

    def mark(self, name, t=None, detail=""):
        s = Stage(name, time.monotonic() if t is None else t, detail)
        self.stages.append(s)
        self.on_stage(s)
        return s

    def stage(self, name):
        for s in self.stages:
            if s.name == name:
                return s
        return None

    def close(self):
        self.lab.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and os.environ.get("SEGBRIDGE_E2E_QUIET_FAILURE") != "1":
            self.lab.dump_logs(limit=2500)
        self.close()
        return False

    def _write(self, rel, text, mode=0o644):
        path = self.p(rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # --------------------------------------------------------------- topology
    def build(self):
        lab = self.lab
        self.fe = lab.netns("fe")
        self.gw = lab.netns("gw")
        self.ln = lab.netns("ln")
        # Private NIC eth0 leads to the local rack (here: one node's NIC).
        lab.veth(self.fe, "eth0", self.ln, "eth0")
        # The "internet": a 1500-MTU veth between frontend and site gateway.
        lab.veth(self.fe, "wan0", self.gw, "wan0", mtu=1500)
        fe, gw, ln = self.fe, self.gw, self.ln
        fe.run("ip link set eth0 address %s" % FRONTEND_MAC)
        # br0 as an admin sets it up for PXE: STP off, forward delay 0.
        fe.run("ip link add br0 type bridge stp_state 0 forward_delay 0")
        fe.run("ip link set eth0 master br0 && ip link set br0 up")
        fe.run("ip addr add %s/16 dev br0" % FRONTEND_IP)
        fe.run("ip addr add %s/24 dev wan0" % WAN_HUB)
        gw.run("ip addr add %s/24 dev wan0" % WAN_SPOKE)
        # The remote segment's port for the compute node: a tap for qemu, or a
        # veth to a client namespace (fallback). segbridged (spoke) creates the
        # site's br0 and enslaves it (bridge_ports).
        if self.node_kind == "qemu":
            gw.run("ip tuntap add dev %s mode tap && ip link set %s up" % (self.remote_port, self.remote_port))
        else:
            self.rn = self.lab.netns("rn")
            self.lab.veth(self.gw, self.remote_port, self.rn, "eth0")
            self.rn.run("ip link set eth0 down && ip link set eth0 address %s && ip link set eth0 up" % REMOTE_MAC)
        ln.run("ip link set eth0 down && ip link set eth0 address %s && ip link set eth0 up" % LOCAL_MAC)
        if self.second_site:
            # A second site on its own WAN link (/30 inside 192.0.2.0/24); it
            # reaches the hub's 192.0.2.1 through its default route.
            self.gw2 = lab.netns("gw2")
            self.rn2 = lab.netns("rn2")
            lab.veth(fe, "wan1", self.gw2, "wan0", mtu=1500)
            fe.run("ip addr add %s/30 dev wan1" % WAN_HUB2)
            self.gw2.run("ip addr add %s/30 dev wan0 && ip route add default via %s" % (WAN_SPOKE2, WAN_HUB2))
            lab.veth(self.gw2, "node0", self.rn2, "eth0")
            self.rn2.run("ip link set eth0 down && ip link set eth0 address %s && ip link set eth0 up" % SITE2_MAC)
            wait_until(lambda: self.gw2.ok("ping -c1 -W1 %s" % WAN_HUB), 10, what="site2 WAN reachable")
        wait_until(lambda: fe.ok("ping -c1 -W1 %s" % WAN_SPOKE), 10, what="WAN reachable")
        self.out("namespaces: frontend %s (br0 %s/16 = eth0 + tunnel taps, wan0 %s), "
                 "%s gateway %s (br0), local node %s" % (fe.name, FRONTEND_IP, WAN_HUB, SITE, gw.name, ln.name))

    # ------------------------------------------------------ frontend services
    def start_frontend(self):
        fe = self.fe
        self._write("bin/with-devlog", WITH_DEVLOG, 0o755)
        self._write("etc/rsyslog.conf", RSYSLOG_CONF.format(dir=self.dir, sock=self.sock))
        for f in ("var/log/messages", "var/log/messages.precise", "httpd/access_log", "var/lib/dhcpd.leases"):
            open(self.p(f), "a").close()
        self.watch.add("syslog", self.p("var/log/messages.precise"))
        self.watch.add("access", self.p("httpd/access_log"))
        self.watch.start()

        self.procs["rsyslogd"] = fe.spawn(["rsyslogd", "-n", "-f", self.p("etc/rsyslog.conf"),
                                           "-i", self.p("run/rsyslogd.pid")], name="rsyslogd")
        wait_until(lambda: os.path.exists(self.sock), 10, what="rsyslogd socket")
        # Prove the path before anything depends on it.
        fe.run(["logger", "--socket-errors=on", "-u", self.sock, "-t", "segbridge-e2e", "rig syslog ready"])
        self.watch.wait("syslog", r"segbridge-e2e: rig syslog ready", 10, "rsyslogd to write messages")

        # Cluster DB with the frontend's own private interface; dhcpd.conf from it.
        self.db_path = self.p("var/lib/cluster.db")
        db = ClusterDB(self.db_path)
        db.add_frontend(FRONTEND_NAME, PRIVATE_DEVICE, FRONTEND_MAC, FRONTEND_IP)
        write_atomically(self.p("etc/dhcpd.conf"), render_dhcpd_conf(db, NETWORK, FRONTEND_IP, filename=BOOT_FILE))
        db.close()
        self._write("bin/service-dhcpd", SERVICE_DHCPD.format(
            pidfile=self.p("run/dhcpd.pid"), conf=self.p("etc/dhcpd.conf"), leases=self.p("var/lib/dhcpd.leases"),
            bindir=self.p("bin"), sock=self.sock, devdir=self.p("dev-empty"), iface="br0",
            log=self.p("var/log/dhcpd.stderr")), 0o755)
        fe.run(["sh", self.p("bin/service-dhcpd"), "start"])
        self.dhcpd_started = True
        self.watch.wait("syslog", r"dhcpd(\[\d+\])?: Listening on LPF/br0/", 10, "dhcpd listening on br0 (via syslog)")

        # TFTP: the boot file is an iPXE script that fetches the kickstart over HTTP.
        self._write("tftpboot/" + BOOT_FILE, IPXE_SCRIPT)
        with open(self.p("tftpboot/" + KERNEL_FILE), "wb") as f:
            f.write(kernel_bytes())
        self.procs["in.tftpd"] = fe.spawn(
            ["unshare", "--mount", "--propagation", "private", "sh", self.p("bin/with-devlog"), self.sock,
             self.p("dev-empty"), "in.tftpd", "-L", "-v", "-v", "-u", "tftp", "-a", "%s:69" % FRONTEND_IP,
             "-s", self.p("tftpboot")], name="in.tftpd")
        self.procs["httpd"] = fe.spawn(
            [sys.executable, os.path.join(HERE, "kickstart_httpd.py"), "--bind", FRONTEND_IP, "--port", "80",
             "--db", self.db_path, "--access-log", self.p("httpd/access_log")], name="kickstart_httpd")
        wait_until(lambda: fe.ok("curl -s -o /dev/null http://%s/" % FRONTEND_IP, timeout=5), 10,
                   what="HTTP server")
        wait_until(lambda: fe.ok("curl -s -o /dev/null tftp://%s/%s" % (FRONTEND_IP, BOOT_FILE), timeout=5), 10,
                   what="TFTP server")

        self.lock_file = self.p("var/lock/insert-ethers")
        self.procs["insert-ethers"] = fe.spawn(
            [sys.executable, "-u", os.path.join(HERE, "insert_ethers_standin.py"),
             "--messages", self.p("var/log/messages"), "--access-log", self.p("httpd/access_log"),
             "--db", self.db_path, "--lock-file", self.lock_file, "--dhcpd-conf", self.p("etc/dhcpd.conf"),
             "--dhcpd-restart", "sh %s restart" % self.p("bin/service-dhcpd"),
             "--frontend-name", FRONTEND_NAME, "--frontend-ip", FRONTEND_IP, "--network", NETWORK,
             "--filename", BOOT_FILE, "--syslog-socket", self.sock], name="insert-ethers")
        self.watch.add("insert-ethers", self.procs["insert-ethers"].log_path)
        self.watch.wait("insert-ethers", r"insert-ethers: listening", 10, "insert-ethers stand-in to start",
                        alive=self.procs["insert-ethers"])
        self.out("frontend services: rsyslogd, dhcpd on br0 (Rocks dhcpd.conf, no range), in.tftpd, "
                 "kickstart.cgi httpd, insert-ethers stand-in (lock %s)" % self.lock_file)

    def _stop_dhcpd(self):
        if self.dhcpd_started:
            self.dhcpd_started = False
            self.fe.run(["sh", self.p("bin/service-dhcpd"), "stop"], check=False, timeout=15)

    # ------------------------------------------------------------- the tunnel
    def start_tunnel(self):
        t = time.monotonic()
        if self.tunnel == "veth-standin":
            # STAND-IN for segbridged: a plain veth from the site's br0 into the
            # frontend's br0, named like the hub's tap so port attribution matches.
            self.lab.veth(self.fe, "sb-" + SITE, self.gw, "sb-frontend")
            self.fe.run("ip link set sb-%s master br0" % SITE)
            self.gw.run("ip link add br0 type bridge stp_state 0 forward_delay 0 && ip link set br0 up")
            self.gw.run("ip link set sb-frontend master br0 && ip link set %s master br0" % self.remote_port)
            self.mark("tunnel up", detail="STAND-IN veth (not segbridged)")
            return
        ctl = netlab.binary("daemon/segbridgectl")
        daemon = netlab.binary("daemon/segbridged")
        sites = [SITE] + ([SITE2] if self.second_site else [])
        keys = {name: self._keypair(daemon, name) for name in ["frontend"] + sites}
        endpoint = "%s:%d" % (WAN_HUB, TUNNEL_PORT)
        self.hub_sock = self.p("run/segbridged-hub.sock")
        self.spoke_sock = self.p("run/segbridged-spoke.sock")
        self.spoke2_sock = self.p("run/segbridged-spoke2.sock")
        hub_conf = HUB_CONF.format(listen=endpoint, sock=self.hub_sock, key=keys["frontend"][0])
        spokes = []
        for site, ns, sock, port, n in ((SITE, self.gw, self.spoke_sock, self.remote_port, ""),
                                        (SITE2, getattr(self, "gw2", None), self.spoke2_sock, "node0", "2")):
            if site not in sites:
                continue
            hub_conf += HUB_PEER.format(site=site, pub=keys[site][1])
            conf = "etc/segbridged-spoke%s.conf" % n
            self._write(conf, SPOKE_CONF.format(site=site, sock=sock, key=keys[site][0], endpoint=endpoint,
                                                pub=keys["frontend"][1], port=port))
            spokes.append((ns, sock, "segbridged-spoke%s" % n, conf))
        self._write("etc/segbridged-hub.conf", hub_conf)
        for conf in ["etc/segbridged-hub.conf"] + [sp[3] for sp in spokes]:
            r = subprocess.run([daemon, "--check", "-c", self.p(conf)], capture_output=True, text=True)
            if r.returncode != 0:
                raise RigError("segbridged --check %s:\n%s%s" % (conf, r.stdout, r.stderr))
            if "noise-ik" not in r.stdout:
                raise RigError("segbridged --check %s does not report Noise IK: %s" % (conf, r.stdout.strip()))
        self.procs["segbridged-hub"] = self.fe.spawn([daemon, "-c", self.p("etc/segbridged-hub.conf")],
                                                     name="segbridged-hub")
        for ns, _sock, key, conf in spokes:
            self.procs[key] = ns.spawn([daemon, "-c", self.p(conf)], name=key)
        self.ctl = ctl

        def established():
            for ns, sock, key in [(self.fe, self.hub_sock, "segbridged-hub")] + [sp[:3] for sp in spokes]:
                if not self.procs[key].alive():
                    raise RigError("%s exited:\n%s" % (key, self.procs[key].log()[-2000:]))
                st = self.status(ns, sock)
                if not st or not all(p.get("state") == "established" for p in st.get("peers", [])):
                    return False
            return True

        wait_until(established, 30, interval=0.1, what="segbridged hub and spoke established")
        self.mark("tunnel up", detail="segbridged (Noise IK) hub %s <-> spoke %s%s established (%.2fs)" % (
            WAN_HUB, WAN_SPOKE, " and %s" % WAN_SPOKE2 if self.second_site else "", time.monotonic() - t))

    def _keypair(self, daemon, name):
        """(private key file, public key) made with `segbridged genkey | pubkey`."""
        os.makedirs(self.p("etc/keys"), mode=0o700, exist_ok=True)
        priv = subprocess.run([daemon, "genkey"], capture_output=True, text=True, check=True).stdout
        path = self._write("etc/keys/%s.key" % name, priv, 0o600)
        pub = subprocess.run([daemon, "pubkey"], input=priv, capture_output=True, text=True, check=True).stdout
        return path, pub.strip()

    def status(self, ns, sock, text=False):
        argv = [self.ctl, "-s", sock, "status"] + ([] if text else ["--json"])
        r = ns.run(argv, check=False, timeout=10)
        if r.returncode != 0:
            return None
        return r.stdout if text else json.loads(r.stdout)

    # --------------------------------------------------------------- the shim
    def start_shim(self):
        shim = netlab.binary("insert-ethers-shim/insert-ethers-shim")
        self.shim_conf = self._write("etc/insert-ethers-shim.conf", SHIM_CONF.format(
            ledger=self.p("var/lib/insert-ethers-shim.db"), sock=self.sock, lock=self.lock_file,
            check="%s %s --db %s list host interface" % (sys.executable, os.path.join(HERE, "rocks_standin.py"),
                                                         self.db_path)))
        r = subprocess.run([shim, "--check", "-c", self.shim_conf], capture_output=True, text=True)
        if r.returncode != 0:
            raise RigError("insert-ethers-shim --check:\n%s%s" % (r.stdout, r.stderr))
        self.shim = shim
        self.procs["shim"] = self.fe.spawn([shim, "-c", self.shim_conf], name="insert-ethers-shim")
        self.watch.add("shim", self.procs["shim"].log_path)
        self.watch.wait("shim", r"capturing DHCP requests on br0", 10, "insert-ethers-shim to capture on br0",
                        alive=self.procs["shim"])
        topo = self.watch.first("shim", r"topology on br0: (.*)")
        self.out("insert-ethers-shim capturing on br0, announcing via syslog %s; %s" % (
            self.sock, topo[2].group(1) if topo else "(no topology line)"))

    def shim_list(self):
        r = self.fe.run([self.shim, "-c", self.shim_conf, "list", "--json"], timeout=10)
        return json.loads(r.stdout)

    # ---------------------------------------------------------- remote node
    def boot_remote_node(self, timeout=120):
        """Start the remote compute node; returns at once (watch the stages)."""
        if self.node_kind == "qemu":
            self.procs["qemu"] = self.gw.spawn(
                ["timeout", "--kill-after=5", str(timeout), "qemu-system-x86_64", "-machine", "accel=tcg",
                 "-m", "96", "-smp", "1", "-nographic", "-no-reboot", "-boot", "n",
                 "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % self.remote_port,
                 "-device", "virtio-net-pci,netdev=n0,mac=%s" % REMOTE_MAC],
                name="qemu")
            self.watch.add("node", self.procs["qemu"].log_path)
            self.out("remote node: qemu-system-x86_64 (TCG) + Debian iPXE ROM, NIC %s on tap %s in %s's br0"
                     % (REMOTE_MAC, self.remote_port, SITE))
        else:
            self.procs["remote-client"] = self.client_boot(self.rn, "remote", timeout=timeout)
            self.watch.add("node", self.procs["remote-client"].log_path)
            self.out("remote node: FALLBACK (no qemu/iPXE here): udhcpc + TFTP + HTTP fetch in namespace %s"
                     % self.rn.name)

    def client_boot(self, ns, label, tries=20, timeout=60):
        """A real DHCP client (busybox udhcpc, sending the PXE vendor class and
        client architecture 0 = x86 BIOS, options 60 and 93, as a PXE ROM does) that
        then fetches the boot file over TFTP and the kickstart over HTTP."""
        script = self._write("bin/udhcpc-%s.sh" % label, UDHCPC_SCRIPT.format(
            lease=self.p("run/lease-%s" % label)), 0o755)
        fetch = ("udhcpc -f -q -n -i eth0 -V %s -x 0x5d:0000 -t %d -T 1 -A 1 -s %s && . %s && "
                 "echo \"lease $ip from $serverid, next-server $siaddr, file $boot_file\" && "
                 "curl -sSf --max-time 10 -o %s tftp://$siaddr/$boot_file && echo \"tftp ok $boot_file\" && "
                 "curl -sSf --max-time 30 --tftp-blksize %d -o %s tftp://$siaddr/%s && "
                 "echo \"kernel ok $(sha256sum < %s | cut -d' ' -f1)\" && "
                 "curl -sSf --max-time 10 -o %s -w 'http %%{http_code}\\n' '%s' && echo 'client done'") % (
                     PXE_VENDOR_CLASS, tries, script, self.p("run/lease-%s" % label),
                     self.p("run/%s-bootfile" % label), TFTP_BLKSIZE, self.p("run/%s-kernel" % label), KERNEL_FILE,
                     self.p("run/%s-kernel" % label), self.p("run/%s-ks.cfg" % label), KS_URL)
        return ns.spawn(["timeout", str(timeout), "sh", "-c", fetch], name="udhcpc-%s" % label)

    # ------------------------------------------------------------ the stages
    def follow_remote(self, mac=REMOTE_MAC, timeout=100):
        """Waits for each stage of the remote node's path and records when it
        was observed. Raises RigError naming the stage that did not happen."""
        alive = self.procs.get("qemu", self.procs.get("remote-client"))
        deadline = time.monotonic() + timeout

        def left():
            return max(1.0, deadline - time.monotonic())

        macrx = re.escape(mac)
        t, line, _ = self.watch.wait("syslog", r"dhcpd(\[\d+\])?: DHCPDISCOVER from %s via br0" % macrx, left(),
                                     "DHCPDISCOVER from the remote node on br0", alive)
        self.mark("DISCOVER seen on br0", t, line.split(" ", 1)[1])
        if not self.use_shim:
            # Negative control: nobody announces the node, so it stays unknown.
            time.sleep(min(8.0, left()))
            n = len(self.watch.find_all("syslog", r"DHCPDISCOVER from %s via br0: network \S+: no free leases"
                                        % macrx))
            offers = self.watch.find_all("syslog", r"DHCPOFFER on \S+ to %s" % macrx)
            if offers:
                raise RigError("the node got an OFFER without being registered: %s" % offers[0][1])
            self.mark("stuck: no free leases", detail="%d DISCOVERs answered 'no free leases', not registered" % n)
            return
        t, line, _ = self.watch.wait("syslog", r"dhcpd: DHCPDISCOVER from %s via %s" % (macrx, PRIVATE_DEVICE),
                                     left(), "the shim's announcement line", alive)
        self.mark("announced to insert-ethers", t, line.split(" ", 1)[1])
        t, line, m = self.watch.wait("insert-ethers", r"added (\S+) mac %s ip (\S+)" % macrx, left(),
                                     "insert-ethers to register the node", alive)
        self.remote_name, self.remote_ip = m.group(1), m.group(2)
        self.mark("node registered", t, "%s = %s" % (self.remote_name, self.remote_ip))
        ipx = re.escape(self.remote_ip)
        t, line, _ = self.watch.wait("syslog", r"dhcpd(\[\d+\])?: DHCPOFFER on %s to %s" % (ipx, macrx), left(),
                                     "DHCPOFFER to the remote node", alive)
        self.mark("OFFER", t, line.split(" ", 1)[1])
        t, line, _ = self.watch.wait("syslog", r"dhcpd(\[\d+\])?: DHCPACK on %s to %s" % (ipx, macrx), left(),
                                     "DHCPACK to the remote node", alive)
        self.mark("ACK", t, line.split(" ", 1)[1])
        t, line, _ = self.watch.wait("syslog", r"in\.tftpd\[\d+\]: RRQ from %s filename %s" % (
            ipx, re.escape(BOOT_FILE)), left(), "the boot file fetched over TFTP", alive)
        detail = line.split(" ", 1)[1]
        ack = self.stage("ACK")
        if self.node_kind == "qemu" and ack and t - ack.t > 5:
            # Seen on the wire: iPXE's `autoboot` first waits for an IPv6 router
            # advertisement (router solicitations for ~13 s); a Rocks private net has none.
            detail += "  [iPXE waited for IPv6 autoconfiguration first]"
        self.mark("TFTP boot file", t, detail)
        t, line, _ = self.watch.wait("syslog", r"in\.tftpd\[\d+\]: RRQ from %s filename %s" % (ipx, KERNEL_FILE),
                                     left(), "the kernel requested over TFTP", alive)
        self.mark("TFTP kernel requested", t, line.split(" ", 1)[1])
        if self.node_kind == "qemu":
            t, line, _ = self.watch.wait("node", r"segbridge-e2e: KERNEL FETCHED", left(),
                                         "iPXE to finish the 1 MiB TFTP transfer", alive)
        else:
            t, line, _ = self.watch.wait("node", r"^kernel ok", left(), "the 1 MiB TFTP transfer", alive)
        self.mark("TFTP kernel (1 MiB) done", t, "blksize %d: %d-byte frames through the 1500-MTU path" % (
            TFTP_BLKSIZE, TFTP_BLKSIZE + 46))
        t, line, _ = self.watch.wait("access", r"^%s .*\"GET /install/sbin/kickstart\.cgi\S* HTTP/1\.\d\" 200 " % ipx,
                                     left(), "the kickstart fetched over HTTP", alive)
        self.mark("kickstart fetched", t, line)

    def discover_to_offer(self, mac=REMOTE_MAC, since=0.0):
        """Seconds from the first DHCPDISCOVER dhcpd logged for mac (after the
        monotonic time `since`) to its first DHCPOFFER, from rsyslog's
        microsecond timestamps."""
        macrx = re.escape(mac)
        d = [h for h in self.watch.find_all("syslog", r"^(\S+) \S+ dhcpd(?:\[\d+\])?: DHCPDISCOVER from %s via br0"
                                            % macrx) if h[0] >= since]
        o = [h for h in self.watch.find_all("syslog", r"^(\S+) \S+ dhcpd(?:\[\d+\])?: DHCPOFFER on \S+ to %s"
                                            % macrx) if h[0] >= since]
        if not d or not o:
            return None
        return _rfc3339(o[0][2].group(1)) - _rfc3339(d[0][2].group(1))

    def registrations(self):
        """{mac: [names]} from the insert-ethers stand-in's own log."""
        out = {}
        for _t, _line, m in self.watch.find_all("insert-ethers", r"added (\S+) mac (\S+) ip (\S+)"):
            out.setdefault(m.group(2), []).append(m.group(1))
        return out

    def db_interfaces(self):
        db = ClusterDB(self.db_path)
        try:
            return db.interfaces()
        finally:
            db.close()


def _rfc3339(s):
    # 2026-11-24T18:30:01.123456+00:00
    from datetime import datetime
    return datetime.fromisoformat(s).timestamp()


# Noise IK (the recommended mode, docs/segbridged.conf.md): every site has its
# own X25519 key pair and knows only its peers' public keys.
HUB_CONF = """# segbridged on the frontend: the hub every site connects to.
[daemon]
name = "frontend"
role = "hub"
listen = "{listen}"
bridge = "br0"
create_bridge = false               # the frontend's br0 (eth0 in it) already exists
control_socket = "{sock}"
path_mtu = 1500
private_key_file = "{key}"
user = "nobody"                     # drop root after start-up (keeps CAP_NET_ADMIN)
log_level = "info"
"""

HUB_PEER = """
[[peer]]
name = "{site}"                     # tap sb-{site}
public_key = "{pub}"
"""

SPOKE_CONF = """# segbridged on a remote site's gateway: a spoke of the frontend. It creates
# the site's br0 (PXE-safe) with the compute node's port in it.
[daemon]
name = "{site}"
role = "spoke"
bridge = "br0"
create_bridge = true
remove_bridge_on_exit = true
bridge_ports = ["{port}"]
control_socket = "{sock}"
path_mtu = 1500
private_key_file = "{key}"
user = "nobody"
log_level = "info"

[[peer]]
name = "frontend"                   # tap sb-frontend
endpoint = "{endpoint}"
public_key = "{pub}"
keepalive = 5
"""

SHIM_CONF = """# insert-ethers-shim on the e2e frontend.
interfaces = ["br0"]
private_interface = "eth0"
ledger = "{ledger}"
feeder = "syslog"
syslog_socket = "{sock}"
lock_file = "{lock}"
registered_check = "{check}"
registered_check_interval = 1
tunnel_port_prefix = "sb-"
announce_local = "auto"
"""

UDHCPC_SCRIPT = """#!/bin/sh
# udhcpc event script: configure the lease and record it for the next steps.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${{mask:-16}}" dev "$interface"
    {{ echo "ip=$ip"; echo "serverid=$serverid"; echo "siaddr=$siaddr"; echo "boot_file=$boot_file"; }} >{lease}
    ;;
  leasefail|nak) echo "udhcpc: $1 on $interface" >&2 ;;
esac
exit 0
"""


def run_mission(rig, res=None, negative_control=True, remote_timeout=100):
    """The whole scenario, in order; stages are recorded on `rig` as they are
    observed and results in `res` (a dict, also returned) for the caller to
    print or assert. Raises RigError at the first stage that does not happen;
    `res` then keeps what was measured so far."""
    res = {} if res is None else res
    rig.build()
    rig.start_frontend()
    rig.start_tunnel()

    if negative_control:
        # Without the shim nothing tells insert-ethers about nodes behind br0:
        # dhcpd only logs "via br0 ... no free leases", which insert-ethers ignores.
        p = rig.client_boot(rig.ln, "control", tries=3, timeout=20)
        wait_until(lambda: not p.alive(), 25, what="control DHCP client to give up")
        res["control_exit"] = p.popen.returncode
        res["control_no_free_leases"] = len(rig.watch.find_all(
            "syslog", r"DHCPDISCOVER from %s via br0: network \S+: no free leases" % re.escape(LOCAL_MAC)))
        res["control_registered"] = LOCAL_MAC in rig.registrations()
        rig.mark("control: no shim -> no free leases", detail="local node %s: %d DISCOVERs, udhcpc exit %d, "
                 "registered: %s" % (LOCAL_MAC, res["control_no_free_leases"], p.popen.returncode,
                                     res["control_registered"]))

    if rig.use_shim:
        rig.start_shim()
    rig.boot_remote_node(timeout=remote_timeout + 20)
    rig.follow_remote(timeout=remote_timeout)
    res["discover_to_offer"] = rig.discover_to_offer(REMOTE_MAC)
    if "qemu" in rig.procs:
        # The access log can be ahead of iPXE's own (serial) report; let the
        # emulated node finish its line before switching it off.
        try:
            rig.watch.wait("node", r"segbridge-e2e: KICKSTART", 20, "iPXE to report the kickstart", rig.procs["qemu"])
        except RigError as e:
            res["node_console_error"] = str(e)
        res["node_console"] = rig.procs["qemu"].log()
        rig.procs["qemu"].stop(timeout=5)

    if rig.use_shim:
        # The local rack: a node on eth0, same frontend, same shim.
        local_start = time.monotonic()
        p = rig.client_boot(rig.ln, "local", tries=20, timeout=60)
        rig.watch.add("local", p.log_path)
        t, _l, m = rig.watch.wait("insert-ethers", r"added (\S+) mac %s ip (\S+)" % re.escape(LOCAL_MAC), 40,
                                  "insert-ethers to register the local node", p)
        rig.local_name, rig.local_ip = m.group(1), m.group(2)
        rig.mark("local node registered", t, "%s = %s" % (rig.local_name, rig.local_ip))
        t, line, _ = rig.watch.wait("local", r"^lease ", 30, "the local node's lease", p)
        rig.mark("local node lease", t, line)
        t, line, _ = rig.watch.wait("local", r"^client done", 30, "the local node's TFTP + kickstart fetch", p)
        rig.mark("local node kickstart fetched", t, "TFTP %s + %s (1 MiB) + HTTP kickstart.cgi 200" % (
            BOOT_FILE, KERNEL_FILE))
        res["local_discover_to_offer"] = rig.discover_to_offer(LOCAL_MAC, since=local_start)

    if rig.use_shim and rig.second_site:
        p = rig.client_boot(rig.rn2, "site2", tries=20, timeout=60)
        rig.watch.add("site2", p.log_path)
        t, _l, m = rig.watch.wait("insert-ethers", r"added (\S+) mac %s ip (\S+)" % re.escape(SITE2_MAC), 40,
                                  "insert-ethers to register the site2 node", p)
        rig.site2_name, rig.site2_ip = m.group(1), m.group(2)
        rig.mark("site2 node registered", t, "%s = %s" % (rig.site2_name, rig.site2_ip))
        t, line, _ = rig.watch.wait("site2", r"^client done", 40, "the site2 node's lease + TFTP + kickstart", p)
        rig.mark("site2 node kickstart fetched", t, "lease, TFTP %s + %s, kickstart 200" % (BOOT_FILE, KERNEL_FILE))
    return res
