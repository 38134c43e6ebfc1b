#pragma once
// Live capture of client→server DHCP on one interface with libpcap, tuned
// for latency (immediate mode: no TPACKET_V3 block batching) and driven by
// the caller's poll loop through a non-blocking selectable fd.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

struct pcap;

namespace segbridge::shim {

// Untagged, 802.1Q and QinQ DHCP requests. The untagged clause must come
// first: every `vlan` keyword shifts the offsets of all that follows it.
extern const char* const kDhcpRequestFilter;

struct CaptureOptions {
  std::string interface;
  int buffer_bytes = 4 << 20;
  bool promiscuous = true;
  int snaplen = 2048;  // a DHCP request never needs more
};

class Capture {
 public:
  using FrameHandler =
      std::function<void(const std::uint8_t* data, std::size_t caplen, std::size_t wirelen, std::int64_t ts_us)>;

  explicit Capture(CaptureOptions options);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Opens the interface. False (with `error`) if it cannot be opened now.
  bool open(std::string& error);
  void close();
  bool is_open() const { return handle_ != nullptr; }
  int fd() const { return fd_; }
  const std::string& interface() const { return options_.interface; }

  // Reads what is queued (bounded by `max_frames`). Returns the number of
  // frames handled, or -1 when the capture broke (interface gone): the caller
  // closes it and retries later.
  int dispatch(int max_frames, const FrameHandler& handler, std::string& error);
  // Kernel-level drops (ring full) since open.
  std::uint64_t kernel_drops();

 private:
  CaptureOptions options_;
  pcap* handle_ = nullptr;
  int fd_ = -1;
};

}  // namespace segbridge::shim
