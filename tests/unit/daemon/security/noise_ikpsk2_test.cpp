// The generic IKpsk2 implementation against the published Noise test vector
// for Noise_IKpsk2_25519_ChaChaPoly_SHA256 (cacophony's vectors/cacophony.txt,
// the vector set shared by the Noise implementations). If this passes, our
// HKDF, MixKey/MixHash, token order, PSK handling and Split() are the Noise
// specification's.
#include "segbridge/crypto/noise_ikpsk2.hpp"

#include <gtest/gtest.h>

#include "crypto_test_support.hpp"

namespace segbridge::crypto {
namespace {

using test::from_hex;
using test::to_hex;

struct Vector {
  const char* prologue = "4a6f686e2047616c74";
  const char* psk = "54686973206973206d7920417573747269616e20706572737065637469766521";
  const char* init_static = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
  const char* init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
  const char* resp_static = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
  const char* resp_public = "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
  const char* resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
  const char* handshake_hash = "8310f86394dc0dabb40beb8210031556db4403ab1202db7034c526232147a700";
  struct Msg {
    const char* payload;
    const char* ciphertext;
  };
  Msg messages[6] = {
      {"4c756477696720766f6e204d69736573",
       "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79442ec9b09893d0f510791784c10cbc959f25b1766e0def6e3"
       "0"
       "1d14fbca1c7790ac829b8b3674f5f649a5f0e98479662cbfbf2b2c47cd4b09fcd266cd29d7cb675f1808849707847840f6d178ec4d3733"
       "aa"},
      {"4d757272617920526f746862617264",
       "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088439a1b3cebf680b2c74217fcb5eba4ff58a9468cd90c4aca6"
       "1"
       "94f57479b379a7"},
      {"462e20412e20486179656b", "a8fde7a0accec190cd306c5950d4fd8e04a205ec288aa747d8b347"},
      {"4361726c204d656e676572", "59caddd9984a3bbe24c4fb31a2bd455b7eba3fa0980674b1a3a5f9"},
      {"4a65616e2d426170746973746520536179", "3b9bfebd210c22ba0cff9de79b4007d7a552fffbf92616881faa8a883e25b80258"},
      {"457567656e2042f6686d20766f6e2042617765726b",
       "f37512df1043d564d7c46ac85c53d3b6a9a05724bc297e7142808f217561651217fe85b782"},
  };
};

TEST(NoiseIkPsk2, MatchesTheCacophonyTestVector) {
  const Vector v;
  const auto prologue = from_hex(v.prologue);
  const auto psk = from_hex(v.psk);
  const auto is = from_hex(v.init_static), ie = from_hex(v.init_ephemeral);
  const auto rs = from_hex(v.resp_static), re = from_hex(v.resp_ephemeral);
  ASSERT_EQ(to_hex(x25519_public_key(rs.data())), v.resp_public);

  IkPsk2Initiator init(kNoiseProtocolName, prologue.data(), prologue.size(), is.data(),
                       test::public_from_hex(v.resp_public), psk.data(), ie.data());
  IkPsk2Responder resp(kNoiseProtocolName, prologue.data(), prologue.size(), rs.data());

  // -> e, es, s, ss
  const auto p1 = from_hex(v.messages[0].payload);
  std::vector<std::uint8_t> m1(kIkMessage1Overhead + p1.size());
  ASSERT_TRUE(init.write_message1(p1.data(), p1.size(), m1.data()));
  EXPECT_EQ(to_hex(m1), v.messages[0].ciphertext);
  std::vector<std::uint8_t> got1(p1.size());
  ASSERT_TRUE(resp.read_message1(m1.data(), m1.size(), got1.data()));
  EXPECT_EQ(got1, p1);
  EXPECT_EQ(to_hex(resp.remote_static()), to_hex(x25519_public_key(is.data())));

  // <- e, ee, se, psk
  const auto p2 = from_hex(v.messages[1].payload);
  std::vector<std::uint8_t> m2(kIkMessage2Overhead + p2.size());
  ASSERT_TRUE(resp.write_message2(psk.data(), re.data(), p2.data(), p2.size(), m2.data()));
  EXPECT_EQ(to_hex(m2), v.messages[1].ciphertext);
  std::vector<std::uint8_t> got2(p2.size());
  ASSERT_TRUE(init.read_message2(m2.data(), m2.size(), got2.data()));
  EXPECT_EQ(got2, p2);

  TransportKeys ik = init.split();
  TransportKeys rk = resp.split();
  EXPECT_EQ(to_hex(ik.handshake_hash), v.handshake_hash);
  EXPECT_EQ(to_hex(rk.handshake_hash), v.handshake_hash);
  EXPECT_TRUE(ik.send.equals(rk.receive));
  EXPECT_TRUE(ik.receive.equals(rk.send));

  // Transport messages alternate initiator -> responder -> initiator ...,
  // each direction counting nonces from zero, empty associated data.
  std::uint64_t nonce[2] = {0, 0};
  for (int i = 2; i < 6; ++i) {
    const bool from_initiator = i % 2 == 0;
    const auto payload = from_hex(v.messages[i].payload);
    std::vector<std::uint8_t> ct(payload.size() + kAeadTagSize);
    noise_aead_encrypt(from_initiator ? ik.send : rk.send, nonce[i % 2]++, nullptr, 0, payload.data(), payload.size(),
                       ct.data());
    EXPECT_EQ(to_hex(ct), v.messages[i].ciphertext) << "transport message " << i;
  }
}

TEST(NoiseIkPsk2, WrongPskFailsAtTheInitiator) {
  const Vector v;
  const auto prologue = from_hex(v.prologue);
  auto psk = from_hex(v.psk);
  const auto is = from_hex(v.init_static), ie = from_hex(v.init_ephemeral);
  const auto rs = from_hex(v.resp_static), re = from_hex(v.resp_ephemeral);
  IkPsk2Initiator init(kNoiseProtocolName, prologue.data(), prologue.size(), is.data(),
                       test::public_from_hex(v.resp_public), psk.data(), ie.data());
  IkPsk2Responder resp(kNoiseProtocolName, prologue.data(), prologue.size(), rs.data());
  std::uint8_t m1[kIkMessage1Overhead], m2[kIkMessage2Overhead], none[1];
  ASSERT_TRUE(init.write_message1(nullptr, 0, m1));
  ASSERT_TRUE(resp.read_message1(m1, sizeof m1, none));
  psk[0] ^= 1;
  ASSERT_TRUE(resp.write_message2(psk.data(), re.data(), nullptr, 0, m2));
  EXPECT_FALSE(init.read_message2(m2, sizeof m2, none));
}

TEST(NoiseIkPsk2, DifferentProloguesNeverAgree) {
  const Vector v;
  const auto psk = from_hex(v.psk);
  const auto is = from_hex(v.init_static), ie = from_hex(v.init_ephemeral), rs = from_hex(v.resp_static);
  const std::uint8_t a[] = {1}, b[] = {2};
  IkPsk2Initiator init(kNoiseProtocolName, a, 1, is.data(), test::public_from_hex(v.resp_public), psk.data(),
                       ie.data());
  IkPsk2Responder resp(kNoiseProtocolName, b, 1, rs.data());
  std::uint8_t m1[kIkMessage1Overhead], none[1];
  ASSERT_TRUE(init.write_message1(nullptr, 0, m1));
  EXPECT_FALSE(resp.read_message1(m1, sizeof m1, none));
}

TEST(X25519, AllZeroOutputIsRefused) {
  // The identity point (0) and a point of order 8 give an all-zero shared secret.
  const auto priv = from_hex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
  WipedKey shared;
  PublicKey zero{};
  EXPECT_FALSE(x25519(priv.data(), zero, shared));
  EXPECT_TRUE(shared.is_zero());
  const PublicKey order8 = test::public_from_hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
  EXPECT_FALSE(x25519(priv.data(), order8, shared));
  EXPECT_TRUE(x25519(priv.data(), x25519_public_key(priv.data()), shared));
}

}  // namespace
}  // namespace segbridge::crypto
