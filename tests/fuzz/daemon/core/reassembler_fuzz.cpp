// A stream of fragment descriptors (index, count, length, counter, time step)
// driven by the input: the reassembler must stay within its memory bound,
// never return a frame of the wrong length, and never crash.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "segbridge/core/reassembler.hpp"

using namespace segbridge::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reassembler r(8, std::chrono::milliseconds(100));
  TimePoint now{};
  std::vector<std::uint8_t> payload(kMaxFrameSize, 0xA5);
  for (std::size_t i = 0; i + 7 <= size; i += 7) {
    DataHeader h;
    h.kind = DataKind::fragment;
    h.fragment_count = static_cast<std::uint8_t>(data[i] % 20);
    h.fragment_index = static_cast<std::uint8_t>(data[i + 1] % 20);
    h.frame_length = static_cast<std::uint16_t>((data[i + 2] | (data[i + 3] << 8)) % 9100);
    h.counter = data[i + 4] % 64;
    now += std::chrono::milliseconds(data[i + 5] % 50);
    std::size_t len = h.fragment_count && h.fragment_index < h.fragment_count
                          ? fragment_geometry(h.frame_length, h.fragment_count, h.fragment_index).size
                          : data[i + 6];
    if (data[i + 6] & 0x80) len = (len + data[i + 6]) % kMaxFrameSize;  // sometimes a wrong size
    auto res = r.add(data[i + 6] & 1, h, ConstBytes(payload.data(), len), now);
    if (res.status == Reassembler::Status::complete && res.frame.size != h.frame_length) std::abort();
    if (r.partial_frames() > 8 || r.allocated_bytes() > 8 * kMaxFrameSize) std::abort();
  }
  return 0;
}
