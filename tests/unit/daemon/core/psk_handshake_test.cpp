#include "segbridge/core/psk_handshake.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <vector>

using namespace segbridge::core;

namespace {
const TimePoint t0 = TimePoint(std::chrono::seconds(5000));
const Endpoint kFrom = *Endpoint::parse("192.0.2.2:40000");
constexpr PeerId kPeer = 7;

struct Pair {
  std::uint64_t wall_i = 1'000'000, wall_r = 5'000'000;
  SecretKey psk = SecretKey::random();
  PskHandshaker initiator{"sitea", locally_available_aeads(), [this] { return wall_i; }};
  PskHandshaker responder{"hub", locally_available_aeads(), [this] { return wall_r; }};
  Pair() {
    EXPECT_EQ(initiator.add_peer(kPeer, {"hub", psk, std::nullopt}), "");
    EXPECT_EQ(responder.add_peer(kPeer, {"sitea", psk, std::nullopt}), "");
  }
  std::vector<std::uint8_t> initiation(std::uint32_t index = 111, TimePoint t = t0) {
    std::vector<std::uint8_t> m(kPskInitiationSize);
    auto r = initiator.create_initiation(kPeer, index, t, MutableBytes(m.data(), m.size()));
    EXPECT_EQ(r.drop, DropReason::none);
    EXPECT_EQ(r.reply_size, kPskInitiationSize);
    return m;
  }
  HandshakeResult respond(const std::vector<std::uint8_t>& init, std::vector<std::uint8_t>* resp,
                          std::uint32_t index = 222, TimePoint t = t0) {
    resp->assign(kPskResponseSize, 0);
    return responder.consume_initiation(ConstBytes(init.data(), init.size()), kFrom, t, index, false,
                                        MutableBytes(resp->data(), resp->size()));
  }
};
}  // namespace

TEST(PskHandshake, HappyPathGivesMirroredSessionKeys) {
  ASSERT_GE(sodium_init(), 0);
  Pair p;
  auto init = p.initiation();
  std::vector<std::uint8_t> resp;
  auto r = p.respond(init, &resp);
  ASSERT_EQ(r.drop, DropReason::none);
  ASSERT_TRUE(r.session);
  EXPECT_EQ(r.peer, kPeer);
  EXPECT_EQ(r.reply_size, kPskResponseSize);
  EXPECT_EQ(r.session->local_index, 222u);
  EXPECT_EQ(r.session->remote_index, 111u);
  EXPECT_FALSE(r.session->initiator);
  auto i = p.initiator.consume_response(kPeer, ConstBytes(resp.data(), resp.size()), kFrom, t0);
  ASSERT_EQ(i.drop, DropReason::none);
  ASSERT_TRUE(i.session);
  EXPECT_TRUE(i.session->initiator);
  EXPECT_EQ(i.session->local_index, 111u);
  EXPECT_EQ(i.session->remote_index, 222u);
  EXPECT_EQ(i.session->send_key, r.session->receive_key);
  EXPECT_EQ(i.session->receive_key, r.session->send_key);
  EXPECT_NE(i.session->send_key, i.session->receive_key);  // one key per direction
  EXPECT_EQ(i.session->aead, r.session->aead);
  // A replayed response finds no pending initiation.
  auto again = p.initiator.consume_response(kPeer, ConstBytes(resp.data(), resp.size()), kFrom, t0);
  EXPECT_EQ(again.drop, DropReason::handshake_unexpected);
}

TEST(PskHandshake, EveryHandshakeDerivesFreshKeys) {
  Pair p;
  std::vector<std::uint8_t> r1, r2;
  auto a = p.respond(p.initiation(1), &r1);
  p.wall_i += 1;
  auto b = p.respond(p.initiation(1), &r2, 222, t0 + std::chrono::seconds(1));
  ASSERT_TRUE(a.session && b.session);
  EXPECT_NE(a.session->send_key, b.session->send_key);
  EXPECT_NE(a.session->receive_key, b.session->receive_key);
}

TEST(PskHandshake, WrongPskIsDroppedWithoutReply) {
  Pair p;
  PskHandshaker stranger("sitea", locally_available_aeads(), [] { return 99'000'000ull; });
  ASSERT_EQ(stranger.add_peer(kPeer, {"hub", SecretKey::random(), std::nullopt}), "");
  std::vector<std::uint8_t> init(kPskInitiationSize), resp;
  stranger.create_initiation(kPeer, 5, t0, MutableBytes(init.data(), init.size()));
  auto r = p.respond(init, &resp);
  EXPECT_EQ(r.drop, DropReason::unauthenticated);
  EXPECT_EQ(r.reply_size, 0u);
  EXPECT_FALSE(r.session);
  EXPECT_EQ(resp, std::vector<std::uint8_t>(kPskResponseSize, 0));  // nothing written
}

TEST(PskHandshake, TamperingAnyInitiationByteIsRejected) {
  Pair p;
  auto init = p.initiation();
  for (std::size_t i = 0; i < init.size(); ++i) {
    auto t = init;
    t[i] ^= 0x04;
    std::vector<std::uint8_t> resp;
    auto r = p.respond(t, &resp);
    EXPECT_NE(r.drop, DropReason::none) << "byte " << i;
    EXPECT_EQ(r.reply_size, 0u);
  }
  std::vector<std::uint8_t> resp;
  EXPECT_EQ(p.respond(init, &resp).drop, DropReason::none);  // the original still works
}

TEST(PskHandshake, TamperingAnyResponseByteIsRejected) {
  Pair p;
  auto init = p.initiation();
  std::vector<std::uint8_t> resp;
  ASSERT_EQ(p.respond(init, &resp).drop, DropReason::none);
  for (std::size_t i = 0; i < resp.size(); ++i) {
    auto t = resp;
    t[i] ^= 0x10;
    auto r = p.initiator.consume_response(kPeer, ConstBytes(t.data(), t.size()), kFrom, t0);
    EXPECT_NE(r.drop, DropReason::none) << "byte " << i;
    EXPECT_FALSE(r.session);
  }
  EXPECT_EQ(p.initiator.consume_response(kPeer, ConstBytes(resp.data(), resp.size()), kFrom, t0).drop,
            DropReason::none);
}

TEST(PskHandshake, ReplayedAndFloodedInitiationsAreRejected) {
  Pair p;
  auto init = p.initiation();
  std::vector<std::uint8_t> resp;
  ASSERT_EQ(p.respond(init, &resp).drop, DropReason::none);
  EXPECT_EQ(p.respond(init, &resp, 223, t0 + std::chrono::seconds(5)).drop, DropReason::handshake_replay);
  // A newer one too soon after the last accepted one is a flood.
  p.wall_i += 10;
  auto soon = p.initiation(112);
  EXPECT_EQ(p.respond(soon, &resp, 224, t0 + std::chrono::milliseconds(5)).drop, DropReason::handshake_flood);
  EXPECT_EQ(p.respond(soon, &resp, 224, t0 + std::chrono::milliseconds(50)).drop, DropReason::none);
}

TEST(PskHandshake, TimestampsStayMonotonicWhenTheClockStepsBack) {
  Pair p;
  auto a = p.initiation(1);
  p.wall_i -= 500;  // clock stepped back
  auto b = p.initiation(2);
  EXPECT_GT(load_le64(b.data() + psk_layout::kInitTimestamp), load_le64(a.data() + psk_layout::kInitTimestamp));
}

TEST(PskHandshake, UnknownNameAndBadNamesAreRejected) {
  Pair p;
  PskHandshaker other("siteb", locally_available_aeads(), [] { return 1ull; });
  ASSERT_EQ(other.add_peer(kPeer, {"hub", p.psk, std::nullopt}), "");
  std::vector<std::uint8_t> init(kPskInitiationSize), resp;
  other.create_initiation(kPeer, 5, t0, MutableBytes(init.data(), init.size()));
  EXPECT_EQ(p.respond(init, &resp).drop, DropReason::handshake_unknown_peer);
  EXPECT_NE(p.responder.add_peer(9, {"Bad Name", p.psk, std::nullopt}), "");
  EXPECT_NE(p.responder.add_peer(9, {"sitea", p.psk, std::nullopt}), "");         // duplicate name
  EXPECT_NE(p.responder.add_peer(9, {"siteb", std::nullopt, std::nullopt}), "");  // no PSK
  EXPECT_NE(p.responder.add_peer(9, {"a-very-long-name", p.psk, std::nullopt}), "");
}

TEST(PskHandshake, AeadChoiceIsBoundAndLimitedToTheOffer) {
  std::uint64_t w = 1;
  SecretKey psk = SecretKey::random();
  PskHandshaker chacha_only("sitea", aead_bit(AeadAlgorithm::chacha20_poly1305), [&] { return w; });
  PskHandshaker any("hub", locally_available_aeads(), [&] { return w; });
  ASSERT_EQ(chacha_only.add_peer(1, {"hub", psk, std::nullopt}), "");
  ASSERT_EQ(any.add_peer(1, {"sitea", psk, std::nullopt}), "");
  std::vector<std::uint8_t> init(kPskInitiationSize), resp(kPskResponseSize);
  chacha_only.create_initiation(1, 10, t0, MutableBytes(init.data(), init.size()));
  auto r = any.consume_initiation(ConstBytes(init.data(), init.size()), kFrom, t0, 20, false,
                                  MutableBytes(resp.data(), resp.size()));
  ASSERT_TRUE(r.session);
  EXPECT_EQ(r.session->aead, AeadAlgorithm::chacha20_poly1305);
  // An attacker rewriting the offer (to force or forbid a suite) breaks the MAC.
  auto t = init;
  t[psk_layout::kInitAeadOffer] = aead_bit(AeadAlgorithm::aes256_gcm);
  w = 2;
  auto bad = any.consume_initiation(ConstBytes(t.data(), t.size()), kFrom, t0 + std::chrono::seconds(1), 21, false,
                                    MutableBytes(resp.data(), resp.size()));
  EXPECT_EQ(bad.drop, DropReason::unauthenticated);
}
