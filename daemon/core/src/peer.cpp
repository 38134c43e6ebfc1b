#include "segbridge/core/peer.hpp"

#include <cstring>
#include <type_traits>

namespace segbridge::core {

const char* to_string(PeerState s) {
  switch (s) {
    case PeerState::idle:
      return "idle";
    case PeerState::handshaking:
      return "handshaking";
    case PeerState::established:
      return "established";
  }
  return "unknown";
}

// Endpoint (28 bytes used) packed into four 64-bit words so readers copy it
// with plain atomic loads: no torn reads, no lock.
static_assert(std::is_trivially_copyable<Endpoint>::value, "EndpointCell copies Endpoint bytewise");

Endpoint EndpointCell::load() const {
  std::uint64_t w[4];
  for (;;) {
    std::uint32_t s1 = sequence_.load(std::memory_order_acquire);
    if (s1 & 1) continue;  // writer in progress
    for (int i = 0; i < 4; ++i) w[i] = words_[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sequence_.load(std::memory_order_relaxed) == s1) break;
  }
  Endpoint e;
  static_assert(sizeof(Endpoint) <= sizeof w, "Endpoint fits the cell");
  std::memcpy(static_cast<void*>(&e), w, sizeof(Endpoint));
  return e;
}

void EndpointCell::store(const Endpoint& e) {
  std::lock_guard<std::mutex> lock(writer_);
  std::uint64_t w[4] = {};
  std::memcpy(w, static_cast<const void*>(&e), sizeof(Endpoint));
  std::uint32_t s = sequence_.load(std::memory_order_relaxed);
  sequence_.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (int i = 0; i < 4; ++i) words_[i].store(w[i], std::memory_order_relaxed);
  sequence_.store(s + 2, std::memory_order_release);
}

Peer::Peer(PeerId id, const PeerConfig& config) : id_(id), config_(config) {
  config_.credentials = PeerCredentials{config.credentials.name, std::nullopt, std::nullopt};  // handshaker keeps keys
  if (config.endpoint) endpoint_.store(config.endpoint->unmapped());
}

Peer::~Peer() = default;

std::optional<TimePoint> Peer::last_handshake() const {
  auto t = last_handshake_ticks_.load(std::memory_order_relaxed);
  if (t == INT64_MIN) return std::nullopt;
  return from_ticks(t);
}

std::optional<AeadAlgorithm> Peer::current_aead() const {
  auto s = std::atomic_load(&published_send_);
  if (!s) return std::nullopt;
  return s->aead();
}

}  // namespace segbridge::core
