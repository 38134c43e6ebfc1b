#pragma once
// Bounded reassembly of authenticated fragments (docs/PROTOCOL.md §5). Per
// peer at most kReassemblySlots partial frames of at most kMaxFrameSize bytes;
// a partial frame older than kReassemblyTimeout is discarded; when all slots
// are busy the oldest is evicted. Slot buffers are allocated on first use and
// then reused: no allocation per frame. RX thread only.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "segbridge/core/bytes.hpp"
#include "segbridge/core/constants.hpp"
#include "segbridge/core/session.hpp"
#include "segbridge/core/wire_format.hpp"

namespace segbridge::core {

struct ReassemblyStats {
  std::uint64_t fragments = 0;     // fragments accepted into a slot
  std::uint64_t reassembled = 0;   // frames completed
  std::uint64_t out_of_order = 0;  // fragment arrived before a lower-index one of its frame
  std::uint64_t duplicate = 0;     // fragment already held
  std::uint64_t inconsistent = 0;  // disagrees with its frame (count/length)
  std::uint64_t timed_out = 0;     // partial frames dropped after the timeout
  std::uint64_t evicted = 0;       // partial frames evicted for a newer one
  std::uint64_t missing = 0;       // fragments never received of dropped partial frames
};

class Reassembler {
 public:
  enum class Status { partial, complete, duplicate, inconsistent };
  struct Result {
    Status status;
    ConstBytes frame;  // complete: valid until the next add()/expire()
  };

  explicit Reassembler(std::size_t max_slots = kReassemblySlots, Duration timeout = kReassemblyTimeout);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  // `header` was decoded and its packet authenticated and replay-checked.
  // session_index distinguishes sessions (counters restart per session).
  Result add(std::uint32_t session_index, const DataHeader& header, ConstBytes payload, TimePoint now);
  // Drops partial frames older than the timeout; returns how many.
  std::size_t expire(TimePoint now);
  void clear();

  std::size_t partial_frames() const;
  // Bytes of slot memory currently allocated (bounded by max_slots * kMaxFrameSize).
  std::size_t allocated_bytes() const;
  const ReassemblyStats& stats() const { return stats_; }

 private:
  struct Slot;
  Slot* find_or_claim(std::uint32_t session_index, std::uint64_t base, const DataHeader& header, TimePoint now);
  void drop_slot(Slot& slot);
  std::vector<Slot> slots_;
  std::size_t max_slots_;
  Duration timeout_;
  ReassemblyStats stats_;
};

}  // namespace segbridge::core
