#include "segbridge/core/aead.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <vector>

using namespace segbridge::core;

namespace {
class AeadTest : public ::testing::TestWithParam<AeadAlgorithm> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    if (GetParam() == AeadAlgorithm::aes256_gcm && !crypto_aead_aes256gcm_is_available())
      GTEST_SKIP() << "no AES-NI on this CPU";
  }
};
}  // namespace

TEST_P(AeadTest, SealOpenRoundTripOutOfPlaceAndInPlace) {
  SecretKey k = SecretKey::random();
  AeadKey tx(GetParam(), k), rx(GetParam(), k);
  EXPECT_EQ(tx.algorithm(), GetParam());
  std::vector<std::uint8_t> frame(1514);
  randombytes_buf(frame.data(), frame.size());
  std::uint8_t ad[20] = {4, 1};
  std::vector<std::uint8_t> ct(frame.size());
  std::uint8_t tag[16];
  tx.seal(42, ConstBytes(ad, 20), ConstBytes(frame.data(), frame.size()), ct.data(), tag);
  EXPECT_NE(ct, frame);
  ASSERT_TRUE(rx.open(42, ConstBytes(ad, 20), MutableBytes(ct.data(), ct.size()), tag));
  EXPECT_EQ(ct, frame);
  // in place
  auto copy = frame;
  tx.seal(43, ConstBytes(ad, 20), ConstBytes(copy.data(), copy.size()), copy.data(), tag);
  ASSERT_TRUE(rx.open(43, ConstBytes(ad, 20), MutableBytes(copy.data(), copy.size()), tag));
  EXPECT_EQ(copy, frame);
}

TEST_P(AeadTest, EveryTamperedByteCounterKeyOrAdIsRejected) {
  SecretKey k = SecretKey::random();
  AeadKey key(GetParam(), k);
  std::vector<std::uint8_t> msg(64, 0x5a);
  std::uint8_t ad[20] = {4, 1, 0, 0, 9};
  std::vector<std::uint8_t> ct(msg.size());
  std::uint8_t tag[16];
  key.seal(7, ConstBytes(ad, 20), ConstBytes(msg.data(), msg.size()), ct.data(), tag);
  for (std::size_t i = 0; i < ct.size(); ++i) {
    auto c = ct;
    c[i] ^= 0x01;
    EXPECT_FALSE(key.open(7, ConstBytes(ad, 20), MutableBytes(c.data(), c.size()), tag)) << i;
  }
  for (std::size_t i = 0; i < 16; ++i) {
    auto c = ct;
    std::uint8_t t[16];
    std::copy(tag, tag + 16, t);
    t[i] ^= 0x80;
    EXPECT_FALSE(key.open(7, ConstBytes(ad, 20), MutableBytes(c.data(), c.size()), t)) << i;
  }
  for (std::size_t i = 0; i < 20; ++i) {
    auto c = ct;
    std::uint8_t a[20];
    std::copy(ad, ad + 20, a);
    a[i] ^= 0x01;
    EXPECT_FALSE(key.open(7, ConstBytes(a, 20), MutableBytes(c.data(), c.size()), tag)) << i;
  }
  auto c = ct;
  EXPECT_FALSE(key.open(8, ConstBytes(ad, 20), MutableBytes(c.data(), c.size()), tag));
  AeadKey other(GetParam(), SecretKey::random());
  c = ct;
  EXPECT_FALSE(other.open(7, ConstBytes(ad, 20), MutableBytes(c.data(), c.size()), tag));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, AeadTest,
                         ::testing::Values(AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes256_gcm),
                         [](const auto& param_info) {
                           return param_info.param == AeadAlgorithm::aes256_gcm ? std::string("aes256gcm")
                                                                                : std::string("chacha20poly1305");
                         });

TEST(AeadNegotiation, PrefersAesWhenBothOfferItElseChaCha) {
  AeadAlgorithm a{};
  AeadSet both = aead_bit(AeadAlgorithm::chacha20_poly1305) | aead_bit(AeadAlgorithm::aes256_gcm);
  AeadSet chacha = aead_bit(AeadAlgorithm::chacha20_poly1305);
  ASSERT_TRUE(choose_aead(both, both, &a));
  EXPECT_EQ(a, AeadAlgorithm::aes256_gcm);
  ASSERT_TRUE(choose_aead(both, chacha, &a));
  EXPECT_EQ(a, AeadAlgorithm::chacha20_poly1305);
  ASSERT_TRUE(choose_aead(chacha, both, &a));
  EXPECT_EQ(a, AeadAlgorithm::chacha20_poly1305);
  EXPECT_FALSE(choose_aead(aead_bit(AeadAlgorithm::aes256_gcm), chacha, &a));
  EXPECT_TRUE(locally_available_aeads() & chacha);
}
