#pragma once
// TX-side coalescing for hosts without segmentation offload: every frame the
// tap hands us is then MTU-sized (1514 bytes), does not fit one tunnel
// datagram and would cost two fragments. Among the frames drained from one
// tap in one wakeup, in-order TCP segments of one flow are merged with the
// RX path's GroCoalescer (same merge rules: plain ACK/PSH data, identical
// L2/IP/TCP headers and options, contiguous sequence numbers, valid TCP
// checksum) and the merged payload is cut again by a TsoSegmenter at the MSS
// that fits one datagram, with fresh checksums. Nothing is held across
// wakeups: the caller flushes at the end of each drained batch.
// Pure: no syscalls, no allocation after construction.
#include <cstddef>
#include <cstdint>

#include "gro_coalescer.hpp"
#include "tso_segmenter.hpp"

namespace segbridge::daemon {

class TxCoalescer {
 public:
  // Below this datagram payload the cut could need more segments than the
  // segmenter holds; frames then pass through unmerged (never happens with a
  // path MTU >= 1280).
  static constexpr std::size_t kMinMaxFrame = 1024;

  // Offers one complete Ethernet frame (checksums already complete). `emit`
  // is called with (const std::uint8_t*, std::size_t) for every frame that
  // must be sent now, in order; pointers are valid only during the call.
  template <class Emit>
  void push(const std::uint8_t* frame, std::size_t len, std::size_t max_frame, Emit&& emit) {
    if (max_frame < kMinMaxFrame) {
      flush(max_frame, emit);
      emit(frame, len);
      return;
    }
    if (gro_.add(frame, len)) return;
    flush(max_frame, emit);
    if (!gro_.add(frame, len)) emit(frame, len);
  }

  // Emits what is pending (the original frame if nothing was merged to it).
  template <class Emit>
  void flush(std::size_t max_frame, Emit&& emit) {
    if (gro_.empty()) return;
    std::uint8_t* out = gro_.output();
    const std::size_t len = gro_.output_size() - kVirtioNetHdrSize;
    if (gro_.segments() == 1) {
      emit(static_cast<const std::uint8_t*>(out + kVirtioNetHdrSize), len);
    } else {
      merged_ += gro_.segments();
      auto r = cutter_.process(VirtioNetHdr::parse(out), out + kVirtioNetHdrSize, len, max_frame);
      // GroCoalescer only builds super-frames the segmenter accepts and
      // push() keeps max_frame large enough; anything else is a bug, counted.
      if (r == TsoSegmenter::Result::segmented) {
        for (std::size_t i = 0; i < cutter_.count(); ++i) emit(cutter_.frame(i).data, cutter_.frame(i).size);
      } else {
        ++cut_failed_;
      }
    }
    gro_.clear();
  }

  bool empty() const { return gro_.empty(); }
  // Input segments that went into a merged super-frame (statistics/tests).
  std::uint64_t merged_segments() const { return merged_; }
  std::uint64_t cut_failed() const { return cut_failed_; }

 private:
  GroCoalescer gro_;
  TsoSegmenter cutter_;
  std::uint64_t merged_ = 0;
  std::uint64_t cut_failed_ = 0;
};

}  // namespace segbridge::daemon
