"""The file and exec feeders driven by the running shim (real dhclient behind
sb-siteA, insert-ethers lock present):

  * file: the appended line passes insert-ethers' token rules;
  * exec: the command gets MAC SITE ARCH UUID as arguments and SHIM_* in its
    environment; a failing command is counted and retried with backoff, and
    the MAC becomes announced once the command succeeds.
"""

import json
import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab, Scenario, require_root, wait_until  # noqa: E402
from shimlab import ShimLab, insert_ethers_accepts  # noqa: E402

require_root()
sc = Scenario("shim_feeders")

with Lab("shfd") as lab:
    feed = lab.path("feed.log")
    rig = ShimLab(lab, feeder_conf='feeder = "file"\nfeed_file = "%s"' % feed)
    open(rig.lock, "w").close()
    rig.start_shim()
    mac = rig.site.mac("eth0")
    client = rig.start_dhclient(rig.site, "remote")

    def file_feeder():
        def accepted():
            try:
                with open(feed) as f:
                    return [insert_ethers_accepts(l, "eth0") for l in f]
            except FileNotFoundError:
                return []

        wait_until(lambda: mac in accepted(), 20, what="line in the feed file")
        assert rig.entry(mac)["state"] == "announced"

    sc.check("file feeder appends a line insert-ethers accepts", file_feeder)
    rig.shim.stop()
    client.stop()

with Lab("shex") as lab:
    out = lab.path("exec.out")
    rc = lab.path("exec.rc")
    script = lab.path("provision.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\necho "$# $1 $2 $3 $4 env:$SHIM_MAC,$SHIM_SITE,$SHIM_PORT,$SHIM_VENDOR_CLASS" >> %s\n'
                'exit $(cat %s)\n' % (out, rc))
    os.chmod(script, stat.S_IRWXU)
    with open(rc, "w") as f:
        f.write("1\n")
    rig = ShimLab(lab, feeder_conf='feeder = "exec"\nexec_command = ["%s"]' % script)
    open(rig.lock, "w").close()
    rig.start_shim()
    mac = rig.site.mac("eth0")
    rig.start_dhclient(rig.site, "remote")

    def lines():
        try:
            with open(out) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def exec_failure_retried():
        wait_until(lambda: len(lines()) >= 3, 20, what="three failed exec attempts (retry with backoff)")
        e = rig.entry(mac)
        assert e["state"] == "discovered" and e["announce_count"] == 0, e
        first = lines()[0]
        assert first.startswith("4 %s siteA " % mac), first
        assert "env:%s,siteA,sb-siteA,PXEClient" % mac in first, first

    sc.check("exec feeder gets MAC SITE ARCH UUID + SHIM_* env; failures retried", exec_failure_retried)

    def failures_back_off():
        # backoff 1 s, 2 s, 4 s (announce_backoff_max): attempts get sparser.
        n = len(lines())
        time.sleep(3.0)
        assert len(lines()) - n <= 2, "retrying without backoff: %d attempts in 3 s" % (len(lines()) - n)

    sc.check("failed deliveries back off", failures_back_off)

    def exec_success():
        with open(rc, "w") as f:
            f.write("0\n")
        wait_until(lambda: rig.entry(mac)["state"] == "announced", 15, what="announced after exit 0")
        time.sleep(1.2)  # counters are saved every second
        stats = json.loads(rig.shim_cli("stats", "--json").stdout)
        assert stats.get("announce_failed", 0) >= 3, stats

    sc.check("exec exit 0 -> announced; failures counted", exec_success)

sys.exit(sc.finish())
