// Tap offload helpers on arbitrary input: TsoSegmenter (what the local tap
// hands over, with any virtio_net_hdr) never overruns and never produces a
// frame larger than asked (a UDP super-frame: larger than its input);
// GroCoalescer (TCP and UDP) (fed frames that arrived from a
// remote site) never overruns and never emits more than it may; TxCoalescer
// (the segments, then the raw frame) never fails a cut and emits only frames
// that fit one datagram or are one of its inputs, unchanged.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "service/gro_coalescer.hpp"
#include "service/tso_segmenter.hpp"
#include "service/tx_coalescer.hpp"

using namespace segbridge::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kVirtioNetHdrSize + 1) return 0;
  static TsoSegmenter segmenter;
  static GroCoalescer coalescer;
  const std::size_t max_frame = 600 + data[0] * 4;  // 600..1620
  std::vector<std::uint8_t> frame(data + kVirtioNetHdrSize + 1, data + size);
  auto hdr = VirtioNetHdr::parse(data + 1);
  auto r = segmenter.process(hdr, frame.data(), frame.size(), max_frame);
  coalescer.clear();
  if (r == TsoSegmenter::Result::segmented || r == TsoSegmenter::Result::passthrough) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < segmenter.count(); ++i) {
      auto f = segmenter.frame(i);
      // UDP is cut at gso_size exactly (datagram boundaries), not at max_frame.
      const bool uso = (hdr.gso_type & 0x7F) == kVirtioNetHdrGsoUdpL4;
      if (r == TsoSegmenter::Result::segmented && f.size > (uso ? frame.size() : max_frame)) std::abort();
      total += f.size;
      if (!coalescer.add(f.data, f.size, GroCoalescer::Flows::tcp_and_udp)) {
        coalescer.clear();
        coalescer.add(f.data, f.size, GroCoalescer::Flows::tcp_and_udp);
      }
    }
    if (r == TsoSegmenter::Result::passthrough && total != frame.size()) std::abort();

    static TxCoalescer tx;
    const std::size_t tx_max = std::max(max_frame, TxCoalescer::kMinMaxFrame);
    std::vector<TsoSegmenter::Frame> inputs;
    for (std::size_t i = 0; i < segmenter.count(); ++i) inputs.push_back(segmenter.frame(i));
    inputs.push_back({frame.data(), frame.size()});
    auto check = [&](const std::uint8_t* d, std::size_t n) {
      if (n <= tx_max) return;
      for (const auto& in : inputs) {
        if (in.size == n && std::memcmp(in.data, d, n) == 0) return;
      }
      std::abort();  // a merged-and-cut frame that does not fit one datagram
    };
    for (const auto& in : inputs) tx.push(in.data, in.size, tx_max, check);
    tx.flush(tx_max, check);
    if (tx.cut_failed() != 0) std::abort();
  }
  coalescer.clear();
  coalescer.add(frame.data(), frame.size(), GroCoalescer::Flows::tcp_and_udp);
  if (!coalescer.empty()) {
    const std::uint8_t* out = coalescer.output();
    if (coalescer.output_size() > kVirtioNetHdrSize + GroCoalescer::kMaxSuperFrame) std::abort();
    volatile std::uint8_t sink = out[coalescer.output_size() - 1];
    (void)sink;
  }
  return 0;
}
