"""The mission end to end: a qemu/iPXE compute node on a remote site PXE-boots
from a Rocks-like frontend across segbridged and is registered by insert-ethers
(stand-in, Rocks' exact token rules) through the insert-ethers-shim; a local
node on the frontend's eth0 likewise. Every stage is asserted on what the real
servers logged or served (rocks_rig.py has the topology).

Real components: segbridged + segbridgectl (hub and spoke), insert-ethers-shim,
ISC dhcpd, rsyslogd, in.tftpd, qemu-system-x86_64 + Debian's iPXE ROM, busybox
udhcpc, curl. SEGBRIDGE_E2E_STANDIN=1 (development only) swaps segbridged for a
veth and runs without the shim: then the node must stay at "no free leases".
"""
import json
import os
import pwd
import re
import subprocess
import sys

from netlab import Scenario, require_root, wait_until

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rocks_rig  # noqa: E402
from rocks_rig import (BOOT_FILE, FRONTEND_IP, IPXE_SCRIPT, LOCAL_MAC, REMOTE_MAC, SITE, SITE2,  # noqa: E402
                       SITE2_MAC, RocksRig, run_mission)

require_root()
standin = os.environ.get("SEGBRIDGE_E2E_STANDIN") == "1"
daemon, shim = rocks_rig.have_real_components()
if not standin and not (daemon and shim):
    print("FAILED: e2e needs the built segbridged/segbridgectl and insert-ethers-shim (daemon=%s shim=%s)"
          % (daemon, shim))
    sys.exit(1)
# SEGBRIDGE_E2E_NODE=client forces the no-qemu fallback (to test that path too).
node = os.environ.get("SEGBRIDGE_E2E_NODE") or ("qemu" if rocks_rig.qemu_available() else "client")
if node not in ("qemu", "client"):
    print("FAILED: SEGBRIDGE_E2E_NODE must be qemu or client, not %r" % node)
    sys.exit(1)
if node == "client":
    print("NOTE: remote node is udhcpc + TFTP + HTTP in a namespace, not qemu/iPXE (%s)"
          % ("SEGBRIDGE_E2E_NODE=client" if os.environ.get("SEGBRIDGE_E2E_NODE") else "qemu or iPXE ROM missing"))

sc = Scenario("e2e_pxe")
rig = RocksRig(tunnel="veth-standin" if standin else "segbridged", shim=not standin, node=node,
               out=lambda m: print("  .. " + m, flush=True),
               on_stage=lambda s: print("  -> %-34s %6.2fs  %s" % (s.name, s.t - rig.t0, s.detail), flush=True),
               tag="e2e", second_site=not standin)
res = {}
failed_early = None
try:
    run_mission(rig, res, negative_control=True, remote_timeout=100)
except Exception as e:  # every check below then reports what is missing
    failed_early = e
    print("scenario stopped: %s" % e, flush=True)
    rig.lab.dump_logs(limit=2500)


def need(cond, msg):
    if not cond:
        raise AssertionError(msg)


def stage(name):
    s = rig.stage(name)
    need(s is not None, "stage '%s' never happened%s" % (name, " (%s)" % failed_early if failed_early else ""))
    return s


def syslog_lines(pattern):
    return [line for _t, line, _m in rig.watch.find_all("syslog", pattern)]


def check_tunnel():
    s = stage("tunnel up")
    if standin:
        return
    for ns, sock, peers in ((rig.fe, rig.hub_sock, {SITE, SITE2}), (rig.gw, rig.spoke_sock, {"frontend"}),
                            (rig.gw2, rig.spoke2_sock, {"frontend"})):
        st = rig.status(ns, sock)
        need(st is not None, "segbridgectl status failed on %s" % ns.name)
        need({p["name"] for p in st["peers"]} == peers, "%s peers: %s" % (ns.name, st["peers"]))
        need(all(p["state"] == "established" for p in st["peers"]), "peers not established: %s" % st["peers"])
    # Every segbridged dropped root after set-up (user = "nobody").
    for key in ("segbridged-hub", "segbridged-spoke", "segbridged-spoke2"):
        with open("/proc/%d/status" % rig.procs[key].pid) as f:
            uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
        need(set(uids) == {str(pwd.getpwnam("nobody").pw_uid)}, "%s uids %s" % (key, uids))
    # Each spoke built its site's bridge with the node's port and its own tap.
    for ns, port in ((rig.gw, rig.remote_port), (rig.gw2, "node0")):
        ports = {l["ifname"] for l in ns.link_json() if l.get("master") == "br0"}
        need(ports == {port, "sb-frontend"}, "%s br0 ports: %s" % (ns.name, ports))
    ports = {l["ifname"] for l in rig.fe.link_json() if l.get("master") == "br0"}
    need(ports == {"eth0", "sb-" + SITE, "sb-" + SITE2}, "frontend br0 ports: %s" % ports)
    hub = rig.status(rig.fe, rig.hub_sock)
    need(hub["role"] == "hub", "hub status: %s" % hub)
    need({p["name"]: p["tap"] for p in hub["peers"]} == {SITE: "sb-" + SITE, SITE2: "sb-" + SITE2},
         "hub taps: %s" % hub["peers"])
    print("     %s" % s.detail)


def check_negative_control():
    stage("control: no shim -> no free leases")
    need("control_exit" in res, "the control DHCP client did not run")
    need(res["control_exit"] != 0, "the control DHCP client got a lease before anything registered it")
    need(res.get("control_no_free_leases", 0) >= 1, "dhcpd logged no 'no free leases' for the control node")
    need(not res.get("control_registered"), "the control node was registered without the shim")


def check_remote_stages():
    need(failed_early is None, "scenario stopped early: %s" % failed_early)
    names = ["DISCOVER seen on br0"] + ([] if standin else [
        "announced to insert-ethers", "node registered", "OFFER", "ACK", "TFTP boot file", "TFTP kernel requested",
        "TFTP kernel (1 MiB) done", "kickstart fetched"])
    times = [stage(n).t for n in names]
    # Stages are timestamped by the rig's log poller (one sweep = 50 ms over
    # several files), so two causally ordered lines may land one sweep apart.
    late = [(a, b) for (a, ta), (b, tb) in zip(zip(names, times), zip(names[1:], times[1:])) if tb < ta - 0.1]
    need(not late, "stages out of order: %s" % late)
    if standin:
        stage("stuck: no free leases")


def check_discover_to_offer():
    d2o = res.get("discover_to_offer")
    need(d2o is not None, "no DISCOVER/OFFER pair for the remote node")
    print("     first DISCOVER -> OFFER: %.2fs" % d2o)
    # iPXE gives up DHCP after ~15 s (1+2+4+8 s backoff): the OFFER must land inside it.
    need(0 < d2o < 15, "DISCOVER -> OFFER %.2fs is outside iPXE's retry window" % d2o)


def check_remote_boot_artifacts():
    ip = rig.remote_ip
    need(ip and ip.startswith("10.1."), "remote IP %r" % ip)
    need(syslog_lines(r"DHCPACK on %s to %s via br0" % (re.escape(ip), re.escape(REMOTE_MAC))), "no DHCPACK")
    need(syslog_lines(r"in\.tftpd\[\d+\]: RRQ from %s filename %s" % (re.escape(ip), re.escape(BOOT_FILE))),
         "no TFTP RRQ from the node for %s" % BOOT_FILE)
    acc = [line for _t, line in rig.watch.lines("access") if line.startswith(ip + " ")]
    need(any(line.split()[8] == "200" and "/install/sbin/kickstart.cgi" in line for line in acc),
         "no 200 kickstart.cgi from %s in access_log: %s" % (ip, acc))
    # insert-ethers' listenKs() view of the same request: the node shows "(*)".
    need(rig.watch.first("insert-ethers", r"kickstart %s %s status 200" % (re.escape(rig.remote_name),
                                                                           re.escape(ip))),
         "insert-ethers stand-in did not see %s's kickstart" % rig.remote_name)
    if node == "client":
        with open(rig.p("run/remote-kernel"), "rb") as f:
            need(f.read() == rocks_rig.kernel_bytes(), "the kernel fetched across the tunnel differs")
    if node == "qemu":
        console = res.get("node_console", "")
        need("segbridge-e2e: KICKSTART FETCHED" in console, "iPXE console lacks the kickstart fetch:\n%s"
             % console[-1500:])
        need("%s : %d bytes" % (rocks_rig.KERNEL_FILE, rocks_rig.KERNEL_SIZE) in console,
             "iPXE imgstat does not show the whole kernel")
        # iPXE itself reports the lease from the frontend's dhcpd and the boot file.
        need("net0: %s/255.255.0.0 gw %s" % (ip, FRONTEND_IP) in console, "iPXE lease line missing")
        need("Next server: %s" % FRONTEND_IP in console and "Filename: %s" % BOOT_FILE in console,
             "iPXE next-server/filename lines missing")


def check_local_node():
    stage("local node registered")
    stage("local node lease")
    stage("local node kickstart fetched")
    with open(rig.p("run/lease-local")) as f:
        lease = dict(line.strip().split("=", 1) for line in f if "=" in line)
    need(lease.get("ip") == rig.local_ip, "local lease %s, registered %s" % (lease, rig.local_ip))
    need(lease.get("siaddr") == FRONTEND_IP and lease.get("boot_file") == BOOT_FILE, "lease %s" % lease)
    with open(rig.p("run/local-bootfile")) as f:
        need(f.read() == IPXE_SCRIPT, "TFTP boot file content differs")
    with open(rig.p("run/local-kernel"), "rb") as f:
        need(f.read() == rocks_rig.kernel_bytes(), "the kernel fetched over TFTP differs")
    with open(rig.p("run/local-ks.cfg")) as f:
        need(rig.local_name in f.read(), "kickstart not generated for %s" % rig.local_name)


def check_site2():
    stage("site2 node registered")
    stage("site2 node kickstart fetched")
    with open(rig.p("run/lease-site2")) as f:
        lease = dict(line.strip().split("=", 1) for line in f if "=" in line)
    need(lease.get("ip") == rig.site2_ip and lease.get("siaddr") == FRONTEND_IP, "site2 lease %s" % lease)
    with open(rig.p("run/site2-kernel"), "rb") as f:
        need(f.read() == rocks_rig.kernel_bytes(), "the kernel fetched by site2 differs")
    hub = {p["name"]: p for p in rig.status(rig.fe, rig.hub_sock)["peers"]}
    need(SITE2_MAC in [m.lower() for m in hub[SITE2].get("macs", [])], "hub site2 macs: %s" % hub[SITE2])
    need(SITE2_MAC not in [m.lower() for m in hub[SITE].get("macs", [])], "site2's MAC learned behind site1")


def check_registered_once():
    regs = rig.registrations()
    need(regs.get(REMOTE_MAC) is not None and len(regs[REMOTE_MAC]) == 1, "remote registrations: %s" % regs)
    need(regs.get(LOCAL_MAC) is not None and len(regs[LOCAL_MAC]) == 1, "local registrations: %s" % regs)
    need(regs.get(SITE2_MAC) is not None and len(regs[SITE2_MAC]) == 1, "site2 registrations: %s" % regs)
    need(set(regs) == {REMOTE_MAC, LOCAL_MAC, SITE2_MAC}, "unexpected registrations: %s" % regs)
    rows = [r for r in rig.db_interfaces() if r[0] != rocks_rig.FRONTEND_NAME]
    macs = sorted(r[3] for r in rows)
    need(macs == sorted([REMOTE_MAC, LOCAL_MAC, SITE2_MAC]), "cluster DB interfaces: %s" % rows)
    # The shim announced through syslog, more than once is allowed (retries);
    # insert-ethers' "MAC already known" rule keeps it one host.
    out = subprocess.run([sys.executable, os.path.join(rocks_rig.HERE, "rocks_standin.py"), "--db", rig.db_path,
                          "list", "host", "interface"], capture_output=True, text=True, check=True).stdout
    for mac in (REMOTE_MAC, LOCAL_MAC, SITE2_MAC):
        need(out.count(mac) == 1, "`rocks list host interface` shows %s %d times:\n%s" % (mac, out.count(mac), out))
    with open(rig.p("etc/dhcpd.conf")) as f:
        conf = f.read()
    need("range" not in conf, "dhcpd.conf grew a range")
    for mac, ip in ((REMOTE_MAC, rig.remote_ip), (LOCAL_MAC, rig.local_ip), (SITE2_MAC, rig.site2_ip)):
        need(re.search(r"hardware ethernet %s;\s*option host-name \"[^\"]+\";\s*fixed-address %s;" %
                       (re.escape(mac), re.escape(ip)), conf), "no host block for %s/%s:\n%s" % (mac, ip, conf))


def ledger_entries():
    data = rig.shim_list()
    if isinstance(data, dict):
        for key in ("entries", "nodes", "clients", "macs"):
            if isinstance(data.get(key), list):
                return data[key]
        raise AssertionError("unrecognised `list --json` shape: %s" % json.dumps(data)[:500])
    return data


def ledger_by_mac():
    by_mac = {}
    for e in ledger_entries():
        by_mac.setdefault(e["mac"].lower(), []).append(e)
    return by_mac


def check_ledger():
    # registered_check (the `rocks list host interface` stand-in, every 1 s)
    # closes the loop: both MACs must reach "registered".
    macs = (REMOTE_MAC, LOCAL_MAC, SITE2_MAC)
    wait_until(lambda: all(e["state"] == "registered" for e in ledger_entries() if e["mac"].lower() in macs)
               and all(m in ledger_by_mac() for m in macs),
               15, interval=0.25, what="the shim to see all three nodes registered")
    by_mac = ledger_by_mac()
    need(len(by_mac.get(REMOTE_MAC, [])) == 1, "ledger rows for the remote node: %s" % by_mac.get(REMOTE_MAC))
    need(len(by_mac.get(LOCAL_MAC, [])) == 1, "ledger rows for the local node: %s" % by_mac.get(LOCAL_MAC))
    need(by_mac[REMOTE_MAC][0]["site"] == SITE, "remote node ledger site: %s" % by_mac[REMOTE_MAC][0])
    need(by_mac[LOCAL_MAC][0]["site"] == "local", "local node ledger site: %s" % by_mac[LOCAL_MAC][0])
    need(len(by_mac.get(SITE2_MAC, [])) == 1 and by_mac[SITE2_MAC][0]["site"] == SITE2,
         "site2 node ledger: %s" % by_mac.get(SITE2_MAC))
    need(by_mac[REMOTE_MAC][0]["port"] == "sb-" + SITE and by_mac[LOCAL_MAC][0]["port"] == "eth0"
         and by_mac[SITE2_MAC][0]["port"] == "sb-" + SITE2,
         "ledger ports: %s" % {m: e[0]["port"] for m, e in by_mac.items()})
    for mac in macs:
        need(by_mac[mac][0]["state"] == "registered", "ledger state for %s: %s" % (mac, by_mac[mac][0]))


def check_tunnel_counters():
    peer = [p for p in rig.status(rig.fe, rig.hub_sock)["peers"] if p["name"] == SITE][0]
    need(peer["rx_frames"] > 0 and peer["tx_frames"] > 0, "hub peer counters: %s" % peer)
    # The kernel's 1478-byte TFTP frames do not fit one datagram on a 1500-byte
    # path: the hub fragments them, the spoke reassembles them.
    spoke = rig.status(rig.gw, rig.spoke_sock)["peers"][0]
    need(peer["fragments"]["tx"] > 0 and spoke["fragments"]["reassembled"] > 0,
         "no in-tunnel fragmentation seen: hub %s spoke %s" % (peer["fragments"], spoke["fragments"]))
    need(REMOTE_MAC in [m.lower() for m in peer.get("macs", [])], "hub peer macs lack the remote node: %s" % peer)
    print("     hub peer %s: rx %d frames, tx %d frames, fragments %s, macs %s" % (
        peer["name"], peer["rx_frames"], peer["tx_frames"], peer["fragments"], peer.get("macs")))


def check_lock_file():
    need(os.path.isfile(rig.lock_file), "insert-ethers lock file absent while it runs")
    ie = rig.procs["insert-ethers"]
    ie.stop(timeout=5)
    need(not os.path.exists(rig.lock_file), "lock file left behind after insert-ethers stopped")


sc.check("tunnel up (segbridged hub + two spokes established)" if not standin else "tunnel up (STAND-IN veth)",
         check_tunnel)
sc.check("negative control: without the shim a node only gets 'no free leases'", check_negative_control)
sc.check("remote node stages happen in order", check_remote_stages)
if not standin:
    sc.check("first DISCOVER -> OFFER inside iPXE's window", check_discover_to_offer)
    sc.check("remote node: DHCPACK, TFTP RRQ, kickstart.cgi 200 from its IP", check_remote_boot_artifacts)
    sc.check("local node: lease, TFTP boot file, kickstart", check_local_node)
    sc.check("second site: its node registered, leased, booted through the same hub", check_site2)
    sc.check("insert-ethers registered every node exactly once", check_registered_once)
    sc.check("shim ledger: remote nodes under their sites, local node as local", check_ledger)
    sc.check("segbridgectl status: tunnel traffic, in-tunnel fragments, the node's MAC", check_tunnel_counters)
sc.check("insert-ethers lock file held while running, removed on exit", check_lock_file)

names = [ns.name for ns in rig.lab._namespaces]
dhcpd_pidfile = rig.p("run/dhcpd.pid")
dhcpd_pid = int(open(dhcpd_pidfile).read()) if os.path.exists(dhcpd_pidfile) else None
rig.close()


def check_cleanup():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    need(not any(n in out for n in names), "namespaces left: %s" % out)
    if dhcpd_pid is not None:
        try:
            with open("/proc/%d/stat" % dhcpd_pid) as f:
                stat = f.read()
        except FileNotFoundError:
            return
        # A zombie awaiting its reaper (dhcpd runs detached, like a service) has exited.
        need(stat.split(") ", 1)[1].split()[0] == "Z" or "(dhcpd)" not in stat,
             "dhcpd %d still running: %s" % (dhcpd_pid, stat[:80]))


sc.check("teardown removes namespaces and stops dhcpd", check_cleanup)
sys.exit(sc.finish())
