#include "service/tso_segmenter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using segbridge::daemon::TsoSegmenter;
using segbridge::daemon::VirtioNetHdr;
using namespace segbridge::daemon;

namespace {

// Independent RFC 1071 sum (byte loop), so the code is not checked against itself.
std::uint32_t naive_sum(const std::vector<std::uint8_t>& d, std::size_t from, std::size_t to, std::uint32_t sum = 0) {
  for (std::size_t i = from; i < to; i += 2) {
    std::uint32_t w = std::uint32_t(d[i]) << 8;
    if (i + 1 < to) w |= d[i + 1];
    sum += w;
  }
  return sum;
}
std::uint16_t fold(std::uint32_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}
std::uint16_t get16(const std::vector<std::uint8_t>& d, std::size_t at) {
  return static_cast<std::uint16_t>((d[at] << 8) | d[at + 1]);
}
std::uint32_t get32(const std::vector<std::uint8_t>& d, std::size_t at) {
  return (std::uint32_t(d[at]) << 24) | (std::uint32_t(d[at + 1]) << 16) | (std::uint32_t(d[at + 2]) << 8) | d[at + 3];
}

struct Built {
  std::vector<std::uint8_t> frame;
  std::size_t l3 = 0, l4 = 0, headers = 0;
};

// Ethernet [+VLAN] + IPv4/IPv6 + TCP (with 12 bytes of options) + payload.
Built build(bool v6, bool vlan, std::size_t payload, std::uint8_t tcp_flags) {
  Built b;
  auto& f = b.frame;
  for (int i = 0; i < 12; ++i) f.push_back(static_cast<std::uint8_t>(0x10 + i));
  if (vlan) f.insert(f.end(), {0x81, 0x00, 0x00, 0x2a});
  f.insert(f.end(), {static_cast<std::uint8_t>(v6 ? 0x86 : 0x08), static_cast<std::uint8_t>(v6 ? 0xdd : 0x00)});
  b.l3 = f.size();
  if (!v6) {
    f.insert(f.end(), {0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 1, 2, 1, 10, 1, 1, 1});
  } else {
    f.insert(f.end(), {0x60, 0, 0, 0, 0, 0, 6, 64});
    for (int i = 0; i < 32; ++i) f.push_back(static_cast<std::uint8_t>(0x20 + i));
  }
  b.l4 = f.size();
  f.insert(f.end(), {0x13, 0x89, 0xc3, 0x50, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1, 0x80, tcp_flags, 0x01, 0xf5,
                     0,    0,    0,    0,    1,    1,    8,    10,   0, 0, 0, 1, 0,    0,         0,    2});
  b.headers = f.size();
  for (std::size_t i = 0; i < payload; ++i) f.push_back(static_cast<std::uint8_t>(i * 31 + 7));
  return b;
}

void check_segments(const Built& b, bool v6, const TsoSegmenter& seg, std::size_t max_frame, std::size_t payload) {
  std::vector<std::uint8_t> joined;
  std::uint32_t seq0 = get32(b.frame, b.l4 + 4);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < seg.count(); ++i) {
    auto fr = seg.frame(i);
    std::vector<std::uint8_t> s(fr.data, fr.data + fr.size);
    ASSERT_LE(s.size(), max_frame);
    ASSERT_EQ(std::vector<std::uint8_t>(s.begin(), s.begin() + 12),
              std::vector<std::uint8_t>(b.frame.begin(), b.frame.begin() + 12));
    std::size_t l4_len = s.size() - b.l4;
    if (!v6) {
      EXPECT_EQ(get16(s, b.l3 + 2), s.size() - b.l3);
      EXPECT_EQ(get16(s, b.l3 + 4), 0x1234 + i);
      EXPECT_EQ(fold(naive_sum(s, b.l3, b.l4)), 0xFFFF) << "IPv4 header checksum, segment " << i;
    } else {
      EXPECT_EQ(get16(s, b.l3 + 4), l4_len);
    }
    std::uint32_t pseudo = v6 ? naive_sum(s, b.l3 + 8, b.l3 + 40) : naive_sum(s, b.l3 + 12, b.l3 + 20);
    pseudo += 6 + static_cast<std::uint32_t>(l4_len);
    EXPECT_EQ(fold(naive_sum(s, b.l4, s.size(), pseudo)), 0xFFFF) << "TCP checksum, segment " << i;
    EXPECT_EQ(get32(s, b.l4 + 4), seq0 + offset);
    bool last = i + 1 == seg.count();
    const std::uint8_t original = b.frame[b.l4 + 13];
    EXPECT_EQ(s[b.l4 + 13], last ? original : (original & ~0x09)) << "FIN/PSH only on the last segment";
    EXPECT_EQ(s[b.l4 + 13] & 0x10, 0x10) << "ACK kept";
    joined.insert(joined.end(), s.begin() + b.headers, s.end());
    offset += s.size() - b.headers;
  }
  EXPECT_EQ(joined, std::vector<std::uint8_t>(b.frame.begin() + b.headers, b.frame.end()));
  EXPECT_EQ(joined.size(), payload);
}

VirtioNetHdr gso(bool v6, std::size_t headers, std::uint16_t gso_size) {
  VirtioNetHdr h;
  h.flags = kVirtioNetHdrFNeedsCsum;
  h.gso_type = v6 ? kVirtioNetHdrGsoTcpv6 : kVirtioNetHdrGsoTcpv4;
  h.hdr_len = static_cast<std::uint16_t>(headers);
  h.gso_size = gso_size;
  return h;
}

}  // namespace

TEST(TsoSegmenter, CutsIpv4SuperFrameToFitOneDatagram) {
  auto b = build(false, false, 20000, 0x19 /* ACK PSH FIN */);
  TsoSegmenter seg;
  auto r = seg.process(gso(false, b.headers, 1448), b.frame.data(), b.frame.size(), 1436);
  ASSERT_EQ(r, TsoSegmenter::Result::segmented);
  EXPECT_EQ(seg.count(), (20000 + (1436 - b.headers) - 1) / (1436 - b.headers));
  check_segments(b, false, seg, 1436, 20000);
}

TEST(TsoSegmenter, KeepsSmallerSenderMss) {
  auto b = build(false, false, 3000, 0x10);
  TsoSegmenter seg;
  ASSERT_EQ(seg.process(gso(false, b.headers, 1000), b.frame.data(), b.frame.size(), 1436),
            TsoSegmenter::Result::segmented);
  EXPECT_EQ(seg.count(), 3u);
  check_segments(b, false, seg, 1436, 3000);
}

TEST(TsoSegmenter, Ipv6AndVlanTagged) {
  auto b = build(true, true, 9001, 0x18);
  TsoSegmenter seg;
  ASSERT_EQ(seg.process(gso(true, b.headers, 1428), b.frame.data(), b.frame.size(), 1416),
            TsoSegmenter::Result::segmented);
  check_segments(b, true, seg, 1416, 9001);
}

TEST(Checksum, MatchesTheByteLoopForEveryLengthAlignmentAndStartingSum) {
  // checksum_add sums native-order words and swaps once; it must agree with
  // RFC 1071's big-endian byte loop (after folding) for any length, any
  // alignment of the data and any partial sum carried in, including runs of
  // 0xFF that exercise the end-around carry.
  std::vector<std::uint8_t> d(3000);
  std::uint32_t x = 12345;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return x >> 8;
  };
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : d) b = static_cast<std::uint8_t>(round % 5 == 0 ? 0xFF : next());
    const std::size_t from = next() % 16;
    const std::size_t len = round < 100 ? static_cast<std::size_t>(round) : next() % 2900;
    const std::uint32_t start = round % 3 == 0 ? 0 : next() * 7919u;
    EXPECT_EQ(fold(checksum_add(start, d.data() + from, len)), fold(naive_sum(d, from, from + len, 0) + fold(start)))
        << "round " << round << ", length " << len << ", offset " << from;
  }
  const std::vector<std::uint8_t> zeros(64, 0);
  EXPECT_EQ(checksum_add(0, zeros.data(), zeros.size()), 0u) << "all-zero data sums to 0, not 0xFFFF";
}

TEST(TsoSegmenter, CompletesPartialChecksum) {
  // A UDP datagram whose checksum field holds only the pseudo-header sum.
  auto b = build(false, false, 0, 0);
  std::vector<std::uint8_t> f(b.frame.begin(), b.frame.begin() + 34);  // Ethernet + IPv4
  f[23] = 17;                                                          // UDP
  std::vector<std::uint8_t> udp = {0x30, 0x39, 0x00, 0x43, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
  udp[5] = static_cast<std::uint8_t>(udp.size());
  f.insert(f.end(), udp.begin(), udp.end());
  std::uint32_t pseudo = naive_sum(f, 26, 34) + 17 + static_cast<std::uint32_t>(udp.size());
  std::uint16_t partial = fold(pseudo);
  f[34 + 6] = static_cast<std::uint8_t>(partial >> 8);
  f[34 + 7] = static_cast<std::uint8_t>(partial);
  VirtioNetHdr h;
  h.flags = kVirtioNetHdrFNeedsCsum;
  h.csum_start = 34;
  h.csum_offset = 6;
  TsoSegmenter seg;
  ASSERT_EQ(seg.process(h, f.data(), f.size(), 1436), TsoSegmenter::Result::passthrough);
  ASSERT_EQ(seg.count(), 1u);
  EXPECT_EQ(seg.frame(0).data, f.data());
  EXPECT_EQ(fold(naive_sum(f, 34, f.size(), pseudo)), 0xFFFF);
}

TEST(TsoSegmenter, PlainFramesPassUntouched) {
  auto b = build(false, false, 100, 0x10);
  auto copy = b.frame;
  TsoSegmenter seg;
  ASSERT_EQ(seg.process(VirtioNetHdr{}, b.frame.data(), b.frame.size(), 1436), TsoSegmenter::Result::passthrough);
  EXPECT_EQ(b.frame, copy);
}

TEST(TsoSegmenter, RejectsInconsistentFrames) {
  TsoSegmenter seg;
  auto b = build(false, false, 5000, 0x10);
  // Truncated inside the TCP header.
  EXPECT_EQ(seg.process(gso(false, b.headers, 1448), b.frame.data(), b.l4 + 10, 1436), TsoSegmenter::Result::malformed);
  // GSO type says IPv6, the frame is IPv4.
  EXPECT_EQ(seg.process(gso(true, b.headers, 1448), b.frame.data(), b.frame.size(), 1436),
            TsoSegmenter::Result::malformed);
  // gso_size 0.
  EXPECT_EQ(seg.process(gso(false, b.headers, 0), b.frame.data(), b.frame.size(), 1436),
            TsoSegmenter::Result::malformed);
  // ECN and UFO are never enabled.
  auto ecn = gso(false, b.headers, 1448);
  ecn.gso_type |= kVirtioNetHdrGsoEcn;
  EXPECT_EQ(seg.process(ecn, b.frame.data(), b.frame.size(), 1436), TsoSegmenter::Result::unsupported);
  VirtioNetHdr ufo;
  ufo.gso_type = kVirtioNetHdrGsoUdp;
  EXPECT_EQ(seg.process(ufo, b.frame.data(), b.frame.size(), 1436), TsoSegmenter::Result::unsupported);
  // Partial checksum pointing past the end.
  VirtioNetHdr bad;
  bad.flags = kVirtioNetHdrFNeedsCsum;
  bad.csum_start = static_cast<std::uint16_t>(b.frame.size() - 1);
  bad.csum_offset = 6;
  EXPECT_EQ(seg.process(bad, b.frame.data(), b.frame.size(), 1436), TsoSegmenter::Result::malformed);
  // Not TCP.
  auto udp = b.frame;
  udp[b.l3 + 9] = 17;
  EXPECT_EQ(seg.process(gso(false, b.headers, 1448), udp.data(), udp.size(), 1436), TsoSegmenter::Result::malformed);
}

namespace {

// A UDP super-frame: the TCP builder's frame with its L4 header replaced by UDP.
Built build_udp(bool v6, std::size_t payload) {
  Built b = build(v6, false, 0, 0x10);
  b.frame.resize(b.l4);
  b.frame[v6 ? b.l3 + 6 : b.l3 + 9] = 17;
  b.frame.insert(b.frame.end(), {0x13, 0x89, 0x17, 0x70, 0, 0, 0, 0});
  b.headers = b.frame.size();
  for (std::size_t i = 0; i < payload; ++i) b.frame.push_back(static_cast<std::uint8_t>(i * 29 + 3));
  return b;
}

VirtioNetHdr uso(std::size_t headers, std::uint16_t gso_size) {
  VirtioNetHdr h;
  h.flags = kVirtioNetHdrFNeedsCsum;
  h.gso_type = kVirtioNetHdrGsoUdpL4;
  h.hdr_len = static_cast<std::uint16_t>(headers);
  h.gso_size = gso_size;
  h.csum_start = 0;
  h.csum_offset = 6;
  return h;
}

}  // namespace

TEST(TsoSegmenter, CutsUdpSuperFrameExactlyAtGsoSize) {
  for (bool v6 : {false, true}) {
    TsoSegmenter seg;
    // 1200-byte datagrams, more than a 600-byte max_frame: never re-cut (the
    // application's datagram boundaries), the last one shorter.
    auto b = build_udp(v6, 5 * 1200 + 77);
    ASSERT_EQ(seg.process(uso(b.headers, 1200), b.frame.data(), b.frame.size(), 600), TsoSegmenter::Result::segmented);
    ASSERT_EQ(seg.count(), 6u);
    std::vector<std::uint8_t> joined;
    for (std::size_t i = 0; i < seg.count(); ++i) {
      std::vector<std::uint8_t> s(seg.frame(i).data, seg.frame(i).data + seg.frame(i).size);
      const std::size_t chunk = i < 5 ? 1200 : 77;
      ASSERT_EQ(s.size(), b.headers + chunk);
      const std::size_t l4_len = s.size() - b.l4;
      if (!v6) {
        EXPECT_EQ(get16(s, b.l3 + 2), s.size() - b.l3);
        EXPECT_EQ(get16(s, b.l3 + 4), 0x1234 + i);
        EXPECT_EQ(fold(naive_sum(s, b.l3, b.l4)), 0xFFFF);
      } else {
        EXPECT_EQ(get16(s, b.l3 + 4), l4_len);
      }
      EXPECT_EQ(get16(s, b.l4 + 4), l4_len);
      std::uint32_t pseudo = v6 ? naive_sum(s, b.l3 + 8, b.l3 + 40) : naive_sum(s, b.l3 + 12, b.l3 + 20);
      EXPECT_EQ(fold(naive_sum(s, b.l4, s.size(), pseudo + 17 + static_cast<std::uint32_t>(l4_len))), 0xFFFF);
      EXPECT_NE(get16(s, b.l4 + 6), 0) << "0 would mean no checksum";
      joined.insert(joined.end(), s.begin() + static_cast<std::ptrdiff_t>(b.headers), s.end());
    }
    EXPECT_EQ(joined,
              std::vector<std::uint8_t>(b.frame.begin() + static_cast<std::ptrdiff_t>(b.headers), b.frame.end()));
  }
}

TEST(TsoSegmenter, RejectsInconsistentUdpSuperFrames) {
  TsoSegmenter seg;
  auto b = build_udp(false, 3000);
  EXPECT_EQ(seg.process(uso(b.headers, 0), b.frame.data(), b.frame.size(), 1436), TsoSegmenter::Result::malformed);
  auto tcp = build(false, false, 3000, 0x10);  // USO on a TCP frame
  EXPECT_EQ(seg.process(uso(tcp.headers, 1000), tcp.frame.data(), tcp.frame.size(), 1436),
            TsoSegmenter::Result::malformed);
  EXPECT_EQ(seg.process(uso(b.headers, 1000), b.frame.data(), b.l4 + 4, 1436), TsoSegmenter::Result::malformed);
  auto ext = build_udp(true, 3000);
  ext.frame[ext.l3 + 6] = 0;  // hop-by-hop extension header
  EXPECT_EQ(seg.process(uso(ext.headers, 1000), ext.frame.data(), ext.frame.size(), 1436),
            TsoSegmenter::Result::unsupported);
  auto tiny = build_udp(false, 3000);  // more datagrams than the segmenter holds
  EXPECT_EQ(seg.process(uso(tiny.headers, 1), tiny.frame.data(), tiny.frame.size(), 1436),
            TsoSegmenter::Result::malformed);
}
