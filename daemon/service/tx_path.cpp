#include "tx_path.hpp"

#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "core_endpoint.hpp"
#include "segbridge/core/constants.hpp"
#include "segbridge/core/fragmenter.hpp"
#include "segbridge/log.hpp"

namespace segbridge::daemon {

namespace {

int epoll_or_throw() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1 for the TX taps");
  return fd;
}

}  // namespace

TxPath::TxPath(core::Device& device, UdpSocket& socket, std::function<void()> attention)
    : device_(device),
      socket_(socket),
      attention_(std::move(attention)),
      ready_(io_, epoll_or_throw()),
      out_(kBatchDatagrams, device.max_datagram_size()),
      send_(kBatchDatagrams),
      frame_(kVirtioNetHdrSize + 65536),
      out_ports_(kBatchDatagrams, nullptr) {
  // Equal-size datagrams (TSO segments, evenly split fragments) leave in one
  // UDP GSO send when the kernel allows it.
  send_.enable_gso(true);
}

TxPath::~TxPath() {
  stop();
}

void TxPath::start() {
  wait();
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "sb-tx");
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

void TxPath::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

bool TxPath::watch(int op, PeerPort& port, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &port;
  if (::epoll_ctl(ready_.native_handle(), op, port.tap.fd(), &ev) == 0) return true;
  // ENOENT: the TX thread no longer watches this tap (it failed, or the peer
  // is being removed): nothing to mute or re-arm.
  if (errno != ENOENT) log::error("tx: epoll_ctl on tap " + port.tap.name() + ": " + std::strerror(errno));
  return false;
}

void TxPath::add_port(std::shared_ptr<PeerPort> port) {
  boost::asio::post(io_, [this, port = std::move(port)] {
    auto id = port->peer->id();
    unwatch(id);
    if (!watch(EPOLL_CTL_ADD, *port, EPOLLIN)) return;
    watched_[id] = port;
  });
}

void TxPath::remove_port(core::PeerId id) {
  boost::asio::post(io_, [this, id] { unwatch(id); });
}

void TxPath::unwatch(core::PeerId id) {
  auto it = watched_.find(id);
  if (it == watched_.end()) return;
  // The port (and so its tap fd) stays alive until erased: DEL first.
  ::epoll_ctl(ready_.native_handle(), EPOLL_CTL_DEL, it->second->tap.fd(), nullptr);
  watched_.erase(it);
}

void TxPath::wait() {
  ready_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    drain();
  });
}

void TxPath::drain() {
  if (rx_holds_.load(std::memory_order_acquire)) {
    // The RX thread is writing requests whose replies it will send itself;
    // let it (yield: it may share this CPU). Bounded: then drain as usual.
    auto deadline = std::chrono::steady_clock::now() + kHoldWait;
    while (rx_holds_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  // Level-triggered: a tap left with frames is reported again by the next
  // poll, so a wake-up the io_context missed while this ran loses nothing.
  epoll_event ready[kReadyPerPoll];
  int n = ::epoll_wait(ready_.native_handle(), ready, static_cast<int>(kReadyPerPoll), 0);
  bool more = n == static_cast<int>(kReadyPerPoll);
  for (int i = 0; i < n; ++i) {
    auto* port = static_cast<PeerPort*>(ready[i].data.ptr);
    // Only watched ports are in the set (removed from it before they are released).
    auto id = port->peer->id();
    TapRead r;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      r = read_tap(*port, port->tap.fd(), kFramesPerWakeup);
    }
    if (r.failed) {
      // EBADFD/EIO: the tap is gone (deleted by hand, or the peer is being
      // removed). Stop watching it: it would stay "ready" forever.
      log::error("tap " + port->tap.name() + ": read failed (" + std::strerror(r.error) +
                 "); no longer forwarding from it (restart segbridged or re-add the peer)");
      unwatch(id);
      continue;
    }
    if (!r.empty) more = true;
  }
  if (more) {
    // Frames are still waiting: other work (port changes) gets a turn first.
    boost::asio::post(io_, [this] { drain(); });
  } else {
    wait();
  }
}

void TxPath::mute(PeerPort& port) {
  watch(EPOLL_CTL_MOD, port, 0);
}

void TxPath::forward_replies(PeerPort& port) {
  {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    // Not owned: the TX thread is at work; re-arming below lets it find them.
    if (lock.owns_lock()) {
      // A failure is left for the TX thread to see, report and stop watching.
      TapRead r = read_tap(port, port.tap.fd(), kRepliesPerCall);
      if (r.frames) port.replies_inline.fetch_add(r.frames, std::memory_order_relaxed);
    }
  }
  // Re-arm; if frames are left (or arrived since), epoll wakes the TX thread now.
  watch(EPOLL_CTL_MOD, port, EPOLLIN);
}

TxPath::TapRead TxPath::read_tap(PeerPort& port, int fd, std::size_t max_frames) {
  TapRead result;
  bool attention = false;
  auto now = std::chrono::steady_clock::now();
  // Largest frame one datagram to this peer carries (TSO segments are cut to it).
  auto family = port.peer->endpoint().family();
  const std::size_t max_frame =
      core::max_fragment_payload(path_mtu_.load(std::memory_order_relaxed),
                                 family == core::Endpoint::Family::none ? core::Endpoint::Family::ipv6 : family);
  for (std::size_t i = 0; i < max_frames; ++i) {
    ssize_t n = ::read(fd, frame_.data(), frame_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        result.failed = true;
        result.error = errno;
      }
      result.empty = true;
      break;
    }
    if (n == 0) {
      result.empty = true;
      break;
    }
    ++result.frames;
    if (!port.vnet_header) {
      offer(port, frame_.data(), static_cast<std::size_t>(n), max_frame, now, attention);
      continue;
    }
    if (static_cast<std::size_t>(n) < kVirtioNetHdrSize) {
      port.offload_malformed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto hdr = VirtioNetHdr::parse(frame_.data());
    auto seg = segmenter_.process(hdr, frame_.data() + kVirtioNetHdrSize,
                                  static_cast<std::size_t>(n) - kVirtioNetHdrSize, max_frame);
    if (seg == TsoSegmenter::Result::malformed || seg == TsoSegmenter::Result::unsupported) {
      port.offload_malformed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (seg == TsoSegmenter::Result::passthrough) {
      auto f = segmenter_.frame(0);
      offer(port, f.data, f.size, max_frame, now, attention);
      continue;
    }
    // A super-frame from the host's own TSO: whatever was pending goes first.
    coalescer_.flush(max_frame, [&](const std::uint8_t* d, std::size_t len) { attention |= seal(port, d, len, now); });
    for (std::size_t k = 0; k < segmenter_.count(); ++k) {
      auto f = segmenter_.frame(k);
      attention |= seal(port, f.data, f.size, now);
    }
  }
  // Never hold a frame across wakeups: latency stays what it was.
  coalescer_.flush(max_frame, [&](const std::uint8_t* d, std::size_t len) { attention |= seal(port, d, len, now); });
  flush();
  if (attention && attention_) attention_();
  return result;
}

void TxPath::offer(PeerPort& port, const std::uint8_t* frame, std::size_t size, std::size_t max_frame,
                   core::TimePoint now, bool& attention) {
  auto send = [&](const std::uint8_t* d, std::size_t len) { attention |= seal(port, d, len, now); };
  if (port.tx_coalesce) {
    coalescer_.push(frame, size, max_frame, send);
  } else {
    send(frame, size);
  }
}

bool TxPath::seal(PeerPort& port, const std::uint8_t* frame, std::size_t size, core::TimePoint now) {
  if (out_.free_slots() < core::kMaxFragments) flush();
  std::size_t before = out_.size();
  core::TxResult r = device_.send_frame(*port.peer, core::ConstBytes(frame, size), now, out_);
  for (std::size_t k = before; k < out_.size(); ++k) out_ports_[k] = &port;
  return r.control_attention;
}

void TxPath::flush() {
  if (out_.empty()) return;
  for (std::size_t i = 0; i < out_.size(); ++i) {
    const auto& d = out_[i];
    send_.add(d.data, d.size, from_core(d.to));
  }
  SendResult r = socket_.send(send_);
  if (r.failed > 0) {
    for (std::size_t i = 0; i < send_.size(); ++i) {
      if (send_.failed(i) && out_ports_[i]) out_ports_[i]->udp_send_failed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  send_.clear();
  out_.clear();
}

}  // namespace segbridge::daemon
