#!/usr/bin/env python3
"""l2profile: where does a userspace L2 tunnel spend its time per frame?

Builds one l2bench rig (tests/bench/l2lab) with one tunnel (segbridged or
openvpn), drives a load between the hosts for --seconds, and reports per frame:
  * CPU (user, system) of the tunnel daemons on both gateways, split per thread
    (thread names tell TX/RX/control apart when the daemon names its threads);
  * frames through the tap devices (tap TX = frames the daemon read, tap RX =
    frames it wrote; a GSO super-frame counts once), UDP datagrams on the WAN;
  * with --tool strace: system calls per frame by name (strace -c -f; strace
    slows the daemon a lot, so only the per-frame ratios mean anything);
  * with --tool perf: the hottest symbols (perf record -e cpu-clock -g), one
    report per gateway.
Run as root. Every process is stopped by PID; the namespaces are removed.

Example:
  tests/bench/l2profile.py --tunnel segbridged --load udp64 --tool strace
  tests/bench/l2profile.py --tunnel openvpn --load tcp1 --tool perf
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "l2lab"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))

import rig as rigmod  # noqa: E402
import tunnels  # noqa: E402
from netlab import Lab, require_root  # noqa: E402

TAP_NAMES = {"segbridged": ("sb-siteb", "sb-hub"), "openvpn": ("ovpn0", "ovpn0")}


def link_counters(ns, dev):
    """(rx_packets, tx_packets) of a device inside a namespace."""
    base = "/sys/class/net/%s/statistics/" % dev
    out = ns.run(["cat", base + "rx_packets", base + "tx_packets"]).stdout.split()
    return int(out[0]), int(out[1])


def drop_counters(r, taps):
    """Where frames/datagrams can be lost: tap queues, the daemons' UDP sockets,
    the receiving host's UDP socket. {label: count}."""
    c = {}
    for ns in r.gateways():
        gw = ns.name.rsplit("-", 1)[1]
        base = "/sys/class/net/%s/statistics/" % taps[ns.name]
        out = ns.run(["cat", base + "tx_dropped", base + "rx_dropped"]).stdout.split()
        c["%s tap %s tx_dropped (kernel→daemon queue full)" % (gw, taps[ns.name])] = int(out[0])
        c["%s tap %s rx_dropped" % (gw, taps[ns.name])] = int(out[1])
        udp = read_snmp(ns, "Udp")
        c["%s UDP RcvbufErrors (daemon socket full)" % gw] = udp.get("RcvbufErrors", 0)
        c["%s UDP SndbufErrors" % gw] = udp.get("SndbufErrors", 0)
    udp = read_snmp(r.hb, "Udp")
    c["hB UDP RcvbufErrors (iperf3 receiver socket full)"] = udp.get("RcvbufErrors", 0)
    return c


def read_snmp(ns, proto):
    rows = [l.split() for l in ns.run(["cat", "/proc/net/snmp"]).stdout.splitlines() if l.startswith(proto + ":")]
    return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])} if len(rows) >= 2 else {}


def thread_times(pid):
    """{'name/tid': (user_s, sys_s)} for every thread of pid."""
    clk = os.sysconf("SC_CLK_TCK")
    times = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        times["%s/%s" % (name, tid)] = (int(fields[11]) / clk, int(fields[12]) / clk)
    return times


def start_load(r, load, seconds):
    server = r.hb.spawn(["iperf3", "-s", "-1", "-B", rigmod.HOST_B_IP], name="iperf3-server")
    time.sleep(0.5)
    args = {"tcp1": [], "tcp4": ["-P", "4"], "udp64": ["-u", "-l", "64", "-b", "0"]}[load]
    client = r.ha.spawn(["iperf3", "-c", rigmod.HOST_B_IP, "-t", str(seconds), "-J"] + args, name="iperf3-client")
    return server, client


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--tunnel", choices=sorted(TAP_NAMES), default="segbridged")
    p.add_argument("--load", choices=("tcp1", "tcp4", "udp64"), default="tcp1")
    p.add_argument("--offloads", choices=("on", "off"), default="on")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--tool", choices=("none", "strace", "perf"), default="none")
    p.add_argument("--out", default=None, help="directory for perf data/reports (default: temp)")
    a = p.parse_args(argv)
    require_root()
    if a.tool != "none" and shutil.which(a.tool) is None:
        p.error("%s is not installed" % a.tool)
    out = a.out or os.path.join("/tmp", "l2profile-%d" % os.getpid())
    os.makedirs(out, exist_ok=True)

    cls = tunnels.by_keys([a.tunnel])[0]
    t = cls()
    why = t.unavailable()
    if why:
        print("%s: %s" % (t.label, why))
        return 1
    with Lab("l2p") as lab:
        r = rigmod.Rig(lab, a.tunnel[:5])
        t.start(r, lab.dir)
        r.set_host_offloads(a.offloads == "on")
        taps = dict(zip((r.ga.name, r.gb.name), TAP_NAMES[a.tunnel]))
        server, client = start_load(r, a.load, a.seconds)
        time.sleep(0.5)  # past slow start; counters and tools cover the same window
        tap0 = {ns.name: link_counters(ns, taps[ns.name]) for ns in r.gateways()}
        wan0 = {ns.name: link_counters(ns, "wan0") for ns in r.gateways()}
        thr0 = {d.pid: thread_times(d.pid) for d in t.daemons}
        drops0 = drop_counters(r, taps)
        tools = []
        for d, gw in zip(t.daemons, ("gA", "gB")):
            if a.tool == "strace":
                tools.append(r.ga.spawn(["strace", "-c", "-f", "-q", "-o", os.path.join(out, "strace-%s.txt" % gw),
                                         "-p", str(d.pid)], name="strace-" + gw))
            elif a.tool == "perf":
                tools.append(r.ga.spawn(["perf", "record", "-e", "cpu-clock", "-F", "2000", "-g", "-o",
                                         os.path.join(out, "perf-%s.data" % gw), "-p", str(d.pid)],
                                        name="perf-" + gw))
        deadline = time.monotonic() + a.seconds + 30
        while client.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        for tool in tools:
            tool.stop(timeout=10.0, sig=2)  # SIGINT: strace/perf write their summaries
        tap1 = {ns.name: link_counters(ns, taps[ns.name]) for ns in r.gateways()}
        wan1 = {ns.name: link_counters(ns, "wan0") for ns in r.gateways()}
        thr1 = {d.pid: thread_times(d.pid) for d in t.daemons}
        drops1 = drop_counters(r, taps)
        client.stop()
        server.stop()

        try:
            rx = json.loads(client.log())["end"]["sum_received"]
            if a.load == "udp64":
                print("\nload: %.0f datagrams/s delivered, %.1f%% lost" % (
                    (rx["packets"] - rx["lost_packets"]) / rx["seconds"], rx["lost_percent"]))
            else:
                print("\nload: %.2f Gbit/s received" % (rx["bits_per_second"] / 1e9))
        except (ValueError, KeyError, ZeroDivisionError) as e:
            print("\nload: no iperf3 result (%r)" % (e,))
        read = sum(tap1[n][1] - tap0[n][1] for n in tap0)   # tap TX: kernel → daemon
        wrote = sum(tap1[n][0] - tap0[n][0] for n in tap0)  # tap RX: daemon → kernel
        dgrams = sum(wan1[n][1] - wan0[n][1] for n in wan0)
        frames = max(read + wrote, 1)
        print("\n%s, load %s, host offloads %s, %ds%s" % (t.label, a.load, a.offloads, a.seconds,
                                                         " (under %s)" % a.tool if a.tool != "none" else ""))
        print("tap frames read by the daemons %d, written %d; WAN datagrams sent %d (%.2f per frame read)" % (
            read, wrote, dgrams, dgrams / max(read, 1)))
        total_u = total_s = 0.0
        print("\n| gateway | thread | user s | sys s | µs per frame (read+written) |\n|---|---|---|---|---|")
        for d, gw in zip(t.daemons, ("gA", "gB")):
            for name, (u1, s1) in sorted(thr1[d.pid].items()):
                u0, s0 = thr0[d.pid].get(name, (0.0, 0.0))
                du, ds = u1 - u0, s1 - s0
                total_u += du
                total_s += ds
                print("| %s | %s | %.2f | %.2f | %.2f |" % (gw, name, du, ds, (du + ds) * 1e6 / frames))
        print("| both | all | %.2f | %.2f | %.2f |" % (total_u, total_s, (total_u + total_s) * 1e6 / frames))

        print("\nlosses during the window:")
        for k in sorted(drops1):
            if drops1[k] - drops0[k]:
                print("  %s: %d" % (k, drops1[k] - drops0[k]))

        if a.tool == "strace":
            for gw in ("gA", "gB"):
                path = os.path.join(out, "strace-%s.txt" % gw)
                print("\nstrace -c, %s (%s):" % (gw, path))
                with open(path) as f:
                    text = f.read()
                print(text)
                calls = 0
                for line in text.splitlines():
                    parts = line.split()
                    if len(parts) >= 5 and parts[-1] == "total":
                        calls = int(parts[3])
                ns = r.ga.name if gw == "gA" else r.gb.name
                gw_frames = max((tap1[ns][0] - tap0[ns][0]) + (tap1[ns][1] - tap0[ns][1]), 1)
                print("%s: %d syscalls for %d tap frames (read+written here): %.2f per frame" % (
                    gw, calls, gw_frames, calls / gw_frames))
        elif a.tool == "perf":
            for gw in ("gA", "gB"):
                data = os.path.join(out, "perf-%s.data" % gw)
                reports = []
                for sort, limit in (("pid", "0.5"), ("pid,dso", "1"), ("pid,symbol", "1.5"), ("dso,symbol", "0.7")):
                    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
                                          "--sort", sort, "--percent-limit", limit],
                                         capture_output=True, text=True, timeout=120).stdout
                    reports.append("\n".join(l.rstrip(" -") for l in rep.splitlines() if l and not l.startswith("#")))
                # Inclusive time of the syscall entry points, softirq work done in
                # them, crypto and the daemon's own frames: where a frame's CPU goes.
                rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--children", "-g", "none",
                                      "--sort", "symbol"], capture_output=True, text=True, timeout=120).stdout
                keep = re.compile(r"\[k\] (__x64_sys_\w+|ksys_read|ksys_write|do_readv|do_writev|handle_softirqs)\b|"
                                  r"\[\.\] (crypto_aead\w*|aesni_\w+|\w*gcm\w*|segbridge::\w+::\w+(?:::\w+)?)\b")
                rows = []
                for line in rep.splitlines():
                    m = keep.search(line)
                    parts = line.split()
                    if m and len(parts) >= 2 and parts[0].endswith("%"):
                        rows.append("%8s  %s" % (parts[0], m.group(1) or m.group(2)))
                reports.append("inclusive (children) time of syscalls, softirq, crypto, daemon code:\n" + "\n".join(rows[:20]))
                path = os.path.join(out, "perf-%s.txt" % gw)
                with open(path, "w") as f:
                    f.write("\n\n".join(reports) + "\n")
                print("\nperf, %s, by thread, thread+object, thread+symbol, object+symbol (%s):" % (gw, path))
                print("\n\n".join(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
