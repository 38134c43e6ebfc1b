#!/usr/bin/env python3
"""l2bench: segbridged against a plain veth bridge, kernel VXLAN and OpenVPN (tap,
AES-256-GCM), in one run, on one namespace rig per tunnel (tests/bench/l2lab/rig.py).

For every tunnel, with the hosts' segmentation offloads on and off, repeated
--reps times (interleaved across tunnels so machine noise hits all alike):
  * TCP, 1 and 4 streams (iperf3, received throughput);
  * UDP 64-byte datagrams at full offered load (iperf3 -b 0): pkt/s the tunnel
    delivered to host B's NIC and pkt/s iperf3 received, with the loss of each;
  * RTT (median of idle pings);
  * tunnel CPU seconds per GB: utime+stime of the tunnel daemons on both
    gateways (/proc/<pid>/stat) during the 1-stream TCP test ÷ bytes delivered;
  * the largest DF ping payload that crosses (binary search, 1472 = full packet);
  * IP fragments on the WAN (gateways' ReasmReqds): per round trip of a
    1472-byte DF ping, and in total over all tests of one repetition.
Prints a markdown table (cells: median (min–max)), writes results.json, table.md
and chart.png to --out, and with --update-docs rewrites the generated block of
docs/BENCHMARKS.md and docs/benchmarks-l2.png.

--smoke: one repetition of very short tests; asserts the table has a row per
tunnel and every tunnel that can run here produced measurements (not the
numbers). That mode is the `bench_smoke` ctest.

Run as root. Durations of a full run (defaults) keep it under ~10 minutes on 2 cores.
"""
import argparse
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "l2lab"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))

import measure  # noqa: E402
import report  # noqa: E402
import rig as rigmod  # noqa: E402
import tunnels  # noqa: E402
from netlab import SKIP_EXIT_CODE, CommandError, Lab, require_root, source_dir  # noqa: E402

REQUIRED_TOOLS = ("iperf3", "ethtool", "ping", "ss", "gnuplot")

FULL = {"reps": 3, "tcp_seconds": 4, "udp_seconds": 3, "ping_count": 100}
SMOKE = {"reps": 1, "tcp_seconds": 1, "udp_seconds": 1, "ping_count": 10}


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Examples:\n  scripts/bench.sh                    full run, updates docs/BENCHMARKS.md\n"
               "  l2bench.py --smoke                  CI smoke run (1 short repetition)\n"
               "  l2bench.py --only openvpn,segbridged --reps 5\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="one repetition of 1-second tests; assert the table")
    p.add_argument("--reps", type=int, help="repetitions per measurement (default %d)" % FULL["reps"])
    p.add_argument("--tcp-seconds", type=int, help="iperf3 TCP test length (default %d)" % FULL["tcp_seconds"])
    p.add_argument("--udp-seconds", type=int, help="iperf3 UDP test length (default %d)" % FULL["udp_seconds"])
    p.add_argument("--ping-count", type=int, help="pings for the RTT median (default %d)" % FULL["ping_count"])
    p.add_argument("--only", default=",".join(t.key for t in tunnels.ALL),
                   help="comma-separated tunnels to run (default: all of %(default)s)")
    p.add_argument("--offloads", default="on,off", help="host offload settings to run (default on,off)")
    p.add_argument("--out", help="directory for results.json, table.md, chart.png "
                                 "(default: a new directory under /tmp)")
    p.add_argument("--update-docs", action="store_true",
                   help="rewrite the generated block of docs/BENCHMARKS.md and docs/benchmarks-l2.png")
    p.add_argument("--notes", default="", help="free text on the run's conditions, recorded in the docs")
    p.add_argument("--from-results", metavar="DIR",
                   help="measure nothing: rebuild the table/docs from DIR/results.json and DIR/chart.png "
                        "of an earlier run (with --update-docs)")
    a = p.parse_args(argv)
    base = SMOKE if a.smoke else FULL
    for k, v in base.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.reps < 1 or a.tcp_seconds < 1 or a.udp_seconds < 1 or a.ping_count < 1:
        p.error("--reps, --tcp-seconds, --udp-seconds and --ping-count must be ≥ 1")
    a.only = [k for k in a.only.split(",") if k]
    a.offloads = [o for o in a.offloads.split(",") if o]
    if not a.offloads or any(o not in report.OFFLOADS for o in a.offloads):
        p.error("--offloads takes 'on', 'off' or 'on,off'")
    if a.smoke and a.update_docs:
        p.error("--smoke results are not benchmark numbers; refusing --update-docs")
    try:
        tunnels.by_keys(a.only)
    except ValueError as e:
        p.error(str(e))
    return a


def require_tools():
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if not missing:
        return
    msg = "l2bench needs %s (scripts/install-deps.sh bench)" % ", ".join(missing)
    if os.environ.get("SEGBRIDGE_REQUIRE_INTEGRATION") == "1":
        print("FAILED: " + msg)
        sys.exit(1)
    print("SKIPPED: " + msg)
    sys.exit(SKIP_EXIT_CODE)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cpu_model": model, "nproc": os.cpu_count(), "kernel": os.uname().release}


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def command_line():
    """The options that shape the numbers (not where the output went)."""
    argv, shown, skip = sys.argv[1:], [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--out", "--notes"):
            skip = True
            continue
        if a.startswith(("--out=", "--notes=")) or a == "--update-docs":
            continue
        shown.append(shlex.quote(a))
    return " ".join(["tests/bench/l2bench.py"] + shown)


def log(msg):
    print("[%s] %s" % (datetime.datetime.utcnow().strftime("%H:%M:%S"), msg), flush=True)


def measure_once(rig, tunnel, offload, args):
    """One repetition of every measurement for one tunnel and offload setting."""
    rep, errors = {}, []
    rig.set_host_offloads(offload == "on")
    rig.forget_path_mtu()
    ip_before = rig.wan_ip_counters()
    steps = (
        ("rtt", lambda: measure.rtt(rig, args.ping_count), {"rtt_ms": "rtt_ms"}),
        ("tcp1", lambda: measure.tcp(rig, 1, args.tcp_seconds, tunnel.daemons),
         {"gbps": "tcp1_gbps", "cpu_s_per_gb": "tcp1_cpu_s_per_gb", "wan_fragments": "tcp1_wan_fragments",
          "wan_frag_creates": "tcp1_wan_frag_creates", "retransmits": "tcp1_retransmits",
          "cpu_s": "tcp1_cpu_s", "bytes": "tcp1_bytes"}),
        ("tcp4", lambda: measure.tcp(rig, 4, args.tcp_seconds, tunnel.daemons),
         {"gbps": "tcp4_gbps", "cpu_s_per_gb": "tcp4_cpu_s_per_gb"}),
        ("udp64", lambda: measure.udp_small(rig, args.udp_seconds),
         {"hb_pps": "udp_hb_pps", "hb_loss_pct": "udp_hb_loss_pct", "delivered_pps": "udp_delivered_pps",
          "offered_pps": "udp_offered_pps", "loss_pct": "udp_loss_pct"}),
        ("df", lambda: measure.largest_df_ping(rig),
         {"df_max": "df_max", "full_ping_wan_fragments": "full_ping_wan_fragments"}),
    )
    for name, fn, keys in steps:
        try:
            out = fn()
            for src, dst in keys.items():
                rep[dst] = out.get(src)
        except (measure.MeasurementError, CommandError, TimeoutError, subprocess.TimeoutExpired) as e:
            errors.append("%s offloads %s, %s: %s" % (tunnel.label, offload, name, e))
            for dst in keys.values():
                rep[dst] = None
    ip_after = rig.wan_ip_counters()
    rep["rep_wan_fragments"] = ip_after.get("ReasmReqds", 0) - ip_before.get("ReasmReqds", 0)
    rep["rep_wan_frag_creates"] = ip_after.get("FragCreates", 0) - ip_before.get("FragCreates", 0)
    rig.forget_path_mtu()
    return rep, errors


def run(args, lab):
    t0 = time.monotonic()
    load_before = load_average()
    entries = []  # (tunnel instance, rig, result dict)
    for cls in tunnels.by_keys(args.only):
        t = cls()
        entry = {"key": t.key, "label": t.label, "kernel": t.kernel, "runs": {o: [] for o in args.offloads}}
        reason = t.unavailable()
        if reason:
            entry.update(status="unavailable", reason=reason, version=None)
            log("%s: %s" % (t.label, reason))
            entries.append((t, None, entry))
            continue
        entry["version"] = t.version()
        try:
            log("%s: building rig and starting tunnel" % t.label)
            r = rigmod.Rig(lab, t.key[:5])
            t.start(r, lab.dir)
            entry.update(status="ok", reason=None)
        except Exception as e:  # a tunnel that will not start is a result, not a crash
            lab.dump_logs()
            entry.update(status="error", reason="failed to start: %s" % str(e).splitlines()[0][:200])
            log("%s: %s" % (t.label, entry["reason"]))
            r = None
        entries.append((t, r, entry))

    errors = []
    loads = [float(load_before.split()[0])]
    for rep in range(args.reps):
        for offload in args.offloads:
            loads.append(float(load_average().split()[0]))
            for t, r, entry in entries:
                if entry["status"] != "ok":
                    continue
                log("rep %d/%d, offloads %s: %s" % (rep + 1, args.reps, offload, t.label))
                values, errs = measure_once(r, t, offload, args)
                entry["runs"][offload].append(values)
                errors += errs
                for e in errs:
                    log("  error: " + e)
    for t, r, entry in entries:
        if entry["status"] == "ok":
            entry["final_state"] = t.final_state(r)
        if t.key == "openvpn" and entry["status"] == "ok" and t.daemons:
            # The column is only meaningful if the data channel really ran AES-256-GCM.
            ciphers = {tunnels.openvpn_cipher_line(d) for d in t.daemons}
            entry["negotiated_cipher"] = ",".join(sorted(c or "unknown" for c in ciphers))
            if ciphers != {"AES-256-GCM"}:
                errors.append("%s: data channel cipher was %s, not AES-256-GCM" % (t.label, entry["negotiated_cipher"]))

    versions = {"kernel": os.uname().release, "iperf3": tunnels._first_line(["iperf3", "--version"])}
    for t, _, entry in entries:
        if entry.get("version") and not t.kernel:
            versions[t.key] = entry["version"]
    meta = dict(machine())
    meta.update({
        "title": "L2 tunnels, hosts at MTU 1500, WAN veth at MTU 1500 (%s)" % (
            datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")),
        "finished_utc": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "reps": args.reps, "tcp_seconds": args.tcp_seconds, "udp_seconds": args.udp_seconds,
        "ping_count": args.ping_count, "smoke": args.smoke, "offloads": args.offloads, "versions": versions,
        "load_before": load_before, "load_after": load_average(), "wall_s": time.monotonic() - t0,
        "command": command_line(), "notes": args.notes, "load_max": max(loads),
    })
    return {"meta": meta, "tunnels": [e for _, _, e in entries], "errors": errors}


def smoke_check(results, table):
    """The smoke test's assertions: a row per tunnel and offload setting; every
    tunnel that can run here started and produced measurements."""
    problems = []
    rows = [l for l in table.splitlines()[2:] if l.startswith("| ")]
    for t in results["tunnels"]:
        n = len([l for l in rows if l.startswith("| %s |" % t["label"])])
        if n != len(t["runs"]):
            problems.append("%s: %d table rows, expected %d" % (t["label"], n, len(t["runs"])))
        if t["status"] == "error":
            problems.append("%s: %s" % (t["label"], t["reason"]))
        if t["status"] == "ok":
            for off, reps in t["runs"].items():
                for key, header, _, _ in report.METRICS:
                    if key == "tcp1_cpu_s_per_gb" and t["kernel"]:
                        continue
                    if not reps or any(r.get(key) is None for r in reps):
                        problems.append("%s, offloads %s: no value for %s" % (t["label"], off, header))
    problems += results["errors"]
    return problems


def report_saved(args):
    with open(os.path.join(args.from_results, "results.json")) as f:
        results = json.load(f)
    if args.notes:
        results["meta"]["notes"] = args.notes
    table, ratio_table = report.markdown_table(results), report.ratios(results)
    print(table + ("\n\n" + ratio_table if ratio_table else ""))
    if args.update_docs:
        docs = os.path.join(source_dir(), "docs")
        shutil.copyfile(os.path.join(args.from_results, "chart.png"), os.path.join(docs, "benchmarks-l2.png"))
        report.update_docs(os.path.join(docs, "BENCHMARKS.md"),
                           report.generated_block(results, table, ratio_table, "benchmarks-l2.png"))
        print("updated docs/BENCHMARKS.md and docs/benchmarks-l2.png")
    return 0


def main(argv):
    args = parse_args(argv)
    if args.from_results:
        return report_saved(args)
    require_root()
    require_tools()
    out = args.out or tempfile.mkdtemp(prefix="l2bench-")
    os.makedirs(out, exist_ok=True)
    with Lab("l2b") as lab:
        results = run(args, lab)
    table = report.markdown_table(results)
    ratio_table = report.ratios(results)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table + "\n" + ("\n" + ratio_table + "\n" if ratio_table else ""))
    png = os.path.join(out, "chart.png")
    try:
        report.write_chart(results, png, out)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        results["errors"].append("chart: %s" % e)
        png = None
    print()
    print(table)
    if ratio_table:
        print()
        print(ratio_table)
    for e in results["errors"]:
        print("error: " + e)
    print("\nresults, table and chart in %s" % out)

    if args.update_docs and png is None:
        print("not updating docs: the chart failed")
    elif args.update_docs:
        docs = os.path.join(source_dir(), "docs")
        shutil.copyfile(png, os.path.join(docs, "benchmarks-l2.png"))
        block = report.generated_block(results, table, ratio_table, "benchmarks-l2.png")
        report.update_docs(os.path.join(docs, "BENCHMARKS.md"), block)
        print("updated docs/BENCHMARKS.md and docs/benchmarks-l2.png")

    if args.smoke:
        problems = smoke_check(results, table)
        for p in problems:
            print("SMOKE FAIL: " + p)
        if problems:
            return 1
        print("bench smoke: table has %d tunnels × %d offload settings" % (
            len(results["tunnels"]), len(args.offloads)))
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
