#include "service/gro_coalescer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

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
