// HMAC-SHA256 / HKDF against RFC 5869 (test cases 1-3, the SHA-256 ones) and
// the Noise HKDF against RFC HKDF with salt = chaining key and empty info.
#include "segbridge/crypto/hkdf.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "crypto_test_support.hpp"

namespace segbridge::crypto {
namespace {

using test::from_hex;
using test::to_hex;

std::vector<std::uint8_t> range(int from, int to) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), static_cast<std::uint8_t>(from));
  return v;
}

struct Rfc5869Case {
  std::vector<std::uint8_t> ikm, salt, info;
  std::size_t length;
  const char* prk;
  const char* okm;
};

class Rfc5869 : public ::testing::TestWithParam<int> {};

Rfc5869Case rfc_case(int n) {
  switch (n) {
    case 1:
      return {std::vector<std::uint8_t>(22, 0x0b),
              range(0x00, 0x0d),
              range(0xf0, 0xfa),
              42,
              "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
              "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"};
    case 2:
      return {range(0x00, 0x50),
              range(0x60, 0xb0),
              range(0xb0, 0x100),
              82,
              "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
              "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da32756"
              "00c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"};
    default:
      return {std::vector<std::uint8_t>(22, 0x0b),
              {},
              {},
              42,
              "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
              "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"};
  }
}

TEST_P(Rfc5869, ExtractAndExpandMatchTheRfc) {
  const Rfc5869Case c = rfc_case(GetParam());
  std::uint8_t prk[kHashSize];
  hkdf_extract(c.salt.data(), c.salt.size(), c.ikm.data(), c.ikm.size(), prk);
  EXPECT_EQ(to_hex(prk, sizeof prk), c.prk);
  std::vector<std::uint8_t> okm(c.length);
  ASSERT_TRUE(hkdf_expand(prk, c.info.data(), c.info.size(), okm.data(), okm.size()));
  EXPECT_EQ(to_hex(okm), c.okm);
}

INSTANTIATE_TEST_SUITE_P(TestCases, Rfc5869, ::testing::Values(1, 2, 3));

TEST(Hkdf, ExpandRefusesMoreThan255Blocks) {
  std::uint8_t prk[kHashSize] = {};
  std::vector<std::uint8_t> out(255 * kHashSize + 1);
  EXPECT_FALSE(hkdf_expand(prk, nullptr, 0, out.data(), out.size()));
  EXPECT_TRUE(hkdf_expand(prk, nullptr, 0, out.data(), out.size() - 1));
}

TEST(Hkdf, NoiseHkdfIsRfcHkdfWithChainingKeySaltAndNoInfo) {
  WipedKey ck;
  for (std::size_t i = 0; i < ck.size(); ++i) ck[i] = static_cast<std::uint8_t>(i * 7 + 1);
  const auto ikm = from_hex("6d7920696e707574206b6579206d6174657269616c");
  std::uint8_t prk[kHashSize];
  hkdf_extract(ck.data(), ck.size(), ikm.data(), ikm.size(), prk);
  std::uint8_t expected[3 * kHashSize];
  ASSERT_TRUE(hkdf_expand(prk, nullptr, 0, expected, sizeof expected));

  WipedKey o1, o2, o3;
  noise_hkdf(ck, ikm.data(), ikm.size(), o1, o2, &o3);
  EXPECT_EQ(to_hex(o1), to_hex(expected, 32));
  EXPECT_EQ(to_hex(o2), to_hex(expected + 32, 32));
  EXPECT_EQ(to_hex(o3), to_hex(expected + 64, 32));

  // Two outputs are the first two of three, and the output may alias the chaining key.
  WipedKey p2;
  noise_hkdf(ck, ikm.data(), ikm.size(), ck, p2);
  EXPECT_EQ(to_hex(ck), to_hex(o1));
  EXPECT_EQ(to_hex(p2), to_hex(o2));
}

TEST(Hmac, LongKeysAreHashedFirst) {
  // RFC 4231 test case 6: a 131-byte key.
  const std::vector<std::uint8_t> key(131, 0xaa);
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  std::uint8_t mac[kHashSize];
  hmac_sha256(key.data(), key.size(), reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), mac);
  EXPECT_EQ(to_hex(mac, sizeof mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

}  // namespace
}  // namespace segbridge::crypto
