// Noise IK inside the protocol core: two (or three) core::Devices using
// NoiseIkHandshaker, wired through a fake network and clock. Frames must flow
// only between sites whose keys the other side configured, through cookies
// under load, and across rekeys without loss.
#include <gtest/gtest.h>
#include <sodium.h>

#include <functional>
#include <vector>

#include "segbridge/core/device.hpp"
#include "segbridge/crypto/noise_ik_handshaker.hpp"

namespace segbridge::crypto {
namespace {

using namespace std::chrono_literals;
using core::ConstBytes;
using core::Endpoint;
using core::MutableBytes;
using core::PeerState;
using core::TimePoint;
using Bytes = std::vector<std::uint8_t>;

struct Site {
  Endpoint address;
  SecretKey key;
  PublicKey pub{};
  WallTime wall = WallTime{} + std::chrono::hours(24 * 365 * 56);
  std::unique_ptr<core::Device> device;
  std::shared_ptr<core::Peer> peer;
  core::DatagramBatch out{64, 2048};
  std::vector<Bytes> delivered;

  explicit Site(const char* addr) : address(*Endpoint::parse(addr)) {
    randombytes_buf(key.data(), key.size());
    pub = x25519_public_key(key.data());
  }

  void start(const PublicKey& peer_key, std::optional<Endpoint> peer_endpoint, bool persistent,
             const std::optional<core::SecretKey>& psk = std::nullopt) {
    device = std::make_unique<core::Device>(
        core::DeviceConfig{},
        std::make_unique<NoiseIkHandshaker>(key.copy(), NoiseHandshakeConfig{}, [this] { return wall; }));
    core::PeerConfig pc;
    pc.name = "peer";
    pc.endpoint = peer_endpoint;
    pc.persistent = persistent;
    pc.credentials.public_key = core::SecretKey(peer_key.data());
    pc.credentials.psk = psk;
    std::string error;
    peer = device->add_peer(pc, &error);
    ASSERT_TRUE(peer) << error;
  }
};

Bytes frame_of(std::size_t n, std::uint8_t seed) {
  Bytes f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(seed ^ (i * 13));
  return f;
}

class NoiseDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    spoke.start(hub.pub, hub.address, true);
    hub.start(spoke.pub, std::nullopt, false);
  }

  // Delivers everything `from` queued to `to`; `under_load` marks the hub busy.
  void deliver(Site& from, Site& to, bool under_load = false) {
    std::vector<Bytes> in;
    for (auto& d : from.out) in.emplace_back(d.data, d.data + d.size);
    from.out.clear();
    for (auto& d : in) {
      core::RxResult r;
      if (core::Device::classify(ConstBytes(d.data(), d.size())) == core::DatagramClass::handshake) {
        r = to.device->on_handshake(ConstBytes(d.data(), d.size()), from.address, now, to.out, under_load);
      } else {
        r = to.device->on_datagram(MutableBytes(d.data(), d.size()), from.address, now, to.out);
      }
      if (!r.frame.empty()) to.delivered.emplace_back(r.frame.begin(), r.frame.end());
      if (r.control_attention) to.device->on_timer(now, to.out);
    }
  }
  void pump(bool hub_under_load = false) {
    for (int i = 0; i < 20 && (!spoke.out.empty() || !hub.out.empty()); ++i) {
      deliver(spoke, hub, hub_under_load);
      deliver(hub, spoke);
    }
  }
  void tick(core::Duration d) {
    now += d;
    spoke.wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    hub.wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    spoke.device->on_timer(now, spoke.out);
    hub.device->on_timer(now, hub.out);
  }
  void send(Site& from, const Bytes& frame) {
    from.device->send_frame(*from.peer, ConstBytes(frame.data(), frame.size()), now, from.out);
  }
  void establish() {
    spoke.device->on_timer(now, spoke.out);
    pump();
    ASSERT_EQ(spoke.peer->state(), PeerState::established);
    ASSERT_EQ(hub.peer->state(), PeerState::established);
  }

  TimePoint now = TimePoint(std::chrono::hours(100));
  Site spoke{"192.0.2.2:40000"};
  Site hub{"192.0.2.1:7440"};
};

TEST_F(NoiseDevice, HandshakeThenFramesBothWays) {
  spoke.device->on_timer(now, spoke.out);
  ASSERT_EQ(spoke.out.size(), 1u);
  EXPECT_EQ(spoke.out[0].size, kInitiationSize);
  deliver(spoke, hub);
  ASSERT_EQ(hub.out.size(), 1u);
  EXPECT_EQ(hub.out[0].size, kResponseSize);
  pump();
  ASSERT_EQ(spoke.peer->state(), PeerState::established);
  ASSERT_EQ(hub.peer->state(), PeerState::established);
  EXPECT_EQ(hub.peer->endpoint(), spoke.address);
  EXPECT_EQ(spoke.peer->current_aead(), core::AeadAlgorithm::chacha20_poly1305);

  const Bytes a = frame_of(1514, 1), b = frame_of(60, 2);
  send(spoke, a);
  send(hub, b);
  pump();
  ASSERT_EQ(hub.delivered.size(), 1u);
  EXPECT_EQ(hub.delivered[0], a);
  ASSERT_EQ(spoke.delivered.size(), 1u);
  EXPECT_EQ(spoke.delivered[0], b);
}

TEST_F(NoiseDevice, SiteWithAnUnknownKeyGetsNoFrameIn) {
  establish();
  Site intruder("192.0.2.66:5555");
  intruder.start(hub.pub, hub.address, true);  // knows the hub's public key, but the hub does not know it
  for (int i = 0; i < 5; ++i) {
    intruder.device->on_timer(now, intruder.out);
    send(intruder, frame_of(100, static_cast<std::uint8_t>(i)));
    deliver(intruder, hub);
    EXPECT_TRUE(hub.out.empty()) << "the hub must never answer an unknown peer";
    tick(2s);
    pump();
  }
  EXPECT_NE(intruder.peer->state(), PeerState::established);
  EXPECT_TRUE(hub.delivered.empty());
  EXPECT_GE(hub.device->counters().get(core::DropReason::handshake_unknown_peer), 1u);
  // The real spoke is unaffected.
  send(spoke, frame_of(200, 9));
  pump();
  ASSERT_EQ(hub.delivered.size(), 1u);
}

TEST_F(NoiseDevice, SpokeWithTheWrongHubKeyIsIgnored) {
  Site lost("192.0.2.3:40000");
  lost.start(spoke.pub, hub.address, true);  // not the hub's key: mac1 fails
  lost.device->on_timer(now, lost.out);
  deliver(lost, hub);
  EXPECT_TRUE(hub.out.empty());
  EXPECT_EQ(hub.device->counters().get(core::DropReason::unauthenticated), 1u);
}

TEST_F(NoiseDevice, MismatchedPskNeverEstablishes) {
  hub.start(spoke.pub, std::nullopt, false, core::SecretKey::random());
  spoke.device->on_timer(now, spoke.out);
  pump();
  EXPECT_NE(spoke.peer->state(), PeerState::established);
  EXPECT_GE(spoke.peer->counters().get(core::DropReason::unauthenticated), 1u);
}

TEST_F(NoiseDevice, MatchingPskEstablishes) {
  const core::SecretKey psk = core::SecretKey::random();
  spoke.start(hub.pub, hub.address, true, psk);
  hub.start(spoke.pub, std::nullopt, false, psk);
  establish();
}

TEST_F(NoiseDevice, UnderLoadTheSpokeEarnsACookieAndThenConnects) {
  spoke.device->on_timer(now, spoke.out);
  deliver(spoke, hub, /*under_load=*/true);
  ASSERT_EQ(hub.out.size(), 1u);
  EXPECT_EQ(hub.out[0].size, kCookieReplySize);  // smaller than the 148-byte initiation
  EXPECT_EQ(hub.peer->state(), PeerState::idle);
  EXPECT_EQ(hub.device->counters().get(core::DropReason::handshake_cookie_required), 1u);
  deliver(hub, spoke);
  for (int i = 0; i < 5 && spoke.peer->state() != PeerState::established; ++i) {
    tick(1500ms);  // the retry carries mac2
    pump(/*hub_under_load=*/true);
  }
  EXPECT_EQ(spoke.peer->state(), PeerState::established);
  EXPECT_EQ(hub.peer->state(), PeerState::established);
}

TEST_F(NoiseDevice, ReplayedInitiationGetsNoReply) {
  spoke.device->on_timer(now, spoke.out);
  const Bytes init(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  pump();
  ASSERT_EQ(hub.peer->state(), PeerState::established);
  tick(1s);
  hub.out.clear();
  Bytes copy = init;
  hub.device->on_handshake(ConstBytes(copy.data(), copy.size()), *Endpoint::parse("192.0.2.99:1"), now, hub.out);
  EXPECT_TRUE(hub.out.empty());
  EXPECT_EQ(hub.peer->counters().get(core::DropReason::handshake_replay), 1u);
  EXPECT_EQ(hub.peer->endpoint(), spoke.address);  // a replay never moves the endpoint
}

TEST_F(NoiseDevice, RekeyDuringSteadyTrafficLosesNothing) {
  establish();
  std::size_t sent_up = 0, sent_down = 0;
  const auto handshakes_before = spoke.peer->counters().get(core::Counter::handshakes_completed);
  for (int second = 0; second < 400; ++second) {
    for (int k = 0; k < 3; ++k) {
      send(spoke, frame_of(1400, static_cast<std::uint8_t>(second + k)));
      send(hub, frame_of(700, static_cast<std::uint8_t>(second * 7 + k)));
      sent_up++, sent_down++;
      pump();
    }
    tick(1s);
    pump();
  }
  EXPECT_EQ(hub.delivered.size(), sent_up);
  EXPECT_EQ(spoke.delivered.size(), sent_down);
  // 400 s at REKEY_AFTER_TIME = 120 s: at least three new handshakes.
  EXPECT_GE(spoke.peer->counters().get(core::Counter::handshakes_completed) - handshakes_before, 3u);
  EXPECT_EQ(hub.peer->counters().get(core::DropReason::unauthenticated), 0u);
  EXPECT_EQ(hub.peer->counters().get(core::DropReason::handshake_replay), 0u);
}

TEST(NoiseIkHandshakerCredentials, RefusesPeersWithoutAPublicKeyOrWithOurs) {
  SecretKey key;
  randombytes_buf(key.data(), key.size());
  const PublicKey own = x25519_public_key(key.data());
  NoiseIkHandshaker h(key.copy());
  core::PeerCredentials c;
  c.name = "sitea";
  EXPECT_NE(h.add_peer(1, c).find("needs the public key"), std::string::npos);
  c.public_key = core::SecretKey(own.data());
  EXPECT_NE(h.add_peer(1, c).find("own public key"), std::string::npos);
  c.public_key = core::SecretKey::random();
  EXPECT_EQ(h.add_peer(1, c), "");
  EXPECT_EQ(h.add_peer(1, c), "");  // replacing a peer is allowed (SIGHUP)
  EXPECT_NE(h.add_peer(2, c).find("same public key"), std::string::npos);
}

}  // namespace
}  // namespace segbridge::crypto
