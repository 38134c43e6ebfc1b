#!/usr/bin/env bash
# The main job, self-contained, from a clean clone on Debian 12, as root:
# installs what the demo needs, builds segbridge, and runs the demo in
# private network namespaces (no real network, interface or route touched).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the demo runs: the daemon, its CLI and the shim.
cmake --build build -j"$(nproc)" --target segbridged segbridgectl insert-ethers-shim
exec python3 scripts/demo.py "$@"
