// Two Devices (a spoke and its hub) wired back to back through a fake network
// with a fake clock: handshakes, data both ways, fragmentation, timers,
// roaming and every rejection path of the data plane.
#include "segbridge/core/device.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <functional>
#include <vector>

#include "segbridge/core/fragmenter.hpp"
#include "segbridge/core/psk_handshake.hpp"

using namespace segbridge::core;
using namespace std::chrono_literals;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Site {
  std::string name;
  Endpoint address;
  std::uint64_t wall = 1'700'000'000'000'000'000ull;
  std::unique_ptr<Device> device;
  std::shared_ptr<Peer> peer;
  DatagramBatch out{64, 2048};
  RxContext rx;
  std::vector<Bytes> delivered;  // frames written to the "tap"

  Site(std::string n, const char* addr) : name(std::move(n)), address(*Endpoint::parse(addr)) {}

  void start(const SecretKey& psk, const std::string& peer_name, std::optional<Endpoint> peer_endpoint, bool persistent,
             unsigned path_mtu = 1500, AeadSet aeads = locally_available_aeads(),
             Duration persistent_keepalive = Duration::zero()) {
    DeviceConfig config;
    config.path_mtu = path_mtu;
    device = std::make_unique<Device>(config, std::make_unique<PskHandshaker>(name, aeads, [this] { return wall; }));
    PeerConfig pc;
    pc.name = peer_name;
    pc.endpoint = peer_endpoint;
    pc.persistent = persistent;
    pc.persistent_keepalive = persistent_keepalive;
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

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    spoke.start(psk, "hub", hub.address, true);
    hub.start(psk, "sitea", std::nullopt, false);
  }

  Site& other(Site& s) { return &s == &spoke ? hub : spoke; }

  // Delivers everything queued in `from.out` to the other site (unless `drop`
  // says no), collecting delivered frames. Returns the number delivered.
  std::size_t deliver(Site& from, std::function<bool(const Bytes&)> drop = nullptr,
                      std::optional<Endpoint> source = std::nullopt) {
    Site& to = other(from);
    std::vector<Bytes> in;
    for (auto& d : from.out) in.emplace_back(d.data, d.data + d.size);
    from.out.clear();
    std::size_t n = 0;
    for (auto& d : in) {
      if (drop && drop(d)) continue;
      ++n;
      receive(to, d, source.value_or(from.address));
    }
    return n;
  }

  RxResult receive(Site& to, Bytes d, const Endpoint& source) {
    RxResult r = to.device->on_datagram(MutableBytes(d.data(), d.size()), source, now, to.out);
    if (!r.frame.empty()) to.delivered.emplace_back(r.frame.begin(), r.frame.end());
    if (r.control_attention) to.device->on_timer(now, to.out);
    return r;
  }

  // Runs the network until quiet (bounded).
  void pump(std::function<bool(const Bytes&)> drop = nullptr) {
    for (int i = 0; i < 20 && (!spoke.out.empty() || !hub.out.empty()); ++i) {
      deliver(spoke, drop);
      deliver(hub, drop);
    }
  }

  void tick(Duration d) {
    now += d;
    spoke.wall += static_cast<std::uint64_t>(std::chrono::nanoseconds(d).count());
    hub.wall += static_cast<std::uint64_t>(std::chrono::nanoseconds(d).count());
    spoke.device->on_timer(now, spoke.out);
    hub.device->on_timer(now, hub.out);
  }

  void establish() {
    spoke.device->on_timer(now, spoke.out);
    pump();
    ASSERT_EQ(spoke.peer->state(), PeerState::established);
    ASSERT_EQ(hub.peer->state(), PeerState::established);
  }

  TxResult send(Site& from, const Bytes& frame) {
    return from.device->send_frame(*from.peer, ConstBytes(frame.data(), frame.size()), now, from.out);
  }

  SecretKey psk = SecretKey::random();
  TimePoint now = TimePoint(std::chrono::hours(100));
  Site spoke{"sitea", "192.0.2.2:40000"};
  Site hub{"hub", "192.0.2.1:7440"};
};

bool is_type(const Bytes& d, MessageType t) {
  return !d.empty() && d[0] == static_cast<std::uint8_t>(t);
}

}  // namespace

TEST_F(DeviceTest, HandshakeThenFramesBothWays) {
  spoke.device->on_timer(now, spoke.out);
  ASSERT_EQ(spoke.out.size(), 1u);
  EXPECT_EQ(spoke.out[0].size, kPskInitiationSize);
  EXPECT_EQ(spoke.out[0].to, hub.address);
  EXPECT_EQ(spoke.peer->state(), PeerState::handshaking);
  pump();
  EXPECT_EQ(spoke.peer->state(), PeerState::established);
  EXPECT_EQ(hub.peer->state(), PeerState::established);
  EXPECT_EQ(hub.peer->endpoint(), spoke.address);  // learned from the authenticated initiation
  EXPECT_EQ(spoke.peer->current_aead(), hub.peer->current_aead());

  for (std::size_t size : {14u, 60u, 1436u, 1514u, 1518u, 9018u}) {
    auto f = frame_of(size, static_cast<std::uint8_t>(size));
    auto r = send(spoke, f);
    ASSERT_EQ(r.drop, DropReason::none) << size;
    EXPECT_EQ(r.datagrams, fragment_count(size, 1436)) << size;
    for (auto& d : spoke.out) EXPECT_LE(d.size + 28, 1500u);  // never IP-fragmented on the wire
    pump();
    ASSERT_FALSE(hub.delivered.empty()) << size;
    EXPECT_EQ(hub.delivered.back(), f) << size;
    auto g = frame_of(size, static_cast<std::uint8_t>(size + 1));
    ASSERT_EQ(send(hub, g).drop, DropReason::none);
    pump();
    EXPECT_EQ(spoke.delivered.back(), g) << size;
  }
  auto c = hub.peer->counters().snapshot();
  EXPECT_EQ(c[Counter::rx_frames], 6u);
  EXPECT_EQ(c[Counter::reassembled], 3u);  // 1514, 1518, 9018 (1436 fits one datagram)
  EXPECT_EQ(c.drop(DropReason::unauthenticated), 0u);
}

TEST_F(DeviceTest, FullSizeFramesSplitIntoEqualDatagrams) {
  establish();
  ASSERT_EQ(send(spoke, frame_of(1514, 1)).datagrams, 2u);
  ASSERT_EQ(spoke.out.size(), 2u);
  EXPECT_EQ(spoke.out[0].size, spoke.out[1].size);
  EXPECT_EQ(spoke.out[0].size, 757u + kDataOverhead);
  spoke.out.clear();
  ASSERT_EQ(send(spoke, frame_of(1518, 1)).datagrams, 2u);  // 802.1Q-tagged full-size frame
  EXPECT_EQ(spoke.out[0].size, spoke.out[1].size);
}

TEST(DeviceIpv6, BudgetFollowsTheEndpointFamilyAndPathMtu) {
  ASSERT_GE(sodium_init(), 0);
  SecretKey psk = SecretKey::random();
  for (unsigned mtu : {1280u, 1500u}) {
    Site spoke6{"sitea", "[2001:db8::2]:40000"};
    Site hub6{"hub", "[2001:db8::1]:7440"};
    spoke6.start(psk, "hub", hub6.address, true, mtu);
    hub6.start(psk, "sitea", std::nullopt, false, mtu);
    TimePoint now = TimePoint(std::chrono::hours(1));
    spoke6.device->on_timer(now, spoke6.out);
    for (int i = 0; i < 4; ++i) {
      Site& from = i % 2 ? hub6 : spoke6;
      Site& to = i % 2 ? spoke6 : hub6;
      std::vector<Bytes> q;
      for (auto& d : from.out) q.emplace_back(d.data, d.data + d.size);
      from.out.clear();
      for (auto& d : q) to.device->on_datagram(MutableBytes(d.data(), d.size()), from.address, now, to.out);
    }
    ASSERT_EQ(spoke6.peer->state(), PeerState::established);
    std::size_t budget = mtu - 40 - 8 - kDataOverhead;  // 1416 at 1500, 1196 at 1280
    auto fits = frame_of(budget, 1), over = frame_of(budget + 1, 2);
    auto r = spoke6.device->send_frame(*spoke6.peer, ConstBytes(fits.data(), fits.size()), now, spoke6.out);
    EXPECT_EQ(r.datagrams, 1u) << mtu;
    r = spoke6.device->send_frame(*spoke6.peer, ConstBytes(over.data(), over.size()), now, spoke6.out);
    EXPECT_EQ(r.datagrams, 2u) << mtu;
    for (auto& d : spoke6.out) EXPECT_LE(d.size + 48, mtu);
    auto jumbo = frame_of(9018, 3);
    spoke6.out.clear();
    r = spoke6.device->send_frame(*spoke6.peer, ConstBytes(jumbo.data(), jumbo.size()), now, spoke6.out);
    EXPECT_EQ(r.datagrams, mtu == 1280 ? 8u : 7u);
    std::size_t delivered = 0;
    for (auto& d : spoke6.out) {
      Bytes b(d.data, d.data + d.size);
      auto rr = hub6.device->on_datagram(MutableBytes(b.data(), b.size()), spoke6.address, now, hub6.out);
      if (!rr.frame.empty()) {
        ++delivered;
        EXPECT_EQ(Bytes(rr.frame.begin(), rr.frame.end()), jumbo);
      }
    }
    EXPECT_EQ(delivered, 1u);
  }
}

TEST(DeviceJumboPath, BigPathMtuNeedsNoFragmentation) {
  ASSERT_GE(sodium_init(), 0);
  SecretKey psk = SecretKey::random();
  Site spoke{"sitea", "192.0.2.2:40000"}, hub{"hub", "192.0.2.1:7440"};
  spoke.start(psk, "hub", hub.address, true, 9100);
  hub.start(psk, "sitea", std::nullopt, false, 9100);
  EXPECT_GE(spoke.device->max_datagram_size(), 9018 + kDataOverhead);
  DatagramBatch big(16, spoke.device->max_datagram_size());
  TimePoint now = TimePoint(std::chrono::hours(1));
  spoke.device->on_timer(now, big);
  for (int i = 0; i < 4; ++i) {
    Site& to = i % 2 ? spoke : hub;
    Site& from = i % 2 ? hub : spoke;
    std::vector<Bytes> q;
    for (auto& d : (i == 0 ? big : from.out)) q.emplace_back(d.data, d.data + d.size);
    big.clear();
    from.out.clear();
    for (auto& d : q) to.device->on_datagram(MutableBytes(d.data(), d.size()), from.address, now, to.out);
  }
  ASSERT_EQ(spoke.peer->state(), PeerState::established);
  auto jumbo = frame_of(9018, 3);
  big.clear();
  auto r = spoke.device->send_frame(*spoke.peer, ConstBytes(jumbo.data(), jumbo.size()), now, big);
  EXPECT_EQ(r.drop, DropReason::none);
  EXPECT_EQ(r.datagrams, 1u);
  Bytes b(big[0].data, big[0].data + big[0].size);
  auto rr = hub.device->on_datagram(MutableBytes(b.data(), b.size()), spoke.address, now, hub.out);
  EXPECT_EQ(Bytes(rr.frame.begin(), rr.frame.end()), jumbo);
  // A batch whose slots are smaller than the path allows caps the pieces instead of overflowing.
  DatagramBatch small(16, 1500);
  r = spoke.device->send_frame(*spoke.peer, ConstBytes(jumbo.data(), jumbo.size()), now, small);
  EXPECT_EQ(r.datagrams, 7u);
  for (auto& d : small) EXPECT_LE(d.size, 1500u);
}

TEST(DeviceAead, NegotiatesAesGcmOnlyWhenBothSidesAcceptIt) {
  ASSERT_GE(sodium_init(), 0);
  SecretKey psk = SecretKey::random();
  AeadSet chacha = aead_bit(AeadAlgorithm::chacha20_poly1305);
  AeadSet both = chacha | aead_bit(AeadAlgorithm::aes256_gcm);
  struct Case {
    AeadSet spoke, hub;
  } cases[] = {{both, both}, {chacha, both}, {both, chacha}};
  for (auto c : cases) {
    Site spoke{"sitea", "192.0.2.2:40000"}, hub{"hub", "192.0.2.1:7440"};
    spoke.start(psk, "hub", hub.address, true, 1500, c.spoke);
    hub.start(psk, "sitea", std::nullopt, false, 1500, c.hub);
    TimePoint now = TimePoint(std::chrono::hours(1));
    spoke.device->on_timer(now, spoke.out);
    for (int i = 0; i < 4; ++i) {
      Site& from = i % 2 ? hub : spoke;
      Site& to = i % 2 ? spoke : hub;
      std::vector<Bytes> q;
      for (auto& d : from.out) q.emplace_back(d.data, d.data + d.size);
      from.out.clear();
      for (auto& d : q) to.device->on_datagram(MutableBytes(d.data(), d.size()), from.address, now, to.out);
    }
    hub.device->on_timer(now, hub.out);  // promotes the session the keepalive confirmed
    ASSERT_TRUE(spoke.peer->current_aead());
    ASSERT_TRUE(hub.peer->current_aead());
    bool aes = c.spoke == both && c.hub == both && (locally_available_aeads() & aead_bit(AeadAlgorithm::aes256_gcm));
    EXPECT_EQ(*spoke.peer->current_aead(), aes ? AeadAlgorithm::aes256_gcm : AeadAlgorithm::chacha20_poly1305);
    EXPECT_EQ(*hub.peer->current_aead(), *spoke.peer->current_aead());
  }
}

TEST_F(DeviceTest, PersistentKeepaliveKeepsNatMappingsAlive) {
  // Without it: an idle established tunnel stays silent.
  establish();
  tick(60s);
  EXPECT_TRUE(spoke.out.empty());
  EXPECT_TRUE(hub.out.empty());
  // With it (a spoke behind NAT): a keepalive whenever nothing was sent for 25 s.
  spoke.start(psk, "hub", hub.address, true, 1500, locally_available_aeads(), 25s);
  hub.start(psk, "sitea", std::nullopt, false);
  now += 1s;
  establish();
  std::size_t before = hub.peer->counters().get(Counter::rx_keepalives);
  tick(24s);
  EXPECT_TRUE(spoke.out.empty());
  tick(1s);
  ASSERT_EQ(spoke.out.size(), 1u);
  EXPECT_EQ(spoke.out[0].size, kKeepaliveSize);
  pump();
  EXPECT_EQ(hub.peer->counters().get(Counter::rx_keepalives), before + 1);
  ASSERT_EQ(send(spoke, frame_of(60, 1)).drop, DropReason::none);  // traffic resets it
  pump();
  tick(24s);
  for (auto& d : spoke.out) EXPECT_NE(d.size, kKeepaliveSize);
}

TEST_F(DeviceTest, DuplicatePeerNamesAreRejected) {
  PeerConfig pc;
  pc.name = "hub";
  pc.credentials.psk = psk;
  std::string error;
  EXPECT_EQ(spoke.device->add_peer(pc, &error), nullptr);
  EXPECT_NE(error.find("duplicate"), std::string::npos);
  pc.name = "nopsk";
  pc.credentials.psk.reset();
  EXPECT_EQ(spoke.device->add_peer(pc, &error), nullptr);
  EXPECT_NE(error.find("pre-shared key"), std::string::npos);
}

TEST_F(DeviceTest, WrongPskIsSilentlyDroppedAndCounted) {
  Site stranger{"sitea", "192.0.2.66:5000"};
  stranger.start(SecretKey::random(), "hub", hub.address, true);
  stranger.device->on_timer(now, stranger.out);
  ASSERT_EQ(stranger.out.size(), 1u);
  Bytes init(stranger.out[0].data, stranger.out[0].data + stranger.out[0].size);
  auto r = receive(hub, init, stranger.address);
  EXPECT_EQ(r.drop, DropReason::unauthenticated);
  EXPECT_TRUE(hub.out.empty());  // no reply at all
  EXPECT_EQ(hub.device->counters().get(DropReason::unauthenticated), 1u);
  EXPECT_EQ(hub.peer->state(), PeerState::idle);
  EXPECT_TRUE(hub.peer->endpoint().empty());  // never learned from an unauthenticated packet
}

TEST_F(DeviceTest, ReplayedInitiationGetsNoReply) {
  spoke.device->on_timer(now, spoke.out);
  Bytes init(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  pump();
  ASSERT_EQ(hub.peer->state(), PeerState::established);
  hub.out.clear();
  now += 10s;
  auto r = receive(hub, init, *Endpoint::parse("192.0.2.99:1"));
  EXPECT_EQ(r.drop, DropReason::handshake_replay);
  EXPECT_TRUE(hub.out.empty());
  EXPECT_EQ(hub.peer->endpoint(), spoke.address);  // the replay did not move the endpoint
  EXPECT_EQ(hub.peer->counters().get(DropReason::handshake_replay), 1u);
}

TEST_F(DeviceTest, SimultaneousInitiationConverges) {
  hub.start(psk, "sitea", spoke.address, true);  // both sides know each other and initiate
  spoke.device->on_timer(now, spoke.out);
  hub.device->on_timer(now, hub.out);
  ASSERT_EQ(spoke.out.size(), 1u);
  ASSERT_EQ(hub.out.size(), 1u);
  pump();
  tick(1ms);
  pump();
  EXPECT_EQ(spoke.peer->state(), PeerState::established);
  EXPECT_EQ(hub.peer->state(), PeerState::established);
  for (int i = 0; i < 5; ++i) {
    auto f = frame_of(100, static_cast<std::uint8_t>(i));
    ASSERT_EQ(send(spoke, f).drop, DropReason::none);
    ASSERT_EQ(send(hub, f).drop, DropReason::none);
    pump();
    EXPECT_EQ(hub.delivered.size(), static_cast<std::size_t>(i + 1));
    EXPECT_EQ(spoke.delivered.size(), static_cast<std::size_t>(i + 1));
  }
}

TEST_F(DeviceTest, LostResponseIsRetriedWithBackoffAndRecoversQuickly) {
  spoke.device->on_timer(now, spoke.out);
  pump([](const Bytes& d) { return is_type(d, MessageType::psk_response); });  // response lost
  EXPECT_EQ(spoke.peer->state(), PeerState::handshaking);
  TimePoint first = now;
  TimePoint deadline = spoke.device->next_deadline(now);
  EXPECT_GE(deadline - now, kHandshakeRetryInitial);
  EXPECT_LE(deadline - now, kHandshakeRetryInitial + kHandshakeRetryJitter);
  // Second attempt lost as well: backoff doubles.
  now = deadline;
  spoke.device->on_timer(now, spoke.out);
  ASSERT_EQ(spoke.out.size(), 1u);
  pump([](const Bytes& d) { return is_type(d, MessageType::psk_response); });
  TimePoint second = spoke.device->next_deadline(now);
  EXPECT_GE(second - now, 2 * kHandshakeRetryInitial);
  now = second;
  spoke.device->on_timer(now, spoke.out);
  pump();
  EXPECT_EQ(spoke.peer->state(), PeerState::established);
  EXPECT_LT(now - first, 4s);
  EXPECT_EQ(spoke.peer->counters().get(Counter::handshakes_initiated), 3u);
  ASSERT_EQ(send(spoke, frame_of(64, 1)).drop, DropReason::none);
  pump();
  EXPECT_EQ(hub.delivered.size(), 1u);
}

TEST_F(DeviceTest, RestartedSpokeCarriesTrafficAgainAtOnce) {
  establish();
  now += 500ms;                             // the spoke restarts
  Site reborn{"sitea", "192.0.2.2:40001"};  // new process, new source port
  reborn.wall = spoke.wall + 1'000'000'000ull;
  reborn.start(psk, "hub", hub.address, true);
  reborn.device->on_timer(now, reborn.out);
  ASSERT_EQ(reborn.out.size(), 1u);
  Bytes init(reborn.out[0].data, reborn.out[0].data + reborn.out[0].size);
  reborn.out.clear();
  receive(hub, init, reborn.address);
  ASSERT_EQ(hub.out.size(), 1u);
  Bytes resp(hub.out[0].data, hub.out[0].data + hub.out[0].size);
  hub.out.clear();
  RxResult rr = reborn.device->on_datagram(MutableBytes(resp.data(), resp.size()), hub.address, now, reborn.out);
  EXPECT_EQ(rr.drop, DropReason::none);
  EXPECT_EQ(reborn.peer->state(), PeerState::established);
  ASSERT_EQ(reborn.out.size(), 1u);  // the confirming keepalive
  Bytes ka(reborn.out[0].data, reborn.out[0].data + reborn.out[0].size);
  reborn.out.clear();
  receive(hub, ka, reborn.address);
  EXPECT_EQ(hub.peer->endpoint(), reborn.address);
  auto f = frame_of(1514, 4);
  ASSERT_EQ(hub.device->send_frame(*hub.peer, ConstBytes(f.data(), f.size()), now, hub.out).drop, DropReason::none);
  std::vector<Bytes> got;
  for (auto& d : hub.out) {
    EXPECT_EQ(d.to, reborn.address);
    Bytes b(d.data, d.data + d.size);
    auto r = reborn.device->on_datagram(MutableBytes(b.data(), b.size()), hub.address, now, reborn.out);
    if (!r.frame.empty()) got.emplace_back(r.frame.begin(), r.frame.end());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], f);
}

TEST_F(DeviceTest, EveryTamperedByteOfASealedPacketIsRejected) {
  establish();
  auto f = frame_of(200, 9);
  ASSERT_EQ(send(spoke, f).drop, DropReason::none);
  Bytes sealed(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  spoke.out.clear();
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (std::uint8_t flip : {0x01, 0x80}) {
      Bytes t = sealed;
      t[i] ^= flip;
      auto r = receive(hub, t, spoke.address);
      EXPECT_NE(r.drop, DropReason::none) << "byte " << i;
      EXPECT_TRUE(r.frame.empty());
    }
  }
  EXPECT_TRUE(hub.delivered.empty());
  EXPECT_GT(hub.peer->counters().get(DropReason::unauthenticated), 0u);
  auto r = receive(hub, sealed, spoke.address);  // the genuine one still authenticates
  EXPECT_EQ(r.drop, DropReason::none);
  EXPECT_EQ(hub.delivered.back(), f);
  EXPECT_EQ(receive(hub, sealed, spoke.address).drop, DropReason::replay);
}

TEST_F(DeviceTest, RoamingOnlyAfterAuthentication) {
  establish();
  ASSERT_EQ(send(spoke, frame_of(100, 1)).drop, DropReason::none);
  Bytes sealed(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  spoke.out.clear();
  Endpoint attacker = *Endpoint::parse("192.0.2.200:666");
  Bytes forged = sealed;
  forged[kDataHeaderSize] ^= 1;
  EXPECT_EQ(receive(hub, forged, attacker).drop, DropReason::unauthenticated);
  EXPECT_EQ(hub.peer->endpoint(), spoke.address);
  Endpoint roamed = *Endpoint::parse("[2001:db8::2]:41000");
  EXPECT_EQ(receive(hub, sealed, roamed).drop, DropReason::none);
  EXPECT_EQ(hub.peer->endpoint(), roamed);
  // A replay of that genuine packet from the attacker's address does not move it back.
  EXPECT_EQ(receive(hub, sealed, attacker).drop, DropReason::replay);
  EXPECT_EQ(hub.peer->endpoint(), roamed);
  ASSERT_EQ(send(hub, frame_of(60, 2)).drop, DropReason::none);
  EXPECT_EQ(hub.out[0].to, roamed);
  hub.out.clear();
  // Reordering: the newer packet arrives from a third address first; the older
  // one, still in flight from the previous address, must not move it back.
  ASSERT_EQ(send(spoke, frame_of(100, 3)).drop, DropReason::none);
  ASSERT_EQ(send(spoke, frame_of(100, 4)).drop, DropReason::none);
  Bytes older(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  Bytes newer(spoke.out[1].data, spoke.out[1].data + spoke.out[1].size);
  spoke.out.clear();
  Endpoint third = *Endpoint::parse("192.0.2.3:42000");
  EXPECT_EQ(receive(hub, newer, third).drop, DropReason::none);
  EXPECT_EQ(receive(hub, older, roamed).drop, DropReason::none);  // accepted (inside the window)...
  EXPECT_EQ(hub.peer->endpoint(), third);                         // ...but not roamed back
}

TEST_F(DeviceTest, PassiveKeepaliveAfterReceivingWithoutSending) {
  establish();
  ASSERT_EQ(send(hub, frame_of(60, 1)).drop, DropReason::none);
  pump();
  ASSERT_EQ(spoke.delivered.size(), 1u);
  tick(9s);
  EXPECT_TRUE(spoke.out.empty());
  tick(1s);
  ASSERT_EQ(spoke.out.size(), 1u);
  EXPECT_EQ(spoke.out[0].size, kKeepaliveSize);
  pump();
  EXPECT_EQ(hub.peer->counters().get(Counter::rx_keepalives), 2u);  // handshake confirmation + this one
  tick(15s);
  EXPECT_TRUE(spoke.out.empty());  // nothing received since: no more keepalives
}

TEST_F(DeviceTest, DeadPeerTriggersNewHandshake) {
  establish();
  auto drop_all = [](const Bytes&) { return true; };
  ASSERT_EQ(send(spoke, frame_of(60, 1)).drop, DropReason::none);
  pump(drop_all);  // the hub never hears it; no answer ever comes
  tick(kKeepaliveTimeout + kRekeyTimeout - 1s);
  EXPECT_TRUE(spoke.out.empty());
  tick(1s);
  ASSERT_EQ(spoke.out.size(), 1u);
  EXPECT_TRUE(is_type(Bytes(spoke.out[0].data, spoke.out[0].data + 1), MessageType::psk_initiation));
  pump();
  EXPECT_EQ(spoke.peer->counters().get(Counter::handshakes_completed), 2u);
}

TEST_F(DeviceTest, RekeyAfterTimeKeepsPreviousSessionForInFlightPackets) {
  establish();
  ASSERT_EQ(send(spoke, frame_of(80, 1)).drop, DropReason::none);
  Bytes in_flight(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  spoke.out.clear();
  // Keep traffic flowing both ways so no dead-peer/keepalive logic interferes.
  for (int i = 0; i < 12; ++i) {
    send(spoke, frame_of(60, 2));
    send(hub, frame_of(60, 3));
    pump();
    tick(10s);
    pump();
  }
  EXPECT_EQ(spoke.peer->counters().get(Counter::handshakes_completed), 2u);  // rekeyed once, at 120 s
  EXPECT_EQ(hub.peer->state(), PeerState::established);
  // The packet sealed with the first session 120 s ago still opens (previous session).
  auto before = hub.delivered.size();
  EXPECT_EQ(receive(hub, in_flight, spoke.address).drop, DropReason::none);
  EXPECT_EQ(hub.delivered.size(), before + 1);
}

TEST_F(DeviceTest, PreviousSessionStillAcceptedRightAfterRekey) {
  establish();
  ASSERT_EQ(send(spoke, frame_of(80, 1)).drop, DropReason::none);
  Bytes in_flight(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  spoke.out.clear();
  now += 1s;
  spoke.device->initiate_handshake(*spoke.peer, now, spoke.out);
  pump();
  tick(1ms);
  pump();
  EXPECT_EQ(spoke.peer->counters().get(Counter::handshakes_completed), 2u);
  EXPECT_EQ(receive(hub, in_flight, spoke.address).drop, DropReason::none);
  EXPECT_EQ(hub.delivered.size(), 1u);
}

TEST_F(DeviceTest, SessionsExpireWithoutRekeyAndKeysStopWorking) {
  establish();
  auto drop_handshakes = [](const Bytes& d) { return !is_type(d, MessageType::data); };
  ASSERT_EQ(send(spoke, frame_of(80, 1)).drop, DropReason::none);
  Bytes old(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  spoke.out.clear();
  for (int i = 0; i < 19; ++i) {
    tick(10s);
    pump(drop_handshakes);
  }
  EXPECT_EQ(hub.peer->state(), PeerState::idle);
  EXPECT_EQ(send(hub, frame_of(60, 1)).drop, DropReason::no_session);
  EXPECT_EQ(receive(hub, old, spoke.address).drop, DropReason::unknown_index);  // keys gone
}

TEST_F(DeviceTest, TimersNeverBusyLoop) {
  establish();
  for (int i = 0; i < 50; ++i) {
    TimePoint d = spoke.device->next_deadline(now);
    ASSERT_GT(d, now) << i;
    ASSERT_GT(hub.device->next_deadline(now), now);
    now = d;
    spoke.device->on_timer(now, spoke.out);
    hub.device->on_timer(now, hub.out);
    pump();
  }
}

TEST_F(DeviceTest, TxWithoutSessionAsksForHandshake) {
  auto r = send(spoke, frame_of(60, 1));
  EXPECT_EQ(r.drop, DropReason::no_session);
  EXPECT_TRUE(r.control_attention);
  EXPECT_EQ(send(hub, frame_of(60, 1)).drop, DropReason::no_endpoint);
  EXPECT_EQ(send(spoke, frame_of(13, 1)).drop, DropReason::frame_too_small);
  EXPECT_EQ(send(spoke, frame_of(9019, 1)).drop, DropReason::frame_too_large);
}

TEST_F(DeviceTest, GarbageAndUnknownIndexAreCountedAndNeverAnswered) {
  establish();
  Bytes junk = {1, 2, 3};
  EXPECT_EQ(receive(hub, junk, spoke.address).drop, DropReason::malformed);
  Bytes unknown(kKeepaliveSize, 0);
  DataHeader h;
  h.kind = DataKind::keepalive;
  h.receiver_index = 12345;
  h.encode(unknown.data());
  EXPECT_EQ(receive(hub, unknown, spoke.address).drop, DropReason::unknown_index);
  Bytes stray_response(kPskResponseSize, 0);
  stray_response[0] = 6;
  stray_response[1] = 1;
  EXPECT_EQ(receive(hub, stray_response, spoke.address).drop, DropReason::unknown_index);
  Bytes noise(kNoiseInitiationSize, 0);
  noise[0] = 1;
  noise[1] = 1;
  EXPECT_EQ(receive(hub, noise, spoke.address).drop, DropReason::handshake_unsupported);
  EXPECT_TRUE(hub.out.empty());
  EXPECT_EQ(hub.device->counters().get(DropReason::malformed), 1u);
  EXPECT_EQ(hub.device->counters().get(DropReason::unknown_index), 2u);
}

TEST_F(DeviceTest, RemovedPeerStopsAcceptingAtOnce) {
  establish();
  ASSERT_EQ(send(spoke, frame_of(60, 1)).drop, DropReason::none);
  Bytes d(spoke.out[0].data, spoke.out[0].data + spoke.out[0].size);
  spoke.out.clear();
  hub.device->remove_peer(hub.peer->id());
  EXPECT_EQ(receive(hub, d, spoke.address).drop, DropReason::unknown_index);
  EXPECT_TRUE(hub.device->peers().empty());
}

TEST_F(DeviceTest, UnconfirmedResponderSessionSurvivesAnotherHandshake) {
  // The initiator completes handshake 1 and sends on it, but those packets are
  // delayed past its next initiation. The responder must still accept them.
  spoke.device->on_timer(now, spoke.out);
  deliver(spoke);  // initiation 1 -> hub
  deliver(hub);    // response 1 -> spoke: session 1 current, keepalive queued
  ASSERT_EQ(spoke.peer->state(), PeerState::established);
  auto f = frame_of(300, 5);
  ASSERT_EQ(send(spoke, f).drop, DropReason::none);
  std::vector<Bytes> delayed;
  for (auto& d : spoke.out) delayed.emplace_back(d.data, d.data + d.size);  // keepalive + frame, held back
  spoke.out.clear();
  now += 2s;
  spoke.device->initiate_handshake(*spoke.peer, now, spoke.out);
  deliver(spoke);   // initiation 2 reaches the hub before anything sent under session 1
  hub.out.clear();  // response 2 lost: the spoke keeps sending on session 1
  for (auto& d : delayed) EXPECT_EQ(receive(hub, d, spoke.address).drop, DropReason::none);
  ASSERT_EQ(hub.delivered.size(), 1u);
  EXPECT_EQ(hub.delivered[0], f);
}

TEST_F(DeviceTest, HandshakeResponseCountsAsHearingFromThePeer) {
  establish();
  ASSERT_EQ(send(spoke, frame_of(60, 1)).drop, DropReason::none);
  pump([](const Bytes&) { return true; });  // lost
  tick(10s);
  spoke.device->initiate_handshake(*spoke.peer, now, spoke.out);  // e.g. a rekey, answered
  pump();
  tick(kKeepaliveTimeout + kRekeyTimeout - 10s + 1s);
  // The peer answered the handshake, so no dead-peer handshake is started.
  EXPECT_EQ(spoke.peer->counters().get(Counter::handshakes_initiated), 2u);
}

TEST_F(DeviceTest, FragmentCountersAndReassemblyTimeoutReachPeerCounters) {
  establish();
  auto f = frame_of(3000, 7);
  ASSERT_EQ(send(spoke, f).datagrams, 3u);
  std::vector<Bytes> pieces;
  for (auto& d : spoke.out) pieces.emplace_back(d.data, d.data + d.size);
  spoke.out.clear();
  // Deliver pieces 2, 0 (out of order), 0 again (duplicate); piece 1 never comes.
  EXPECT_EQ(receive(hub, pieces[2], spoke.address).drop, DropReason::none);
  EXPECT_EQ(receive(hub, pieces[0], spoke.address).drop, DropReason::none);
  EXPECT_EQ(receive(hub, pieces[0], spoke.address).drop, DropReason::replay);  // replayed datagram
  auto c = hub.peer->counters().snapshot();
  EXPECT_EQ(c[Counter::rx_fragments], 2u);
  EXPECT_EQ(c[Counter::fragments_out_of_order], 1u);
  EXPECT_EQ(c.drop(DropReason::replay), 1u);
  // Later traffic sweeps the stale partial frame: counted as a timeout with one piece missing.
  now += 2s;
  ASSERT_EQ(send(spoke, frame_of(60, 1)).drop, DropReason::none);
  pump();
  c = hub.peer->counters().snapshot();
  EXPECT_EQ(c.drop(DropReason::reassembly_timeout), 1u);
  EXPECT_EQ(c[Counter::fragments_missing], 1u);
  EXPECT_EQ(c[Counter::reassembled], 0u);
  EXPECT_EQ(hub.delivered.size(), 1u);  // only the small frame
  auto s = spoke.peer->counters().snapshot();
  EXPECT_EQ(s[Counter::tx_fragments], 3u);
  EXPECT_EQ(s[Counter::tx_frames], 2u);
}

TEST(DeviceConfigTest, PathMtuIsClampedToTheSupportedRange) {
  DeviceConfig c;
  c.path_mtu = 100;
  Device low(c, std::make_unique<PskHandshaker>("hub", locally_available_aeads(), [] { return 1ull; }));
  EXPECT_EQ(low.config().path_mtu, kMinPathMtu);
  EXPECT_GE(low.max_datagram_size(), kMinPathMtu - 28);
  c.path_mtu = 70000;
  Device high(c, std::make_unique<PskHandshaker>("hub", locally_available_aeads(), [] { return 1ull; }));
  EXPECT_EQ(high.config().path_mtu, kMaxPathMtu);
  EXPECT_LE(high.max_datagram_size(), kMaxDatagramSize);
}
