#!/usr/bin/env bash
# Re-creates the real-client pcap fixtures in this directory (run as root).
# Each client runs in its own network namespace on one end of a veth (or a
# tap for qemu); tcpdump on the other end records its DHCP requests. No DHCP
# server answers, so every client keeps sending DISCOVERs. Nothing touches
# the root namespace; everything is removed on exit.
#   dhclient.pcap   ISC dhclient (-d, config/lease/pid/script in a temp dir; the config
#                   sends a host name and a PXEClient vendor class, as a PXE-installed
#                   node's initrd does)
#   udhcpc.pcap     busybox udhcpc with a hostname option (-x hostname:)
#   ipxe.pcap       qemu-system-x86_64 -boot n with Debian's iPXE e1000 ROM (TCG)
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
tag=shcap$$
tmp=$(mktemp -d)
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del ${tag}s 2>/dev/null || true
  ip netns del ${tag}c 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add ${tag}s
ip netns add ${tag}c
ip -n ${tag}s link add vs type veth peer name vc
ip -n ${tag}s link set vc netns ${tag}c
ip -n ${tag}s link set vs up
ip -n ${tag}c link set vc address 52:54:00:5e:00:01 up
ip -n ${tag}c link set lo up

capture() {  # file count seconds
  timeout "$3" ip netns exec ${tag}s tcpdump -i "${4:-vs}" -U -s 1024 -c "$2" -w "$tmp/$1" 'udp dst port 67' \
    >/dev/null 2>&1 &
  sleep 1
}

capture dhclient.pcap 2 20
printf 'send host-name "shimtest";\nsend vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";\n' >"$tmp/dhclient.conf"
timeout 12 ip netns exec ${tag}c dhclient -d -4 -cf "$tmp/dhclient.conf" -sf /bin/true -lf "$tmp/dhclient.leases" \
  -pf "$tmp/dhclient.pid" vc >/dev/null 2>&1 || true
wait || true

capture udhcpc.pcap 2 15
timeout 10 ip netns exec ${tag}c udhcpc -f -i vc -t 3 -T 1 -n -s /bin/true -x hostname:udhcptest \
  >/dev/null 2>&1 || true
wait || true

ip -n ${tag}s link add br0 type bridge
ip -n ${tag}s link set br0 up
ip -n ${tag}s tuntap add mode tap name tq
ip -n ${tag}s link set tq master br0 up
capture ipxe.pcap 2 90 br0
timeout 80 ip netns exec ${tag}s qemu-system-x86_64 -nographic -nodefaults -m 128 -boot n -no-reboot -uuid 8c1b6f1e-0a1b-4c5d-9e8f-001122334455 \
  -netdev tap,id=n0,ifname=tq,script=no,downscript=no \
  -device e1000,netdev=n0,mac=52:54:00:5e:00:02,romfile=/usr/lib/ipxe/qemu/pxe-e1000.rom \
  -serial none -monitor none >/dev/null 2>&1 &
qemu=$!
for _ in $(seq 80); do
  [[ -s $tmp/ipxe.pcap ]] && ! kill -0 $(jobs -p | head -1) 2>/dev/null && break
  if [[ $(tcpdump -r "$tmp/ipxe.pcap" 2>/dev/null | wc -l) -ge 2 ]]; then break; fi
  sleep 1
done
kill $qemu 2>/dev/null || true
wait || true

for f in dhclient.pcap udhcpc.pcap ipxe.pcap; do
  n=$(tcpdump -r "$tmp/$f" 2>/dev/null | wc -l)
  echo "$f: $n packets"
  [[ $n -ge 1 ]] || { echo "no packets captured for $f" >&2; exit 1; }
  cp "$tmp/$f" "$out/$f"
done
