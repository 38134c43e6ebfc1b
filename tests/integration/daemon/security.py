"""segbridged security in network namespaces (Noise IK mode):
  * hub and spoke authenticate with X25519 site keys (plus a PSK as psk2) and
    both drop privileges after start-up (/proc/PID/status Uid and CapEff);
    the control socket is root-only;
  * a third site that knows the hub's public key (and even the PSK) but whose
    own key the hub does not list gets zero frames onto the hub's taps;
  * a flood of 100k handshake initiations (valid mac1) from random source
    ports leaves the established session's traffic flowing, and the hub
    answers it with cookies (no DH work), never with anything bigger;
  * a DHCP server in the spoke's segment cannot lease an address to a host on
    the hub's segment with the default filter, and can once the peer is
    allowed to serve DHCP (SIGHUP after the privilege drop: the filter changes
    in place, the peer's session is kept);
  * with rekey_after_time = 5 s, a 20-second TCP transfer spans several
    Noise rekeys and arrives complete (same sha256)."""
import base64
import hashlib
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, Scenario, binary, require_root, wait_until  # noqa: E402
from sbrig import PORT, Rig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
require_root()
sc = Scenario("daemon_security")
lab = Lab("secur")
NOBODY = 65534
CAP_NET_ADMIN_MASK = "%016x" % (1 << 12)


def keypair(name):
    """Writes NAME.key (0600, root) with `segbridged genkey`; returns (path, public key)."""
    import subprocess
    path = lab.path(name + ".key")
    priv = subprocess.run([binary("daemon/segbridged"), "genkey"], capture_output=True, text=True,
                          check=True).stdout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, priv.encode())
    os.close(fd)
    pub = subprocess.run([binary("daemon/segbridged"), "pubkey"], input=priv, capture_output=True, text=True,
                         check=True).stdout.strip()
    return path, pub


def proc_status(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def tap_rx_packets(gw, tap):
    return int(gw.ns.run("cat /sys/class/net/%s/statistics/rx_packets" % tap).stdout)


def drops(status_peer_or_daemon):
    return status_peer_or_daemon.get("drops", {})


try:
    rig = Rig(lab, spokes=("sitea", "evil"), start=False)
    hub, a, evil = rig.hub, rig.spokes[0], rig.spokes[1]
    # The config directory must be readable by the unprivileged user for
    # SIGHUP reloads; the key files in it stay 0600 root.
    os.chmod(lab.dir, 0o755)
    keys = {gw.name: keypair(gw.name) for gw in (hub, a, evil)}

    def daemon_lines(gw, user="nobody", caps=None):
        lines = ['private_key_file = "%s"' % keys[gw.name][0], 'user = "%s"' % user]
        if caps is not None:
            lines.append("keep_capabilities = [%s]" % ", ".join('"%s"' % c for c in caps))
        return "\n".join(lines)

    def write_hub(allow_dhcp=False):
        extra = ['public_key = "%s"' % keys["sitea"][1]]
        if allow_dhcp:
            extra.append("allow_dhcp_server = true")
        hub.write_config([{"name": "sitea", "extra": extra}], extra_daemon=daemon_lines(hub))

    write_hub()
    hub_peer = {"name": "hub", "endpoint": rig.hub_endpoint(), "keepalive": 5,
                "extra": ['public_key = "%s"' % keys["hub"][1]]}
    a.write_config([hub_peer], extra_daemon=daemon_lines(a, caps=[]))
    evil.write_config([hub_peer], extra_daemon=daemon_lines(evil))

    def noise_sessions():
        r = hub.ns.run([binary("daemon/segbridged"), "--check", "-c", hub.conf])
        assert "noise-ik" in r.stdout, r.stdout
        hub.start()
        a.start()
        a.wait_established("hub", 10)
        hub.wait_established("sitea", 10)
        a.host.run("ping -c 3 -i 0.2 -W 2 %s" % hub.host_ip)
        hub.host.run("ping -M do -s 1472 -c 2 -W 2 %s" % a.host_ip)
        log = open(hub.proc.log_path).read()
        assert "handshake: Noise IK" in log, log[-2000:]
    sc.check("Noise IK (X25519 site keys + psk2) hub and spoke establish; ping and full-size frames cross",
             noise_sessions)

    def privileges_dropped():
        for gw, want_caps in ((hub, CAP_NET_ADMIN_MASK), (a, "0" * 16)):
            st = proc_status(gw.proc.pid)
            assert st["Name"] == "segbridged", st["Name"]
            assert st["Uid"].split() == [str(NOBODY)] * 4, (gw.name, st["Uid"])
            assert "0" not in st["Gid"].split(), (gw.name, st["Gid"])
            assert st["CapEff"] == want_caps, (gw.name, st["CapEff"])
            assert st["CapPrm"] == want_caps, (gw.name, st["CapPrm"])
            assert st["CapBnd"] == "0" * 16, (gw.name, st["CapBnd"])
            assert st["NoNewPrivs"] == "1", (gw.name, st["NoNewPrivs"])
            mode = os.stat(gw.sock)
            # Bound before the drop: root's, 0600, so only root can talk to the daemon.
            assert mode.st_mode & 0o777 == 0o600 and mode.st_uid == 0, (gw.name, oct(mode.st_mode), mode.st_uid)
        # Still working as nobody: status over the control socket, traffic.
        a.host.run("ping -c 2 -i 0.2 -W 2 %s" % hub.host_ip)
    sc.check("both daemons run as nobody (hub keeps only CAP_NET_ADMIN, spoke none); control socket 0600 root",
             privileges_dropped)

    def unknown_key_gets_nothing_in():
        # Take the real spoke away so nothing legitimate arrives on sb-sitea.
        a.stop()
        time.sleep(0.5)
        before = {t: tap_rx_packets(hub, t) for t in ("sb-sitea",)}
        ev = evil.start()
        # Traffic the evil site tries to put on the cluster LAN: ARP, broadcast and unicast pings.
        evil.host.run("ping -b -c 5 -i 0.2 -W 1 10.1.255.255", check=False)
        evil.host.run("ping -c 5 -i 0.2 -W 1 %s" % hub.host_ip, check=False)
        time.sleep(3)
        st = evil.peer_status("hub")
        assert st["state"] != "established", st
        after = {t: tap_rx_packets(hub, t) for t in before}
        assert after == before, (before, after)
        hs = hub.status()
        assert drops(hs).get("handshake_unknown_peer", 0) >= 1, hs
        assert [p["name"] for p in hs["peers"]] == ["sitea"], hs
        evil.proc.stop()
        assert ev is not None
        a.start()
        a.wait_established("hub", 10)
    sc.check("a site whose key the hub does not list (knowing the hub key and the PSK) puts 0 frames on the hub",
             unknown_key_gets_nothing_in)

    def flood_leaves_session_flowing():
        hub_pub = base64.b64decode(keys["hub"][1])
        mac1_key = hashlib.blake2b(b"mac1----" + hub_pub, digest_size=32).digest()
        rng = random.Random(5)

        def initiation():
            body = struct.pack("<BBHI", 1, 1, 0, rng.getrandbits(32)) + bytes(rng.getrandbits(8) for _ in range(108))
            return body + hashlib.blake2b(body, key=mac1_key, digest_size=16).digest() + bytes(16)

        packets = [initiation() for _ in range(64)]
        flooder = lab.path("flood.py")
        with open(flooder, "w") as f:
            f.write(
                "import socket, sys\n"
                "pkts = [bytes.fromhex(l) for l in open(sys.argv[1]).read().split()]\n"
                "dst = (sys.argv[2], int(sys.argv[3]))\n"
                "n = int(sys.argv[4]); sent = 0\n"
                "while sent < n:\n"
                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"  # a new random source port
                "    s.setblocking(False)\n"
                "    for p in pkts[:4]:\n"
                "        try: s.sendto(p, dst)\n"
                "        except BlockingIOError: pass\n"
                "        sent += 1\n"
                "    pkts = pkts[4:] + pkts[:4]\n"
                "    s.close()\n"
                "print('sent', sent)\n")
        with open(lab.path("flood.hex"), "w") as f:
            f.write("\n".join(p.hex() for p in packets))
        hs_before = hub.status()
        completed_age = hub.peer_status("sitea")["last_handshake_age_s"]
        ping = a.host.spawn("ping -i 0.05 -c 200 -W 1 %s" % hub.host_ip, name="ping-during-flood")
        fl = evil.ns.spawn(["python3", flooder, lab.path("flood.hex"), "192.0.2.1", str(PORT), "100000"],
                           name="flood")
        wait_until(lambda: not fl.alive(), 120, interval=0.2, what="100k initiations sent")
        assert fl.popen.returncode == 0, fl.log()
        ping.popen.wait(30)
        out = ping.log()
        received = int(out.split(" received")[0].split(",")[-1].strip())
        assert received >= 180, out[-400:]
        st = hub.peer_status("sitea")
        assert st["state"] == "established", st
        hs = hub.status()
        d, d0 = drops(hs), drops(hs_before)
        cookies = d.get("handshake_cookie_required", 0) - d0.get("handshake_cookie_required", 0)
        handled = sum(d.values()) - sum(d0.values())
        assert cookies > 0, d
        # Every flood packet was dropped (counted) at the hub, none was accepted.
        assert handled >= 20000, (handled, d)
        assert hub.proc.alive()
        print("    flood: %s; ping %d/200 during it; hub drops: %s; sitea handshake age %s -> %s" % (
            fl.log().strip(), received, {k: v for k, v in d.items() if v}, completed_age,
            st["last_handshake_age_s"]), flush=True)
    sc.check("100k initiations (valid mac1, random source ports) leave the session flowing; cookies answer them",
             flood_leaves_session_flowing)

    def rogue_dhcp():
        conf = lab.path("dhcpd.conf")
        with open(conf, "w") as f:
            f.write("ddns-update-style none;\nauthoritative;\ndefault-lease-time 600;\nmax-lease-time 600;\n"
                    "subnet 10.1.0.0 netmask 255.255.0.0 { range 10.1.200.10 10.1.200.20; }\n")
        leases = lab.path("dhcpd.leases")
        open(leases, "w").close()
        dhcpd = a.host.spawn(["dhcpd", "-4", "-f", "-d", "-cf", conf, "-lf", leases, "-pf", lab.path("dhcpd.pid"),
                              "eth0"], name="rogue-dhcpd")
        wait_until(lambda: "Listening on" in dhcpd.log() or not dhcpd.alive(), 10, what="dhcpd listening")
        assert dhcpd.alive(), dhcpd.log()
        client = "udhcpc -i eth0 -n -q -f -t 4 -T 1 -s /bin/true"
        r = hub.host.run(client, check=False, timeout=30)
        assert r.returncode != 0, "a rogue DHCP server leased through the filter: %s %s" % (r.stdout, r.stderr)
        filtered = drops(hub.peer_status("sitea")).get("filter_dhcp_server", 0)
        assert filtered >= 1, hub.peer_status("sitea")
        assert "DHCPDISCOVER" in dhcpd.log(), dhcpd.log()[-1000:]  # the request did reach it
        # Allow this site to serve DHCP: SIGHUP (the hub runs as nobody by now).
        write_hub(allow_dhcp=True)
        hub.proc.send_signal(1)
        wait_until(lambda: "sitea: frame filters updated" in open(hub.proc.log_path).read(), 10,
                   what="hub reload (filters updated in place)")
        a.wait_established("hub", 30)
        hub.wait_established("sitea", 30)
        r = hub.host.run(client, check=False, timeout=30)
        assert r.returncode == 0, "no lease with allow_dhcp_server = true: %s %s" % (r.stdout, r.stderr)
        assert "10.1.200." in r.stdout + r.stderr, r.stdout + r.stderr
        dhcpd.stop()
    sc.check("a rogue DHCP server at the spoke cannot lease to a hub-side host; it can once the peer is allowed",
             rogue_dhcp)
    def rekey_during_tcp_loses_nothing():
        for gw in (a, hub):
            gw.proc.stop()
        hub.write_config([{"name": "sitea", "extra": ['public_key = "%s"' % keys["sitea"][1]]}],
                         extra_daemon=daemon_lines(hub) + "\nrekey_after_time = 5")
        a.write_config([hub_peer], extra_daemon=daemon_lines(a, caps=[]) + "\nrekey_after_time = 5")
        hub.start()
        a.start()
        a.wait_established("hub", 10)
        hub.wait_established("sitea", 10)
        data = lab.path("blob")
        with open(data, "wb") as f:
            f.write(os.urandom(20 * 1024 * 1024))
        sha = hashlib.sha256(open(data, "rb").read()).hexdigest()
        sender = lab.path("slowsend.py")
        with open(sender, "w") as f:
            f.write("import socket, sys, time\n"
                    "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)\n"
                    "data = open(sys.argv[3], 'rb').read(); t0 = time.monotonic(); rate = 1 << 20\n"
                    "for i in range(0, len(data), 65536):\n"
                    "    s.sendall(data[i:i + 65536])\n"
                    "    ahead = (i + 65536) / rate - (time.monotonic() - t0)\n"
                    "    if ahead > 0: time.sleep(ahead)\n"
                    "s.shutdown(socket.SHUT_WR); s.recv(1); s.close()\n")
        logs = (a.proc.log_path, hub.proc.log_path)
        handshakes = lambda: sum(open(p).read().count("handshake with ") for p in logs)  # noqa: E731
        before = handshakes()
        bad = ("no_session", "unknown_index", "unauthenticated", "expired_session", "replay")
        drops_before = [drops(hub.peer_status("sitea")), drops(a.peer_status("hub"))]
        out = lab.path("tcp.out")
        rx = hub.host.spawn(["python3", os.path.join(HERE, "tcpxfer.py"), "recv", "5001", out], name="tcprecv")
        time.sleep(0.3)
        tx = a.host.spawn(["python3", sender, hub.host_ip, "5001", data], name="slowsend")
        wait_until(lambda: not tx.alive(), 90, interval=0.2, what="20 MB sent at 1 MB/s")
        wait_until(lambda: not rx.alive(), 30, interval=0.2, what="receiver done")
        assert tx.popen.returncode == 0, tx.log()
        got = open(out).read().split()
        assert got == [str(20 * 1024 * 1024), sha], (got, sha)
        accepted = handshakes() - before  # each rekey is logged by both sides
        assert accepted >= 4, "only %d handshake messages accepted during the transfer" % accepted
        drops_after = [drops(hub.peer_status("sitea")), drops(a.peer_status("hub"))]
        for b, af in zip(drops_before, drops_after):
            for reason in bad:
                assert af.get(reason, 0) == b.get(reason, 0), (reason, b, af)
        print("    %d handshake messages accepted (both sides) during the 20 MB transfer; no packet dropped "
              "for want of keys; sha256 matches" % accepted, flush=True)
    sc.check("rekeys every 5 s during a 20 s TCP transfer lose nothing (sha256 equal)", rekey_during_tcp_loses_nothing)
finally:
    lab.close()
sys.exit(sc.finish())
