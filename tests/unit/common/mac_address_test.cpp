#include "segbridge/mac_address.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

using segbridge::MacAddress;

TEST(MacAddress, ParsesColonDashAndDotFormsInEitherCase) {
  auto a = MacAddress::parse("52:54:00:AB:cd:0f");
  auto b = MacAddress::parse("52-54-00-ab-CD-0F");
  auto c = MacAddress::parse("5254.00ab.cd0f");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(a->to_string(), "52:54:00:ab:cd:0f");
}

TEST(MacAddress, RejectsMalformedText) {
  for (const char* bad :
       {"", "52:54:00:ab:cd", "52:54:00:ab:cd:0f:11", "52:54:00:ab:cd:0g", "52:54-00:ab:cd:0f", "525400abcd0f",
        "52:54:00:ab:cd:0", " 52:54:00:ab:cd:0f", "5254.00ab-cd0f", "52::54:00:ab:cd:0f"}) {
    EXPECT_FALSE(MacAddress::parse(bad)) << "accepted '" << bad << "'";
  }
}

TEST(MacAddress, ClassifiesAddresses) {
  EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_FALSE(MacAddress::parse("00:25:90:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddress::parse("00:00:00:00:00:00")->is_zero());
  EXPECT_TRUE(MacAddress::parse("52:54:00:00:00:01")->is_locally_administered());
  EXPECT_EQ(MacAddress::parse("00:25:90:12:34:56")->oui(), 0x002590u);
}

TEST(MacAddress, FormatsLikeDhcpdAndHashesByValue) {
  const std::uint8_t raw[6] = {0x00, 0x0a, 0xf7, 0x01, 0x02, 0xff};
  auto m = MacAddress::from_bytes(raw);
  EXPECT_EQ(m.to_string(), "00:0a:f7:01:02:ff");
  std::unordered_set<MacAddress> set{m, *MacAddress::parse("00:0A:F7:01:02:FF")};
  EXPECT_EQ(set.size(), 1u);
}
