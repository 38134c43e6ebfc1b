#include "segbridge/core/endpoint.hpp"

#include <gtest/gtest.h>

using segbridge::core::Endpoint;

TEST(Endpoint, ParsesAndFormatsIpv4) {
  auto e = Endpoint::parse("192.0.2.1:7440");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->is_v4());
  EXPECT_EQ(e->port(), 7440);
  EXPECT_EQ(e->to_string(), "192.0.2.1:7440");
  EXPECT_EQ(e->ip_udp_overhead(), 28u);
}

TEST(Endpoint, ParsesAndFormatsIpv6WithScope) {
  auto e = Endpoint::parse("[2001:db8::1]:7440");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->is_v6());
  EXPECT_EQ(e->to_string(), "[2001:db8::1]:7440");
  EXPECT_EQ(e->ip_udp_overhead(), 48u);
  auto s = Endpoint::parse("[fe80::1%3]:1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->scope_id(), 3u);
  EXPECT_EQ(s->to_string(), "[fe80::1%3]:1");
}

TEST(Endpoint, RejectsGarbage) {
  for (const char* bad : {"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2:1", "[::1]",
                          "[::1]:", "[::1:1", "::1:80", "host:80", "[fe80::1%x]:1", "1.2.3.4:8x", " 1.2.3.4:8"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
  EXPECT_TRUE(Endpoint::parse("::1", false));
  EXPECT_TRUE(Endpoint::parse("10.1.0.1", false));
}

TEST(Endpoint, UnmapsV4MappedAndCompares) {
  auto m = Endpoint::parse("[::ffff:192.0.2.7]:99");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_v6());
  EXPECT_EQ(m->unmapped(), *Endpoint::parse("192.0.2.7:99"));
  EXPECT_NE(*Endpoint::parse("192.0.2.7:99"), *Endpoint::parse("192.0.2.7:98"));
  EXPECT_EQ(std::hash<Endpoint>{}(*Endpoint::parse("192.0.2.7:99")), std::hash<Endpoint>{}(m->unmapped()));
  EXPECT_TRUE(Endpoint().empty());
}
