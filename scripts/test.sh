#!/usr/bin/env bash
# The whole test suite, from a clean clone on Debian 12, as root:
#   1. installs what building and testing need (idempotent apt-get),
#   2. checks formatting,
#   3. clang build with ASan+UBSan and libFuzzer: unit tests + fuzz smoke runs,
#   4. the normal build (gcc, -Werror): every test — unit, integration
#      (network namespaces, real dhcpd/rsyslog/...), fuzz corpus replays —
#      ending with ctest's summary.
# Set SEGBRIDGE_REQUIRE_INTEGRATION=1 to turn "skipped: needs root" into a failure (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh test bench  # bench: the bench_smoke ctest needs iperf3, OpenVPN, ethtool, gnuplot
scripts/format.sh

echo "=== sanitizer + fuzz build (clang, ASan+UBSan, libFuzzer) ==="
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSEGBRIDGE_SANITIZE=ON -DSEGBRIDGE_FUZZ=ON >/dev/null
cmake --build build-sanitize -j"$jobs"
ctest --test-dir build-sanitize -L 'unit|fuzz-smoke' --output-on-failure -j"$jobs"

echo "=== main build (gcc) and the full suite ==="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
