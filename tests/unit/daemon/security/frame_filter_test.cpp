// Per-peer frame filters on real frame layouts: untagged, 802.1Q and QinQ
// tagged, IPv4 (with options, fragments) and IPv6 (with extension headers).
#include "segbridge/core/frame_filter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace segbridge::core {
namespace {

using Bytes = std::vector<std::uint8_t>;

const MacAddress kSrc = *MacAddress::parse("52:54:00:12:34:56");
const MacAddress kBroadcast = *MacAddress::parse("ff:ff:ff:ff:ff:ff");

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

Bytes ethernet(std::uint16_t type, const std::vector<std::uint16_t>& vlan_tpids = {}, MacAddress src = kSrc) {
  Bytes f(kBroadcast.bytes().begin(), kBroadcast.bytes().end());
  f.insert(f.end(), src.bytes().begin(), src.bytes().end());
  std::uint16_t vid = 10;
  for (auto tpid : vlan_tpids) {
    put16(f, tpid);
    put16(f, vid++);
  }
  put16(f, type);
  return f;
}

Bytes udp_payload(std::uint16_t sport, std::uint16_t dport) {
  Bytes u;
  put16(u, sport);
  put16(u, dport);
  put16(u, 8 + 4);
  put16(u, 0);
  u.insert(u.end(), {1, 2, 3, 4});
  return u;
}

// IPv4 + UDP; `options` adds 4-byte option words (IHL > 5).
Bytes ipv4_udp(std::uint16_t sport, std::uint16_t dport, int options = 0, std::uint16_t frag = 0,
               std::uint8_t proto = 17) {
  Bytes ip = {static_cast<std::uint8_t>(0x40 | (5 + options)), 0};
  const Bytes udp = udp_payload(sport, dport);
  put16(ip, static_cast<std::uint16_t>(20 + 4 * options + udp.size()));
  put16(ip, 1);
  put16(ip, frag);
  ip.insert(ip.end(), {64, proto, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255});
  for (int i = 0; i < options * 4; ++i) ip.push_back(1);  // NOP options
  ip.insert(ip.end(), udp.begin(), udp.end());
  return ip;
}

Bytes ipv6_udp(std::uint16_t sport, std::uint16_t dport, bool hop_by_hop = false) {
  Bytes ip = {0x60, 0, 0, 0};
  const Bytes udp = udp_payload(sport, dport);
  put16(ip, static_cast<std::uint16_t>(udp.size() + (hop_by_hop ? 8 : 0)));
  ip.push_back(hop_by_hop ? 0 : 17);
  ip.push_back(255);
  for (int i = 0; i < 32; ++i) ip.push_back(static_cast<std::uint8_t>(i));
  if (hop_by_hop) ip.insert(ip.end(), {17, 0, 1, 4, 0, 0, 0, 0});  // next=UDP, len 8, PadN
  ip.insert(ip.end(), udp.begin(), udp.end());
  return ip;
}

Bytes frame(Bytes eth, const Bytes& payload) {
  eth.insert(eth.end(), payload.begin(), payload.end());
  return eth;
}

std::optional<FilterRule> eval(const Bytes& f, const FrameFilterConfig& c = {}) {
  return evaluate_frame(c, f.data(), f.size());
}

TEST(FrameFilter, DhcpServerRepliesAreDroppedUntaggedAndTagged) {
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68))), FilterRule::dhcp_server);
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100}), ipv4_udp(67, 68))), FilterRule::dhcp_server);
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x88a8, 0x8100}), ipv4_udp(67, 68))), FilterRule::dhcp_server);
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 67))), FilterRule::dhcp_server);     // to a relay
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68, 3))), FilterRule::dhcp_server);  // IP options
  EXPECT_EQ(eval(frame(ethernet(0x86dd), ipv6_udp(547, 546))), FilterRule::dhcp_server);
  EXPECT_EQ(eval(frame(ethernet(0x86dd, {0x8100}), ipv6_udp(547, 546, true))), FilterRule::dhcp_server);
}

TEST(FrameFilter, DhcpClientTrafficPasses) {
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(68, 67))), std::nullopt);  // DISCOVER / REQUEST
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100}), ipv4_udp(68, 67))), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x86dd), ipv6_udp(546, 547))), std::nullopt);
  // TCP from port 67 is not DHCP.
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68, 0, 0, 6))), std::nullopt);
}

TEST(FrameFilter, PeerAllowedToServeDhcp) {
  FrameFilterConfig c;
  c.allow_dhcp_server = true;
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68)), c), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100}), ipv4_udp(67, 68)), c), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x86dd), ipv6_udp(547, 546)), c), std::nullopt);
}

TEST(FrameFilter, SyslogIsDroppedUnlessDisabled) {
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(40000, 514))), FilterRule::syslog);
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100}), ipv4_udp(514, 514))), FilterRule::syslog);
  EXPECT_EQ(eval(frame(ethernet(0x86dd), ipv6_udp(40000, 514))), FilterRule::syslog);
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(514, 40000))), std::nullopt);  // from 514 is not to syslog
  FrameFilterConfig c;
  c.drop_syslog = false;
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(40000, 514)), c), std::nullopt);
}

TEST(FrameFilter, FragmentsOnlyTheFirstCarriesPorts) {
  // First fragment (MF set, offset 0) of a DHCP reply: dropped.
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68, 0, 0x2000))), FilterRule::dhcp_server);
  // A later fragment has no UDP header: the bytes where ports would be are data.
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68, 0, 0x0010))), std::nullopt);
}

TEST(FrameFilter, TruncatedHeadersAreDroppedAsMalformed) {
  EXPECT_EQ(eval(Bytes(13, 0)), FilterRule::malformed);
  Bytes dhcp = frame(ethernet(0x0800), ipv4_udp(67, 68));
  for (std::size_t cut = 14; cut < 14 + 20 + 4; ++cut) {
    EXPECT_EQ(eval(Bytes(dhcp.begin(), dhcp.begin() + static_cast<long>(cut))), FilterRule::malformed) << cut;
  }
  Bytes bad_ihl = dhcp;
  bad_ihl[14] = 0x44;  // IHL 4 < 5
  EXPECT_EQ(eval(bad_ihl), FilterRule::malformed);
  Bytes v6_in_v4 = dhcp;
  v6_in_v4[14] = 0x65;
  EXPECT_EQ(eval(v6_in_v4), FilterRule::malformed);
  Bytes tag_cut = ethernet(0x0800, {0x8100});
  tag_cut.resize(16);
  EXPECT_EQ(eval(tag_cut), FilterRule::malformed);
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100, 0x8100, 0x8100}), ipv4_udp(67, 68))), FilterRule::malformed);
  Bytes v6 = frame(ethernet(0x86dd), ipv6_udp(547, 546, true));
  EXPECT_EQ(eval(Bytes(v6.begin(), v6.begin() + 14 + 44)), FilterRule::malformed);
}

TEST(FrameFilter, NonIpFramesPassByDefault) {
  EXPECT_EQ(eval(frame(ethernet(0x0806), Bytes(28, 0))), std::nullopt);     // ARP
  EXPECT_EQ(eval(frame(ethernet(0x88b5), Bytes(46, 7))), std::nullopt);     // local experimental
  EXPECT_EQ(eval(frame(ethernet(0x0026), Bytes(38, 0x42))), std::nullopt);  // 802.3 + LLC (STP)
}

TEST(FrameFilter, SourceMacAndOuiAllowLists) {
  FrameFilterConfig c;
  c.allowed_source_macs = {*MacAddress::parse("02:00:00:00:00:01")};
  c.allowed_ouis = {0x525400};
  const Bytes arp = Bytes(28, 0);
  EXPECT_EQ(eval(frame(ethernet(0x0806, {}, kSrc), arp), c), std::nullopt);  // OUI 52:54:00
  EXPECT_EQ(eval(frame(ethernet(0x0806, {}, *MacAddress::parse("02:00:00:00:00:01")), arp), c), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x0806, {}, *MacAddress::parse("02:00:00:00:00:02")), arp), c), FilterRule::source_mac);
  EXPECT_EQ(eval(frame(ethernet(0x0806, {}, *MacAddress::parse("00:25:90:aa:bb:cc")), arp), c), FilterRule::source_mac);
}

TEST(FrameFilter, EthertypeAllowList) {
  FrameFilterConfig c;
  c.allowed_ethertypes = {0x0800, 0x0806};
  EXPECT_EQ(eval(frame(ethernet(0x0806), Bytes(28, 0)), c), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(68, 67)), c), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x86dd), ipv6_udp(546, 547)), c), FilterRule::ethertype);
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100}), ipv4_udp(68, 67)), c), FilterRule::ethertype);  // tag not listed
  EXPECT_EQ(eval(frame(ethernet(0x0026), Bytes(38, 0x42)), c), FilterRule::ethertype);
  c.allowed_ethertypes.push_back(0x8100);
  c.allowed_ethertypes.push_back(0);  // 802.3 length-field frames
  EXPECT_EQ(eval(frame(ethernet(0x0800, {0x8100}), ipv4_udp(68, 67)), c), std::nullopt);
  EXPECT_EQ(eval(frame(ethernet(0x86dd, {0x8100}), ipv6_udp(546, 547)), c), FilterRule::ethertype);
  EXPECT_EQ(eval(frame(ethernet(0x0026), Bytes(38, 0x42)), c), std::nullopt);
  // Allowed types are still subject to the DHCP rule.
  EXPECT_EQ(eval(frame(ethernet(0x0800), ipv4_udp(67, 68)), c), FilterRule::dhcp_server);
}

TEST(FrameFilter, CountsEveryVerdictPerRule) {
  FrameFilter filter;
  const Bytes dhcp = frame(ethernet(0x0800, {0x8100}), ipv4_udp(67, 68));
  const Bytes syslog = frame(ethernet(0x0800), ipv4_udp(1000, 514));
  const Bytes ok = frame(ethernet(0x0800), ipv4_udp(68, 67));
  EXPECT_FALSE(filter.allow(dhcp.data(), dhcp.size()));
  EXPECT_FALSE(filter.allow(dhcp.data(), dhcp.size()));
  EXPECT_FALSE(filter.allow(syslog.data(), syslog.size()));
  EXPECT_TRUE(filter.allow(ok.data(), ok.size()));
  EXPECT_FALSE(filter.allow(ok.data(), 10));
  const FilterCounters c = filter.counters();
  EXPECT_EQ(c.passed, 1u);
  EXPECT_EQ(c.dropped_by(FilterRule::dhcp_server), 2u);
  EXPECT_EQ(c.dropped_by(FilterRule::syslog), 1u);
  EXPECT_EQ(c.dropped_by(FilterRule::malformed), 1u);
  EXPECT_EQ(c.dropped_by(FilterRule::source_mac), 0u);
  EXPECT_EQ(filter_rule_name(FilterRule::dhcp_server), "filter_dhcp_server");
  EXPECT_EQ(filter_rule_name(FilterRule::syslog), "filter_syslog");
}

TEST(FrameFilter, UpdatedRulesApplyToTheNextFrameAndKeepTheCounters) {
  FrameFilter filter;
  const Bytes dhcp = frame(ethernet(0x0800), ipv4_udp(67, 68));
  EXPECT_FALSE(filter.allow(dhcp.data(), dhcp.size()));
  FrameFilterConfig allowed;
  allowed.allow_dhcp_server = true;
  filter.update(allowed);
  EXPECT_TRUE(filter.config().allow_dhcp_server);
  EXPECT_TRUE(filter.allow(dhcp.data(), dhcp.size()));
  filter.update(FrameFilterConfig{});
  EXPECT_FALSE(filter.allow(dhcp.data(), dhcp.size()));
  const FilterCounters c = filter.counters();
  EXPECT_EQ(c.dropped_by(FilterRule::dhcp_server), 2u);
  EXPECT_EQ(c.passed, 1u);
}

}  // namespace
}  // namespace segbridge::core
