// Per-frame costs of the protocol core: seal/open of a 1514-byte frame
// (ChaCha20-Poly1305, AES-256-GCM), the whole TX+RX path through Device
// (fragment + seal + open + replay + reassemble), and the replay window.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <vector>

#include "segbridge/core/device.hpp"
#include "segbridge/core/psk_handshake.hpp"

using namespace segbridge::core;

namespace {

void BM_SealOpen(benchmark::State& state, AeadAlgorithm algorithm, bool open) {
  if (sodium_init() < 0) return state.SkipWithError("sodium_init");
  if (algorithm == AeadAlgorithm::aes256_gcm && !crypto_aead_aes256gcm_is_available())
    return state.SkipWithError("no AES-NI");
  SecretKey k = SecretKey::random();
  AeadKey key(algorithm, k);
  std::vector<std::uint8_t> frame(1514, 0x5a), out(kDataHeaderSize + 1514 + kAeadTagSize);
  std::uint64_t counter = 0;
  for (auto _ : state) {
    key.seal(counter, ConstBytes(out.data(), kDataHeaderSize), ConstBytes(frame.data(), frame.size()),
             out.data() + kDataHeaderSize, out.data() + kDataHeaderSize + 1514);
    if (open) {
      bool ok = key.open(counter, ConstBytes(out.data(), kDataHeaderSize),
                         MutableBytes(out.data() + kDataHeaderSize, 1514), out.data() + kDataHeaderSize + 1514);
      benchmark::DoNotOptimize(ok);
    }
    ++counter;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1514);
}
BENCHMARK_CAPTURE(BM_SealOpen, chacha_seal, AeadAlgorithm::chacha20_poly1305, false);
BENCHMARK_CAPTURE(BM_SealOpen, chacha_seal_open, AeadAlgorithm::chacha20_poly1305, true);
BENCHMARK_CAPTURE(BM_SealOpen, aesgcm_seal, AeadAlgorithm::aes256_gcm, false);
BENCHMARK_CAPTURE(BM_SealOpen, aesgcm_seal_open, AeadAlgorithm::aes256_gcm, true);

// Two devices with an established session; each iteration pushes one frame
// through spoke.send_frame -> hub.on_data (all pieces), as the data path does.
struct Pair {
  TimePoint now = TimePoint(std::chrono::hours(1));
  std::uint64_t wall = 1;
  std::unique_ptr<Device> hub, spoke;
  std::shared_ptr<Peer> spoke_peer;
  DatagramBatch out{64, 2048};
  RxContext rx;
  Endpoint hub_ep = *Endpoint::parse("192.0.2.1:7440"), spoke_ep = *Endpoint::parse("192.0.2.2:7440");

  explicit Pair(AeadSet aeads) {
    SecretKey psk = SecretKey::random();
    hub = std::make_unique<Device>(DeviceConfig{},
                                   std::make_unique<PskHandshaker>("hub", aeads, [this] { return wall; }));
    spoke = std::make_unique<Device>(DeviceConfig{},
                                     std::make_unique<PskHandshaker>("sitea", aeads, [this] { return wall; }));
    PeerConfig a;
    a.name = "sitea";
    a.credentials.psk = psk;
    PeerConfig b;
    b.name = "hub";
    b.endpoint = hub_ep;
    b.persistent = true;
    b.credentials.psk = psk;
    std::string e;
    hub->add_peer(a, &e);
    spoke_peer = spoke->add_peer(b, &e);
    spoke->on_timer(now, out);
    for (int round = 0; round < 4; ++round) {
      std::vector<std::vector<std::uint8_t>> q;
      for (auto& d : out) q.emplace_back(d.data, d.data + d.size);
      out.clear();
      for (auto& d : q) {
        bool to_hub = round % 2 == 0;
        (to_hub ? hub : spoke)->on_datagram(MutableBytes(d.data(), d.size()), to_hub ? spoke_ep : hub_ep, now, out);
      }
    }
    hub->on_timer(now, out);
    out.clear();
  }
};

void BM_DevicePath(benchmark::State& state, AeadAlgorithm algorithm) {
  if (sodium_init() < 0) return state.SkipWithError("sodium_init");
  if (algorithm == AeadAlgorithm::aes256_gcm && !crypto_aead_aes256gcm_is_available())
    return state.SkipWithError("no AES-NI");
  Pair p(aead_bit(algorithm));
  std::vector<std::uint8_t> frame(static_cast<std::size_t>(state.range(0)), 0x11);
  benchmark::IterationCount delivered = 0;
  for (auto _ : state) {
    p.out.clear();
    auto tx = p.spoke->send_frame(*p.spoke_peer, ConstBytes(frame.data(), frame.size()), p.now, p.out);
    if (tx.drop != DropReason::none) return state.SkipWithError("send_frame failed");
    for (auto& d : p.out) {
      auto r = p.hub->on_data(p.rx, MutableBytes(d.data, d.size), p.spoke_ep, p.now);
      delivered += r.frame.empty() ? 0 : 1;
    }
  }
  if (delivered != state.iterations()) state.SkipWithError("frames lost");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_DevicePath, chacha, AeadAlgorithm::chacha20_poly1305)->Arg(64)->Arg(1436)->Arg(1514)->Arg(9018);
BENCHMARK_CAPTURE(BM_DevicePath, aesgcm, AeadAlgorithm::aes256_gcm)->Arg(64)->Arg(1436)->Arg(1514)->Arg(9018);

void BM_ReplayWindowInOrder(benchmark::State& state) {
  ReplayWindow w;
  std::uint64_t c = 0;
  for (auto _ : state) benchmark::DoNotOptimize(w.check_and_update(c++));
}
BENCHMARK(BM_ReplayWindowInOrder);

void BM_ReplayWindowReordered(benchmark::State& state) {
  ReplayWindow w;
  std::uint64_t c = 0;
  for (auto _ : state) {
    // pairs swapped plus an occasional 1000-packet gap: typical multi-queue reordering
    std::uint64_t v = (c ^ 1) + ((c & 1023) == 0 ? 1000 : 0);
    benchmark::DoNotOptimize(w.check_and_update(v));
    ++c;
  }
}
BENCHMARK(BM_ReplayWindowReordered);

}  // namespace
