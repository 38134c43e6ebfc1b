// The data path on real threads: a TX thread sealing on the spoke and an RX
// thread opening on the hub while both control threads rekey over and over
// (publishing new sessions and index tables under the data path's feet).
// Run under ASan/UBSan (and TSan by hand); asserts that no frame is lost,
// corrupted, or rejected as unauthenticated/replayed/unknown.
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "segbridge/core/device.hpp"
#include "segbridge/core/psk_handshake.hpp"

using namespace segbridge::core;
using namespace std::chrono_literals;

namespace {
using Bytes = std::vector<std::uint8_t>;

// Test plumbing only (the core itself takes no locks).
class Queue {
 public:
  void push(Bytes b) {
    std::lock_guard<std::mutex> l(m_);
    q_.push_back(std::move(b));
  }
  bool pop(Bytes* b) {
    std::lock_guard<std::mutex> l(m_);
    if (q_.empty()) return false;
    *b = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex m_;
  std::deque<Bytes> q_;
};

Bytes make_frame(std::uint32_t seq) {
  std::size_t size = 60 + (seq * 397) % 3000;  // many sizes, a third fragmented
  Bytes f(size);
  for (std::size_t i = 0; i < size; ++i) f[i] = static_cast<std::uint8_t>(seq * 31 + i);
  f[0] = static_cast<std::uint8_t>(seq);
  f[1] = static_cast<std::uint8_t>(seq >> 8);
  f[2] = static_cast<std::uint8_t>(seq >> 16);
  return f;
}
}  // namespace

TEST(Threading, TxRxRunConcurrentlyWithRekeys) {
  ASSERT_GE(sodium_init(), 0);
  std::atomic<std::int64_t> clock_ns{std::chrono::nanoseconds(100h).count()};
  auto now = [&] { return TimePoint(std::chrono::nanoseconds(clock_ns.load())); };
  std::atomic<std::uint64_t> wall{1000};
  SecretKey psk = SecretKey::random();
  Endpoint hub_ep = *Endpoint::parse("192.0.2.1:7440"), spoke_ep = *Endpoint::parse("192.0.2.2:7440");
  Device hub(DeviceConfig{}, std::make_unique<PskHandshaker>("hub", locally_available_aeads(), [&] { return ++wall; }));
  Device spoke(DeviceConfig{},
               std::make_unique<PskHandshaker>("sitea", locally_available_aeads(), [&] { return ++wall; }));
  PeerConfig a;
  a.name = "sitea";
  a.credentials.psk = psk;
  PeerConfig b;
  b.name = "hub";
  b.endpoint = hub_ep;
  b.persistent = true;
  b.credentials.psk = psk;
  std::string error;
  auto hub_peer = hub.add_peer(a, &error);
  auto spoke_peer = spoke.add_peer(b, &error);
  ASSERT_TRUE(hub_peer && spoke_peer);

  Queue to_hub_data, to_hub_handshake, to_spoke_handshake;
  auto route_from_spoke = [&](DatagramBatch& out) {
    for (auto& d : out) {
      Bytes bytes(d.data, d.data + d.size);
      (Device::classify(ConstBytes(bytes.data(), bytes.size())) == DatagramClass::data ? to_hub_data : to_hub_handshake)
          .push(std::move(bytes));
    }
    out.clear();
  };
  std::atomic<bool> stop{false};
  std::atomic<int> rekeys{0};
  std::atomic<bool> rekey_wanted{false};
  std::atomic<bool> rx_done{false};

  std::thread spoke_control([&] {
    DatagramBatch out(64, 2048);
    while (!stop) {
      Bytes d;
      while (to_spoke_handshake.pop(&d)) spoke.on_handshake(ConstBytes(d.data(), d.size()), hub_ep, now(), out);
      spoke.on_timer(now(), out);
      if (rekey_wanted.exchange(false)) {
        // Past the hub's 20 ms flood limit, well inside the 1 s reassembly timeout.
        clock_ns += std::chrono::nanoseconds(100ms).count();
        spoke.initiate_handshake(*spoke_peer, now(), out);
        ++rekeys;
      }
      route_from_spoke(out);
      std::this_thread::yield();
    }
  });
  std::thread hub_control([&] {
    DatagramBatch out(64, 2048);
    while (!stop) {
      Bytes d;
      while (to_hub_handshake.pop(&d)) hub.on_handshake(ConstBytes(d.data(), d.size()), spoke_ep, now(), out);
      hub.on_timer(now(), out);
      for (auto& o : out) to_spoke_handshake.push(Bytes(o.data, o.data + o.size));
      out.clear();
      std::this_thread::yield();
    }
  });

  const std::uint32_t kFrames = 20000;
  std::atomic<std::uint32_t> delivered_count{0};
  std::atomic<std::uint32_t> sent{0};
  std::thread tx([&] {
    DatagramBatch out(64, 2048);
    std::uint32_t seq = 0;
    while (seq < kFrames && !stop) {
      Bytes f = make_frame(seq);
      auto r = spoke.send_frame(*spoke_peer, ConstBytes(f.data(), f.size()), now(), out);
      if (r.drop == DropReason::no_session) {
        std::this_thread::yield();
        continue;
      }
      ASSERT_EQ(r.drop, DropReason::none);
      ++seq;
      sent = seq;
      if (seq % 2000 == 0) {
        // A receiver keeps one session back (as in WireGuard); real rekeys are
        // 120 s apart, far more than any queue. So let RX drain what was sent
        // under older sessions, then rekey while this thread keeps sealing.
        route_from_spoke(out);
        while (delivered_count.load() < seq && !rx_done) std::this_thread::yield();
        rekey_wanted = true;
      }
      if (out.free_slots() < kMaxFragments) route_from_spoke(out);
    }
    route_from_spoke(out);
  });

  std::uint32_t delivered = 0, corrupted = 0, out_of_sequence = 0;
  std::thread rx([&] {
    RxContext context;
    Bytes d;
    std::uint32_t expect = 0;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (delivered < kFrames && std::chrono::steady_clock::now() < deadline) {
      if (!to_hub_data.pop(&d)) {
        std::this_thread::yield();
        continue;
      }
      auto r = hub.on_data(context, MutableBytes(d.data(), d.size()), spoke_ep, now());
      if (r.frame.empty()) continue;
      Bytes got(r.frame.begin(), r.frame.end());
      std::uint32_t seq = got.size() < 3 ? 0 : got[0] | (got[1] << 8) | (got[2] << 16);
      if (got != make_frame(seq)) ++corrupted;
      if (seq != expect) ++out_of_sequence;
      expect = seq + 1;
      ++delivered;
      delivered_count = delivered;
    }
    rx_done = true;
  });
  tx.join();
  rx.join();
  stop = true;
  spoke_control.join();
  hub_control.join();

  EXPECT_EQ(sent.load(), kFrames);
  EXPECT_EQ(delivered, kFrames);
  EXPECT_EQ(corrupted, 0u);
  EXPECT_EQ(out_of_sequence, 0u);
  EXPECT_GT(rekeys.load(), 3);
  auto c = hub_peer->counters().snapshot();
  for (std::size_t i = 1; i < kDropReasonCount; ++i) {
    // A forced rekey can coincide with a timer retry at the same fake instant:
    // the hub's flood limit rightly drops one initiation. Data drops must be 0.
    if (static_cast<DropReason>(i) == DropReason::handshake_flood) continue;
    if (c.drops[i] || hub.counters().snapshot().drops[i])
      ADD_FAILURE() << "hub drop " << to_string(static_cast<DropReason>(i)) << ": peer " << c.drops[i] << " device "
                    << hub.counters().snapshot().drops[i];
  }
  EXPECT_EQ(c.drop(DropReason::unauthenticated), 0u);
  EXPECT_EQ(c.drop(DropReason::replay), 0u);
  EXPECT_EQ(hub.counters().get(DropReason::unknown_index), 0u);
  EXPECT_GE(c[Counter::handshakes_completed], 4u);
}
