#include "service/tx_coalescer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

using namespace segbridge::daemon;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Independent RFC 1071 sum (byte loop), so the code is not checked against itself.
std::uint32_t naive_sum(const Bytes& d, std::size_t from, std::size_t to, std::uint32_t sum = 0) {
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
std::uint16_t get16(const Bytes& d, std::size_t at) {
  return static_cast<std::uint16_t>((d[at] << 8) | d[at + 1]);
}
std::uint32_t get32(const Bytes& d, std::size_t at) {
  return (std::uint32_t(d[at]) << 24) | (std::uint32_t(d[at + 1]) << 16) | (std::uint32_t(d[at + 2]) << 8) | d[at + 3];
}
void put16(Bytes& d, std::size_t at, std::uint16_t v) {
  d[at] = static_cast<std::uint8_t>(v >> 8);
  d[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(Bytes& d, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) d[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// The byte at offset `i` of the TCP stream.
std::uint8_t stream_byte(std::size_t i) {
  return static_cast<std::uint8_t>((i * 7919u) >> 3);
}

constexpr std::uint32_t kSeq0 = 0xFFFFF000u;  // wraps during the test streams

struct Seg {
  bool v6 = false;
  int vlan = -1;               // VLAN id, -1: untagged
  std::size_t offset = 0;      // stream offset of the first payload byte
  std::size_t payload = 1448;  // an MTU-sized segment with timestamps
  std::uint8_t flags = 0x10;   // ACK
  std::uint32_t tsval = 1000;
  std::uint16_t sport = 5001;
  std::uint16_t frag = 0x4000;  // IPv4 DF
  std::uint8_t src_mac_last = 0x01;
};

struct Layout {
  std::size_t l3, l4, headers;
};

Layout layout(const Bytes& f) {
  std::size_t l3 = (get16(f, 12) == 0x8100) ? 18 : 14;
  bool v6 = get16(f, l3 - 2) == 0x86DD;
  std::size_t l4 = l3 + (v6 ? 40 : 20);
  return {l3, l4, l4 + std::size_t(f[l4 + 12] >> 4) * 4};
}

// Fills in IP/TCP checksums the way a host without offloads would.
void finish_checksums(Bytes& f) {
  auto L = layout(f);
  bool v6 = L.l4 - L.l3 == 40;
  if (!v6) {
    put16(f, L.l3 + 10, 0);
    put16(f, L.l3 + 10, static_cast<std::uint16_t>(~fold(naive_sum(f, L.l3, L.l4))));
  }
  put16(f, L.l4 + 16, 0);
  std::uint32_t pseudo = v6 ? naive_sum(f, L.l3 + 8, L.l3 + 40) : naive_sum(f, L.l3 + 12, L.l3 + 20);
  pseudo += 6 + static_cast<std::uint32_t>(f.size() - L.l4);
  put16(f, L.l4 + 16, static_cast<std::uint16_t>(~fold(naive_sum(f, L.l4, f.size(), pseudo))));
}

Bytes make(const Seg& s) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, s.src_mac_last};
  if (s.vlan >= 0)
    f.insert(f.end(), {0x81, 0x00, static_cast<std::uint8_t>(s.vlan >> 8), static_cast<std::uint8_t>(s.vlan)});
  const std::size_t l3 = f.size() + 2;
  if (!s.v6) {
    f.insert(f.end(), {0x08, 0x00, 0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 6, 0, 0, 10, 1, 2, 1, 10, 1, 1, 1});
    put16(f, l3 + 6, s.frag);
  } else {
    f.insert(f.end(), {0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, 6, 64});
    for (int i = 0; i < 32; ++i) f.push_back(static_cast<std::uint8_t>(0x20 + i));
  }
  const std::size_t l4 = f.size();
  // TCP with NOP NOP TIMESTAMP (12 bytes of options).
  f.insert(f.end(), {0, 0, 0x14, 0x51, 0, 0, 0, 0,  0x55, 0x66, 0x77, 0x88, 0x80, s.flags, 0x01, 0xf5,
                     0, 0, 0,    0,    1, 1, 8, 10, 0,    0,    0,    0,    0,    0,       0,    9});
  put16(f, l4, s.sport);
  put32(f, l4 + 4, kSeq0 + static_cast<std::uint32_t>(s.offset));
  put32(f, l4 + 24, s.tsval);
  for (std::size_t i = 0; i < s.payload; ++i) f.push_back(stream_byte(s.offset + i));
  if (!s.v6) {
    put16(f, l3 + 2, static_cast<std::uint16_t>(f.size() - l3));
  } else {
    put16(f, l3 + 4, static_cast<std::uint16_t>(f.size() - l4));
  }
  finish_checksums(f);
  return f;
}

std::vector<Seg> run_of(std::size_t n, bool v6 = false, int vlan = -1) {
  std::vector<Seg> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i].v6 = v6;
    v[i].vlan = vlan;
    v[i].offset = i * 1448;
  }
  return v;
}

// 1500-byte IPv4 path: what one datagram carries (roughly; any value works).
constexpr std::size_t kMaxFrame = 1420;

std::vector<Bytes> push_all(TxCoalescer& tx, const std::vector<Bytes>& in, std::size_t max_frame = kMaxFrame) {
  std::vector<Bytes> out;
  auto emit = [&](const std::uint8_t* d, std::size_t n) { out.emplace_back(d, d + n); };
  for (const auto& f : in) tx.push(f.data(), f.size(), max_frame, emit);
  tx.flush(max_frame, emit);
  return out;
}

std::vector<Bytes> frames(const std::vector<Seg>& segs) {
  std::vector<Bytes> v;
  for (const auto& s : segs) v.push_back(make(s));
  return v;
}

// Every frame fits, has valid checksums (checked independently), and the
// frames carry exactly stream bytes [0, total) in order.
void expect_valid_stream(const std::vector<Bytes>& out, std::size_t total, std::size_t max_frame = kMaxFrame) {
  std::size_t offset = 0;
  for (const auto& f : out) {
    ASSERT_LE(f.size(), max_frame);
    auto L = layout(f);
    bool v6 = L.l4 - L.l3 == 40;
    if (!v6) {
      EXPECT_EQ(fold(naive_sum(f, L.l3, L.l4)), 0xFFFF);
      EXPECT_EQ(get16(f, L.l3 + 2), f.size() - L.l3);
    } else {
      EXPECT_EQ(get16(f, L.l3 + 4), f.size() - L.l4);
    }
    std::uint32_t pseudo = v6 ? naive_sum(f, L.l3 + 8, L.l3 + 40) : naive_sum(f, L.l3 + 12, L.l3 + 20);
    pseudo += 6 + static_cast<std::uint32_t>(f.size() - L.l4);
    EXPECT_EQ(fold(naive_sum(f, L.l4, f.size(), pseudo)), 0xFFFF) << "TCP checksum";
    EXPECT_EQ(get32(f, L.l4 + 4), kSeq0 + static_cast<std::uint32_t>(offset));
    for (std::size_t i = L.headers; i < f.size(); ++i, ++offset) {
      ASSERT_EQ(f[i], stream_byte(offset)) << "stream offset " << offset;
    }
  }
  EXPECT_EQ(offset, total);
}

}  // namespace

TEST(TxCoalescer, MergesMtuSizedSegmentsAndRecutsThemToFitOneDatagram) {
  for (bool v6 : {false, true}) {
    for (int vlan : {-1, 42}) {
      SCOPED_TRACE(std::string(v6 ? "IPv6" : "IPv4") + (vlan >= 0 ? " VLAN" : ""));
      auto segs = run_of(40, v6, vlan);
      segs.back().flags = 0x18;  // PSH on the last one
      auto in = frames(segs);
      ASSERT_GT(in[0].size(), kMaxFrame);  // alone, each would need two fragments
      TxCoalescer tx;
      auto out = push_all(tx, in);
      EXPECT_EQ(tx.merged_segments(), 40u);
      EXPECT_EQ(tx.cut_failed(), 0u);
      expect_valid_stream(out, 40 * 1448);
      // 40 × 1448 bytes in segments of (kMaxFrame - headers): 43 or 44 frames instead of 80 fragments.
      const std::size_t mss = kMaxFrame - layout(in[0]).headers;
      EXPECT_EQ(out.size(), (40 * 1448 + mss - 1) / mss);
      for (std::size_t i = 0; i < out.size(); ++i) {
        auto L = layout(out[i]);
        EXPECT_EQ(out[i][L.l4 + 13], i + 1 == out.size() ? 0x18 : 0x10) << i;
        EXPECT_EQ(get32(out[i], L.l4 + 24), 1000u);  // options carried over
        EXPECT_EQ(Bytes(out[i].begin(), out[i].begin() + 12), Bytes(in[0].begin(), in[0].begin() + 12));
      }
    }
  }
}

TEST(TxCoalescer, BoundsASuperFrameAndKeepsEveryByte) {
  auto in = frames(run_of(100));  // 144800 bytes: more than one super-frame
  TxCoalescer tx;
  auto out = push_all(tx, in);
  EXPECT_EQ(tx.merged_segments(), 100u);
  expect_valid_stream(out, 100 * 1448);
}

TEST(TxCoalescer, SingleFrameAndNonTcpPassUnchanged) {
  Bytes arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  auto seg = make(Seg{});
  TxCoalescer tx;
  auto out = push_all(tx, {arp, seg, arp});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], arp);
  EXPECT_EQ(out[1], seg);  // nothing to merge with: left to the fragmenter as before
  EXPECT_EQ(out[2], arp);
  EXPECT_EQ(tx.merged_segments(), 0u);
}

TEST(TxCoalescer, KeepsFrameOrderAroundOtherTraffic) {
  auto segs = frames(run_of(4));
  Bytes arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  TxCoalescer tx;
  auto out = push_all(tx, {segs[0], segs[1], arp, segs[2], segs[3]});
  // [cut of 0+1] ARP [cut of 2+3]
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[3], arp);
  out.erase(out.begin() + 3);
  expect_valid_stream(out, 4 * 1448);
  EXPECT_EQ(tx.merged_segments(), 4u);
}

TEST(TxCoalescer, RefusesWhatMustNotMerge) {
  // Each case: a good first segment, then one that must not join it. Both
  // must come out byte-for-byte as they went in.
  auto base = run_of(3);
  struct Case {
    const char* name;
    std::function<void(std::vector<Seg>&)> tweak;
    std::function<void(Bytes&)> corrupt;
  };
  std::vector<Case> cases = {
      {"gap", [](std::vector<Seg>& s) { s.erase(s.begin() + 1); }, nullptr},
      {"reordered", [](std::vector<Seg>& s) { std::swap(s[0], s[1]); }, nullptr},
      {"other flow", [](std::vector<Seg>& s) { s[1].sport = 5002; }, nullptr},
      {"other MAC", [](std::vector<Seg>& s) { s[1].src_mac_last = 0x09; }, nullptr},
      {"SYN", [](std::vector<Seg>& s) { s[1].flags = 0x12; }, nullptr},
      {"FIN", [](std::vector<Seg>& s) { s[1].flags = 0x11; }, nullptr},
      {"RST", [](std::vector<Seg>& s) { s[1].flags = 0x14; }, nullptr},
      {"URG", [](std::vector<Seg>& s) { s[1].flags = 0x30; }, nullptr},
      {"ECE", [](std::vector<Seg>& s) { s[1].flags = 0x50; }, nullptr},
      {"timestamp differs", [](std::vector<Seg>& s) { s[1].tsval = 1001; }, nullptr},
      {"IPv4 more-fragments", [](std::vector<Seg>& s) { s[1].frag = 0x2000; }, nullptr},
      {"IPv4 fragment offset", [](std::vector<Seg>& s) { s[1].frag = 0x0010; }, nullptr},
      {"VLAN differs", [](std::vector<Seg>& s) { s[0].vlan = s[2].vlan = 7, s[1].vlan = 8; }, nullptr},
      {"tagged vs untagged", [](std::vector<Seg>& s) { s[1].vlan = 7; }, nullptr},
      {"IPv6 vs IPv4", [](std::vector<Seg>& s) { s[1].v6 = true; }, nullptr},
      {"bad TCP checksum", nullptr, [](Bytes& f) { f[f.size() - 5] ^= 0x40; }},
      {"bad IPv4 header checksum", nullptr, [](Bytes& f) { f[24] ^= 0x01; }},
      {"bad IPv4 total length", nullptr,
       [](Bytes& f) {
         put16(f, 16, static_cast<std::uint16_t>(get16(f, 16) - 1));
         f.push_back(0);
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto segs = base;
    if (c.tweak) c.tweak(segs);
    auto in = frames(segs);
    if (c.corrupt) c.corrupt(in[1]);
    TxCoalescer tx;
    // Only the first two go in: the third (in most cases contiguous with the
    // second) would legitimately merge with it.
    auto out = push_all(tx, {in[0], in[1]});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], in[0]);
    EXPECT_EQ(out[1], in[1]);
    EXPECT_EQ(tx.merged_segments(), 0u);
  }
}

TEST(TxCoalescer, BadChecksumNeverStartsARun) {
  auto in = frames(run_of(2));
  in[0][100] ^= 0x01;  // the first one is damaged: never merged, and the good one is left alone
  TxCoalescer tx;
  auto out = push_all(tx, in);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], in[0]);
  EXPECT_EQ(out[1], in[1]);
}

TEST(TxCoalescer, TinyDatagramsDisableMerging) {
  auto in = frames(run_of(3));
  TxCoalescer tx;
  auto out = push_all(tx, in, TxCoalescer::kMinMaxFrame - 1);
  EXPECT_EQ(out, in);
  EXPECT_EQ(tx.merged_segments(), 0u);
}
