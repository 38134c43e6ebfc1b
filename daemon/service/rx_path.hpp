#pragma once
// The RX half of the data path, on its own thread: datagrams drained from
// the UDP socket with recvmmsg (up to kBatchDatagrams per syscall) are opened
// in place by the core (authenticate, replay window, roaming, reassembly) and
// complete frames are written to the sending peer's tap; with tap_offload,
// consecutive frames of one TCP or UDP flow in a batch are merged by the
// GroCoalescer and written as one GSO super-frame (gro_write.hpp). Handshake messages
// are copied to the control thread (bounded queue), never handled here.
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <thread>

#include "gro_coalescer.hpp"
#include "os/udp_socket.hpp"
#include "peer_port.hpp"
#include "segbridge/core/device.hpp"

namespace segbridge::daemon {

struct RxHooks {
  // A handshake datagram for the control thread (copy it; the buffer is reused).
  std::function<void(const std::uint8_t* data, std::size_t size, const core::Endpoint& from)> handshake;
  // The core wants the control thread's timers run soon.
  std::function<void()> attention;
  // Inline replies (TxPath): a light wake-up (≤ kRepliesAfterFrames
  // datagrams) calls hold_replies() before its first tap write, mute_tap()
  // before the first write into each tap (up to written_.size() taps),
  // tap_written() for each muted tap at the end (the local host's reply may
  // already be waiting there; it also re-arms the tap) and then
  // release_replies(). All four or none are set.
  std::function<void()> hold_replies;
  std::function<void(PeerPort& port)> mute_tap;
  std::function<void(PeerPort& port)> tap_written;
  std::function<void()> release_replies;
};

class RxPath {
 public:
  static constexpr std::size_t kBatchDatagrams = 64;
  // With UDP_GRO one message holds up to 64 KB of same-size datagrams.
  static constexpr std::size_t kGroBatchMessages = 16;
  static constexpr std::size_t kGroBufferBytes = 65536;
  static constexpr std::size_t kBatchesPerWakeup = 8;
  // Wake-ups that wrote at most this many frames are latency-bound (a ping, a
  // request): forward the replies inline. Busier ones leave that to the TX
  // thread, so the two directions keep running on two cores.
  static constexpr std::size_t kRepliesAfterFrames = 8;

  RxPath(core::Device& device, UdpSocket& socket, const PortDirectory& ports, RxHooks hooks);
  ~RxPath();

  void start();
  void stop();  // joins the thread

  // Datagrams dropped before the core saw them: oversized (truncated) or of
  // no known message kind. The core counts everything after that.
  std::uint64_t malformed() const { return malformed_.load(std::memory_order_relaxed); }

 private:
  void wait();
  void drain();
  // Datagrams in the first `messages` messages of batch_ (a UDP_GRO message holds several).
  std::size_t datagrams_in_batch(std::size_t messages) const;
  void deliver(const PortTable& table, core::RxResult& r);
  // One datagram (or one piece of a UDP_GRO message).
  bool handle(const PortTable& table, std::uint8_t* data, std::size_t size, const Endpoint& from, core::TimePoint now);
  void flush_coalesced();
  // Counts a failure as tap_write_failed.
  void write_tap(PeerPort& port, const iovec* iov, int count, std::size_t frames);
  // Returns 0 or the errno of the failure (not counted). In a light wake-up,
  // mutes the tap for the TX thread before its first write.
  int writev_tap(PeerPort& port, const iovec* iov, int count);

  core::Device& device_;
  UdpSocket& socket_;
  const PortDirectory& ports_;
  RxHooks hooks_;
  boost::asio::io_context io_;
  boost::asio::posix::stream_descriptor readable_;
  std::thread thread_;
  bool gro_;  // UDP_GRO accepted by the kernel
  ReceiveBatch batch_;
  core::RxContext context_;
  GroCoalescer coalescer_;
  TsoSegmenter splitter_;              // a refused USO super-frame back into datagrams
  std::shared_ptr<PeerPort> pending_;  // whose frames the coalescer holds
  // A light wake-up (hold_replies called): the first few ports it writes
  // into, muted for the TX thread until their replies are forwarded.
  bool holding_ = false;
  std::array<PeerPort*, 4> written_{};
  std::size_t written_count_ = 0;
  std::atomic<std::uint64_t> malformed_{0};
};

}  // namespace segbridge::daemon
