#include "service/endpoint.hpp"

#include <gtest/gtest.h>

using segbridge::daemon::Endpoint;
using segbridge::daemon::parse_endpoint;

TEST(EndpointParse, Ipv4WithPort) {
  std::string err;
  auto e = parse_endpoint("192.0.2.1:7440", err);
  ASSERT_TRUE(e) << err;
  ASSERT_TRUE(e->literal);
  EXPECT_EQ(e->literal->family(), AF_INET);
  EXPECT_EQ(e->literal->port(), 7440);
  EXPECT_EQ(e->literal->to_string(), "192.0.2.1:7440");
}

TEST(EndpointParse, BracketedIpv6) {
  std::string err;
  auto e = parse_endpoint("[2001:db8::1]:51820", err);
  ASSERT_TRUE(e) << err;
  ASSERT_TRUE(e->literal);
  EXPECT_EQ(e->literal->family(), AF_INET6);
  EXPECT_EQ(e->literal->to_string(), "[2001:db8::1]:51820");
  auto any = parse_endpoint("[::]:7440", err);
  ASSERT_TRUE(any && any->literal);
  EXPECT_EQ(any->literal->to_string(), "[::]:7440");
}

TEST(EndpointParse, HostName) {
  std::string err;
  auto e = parse_endpoint("hub.example.org:7440", err);
  ASSERT_TRUE(e) << err;
  EXPECT_FALSE(e->literal);
  EXPECT_EQ(e->host, "hub.example.org");
  EXPECT_EQ(e->port, 7440);
}

TEST(EndpointParse, RejectsMalformed) {
  for (const char* bad :
       {"", "192.0.2.1", "192.0.2.1:", ":7440", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:74x0", "192.0.2.256:7440",
        "1.2.3:7440", "2001:db8::1:7440", "[2001:db8::1]", "[2001:db8::1]7440", "[192.0.2.1]:7440", "[::1:7440",
        "host_name:7440", "-host:7440", "host-.example:7440", "a..b:7440", "192.0.2.1:123456"}) {
    std::string err;
    EXPECT_FALSE(parse_endpoint(bad, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(Endpoint, MappedAddressesCompareAsIpv4) {
  auto v4 = Endpoint::from_literal("192.0.2.7", 9);
  auto mapped = Endpoint::from_literal("::ffff:192.0.2.7", 9);
  ASSERT_TRUE(v4 && mapped);
  EXPECT_NE(*v4, *mapped);
  EXPECT_EQ(*v4, mapped->unmapped());
  EXPECT_EQ(mapped->unmapped().to_string(), "192.0.2.7:9");
  auto back = v4->for_socket(AF_INET6);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *mapped);
  auto v6 = Endpoint::from_literal("2001:db8::1", 9);
  EXPECT_FALSE(v6->for_socket(AF_INET));
}

TEST(Endpoint, FromSockaddrRejectsOtherFamilies) {
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  EXPECT_FALSE(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof ss));
  ss.ss_family = AF_INET;
  EXPECT_FALSE(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), 4));
}
