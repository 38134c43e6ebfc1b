"""Send / receive raw Ethernet frames with a packet socket (run inside a
namespace). Received 802.1Q frames get their tag put back from the kernel's
PACKET_AUXDATA (the kernel strips it on receive), so what is written is the
frame exactly as it was on the wire.

  rawframe.py send IFACE HEXFILE
  rawframe.py recv IFACE ETHERTYPE(hex, outer) SRC_MAC TIMEOUT OUTFILE
"""
import binascii
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6


def send(iface, hexfile):
    frame = binascii.unhexlify(open(hexfile).read().strip())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)


def recv(iface, ethertype, src_mac, timeout, outfile):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((iface, 0))
    src = binascii.unhexlify(src_mac.replace(":", ""))
    deadline = time.monotonic() + timeout
    with open(outfile + ".ready", "w") as f:
        f.write("ready\n")
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, anc, _flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
        except socket.timeout:
            break
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        for level, typ, cdata in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA:
                (status, _len, _snaplen, _mac, _net, tci, tpid) = struct.unpack("IIIHHHH", cdata[:20])
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        if data[6:12] != src:
            continue
        if struct.unpack("!H", data[12:14])[0] != ethertype:
            continue
        with open(outfile, "w") as f:
            f.write(binascii.hexlify(data).decode())
        return 0
    return 1


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3])
    else:
        sys.exit(recv(sys.argv[2], int(sys.argv[3], 16), sys.argv[4], float(sys.argv[5]), sys.argv[6]))
