"""segbridged data plane, two sites: a hub and a spoke joined by a 1500-MTU
"internet", a host at MTU 1500 behind each gateway's bridge.

Asserts: ARP + ping; broadcast ping; IPv6 link-local ping (multicast ND);
`ping -M do -s 1472` (full-size frames over the 1500 path) with no IP
fragments on the WAN; a non-IP ethertype frame and an 802.1Q-tagged 1518-byte
frame arrive byte-identical; a 100 MB TCP transfer keeps its sha256; status
--json shows each remote host's MAC behind the right peer; kill -9 + restart
of the spoke restores traffic within 3 s; SIGTERM removes the taps and the
bridge the daemon created."""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, Scenario, require_root, wait_until  # noqa: E402
from sbrig import Rig, snmp_ip_frag  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RAWFRAME = os.path.join(HERE, "rawframe.py")
TCPXFER = os.path.join(HERE, "tcpxfer.py")
UDPPROBE = os.path.join(HERE, "udpprobe.py")

require_root()
sc = Scenario("daemon_two_sites")
lab = Lab("2site")
try:
    # The hub drops root after set-up (user = "nobody").
    rig = Rig(lab, spokes=("sitea",), hub_extra='user = "nobody"')
    hub, spoke = rig.hub, rig.spokes[0]
    hh, sh = hub.host, spoke.host  # hosts behind the hub / behind the spoke

    sc.check("handshake: both sides established", lambda: rig.wait_all_established(10))

    def threads_named():
        task = "/proc/%d/task" % hub.proc.pid
        names = sorted(open(os.path.join(task, t, "comm")).read().strip() for t in os.listdir(task))
        assert "sb-tx" in names and "sb-rx" in names, names
    sc.check("data-path threads are named sb-tx / sb-rx", threads_named)

    def runs_unprivileged():
        status = open("/proc/%d/status" % hub.proc.pid).read()
        uid = [l.split()[1:] for l in status.splitlines() if l.startswith("Uid:")][0]
        assert uid == ["65534"] * 4, "hub still has a root uid: %r" % uid
        capeff = int([l.split()[1] for l in status.splitlines() if l.startswith("CapEff:")][0], 16)
        # CAP_NET_ADMIN = 12 (keep_capabilities default): nothing else.
        assert capeff == (1 << 12), "unexpected capabilities %#x" % capeff
        capbnd = int([l.split()[1] for l in status.splitlines() if l.startswith("CapBnd:")][0], 16)
        assert capbnd == 0, "bounding set not cleared: %#x" % capbnd
    sc.check("hub with user = nobody: uid 65534, only CAP_NET_ADMIN", runs_unprivileged)

    def arp_ping():
        r = sh.run("ping -c 3 -i 0.2 -W 2 %s" % hub.host_ip)
        neigh = sh.run("ip neigh show %s" % hub.host_ip).stdout
        assert hh.mac("eth0") in neigh, "ARP did not learn the hub host's MAC: %r" % neigh
    sc.check("ARP + ping spoke host -> hub host", arp_ping)

    def thread_wakeups(comm):
        # Context switches of the hub's thread named `comm`: one per wake-up (or preemption).
        return sum(int(l.split()[1]) for l in hub.thread_proc(comm, "status").splitlines()
                   if l.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")))

    def replies_inline():
        # The hub host's echo reply is in the hub's tap by the time the hub's
        # RX thread has written the request: the RX thread sends it at once
        # instead of waking the TX thread (TxPath::forward_replies), and the
        # tap is muted for the TX thread meanwhile, so the reply wakes nobody.
        st = hub.peer_status("sitea")
        tx_before = thread_wakeups("sb-tx")
        sh.run("ping -c 20 -i 0.05 -W 2 %s" % hub.host_ip)
        tx_woken = thread_wakeups("sb-tx") - tx_before
        after = hub.peer_status("sitea")
        sent = after["replies_inline"] - st["replies_inline"]
        by_tx = after["tx_frames"] - st["tx_frames"] - sent  # ARP, neighbour discovery of the hub host
        assert sent >= 18, "only %d of 20 echo replies were sent by the RX thread" % sent
        # Before taps were muted, every reply also woke the TX thread (≥ 20).
        assert tx_woken <= by_tx + 6, "the hub's TX thread was woken %d times during 20 pings (it sent %d frames)" % (
            tx_woken, by_tx)
    sc.check("light traffic: the RX thread sends the replies itself (replies_inline), the TX thread sleeps",
             replies_inline)

    def broadcast_ping():
        # Hosts ignore broadcast echo by default; let the hub host answer.
        hh.run("sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0")
        r = sh.run("ping -b -c 3 -i 0.2 -W 2 10.1.255.255", check=False)
        assert "bytes from %s" % hub.host_ip in r.stdout, r.stdout + r.stderr
    sc.check("broadcast ping reaches the hub host", broadcast_ping)

    def ipv6_ll():
        # Wait for duplicate address detection to finish on both hosts (a
        # tentative address neither sends nor answers).
        for h in (hh, sh):
            wait_until(lambda: h.run("ip -6 addr show dev eth0 tentative").stdout.strip() == "", 5,
                       what="link-local address of %s out of DAD" % h.name)
        ll = [a["local"] for a in hh.addresses("eth0")[0]["addr_info"] if a["local"].startswith("fe80")]
        assert ll, "hub host has no link-local address"
        sh.run("ping -6 -c 3 -i 0.2 -W 2 %s%%eth0" % ll[0])
    sc.check("IPv6 link-local ping (multicast neighbour discovery)", ipv6_ll)

    frag_before = {n: snmp_ip_frag(g.ns) for n, g in (("hub", hub), ("spoke", spoke))}

    def full_size_ping():
        sh.run("ping -M do -s 1472 -c 5 -i 0.2 -W 2 %s" % hub.host_ip)
        hh.run("ping -M do -s 1472 -c 5 -i 0.2 -W 2 %s" % spoke.host_ip)
        st = hub.peer_status("sitea")
        assert st["fragments"]["tx"] > 0 and st["fragments"]["reassembled"] > 0, st
    sc.check("ping -M do -s 1472 both ways (1514-byte frames over the 1500 path)", full_size_ping)

    def raw_frame(label, frame):
        hexfile = lab.path("%s.hex" % label)
        out = lab.path("%s.out" % label)
        with open(hexfile, "w") as f:
            f.write(frame.hex())
        ethertype = frame[12:14].hex()
        rx = hh.spawn(["python3", RAWFRAME, "recv", "eth0", ethertype, sh.mac("eth0"), "5", out],
                      name="rawrecv-" + label)
        wait_until(lambda: os.path.exists(out + ".ready"), 5, what="raw receiver ready")
        sh.run(["python3", RAWFRAME, "send", "eth0", hexfile])
        wait_until(lambda: not rx.alive(), 6, what="raw receiver done")
        assert rx.popen.returncode == 0, "frame %s never arrived" % label
        got = bytes.fromhex(open(out).read())
        assert got == frame, "frame %s changed in transit (%d bytes sent, %d received)" % (
            label, len(frame), len(got))

    def non_ip_frame():
        dst = bytes.fromhex(hh.mac("eth0").replace(":", ""))
        src = bytes.fromhex(sh.mac("eth0").replace(":", ""))
        payload = hashlib.sha256(b"segbridge").digest() * 47  # 1504 bytes
        raw_frame("ethertype88b5", dst + src + b"\x88\xb5" + payload[:1500])
    sc.check("non-IP ethertype 0x88b5 frame (1514 B) arrives byte-identical", non_ip_frame)

    def vlan_frame():
        dst = bytes.fromhex(hh.mac("eth0").replace(":", ""))
        src = bytes.fromhex(sh.mac("eth0").replace(":", ""))
        tag = b"\x81\x00\x00\x2a"  # 802.1Q, VID 42
        inner = b"\x88\xb6" + bytes((i * 7) & 0xFF for i in range(1500))
        frame = dst + src + tag + inner
        assert len(frame) == 1518
        raw_frame("vlan1518", frame)
    sc.check("802.1Q-tagged 1518-byte frame arrives byte-identical", vlan_frame)

    def tcp_100mb():
        data = lab.path("blob")
        with open(data, "wb") as f:
            f.write(os.urandom(100 * 1024 * 1024))
        h = hashlib.sha256()
        with open(data, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out = lab.path("tcp.out")
        before = spoke.peer_status("hub")
        rx = hh.spawn(["python3", TCPXFER, "recv", "5001", out], name="tcprecv")
        time.sleep(0.3)
        t = time.monotonic()
        sh.run(["python3", TCPXFER, "send", hub.host_ip, "5001", data], timeout=120)
        wait_until(lambda: not rx.alive(), 30, what="TCP receiver finished")
        took = time.monotonic() - t
        got = open(out).read().split()
        assert int(got[0]) == 100 * 1024 * 1024, got
        assert got[1] == h.hexdigest(), "sha256 mismatch"
        print("    100 MB in %.2f s = %.0f Mbit/s" % (took, 100 * 8 * 1.048576 / took))
        # Tap offload: the host's TSO super-frames are cut into segments that
        # each fit one datagram, so bulk TCP needs (almost) no fragmentation.
        after = spoke.peer_status("hub")
        frames = after["tx_frames"] - before["tx_frames"]
        frags = after["fragments"]["tx"] - before["fragments"]["tx"]
        assert frames > 70000, "too few frames for 100 MB: %d" % frames
        assert frags < frames // 100, "TCP data was fragmented: %d fragments for %d frames" % (frags, frames)
        assert "offload_malformed" not in after["drops"], after["drops"]
        os.unlink(data)
    sc.check("100 MB TCP transfer arrives with the same sha256", tcp_100mb)

    def tcp_without_host_offloads():
        # Hosts without TSO/GSO/GRO: every frame the tap sees is 1514 bytes,
        # which alone needs two fragments. TX coalescing (tx_coalesce, on by
        # default) merges the segments of one wakeup and re-cuts them to fit
        # one datagram each, so most of the stream crosses unfragmented.
        lan_ports = ((sh, "eth0"), (hh, "eth0"), (spoke.ns, "lan0"), (hub.ns, "lan0"))
        names = {"tcp-segmentation-offload": "tso", "generic-segmentation-offload": "gso",
                 "generic-receive-offload": "gro"}
        saved = []
        for ns, dev in lan_ports:
            state = {}
            for line in ns.run("ethtool -k %s" % dev).stdout.splitlines():
                key, _, value = line.partition(":")
                if key.strip() in names:
                    state[names[key.strip()]] = value.split()[0]
            saved.append((ns, dev, state))
            ns.run("ethtool -K %s tso off gso off gro off" % dev)
        try:
            size = 50 * 1024 * 1024
            data = lab.path("blob50")
            with open(data, "wb") as f:
                f.write(os.urandom(size))
            sha = hashlib.sha256(open(data, "rb").read()).hexdigest()
            out = lab.path("tcp50.out")
            before = spoke.peer_status("hub")
            rx = hh.spawn(["python3", TCPXFER, "recv", "5003", out], name="tcprecv50")
            time.sleep(0.3)
            sh.run(["python3", TCPXFER, "send", hub.host_ip, "5003", data], timeout=120)
            wait_until(lambda: not rx.alive(), 30, what="TCP receiver finished")
            assert open(out).read().split() == [str(size), sha], "50 MB without host offloads: sha256 mismatch"
            after = spoke.peer_status("hub")
            frames = after["tx_frames"] - before["tx_frames"]
            frags = after["fragments"]["tx"] - before["fragments"]["tx"]
            print("    no host offloads: %d frames, %d fragments" % (frames, frags))
            # 50 MB is >= 36000 full segments; without coalescing each would
            # be fragmented (fragments >= frames).
            assert frames > 36000, "too few frames for 50 MB: %d" % frames
            assert frags < frames // 4, "1514-byte frames were not coalesced: %d fragments for %d frames" % (
                frags, frames)
            os.unlink(data)
        finally:
            for ns, dev, state in saved:  # as they were, for the checks that follow
                ns.run("ethtool -K %s %s" % (dev, " ".join("%s %s" % kv for kv in sorted(state.items()))))
    sc.check("host offloads off: 50 MB TCP intact, TX coalescing avoids in-tunnel fragments", tcp_without_host_offloads)

    def no_wan_fragments():
        for n, g in (("hub", hub), ("spoke", spoke)):
            now = snmp_ip_frag(g.ns)
            assert now[0] == frag_before[n][0], "%s created IP fragments: %r -> %r" % (n, frag_before[n], now)
            assert now[1] == frag_before[n][1], "%s reassembled IP fragments: %r -> %r" % (n, frag_before[n], now)
    sc.check("no IP fragments on the WAN (FragCreates/ReasmReqds unchanged)", no_wan_fragments)

    def macs_behind_peers():
        # Fresh traffic so the FDB entries are current.
        sh.run("ping -c 1 -W 2 %s" % hub.host_ip)
        st = hub.peer_status("sitea")
        assert sh.mac("eth0") in st["macs"], "hub: spoke host MAC not behind sitea: %r" % st
        assert hh.mac("eth0") not in st["macs"], st
        st2 = spoke.peer_status("hub")
        assert hh.mac("eth0") in st2["macs"], "spoke: hub host MAC not behind peer hub: %r" % st2
        assert st["rx_frames"] > 0 and st["tx_frames"] > 0 and st["endpoint"].startswith("192.0.2.2:"), st
        text = hub.ns.run(["sh", "-c", "%s -s %s status" % (
            os.path.join(os.environ.get("SEGBRIDGE_BUILD_DIR", ""), "daemon/segbridgectl"), hub.sock)]).stdout
        assert "sitea" in text and "established" in text and sh.mac("eth0") in text, text
    sc.check("segbridgectl status shows the remote host's MAC behind the right peer", macs_behind_peers)

    def udp_probe(sender, receiver, sport, dst, dport):
        """True if a datagram from sender:sport to dst:dport reached receiver."""
        rx = receiver.spawn(["python3", UDPPROBE, "recv", str(dport), "1.5"], name="udprecv%d" % dport)
        wait_until(lambda: "ready" in rx.log(), 5, what="UDP receiver ready")
        sender.run(["python3", UDPPROBE, "send", str(sport), dst, str(dport)])
        wait_until(lambda: not rx.alive(), 5, what="UDP receiver done")
        return rx.popen.returncode == 0

    def frame_filter():
        # A rogue DHCP server at the remote site never reaches the frontend's LAN...
        assert not udp_probe(sh, hh, 67, "10.1.255.255", 68), "DHCP server traffic from a spoke got through"
        st = hub.peer_status("sitea")
        assert st["drops"].get("filter_dhcp_server", 0) >= 3, st["drops"]
        # ...nor forged syslog lines (insert-ethers trusts dhcpd's)...
        assert not udp_probe(sh, hh, 40000, hub.host_ip, 514), "syslog from a spoke got through"
        assert hub.peer_status("sitea")["drops"].get("filter_syslog", 0) >= 3
        # ...while the hub's DHCP server does reach the remote site, and ordinary UDP passes.
        assert udp_probe(hh, sh, 67, "10.1.255.255", 68), "the hub's DHCP server traffic was dropped"
        assert udp_probe(sh, hh, 40001, hub.host_ip, 5514), "ordinary UDP was dropped"
    sc.check("frame filter: spoke DHCP-server and syslog frames dropped and counted; hub's DHCP passes",
             frame_filter)

    def restart_recovery():
        spoke.kill9()
        # The persistent tap stays in the bridge while the daemon is gone.
        assert "sb-hub" in spoke.ns.run("ip link show master br0").stdout
        t0 = time.monotonic()
        spoke.start()
        wait_until(lambda: sh.ok("ping -c 1 -W 0.2 %s" % hub.host_ip), 3.0, interval=0.02,
                   what="traffic after spoke restart")
        took = time.monotonic() - t0
        print("    traffic restored %.2f s after restarting the spoke" % took)
        assert took <= 3.0
    sc.check("kill -9 + restart of the spoke: traffic back within 3 s", restart_recovery)

    def clean_shutdown():
        # The restarted spoke found br0 already there: not its bridge, so it stays.
        rc = spoke.stop()
        assert rc == 0, "spoke segbridged exited %r" % rc
        links = spoke.ns.run("ip -o link show").stdout
        assert "sb-hub" not in links, "tap left behind: " + links
        assert "master br0" in spoke.ns.run("ip -o link show lan0").stdout, "bridge it did not create was touched"
        # The hub created br0 and has remove_bridge_on_exit = true.
        rc = hub.stop()
        assert rc == 0, "hub segbridged exited %r" % rc
        links = hub.ns.run("ip -o link show").stdout
        assert "sb-sitea" not in links, "tap left behind: " + links
        assert "br0" not in links, "created bridge left behind: " + links
        assert "lan0" in links
    sc.check("SIGTERM: exit 0, taps removed, the bridge only where the daemon created it (also unprivileged)",
             clean_shutdown)
finally:
    lab.end(sc)
sys.exit(sc.finish())
