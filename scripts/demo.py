#!/usr/bin/env python3
"""segbridge demo: a compute node on a remote site PXE-boots from a Rocks-like
frontend across the segbridged tunnel and gets registered by insert-ethers.

Everything runs inside private network namespaces and a temp dir, and is torn
down at the end (also on Ctrl-C): no host interface, route, firewall or
service is touched. Nothing to configure; see docs/ARCHITECTURE.md
("End to end: a remote node PXE-installs") for the flow it shows.

usage: scripts/demo.py [--standin] [--no-qemu] [--keep]
"""
import argparse
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "lib"))

import rocks_rig  # noqa: E402
from rocks_rig import RigError, RocksRig, run_mission  # noqa: E402

BOLD, DIM, GREEN, RED, RESET = ("\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m") if sys.stdout.isatty() \
    else ("", "", "", "", "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--standin", action="store_true",
                    help="development only: replace segbridged by a plain veth and run without the shim "
                         "(shows the node stuck at 'no free leases')")
    ap.add_argument("--no-qemu", action="store_true",
                    help="use a DHCP client + TFTP/HTTP fetch as the remote node instead of qemu + iPXE")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with every config and log")
    a = ap.parse_args()

    if os.geteuid() != 0:
        sys.exit("demo: must run as root (it creates network namespaces)")
    if a.keep:
        os.environ["SEGBRIDGE_KEEP_TEST_DIR"] = "1"
    daemon, shim = rocks_rig.have_real_components()
    if not a.standin and not (daemon and shim):
        sys.exit("demo: segbridged/segbridgectl and insert-ethers-shim must be built first "
                 "(scripts/demo.sh does it): missing %s" % ", ".join(
                     n for n, ok in (("daemon/segbridged", daemon), ("insert-ethers-shim", shim)) if not ok))
    node = "qemu" if rocks_rig.qemu_available() and not a.no_qemu else "client"

    t0 = time.monotonic()
    last = [t0]

    def out(msg):
        print("%s[%6.1fs]%s %s" % (DIM, time.monotonic() - t0, RESET, msg), flush=True)

    def on_stage(s):
        print("%s[%6.1fs]%s %s%-34s%s %s(+%.2fs)%s  %s" % (
            DIM, s.t - t0, RESET, GREEN + BOLD, "=> " + s.name, RESET, DIM, s.t - last[0], RESET, s.detail),
            flush=True)
        last[0] = s.t

    print("%ssegbridge demo%s: a remote compute node PXE-installs from a Rocks frontend across the tunnel"
          % (BOLD, RESET))
    print("%sA Rocks-like frontend (dhcpd without range, TFTP, kickstart.cgi, rsyslog, insert-ethers) and a remote\n"
          "site joined by segbridged over a 1500-MTU 'internet'; a qemu/iPXE node on the remote site PXE-boots and\n"
          "insert-ethers-shim makes insert-ethers register it. All in private network namespaces.%s" % (DIM, RESET))
    if a.standin:
        print("%s!! STAND-IN MODE: a plain veth replaces segbridged, no insert-ethers-shim !!%s" % (RED, RESET))
    if node == "client":
        print("%s!! qemu/iPXE %s: the remote node is a DHCP client + TFTP/HTTP fetch instead !!%s" % (
            RED, "disabled" if a.no_qemu else "unavailable", RESET))
    rig = RocksRig(tunnel="veth-standin" if a.standin else "segbridged", shim=not a.standin, node=node,
                   out=out, on_stage=on_stage, tag="demo")
    rig.t0 = t0
    ok = False
    try:
        res = run_mission(rig, negative_control=True, remote_timeout=100)
        if rig.use_shim:
            print()
            print("%sStage timings (remote node %s, local node %s)%s" % (BOLD, rocks_rig.REMOTE_MAC,
                                                                        rocks_rig.LOCAL_MAC, RESET))
            prev = None
            for s in rig.stages:
                print("  %-36s at %6.2fs  %s" % (s.name, s.t - t0,
                                                  "" if prev is None else "(+%.2fs)" % (s.t - prev)))
                prev = s.t
            d2o = res.get("discover_to_offer")
            print("  first DISCOVER -> OFFER (dhcpd's own timestamps): %s" % (
                "%.2fs" % d2o if d2o is not None else "n/a"))
            if res.get("local_discover_to_offer") is not None:
                print("  local node first DISCOVER -> OFFER: %.2fs" % res["local_discover_to_offer"])
            console = res.get("node_console")
            if console:
                keep = ("Configuring", "net0:", "Next server", "Filename", "tftp://", "http://", "segbridge-e2e",
                        rocks_rig.KERNEL_FILE + " :")
                lines = [rocks_rig.ANSI.sub("", line).strip() for line in console.splitlines()]
                print()
                print("%sThe remote node's console (qemu serial, iPXE):%s" % (BOLD, RESET))
                for line in lines:
                    if line.startswith(keep) and "ipxe.org" not in line:
                        print("  " + line)
            print()
            print("%sRegistered by insert-ethers (rocks list host interface):%s" % (BOLD, RESET))
            for host, _sub, dev, mac, ip, _n, _ks in rig.db_interfaces():
                print("  %-14s %-5s %s %s" % (host, dev, mac, ip))
            print()
            print("%sinsert-ethers-shim list:%s" % (BOLD, RESET))
            r = rig.fe.run([rig.shim, "-c", rig.shim_conf, "list"], check=False, timeout=10)
            print("\n".join("  " + line for line in (r.stdout + r.stderr).rstrip().splitlines()))
            print()
            print("%ssegbridgectl status (frontend hub):%s" % (BOLD, RESET))
            print("\n".join("  " + line for line in (rig.status(rig.fe, rig.hub_sock, text=True) or
                                                      "(no answer)").rstrip().splitlines()))
        else:
            print("\nSTAND-IN run finished: the remote node reached br0 and dhcpd answered 'no free leases'; "
                  "without the shim insert-ethers never hears of it.")
        ok = True
    except RigError as e:
        print("%sdemo FAILED: %s%s" % (RED, e, RESET), flush=True)
        rig.lab.dump_logs(limit=1500)
    except (KeyboardInterrupt, SystemExit):
        # netlab's SIGINT/SIGTERM handler has already torn the rig down.
        print("\ndemo interrupted: namespaces and processes removed", flush=True)
        raise
    finally:
        out("cleaning up namespaces, dhcpd, qemu, daemons")
        rig.close()
    print("%sdemo %s in %.1fs%s" % (BOLD, "finished" if ok else "FAILED", time.monotonic() - t0, RESET))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
