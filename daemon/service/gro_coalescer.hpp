#pragma once
// The RX-side mirror of TsoSegmenter (userspace GRO): consecutive in-order
// TCP segments of one flow that arrive in the same receive batch are merged
// into one super-frame and written to the tap with a GSO virtio_net_hdr, so
// the bridge and the host's stack handle one packet instead of ~40. Only
// plain data segments (ACK, PSH on the last) with identical headers and a
// valid TCP checksum are merged (a bad checksum is never laundered into a
// trusted CHECKSUM_PARTIAL super-frame); everything else is written as is.
// Pure: no syscalls; one buffer, allocated once.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tso_segmenter.hpp"

namespace segbridge::daemon {

class GroCoalescer {
 public:
  static constexpr std::size_t kMaxSuperFrame = 65000;

  GroCoalescer();

  // Appends `frame` to the pending super-frame if it continues it; returns
  // false if it does not (the caller then flushes the pending one and calls
  // add() again, which starts a new super-frame, or writes `frame` alone if
  // it can never be merged: add() returns false on an empty coalescer).
  bool add(const std::uint8_t* frame, std::size_t len);

  bool empty() const { return segments_ == 0; }
  std::size_t segments() const { return segments_; }
  // The pending output: a virtio_net_hdr (all zero for a single segment)
  // followed by the frame. Valid until the next add()/clear().
  std::uint8_t* output();
  std::size_t output_size() const { return kVirtioNetHdrSize + len_; }
  void clear() { segments_ = 0; }

 private:
  struct Parsed {
    std::size_t l3 = 0, l4 = 0, headers = 0;
    bool v4 = false;
  };
  static bool parse(const std::uint8_t* frame, std::size_t len, Parsed& p);
  bool continues(const std::uint8_t* frame, std::size_t len, const Parsed& p) const;

  std::vector<std::uint8_t> buf_;  // [virtio_net_hdr][super-frame]
  std::size_t len_ = 0;            // super-frame bytes
  std::size_t segments_ = 0;
  Parsed flow_;
  std::size_t mss_ = 0;
  std::uint32_t next_seq_ = 0;
  bool closed_ = false;  // a short or PSH segment ended the run
};

}  // namespace segbridge::daemon
