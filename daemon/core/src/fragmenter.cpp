#include "segbridge/core/fragmenter.hpp"

#include "segbridge/core/constants.hpp"

namespace segbridge::core {

std::size_t max_fragment_payload(unsigned path_mtu, Endpoint::Family family) {
  std::size_t ip = family == Endpoint::Family::ipv6 ? kIpv6HeaderSize : kIpv4HeaderSize;
  std::size_t overhead = ip + kUdpHeaderSize + kDataOverhead;
  if (path_mtu <= overhead) return 0;
  std::size_t budget = path_mtu - overhead;
  return budget > kMaxDatagramSize - kDataOverhead ? kMaxDatagramSize - kDataOverhead : budget;
}

std::size_t fragment_count(std::size_t frame_length, std::size_t max_payload) {
  if (frame_length > kMaxFrameSize || max_payload == 0) return 0;
  if (frame_length <= max_payload) return 1;
  std::size_t n = (frame_length + max_payload - 1) / max_payload;
  return n > kMaxFragments ? 0 : n;
}

}  // namespace segbridge::core
