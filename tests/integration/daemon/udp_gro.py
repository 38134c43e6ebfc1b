"""segbridged userspace UDP GRO on the RX path, against the real kernel: two
sites with tap_offload on; a host behind the spoke sends a burst of 64-byte
datagrams of one flow (sequence numbers in the payload) to a host behind the
hub. Asserts every datagram arrives exactly once with its exact payload (the
kernel drops bad IPv4/UDP checksums and the IDs come from its segmentation of
the super-frames), and that the hub wrote far fewer packets into its tap than
datagrams: USO super-frames were written and the kernel split them. The
same for IPv6 (link-local addresses)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, Scenario, require_root, wait_until  # noqa: E402
from sbrig import Rig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
UDPFLOOD = os.path.join(HERE, "udpflood.py")
COUNT = 20000
SIZE = 64

require_root()
sc = Scenario("daemon_udp_gro")
lab = Lab("udpgro")
try:
    rig = Rig(lab, spokes=("sitea",))
    hub, spoke = rig.hub, rig.spokes[0]
    hh, sh = hub.host, spoke.host

    sc.check("handshake: both sides established", lambda: rig.wait_all_established(10))
    sc.check("ARP + ping spoke host -> hub host", lambda: sh.run("ping -c 2 -i 0.2 -W 2 %s" % hub.host_ip))

    def tap_rx_packets():
        link = hub.ns.run(["ip", "-j", "-s", "link", "show", "sb-sitea"]).stdout
        return json.loads(link)[0]["stats64"]["rx"]["packets"]

    def udp_burst(dst, count, port, label):
        out = lab.path("udpflood-%s.out" % label)
        before_tap = tap_rx_packets()
        before = hub.peer_status("sitea")
        rx = hh.spawn(["python3", UDPFLOOD, "recv", str(port), str(count), str(SIZE), out], name="udprecv-" + label)
        wait_until(lambda: "ready" in rx.log(), 10, what="UDP receiver ready")
        t = time.monotonic()
        # Bursts of 200 back to back (they queue up behind the tunnel and reach
        # the hub in receive batches), short pauses so nothing overflows.
        sh.run(["python3", UDPFLOOD, "send", dst, str(port), str(count), str(SIZE), "200", "2"], timeout=120)
        wait_until(lambda: not rx.alive(), 70, what="UDP receiver finished")
        took = time.monotonic() - t
        got = json.load(open(out))
        tap = tap_rx_packets() - before_tap
        after = hub.peer_status("sitea")
        frames = after["rx_frames"] - before["rx_frames"]
        print("    %s: %d datagrams in %.2f s; hub: %d frames from the tunnel, %d tap writes (%.1f datagrams each)" % (
            label, count, took, frames, tap, frames / max(tap, 1)))
        assert got == {"received": count, "bad": 0, "duplicates": 0}, got
        assert "tap_write_failed" not in after["drops"], after["drops"]
        assert frames >= count, "hub received only %d frames" % frames
        assert tap * 4 < count, "no USO super-frames: %d tap writes for %d datagrams" % (tap, count)
        log = hub.proc.log()
        assert "refused a UDP GSO" not in log, "this kernel refused USO writes"
    sc.check("IPv4: %d x %d-byte UDP datagrams arrive intact, written as USO super-frames" % (COUNT, SIZE),
             lambda: udp_burst(hub.host_ip, COUNT, 6000, "ipv4"))

    def ipv6_link_local():
        # A tentative (DAD) address neither sends nor answers.
        for h in (hh, sh):
            wait_until(lambda: h.run("ip -6 addr show dev eth0 tentative").stdout.strip() == "", 5,
                       what="link-local address of %s out of DAD" % h.name)
        ll = [a["local"] for a in hh.addresses("eth0")[0]["addr_info"] if a["local"].startswith("fe80")][0]
        sh.run("ping -6 -c 2 -i 0.2 -W 2 %s%%eth0" % ll)  # neighbour discovery first
        udp_burst("%s%%eth0" % ll, COUNT // 4, 6001, "ipv6")
    sc.check("IPv6 (link-local): %d datagrams arrive intact, written as USO super-frames" % (COUNT // 4),
             ipv6_link_local)
finally:
    lab.end(sc)
sys.exit(sc.finish())
