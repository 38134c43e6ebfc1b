#include "segbridge/core/datagram_batch.hpp"

namespace segbridge::core {

DatagramBatch::DatagramBatch(std::size_t capacity, std::size_t slot_size)
    : arena_(new std::uint8_t[capacity * slot_size]), views_(capacity), slot_size_(slot_size) {
  for (std::size_t i = 0; i < capacity; ++i) views_[i] = Datagram{arena_.get() + i * slot_size, 0, Endpoint(), 0};
}

void DatagramBatch::commit(std::size_t size, const Endpoint& to, std::uint32_t peer) {
  auto& d = views_[count_++];
  d.size = size;
  d.to = to;
  d.peer = peer;
}

}  // namespace segbridge::core
