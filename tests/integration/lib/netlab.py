"""netlab: network-namespace test rigs for segbridge scenarios.

Every Lab gets a unique prefix, so concurrent runs never collide; namespaces,
links and processes it creates are torn down in `close()` even when the test
fails, is interrupted (SIGINT/SIGTERM) or times out. Processes are stopped by
the PIDs this lab started, never by name. Only addresses inside the lab's own
namespaces are used (10.1.0.0/16 cluster, 192.0.2.0/24 "internet").

Usage:
    from netlab import Lab, require_root, wait_until
    require_root()
    with Lab("shim") as lab:
        hub = lab.netns("hub")
        hub.run("ip link add br0 type bridge")
        ...
"""

import atexit
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP_EXIT_CODE = 77  # ctest SKIP_RETURN_CODE


def require_root():
    """Skip (exit 77) without root/netns, or fail if SEGBRIDGE_REQUIRE_INTEGRATION=1."""
    why = None
    if os.geteuid() != 0:
        why = "not running as root"
    elif shutil.which("ip") is None:
        why = "iproute2 'ip' not found"
    if why is None:
        return
    if os.environ.get("SEGBRIDGE_REQUIRE_INTEGRATION") == "1":
        print("FAILED: integration test cannot run (%s) and SEGBRIDGE_REQUIRE_INTEGRATION=1" % why)
        sys.exit(1)
    print("SKIPPED: integration test needs root and network namespaces: %s" % why)
    sys.exit(SKIP_EXIT_CODE)


def build_dir():
    """The CMake build directory (set by ctest), for project binaries."""
    d = os.environ.get("SEGBRIDGE_BUILD_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "..", "build")
    return os.path.abspath(d)


def source_dir():
    d = os.environ.get("SEGBRIDGE_SOURCE_DIR")
    if not d:
        d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
    return os.path.abspath(d)


def binary(relpath):
    """Path of a built binary, e.g. binary('daemon/segbridged'); fails clearly if absent."""
    p = os.path.join(build_dir(), relpath)
    if not os.path.exists(p):
        raise FileNotFoundError("built binary not found: %s (build the project first)" % p)
    return p


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate() until truthy (returned) or timeout seconds pass (raises)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # keep polling; report the last error on timeout
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.1fs waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise TimeoutError(msg)
        time.sleep(interval)


class CommandError(RuntimeError):
    pass


class Process:
    """A process this lab started (inside a namespace), stopped by its PID."""

    def __init__(self, popen, name, log_path):
        self.popen = popen
        self.name = name
        self.log_path = log_path

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def stop(self, timeout=5.0, sig=signal.SIGTERM):
        """SIGTERM (or sig), wait up to timeout, then SIGKILL. Returns the exit code."""
        if self.alive():
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        return self.popen.returncode

    def kill(self):
        return self.stop(timeout=5.0, sig=signal.SIGKILL)

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Namespace:
    def __init__(self, lab, name):
        self.lab = lab
        self.name = name

    def _argv(self, cmd):
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        return ["ip", "netns", "exec", self.name] + list(cmd)

    def run(self, cmd, check=True, timeout=60, input=None, env=None):
        """Run a command in this namespace; returns CompletedProcess (text)."""
        argv = self._argv(cmd)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                           env=self.lab._env(env))
        if check and r.returncode != 0:
            raise CommandError("[%s] %s failed (%d)\nstdout: %s\nstderr: %s" % (
                self.name, cmd if isinstance(cmd, str) else " ".join(map(shlex.quote, cmd)),
                r.returncode, r.stdout.strip(), r.stderr.strip()))
        return r

    def ok(self, cmd, timeout=60):
        """True if the command exits 0."""
        return self.run(cmd, check=False, timeout=timeout).returncode == 0

    def spawn(self, cmd, name=None, env=None, stdin=None):
        """Start a long-running process here; its output goes to a log file in the lab dir."""
        name = name or (cmd if isinstance(cmd, str) else os.path.basename(cmd[0])).split()[0]
        log_path = os.path.join(self.lab.dir, "%s-%s-%d.log" % (self.name, os.path.basename(name),
                                                                  len(self.lab._procs)))
        logf = open(log_path, "w")
        popen = subprocess.Popen(self._argv(cmd), stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                 env=self.lab._env(env), start_new_session=True)
        logf.close()
        p = Process(popen, name, log_path)
        self.lab._procs.append(p)
        return p

    def link_json(self, dev=None):
        cmd = ["ip", "-j", "-d", "link", "show"] + ([dev] if dev else [])
        return json.loads(self.run(cmd).stdout)

    def addresses(self, dev):
        return json.loads(self.run(["ip", "-j", "addr", "show", "dev", dev]).stdout)

    def mac(self, dev):
        return self.link_json(dev)[0]["address"]


class Lab:
    """A set of namespaces and processes with one unique prefix."""

    _live = []

    def __init__(self, tag="lab", keep_dir=False):
        # ≤ 6 chars of tag + 4 hex: leaves room in IFNAMSIZ (15) for suffixes.
        self.prefix = "sb%s%04x" % (tag[:4], random.randrange(0x10000))
        self.dir = tempfile.mkdtemp(prefix="segbridge-%s-" % self.prefix)
        self.keep_dir = keep_dir or os.environ.get("SEGBRIDGE_KEEP_TEST_DIR") == "1"
        self._namespaces = []
        self._procs = []
        self._closed = False
        Lab._live.append(self)
        _install_handlers()

    def _env(self, extra):
        env = dict(os.environ)
        if extra:
            env.update(extra)
        return env

    def name(self, suffix):
        """A unique interface/namespace name for this lab (≤ 15 chars)."""
        n = "%s%s" % (self.prefix, suffix)
        if len(n) > 15:
            raise ValueError("name too long for an interface: %s" % n)
        return n

    def netns(self, role):
        name = "%s-%s" % (self.prefix, role)
        subprocess.run(["ip", "netns", "add", name], check=True)
        ns = Namespace(self, name)
        self._namespaces.append(ns)
        ns.run("ip link set lo up")
        return ns

    def veth(self, a, a_if, b, b_if, mtu=1500):
        """A veth pair with one end in namespace a (named a_if) and one in b (b_if), both up."""
        tmp_a, tmp_b = self.name("va%d" % len(self._namespaces)), self.name("vb%d" % len(self._namespaces))
        # Created inside namespace a so the root namespace never holds it.
        a.run(["ip", "link", "add", tmp_a, "mtu", str(mtu), "type", "veth", "peer", "name", tmp_b,
               "mtu", str(mtu)])
        a.run(["ip", "link", "set", tmp_b, "netns", b.name])
        a.run(["ip", "link", "set", tmp_a, "name", a_if])
        b.run(["ip", "link", "set", tmp_b, "name", b_if])
        a.run(["ip", "link", "set", a_if, "up"])
        b.run(["ip", "link", "set", b_if, "up"])

    def path(self, name):
        return os.path.join(self.dir, name)

    def close(self):
        if self._closed:
            return
        self._closed = True
        for p in reversed(self._procs):
            try:
                p.stop(timeout=3.0)
            except Exception as e:  # never let one failure block the rest of teardown
                print("netlab: stopping %s (pid %d): %r" % (p.name, p.pid, e), file=sys.stderr)
        for ns in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("netlab: kept %s" % self.dir, file=sys.stderr)
        if self in Lab._live:
            Lab._live.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None:
            self.dump_logs()
        self.close()
        return False

    def end(self, scenario):
        """Close the lab at the end of a scenario script (call it in `finally:`): the
        process logs are printed once if a check failed or an exception is escaping."""
        if scenario.failed or sys.exc_info()[0] is not None:
            self.dump_logs()
        self.close()

    def dump_logs(self, limit=4000):
        """Print the tail of every process log (called on failure)."""
        for p in self._procs:
            text = p.log()
            print("----- %s (pid %d) log tail -----\n%s" % (p.name, p.pid, text[-limit:]), file=sys.stderr)


_handlers_installed = False


def _cleanup_all(*_):
    for lab in list(Lab._live):
        lab.close()


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_cleanup_all)

    def on_signal(signum, _frame):
        _cleanup_all()
        sys.exit(128 + signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)


class Scenario:
    """Tiny runner for scenario scripts: named checks, a summary line, exit code."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.t0 = time.monotonic()

    def check(self, label, fn):
        t = time.monotonic()
        try:
            fn()
        except Exception as e:
            self.failed += 1
            print("[FAIL] %s: %s (%.2fs)" % (label, e, time.monotonic() - t), flush=True)
            return False
        self.passed += 1
        print("[ OK ] %s (%.2fs)" % (label, time.monotonic() - t), flush=True)
        return True

    def finish(self):
        print("%s: %d passed, %d failed in %.1fs" % (self.name, self.passed, self.failed,
                                                    time.monotonic() - self.t0), flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1
