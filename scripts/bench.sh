#!/usr/bin/env bash
# The L2 tunnel benchmark in one command (as root): installs the bench
# packages, builds segbridge (build/, same configuration as scripts/test.sh),
# then runs tests/bench/l2bench.py — segbridged vs OpenVPN tap AES-256-GCM vs
# kernel VXLAN vs a plain veth bridge, in network namespaces — and rewrites the
# generated part of docs/BENCHMARKS.md and docs/benchmarks-l2.png; then the
# per-frame micro-benchmarks (tests/bench/micro_report.py) into the same file.
#
#   scripts/bench.sh                     full run (~10 min on 2 cores), updates the docs
#   scripts/bench.sh --smoke             1 short repetition, checks the table only (no docs)
#   scripts/bench.sh --only openvpn,segbridged --reps 5 --notes "idle machine"
#
# Any other option is passed to l2bench.py (see tests/bench/l2bench.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

args=("$@")
smoke=0
for a in "$@"; do [[ $a == --smoke ]] && smoke=1; done
((smoke)) || args=(--update-docs --out build/bench-results "${args[@]}")
export SEGBRIDGE_BUILD_DIR=$PWD/build SEGBRIDGE_SOURCE_DIR=$PWD
python3 tests/bench/l2bench.py "${args[@]}"
# The per-frame micro-benchmarks (Google Benchmark, tests/bench/micro) go in the same file.
((smoke)) || python3 tests/bench/micro_report.py --update-docs
