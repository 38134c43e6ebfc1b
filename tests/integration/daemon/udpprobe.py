"""One UDP datagram with a chosen source port (run inside namespaces).

  udpprobe.py recv PORT TIMEOUT    exit 0 if a datagram arrives in time, 1 if not
  udpprobe.py send SRCPORT DST DPORT
"""
import socket
import sys

if sys.argv[1] == "recv":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    s.settimeout(float(sys.argv[3]))
    print("ready", flush=True)
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        sys.exit(1)
    print("got %d bytes from %s:%d" % (len(data), addr[0], addr[1]))
    sys.exit(0)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    for _ in range(3):
        s.sendto(b"segbridge probe" * 10, (sys.argv[3], int(sys.argv[4])))
