#pragma once
// A session (WireGuard: "keypair"): the result of one completed handshake.
// Immutable after creation except for
//   - send_counter: taken by whoever seals (TX thread, control thread for keepalives),
//   - replay window + received flag: RX thread only.
// Shared by shared_ptr between control/TX/RX; the keys are wiped when the last
// reference goes away (or at once by expire()).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "segbridge/core/aead.hpp"
#include "segbridge/core/replay_window.hpp"
#include "segbridge/core/secret_key.hpp"

namespace segbridge::core {

using TimePoint = std::chrono::steady_clock::time_point;

// What any handshake (PSK or Noise IK) produces.
struct SessionKeys {
  SecretKey send_key;
  SecretKey receive_key;
  std::uint32_t local_index = 0;   // our index: peers put it in data messages to us
  std::uint32_t remote_index = 0;  // theirs: we put it in data messages to them
  AeadAlgorithm aead = AeadAlgorithm::chacha20_poly1305;
  bool initiator = false;  // we sent the initiation (only the initiator rekeys on time)
};

class Session {
 public:
  Session(const SessionKeys& keys, TimePoint created);

  std::uint32_t local_index() const { return local_index_; }
  std::uint32_t remote_index() const { return remote_index_; }
  bool initiator() const { return initiator_; }
  TimePoint created() const { return created_; }
  AeadAlgorithm aead() const { return send_.algorithm(); }
  const AeadKey& send_key() const { return send_; }
  const AeadKey& receive_key() const { return receive_; }

  // Reserves `n` consecutive send counters; false once REJECT_AFTER_MESSAGES is near.
  bool reserve_counters(std::uint32_t n, std::uint64_t* first);
  std::uint64_t sent_messages() const { return send_counter_.load(std::memory_order_relaxed); }

  // RX thread only.
  ReplayWindow& replay_window() { return replay_; }
  // Set by RX on the first authenticated packet: confirms a responder-side session.
  void mark_received() { received_.store(true, std::memory_order_release); }
  bool received() const { return received_.load(std::memory_order_acquire); }

  bool expired(TimePoint now) const { return now - created_ >= kRejectAfterTime; }

 private:
  AeadKey send_;
  AeadKey receive_;
  std::uint32_t local_index_;
  std::uint32_t remote_index_;
  bool initiator_;
  TimePoint created_;
  alignas(64) std::atomic<std::uint64_t> send_counter_{0};
  alignas(64) ReplayWindow replay_;
  std::atomic<bool> received_{false};
};

}  // namespace segbridge::core
