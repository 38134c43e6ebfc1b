// The Noise IK handshake engine as a state machine: two (or three) engines
// exchange real messages; every test asserts what each side ends up with.
#include "segbridge/crypto/noise_handshake.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "crypto_test_support.hpp"
#include "segbridge/crypto/cookie.hpp"

namespace segbridge::crypto {
namespace {

using namespace std::chrono_literals;
using Kind = HandshakeOutcome::Kind;
using Bytes = std::vector<std::uint8_t>;

constexpr PeerId kHubId = 1;    // how the spoke names the hub
constexpr PeerId kSpokeId = 7;  // how the hub names the spoke

SecretKey key_from_seed(std::uint8_t seed) {
  test::DeterministicRandom r(static_cast<std::uint8_t>(100 + seed));
  SecretKey k;
  r.fill(k.data(), k.size());
  return k;
}

PublicKey pub_of(const SecretKey& k) {
  return x25519_public_key(k.data());
}

// Keys must pair up: what one side seals with its send key, the other opens
// with its receive key, and the other way round.
void expect_paired(const NoiseSession& a, const NoiseSession& b) {
  EXPECT_TRUE(a.send_key.equals(b.receive_key));
  EXPECT_TRUE(a.receive_key.equals(b.send_key));
  EXPECT_FALSE(a.send_key.equals(a.receive_key));
  EXPECT_EQ(a.local_index, b.remote_index);
  EXPECT_EQ(a.remote_index, b.local_index);
  EXPECT_TRUE(a.handshake_hash.equals(b.handshake_hash));
  EXPECT_NE(a.initiator, b.initiator);
  const std::uint8_t msg[] = "frame";
  std::uint8_t sealed[sizeof msg + kAeadTagSize], opened[sizeof msg];
  noise_aead_encrypt(a.send_key, 0, nullptr, 0, msg, sizeof msg, sealed);
  EXPECT_TRUE(noise_aead_decrypt(b.receive_key, 0, nullptr, 0, sealed, sizeof sealed, opened));
}

class Handshake : public ::testing::Test {
 protected:
  Handshake()
      : hub_key_(key_from_seed(1)),
        spoke_key_(key_from_seed(2)),
        hub_(key_from_seed(1), {}, hub_random_),
        spoke_(key_from_seed(2), {}, spoke_random_) {
    hub_.add_peer(kSpokeId, pub_of(spoke_key_));
    spoke_.add_peer(kHubId, pub_of(hub_key_));
  }

  Bytes initiate(NoiseHandshake& from, PeerId to) {
    Bytes m(kInitiationSize);
    EXPECT_TRUE(from.create_initiation(to, now_, wall_, m.data()).has_value());
    return m;
  }
  HandshakeOutcome feed(NoiseHandshake& to, const Bytes& m, const SourceAddress& src) {
    return to.consume(m.data(), m.size(), src, now_);
  }
  static Bytes reply_of(const HandshakeOutcome& o) { return Bytes(o.reply.begin(), o.reply.begin() + o.reply_len); }
  void advance(std::chrono::milliseconds d) {
    now_ += d;
    wall_ += d;
  }
  // Recomputes mac1 (and clears mac2) as an attacker who knows the receiver's
  // public key can, so the tamper tests reach the AEAD rather than stop at mac1.
  static void restamp(Bytes& m, const PublicKey& receiver) {
    CookieGenerator g(receiver);
    g.add_macs(m.data(), m.size(), Instant{});
  }

  SecretKey hub_key_, spoke_key_;
  test::DeterministicRandom hub_random_{1}, spoke_random_{2}, third_random_{3};
  NoiseHandshake hub_, spoke_;
  SourceAddress spoke_addr_ = SourceAddress::v4(192, 0, 2, 2, 40000);
  SourceAddress hub_addr_ = SourceAddress::v4(192, 0, 2, 1, 7440);
  Instant now_ = Instant{} + 1000s;
  WallTime wall_ = WallTime{} + std::chrono::hours(24 * 365 * 56);
};

TEST_F(Handshake, HappyPathProducesPairedSessions) {
  const Bytes init = initiate(spoke_, kHubId);
  ASSERT_EQ(init.size(), 148u);
  EXPECT_EQ(init[0], 1);
  EXPECT_EQ(init[1], kWireVersion);

  HandshakeOutcome r = feed(hub_, init, spoke_addr_);
  ASSERT_EQ(r.kind, Kind::initiation_accepted);
  EXPECT_EQ(r.peer, kSpokeId);
  ASSERT_EQ(r.reply_len, 92u);
  ASSERT_TRUE(r.session);
  EXPECT_FALSE(r.session->initiator);

  HandshakeOutcome i = feed(spoke_, reply_of(r), hub_addr_);
  ASSERT_EQ(i.kind, Kind::response_accepted);
  EXPECT_EQ(i.peer, kHubId);
  ASSERT_TRUE(i.session);
  EXPECT_TRUE(i.session->initiator);
  expect_paired(*i.session, *r.session);
  EXPECT_EQ(hub_.counters().initiations_accepted, 1u);
  EXPECT_EQ(spoke_.counters().responses_accepted, 1u);

  // A second handshake gives entirely new keys (fresh ephemerals).
  advance(5s);
  HandshakeOutcome r2 = feed(hub_, initiate(spoke_, kHubId), spoke_addr_);
  ASSERT_EQ(r2.kind, Kind::initiation_accepted);
  HandshakeOutcome i2 = feed(spoke_, reply_of(r2), hub_addr_);
  ASSERT_EQ(i2.kind, Kind::response_accepted);
  expect_paired(*i2.session, *r2.session);
  EXPECT_FALSE(i2.session->send_key.equals(i.session->send_key));
  EXPECT_NE(i2.session->local_index, i.session->local_index);
}

TEST_F(Handshake, InitiatorWithWrongHubKeyIsDroppedAtMac1WithoutReply) {
  NoiseHandshake stranger(key_from_seed(2), {}, third_random_);
  stranger.add_peer(kHubId, pub_of(key_from_seed(9)));  // not the hub's key
  const Bytes init = initiate(stranger, kHubId);
  HandshakeOutcome r = feed(hub_, init, spoke_addr_);
  EXPECT_EQ(r.kind, Kind::dropped);
  EXPECT_EQ(r.drop, HandshakeDrop::bad_mac1);
  EXPECT_EQ(r.reply_len, 0u);
  EXPECT_FALSE(r.session);
  EXPECT_EQ(hub_.counters().dropped(HandshakeDrop::bad_mac1), 1u);
}

TEST_F(Handshake, UnknownPeerIsDroppedAfterAuthenticationWithoutReply) {
  NoiseHandshake third(key_from_seed(3), {}, third_random_);
  third.add_peer(kHubId, pub_of(hub_key_));
  HandshakeOutcome r = feed(hub_, initiate(third, kHubId), spoke_addr_);
  EXPECT_EQ(r.kind, Kind::dropped);
  EXPECT_EQ(r.drop, HandshakeDrop::unknown_peer);
  EXPECT_EQ(r.reply_len, 0u);
  EXPECT_EQ(hub_.counters().dropped(HandshakeDrop::unknown_peer), 1u);
  EXPECT_EQ(hub_.counters().initiations_accepted, 0u);
}

TEST_F(Handshake, HubConfiguredWithWrongSpokeKeyRejectsTheSpoke) {
  NoiseHandshake hub(key_from_seed(1), {}, third_random_);
  hub.add_peer(kSpokeId, pub_of(key_from_seed(5)));
  HandshakeOutcome r = feed(hub, initiate(spoke_, kHubId), spoke_addr_);
  EXPECT_EQ(r.drop, HandshakeDrop::unknown_peer);
  EXPECT_FALSE(r.session);
}

TEST_F(Handshake, MismatchedPskFailsTheResponseAtTheInitiator) {
  NoiseHandshake hub(key_from_seed(1), {}, third_random_);
  SecretKey psk;
  psk.data()[0] = 42;
  hub.add_peer(kSpokeId, pub_of(spoke_key_), std::move(psk));  // the spoke has no PSK
  HandshakeOutcome r = feed(hub, initiate(spoke_, kHubId), spoke_addr_);
  ASSERT_EQ(r.kind, Kind::initiation_accepted);
  HandshakeOutcome i = feed(spoke_, reply_of(r), hub_addr_);
  EXPECT_EQ(i.drop, HandshakeDrop::decrypt_failed);
  EXPECT_FALSE(i.session);
}

TEST_F(Handshake, MatchingPsksComplete) {
  NoiseHandshake hub(key_from_seed(1), {}, third_random_);
  NoiseHandshake spoke(key_from_seed(2), {}, spoke_random_);
  SecretKey a, b;
  a.data()[5] = b.data()[5] = 9;
  hub.add_peer(kSpokeId, pub_of(spoke_key_), std::move(a));
  spoke.add_peer(kHubId, pub_of(hub_key_), std::move(b));
  HandshakeOutcome r = feed(hub, initiate(spoke, kHubId), spoke_addr_);
  ASSERT_EQ(r.kind, Kind::initiation_accepted);
  HandshakeOutcome i = feed(spoke, reply_of(r), hub_addr_);
  ASSERT_EQ(i.kind, Kind::response_accepted);
  expect_paired(*i.session, *r.session);
}

TEST_F(Handshake, DifferentAeadSuitesCannotHandshake) {
  NoiseHandshakeConfig gcm;
  gcm.aead = AeadSuite::aes256_gcm;
  NoiseHandshake hub(key_from_seed(1), gcm, third_random_);
  hub.add_peer(kSpokeId, pub_of(spoke_key_));
  HandshakeOutcome r = feed(hub, initiate(spoke_, kHubId), spoke_addr_);
  EXPECT_EQ(r.drop, HandshakeDrop::decrypt_failed);
}

TEST_F(Handshake, ReplayedInitiationIsRejectedByTimestamp) {
  const Bytes init = initiate(spoke_, kHubId);
  ASSERT_EQ(feed(hub_, init, spoke_addr_).kind, Kind::initiation_accepted);
  advance(1s);  // well past the flood limit: only the timestamp can stop it
  HandshakeOutcome replay = feed(hub_, init, SourceAddress::v4(192, 0, 2, 66, 1234));
  EXPECT_EQ(replay.kind, Kind::dropped);
  EXPECT_EQ(replay.drop, HandshakeDrop::replayed_timestamp);
  EXPECT_EQ(replay.reply_len, 0u);
  // A genuinely new initiation is still accepted.
  EXPECT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).kind, Kind::initiation_accepted);
  EXPECT_EQ(hub_.counters().dropped(HandshakeDrop::replayed_timestamp), 1u);
}

TEST_F(Handshake, OlderInitiationArrivingLateIsRejected) {
  const Bytes first = initiate(spoke_, kHubId);
  advance(100ms);
  const Bytes second = initiate(spoke_, kHubId);
  ASSERT_EQ(feed(hub_, second, spoke_addr_).kind, Kind::initiation_accepted);
  advance(100ms);
  EXPECT_EQ(feed(hub_, first, spoke_addr_).drop, HandshakeDrop::replayed_timestamp);
}

TEST_F(Handshake, InitiationsFasterThan50PerSecondAreDroppedAsFlood) {
  ASSERT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).kind, Kind::initiation_accepted);
  advance(5ms);
  EXPECT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).drop, HandshakeDrop::flood);
  advance(20ms);
  EXPECT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).kind, Kind::initiation_accepted);
}

TEST_F(Handshake, InitiatorTimestampsIncreaseEvenIfTheClockStepsBack) {
  ASSERT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).kind, Kind::initiation_accepted);
  now_ += 1s;
  wall_ -= std::chrono::hours(1);  // NTP stepped the clock back
  EXPECT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).kind, Kind::initiation_accepted);
}

TEST_F(Handshake, OutOfOrderAndDuplicateResponsesAreDropped) {
  const Bytes init1 = initiate(spoke_, kHubId);
  HandshakeOutcome r1 = feed(hub_, init1, spoke_addr_);
  ASSERT_EQ(r1.kind, Kind::initiation_accepted);
  advance(1s);  // the spoke retransmits: init1 is abandoned
  const Bytes init2 = initiate(spoke_, kHubId);
  HandshakeOutcome r2 = feed(hub_, init2, spoke_addr_);
  ASSERT_EQ(r2.kind, Kind::initiation_accepted);

  // The late response to the abandoned initiation arrives first.
  EXPECT_EQ(feed(spoke_, reply_of(r1), hub_addr_).drop, HandshakeDrop::unknown_index);
  HandshakeOutcome ok = feed(spoke_, reply_of(r2), hub_addr_);
  ASSERT_EQ(ok.kind, Kind::response_accepted);
  expect_paired(*ok.session, *r2.session);
  // A duplicate of the response that completed the handshake.
  EXPECT_EQ(feed(spoke_, reply_of(r2), hub_addr_).drop, HandshakeDrop::unknown_index);
  EXPECT_EQ(spoke_.counters().dropped(HandshakeDrop::unknown_index), 2u);
}

TEST_F(Handshake, ForgedResponseDoesNotDisturbTheRealHandshake) {
  const Bytes init = initiate(spoke_, kHubId);
  HandshakeOutcome r = feed(hub_, init, spoke_addr_);
  ASSERT_EQ(r.kind, Kind::initiation_accepted);
  Bytes forged = reply_of(r);
  forged[response::ephemeral + 3] ^= 0x40;
  restamp(forged, pub_of(spoke_key_));
  EXPECT_EQ(feed(spoke_, forged, hub_addr_).drop, HandshakeDrop::decrypt_failed);
  EXPECT_EQ(feed(spoke_, reply_of(r), hub_addr_).kind, Kind::response_accepted);
}

TEST_F(Handshake, SimultaneousInitiationCompletesBothHandshakes) {
  const Bytes from_spoke = initiate(spoke_, kHubId);
  const Bytes from_hub = initiate(hub_, kSpokeId);
  HandshakeOutcome hub_resp = feed(hub_, from_spoke, spoke_addr_);
  HandshakeOutcome spoke_resp = feed(spoke_, from_hub, hub_addr_);
  ASSERT_EQ(hub_resp.kind, Kind::initiation_accepted);
  ASSERT_EQ(spoke_resp.kind, Kind::initiation_accepted);
  HandshakeOutcome spoke_done = feed(spoke_, reply_of(hub_resp), hub_addr_);
  HandshakeOutcome hub_done = feed(hub_, reply_of(spoke_resp), spoke_addr_);
  ASSERT_EQ(spoke_done.kind, Kind::response_accepted);
  ASSERT_EQ(hub_done.kind, Kind::response_accepted);
  // Two independent sessions, each paired across the two sides.
  expect_paired(*spoke_done.session, *hub_resp.session);
  expect_paired(*hub_done.session, *spoke_resp.session);
  EXPECT_FALSE(spoke_done.session->send_key.equals(hub_done.session->receive_key));
}

TEST_F(Handshake, MalformedPacketsAreDroppedAndCounted) {
  Bytes init = initiate(spoke_, kHubId);
  Bytes shorter(init.begin(), init.end() - 1), longer = init;
  longer.push_back(0);
  EXPECT_EQ(feed(hub_, shorter, spoke_addr_).drop, HandshakeDrop::malformed);
  EXPECT_EQ(feed(hub_, longer, spoke_addr_).drop, HandshakeDrop::malformed);
  Bytes other_version = init;
  other_version[1] = 2;
  EXPECT_EQ(feed(hub_, other_version, spoke_addr_).drop, HandshakeDrop::malformed);
  Bytes reserved = init;
  reserved[3] = 1;
  EXPECT_EQ(feed(hub_, reserved, spoke_addr_).drop, HandshakeDrop::malformed);
  Bytes type4 = init;
  type4[0] = 4;
  EXPECT_EQ(feed(hub_, type4, spoke_addr_).drop, HandshakeDrop::malformed);
  EXPECT_EQ(hub_.consume(nullptr, 0, spoke_addr_, now_).drop, HandshakeDrop::malformed);
  EXPECT_EQ(hub_.counters().dropped(HandshakeDrop::malformed), 6u);
  EXPECT_EQ(feed(hub_, init, spoke_addr_).kind, Kind::initiation_accepted);
}

// Flip one bit in every byte of an initiation: nothing tampered is accepted
// as-is (mac1 covers the first 116 bytes).
TEST_F(Handshake, EveryTamperedInitiationByteIsRejectedAtMac1) {
  const Bytes init = initiate(spoke_, kHubId);
  for (std::size_t i = 0; i < initiation::mac2; ++i) {
    NoiseHandshake hub(key_from_seed(1), {}, third_random_);
    hub.add_peer(kSpokeId, pub_of(spoke_key_));
    Bytes t = init;
    t[i] ^= 0x01;
    HandshakeOutcome r = feed(hub, t, spoke_addr_);
    EXPECT_EQ(r.kind, Kind::dropped) << "byte " << i;
    EXPECT_EQ(r.drop, i < 4 ? HandshakeDrop::malformed : HandshakeDrop::bad_mac1) << "byte " << i;
  }
}

// With mac1 recomputed (anyone can, it is keyed by a public key), tampering
// with any byte of the Noise message fails the AEAD. The sender index is not
// authenticated (as in WireGuard): changing it only misdirects the response,
// which the real initiator then drops. mac2 is only checked under load.
TEST_F(Handshake, EveryTamperedInitiationByteFailsAuthenticationOrGoesNowhere) {
  const Bytes init = initiate(spoke_, kHubId);
  for (std::size_t i = 0; i < kInitiationSize; ++i) {
    if (i >= initiation::mac1 && i < initiation::mac2) continue;  // restamped anyway
    NoiseHandshake hub(key_from_seed(1), {}, third_random_);
    hub.add_peer(kSpokeId, pub_of(spoke_key_));
    Bytes t = init;
    t[i] ^= 0x80;
    if (i < initiation::mac2) restamp(t, pub_of(hub_key_));
    HandshakeOutcome r = feed(hub, t, spoke_addr_);
    if (i < 4) {
      EXPECT_EQ(r.drop, HandshakeDrop::malformed) << "byte " << i;
    } else if (i < initiation::ephemeral) {
      ASSERT_EQ(r.kind, Kind::initiation_accepted) << "byte " << i;
      NoiseHandshake spoke(key_from_seed(2), {}, spoke_random_);  // has no such initiation in flight
      spoke.add_peer(kHubId, pub_of(hub_key_));
      EXPECT_EQ(feed(spoke, reply_of(r), hub_addr_).kind, Kind::dropped);
    } else if (i < initiation::mac1) {
      EXPECT_EQ(r.kind, Kind::dropped) << "byte " << i;
      EXPECT_EQ(r.drop, HandshakeDrop::decrypt_failed) << "byte " << i;
    } else {
      EXPECT_EQ(r.kind, Kind::initiation_accepted) << "mac2 byte " << i << " is ignored when not under load";
    }
  }
}

TEST_F(Handshake, EveryTamperedResponseByteIsRejected) {
  const Bytes init = initiate(spoke_, kHubId);
  HandshakeOutcome r = feed(hub_, init, spoke_addr_);
  ASSERT_EQ(r.kind, Kind::initiation_accepted);
  Bytes resp = reply_of(r);
  for (std::size_t i = 0; i < response::mac2; ++i) {
    for (bool restamped : {false, true}) {
      if (restamped && i >= response::mac1) continue;
      Bytes t = resp;
      t[i] ^= 0x04;
      if (restamped) restamp(t, pub_of(spoke_key_));
      HandshakeOutcome o = feed(spoke_, t, hub_addr_);
      if (i < 4) {
        EXPECT_EQ(o.drop, HandshakeDrop::malformed) << "byte " << i;
      } else if (!restamped) {
        EXPECT_EQ(o.drop, HandshakeDrop::bad_mac1) << "byte " << i;
      } else if (i < response::receiver) {
        // Sender index: unauthenticated; only the index we would send to changes.
        ASSERT_EQ(o.kind, Kind::response_accepted) << "byte " << i;
        EXPECT_NE(o.session->remote_index, r.session->local_index);
        // Start over so the next position has a handshake in flight.
        advance(1s);
        r = feed(hub_, initiate(spoke_, kHubId), spoke_addr_);
        ASSERT_EQ(r.kind, Kind::initiation_accepted);
        resp = reply_of(r);
      } else if (i < response::ephemeral) {
        EXPECT_EQ(o.drop, HandshakeDrop::unknown_index) << "byte " << i;
      } else {
        EXPECT_EQ(o.drop, HandshakeDrop::decrypt_failed) << "byte " << i;
      }
    }
  }
  // After all that, the genuine response still completes the handshake.
  EXPECT_EQ(feed(spoke_, resp, hub_addr_).kind, Kind::response_accepted);
}

TEST_F(Handshake, UnderLoadAnInitiationWithoutMac2GetsOnlyASmallerCookieReply) {
  hub_.load().force(true);
  const Bytes init = initiate(spoke_, kHubId);
  HandshakeOutcome r = feed(hub_, init, spoke_addr_);
  ASSERT_EQ(r.kind, Kind::send_cookie_reply);
  EXPECT_EQ(r.drop, HandshakeDrop::cookie_required);
  ASSERT_EQ(r.reply_len, kCookieReplySize);
  EXPECT_LT(r.reply_len, init.size());  // no amplification
  EXPECT_FALSE(r.session);
  EXPECT_EQ(r.reply[0], 3);
  EXPECT_EQ(read_le32(r.reply.data() + cookie_reply::receiver), read_le32(init.data() + initiation::sender));

  // The spoke takes the cookie; its next initiation carries mac2 and is served.
  HandshakeOutcome c = feed(spoke_, reply_of(r), hub_addr_);
  ASSERT_EQ(c.kind, Kind::cookie_accepted);
  EXPECT_EQ(c.peer, kHubId);
  advance(50ms);
  HandshakeOutcome ok = feed(hub_, initiate(spoke_, kHubId), spoke_addr_);
  ASSERT_EQ(ok.kind, Kind::initiation_accepted);
  EXPECT_EQ(feed(spoke_, reply_of(ok), hub_addr_).kind, Kind::response_accepted);
  EXPECT_EQ(hub_.counters().cookie_replies_sent, 1u);
  EXPECT_EQ(spoke_.counters().cookie_replies_accepted, 1u);
}

TEST_F(Handshake, CookieIsBoundToTheSourceAddressAndExpires) {
  hub_.load().force(true);
  HandshakeOutcome r = feed(hub_, initiate(spoke_, kHubId), spoke_addr_);
  ASSERT_EQ(feed(spoke_, reply_of(r), hub_addr_).kind, Kind::cookie_accepted);
  advance(50ms);
  // Same cookie from another port (spoofers do not get to reuse it).
  HandshakeOutcome other = feed(hub_, initiate(spoke_, kHubId), SourceAddress::v4(192, 0, 2, 2, 40001));
  EXPECT_EQ(other.kind, Kind::send_cookie_reply);
  // After the hub rotated its secret (120 s), the old cookie is worthless.
  NoiseHandshake spoke(key_from_seed(2), {}, third_random_);
  spoke.add_peer(kHubId, pub_of(hub_key_));
  HandshakeOutcome r2 = feed(hub_, initiate(spoke, kHubId), spoke_addr_);
  ASSERT_EQ(feed(spoke, reply_of(r2), hub_addr_).kind, Kind::cookie_accepted);
  advance(121s);
  HandshakeOutcome stale = feed(hub_, initiate(spoke, kHubId), spoke_addr_);
  EXPECT_EQ(stale.kind, Kind::send_cookie_reply) << "cookie older than 115 s must not be used by the sender";
}

TEST_F(Handshake, TamperedOrMisaddressedCookieRepliesAreDropped) {
  hub_.load().force(true);
  const Bytes init = initiate(spoke_, kHubId);
  const Bytes cookie = reply_of(feed(hub_, init, spoke_addr_));
  ASSERT_EQ(cookie.size(), kCookieReplySize);
  for (std::size_t i = 0; i < cookie.size(); ++i) {
    Bytes t = cookie;
    t[i] ^= 0x10;
    HandshakeOutcome o = feed(spoke_, t, hub_addr_);
    EXPECT_EQ(o.kind, Kind::dropped) << "byte " << i;
    if (i < 4) {
      EXPECT_EQ(o.drop, HandshakeDrop::malformed);
    } else if (i < cookie_reply::nonce) {
      EXPECT_EQ(o.drop, HandshakeDrop::unknown_index);
    } else {
      EXPECT_EQ(o.drop, HandshakeDrop::bad_cookie_reply);
    }
  }
  EXPECT_EQ(feed(spoke_, cookie, hub_addr_).kind, Kind::cookie_accepted);
}

TEST_F(Handshake, UnderLoadValidMac2SendersAreRateLimitedPerSource) {
  hub_.load().force(true);
  HandshakeOutcome r = feed(hub_, initiate(spoke_, kHubId), spoke_addr_);
  ASSERT_EQ(feed(spoke_, reply_of(r), hub_addr_).kind, Kind::cookie_accepted);
  int accepted = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    advance(25ms);
    HandshakeOutcome o = feed(hub_, initiate(spoke_, kHubId), spoke_addr_);
    if (o.kind == Kind::initiation_accepted) ++accepted;
    if (o.drop == HandshakeDrop::rate_limited) ++limited;
  }
  // One second at 40/s offered: burst 5 + 20/s refill lets through ~25.
  EXPECT_GE(accepted, 20);
  EXPECT_LE(accepted, 26);
  EXPECT_EQ(accepted + limited, 40);
}

TEST_F(Handshake, LoadDetectorTurnsCookiesOnAutomatically) {
  NoiseHandshakeConfig cfg;
  cfg.load.threshold_per_second = 10;
  NoiseHandshake hub(key_from_seed(1), cfg, third_random_);
  hub.add_peer(kSpokeId, pub_of(spoke_key_));
  const Bytes init = initiate(spoke_, kHubId);
  int cookies = 0;
  for (int i = 0; i < 30; ++i) {  // a replay flood: valid mac1, stale timestamp
    if (feed(hub, init, SourceAddress::v4(192, 0, 2, 9, static_cast<std::uint16_t>(1000 + i))).kind ==
        Kind::send_cookie_reply) {
      ++cookies;
    }
  }
  EXPECT_EQ(cookies, 20);  // everything after the 10th within the second
  advance(2s);
  EXPECT_FALSE(hub.load().under_load(now_));
}

TEST_F(Handshake, RemovedPeerCanNoLongerHandshake) {
  hub_.remove_peer(kSpokeId);
  EXPECT_EQ(feed(hub_, initiate(spoke_, kHubId), spoke_addr_).drop, HandshakeDrop::unknown_peer);
  Bytes out(kInitiationSize);
  EXPECT_FALSE(hub_.create_initiation(kSpokeId, now_, wall_, out.data()));
}

TEST_F(Handshake, PeerTableRejectsDuplicatesAndOurOwnKey) {
  EXPECT_THROW(hub_.add_peer(kSpokeId, pub_of(key_from_seed(8))), std::invalid_argument);
  EXPECT_THROW(hub_.add_peer(99, pub_of(spoke_key_)), std::invalid_argument);
  EXPECT_THROW(hub_.add_peer(98, pub_of(hub_key_)), std::invalid_argument);
}

TEST_F(Handshake, IndicesInUseByTheSessionLayerAreAvoided) {
  test::DeterministicRandom probe(2);
  NoiseHandshake spoke(key_from_seed(2), {}, probe);
  spoke.add_peer(kHubId, pub_of(hub_key_));
  Bytes out(kInitiationSize);
  const std::uint32_t first = *spoke.create_initiation(kHubId, now_, wall_, out.data());

  test::DeterministicRandom again(2);
  NoiseHandshake spoke2(key_from_seed(2), {}, again);
  spoke2.add_peer(kHubId, pub_of(hub_key_));
  spoke2.set_index_in_use([&](std::uint32_t i) { return i == first; });
  const std::uint32_t second = *spoke2.create_initiation(kHubId, now_, wall_, out.data());
  EXPECT_NE(first, second);
}

TEST(Tai64n, EncodesUnixTimeWithTheTaiOffsetBigEndian) {
  const Tai64n epoch = tai64n_from(WallTime{});
  EXPECT_EQ(test::to_hex(epoch), "400000000000000a00000000");
  const Tai64n t = tai64n_from(WallTime{} + std::chrono::seconds(0x5f5e1000) + std::chrono::nanoseconds(123456789));
  // Nanoseconds rounded down to a multiple of 2^24.
  EXPECT_EQ(test::to_hex(t), "400000005f5e100a07000000");
  EXPECT_TRUE(tai64n_after(t, epoch));
  EXPECT_FALSE(tai64n_after(epoch, t));
  EXPECT_FALSE(tai64n_after(t, t));
  EXPECT_TRUE(tai64n_after(tai64n_next(t), t));
  Tai64n end_of_second = t;
  end_of_second[8] = 0x3b, end_of_second[9] = 0x9a, end_of_second[10] = 0xc9, end_of_second[11] = 0xff;
  EXPECT_EQ(test::to_hex(tai64n_next(end_of_second)), "400000005f5e100b00000000");
}

TEST(RateLimiter, TokenBucketPerSourceWithBurst) {
  RateLimiter limiter;
  Instant t = Instant{} + std::chrono::seconds(10);
  const auto a = SourceAddress::v4(192, 0, 2, 1, 1), a_other_port = SourceAddress::v4(192, 0, 2, 1, 2);
  const auto b = SourceAddress::v4(192, 0, 2, 2, 1);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(i % 2 ? a : a_other_port, t)) << i;
  EXPECT_FALSE(limiter.allow(a, t));   // the port does not matter
  EXPECT_TRUE(limiter.allow(b, t));    // other sources are unaffected
  t += std::chrono::milliseconds(50);  // one token at 20/s
  EXPECT_TRUE(limiter.allow(a, t));
  EXPECT_FALSE(limiter.allow(a, t));
  t += std::chrono::seconds(2);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(a, t));
  EXPECT_FALSE(limiter.allow(a, t));
}

TEST(RateLimiter, Ipv6SourcesShareABucketPerSlash64) {
  RateLimiter limiter;
  const Instant t = Instant{} + std::chrono::seconds(10);
  std::array<std::uint8_t, 16> ip{0x20, 0x01, 0x0d, 0xb8};
  for (int i = 0; i < 5; ++i) {
    ip[15] = static_cast<std::uint8_t>(i);  // different hosts, same /64
    EXPECT_TRUE(limiter.allow(SourceAddress::v6(ip, 1), t));
  }
  ip[15] = 99;
  EXPECT_FALSE(limiter.allow(SourceAddress::v6(ip, 1), t));
  ip[7] = 1;  // another /64
  EXPECT_TRUE(limiter.allow(SourceAddress::v6(ip, 1), t));
}

TEST(RateLimiter, TableIsBoundedAndIdleEntriesAreCollected) {
  RateLimitConfig cfg;
  cfg.max_sources = 100;
  RateLimiter limiter(cfg);
  Instant t = Instant{} + std::chrono::seconds(10);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.allow(SourceAddress::v4(10, 0, 0, static_cast<std::uint8_t>(i), 1), t));
  }
  EXPECT_FALSE(limiter.allow(SourceAddress::v4(10, 0, 1, 0, 1), t));  // full: refuse newcomers
  EXPECT_EQ(limiter.tracked_sources(), 100u);
  t += std::chrono::seconds(2);
  EXPECT_TRUE(limiter.allow(SourceAddress::v4(10, 0, 1, 0, 1), t));
  EXPECT_EQ(limiter.tracked_sources(), 1u);
}

}  // namespace
}  // namespace segbridge::crypto
