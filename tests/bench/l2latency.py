#!/usr/bin/env python3
"""l2latency: where does a ping round trip through a userspace L2 tunnel wait?

Builds one l2bench rig (tests/bench/l2lab) per tunnel, all at once, and for
--rounds rounds (interleaved across tunnels, so machine noise hits them alike):
  1. pings host A → host B --count times at --interval with nothing else
     running and prints the median and 90th-percentile RTT;
  2. pings again with tcpdump on four points — the tunnel device and the WAN
     veth of each gateway — and splits each round trip into hops from the
     capture timestamps (one clock: all namespaces share the kernel):
       gA TX   request leaves gA's bridge into the tunnel device → its datagram on the WAN
       gB RX   datagram arrives at gB → request frame written into gB's tunnel device
       host B  request frame into gB's bridge → echo reply back in the tunnel device
       gB TX   reply in gB's tunnel device → its datagram on the WAN
       gA RX   datagram arrives at gA → reply frame written into gA's tunnel device
     (the WAN hops, a veth, take 1–10 µs and are left out). tcpdump itself
     wakes up on every packet, so the hops are slower than step 1's RTT;
     compare tunnels, not absolute values.
Medians in µs. Capture matching assumes pure ping traffic on the tunnel device
and keeps the most common datagram length on the WAN (drops keepalives).

A userspace tunnel's hop is mostly the time to wake its thread: after
--interval 0.01 (idle CPUs, halted vCPUs) a wake-up costs 50–200 µs on a VM,
after 0.002 (warm) 10–30 µs. Run as root; processes are stopped by PID and the
namespaces removed.

Example:
  tests/bench/l2latency.py --tunnels openvpn,segbridged --interval 0.002
"""
import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "l2lab"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))

import rig as rigmod  # noqa: E402
import tunnels  # noqa: E402
from netlab import Lab, require_root  # noqa: E402

# Tunnel device on gA and on gB for each tunnel that has one.
DEVICES = {"segbridged": ("sb-siteb", "sb-hub"), "openvpn": ("ovpn0", "ovpn0"), "vxlan": ("vx0", "vx0")}
HOPS = ("gA TX", "gB RX", "host B", "gB TX", "gA RX")
CAPTURE_SETTLE_S = 1.5


def ping(r, count, interval):
    out = r.ha.run(["ping", "-c", str(count), "-i", str(interval), "-W", "1", rigmod.HOST_B_IP],
                   check=False, timeout=count * (float(interval) + 0.05) + 30).stdout
    return sorted(float(x) for x in re.findall(r"time=([\d.]+) ms", out))


def capture_times(path, wan):
    """Packet timestamps of one tcpdump -tt text capture."""
    # Packet lines start with the epoch timestamp; tcpdump's own messages do not.
    lines = [l.strip() for l in open(path) if re.match(r"\d+\.\d+ ", l)]
    if wan and lines:
        lengths = collections.Counter(m.group(1) for m in (re.search(r"length (\d+)$", l) for l in lines) if m)
        if lengths:
            common = lengths.most_common(1)[0][0]
            lines = [l for l in lines if l.endswith("length " + common)]
    return [float(l.split()[0]) for l in lines]


def hops(r, key, count, interval):
    """Per-hop medians (µs) of `count` pings, from four captures."""
    dev_a, dev_b = DEVICES[key]
    points = ((r.ga, dev_a, "icmp"), (r.ga, "wan0", "udp"), (r.gb, "wan0", "udp"), (r.gb, dev_b, "icmp"))
    procs = []
    try:
        for i, (ns, dev, flt) in enumerate(points):
            procs.append(ns.spawn(["tcpdump", "-i", dev, "-tt", "-n", "-l", "--immediate-mode", flt],
                                  name="tcpdump-%s-%d" % (key, i)))
        time.sleep(CAPTURE_SETTLE_S)
        ping(r, count, interval)
        time.sleep(0.5)
    finally:
        for p in procs:
            p.stop(timeout=5.0)
    a_dev, a_wan, b_wan, b_dev = (capture_times(p.log_path, i in (1, 2)) for i, p in enumerate(procs))
    n = min(len(a_dev), len(a_wan), len(b_wan), len(b_dev))
    n -= n % 2  # request, reply, request, ...
    if n < 2:
        return None

    def med(pairs):
        return statistics.median(pairs) * 1e6

    return {
        "gA TX": med([a_wan[i] - a_dev[i] for i in range(0, n, 2)]),
        "gB RX": med([b_dev[i] - b_wan[i] for i in range(0, n, 2)]),
        "host B": med([b_dev[i + 1] - b_dev[i] for i in range(0, n, 2)]),
        "gB TX": med([b_wan[i + 1] - b_dev[i + 1] for i in range(0, n, 2)]),
        "gA RX": med([a_dev[i + 1] - a_wan[i + 1] for i in range(0, n, 2)]),
    }


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--tunnels", default="openvpn,segbridged",
                   help="comma-separated: %s (default openvpn,segbridged)" % ",".join(sorted(DEVICES)))
    p.add_argument("--count", type=int, default=500, help="pings per measurement (default 500)")
    p.add_argument("--interval", default="0.01", help="ping interval in seconds (default 0.01, as l2bench)")
    p.add_argument("--rounds", type=int, default=2, help="rounds, interleaved across tunnels (default 2)")
    p.add_argument("--no-hops", action="store_true", help="RTT only, no captures")
    a = p.parse_args(argv)
    keys = [k for k in a.tunnels.split(",") if k]
    unknown = [k for k in keys if k not in DEVICES]
    if unknown or not keys:
        p.error("unknown tunnel(s) %s; choose from %s" % (",".join(unknown), ",".join(sorted(DEVICES))))
    if a.count < 2 or a.rounds < 1 or float(a.interval) <= 0:
        p.error("--count ≥ 2, --rounds ≥ 1, --interval > 0")
    require_root()

    with Lab("l2lat") as lab:
        rigs = []
        for i, key in enumerate(keys):
            t = tunnels.by_keys([key])[0]()
            why = t.unavailable()
            if why:
                print("%s: %s" % (t.label, why))
                continue
            r = rigmod.Rig(lab, "%s%d" % (key[:4], i))
            workdir = os.path.join(lab.dir, "tunnel-%d" % i)
            os.makedirs(workdir, exist_ok=True)
            t.start(r, workdir)
            r.set_host_offloads(True)
            rigs.append((key, t, r))
        print("| round | tunnel | RTT median ms | RTT p90 ms |%s" % ("" if a.no_hops else " " + " | ".join(
            "%s µs" % h for h in HOPS) + " |"))
        print("|---|---|---|---|%s" % ("" if a.no_hops else "---|" * len(HOPS)))
        for rnd in range(1, a.rounds + 1):
            for key, t, r in rigs:
                times = ping(r, a.count, a.interval)
                if not times:
                    print("| %d | %s | no replies | |" % (rnd, t.label))
                    continue
                row = "| %d | %s | %.3f | %.3f |" % (rnd, t.label, statistics.median(times),
                                                     times[9 * len(times) // 10])
                if not a.no_hops:
                    h = hops(r, key, a.count, a.interval)
                    row += " " + " | ".join("%.0f" % h[k] if h else "—" for k in HOPS) + " |"
                print(row)
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
