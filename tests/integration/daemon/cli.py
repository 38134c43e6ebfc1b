"""segbridged / segbridgectl command lines: --help, --version, genkey,
--check on good and bad configs (every error as file:line:col, exit 1),
usage errors (exit 2), segbridgectl without a daemon (exit 1)."""
import os
import re
import subprocess
import sys
import tempfile

from netlab import Scenario, binary

sc = Scenario("daemon_cli")
D = binary("daemon/segbridged")
CTL = binary("daemon/segbridgectl")
tmp = tempfile.mkdtemp(prefix="segbridge-cli-")


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=20, **kw)


def write(name, text, mode=0o644):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


def help_and_version():
    for prog in (D, CTL):
        r = run(prog, "--help")
        assert r.returncode == 0 and "Usage:" in r.stdout, r
        assert len(r.stdout.splitlines()) > 15, "help text too thin"
        v = run(prog, "--version")
        assert v.returncode == 0 and re.match(r"segbridge(d|ctl) \d+\.\d+", v.stdout), v
    h = run(D, "--help").stdout
    for word in ("--check", "genkey", "SIGHUP", "SIGTERM", "segbridgectl"):
        assert word in h, word


sc.check("--help and --version", help_and_version)


def genkey():
    keys = set()
    for _ in range(3):
        r = run(D, "genkey")
        assert r.returncode == 0, r
        k = r.stdout.strip()
        assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", k), k
        keys.add(k)
    assert len(keys) == 3, "genkey repeated a key"


sc.check("genkey prints fresh base64 32-byte keys", genkey)

psk = write("psk", run(D, "genkey").stdout, 0o600)
GOOD = """[daemon]
name = "frontend"
role = "hub"
listen = "0.0.0.0:7440"
psk_file = "%s"

[[peer]]
name = "sitea"
""" % psk


def check_good():
    conf = write("good.conf", GOOD)
    r = run(D, "--check", "-c", conf)
    assert r.returncode == 0, r
    assert "OK" in r.stdout and "1 peer" in r.stdout, r.stdout


sc.check("--check on a good config: exit 0", check_good)


def check_bad():
    bad = write("bad.conf", """[daemon]
name = "frontend"
role = "hubb"
listen = "0.0.0.0:99999"
psk_file = "%s"
path_mtu = 100
typo = true

[[peer]]
name = "Site A"
endpoint = "[2001:db8::1]"

[[peer]]
name = "sitea"
[[peer]]
name = "sitea"
""" % psk)
    r = run(D, "--check", "-c", bad)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    want = {3: "daemon.role", 4: "the port must be", 6: "path_mtu", 7: "unknown key 'daemon.typo'",
            10: "'Site A'", 11: "expected ':port'", 16: "defined twice"}
    for line, needle in want.items():
        assert any(l.startswith("%s:%d:" % (bad, line)) and needle in l for l in lines), \
            "no '%s' error on line %d in:\n%s" % (needle, line, r.stderr)
    assert len(lines) == len(want), r.stderr


sc.check("--check on a bad config: every error as file:line:col, exit 1", check_bad)


def check_syntax_error():
    bad = write("syntax.conf", "[daemon]\nname = \"x\"\nlisten = [\n")
    r = run(D, "--check", "-c", bad)
    assert r.returncode == 1 and r.stderr.startswith("%s:" % bad), r
    assert re.match(r"%s:\d+:\d+: " % re.escape(bad), r.stderr), r.stderr


sc.check("--check on a TOML syntax error: file:line:col, exit 1", check_syntax_error)


def check_key_problems():
    loose = write("loose.psk", run(D, "genkey").stdout, 0o644)
    conf = write("loose.conf", GOOD.replace(psk, loose))
    r = run(D, "--check", "-c", conf)
    assert r.returncode == 1 and "chmod 600" in r.stderr, r
    conf = write("missing.conf", GOOD.replace(psk, os.path.join(tmp, "nope.psk")))
    r = run(D, "--check", "-c", conf)
    assert r.returncode == 1 and "cannot open key file" in r.stderr, r
    r = run(D, "--check", "-c", os.path.join(tmp, "absent.conf"))
    assert r.returncode == 1 and "absent.conf" in r.stderr, r


sc.check("--check reports unreadable/unsafe key files and missing configs", check_key_problems)


def usage_errors():
    r = run(D, "--bogus")
    assert r.returncode == 2 and "unknown argument" in r.stderr, r
    r = run(CTL, "frobnicate")
    assert r.returncode == 2, r
    r = run(CTL)
    assert r.returncode == 2, r


sc.check("usage errors exit 2", usage_errors)


def ctl_without_daemon():
    r = run(CTL, "-s", os.path.join(tmp, "none.sock"), "status")
    assert r.returncode == 1 and "cannot connect" in r.stderr, r


sc.check("segbridgectl without a daemon: clear error, exit 1", ctl_without_daemon)

subprocess.run(["rm", "-rf", tmp])
sys.exit(sc.finish())
