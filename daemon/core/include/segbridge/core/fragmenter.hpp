#pragma once
// Fragmentation arithmetic (docs/PROTOCOL.md §5). A frame that does not fit
// one datagram is split *evenly* into the fewest pieces that fit, so runs of
// full-size frames give equal datagram sizes (UDP GSO needs that). Each piece
// is sealed as its own AEAD message with consecutive counters; the frame is
// identified by the counter of its first piece (no wrapping frame ids).
#include <cstddef>

#include "segbridge/core/endpoint.hpp"

namespace segbridge::core {

// Frame bytes one data datagram can carry over a path of `path_mtu` to an
// endpoint of `family`: path_mtu - IP - UDP - header - tag. 1436 for IPv4 at
// 1500, 1416 for IPv6.
std::size_t max_fragment_payload(unsigned path_mtu, Endpoint::Family family);

// Pieces needed for a frame of `frame_length` with at most `max_payload` bytes
// each: 1 = send whole; 0 = impossible (over kMaxFragments or kMaxFrameSize).
std::size_t fragment_count(std::size_t frame_length, std::size_t max_payload);

}  // namespace segbridge::core
