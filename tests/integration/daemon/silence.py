"""segbridged answers nothing that does not authenticate: random datagrams
and a spoke with the wrong PSK get zero bytes back and are counted as drops,
while a correctly keyed spoke on the same hub keeps working."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, Scenario, binary, require_root, wait_until  # noqa: E402
from sbrig import PORT, Rig  # noqa: E402

require_root()
sc = Scenario("daemon_silence")
lab = Lab("quiet")
try:
    rig = Rig(lab, spokes=("sitea", "siteb"), start=False)
    hub, good, bad = rig.hub, rig.spokes[0], rig.spokes[1]
    # siteb is configured on the hub but holds a different key.
    wrong = lab.path("wrong.psk")
    key = __import__("subprocess").run([binary("daemon/segbridged"), "genkey"], capture_output=True, text=True,
                                       check=True).stdout
    fd = os.open(wrong, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, key.encode())
    os.close(fd)
    with open(bad.conf) as f:
        text = f.read().replace(rig.psk, wrong)
    with open(bad.conf, "w") as f:
        f.write(text)
    hub.start()
    good.start()
    bad.start()

    sc.check("correctly keyed spoke established", lambda: good.wait_established("hub", 10))

    def wrong_psk():
        time.sleep(2.5)  # several handshake attempts
        assert bad.peer_status("hub")["state"] != "established"
        st = hub.peer_status("siteb")
        assert st["state"] != "established" and st["endpoint"] is None, st
        drops = hub.status()["drops"]
        assert sum(drops.values()) >= 2, "hub did not count the forged initiations: %r" % drops
        sent = bad.status()["peers"][0]
        assert sent["rx_bytes"] == 0 and sent["rx_frames"] == 0, sent
    sc.check("spoke with the wrong PSK: never established, hub counts the drops", wrong_psk)

    def garbage_gets_nothing():
        # From the "internet": random bytes, a truncated header, an oversized datagram.
        script = r'''
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
for payload in [os.urandom(n) for n in (1, 4, 16, 20, 36, 84, 148, 1400)] + [b"\x04" + os.urandom(60), b"\x05" + b"\0" * 83]:
    s.sendto(payload, ("192.0.2.1", %d))
try:
    data = s.recv(65536)
    print("GOT", len(data)); sys.exit(1)
except socket.timeout:
    print("silent")
''' % PORT
        before = sum(hub.status()["drops"].values())
        r = rig.inet.run(["ip", "addr", "add", "192.0.2.99/24", "dev", "wan"], check=False)
        r = rig.inet.run(["python3", "-c", script], check=False)
        assert r.returncode == 0 and "silent" in r.stdout, "hub answered garbage: " + r.stdout + r.stderr
        wait_until(lambda: sum(hub.status()["drops"].values()) >= before + 10, 3, what="garbage counted")
        good.host.run("ping -c 2 -i 0.2 -W 2 %s" % hub.host_ip)
    sc.check("garbage datagrams: no reply, counted, traffic unaffected", garbage_gets_nothing)
finally:
    lab.end(sc)
sys.exit(sc.finish())
