#include "segbridge/core/replay_window.hpp"

namespace segbridge::core {

void ReplayWindow::reset() {
  blocks_.fill(0);
  last_ = 0;
}

// RFC 6479: the bitmap is a ring of blocks; moving the window forward clears
// only the blocks it passes over, so a far jump costs at most kReplayBlocks.
bool ReplayWindow::check_and_update(std::uint64_t counter) {
  constexpr std::uint64_t kBlockMask = kReplayBlocks - 1;
  constexpr std::uint64_t kBitMask = kReplayBlockBits - 1;
  constexpr unsigned kBlockShift = 6;
  if (counter >= limit_) return false;
  std::uint64_t index_block = counter >> kBlockShift;
  if (counter >= last_) {
    // Moving forward: clear the blocks the head passes over (all zero initially).
    if (last_ != 0) {
      std::uint64_t current = (last_ - 1) >> kBlockShift;
      std::uint64_t diff = index_block - current;
      if (diff > kReplayBlocks) diff = kReplayBlocks;
      for (std::uint64_t i = 1; i <= diff; ++i) blocks_[(current + i) & kBlockMask] = 0;
    }
    last_ = counter + 1;
  } else if (last_ - 1 - counter > kReplayWindowSize) {
    return false;  // too old, left of the window
  }
  std::uint64_t bit = std::uint64_t{1} << (counter & kBitMask);
  std::uint64_t& block = blocks_[index_block & kBlockMask];
  if (block & bit) return false;
  block |= bit;
  return true;
}

}  // namespace segbridge::core
