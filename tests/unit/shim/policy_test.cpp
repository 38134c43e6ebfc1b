// Site attribution, the topology rule and the guards.
#include "policy.hpp"

#include <gtest/gtest.h>

using namespace segbridge;
using namespace segbridge::shim;

namespace {
MacAddress m(const char* s) {
  return *MacAddress::parse(s);
}
}  // namespace

TEST(Attribution, TunnelPortsMapToSites) {
  auto a = attribute_port("sb-siteA", "sb-");
  EXPECT_TRUE(a.tunnel);
  EXPECT_EQ(a.site, "siteA");
  a = attribute_port("eth1", "sb-");
  EXPECT_FALSE(a.tunnel);
  EXPECT_EQ(a.site, "local");
  a = attribute_port("sb-", "sb-");  // bare prefix is not a site
  EXPECT_FALSE(a.tunnel);
  a = attribute_port("tun-x", "tun-");
  EXPECT_EQ(a.site, "x");
  a = attribute_port("", "sb-");
  EXPECT_EQ(a.site, "unknown");
  EXPECT_FALSE(a.tunnel);
}

TEST(Topology, AutoFollowsBridgePorts) {
  auto d = decide_topology(AnnounceLocal::automatic, "eth0", "br0", {"sb-siteA", "eth0"}, true);
  EXPECT_TRUE(d.announce_local);
  EXPECT_NE(d.why.find("is a port of br0"), std::string::npos);
  d = decide_topology(AnnounceLocal::automatic, "eth0", "br0", {"sb-siteA", "eth1"}, true);
  EXPECT_FALSE(d.announce_local);
  EXPECT_NE(d.why.find("not a port"), std::string::npos);
  d = decide_topology(AnnounceLocal::automatic, "eth0", "br0", {}, false);
  EXPECT_FALSE(d.announce_local);
  d = decide_topology(AnnounceLocal::automatic, "br0", "br0", {"eth0"}, true);
  EXPECT_FALSE(d.announce_local);
}

TEST(Topology, OverrideWins) {
  EXPECT_TRUE(decide_topology(AnnounceLocal::always, "eth0", "br0", {}, true).announce_local);
  EXPECT_FALSE(decide_topology(AnnounceLocal::never, "eth0", "br0", {"eth0"}, true).announce_local);
}

TEST(RateLimiter, BurstThenSteadyRate) {
  RateLimiter r(60);  // one per second, burst 60
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += r.allow(1000) ? 1 : 0;
  EXPECT_EQ(allowed, 60);
  EXPECT_FALSE(r.allow(1500));
  EXPECT_TRUE(r.allow(2001));  // one token after 1 s
  EXPECT_FALSE(r.allow(2002));
  // Refill is capped at the burst size.
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += r.allow(10'000'000) ? 1 : 0;
  EXPECT_EQ(allowed, 60);
  // Time going backwards never mints tokens.
  EXPECT_FALSE(r.allow(0));
}

TEST(Guards, PxeOnlyByDefault) {
  ShimConfig c;
  Guards g(c);
  DhcpRequest r;
  r.vendor_class = "udhcp 1.35.0";
  EXPECT_FALSE(g.accepts_client(r));
  r.vendor_class = "PXEClient:Arch:00000";
  EXPECT_TRUE(g.accepts_client(r));
  EXPECT_EQ(g.counters().at(counter::not_pxe), 1u);
  c.pxe_only = false;
  Guards open(c);
  r.vendor_class = "";
  EXPECT_TRUE(open.accepts_client(r));
}

TEST(Guards, AllowDenyByMacAndOuiPerSite) {
  ShimConfig c;
  c.global_filter.deny.push_back(*MacPattern::parse("de:ad:be"));
  MacFilter siteA;
  siteA.allow.push_back(*MacPattern::parse("52:54:00"));
  siteA.deny.push_back(*MacPattern::parse("52:54:00:00:00:66"));
  c.site_filters["siteA"] = siteA;
  Guards g(c);
  EXPECT_EQ(g.filter(m("de:ad:be:00:00:01"), "local").value_or(""), "denied");
  EXPECT_EQ(g.filter(m("de:ad:be:00:00:01"), "siteA").value_or(""), "denied");
  EXPECT_FALSE(g.filter(m("52:54:00:00:00:01"), "siteA"));
  EXPECT_EQ(g.filter(m("52:54:00:00:00:66"), "siteA").value_or(""), "denied");
  EXPECT_EQ(g.filter(m("00:11:22:00:00:01"), "siteA").value_or(""), "not_allowed");
  EXPECT_FALSE(g.filter(m("00:11:22:00:00:01"), "siteB"));  // siteB has no list
  EXPECT_EQ(g.counters().at(counter::denied), 3u);
  EXPECT_EQ(g.counters().at(counter::not_allowed), 1u);
}

TEST(Guards, RateLimitAndPendingCapAreCounted) {
  ShimConfig c;
  c.new_macs_per_minute = 3;
  c.max_pending = 2;
  Guards g(c);
  EXPECT_TRUE(g.admit_new_mac(0));
  EXPECT_TRUE(g.admit_new_mac(0));
  EXPECT_TRUE(g.admit_new_mac(0));
  EXPECT_FALSE(g.admit_new_mac(0));
  EXPECT_EQ(g.counters().at(counter::rate_limited), 1u);
  EXPECT_TRUE(g.pending_room(1));
  EXPECT_FALSE(g.pending_room(2));
  EXPECT_EQ(g.counters().at(counter::pending_cap), 1u);
}

TEST(MacPattern, Parsing) {
  EXPECT_TRUE(MacPattern::parse("52:54:00"));
  EXPECT_TRUE(MacPattern::parse("52-54-00-aa-bb-CC"));
  EXPECT_FALSE(MacPattern::parse("52:54"));
  EXPECT_FALSE(MacPattern::parse("52:54:00:"));
  EXPECT_FALSE(MacPattern::parse("52:54:0g"));
  EXPECT_FALSE(MacPattern::parse("52:54:00:11"));
  EXPECT_FALSE(MacPattern::parse("52:54:00:11:22:33:44"));
  EXPECT_FALSE(MacPattern::parse(""));
}
