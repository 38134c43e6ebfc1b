"""The netlab harness itself: two namespaces on a veth can ping, and teardown
removes every namespace and process the lab created."""
import subprocess
import sys

from netlab import Lab, Scenario, require_root, wait_until

require_root()
sc = Scenario("netlab_selftest")
lab = Lab("self")
a, b = lab.netns("a"), lab.netns("b")
lab.veth(a, "eth0", b, "eth0", mtu=1500)
a.run("ip addr add 192.0.2.1/24 dev eth0")
b.run("ip addr add 192.0.2.2/24 dev eth0")
sc.check("ping across veth", lambda: a.run("ping -c1 -W2 192.0.2.2"))
sleeper = b.spawn(["sleep", "300"], name="sleeper")
sc.check("spawned process alive", lambda: wait_until(sleeper.alive, 2, what="sleeper"))
names = [a.name, b.name]
lab.close()


def gone():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(n in out for n in names), out
    assert not sleeper.alive(), "sleeper still running"


sc.check("teardown removed namespaces and processes", gone)
sys.exit(sc.finish())
