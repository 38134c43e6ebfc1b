#include "segbridge/core/key_encoding.hpp"

#include <gtest/gtest.h>

using namespace segbridge::core;

TEST(KeyEncoding, GeneratedKeysRoundTripAndDiffer) {
  std::string a = generate_key_base64(), b = generate_key_base64();
  EXPECT_EQ(a.size(), 44u);
  EXPECT_NE(a, b);
  std::string error;
  auto k = decode_key_base64(a, &error);
  ASSERT_TRUE(k) << error;
  EXPECT_EQ(encode_key_base64(*k), a);
}

TEST(KeyEncoding, ToleratesWhitespace) {
  std::string a = generate_key_base64();
  std::string messy = "  \n" + a.substr(0, 20) + "\n  " + a.substr(20) + "\r\n\t";
  std::string error;
  auto k = decode_key_base64(messy, &error);
  ASSERT_TRUE(k) << error;
  EXPECT_EQ(encode_key_base64(*k), a);
}

TEST(KeyEncoding, RejectsWrongLengthAndGarbage) {
  std::string a = generate_key_base64();
  std::string error;
  EXPECT_FALSE(decode_key_base64("", &error));
  EXPECT_NE(error.find("empty"), std::string::npos);
  EXPECT_FALSE(decode_key_base64(a.substr(0, 40), &error));
  EXPECT_FALSE(decode_key_base64(a + "AAAA", &error));
  // 33 bytes of data encode to 44 chars without padding: must still be rejected.
  EXPECT_FALSE(decode_key_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &error));
  std::string bad = a;
  bad[5] = '*';
  EXPECT_FALSE(decode_key_base64(bad, &error));
  EXPECT_EQ(error.find(a), std::string::npos);  // never echoes key material
}
