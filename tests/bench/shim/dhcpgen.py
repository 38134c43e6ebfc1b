"""dhcpgen: send DHCP client frames from a namespace through an AF_PACKET
socket, paced, printing "<mac> <monotonic send time>" for each probe.

  python3 dhcpgen.py IFACE probe COUNT RATE [VLANS [BYTE]]
        new PXE MACs 52:54:00:BYTE:nn:nn (measured); VLANS "42" or "100,200"
        tags them ("-": untagged); BYTE defaults to aa + number of tags
  python3 dhcpgen.py IFACE burst SECONDS RATE      other clients' DHCP (background)

The burst mixes what a busy segment carries: DISCOVERs from non-PXE clients
with fresh MACs (dropped by the PXE-only guard), REQUESTs and repeated PXE
DISCOVERs from a fixed set of 64 known clients (ledger updates).
"""

import os
import random
import socket
import struct
import sys
import time

PXE = b"PXEClient:Arch:00000:UNDI:002001"


def checksum(b):
    s = 0
    for i in range(0, len(b), 2):
        s += (b[i] << 8) | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(mac, msg_type=1, vendor=PXE, vlans=()):
    bootp = bytearray(236)
    bootp[0], bootp[1], bootp[2] = 1, 1, 6
    bootp[4:8] = os.urandom(4)
    bootp[28:34] = mac
    opts = bytes([53, 1, msg_type, 60, len(vendor)]) + vendor + bytes([93, 2, 0, 0, 255])
    payload = bytes(bootp) + b"\x63\x82\x53\x63" + opts
    payload += bytes(max(0, 300 - len(payload)))
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\0\0\0\0",
                               b"\xff\xff\xff\xff"))
    ip[10:12] = struct.pack("!H", checksum(ip))
    tags = b""
    for i, vid in enumerate(vlans):
        tpid = 0x88A8 if len(vlans) > 1 and i == 0 else 0x8100
        tags += struct.pack("!HH", tpid, vid)
    return b"\xff" * 6 + mac + tags + b"\x08\x00" + bytes(ip) + udp


def mac_str(m):
    return ":".join("%02x" % b for b in m)


def main():
    iface, mode, amount, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    rng = random.Random()
    interval = 1.0 / rate
    if mode == "probe":
        vlans = [int(v) for v in sys.argv[5].split(",")] if len(sys.argv) > 5 and sys.argv[5] != "-" else []
        prefix = int(sys.argv[6], 16) if len(sys.argv) > 6 else 0xAA + len(vlans)
        base = bytes([0x52, 0x54, 0x00, prefix])
        for i in range(int(amount)):
            mac = base + struct.pack("!H", i)
            f = frame(mac, vlans=vlans)
            t = time.monotonic()
            s.send(f)
            print("%s %.6f" % (mac_str(mac), t), flush=True)
            time.sleep(max(0.0, interval - (time.monotonic() - t)))
        return
    known = [bytes([0x52, 0x54, 0x00, 0xBB, 0x00, i]) for i in range(64)]
    end = time.monotonic() + amount
    sent = 0
    next_t = time.monotonic()
    batch = max(1, int(rate / 100))  # 10 ms batches
    while time.monotonic() < end:
        for _ in range(batch):
            k = sent % 4
            if k == 0 or k == 1:
                mac = bytes([0x02, 0xCC]) + os.urandom(4)
                s.send(frame(mac, 1, b"udhcp 1.35.0"))
            elif k == 2:
                s.send(frame(known[sent % 64], 3))
            else:
                s.send(frame(known[sent % 64], 1))
            sent += 1
        next_t += batch / rate
        time.sleep(max(0.0, next_t - time.monotonic()))
    print("burst sent %d frames" % sent, file=sys.stderr)


if __name__ == "__main__":
    main()
