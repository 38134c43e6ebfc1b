#!/usr/bin/env bash
# Install everything segbridge needs on Debian 12, idempotently.
#
#   scripts/install-deps.sh [build|demo|test|bench]...   (default: build)
#
# build  compilers, CMake and the libraries segbridged and the shim link against
# demo   the real servers the self-contained demo runs in namespaces
#        (ISC dhcpd, rsyslog, TFTP, qemu + iPXE, DHCP clients)
# test   demo + GoogleTest/Benchmark, clang/libFuzzer, formatting tools
# bench  test + OpenVPN, iperf3, gnuplot for the comparison benchmark
#
# Services are never started or enabled by this script: every server the
# project runs is started by its own scripts inside private network namespaces.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi

build_pkgs=(build-essential cmake pkg-config git
  libsodium-dev libnl-3-dev libnl-route-3-dev libpcap-dev libsqlite3-dev
  libboost-dev libtomlplusplus-dev libcap-ng-dev
  libgtest-dev libgmock-dev libbenchmark-dev)
demo_pkgs=(iproute2 iputils-ping procps psmisc kmod python3 sqlite3
  isc-dhcp-server isc-dhcp-client udhcpc rsyslog tftpd-hpa curl tcpdump
  qemu-system-x86 ipxe-qemu)
test_pkgs=(clang clang-format libclang-rt-14-dev
  rpm)
bench_pkgs=(openvpn iperf3 gnuplot-nox
  ethtool openssl)

want=("${build_pkgs[@]}")
for what in "${@:-build}"; do
  case "$what" in
    build) ;;
    demo) want+=("${demo_pkgs[@]}") ;;
    test) want+=("${demo_pkgs[@]}" "${test_pkgs[@]}") ;;
    bench) want+=("${demo_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "install-deps: unknown set '$what' (build|demo|test|bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Never let package scripts start daemons (dhcpd, tftpd, rsyslog) in the host
# namespace: policy-rc.d exit 101 = "action forbidden".
cleanup_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  cleanup_policy=1
fi
trap '((cleanup_policy)) && rm -f /usr/sbin/policy-rc.d' EXIT
stamp=/var/lib/apt/periodic/segbridge-update-stamp
if [[ ! -e $stamp ]] || [[ -n $(find "$stamp" -mmin +360 2>/dev/null) ]]; then
  apt-get update -qq
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
