#include "segbridge/core/replay_window.hpp"

#include <gtest/gtest.h>

using namespace segbridge::core;

TEST(ReplayWindow, AcceptsCounterZeroOnceAndRejectsDuplicates) {
  ReplayWindow w;
  EXPECT_TRUE(w.check_and_update(0));
  EXPECT_FALSE(w.check_and_update(0));
  EXPECT_TRUE(w.check_and_update(1));
  EXPECT_FALSE(w.check_and_update(1));
}

TEST(ReplayWindow, AcceptsReorderingInsideTheWindow) {
  ReplayWindow w;
  for (std::uint64_t c = 100; c > 0; --c) EXPECT_TRUE(w.check_and_update(c)) << c;
  EXPECT_TRUE(w.check_and_update(0));
  for (std::uint64_t c = 0; c <= 100; ++c) EXPECT_FALSE(w.check_and_update(c)) << c;
}

TEST(ReplayWindow, WindowBoundaryIsExactly8128) {
  ReplayWindow w;
  const std::uint64_t top = 20000;
  EXPECT_TRUE(w.check_and_update(top));
  EXPECT_TRUE(w.check_and_update(top - kReplayWindowSize));       // oldest still inside
  EXPECT_FALSE(w.check_and_update(top - kReplayWindowSize - 1));  // just outside
  EXPECT_FALSE(w.check_and_update(top - kReplayWindowSize));      // now a duplicate
  EXPECT_TRUE(w.check_and_update(top - 1));
}

TEST(ReplayWindow, FarFutureJumpClearsOldBitsButRejectsOldCounters) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 10000; ++c) ASSERT_TRUE(w.check_and_update(c));
  const std::uint64_t far = 1'000'000'000ull;
  EXPECT_TRUE(w.check_and_update(far));
  EXPECT_FALSE(w.check_and_update(9999));  // way behind now
  // Counters within the window behind the jump were never seen: accepted once.
  // Their blocks alias the blocks of old counters, so this proves the jump cleared them.
  for (std::uint64_t c = far - 1; c > far - kReplayWindowSize; c -= 61) {
    EXPECT_TRUE(w.check_and_update(c)) << c;
    EXPECT_FALSE(w.check_and_update(c)) << c;
  }
}

TEST(ReplayWindow, SmallForwardStepsClearOnlyPassedBlocks) {
  ReplayWindow w;
  // Walk forward with gaps of 70 (crosses a block each time); skipped counters
  // within the window stay acceptable exactly once.
  for (std::uint64_t c = 0; c < 70 * 200; c += 70) ASSERT_TRUE(w.check_and_update(c));
  std::uint64_t top = 70 * 199;
  for (std::uint64_t c = top - 1; c + kReplayWindowSize > top && c > 0; c -= 7) {
    bool seen = c % 70 == 0;
    EXPECT_EQ(w.check_and_update(c), !seen) << c;
  }
}

TEST(ReplayWindow, RejectsAtAndAboveTheLimit) {
  ReplayWindow w(1000);
  EXPECT_TRUE(w.check_and_update(999));
  EXPECT_FALSE(w.check_and_update(1000));
  EXPECT_FALSE(w.check_and_update(~0ull));
  ReplayWindow d;
  EXPECT_FALSE(d.check_and_update(kRejectAfterMessages));
  EXPECT_TRUE(d.check_and_update(kRejectAfterMessages - 1));
  d.reset();
  EXPECT_TRUE(d.check_and_update(5));
}
