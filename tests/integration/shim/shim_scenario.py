"""insert-ethers-shim end to end in namespaces, with real rsyslogd, real ISC
dhcpd and real DHCP clients (ISC dhclient behind the tunnel-named port
sb-siteA, busybox udhcpc on a local port):

  * the remote MAC is recorded with site siteA and stays pending while the
    insert-ethers lock file is absent; once it exists the shim's line reaches
    rsyslog's traditional-format file and passes insert-ethers' token rules;
  * dhcpd itself logs the remote node "via br0" (the problem being solved);
  * with the private interface (eth0) outside br0 the local node is recorded
    but never announced; after eth0 joins br0 the shim notices and announces it;
  * the registered check flips the remote MAC to registered;
  * CLI: show, announce, forget;
  * the capture survives br0 being deleted and re-created.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, Scenario, require_root, wait_until  # noqa: E402
from shimlab import ShimLab  # noqa: E402

require_root()
sc = Scenario("shim_scenario")

with Lab("shim") as lab:
    # br1 does not exist yet: the shim must capture on br0 anyway and pick br1
    # up when it appears. max_pending is small so the flood check can hit it.
    rig = ShimLab(lab, private_in_bridge=False, interfaces=("br0", "br1"),
                  extra_conf="[guards]\nnew_macs_per_minute = 60\nmax_pending = 20\n")
    rig.start_rsyslog()
    rig.start_dhcpd()
    rig.start_shim()
    remote_mac = rig.site.mac("eth0")
    local_mac = rig.local.mac("eth0")
    rig.start_dhclient(rig.site, "remote")
    rig.start_udhcpc(rig.local, "local")

    def remote_pending():
        e = wait_until(lambda: rig.entry(remote_mac), 20, what="remote MAC in the ledger")
        assert e["site"] == "siteA", e
        assert e["port"] == "sb-siteA", e
        assert e["vendor_class"].startswith("PXEClient"), e
        assert e["state"] == "discovered", e  # lock absent: pending, not announced
        assert e["announce_count"] == 0, e
        time.sleep(1.5)
        assert remote_mac not in rig.accepted_macs(), rig.message_lines()
        assert rig.entry(remote_mac)["state"] == "discovered"
        assert "insert-ethers is not running" in rig.shim.log()

    sc.check("remote MAC recorded with site siteA, pending while insert-ethers lock absent", remote_pending)

    def local_ignored():
        e = wait_until(lambda: rig.entry(local_mac), 20, what="local MAC in the ledger")
        assert e["site"] == "local" and e["port"] == "lan0", e
        assert e["state"] == "ignored" and e["ignore_reason"] == "local", e
        assert "is not a port of br0" in rig.shim.log()

    sc.check("private interface outside br0: local MAC recorded as ignored(local)", local_ignored)

    def pending_survives_kill9():
        rig.shim.kill()  # SIGKILL
        rig.start_shim()
        assert "1 pending MAC(s) from the ledger" in rig.shim.log(), rig.shim.log()
        e = rig.entry(remote_mac)
        assert e["state"] == "discovered" and e["site"] == "siteA", e

    sc.check("kill -9 while pending: the restarted shim resumes it from the ledger", pending_survives_kill9)

    def announced_after_lock():
        t0 = time.monotonic()
        open(rig.lock, "w").close()
        wait_until(lambda: remote_mac in rig.accepted_macs(), 5, what="insert-ethers-acceptable line")
        dt = time.monotonic() - t0
        assert dt < 2.0, "announced %.2fs after the lock appeared" % dt
        lines = [l for l in rig.message_lines() if remote_mac in l]
        toks = lines[0].split()
        assert toks[4] == "dhcpd:" and toks[5] == "DHCPDISCOVER" and toks[7] == remote_mac, lines[0]
        assert toks[9] == "eth0", lines[0]
        assert wait_until(lambda: rig.entry(remote_mac)["state"] == "announced", 3, what="state announced")
        print("    line: %s (%.2fs after lock)" % (lines[0], dt))

    sc.check("lock created -> rsyslog line accepted by insert-ethers' token rules", announced_after_lock)

    sc.check("dhcpd itself logs the remote node via br0 (ignored by insert-ethers)",
             lambda: wait_until(lambda: rig.dhcpd_saw_via_br0(remote_mac), 15, what="dhcpd via br0 line"))

    def local_not_announced():
        time.sleep(2)
        assert local_mac not in rig.accepted_macs(), rig.message_lines()
        assert rig.entry(local_mac)["state"] == "ignored"

    sc.check("local node not announced while eth0 is outside br0", local_not_announced)

    def reannounce_until_registered():
        wait_until(lambda: rig.entry(remote_mac)["announce_count"] >= 2, 6, what="re-announcement (backoff)")
        with open(rig.registered, "w") as f:
            f.write("frontend  eth0  %s  10.1.1.1\ncompute-0-0  eth0  %s  10.1.255.254\n" % ("52:54:00:fe:fe:fe",
                                                                                        remote_mac.upper()))
        wait_until(lambda: rig.entry(remote_mac)["state"] == "registered", 6, what="registered")
        n = rig.entry(remote_mac)["announce_count"]
        time.sleep(5)
        assert rig.entry(remote_mac)["announce_count"] == n, "still announcing after registration"

    sc.check("re-announced with backoff, then registered via the check command", reannounce_until_registered)

    def topology_change_announces_local():
        rig.hub.run("ip link set eth0 master br0")
        wait_until(lambda: "is a port of br0" in rig.shim.log(), 5, what="topology change logged")
        wait_until(lambda: local_mac in rig.accepted_macs(), 10, what="local MAC announced")
        assert rig.entry(local_mac)["state"] == "announced"
        # Never twice in a row for one sighting: one line per announcement.
        assert rig.accepted_macs().count(remote_mac) == rig.entry(remote_mac)["announce_count"]

    sc.check("eth0 joins br0 -> topology change detected, local node announced", topology_change_announces_local)

    def cli():
        r = rig.shim_cli("show", remote_mac)
        assert r.returncode == 0 and "registered" in r.stdout and "siteA" in r.stdout, r.stdout + r.stderr
        r = rig.shim_cli("show", "52:54:00:99:99:99")
        assert r.returncode == 3, r
        r = rig.shim_cli("announce", "52:54:00:99:99:98")
        assert r.returncode == 0, r.stderr
        wait_until(lambda: "52:54:00:99:99:98" in rig.accepted_macs(), 5, what="CLI announcement line")
        r = rig.shim_cli("list")
        assert r.returncode == 0 and remote_mac in r.stdout and "manual" in r.stdout, r.stdout
        r = rig.shim_cli("stats", "--json")
        assert r.returncode == 0 and '"frames_accepted"' in r.stdout, r.stdout
        r = rig.shim_cli("show", "nonsense")
        assert r.returncode == 2, r
        # What rocks-plugin's insert-ethers plugin calls once Rocks added the node.
        r = rig.shim_cli("registered", "52:54:00:99:99:98", "--host", "compute-0-9")
        assert r.returncode == 0, r.stderr
        e = rig.entry("52:54:00:99:99:98")
        assert e["state"] == "registered" and e["registered_host"] == "compute-0-9", e
        r = rig.shim_cli("registered", "52:54:00:99:99:97")  # never seen: nothing to do
        assert r.returncode == 0 and "not in the ledger" in r.stdout, r

    sc.check("CLI show/announce/list/stats/registered", cli)

    gen = os.path.join(rig.lab_source, "tests", "bench", "shim", "dhcpgen.py")

    def vlan_tagged_captured():
        # The BPF filter must match tagged requests too (the `vlan` keyword pitfall).
        rig.site.run(["python3", gen, "eth0", "probe", "1", "10", "42"])
        rig.site.run(["python3", gen, "eth0", "probe", "1", "10", "100,200"])
        wait_until(lambda: rig.entry("52:54:00:ab:00:00"), 5, what="802.1Q-tagged DISCOVER recorded")
        wait_until(lambda: rig.entry("52:54:00:ac:00:00"), 5, what="QinQ DISCOVER recorded")
        assert rig.entry("52:54:00:ab:00:00")["site"] == "siteA"

    sc.check("802.1Q and QinQ tagged DISCOVERs captured and attributed", vlan_tagged_captured)

    def second_interface_appears():
        assert rig.shim.log().count("cannot capture on br1") == 1, rig.shim.log()[-3000:]
        site_b = lab.netns("siteB")
        rig.hub.run("ip link add br1 type bridge stp_state 0 forward_delay 0 && ip link set br1 up")
        lab.veth(rig.hub, "sb-siteB", site_b, "eth0")
        rig.hub.run("ip link set sb-siteB master br1")
        wait_until(lambda: "capturing on br1 again" in rig.shim.log(), 5, what="capture on br1")
        site_b.run(["python3", gen, "eth0", "probe", "1", "10", "-", "b1"])
        e = wait_until(lambda: rig.entry("52:54:00:b1:00:00"), 5, what="DISCOVER on br1 recorded")
        assert e["site"] == "siteB" and e["port"] == "sb-siteB", e

    sc.check("several interfaces: br1 missing at start (logged once), captured once created", second_interface_appears)

    def flood_is_bounded():
        before = json.loads(rig.shim_cli("stats", "--json").stdout)
        # 300 fresh PXE MACs at 1000/s from the remote site.
        rig.site.run(["python3", gen, "eth0", "probe", "300", "1000", "-", "f1"])
        time.sleep(2.5)
        ledger = rig.ledger()
        flood = [e for m, e in ledger.items() if m.startswith("52:54:00:f1:")]
        pending = [e for e in ledger.values() if e["state"] in ("discovered", "announced")]
        capped = [e for e in flood if e["ignore_reason"] == "pending_cap"]
        after = json.loads(rig.shim_cli("stats", "--json").stdout)
        assert len(flood) <= 61, "rate limit let %d of 300 new MACs in" % len(flood)
        assert after["guard_rate_limited"] - before.get("guard_rate_limited", 0) >= 200, after
        assert len(pending) <= 20, "pending cap exceeded: %d" % len(pending)
        assert capped and after["guard_pending_cap"] > 0, after
        print("    flood: %d of 300 recorded, %d pending, %d capped, %d rate-limited" % (
            len(flood), len(pending), len(capped), after["guard_rate_limited"]))

    sc.check("a DHCP flood is rate-limited and capped (counted)", flood_is_bounded)

    def survives_bridge_recreation():
        rig.hub.run("ip link del br0")
        wait_until(lambda: "capture on br0 lost" in rig.shim.log() or "cannot capture on br0" in rig.shim.log(),
                   5, what="capture loss logged")
        time.sleep(2.5)  # several retries while it is gone: logged once
        log = rig.shim.log()
        assert log.count("cannot capture on br0") <= 1, log[-2000:]
        rig.hub.run("ip link add br0 type bridge stp_state 0 forward_delay 0")
        for port in ("sb-siteA", "lan0", "eth0"):
            rig.hub.run("ip link set %s master br0" % port)
        rig.hub.run("ip link set br0 up")
        wait_until(lambda: "capturing on br0 again" in rig.shim.log(), 5, what="capture back")
        r = rig.shim_cli("forget", remote_mac)
        assert r.returncode == 0, r.stderr
        assert rig.entry(remote_mac) is None
        # The remote client keeps sending DISCOVERs: seen again through the new br0.
        wait_until(lambda: rig.entry(remote_mac), 15, what="remote MAC re-discovered after forget")
        assert rig.entry(remote_mac)["site"] == "siteA"
        assert rig.shim.alive()

    sc.check("bridge deleted and re-created: capture resumes, forget + re-discovery", survives_bridge_recreation)

    def counted():
        r = rig.shim_cli("stats", "--json")
        c = json.loads(r.stdout)
        assert c.get("frames_accepted", 0) > 0, c
        assert c.get("local_not_announced", 0) >= 1, c

    sc.check("counters persisted", counted)

    def clean_stop():
        assert rig.shim.stop(timeout=5) == 0, rig.shim.log()[-2000:]

    sc.check("SIGTERM stops the shim cleanly", clean_stop)

sys.exit(sc.finish())
