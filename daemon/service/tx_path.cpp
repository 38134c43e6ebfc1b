#include "tx_path.hpp"

#include <pthread.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core_endpoint.hpp"
#include "segbridge/core/constants.hpp"
#include "segbridge/core/fragmenter.hpp"
#include "segbridge/log.hpp"

namespace segbridge::daemon {

TxPath::TxPath(core::Device& device, UdpSocket& socket, std::function<void()> attention)
    : device_(device),
      socket_(socket),
      attention_(std::move(attention)),
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

void TxPath::add_port(std::shared_ptr<PeerPort> port) {
  boost::asio::post(io_, [this, port = std::move(port)] {
    int fd = ::dup(port->tap.fd());
    if (fd < 0) {
      log::error("tx: dup of tap " + port->tap.name() + " failed");
      return;
    }
    auto w = std::make_shared<Watcher>(port, io_, fd);
    auto id = port->peer->id();
    if (auto old = watchers_.find(id); old != watchers_.end()) {
      old->second->live = false;
      boost::system::error_code ec;
      old->second->descriptor.close(ec);
    }
    watchers_[id] = w;
    wait(w);
  });
}

void TxPath::remove_port(core::PeerId id) {
  boost::asio::post(io_, [this, id] {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    it->second->live = false;
    boost::system::error_code ec;
    it->second->descriptor.close(ec);  // cancels the pending wait
    watchers_.erase(it);
  });
}

void TxPath::wait(const std::shared_ptr<Watcher>& w) {
  w->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, w](const boost::system::error_code& ec) {
                             if (ec || !w->live) return;
                             drain(w);
                           });
}

void TxPath::drain(const std::shared_ptr<Watcher>& w) {
  if (rx_holds_.load(std::memory_order_acquire)) {
    // The RX thread is writing requests whose replies it will send itself;
    // let it (yield: it may share this CPU). Bounded: then drain as usual.
    auto deadline = std::chrono::steady_clock::now() + kHoldWait;
    while (rx_holds_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  TapRead r;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    r = read_tap(*w->port, w->descriptor.native_handle(), kFramesPerWakeup);
  }
  if (r.failed) {
    // EBADFD/EIO: the tap is gone (deleted by hand, or the peer is being
    // removed). Stop watching it: its fd would stay "ready" forever.
    if (w->live) {
      log::error("tap " + w->port->tap.name() + ": read failed (" + std::strerror(r.error) +
                 "); no longer forwarding from it (restart segbridged or re-add the peer)");
    }
    w->live = false;
  }
  if (!w->live) return;
  if (r.empty) {
    wait(w);
  } else {
    // More frames are waiting: let the other taps have a turn first.
    boost::asio::post(io_, [this, w] {
      if (w->live) drain(w);
    });
  }
}

void TxPath::forward_replies(PeerPort& port) {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // the TX thread is at work: it will find them
  // A failure is left for the TX thread to see, report and stop watching.
  TapRead r = read_tap(port, port.tap.fd(), kRepliesPerCall);
  if (r.frames) port.replies_inline.fetch_add(r.frames, std::memory_order_relaxed);
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
