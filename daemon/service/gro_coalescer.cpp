#include "gro_coalescer.hpp"

#include <cstring>

#include "byte_order.hpp"

namespace segbridge::daemon {
using namespace bytes;

namespace {

constexpr std::uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;

std::uint32_t pseudo_sum(const std::uint8_t* f, std::size_t l3, bool v4, std::uint8_t proto, std::size_t l4_len) {
  std::uint32_t s = v4 ? checksum_add(0, f + l3 + 12, 8) : checksum_add(0, f + l3 + 8, 32);
  return s + proto + static_cast<std::uint32_t>(l4_len);
}

bool l4_checksum_holds(const std::uint8_t* f, std::size_t len, std::uint8_t proto, std::size_t l3, std::size_t l4,
                       bool v4) {
  return checksum_fold(checksum_add(pseudo_sum(f, l3, v4, proto, len - l4), f + l4, len - l4)) == 0xFFFF;
}

}  // namespace

GroCoalescer::GroCoalescer() : buf_(kVirtioNetHdrSize + kMaxSuperFrame) {}

bool GroCoalescer::parse(const std::uint8_t* f, std::size_t len, Flows flows, Parsed& p) {
  if (len < 14) return false;
  std::size_t l3 = 12;
  std::uint16_t type = be16(f + l3);
  if (type == 0x8100 || type == 0x88A8) {
    l3 += 4;
    if (l3 + 2 > len) return false;
    type = be16(f + l3);
  }
  l3 += 2;
  if (type == 0x0800) {
    if (l3 + 20 > len || f[l3] != 0x45) return false;    // no IP options
    if ((be16(f + l3 + 6) & 0x3FFF) != 0) return false;  // a fragment
    if (be16(f + l3 + 2) != len - l3) return false;      // padded or truncated
    // The merged header gets a fresh checksum: never launder a bad one.
    if (checksum_fold(checksum_add(0, f + l3, 20)) != 0xFFFF) return false;
    p.v4 = true;
    p.proto = f[l3 + 9];
    p.l4 = l3 + 20;
  } else if (type == 0x86DD) {
    if (l3 + 40 > len || (f[l3] >> 4) != 6) return false;
    if (be16(f + l3 + 4) != len - l3 - 40) return false;
    p.v4 = false;
    p.proto = f[l3 + 6];  // anything else (an extension header) is not merged
    p.l4 = l3 + 40;
  } else {
    return false;
  }
  p.l3 = l3;
  if (p.proto == kProtoTcp) return parse_tcp(f, len, p);
  if (p.proto == kProtoUdp && flows == Flows::tcp_and_udp) return parse_udp(f, len, p);
  return false;
}

bool GroCoalescer::parse_tcp(const std::uint8_t* f, std::size_t len, Parsed& p) {
  const std::size_t l4 = p.l4;
  if (l4 + 20 > len) return false;
  std::size_t tcp = std::size_t(f[l4 + 12] >> 4) * 4;
  if (tcp < 20 || l4 + tcp >= len) return false;  // no payload: nothing to merge
  // Plain data only: ACK, optionally PSH; no SYN/FIN/RST/URG/ECE/CWR.
  if ((f[l4 + 13] & static_cast<std::uint8_t>(~kTcpPsh)) != kTcpAck) return false;
  // Never merge what the host would reject: the segment's checksum must hold.
  if (!l4_checksum_holds(f, len, kProtoTcp, p.l3, l4, p.v4)) return false;
  p.headers = l4 + tcp;
  return true;
}

bool GroCoalescer::parse_udp(const std::uint8_t* f, std::size_t len, Parsed& p) {
  const std::size_t l4 = p.l4;
  if (l4 + 8 >= len) return false;  // no payload: gso_size would be 0
  if (be16(f + l4 + 4) != len - l4) return false;
  // 0 = "no checksum" (IPv4 only; the segments get a real one); anything else must hold.
  if (be16(f + l4 + 6) == 0) {
    if (!p.v4) return false;
  } else if (!l4_checksum_holds(f, len, kProtoUdp, p.l3, l4, p.v4)) {
    return false;
  }
  p.headers = l4 + 8;
  return true;
}

bool GroCoalescer::continues(const std::uint8_t* f, std::size_t len, const Parsed& p) const {
  if (closed_ || p.proto != flow_.proto || p.headers != flow_.headers || p.l4 != flow_.l4 || p.v4 != flow_.v4) {
    return false;
  }
  const std::size_t payload = len - p.headers;
  if (payload > mss_ || len_ + payload > kMaxSuperFrame) return false;
  const std::uint8_t* s = buf_.data() + kVirtioNetHdrSize;
  // Same L2 and IP header except length, id and checksum (IPv4) / payload
  // length (IPv6): TOS/traffic class, flow label, DF, TTL/hop limit, addresses.
  if (std::memcmp(f, s, p.l3) != 0) return false;
  if (p.v4) {
    if (f[p.l3 + 1] != s[p.l3 + 1] || std::memcmp(f + p.l3 + 6, s + p.l3 + 6, 4) != 0 ||
        std::memcmp(f + p.l3 + 12, s + p.l3 + 12, 8) != 0) {
      return false;
    }
  } else if (std::memcmp(f + p.l3, s + p.l3, 4) != 0 || std::memcmp(f + p.l3 + 6, s + p.l3 + 6, 34) != 0) {
    return false;
  }
  return same_l4(f, p);
}

bool GroCoalescer::same_l4(const std::uint8_t* f, const Parsed& p) const {
  const std::uint8_t* s = buf_.data() + kVirtioNetHdrSize;
  if (p.proto == kProtoUdp) {
    // The kernel numbers the segments' IPv4 IDs from the first one.
    if (segments_ >= kMaxUdpSegments || (p.v4 && be16(f + p.l3 + 4) != next_id_)) return false;
    return std::memcmp(f + p.l4, s + p.l4, 4) == 0;  // ports; length and checksum may differ
  }
  // TCP: same ports/ack/window/options; seq, flags (PSH) and checksum may differ.
  if (be32(f + p.l4 + 4) != next_seq_) return false;
  return std::memcmp(f + p.l4, s + p.l4, 4) == 0 && std::memcmp(f + p.l4 + 8, s + p.l4 + 8, 5) == 0 &&
         std::memcmp(f + p.l4 + 14, s + p.l4 + 14, 2) == 0 &&
         std::memcmp(f + p.l4 + 18, s + p.l4 + 18, p.headers - p.l4 - 18) == 0;
}

bool GroCoalescer::add(const std::uint8_t* f, std::size_t len, Flows flows) {
  Parsed p;
  if (!parse(f, len, flows, p)) return false;
  const std::size_t payload = len - p.headers;
  const bool tcp = p.proto == kProtoTcp;
  std::uint8_t* s = buf_.data() + kVirtioNetHdrSize;
  if (segments_ == 0) {
    if (len > kMaxSuperFrame) return false;
    std::memcpy(s, f, len);
    len_ = len;
    flow_ = p;
    mss_ = payload;
    next_seq_ = tcp ? be32(f + p.l4 + 4) + static_cast<std::uint32_t>(payload) : 0;
    next_id_ = p.v4 ? static_cast<std::uint16_t>(be16(f + p.l3 + 4) + 1) : 0;
    closed_ = tcp && (f[p.l4 + 13] & kTcpPsh) != 0;
    segments_ = 1;
    return true;
  }
  if (!continues(f, len, p)) return false;
  std::memcpy(s + len_, f + p.headers, payload);
  len_ += payload;
  ++next_id_;
  if (tcp) {
    next_seq_ += static_cast<std::uint32_t>(payload);
    if (f[p.l4 + 13] & kTcpPsh) {
      s[p.l4 + 13] |= kTcpPsh;
      closed_ = true;
    }
  }
  if (payload < mss_) closed_ = true;
  ++segments_;
  return true;
}

std::uint8_t* GroCoalescer::output() {
  std::uint8_t* h = buf_.data();
  std::memset(h, 0, kVirtioNetHdrSize);
  if (segments_ > 1) {
    std::uint8_t* s = h + kVirtioNetHdrSize;
    const std::size_t l3 = flow_.l3, l4 = flow_.l4;
    if (flow_.v4) {
      put16(s + l3 + 2, static_cast<std::uint16_t>(len_ - l3));
      put16(s + l3 + 10, 0);
      put16(s + l3 + 10, static_cast<std::uint16_t>(~checksum_fold(checksum_add(0, s + l3, 20))));
    } else {
      put16(s + l3 + 4, static_cast<std::uint16_t>(len_ - l4));
    }
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, the kernel (or
    // the NIC after segmentation) completes it. For UDP the length in the
    // header and in that sum is the whole super-frame's: __udp_gso_segment
    // swaps it for each segment's.
    const bool tcp = flow_.proto == kProtoTcp;
    const std::size_t csum_offset = tcp ? 16 : 6;
    if (!tcp) put16(s + l4 + 4, static_cast<std::uint16_t>(len_ - l4));
    put16(s + l4 + csum_offset, checksum_fold(pseudo_sum(s, l3, flow_.v4, flow_.proto, len_ - l4)));
    h[0] = kVirtioNetHdrFNeedsCsum;
    h[1] = !tcp ? kVirtioNetHdrGsoUdpL4 : flow_.v4 ? kVirtioNetHdrGsoTcpv4 : kVirtioNetHdrGsoTcpv6;
    put16le(h + 2, flow_.headers);
    put16le(h + 4, mss_);
    put16le(h + 6, l4);
    put16le(h + 8, csum_offset);
  }
  return h;
}

}  // namespace segbridge::daemon
