#include "service/gro_coalescer.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <vector>

#include "service/gro_write.hpp"
#include "service/tso_segmenter.hpp"

using namespace segbridge::daemon;

namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint32_t sum16(const Bytes& d, std::size_t from, std::size_t to, std::uint32_t s = 0) {
  for (std::size_t i = from; i < to; i += 2) s += (std::uint32_t(d[i]) << 8) | (i + 1 < to ? d[i + 1] : 0);
  return s;
}
std::uint16_t fold(std::uint32_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

// An IPv4 TCP super-frame (Ethernet + 20 IP + 32 TCP) of `payload` bytes.
Bytes superframe(std::size_t payload, std::uint8_t flags = 0x18, std::uint8_t last_octet = 1) {
  Bytes f = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  f.insert(f.end(), {0x45, 0, 0, 0, 0, 7, 0x40, 0, 64, 6, 0, 0, 10, 1, 2, 1, 10, 1, 1, last_octet});
  f.insert(f.end(), {0x13, 0x89, 0xc3, 0x50, 0, 0, 0x10, 0,  0, 0, 0, 9, 0x80, flags, 0x01, 0xf5,
                     0,    0,    0,    0,    1, 1, 8,    10, 0, 0, 0, 1, 0,    0,     0,    2});
  for (std::size_t i = 0; i < payload; ++i) f.push_back(static_cast<std::uint8_t>(i * 13 + 5));
  return f;
}

std::vector<Bytes> segments_of(Bytes super, std::size_t max_frame) {
  VirtioNetHdr h;
  h.flags = kVirtioNetHdrFNeedsCsum;
  h.gso_type = kVirtioNetHdrGsoTcpv4;
  h.gso_size = 1448;
  TsoSegmenter seg;
  EXPECT_EQ(seg.process(h, super.data(), super.size(), max_frame), TsoSegmenter::Result::segmented);
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < seg.count(); ++i)
    out.emplace_back(seg.frame(i).data, seg.frame(i).data + seg.frame(i).size);
  return out;
}

}  // namespace

TEST(GroCoalescer, MergesSegmentsBackIntoOneGsoFrame) {
  Bytes super = superframe(30000);
  auto segs = segments_of(super, 1436);
  ASSERT_GT(segs.size(), 20u);
  GroCoalescer gro;
  for (const auto& s : segs) ASSERT_TRUE(gro.add(s.data(), s.size()));
  EXPECT_EQ(gro.segments(), segs.size());
  Bytes out(gro.output(), gro.output() + gro.output_size());
  const std::size_t h = kVirtioNetHdrSize;
  auto hdr = VirtioNetHdr::parse(out.data());
  EXPECT_EQ(hdr.flags, kVirtioNetHdrFNeedsCsum);
  EXPECT_EQ(hdr.gso_type, kVirtioNetHdrGsoTcpv4);
  EXPECT_EQ(hdr.hdr_len, 66);
  EXPECT_EQ(hdr.gso_size, segs[0].size() - 66);
  EXPECT_EQ(hdr.csum_start, 34);
  EXPECT_EQ(hdr.csum_offset, 16);
  Bytes frame(out.begin() + h, out.end());
  ASSERT_EQ(frame.size(), super.size());
  // Payload identical, IPv4 length + header checksum right, PSH from the last segment.
  EXPECT_EQ(Bytes(frame.begin() + 66, frame.end()), Bytes(super.begin() + 66, super.end()));
  EXPECT_EQ((frame[16] << 8) | frame[17], static_cast<int>(frame.size() - 14));
  EXPECT_EQ(fold(sum16(frame, 14, 34)), 0xFFFF);
  EXPECT_EQ(frame[47], 0x18);
  // TCP checksum field = pseudo-header sum (CHECKSUM_PARTIAL convention).
  std::uint32_t pseudo = sum16(frame, 26, 34) + 6 + static_cast<std::uint32_t>(frame.size() - 34);
  EXPECT_EQ((frame[50] << 8) | frame[51], fold(pseudo));
}

TEST(GroCoalescer, SingleSegmentIsWrittenUnchanged) {
  auto segs = segments_of(superframe(1000), 1436);
  ASSERT_EQ(segs.size(), 1u);
  GroCoalescer gro;
  ASSERT_TRUE(gro.add(segs[0].data(), segs[0].size()));
  Bytes out(gro.output(), gro.output() + gro.output_size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + kVirtioNetHdrSize), Bytes(kVirtioNetHdrSize, 0));
  EXPECT_EQ(Bytes(out.begin() + kVirtioNetHdrSize, out.end()), segs[0]);
}

TEST(GroCoalescer, RefusesWhatMustNotMerge) {
  auto segs = segments_of(superframe(10000, 0x10), 1436);
  ASSERT_GE(segs.size(), 4u);
  {
    GroCoalescer gro;  // a gap in the sequence
    ASSERT_TRUE(gro.add(segs[0].data(), segs[0].size()));
    EXPECT_FALSE(gro.add(segs[2].data(), segs[2].size()));
    EXPECT_EQ(gro.segments(), 1u);
  }
  {
    GroCoalescer gro;  // another flow (different destination address)
    auto other = segments_of(superframe(10000, 0x10, 9), 1436);
    ASSERT_TRUE(gro.add(segs[0].data(), segs[0].size()));
    EXPECT_FALSE(gro.add(other[1].data(), other[1].size()));
  }
  {
    GroCoalescer gro;  // a corrupted checksum is never merged (nor starts a run)
    Bytes bad = segs[0];
    bad[100] ^= 0xFF;
    EXPECT_FALSE(gro.add(bad.data(), bad.size()));
    EXPECT_TRUE(gro.empty());
  }
  {
    GroCoalescer gro;  // SYN / FIN / RST segments and non-TCP frames
    auto syn = segments_of(superframe(500, 0x02), 1436);
    EXPECT_FALSE(gro.add(syn[0].data(), syn[0].size()));
    Bytes arp(60, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    EXPECT_FALSE(gro.add(arp.data(), arp.size()));
  }
  {
    GroCoalescer gro;  // a short segment ends the run
    auto short_run = segments_of(superframe(3000, 0x10), 1436);
    ASSERT_EQ(short_run.size(), 3u);
    ASSERT_TRUE(gro.add(short_run[0].data(), short_run[0].size()));
    ASSERT_TRUE(gro.add(short_run[1].data(), short_run[1].size()));
    ASSERT_TRUE(gro.add(short_run[2].data(), short_run[2].size()));
    auto next = segments_of(superframe(3000, 0x10), 1436);  // same flow, seq restarts: refused
    EXPECT_FALSE(gro.add(next[0].data(), next[0].size()));
  }
}

// --- UDP (USO) -------------------------------------------------------------

namespace {

struct UdpFlow {
  bool v6 = false;
  bool vlan = false;
  std::uint16_t vlan_id = 42;
  std::uint16_t sport = 5000, dport = 6000;
  std::uint8_t ttl = 64, tos = 0;
  bool df = true;
};

void set16(Bytes& d, std::size_t at, std::uint32_t v) {
  d[at] = static_cast<std::uint8_t>(v >> 8);
  d[at + 1] = static_cast<std::uint8_t>(v);
}

struct Offsets {
  std::size_t l3, l4;
};
Offsets offsets(const UdpFlow& fl) {
  std::size_t l3 = fl.vlan ? 18 : 14;
  return {l3, l3 + (fl.v6 ? 40 : 20)};
}

// The UDP checksum field of `f` as a sender computes it (test's own sum).
std::uint16_t udp_checksum(const Bytes& f, const UdpFlow& fl) {
  auto o = offsets(fl);
  std::uint32_t s = fl.v6 ? sum16(f, o.l3 + 8, o.l3 + 40) : sum16(f, o.l3 + 12, o.l3 + 20);
  s += 17 + static_cast<std::uint32_t>(f.size() - o.l4);
  Bytes z = f;
  set16(z, o.l4 + 6, 0);
  std::uint16_t c = static_cast<std::uint16_t>(~fold(sum16(z, o.l4, z.size(), s)));
  return c == 0 ? 0xFFFF : c;
}

// Ethernet [+802.1Q] + IPv4 (ID `id`) / IPv6 + UDP + `payload` bytes, valid checksums.
Bytes datagram(const UdpFlow& fl, std::uint16_t id, std::size_t payload, std::uint8_t seed, bool zero_csum = false) {
  Bytes f = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
  if (fl.vlan)
    f.insert(f.end(), {0x81, 0x00, static_cast<std::uint8_t>(fl.vlan_id >> 8), static_cast<std::uint8_t>(fl.vlan_id)});
  const std::size_t l4_len = 8 + payload;
  if (!fl.v6) {
    f.insert(f.end(),
             {0x08, 0x00, 0x45, fl.tos, 0,  0, 0, 0, static_cast<std::uint8_t>(fl.df ? 0x40 : 0), 0, fl.ttl, 17, 0, 0,
              10,   1,    2,    1,      10, 1, 1, 1});
  } else {
    f.insert(f.end(), {0x86, 0xdd, static_cast<std::uint8_t>(0x60 | (fl.tos >> 4)),
                       static_cast<std::uint8_t>((fl.tos << 4) | 0x01), 0x23, 0x45, 0, 0, 17, fl.ttl});
    for (int i = 0; i < 32; ++i) f.push_back(static_cast<std::uint8_t>(0x20 + i));
  }
  auto o = offsets(fl);
  if (!fl.v6) {
    set16(f, o.l3 + 2, 20 + l4_len);
    set16(f, o.l3 + 4, id);
    set16(f, o.l3 + 10, static_cast<std::uint16_t>(~fold(sum16(f, o.l3, o.l3 + 20))));
  } else {
    set16(f, o.l3 + 4, l4_len);
  }
  f.insert(f.end(), {static_cast<std::uint8_t>(fl.sport >> 8), static_cast<std::uint8_t>(fl.sport),
                     static_cast<std::uint8_t>(fl.dport >> 8), static_cast<std::uint8_t>(fl.dport), 0, 0, 0, 0});
  set16(f, o.l4 + 4, l4_len);
  for (std::size_t i = 0; i < payload; ++i) f.push_back(static_cast<std::uint8_t>(seed * 7 + i * 13 + 1));
  if (!zero_csum) set16(f, o.l4 + 6, udp_checksum(f, fl));
  return f;
}

// `n` datagrams of one flow, consecutive IDs from 0xfffe (wrapping), `size`
// bytes of payload each, the last `last` bytes (0: also `size`).
std::vector<Bytes> udp_run(const UdpFlow& fl, std::size_t n, std::size_t size, std::size_t last = 0) {
  std::vector<Bytes> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back(datagram(fl, static_cast<std::uint16_t>(0xfffe + i), (i + 1 == n && last) ? last : size,
                         static_cast<std::uint8_t>(i)));
  }
  return v;
}

constexpr auto kUdp = GroCoalescer::Flows::tcp_and_udp;

// The super-frame the coalescer must write, built independently.
Bytes expected_uso(const std::vector<Bytes>& run, const UdpFlow& fl) {
  auto o = offsets(fl);
  const std::size_t gso = run[0].size() - o.l4 - 8;
  Bytes h = {kVirtioNetHdrFNeedsCsum,
             5,
             static_cast<std::uint8_t>(o.l4 + 8),
             0,
             static_cast<std::uint8_t>(gso),
             static_cast<std::uint8_t>(gso >> 8),
             static_cast<std::uint8_t>(o.l4),
             0,
             6,
             0};
  Bytes f(run[0].begin(), run[0].begin() + static_cast<std::ptrdiff_t>(o.l4 + 8));
  for (const auto& d : run) f.insert(f.end(), d.begin() + static_cast<std::ptrdiff_t>(o.l4 + 8), d.end());
  const std::size_t udp_len = f.size() - o.l4;
  if (!fl.v6) {
    set16(f, o.l3 + 2, f.size() - o.l3);
    set16(f, o.l3 + 10, 0);
    set16(f, o.l3 + 10, static_cast<std::uint16_t>(~fold(sum16(f, o.l3, o.l3 + 20))));
  } else {
    set16(f, o.l3 + 4, udp_len);
  }
  set16(f, o.l4 + 4, udp_len);
  std::uint32_t pseudo = fl.v6 ? sum16(f, o.l3 + 8, o.l3 + 40) : sum16(f, o.l3 + 12, o.l3 + 20);
  set16(f, o.l4 + 6, fold(pseudo + 17 + static_cast<std::uint32_t>(udp_len)));
  h.insert(h.end(), f.begin(), f.end());
  return h;
}

// What the kernel's segmentation makes of the super-frame (TsoSegmenter's UDP
// cut, exactly at gso_size).
std::vector<Bytes> split_uso(const Bytes& out) {
  Bytes frame(out.begin() + kVirtioNetHdrSize, out.end());
  TsoSegmenter seg;
  EXPECT_EQ(seg.process(VirtioNetHdr::parse(out.data()), frame.data(), frame.size(), 1400),
            TsoSegmenter::Result::segmented);
  std::vector<Bytes> v;
  for (std::size_t i = 0; i < seg.count(); ++i)
    v.emplace_back(seg.frame(i).data, seg.frame(i).data + seg.frame(i).size);
  return v;
}

void add_all(GroCoalescer& gro, const std::vector<Bytes>& run) {
  for (const auto& d : run) ASSERT_TRUE(gro.add(d.data(), d.size(), kUdp));
}

Bytes output_of(GroCoalescer& gro) {
  return Bytes(gro.output(), gro.output() + gro.output_size());
}

void expect_round_trip(const UdpFlow& fl, const std::vector<Bytes>& run) {
  GroCoalescer gro;
  add_all(gro, run);
  ASSERT_EQ(gro.segments(), run.size());
  EXPECT_TRUE(gro.udp());
  Bytes out = output_of(gro);
  EXPECT_EQ(out, expected_uso(run, fl));
  EXPECT_EQ(split_uso(out), run);
}

}  // namespace

TEST(GroCoalescerUdp, MergesEqualDatagramsIntoOneUsoFrameAndSplitsBackExactly) {
  UdpFlow fl;
  expect_round_trip(fl, udp_run(fl, 40, 64));
  expect_round_trip(fl, udp_run(fl, 2, 1400));
}

TEST(GroCoalescerUdp, ShorterLastDatagramEndsTheRun) {
  UdpFlow fl;
  auto run = udp_run(fl, 10, 64, 17);
  expect_round_trip(fl, run);
  GroCoalescer gro;
  add_all(gro, run);
  auto next = datagram(fl, static_cast<std::uint16_t>(0xfffe + 10), 17, 99);  // even the same size
  EXPECT_FALSE(gro.add(next.data(), next.size(), kUdp));
  EXPECT_EQ(gro.segments(), 10u);
}

TEST(GroCoalescerUdp, Ipv6AndVlan) {
  UdpFlow fl;
  fl.v6 = true;
  fl.tos = 0xb8;
  expect_round_trip(fl, udp_run(fl, 30, 100, 3));
  fl.vlan = true;
  expect_round_trip(fl, udp_run(fl, 5, 64));
  fl.v6 = false;
  expect_round_trip(fl, udp_run(fl, 5, 64));
}

TEST(GroCoalescerUdp, ChecksumZeroOnIpv4MergesAndGetsARealOne) {
  UdpFlow fl;
  std::vector<Bytes> run;
  for (std::uint16_t i = 0; i < 4; ++i) run.push_back(datagram(fl, static_cast<std::uint16_t>(7 + i), 64, 1, true));
  GroCoalescer gro;
  add_all(gro, run);
  auto segs = split_uso(output_of(gro));
  ASSERT_EQ(segs.size(), run.size());
  for (std::size_t i = 0; i < segs.size(); ++i) {
    Bytes want = run[i];
    set16(want, 40, udp_checksum(want, fl));  // same bytes, now with a valid checksum
    EXPECT_EQ(segs[i], want) << i;
  }
  // IPv6 has no "no checksum": never merged (the host drops it anyway).
  fl.v6 = true;
  auto v6 = datagram(fl, 0, 64, 1, true);
  GroCoalescer gro6;
  EXPECT_FALSE(gro6.add(v6.data(), v6.size(), kUdp));
}

TEST(GroCoalescerUdp, SingleDatagramIsWrittenUnchangedAndTcpOnlyMergesNoUdp) {
  UdpFlow fl;
  auto run = udp_run(fl, 3, 64);
  GroCoalescer gro;
  ASSERT_TRUE(gro.add(run[0].data(), run[0].size(), kUdp));
  Bytes out = output_of(gro);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + kVirtioNetHdrSize), Bytes(kVirtioNetHdrSize, 0));
  EXPECT_EQ(Bytes(out.begin() + kVirtioNetHdrSize, out.end()), run[0]);
  GroCoalescer tcp_only;  // the TX coalescer, and a tap whose kernel refused USO
  EXPECT_FALSE(tcp_only.add(run[0].data(), run[0].size()));
  EXPECT_FALSE(tcp_only.add(run[0].data(), run[0].size(), GroCoalescer::Flows::tcp));
}

TEST(GroCoalescerUdp, RefusesWhatMustNotMerge) {
  UdpFlow fl;
  auto run = udp_run(fl, 3, 64);
  // Second datagram variants that must not join a run started by run[0].
  auto refused = [&](const Bytes& second, const char* why) {
    GroCoalescer gro;
    ASSERT_TRUE(gro.add(run[0].data(), run[0].size(), kUdp)) << why;
    EXPECT_FALSE(gro.add(second.data(), second.size(), kUdp)) << why;
    EXPECT_EQ(gro.segments(), 1u) << why;
  };
  auto variant = [&](auto change) {
    UdpFlow v = fl;
    change(v);
    return datagram(v, static_cast<std::uint16_t>(0xffff), 64, 1);
  };
  refused(variant([](UdpFlow& v) { v.sport = 5001; }), "source port");
  refused(variant([](UdpFlow& v) { v.dport = 6001; }), "destination port");
  refused(variant([](UdpFlow& v) { v.ttl = 63; }), "TTL");
  refused(variant([](UdpFlow& v) { v.tos = 4; }), "TOS");
  refused(variant([](UdpFlow& v) { v.df = false; }), "DF");
  refused(variant([](UdpFlow& v) { v.vlan = true; }), "VLAN tag added");
  refused(datagram(fl, 0xffff, 65, 1), "larger datagram");
  refused(datagram(fl, 0x0000, 64, 1), "IPv4 ID not consecutive");
  refused(datagram(fl, 0xfffe, 64, 1), "IPv4 ID repeated");
  {
    Bytes bad = run[1];
    bad[50] ^= 0x01;  // payload corrupted: UDP checksum fails
    refused(bad, "bad UDP checksum");
    GroCoalescer gro;
    EXPECT_FALSE(gro.add(bad.data(), bad.size(), kUdp));  // nor starts a run
    EXPECT_TRUE(gro.empty());
  }
  {
    Bytes bad = run[1];
    bad[14 + 10] ^= 0x01;  // IPv4 header checksum
    refused(bad, "bad IPv4 header checksum");
  }
  {
    Bytes frag = run[1];
    frag[14 + 6] |= 0x20;  // MF
    set16(frag, 14 + 10, 0);
    set16(frag, 14 + 10, static_cast<std::uint16_t>(~fold(sum16(frag, 14, 34))));
    refused(frag, "fragment");
    GroCoalescer gro;
    EXPECT_FALSE(gro.add(frag.data(), frag.size(), kUdp));
  }
  {
    // IPv4 options (a 4-byte NOP/EOL option): IHL 6.
    Bytes opt = run[1];
    opt.insert(opt.begin() + 34, {1, 1, 1, 0});
    opt[14] = 0x46;
    set16(opt, 16, opt.size() - 14);
    set16(opt, 24, 0);
    set16(opt, 24, static_cast<std::uint16_t>(~fold(sum16(opt, 14, 38))));
    GroCoalescer gro;
    EXPECT_FALSE(gro.add(opt.data(), opt.size(), kUdp));
    refused(opt, "IPv4 options");
  }
  {
    UdpFlow v = fl;
    v.vlan = true;
    auto a = datagram(v, 0xfffe, 64, 0);
    v.vlan_id = 43;
    auto b = datagram(v, 0xffff, 64, 1);
    GroCoalescer gro;
    ASSERT_TRUE(gro.add(a.data(), a.size(), kUdp));
    EXPECT_FALSE(gro.add(b.data(), b.size(), kUdp)) << "VLAN id mismatch";
  }
  {
    GroCoalescer gro;  // size change in the middle: the run stays as it was
    auto big = datagram(fl, 0, 64, 0), small = datagram(fl, 1, 32, 1), next = datagram(fl, 2, 64, 2);
    ASSERT_TRUE(gro.add(big.data(), big.size(), kUdp));
    ASSERT_TRUE(gro.add(small.data(), small.size(), kUdp));  // shorter: accepted, closes the run
    EXPECT_FALSE(gro.add(next.data(), next.size(), kUdp));   // then longer: refused
    EXPECT_EQ(gro.segments(), 2u);
  }
  {
    GroCoalescer gro;  // at most 64 datagrams, the 65th starts a new run
    auto many = udp_run(fl, 65, 16);
    for (std::size_t i = 0; i < 64; ++i) ASSERT_TRUE(gro.add(many[i].data(), many[i].size(), kUdp)) << i;
    EXPECT_FALSE(gro.add(many[64].data(), many[64].size(), kUdp));
    EXPECT_EQ(gro.segments(), GroCoalescer::kMaxUdpSegments);
  }
  {
    GroCoalescer gro;  // ≤ kMaxSuperFrame bytes
    auto big = udp_run(fl, 60, 1400);
    std::size_t taken = 0;
    while (taken < big.size() && gro.add(big[taken].data(), big[taken].size(), kUdp)) ++taken;
    EXPECT_LT(taken, big.size());
    EXPECT_LE(gro.output_size(), kVirtioNetHdrSize + GroCoalescer::kMaxSuperFrame);
    EXPECT_EQ(gro.output_size() + 1400 > kVirtioNetHdrSize + GroCoalescer::kMaxSuperFrame, true);
  }
  {
    GroCoalescer gro;  // TCP pending: a UDP datagram does not join it
    auto tcp = segments_of(superframe(3000, 0x10), 1436);
    ASSERT_TRUE(gro.add(tcp[0].data(), tcp[0].size(), kUdp));
    EXPECT_FALSE(gro.udp());
    EXPECT_FALSE(gro.add(run[0].data(), run[0].size(), kUdp));
  }
  {
    UdpFlow v6 = fl;  // IPv6 with an extension header (hop-by-hop) is not merged
    v6.v6 = true;
    auto d = datagram(v6, 0, 64, 0);
    d[14 + 6] = 0;
    GroCoalescer gro;
    EXPECT_FALSE(gro.add(d.data(), d.size(), kUdp));
  }
}

// --- writing it: the kernel-without-USO fallback ---------------------------

namespace {

struct FakeTap {
  int refuse_uso = 0;          // errno for a USO packet (0: accept)
  int refuse_all = 0;          // errno for every packet
  std::vector<Bytes> packets;  // what was written: [virtio_net_hdr][frame]
  int operator()(const iovec* iov, int count, std::size_t) {
    Bytes p;
    for (int i = 0; i < count; ++i) {
      auto* b = static_cast<const std::uint8_t*>(iov[i].iov_base);
      p.insert(p.end(), b, b + iov[i].iov_len);
    }
    if (refuse_all) return refuse_all;
    if (refuse_uso && p[1] == kVirtioNetHdrGsoUdpL4) return refuse_uso;
    packets.push_back(p);
    return 0;
  }
};

}  // namespace

TEST(GroWrite, UsoSuperFrameIsOneWrite) {
  UdpFlow fl;
  auto run = udp_run(fl, 20, 64);
  GroCoalescer gro;
  TsoSegmenter splitter;
  add_all(gro, run);
  FakeTap tap;
  auto r = write_coalesced(gro, splitter, std::ref(tap));
  EXPECT_EQ(r.lost, 0u);
  ASSERT_FALSE(r.uso_refused);
  ASSERT_EQ(tap.packets.size(), 1u);
  EXPECT_EQ(tap.packets[0], expected_uso(run, fl));
}

TEST(GroWrite, KernelWithoutUsoGetsTheDatagramsOneByOne) {
  UdpFlow fl;
  auto run = udp_run(fl, 20, 64, 10);
  GroCoalescer gro;
  TsoSegmenter splitter;
  add_all(gro, run);
  FakeTap tap;
  tap.refuse_uso = EINVAL;
  auto r = write_coalesced(gro, splitter, std::ref(tap));
  EXPECT_TRUE(r.uso_refused);
  EXPECT_EQ(r.lost, 0u);
  ASSERT_EQ(tap.packets.size(), run.size());
  for (std::size_t i = 0; i < run.size(); ++i) {
    Bytes want(kVirtioNetHdrSize, 0);
    want.insert(want.end(), run[i].begin(), run[i].end());
    EXPECT_EQ(tap.packets[i], want) << i;
  }
}

TEST(GroWrite, OtherFailuresLoseTheFramesWithoutFallback) {
  UdpFlow fl;
  auto run = udp_run(fl, 5, 64);
  GroCoalescer gro;
  TsoSegmenter splitter;
  add_all(gro, run);
  FakeTap full;
  full.refuse_all = EAGAIN;  // the tap's queue is full
  auto r = write_coalesced(gro, splitter, std::ref(full));
  EXPECT_EQ(r.lost, 5u);
  EXPECT_FALSE(r.uso_refused);
  // EINVAL on a TCP super-frame is not a missing-USO kernel: lost, no fallback.
  GroCoalescer tcp;
  auto segs = segments_of(superframe(5000, 0x10), 1436);
  for (const auto& s : segs) ASSERT_TRUE(tcp.add(s.data(), s.size(), kUdp));
  FakeTap einval;
  einval.refuse_all = EINVAL;
  r = write_coalesced(tcp, splitter, std::ref(einval));
  EXPECT_EQ(r.lost, segs.size());
  EXPECT_FALSE(r.uso_refused);
  EXPECT_TRUE(einval.packets.empty());
}
