#pragma once
// The TX half of the data path, on its own thread: frames read from the
// peers' taps are sealed by the core (fragmented when they do not fit one
// datagram) into a reused DatagramBatch and leave through sendmmsg. Each tap
// wakeup drains up to kFramesPerWakeup frames before the batch is flushed,
// so under load one syscall carries many datagrams. No heap allocation per
// frame: one frame buffer, one datagram arena, one mmsghdr array.
//
// The RX thread may also run a short drain (forward_replies) right after it
// wrote frames into a tap: a local host's reply (ping, TCP ACK, DHCP offer)
// is usually in the tap before the write returns, and sending it at once
// saves a thread wake-up per round trip — the latency OpenVPN's single
// thread never pays. A mutex makes whichever thread drains the only one.
//
// The taps are watched through a private epoll set (level-triggered) whose
// own fd is what the io_context waits on. The RX thread mutes a tap in that
// set before writing into it and re-arms it after forward_replies: the reply
// then wakes nobody. Otherwise it would wake this thread too, and a thread
// woken during the write makes the RX thread's CPU busy, so the scheduler
// puts the far gateway's woken reader on another, halted CPU (≈ 100 µs in a
// VM) — measured on the co-located bench rig.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "os/udp_socket.hpp"
#include "peer_port.hpp"
#include "segbridge/core/datagram_batch.hpp"
#include "segbridge/core/device.hpp"
#include "tso_segmenter.hpp"
#include "tx_coalescer.hpp"

namespace segbridge::daemon {

class TxPath {
 public:
  static constexpr std::size_t kFramesPerWakeup = 64;
  static constexpr std::size_t kBatchDatagrams = 128;
  // forward_replies() reads at most this many frames (replies are few; bulk is the TX thread's).
  static constexpr std::size_t kRepliesPerCall = 16;
  // Longest a woken TX thread defers to a holding RX thread (then it drains anyway).
  static constexpr std::chrono::microseconds kHoldWait{200};

  // `attention` is called (on the TX thread) when the core wants the control
  // thread to run its timers soon (e.g. a frame found no session).
  TxPath(core::Device& device, UdpSocket& socket, std::function<void()> attention);
  ~TxPath();

  void start();
  void stop();  // joins the thread

  // Thread-safe: the change is applied on the TX thread.
  void add_port(std::shared_ptr<PeerPort> port);
  // Any thread: the outer path MTU (sets how big a TSO segment may be).
  void set_path_mtu(unsigned mtu) { path_mtu_.store(mtu, std::memory_order_relaxed); }
  void remove_port(core::PeerId id);

  // The RX thread, around a light wake-up's tap writes: hold_replies() before
  // the first write, forward_replies() for each tap written (sends what it
  // holds now), release_replies() at the end. While held, a TX thread woken
  // by those replies waits (≤ kHoldWait) instead of racing the RX thread for
  // them — it was woken on another CPU and would add its wake-up latency.
  // mute() before the first write into a tap; forward_replies() re-arms it.
  void hold_replies() { rx_holds_.store(true, std::memory_order_release); }
  void mute(PeerPort& port);
  void forward_replies(PeerPort& port);
  void release_replies() { rx_holds_.store(false, std::memory_order_release); }

  static constexpr std::size_t kReadyPerPoll = 32;

 private:
  struct TapRead {
    bool empty = false;   // the tap had no more frames (or failed)
    bool failed = false;  // read error other than EAGAIN (`error`)
    int error = 0;
    std::size_t frames = 0;  // frames read
  };

  // epoll_ctl on the private set; false (and logged) on failure other than ENOENT.
  bool watch(int op, PeerPort& port, std::uint32_t events);
  void unwatch(core::PeerId id);
  void wait();
  // Drains every tap the private set reports ready (≤ kFramesPerWakeup frames each).
  void drain();
  // Reads up to `max_frames` frames from `fd`, seals and sends them. Caller holds mutex_.
  TapRead read_tap(PeerPort& port, int fd, std::size_t max_frames);
  void flush();
  // One frame → core → datagrams in out_ (flushing first if it might not fit).
  // A complete frame → the TX coalescer (if the port wants it) → seal().
  void offer(PeerPort& port, const std::uint8_t* frame, std::size_t size, std::size_t max_frame, core::TimePoint now,
             bool& attention);
  bool seal(PeerPort& port, const std::uint8_t* frame, std::size_t size, core::TimePoint now);

  core::Device& device_;
  UdpSocket& socket_;
  std::function<void()> attention_;
  boost::asio::io_context io_;
  // The private epoll set of the taps (owned by `ready_`, which the io_context waits on).
  boost::asio::posix::stream_descriptor ready_;
  std::thread thread_;
  std::unordered_map<core::PeerId, std::shared_ptr<PeerPort>> watched_;
  core::DatagramBatch out_;
  SendBatch send_;
  std::vector<std::uint8_t> frame_;
  std::vector<PeerPort*> out_ports_;  // which port each datagram in out_ belongs to
  TsoSegmenter segmenter_;
  TxCoalescer coalescer_;  // only ever holds frames of the port being drained
  std::atomic<unsigned> path_mtu_{1500};
  // Guards everything above that a drain touches (frame_, out_, send_,
  // out_ports_, segmenter_, coalescer_) and the core's TX side.
  std::mutex mutex_;
  std::atomic<bool> rx_holds_{false};
};

}  // namespace segbridge::daemon
