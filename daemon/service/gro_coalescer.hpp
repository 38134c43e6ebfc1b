#pragma once
// The RX-side mirror of TsoSegmenter (userspace GRO): consecutive frames of
// one flow that arrive in the same receive batch are merged into one
// super-frame and written to the tap with a GSO virtio_net_hdr, so the bridge
// and the host's stack handle one packet instead of ~40.
//  * TCP (GSO TCPV4/TCPV6): in-order plain data segments (ACK, PSH on the
//    last) with identical headers.
//  * UDP, when the caller allows it (GSO UDP_L4, "USO", Linux >= 6.2): up to
//    kMaxUdpSegments datagrams of one flow with the same payload size (the
//    last may be shorter) and consecutive IPv4 IDs, which the kernel's
//    segmentation (it numbers segments from the first ID) reproduces.
// Only frames with valid IPv4 header and L4 checksums are merged (a bad
// checksum is never laundered into a trusted CHECKSUM_PARTIAL super-frame;
// a UDP checksum of 0 on IPv4, "none", is accepted and the segments get a
// real one); everything else is written as is.
// Pure: no syscalls; one buffer, allocated once.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tso_segmenter.hpp"

namespace segbridge::daemon {

class GroCoalescer {
 public:
  static constexpr std::size_t kMaxSuperFrame = 65000;
  // UDP_MAX_SEGMENTS of the kernels that introduced USO (6.2; later ones take 128).
  static constexpr std::size_t kMaxUdpSegments = 64;
  // Which flows may be merged: the TX path and taps whose kernel refused a
  // USO write merge TCP only.
  enum class Flows { tcp, tcp_and_udp };

  GroCoalescer();

  // Appends `frame` to the pending super-frame if it continues it; returns
  // false if it does not (the caller then flushes the pending one and calls
  // add() again, which starts a new super-frame, or writes `frame` alone if
  // it can never be merged: add() returns false on an empty coalescer).
  bool add(const std::uint8_t* frame, std::size_t len, Flows flows = Flows::tcp);

  bool empty() const { return segments_ == 0; }
  std::size_t segments() const { return segments_; }
  // The pending frames are UDP datagrams (a USO super-frame once segments() > 1).
  bool udp() const { return flow_.proto == kProtoUdp; }
  // The pending output: a virtio_net_hdr (all zero for a single segment)
  // followed by the frame. Valid until the next add()/clear().
  std::uint8_t* output();
  std::size_t output_size() const { return kVirtioNetHdrSize + len_; }
  void clear() { segments_ = 0; }

 private:
  static constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17;
  struct Parsed {
    std::size_t l3 = 0, l4 = 0, headers = 0;
    bool v4 = false;
    std::uint8_t proto = 0;
  };
  static bool parse(const std::uint8_t* frame, std::size_t len, Flows flows, Parsed& p);
  static bool parse_tcp(const std::uint8_t* frame, std::size_t len, Parsed& p);
  static bool parse_udp(const std::uint8_t* frame, std::size_t len, Parsed& p);
  bool continues(const std::uint8_t* frame, std::size_t len, const Parsed& p) const;
  bool same_l4(const std::uint8_t* frame, const Parsed& p) const;

  std::vector<std::uint8_t> buf_;  // [virtio_net_hdr][super-frame]
  std::size_t len_ = 0;            // super-frame bytes
  std::size_t segments_ = 0;
  Parsed flow_;
  std::size_t mss_ = 0;
  std::uint32_t next_seq_ = 0;  // TCP
  std::uint16_t next_id_ = 0;   // UDP over IPv4
  bool closed_ = false;         // a short (or TCP PSH) segment ended the run
};

}  // namespace segbridge::daemon
