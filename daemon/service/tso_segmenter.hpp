#pragma once
// Turns what a tap with IFF_VNET_HDR + TUNSETOFFLOAD(CSUM|TSO4|TSO6) hands
// us into ordinary Ethernet frames for the tunnel, without syscalls:
//  * a frame with a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) gets its
//    checksum completed;
//  * a TCP super-frame (GSO TCPV4/TCPV6, up to 64 KB) is cut into TCP
//    segments small enough that each frame fits ONE tunnel datagram
//    (TUNNEL-NOTES §3.2 step 4: a smaller MSS than the sender's is always
//    acceptable to the receiver), with IP length/id/checksum and TCP
//    sequence number/flags/checksum rewritten per segment;
//  * a UDP super-frame (GSO UDP_L4, "USO") is cut into its datagrams at
//    exactly gso_size (datagram boundaries are the application's), with IP
//    length/id/checksum and UDP length/checksum rewritten per datagram. The
//    taps never offer USO on reads (no TUN_F_USO4/6); RxPath uses this to
//    write its own USO super-frames one by one when a kernel refuses them.
// So bulk TCP costs one tap read per ~45 segments and needs no in-tunnel
// fragmentation. Everything else passes through unchanged.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace segbridge::daemon {

inline constexpr std::size_t kVirtioNetHdrSize = 10;  // struct virtio_net_hdr
// <linux/virtio_net.h> values (that header does not compile as C++).
inline constexpr std::uint8_t kVirtioNetHdrFNeedsCsum = 1;
inline constexpr std::uint8_t kVirtioNetHdrGsoNone = 0;
inline constexpr std::uint8_t kVirtioNetHdrGsoTcpv4 = 1;
inline constexpr std::uint8_t kVirtioNetHdrGsoUdp = 3;
inline constexpr std::uint8_t kVirtioNetHdrGsoTcpv6 = 4;
inline constexpr std::uint8_t kVirtioNetHdrGsoUdpL4 = 5;  // USO (Linux >= 6.2)
inline constexpr std::uint8_t kVirtioNetHdrGsoEcn = 0x80;

struct VirtioNetHdr {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;

  static VirtioNetHdr parse(const std::uint8_t* p);  // little-endian (tun's default on x86/arm)
};

// One's-complement sum helpers (RFC 1071), exposed for tests.
std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* data, std::size_t len);
std::uint16_t checksum_fold(std::uint32_t sum);

class TsoSegmenter {
 public:
  enum class Result {
    passthrough,  // frame(0) is the input itself (checksum completed if it was partial)
    segmented,    // frames in the scratch buffer
    malformed,    // headers inconsistent with the offload metadata: drop
    unsupported,  // a GSO kind we never enable (UFO, ECN, IPv6 extension headers): drop
  };
  struct Frame {
    const std::uint8_t* data;
    std::size_t size;
  };

  TsoSegmenter();

  // `frame` may be modified in place (checksum completion). `max_frame` is the
  // largest frame one tunnel datagram carries.
  Result process(const VirtioNetHdr& hdr, std::uint8_t* frame, std::size_t len, std::size_t max_frame);

  std::size_t count() const { return count_; }
  Frame frame(std::size_t i) const { return frames_[i]; }

 private:
  Result segment(const VirtioNetHdr& hdr, const std::uint8_t* frame, std::size_t len, std::size_t max_frame);

  std::vector<std::uint8_t> scratch_;
  std::vector<Frame> frames_;
  std::size_t count_ = 0;
};

}  // namespace segbridge::daemon
