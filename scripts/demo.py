#!/usr/bin/env python3
"""segbridge demo (foundation stage): builds a frontend namespace and shows the
project's own netlink code making a PXE-safe br0 with a tunnel tap port.
The full remote-PXE-install walk-through replaces this as the daemon and the
shim land (issues #3, #4, #6)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration", "lib"))
from netlab import binary  # noqa: E402

if os.geteuid() != 0:
    sys.exit("demo: must run as root (it creates network namespaces)")
print("demo: creating br0 + tap in a private network namespace with segbridge's libnl-3 code")
r = subprocess.run([binary("tests/integration/common/common_netlink_integration_tests")])
sys.exit(r.returncode)
