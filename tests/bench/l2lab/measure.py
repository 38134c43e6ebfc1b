"""One measurement each: iperf3 TCP/UDP between the hosts, ping RTT, the
largest DF ping, and the tunnel daemons' CPU time from /proc.

Every function is bounded in time; every process it starts is stopped by PID.
"""
import json
import os
import re
import statistics

import rig as rigmod
from netlab import wait_until

IPERF_PORT = 5201
CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_DF_PAYLOAD = rigmod.MTU - 28  # 1472: IPv4 + ICMP headers
DF_PING_COUNT = 2


class MeasurementError(RuntimeError):
    pass


def cpu_seconds(processes):
    """utime+stime of each process (all its threads), summed, in seconds."""
    total = 0
    for p in processes:
        try:
            with open("/proc/%d/stat" % p.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            raise MeasurementError("%s (pid %d) is gone" % (p.name, p.pid))
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
    return total / CLK_TCK


def _iperf(rig, client_args, seconds):
    """Run one iperf3 test host A → host B; returns the client's JSON."""
    server = rig.hb.spawn(["iperf3", "-s", "-1", "-B", rigmod.HOST_B_IP, "-p", str(IPERF_PORT)],
                          name="iperf3-server")
    try:
        wait_until(lambda: rig.hb.run(["ss", "-Hltn", "sport = :%d" % IPERF_PORT]).stdout.strip(),
                   5.0, what="iperf3 server to listen")
        r = rig.ha.run(["iperf3", "-c", rigmod.HOST_B_IP, "-p", str(IPERF_PORT), "-t", str(seconds),
                        "-J"] + client_args, check=False, timeout=seconds + 30)
        try:
            result = json.loads(r.stdout)
        except ValueError:
            raise MeasurementError("iperf3 gave no JSON (rc %d): %s" % (r.returncode, r.stderr.strip()[-300:]))
        if "error" in result:
            raise MeasurementError("iperf3: %s" % result["error"])
        return result
    finally:
        server.stop(timeout=3.0)


def tcp(rig, streams, seconds, tunnel_daemons=()):
    """TCP throughput (received), and the tunnel's CPU seconds per GB delivered."""
    cpu0 = cpu_seconds(tunnel_daemons)
    ip0 = rig.wan_ip_counters()
    result = _iperf(rig, ["-P", str(streams)], seconds)
    cpu = cpu_seconds(tunnel_daemons) - cpu0
    ip1 = rig.wan_ip_counters()
    received = result["end"]["sum_received"]
    gigabytes = received["bytes"] / 1e9
    return {
        "gbps": received["bits_per_second"] / 1e9,
        "bytes": received["bytes"],
        "retransmits": result["end"]["sum_sent"].get("retransmits"),
        "cpu_s": cpu if tunnel_daemons else None,
        "cpu_s_per_gb": (cpu / gigabytes) if tunnel_daemons and gigabytes > 0 else None,
        # Fragments that crossed the WAN: reassembly requests at the receiving gateway.
        "wan_fragments": ip1.get("ReasmReqds", 0) - ip0.get("ReasmReqds", 0),
        "wan_frag_creates": ip1.get("FragCreates", 0) - ip0.get("FragCreates", 0),
    }


def _udp_arrived(ns):
    """UDP datagrams that reached this namespace's UDP layer: read by an
    application (InDatagrams) or dropped because its socket was full
    (RcvbufErrors). Counted per datagram even when a tunnel delivers a run of
    them as one UDP GSO packet, which a NIC's rx_packets counts once."""
    udp = rigmod.read_snmp(ns, "Udp")
    return udp["InDatagrams"] + udp["RcvbufErrors"]


def udp_small(rig, seconds, length=64):
    """Small UDP datagrams at full offered load: packets/s the tunnel delivered
    to host B (datagrams that reached its UDP layer: what the tunnel achieved,
    whatever the receiving iperf3 then manages to read), packets/s iperf3
    received, loss."""
    arrived0 = _udp_arrived(rig.hb)
    result = _iperf(rig, ["-u", "-l", str(length), "-b", "0"], seconds)
    arrived = _udp_arrived(rig.hb) - arrived0
    received = result["end"]["sum_received"]
    sent = result["end"]["sum_sent"]
    packets, lost = received["packets"], received["lost_packets"]
    secs = sent["seconds"] if sent["seconds"] > 0 else float(seconds)
    return {
        # Datagrams still queued in iperf3's socket when it stops are not
        # counted (at most a socket buffer's worth): negligible.
        "hb_pps": arrived / secs,
        "hb_loss_pct": max(0.0, 100.0 * (1 - arrived / packets)) if packets else 100.0,
        "delivered_pps": (packets - lost) / received["seconds"] if received["seconds"] > 0 else 0.0,
        "offered_pps": packets / secs,
        "loss_pct": 100.0 * lost / packets if packets else 100.0,
    }


def rtt(rig, count, interval=0.01):
    """Median ping RTT host A → host B over an idle tunnel, in ms."""
    r = rig.ha.run(["ping", "-c", str(count), "-i", str(interval), "-W", "1", rigmod.HOST_B_IP],
                   check=False, timeout=count * (interval + 0.05) + 10)
    times = [float(t) for t in re.findall(r"time=([\d.]+) ms", r.stdout)]
    if not times:
        raise MeasurementError("no ping replies: %s" % (r.stdout + r.stderr).strip()[-300:])
    return {"rtt_ms": statistics.median(times), "rtt_replies": len(times), "rtt_sent": count}


def _df_ping_passes(rig, payload):
    """At least one of DF_PING_COUNT pings of this payload size gets its reply."""
    r = rig.ha.run(["ping", "-M", "do", "-s", str(payload), "-c", str(DF_PING_COUNT), "-i", "0.2", "-W", "1",
                    rigmod.HOST_B_IP], check=False, timeout=15)
    return r.returncode == 0


def largest_df_ping(rig):
    """Largest ICMP payload that crosses with DF set (1472 = full 1500-byte packet),
    and the IP fragments the WAN carried per full-size ping round trip.

    Binary search; a failure may teach host A a smaller path MTU, which is the
    answer this measures, and the caller forgets it afterwards."""
    before = rig.wan_ip_counters().get("ReasmReqds", 0)
    full_passes = _df_ping_passes(rig, MAX_DF_PAYLOAD)
    frags = (rig.wan_ip_counters().get("ReasmReqds", 0) - before) / DF_PING_COUNT
    if full_passes:
        return {"df_max": MAX_DF_PAYLOAD, "full_ping_wan_fragments": frags}
    lo, hi = 0, MAX_DF_PAYLOAD  # invariant: lo passes (checked), hi fails
    if not _df_ping_passes(rig, lo):
        return {"df_max": None, "full_ping_wan_fragments": frags}
    for _ in range(12):  # ceil(log2(1472)) = 11 steps suffice
        if hi - lo <= 1:
            break
        mid = (lo + hi) // 2
        if _df_ping_passes(rig, mid):
            lo = mid
        else:
            hi = mid
    return {"df_max": lo, "full_ping_wan_fragments": frags}
