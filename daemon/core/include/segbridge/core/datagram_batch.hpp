#pragma once
// Caller-owned output buffers: a fixed arena of `capacity` slots of
// `slot_size` bytes, allocated once and reused (clear() between batches).
// The core writes sealed datagrams into it; the runtime hands them to
// sendmmsg. One batch per thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "segbridge/core/endpoint.hpp"

namespace segbridge::core {

class DatagramBatch {
 public:
  struct Datagram {
    std::uint8_t* data;
    std::size_t size;
    Endpoint to;
    std::uint32_t peer;  // PeerId of the destination
  };

  DatagramBatch(std::size_t capacity, std::size_t slot_size);

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::size_t capacity() const { return views_.size(); }
  std::size_t free_slots() const { return views_.size() - count_; }
  std::size_t slot_size() const { return slot_size_; }
  const Datagram& operator[](std::size_t i) const { return views_[i]; }
  const Datagram* begin() const { return views_.data(); }
  const Datagram* end() const { return views_.data() + count_; }
  void clear() { count_ = 0; }

  // Core side: claim the next slot (nullptr if full) and commit it with its size.
  std::uint8_t* claim() { return count_ < views_.size() ? views_[count_].data : nullptr; }
  void commit(std::size_t size, const Endpoint& to, std::uint32_t peer);
  // Undo the last `n` commits (a multi-fragment frame that could not finish).
  void rollback(std::size_t n) { count_ = n > count_ ? 0 : count_ - n; }

 private:
  std::unique_ptr<std::uint8_t[]> arena_;
  std::vector<Datagram> views_;
  std::size_t slot_size_;
  std::size_t count_ = 0;
};

}  // namespace segbridge::core
