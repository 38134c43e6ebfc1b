"""A burst of small UDP datagrams of one flow with sequence-numbered payloads
(run inside namespaces).

  udpflood.py recv PORT COUNT SIZE OUTFILE   receive until COUNT arrived or 3 s
                                             of silence (60 s at most), write a
                                             JSON summary to OUTFILE
  udpflood.py send DST PORT COUNT SIZE BURST PAUSE_MS
                                             COUNT datagrams from port 40000
                                             (DST IPv4 or IPv6 "fe80::..%eth0"),
                                             BURST back to back, then a pause
"""
import json
import socket
import struct
import sys
import time


def payload(seq, size):
    head = struct.pack("!I", seq)
    return head + bytes((seq * 7 + i) & 0xFF for i in range(size - len(head)))


def recv(port, count, size, outfile):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)  # dual stack: IPv4 too
    # Root in the test's namespace: a buffer big enough for the whole burst
    # (SO_RCVBUFFORCE ignores net.core.rmem_max, which is not ours to change).
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    s.bind(("::", port))
    s.settimeout(3.0)
    print("ready", flush=True)
    seen = set()
    bad = dups = 0
    deadline = time.monotonic() + 60
    while len(seen) < count and time.monotonic() < deadline:
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            break
        if len(data) != size:
            bad += 1
            continue
        seq = struct.unpack("!I", data[:4])[0]
        if seq >= count or data != payload(seq, size):
            bad += 1
        elif seq in seen:
            dups += 1
        else:
            seen.add(seq)
    with open(outfile, "w") as f:
        json.dump({"received": len(seen), "bad": bad, "duplicates": dups}, f)


def send(dst, port, count, size, burst, pause_ms):
    # DST may be an IPv6 link-local address with its scope ("fe80::1%eth0").
    family, _, _, _, addr = socket.getaddrinfo(dst, port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 40000))
    for seq in range(count):
        s.sendto(payload(seq, size), addr)
        if (seq + 1) % burst == 0:
            time.sleep(pause_ms / 1000.0)


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "recv":
        recv(int(a[2]), int(a[3]), int(a[4]), a[5])
    else:
        send(a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]), float(a[7]))
