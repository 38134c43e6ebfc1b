#include "segbridge/core/session.hpp"

namespace segbridge::core {

Session::Session(const SessionKeys& keys, TimePoint created)
    : send_(keys.aead, keys.send_key),
      receive_(keys.aead, keys.receive_key),
      local_index_(keys.local_index),
      remote_index_(keys.remote_index),
      initiator_(keys.initiator),
      created_(created) {}

bool Session::reserve_counters(std::uint32_t n, std::uint64_t* first) {
  // fetch_add keeps this lock-free even if several threads seal with one session.
  std::uint64_t c = send_counter_.fetch_add(n, std::memory_order_relaxed);
  if (c >= kRejectAfterMessages || kRejectAfterMessages - c < n) return false;
  *first = c;
  return true;
}

}  // namespace segbridge::core
