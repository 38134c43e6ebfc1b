#pragma once
// Sliding anti-replay window in the style of RFC 6479 (as wireguard-go's
// replay.go): a ring of 128 64-bit blocks, a window of 8128 counters. Only
// consulted after the AEAD authenticated the packet, so a forged counter can
// never move the window. Owned by the RX path; not thread-safe.
#include <array>
#include <cstdint>

#include "segbridge/core/constants.hpp"

namespace segbridge::core {

class ReplayWindow {
 public:
  // Counters >= limit are always rejected (REJECT_AFTER_MESSAGES).
  explicit ReplayWindow(std::uint64_t limit = kRejectAfterMessages) : limit_(limit) {}
  void reset();
  // True (and the counter is recorded) if `counter` is new and inside the window.
  bool check_and_update(std::uint64_t counter);
  // Highest accepted counter + 1 (0: nothing accepted yet).
  std::uint64_t highest() const { return last_; }

 private:
  std::array<std::uint64_t, kReplayBlocks> blocks_{};
  std::uint64_t last_ = 0;  // highest counter seen + 1 (0 = nothing seen)
  std::uint64_t limit_;
};

}  // namespace segbridge::core
