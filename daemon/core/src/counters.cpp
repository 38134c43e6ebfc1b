#include "segbridge/core/counters.hpp"

namespace segbridge::core {

const char* to_string(Counter c) {
  switch (c) {
    case Counter::rx_bytes:
      return "rx_bytes";
    case Counter::rx_frames:
      return "rx_frames";
    case Counter::rx_fragments:
      return "rx_fragments";
    case Counter::reassembled:
      return "reassembled";
    case Counter::rx_keepalives:
      return "rx_keepalives";
    case Counter::rx_datagrams:
      return "rx_datagrams";
    case Counter::fragments_out_of_order:
      return "fragments_out_of_order";
    case Counter::fragments_missing:
      return "fragments_missing";
    case Counter::tx_bytes:
      return "tx_bytes";
    case Counter::tx_frames:
      return "tx_frames";
    case Counter::tx_fragments:
      return "tx_fragments";
    case Counter::tx_datagrams:
      return "tx_datagrams";
    case Counter::tx_keepalives:
      return "tx_keepalives";
    case Counter::handshakes_initiated:
      return "handshakes_initiated";
    case Counter::handshakes_completed:
      return "handshakes_completed";
    case Counter::handshake_responses_sent:
      return "handshake_responses_sent";
    case Counter::count_:
      break;
  }
  return "unknown";
}

CountersSnapshot Counters::snapshot() const {
  CountersSnapshot s;
  for (std::size_t i = 0; i < kCounterCount; ++i) s.values[i] = values_[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kDropReasonCount; ++i) s.drops[i] = drops_[i].load(std::memory_order_relaxed);
  return s;
}

}  // namespace segbridge::core
