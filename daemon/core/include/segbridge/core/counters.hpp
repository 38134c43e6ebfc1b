#pragma once
// Per-peer counters, written lock-free by the thread that owns each group
// (RX, TX, control) and read by the control socket at any time. Names are
// stable: they appear in `segbridgectl status --json`.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "segbridge/core/drop_reason.hpp"

namespace segbridge::core {

enum class Counter : std::uint8_t {
  // RX thread
  rx_bytes,  // frame bytes delivered to the tap
  rx_frames,
  rx_fragments,  // authenticated fragments received
  reassembled,
  rx_keepalives,
  rx_datagrams,  // authenticated data datagrams
  fragments_out_of_order,
  fragments_missing,  // pieces never received of partial frames dropped (timeout/evict)
  // TX thread
  tx_bytes,  // frame bytes sealed
  tx_frames,
  tx_fragments,  // fragments sent (frames that needed > 1 datagram contribute each piece)
  tx_datagrams,
  tx_keepalives,
  // control thread
  handshakes_initiated,
  handshakes_completed,
  handshake_responses_sent,
  count_
};
inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::count_);
const char* to_string(Counter c);

struct CountersSnapshot {
  std::array<std::uint64_t, kCounterCount> values{};
  std::array<std::uint64_t, kDropReasonCount> drops{};
  std::uint64_t operator[](Counter c) const { return values[static_cast<std::size_t>(c)]; }
  std::uint64_t drop(DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
};

class Counters {
 public:
  void add(Counter c, std::uint64_t n = 1) {
    values_[static_cast<std::size_t>(c)].fetch_add(n, std::memory_order_relaxed);
  }
  void drop(DropReason r, std::uint64_t n = 1) {
    drops_[static_cast<std::size_t>(r)].fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t get(Counter c) const { return values_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed); }
  std::uint64_t get(DropReason r) const { return drops_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed); }
  CountersSnapshot snapshot() const;

 private:
  // RX counters then TX counters: 8 per 64-byte line, so the two threads do not share lines.
  alignas(64) std::array<std::atomic<std::uint64_t>, kCounterCount> values_{};
  alignas(64) std::array<std::atomic<std::uint64_t>, kDropReasonCount> drops_{};
};

}  // namespace segbridge::core
