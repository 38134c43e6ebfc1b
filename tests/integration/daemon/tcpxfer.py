"""A TCP bulk transfer with an end-to-end checksum (run inside namespaces).

  tcpxfer.py recv PORT OUTFILE       accept one connection, write "<bytes> <sha256>"
  tcpxfer.py send HOST PORT FILE     send FILE, then close
"""
import hashlib
import socket
import sys


def recv(port, outfile):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    srv.settimeout(60)
    conn, _ = srv.accept()
    conn.settimeout(60)
    h = hashlib.sha256()
    total = 0
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        h.update(b)
        total += len(b)
    with open(outfile, "w") as f:
        f.write("%d %s\n" % (total, h.hexdigest()))


def send(host, port, path):
    s = socket.create_connection((host, port), timeout=60)
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]), sys.argv[3])
    else:
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4])
