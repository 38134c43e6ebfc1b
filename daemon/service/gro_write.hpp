#pragma once
// Writing what a GroCoalescer holds into a tap, including the one case where
// the kernel may refuse it: a UDP super-frame (GSO UDP_L4, "USO") written to
// a kernel older than 6.2, whose virtio_net_hdr_to_skb knows no UDP_L4 and
// fails the write with EINVAL.
//
// Why no probe at tap creation: TUNSETOFFLOAD's TUN_F_USO4/6 only says what
// the kernel may hand us on READS (it would start giving the TX path USO
// super-frames); writes accept every GSO type the kernel knows regardless.
// A test write on a live bridge would put a frame on the LAN. So the first
// real USO write is the probe: if it is refused, the caller switches UDP
// merging off for that tap for good and the datagrams are cut back apart
// here and written one by one, so nothing is lost.
// Pure apart from the caller's write function (unit-testable with a fake).
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "gro_coalescer.hpp"
#include "tso_segmenter.hpp"

namespace segbridge::daemon {

struct GroWriteResult {
  std::size_t lost = 0;      // frames the tap did not take
  bool uso_refused = false;  // the kernel has no USO: merge TCP only from now on
};

// `write(const iovec* iov, int count, std::size_t frames)` writes one packet
// (`frames` frames) into the tap and returns 0, or the errno of the failure.
// `splitter` is scratch space for the fallback. Leaves `gro` as it was (the
// caller clears it).
template <class Write>
GroWriteResult write_coalesced(GroCoalescer& gro, TsoSegmenter& splitter, Write&& write) {
  GroWriteResult result;
  if (gro.empty()) return result;
  std::uint8_t* out = gro.output();
  const std::size_t frames = gro.segments();
  iovec iov{out, gro.output_size()};
  const int err = write(static_cast<const iovec*>(&iov), 1, frames);
  if (err == 0) return result;
  if (err != EINVAL || frames < 2 || !gro.udp()) {
    result.lost = frames;
    return result;
  }
  result.uso_refused = true;
  // Cut exactly at gso_size: the datagrams as they arrived (the IPv4 IDs
  // were consecutive, the checksums valid; a checksum of 0 gets a real one).
  const auto r = splitter.process(VirtioNetHdr::parse(out), out + kVirtioNetHdrSize,
                                  gro.output_size() - kVirtioNetHdrSize, std::numeric_limits<std::size_t>::max());
  if (r != TsoSegmenter::Result::segmented) {  // GroCoalescer built it: cannot happen
    result.lost = frames;
    return result;
  }
  static const std::uint8_t kPlainHeader[kVirtioNetHdrSize] = {};
  for (std::size_t i = 0; i < splitter.count(); ++i) {
    const TsoSegmenter::Frame f = splitter.frame(i);
    iovec one[2] = {{const_cast<std::uint8_t*>(kPlainHeader), kVirtioNetHdrSize},
                    {const_cast<std::uint8_t*>(f.data), f.size}};
    if (write(static_cast<const iovec*>(one), 2, std::size_t{1}) != 0) ++result.lost;
  }
  return result;
}

}  // namespace segbridge::daemon
