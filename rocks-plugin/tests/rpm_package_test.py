#!/usr/bin/env python3
"""Packaging test for rpm/segbridge.spec (ctest: rocks_rpm_package, needs root).

Builds the binary RPMs twice (version N and N+1) with rpmbuild from the real spec in
its prebuilt mode (binaries from the CMake build dir if they are built, otherwise small
stand-in executables; the project is never compiled a second time), with EL7's systemd
scriptlet macros loaded. Then, in a throw-away --root with a minimal shell so the
scriptlets really run (systemctl is a logger):
  install N  -> files, modes, ghosts, `systemctl preset` on first install;
  modify segbridged.conf, write a ledger (+ WAL), let "Rocks' python" write a .pyc;
  upgrade N+1 -> modified config kept + .rpmnew, untouched config replaced, ledger
                 intact, services try-restarted, never stopped or disabled;
  erase      -> ledger still there, modified config kept as .rpmsave, everything else
                 gone (including the .pyc), services stopped and disabled.
Finally the unit files are checked with systemd-analyze verify (or statically).
"""
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("SEGBRIDGE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("SEGBRIDGE_BUILD_DIR", "")
SPEC = os.path.join(SOURCE, "rpm", "segbridge.spec")
BINARIES = ["daemon/segbridged", "daemon/segbridgectl", "insert-ethers-shim/insert-ethers-shim"]
SITELIB = "/opt/rocks/lib/python2.7/site-packages"

# EL7's /usr/lib/rpm/macros.d/macros.systemd (systemd-219), which Debian's rpm lacks
EL7_SYSTEMD_MACROS = r"""
%_unitdir /usr/lib/systemd/system
%systemd_requires \
Requires(post): systemd \
Requires(preun): systemd \
Requires(postun): systemd \
%{nil}
%systemd_post() \
if [ $1 -eq 1 ] ; then \
        # Initial installation \
        systemctl preset %{?*} >/dev/null 2>&1 || : \
fi \
%{nil}
%systemd_preun() \
if [ $1 -eq 0 ] ; then \
        # Package removal, not upgrade \
        systemctl --no-reload disable %{?*} > /dev/null 2>&1 || : \
        systemctl stop %{?*} > /dev/null 2>&1 || : \
fi \
%{nil}
%systemd_postun_with_restart() \
systemctl daemon-reload >/dev/null 2>&1 || : \
if [ $1 -ge 1 ] ; then \
        # Package upgrade, not uninstall \
        systemctl try-restart %{?*} >/dev/null 2>&1 || : \
fi \
%{nil}
"""

FAILURES = []


def check(condition, what):
    print("%s %s" % ("ok  " if condition else "FAIL", what))
    if not condition:
        FAILURES.append(what)


def skip(reason):
    if os.environ.get("SEGBRIDGE_REQUIRE_INTEGRATION") == "1":
        print("FAIL (integration required): " + reason)
        sys.exit(1)
    print("SKIP: " + reason)
    sys.exit(77)


def run(argv, **kwargs):
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, **kwargs)
    if result.returncode != 0:
        print(result.stdout)
        raise SystemExit("command failed (%d): %s" % (result.returncode, " ".join(argv)))
    return result.stdout


def read(path):
    with open(path) as handle:
        return handle.read()


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    if mode is not None:
        os.chmod(path, mode)


def prebuilt_dir(tmp, version):
    """A build-dir layout with the real binaries where the build has them, stand-ins
    that print their version otherwise. Returns (dir, names of stand-ins)."""
    stage = os.path.join(tmp, "prebuilt-" + version)
    stand_ins = []
    for binary in BINARIES:
        target = os.path.join(stage, binary)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        real = os.path.join(BUILD, binary) if BUILD else ""
        if real and os.access(real, os.X_OK):
            shutil.copy(real, target)
        else:
            write(target, "#!/bin/sh\necho %s %s\n" % (os.path.basename(binary), version), 0o755)
            stand_ins.append(os.path.basename(binary))
    return stage, stand_ins


def source_tarball(tmp, version, sources_dir):
    """What `git archive` would give, from the working tree (uncommitted edits count).
    Version N+1 ships different example configs, as a real update might."""
    tree = os.path.join(tmp, "tree-" + version, "segbridge-" + version)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build*")
    os.makedirs(tree)
    shutil.copy(os.path.join(SOURCE, "README.md"), tree)
    for sub in ("docs", "rpm", "rocks-plugin"):
        shutil.copytree(os.path.join(SOURCE, sub), os.path.join(tree, sub), ignore=ignore)
    if version != "0.1.0":
        for name in ("segbridged.conf.example", "insert-ethers-shim.conf.example"):
            with open(os.path.join(tree, "rpm", name), "a") as handle:
                handle.write("# shipped by %s\n" % version)
    with tarfile.open(os.path.join(sources_dir, "segbridge-%s.tar.gz" % version), "w:gz") as tar:
        tar.add(tree, arcname="segbridge-" + version)


def build_rpms(tmp, version):
    top = os.path.join(tmp, "rpmbuild")
    for sub in ("SOURCES", "BUILD", "RPMS", "SRPMS", "BUILDROOT"):
        os.makedirs(os.path.join(top, sub), exist_ok=True)
    source_tarball(tmp, version, os.path.join(top, "SOURCES"))
    stage, stand_ins = prebuilt_dir(tmp, version)
    macros = os.path.join(tmp, "macros.el7-systemd")
    write(macros, EL7_SYSTEMD_MACROS)
    run(["rpmbuild", "-bb", "--nodeps", "--load=" + macros, "--with", "prebuilt",
         "--define", "_topdir " + top, "--define", "prebuilt_dir " + stage,
         "--define", "segbridge_version " + version, "--define", "_build_id_links none",
         SPEC])
    rpms = []
    for base, _dirs, files in os.walk(os.path.join(top, "RPMS")):
        rpms += [os.path.join(base, f) for f in files if ("-%s-" % version) in f]
    return sorted(rpms), stand_ins


def make_root(tmp):
    """Just enough of a system for rpm's chrooted scriptlets: /bin/sh, /dev/null and a
    systemctl that records its arguments."""
    root = os.path.join(tmp, "root")
    for d in ("bin", "usr/bin", "dev", "var/log", "tmp", "var/lib/rpm"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shell = os.path.realpath("/bin/sh")
    shutil.copy(shell, os.path.join(root, "bin", "sh"))
    for line in run(["ldd", shell]).splitlines():
        for word in line.split():
            if word.startswith("/"):
                target = os.path.join(root, word.lstrip("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy(os.path.realpath(word), target)
    os.mknod(os.path.join(root, "dev", "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.chmod(os.path.join(root, "dev", "null"), 0o666)
    write(os.path.join(root, "usr", "bin", "systemctl"),
          '#!/bin/sh\necho "$*" >> /var/log/systemctl.log\n', 0o755)
    write(os.path.join(root, "var", "log", "systemctl.log"), "")
    run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--initdb"])
    return root


def rpm(root, *args):
    return run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps"] + list(args))


def systemctl_log(root):
    path = os.path.join(root, "var", "log", "systemctl.log")
    lines = read(path).splitlines()
    write(path, "")
    return lines


def verify_units(tmp):
    units = [os.path.join(SOURCE, "rpm", u) for u in ("segbridged.service",
                                                      "insert-ethers-shim.service")]
    for unit in units:
        text = read(unit)
        sections = [l.strip() for l in text.splitlines() if l.startswith("[")]
        check(sections == ["[Unit]", "[Service]", "[Install]"], "%s sections" % os.path.basename(unit))
        for needed in ("Type=simple", "ExecReload=/bin/kill -HUP $MAINPID",
                       "After=network-online.target", "Restart=on-failure",
                       "NoNewPrivileges=yes", "WantedBy=multi-user.target"):
            check(needed in text, "%s has %s" % (os.path.basename(unit), needed))
        check("CAP_NET_RAW" in text and "CAP_NET_ADMIN" in text,
              "%s keeps CAP_NET_ADMIN and CAP_NET_RAW" % os.path.basename(unit))
    shim = read(units[1])
    check("segbridged.service dhcpd.service" in shim, "shim starts after segbridged and dhcpd")
    if shutil.which("systemd-analyze") is None:
        print("note: systemd-analyze not installed; static unit checks only")
        return
    # verify inside a root holding the host's stock units (targets the units refer to)
    # and the executables they name; unknown keys and bad values are printed -> fail
    root = os.path.join(tmp, "unitroot")
    for exe in ("usr/sbin/segbridged", "usr/sbin/insert-ethers-shim", "bin/kill"):
        write(os.path.join(root, exe), "#!/bin/sh\n", 0o755)
    stock = "/lib/systemd/system"
    if os.path.isdir(stock):
        shutil.copytree(stock, os.path.join(root, "usr/lib/systemd/system"), symlinks=True)
    os.makedirs(os.path.join(root, "etc/systemd/system"))
    for unit in units:
        shutil.copy(unit, os.path.join(root, "etc/systemd/system"))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", "--generators=no",
                             "--root=" + root] + [os.path.basename(u) for u in units],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    noise = [l for l in result.stdout.splitlines() if l.strip()]
    check(result.returncode == 0 and not noise,
          "systemd-analyze verify: %s" % ("; ".join(noise) or "clean"))


def main():
    if os.geteuid() != 0:
        skip("needs root (rpm --root installs files owned by root, makes /dev/null)")
    for tool in ("rpmbuild", "rpm"):
        if shutil.which(tool) is None:
            skip("%s not installed (scripts/install-deps.sh test)" % tool)
    tmp = tempfile.mkdtemp(prefix="segbridge-rpm-test-")
    try:
        test(tmp)
    finally:
        shutil.rmtree(tmp)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


def check_full_build_branch():
    """The compile-from-source branch (EL7) cannot run here; it must at least parse and
    name the EL7 build dependencies."""
    if shutil.which("rpmspec") is None:
        print("note: rpmspec not installed; full-build branch not parsed")
        return
    text = run(["rpmspec", "-P", SPEC])
    for needed in ("BuildRequires:  cmake3 >= 3.16", "BuildRequires:  devtoolset-9-gcc-c++",
                   "BuildRequires:  libsodium-devel >= 1.0.18", "BuildRequires:  libnl3-devel",
                   "BuildRequires:  libpcap-devel", "BuildRequires:  sqlite-devel",
                   "BuildRequires:  boost166-devel", "BuildRequires:  libcap-ng-devel",
                   "tomlplusplus-3.4.0.tar.gz", ". /opt/rh/devtoolset-9/enable",
                   "-DBOOST_INCLUDEDIR=/usr/include/boost166", "-DSEGBRIDGE_BUILD_TESTS=OFF"):
        check(needed in text, "full build: %s" % needed)


def test(tmp):
    check_full_build_branch()
    old, stand_ins = build_rpms(tmp, "0.1.0")
    new, _ = build_rpms(tmp, "0.1.1")
    names = sorted(os.path.basename(p) for p in old)
    check(len(old) == 2 and names[0].startswith("segbridge-0.1.0-1.")
          and names[1].startswith("segbridge-rocks-0.1.0-1.noarch"), "built %s" % names)
    if stand_ins:
        print("note: not built yet, packaged stand-in executables for: " + ", ".join(stand_ins))

    listing = run(["rpm", "-qlp", "--dbpath", os.path.join(tmp, "q")] + old)
    check("%s/rocks/commands/sync/segbridge/__init__.py" % SITELIB in listing,
          "rocks command in Rocks' site-packages")
    check("/opt/rocks/var/plugins/insertethers/90-segbridge.py" in listing,
          "insert-ethers plugin in its plugin dir")
    check("\n/opt/rocks/var/plugins/insertethers\n" not in listing
          and "\n%s/rocks/commands/sync\n" % SITELIB not in listing,
          "directories of rocks-sql / rocks-pylib are not claimed")
    check("/var/lib/insert-ethers-shim/ledger.db" not in listing, "ledger not in the package")
    for prog in ("segbridged", "segbridgectl", "insert-ethers-shim"):
        check("/usr/share/man/man8/%s.8" % prog in listing, "man page for %s" % prog)
    main_rpm = [p for p in old if os.path.basename(p).startswith("segbridge-0.1.0-")][0]
    configs = run(["rpm", "-qcp", "--dbpath", os.path.join(tmp, "q"), main_rpm]).split()
    check(configs == ["/etc/segbridge/insert-ethers-shim.conf", "/etc/segbridge/segbridged.conf"],
          "config files: %s" % configs)
    scripts = run(["rpm", "-qp", "--scripts", "--dbpath", os.path.join(tmp, "q"), main_rpm])
    check("systemctl preset segbridged.service insert-ethers-shim.service" in scripts,
          "%post presets both units")

    root = make_root(tmp)
    rpm(root, "-i", *old)
    r = lambda path: os.path.join(root, path.lstrip("/"))  # noqa: E731
    log = systemctl_log(root)
    check(log == ["preset segbridged.service insert-ethers-shim.service"],
          "install: systemctl %s" % log)
    for path in ("/usr/sbin/segbridged", "/usr/bin/segbridgectl", "/usr/sbin/insert-ethers-shim"):
        check(os.access(r(path), os.X_OK), "installed %s" % path)
    check(stat.S_IMODE(os.stat(r("/etc/segbridge/segbridged.conf")).st_mode) == 0o640,
          "segbridged.conf is 0640")
    check(stat.S_IMODE(os.stat(r("/var/lib/insert-ethers-shim")).st_mode) == 0o750,
          "state dir is 0750")
    check(os.path.exists(r("/usr/lib/systemd/system/insert-ethers-shim.service")), "units installed")
    if "segbridged" not in stand_ins:
        import gzip
        page = r("/usr/share/man/man8/segbridged.8.gz")
        text = gzip.open(page, "rt").read() if os.path.exists(page) else read(page[:-3])
        check(text.startswith(".TH SEGBRIDGED 8") and "segbridged genkey" in text,
              "man page is segbridged --help")
    pyc = r(SITELIB + "/rocks/commands/sync/segbridge/__init__.pyc")
    check(not os.path.exists(pyc), "ghost .pyc not installed as an empty file")

    # an admin at work: edits the hub config, the shim records nodes, Rocks' python
    # byte-compiles our command
    conf = r("/etc/segbridge/segbridged.conf")
    edited = read(conf) + '\n[[peer]]\nname = "sitea"\n'
    write(conf, edited)
    ledger = b"SQLite format 3\x00" + os.urandom(4096)
    with open(r("/var/lib/insert-ethers-shim/ledger.db"), "wb") as handle:
        handle.write(ledger)
    with open(r("/var/lib/insert-ethers-shim/ledger.db-wal"), "wb") as handle:
        handle.write(b"wal")
    write(pyc, "compiled")

    rpm(root, "-U", *new)
    log = systemctl_log(root)
    check("try-restart segbridged.service insert-ethers-shim.service" in log,
          "upgrade: services try-restarted (%s)" % log)
    check(not [l for l in log if "stop" in l.split() or "disable" in l.split()],
          "upgrade: services neither stopped nor disabled")
    installed = run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-q", "segbridge",
                     "segbridge-rocks"]).split()
    check(all("-0.1.1-" in p for p in installed), "upgraded to %s" % installed)
    check(read(conf) == edited, "upgrade kept the edited segbridged.conf")
    check(os.path.exists(conf + ".rpmnew") and read(conf + ".rpmnew").endswith("# shipped by 0.1.1\n"),
          "upgrade left the new default as segbridged.conf.rpmnew")
    shim_conf = r("/etc/segbridge/insert-ethers-shim.conf")
    check(read(shim_conf).endswith("# shipped by 0.1.1\n") and not os.path.exists(shim_conf + ".rpmnew"),
          "unedited insert-ethers-shim.conf was updated in place")
    with open(r("/var/lib/insert-ethers-shim/ledger.db"), "rb") as handle:
        check(handle.read() == ledger, "upgrade kept the ledger")
    check(os.path.exists(r("/var/lib/insert-ethers-shim/ledger.db-wal")), "upgrade kept the WAL")
    if "segbridged" in stand_ins:
        check(run([r("/usr/sbin/segbridged")]).strip() == "segbridged 0.1.1", "binary upgraded")
    # the shipped configs are valid for the shipped programs (when they are real)
    for program, config in (("/usr/sbin/segbridged", "segbridged.conf"),
                            ("/usr/sbin/insert-ethers-shim", "insert-ethers-shim.conf")):
        if os.path.basename(program) in stand_ins:
            continue
        result = subprocess.run([r(program), "--check", "-c", r("/etc/segbridge/" + config + ".rpmnew")
                                 if os.path.exists(r("/etc/segbridge/" + config + ".rpmnew"))
                                 else r("/etc/segbridge/" + config)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True)
        check(result.returncode == 0, "%s --check accepts the shipped %s: %s"
              % (os.path.basename(program), config, result.stdout.strip()))

    rpm(root, "-e", "segbridge-rocks", "segbridge")
    log = systemctl_log(root)
    check("--no-reload disable segbridged.service insert-ethers-shim.service" in log
          and "stop segbridged.service insert-ethers-shim.service" in log,
          "erase: services disabled and stopped (%s)" % log)
    with open(r("/var/lib/insert-ethers-shim/ledger.db"), "rb") as handle:
        check(handle.read() == ledger, "erase kept the ledger")
    check(os.path.exists(r("/var/lib/insert-ethers-shim/ledger.db-wal")), "erase kept the WAL")
    check(os.path.exists(conf + ".rpmsave") and read(conf + ".rpmsave") == edited,
          "erase saved the edited config as .rpmsave")
    for gone in ("/usr/sbin/segbridged", "/usr/lib/systemd/system/segbridged.service",
                 SITELIB + "/rocks/commands/sync/segbridge",
                 "/opt/rocks/var/plugins/insertethers/90-segbridge.py"):
        check(not os.path.exists(r(gone)), "erase removed %s" % gone)
    check(not os.path.exists(pyc), "erase removed the .pyc Rocks' python wrote")

    verify_units(tmp)


if __name__ == "__main__":
    main()
