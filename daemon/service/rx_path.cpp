#include "rx_path.hpp"

#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "core_endpoint.hpp"
#include "gro_write.hpp"
#include "segbridge/log.hpp"
#include "tso_segmenter.hpp"

namespace segbridge::daemon {
namespace {

int dup_or_throw(int fd) {
  int d = ::dup(fd);
  if (d < 0) throw std::system_error(errno, std::generic_category(), "dup UDP socket");
  return d;
}

}  // namespace

RxPath::RxPath(core::Device& device, UdpSocket& socket, const PortDirectory& ports, RxHooks hooks)
    : device_(device),
      socket_(socket),
      ports_(ports),
      hooks_(std::move(hooks)),
      readable_(io_, dup_or_throw(socket.fd())),
      gro_(socket.enable_gro()),
      // Without GRO: one spare byte beyond the largest datagram the core
      // makes, so a datagram that fills it is recognisably oversized.
      batch_(gro_ ? kGroBatchMessages : kBatchDatagrams, gro_ ? kGroBufferBytes : device.max_datagram_size() + 1) {
  if (!gro_) log::info("UDP_GRO not available: one datagram per receive slot");
}

RxPath::~RxPath() {
  stop();
}

void RxPath::start() {
  wait();
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "sb-rx");
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

void RxPath::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void RxPath::wait() {
  readable_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    drain();
  });
}

void RxPath::drain() {
  bool attention = false;
  bool empty = false;
  // The table may change between wakeups (SIGHUP), never during one.
  std::shared_ptr<const PortTable> table = ports_.snapshot();
  written_count_ = 0;
  holding_ = false;
  for (std::size_t round = 0; round < kBatchesPerWakeup; ++round) {
    std::size_t n = socket_.receive(batch_);
    if (n == 0) {
      empty = true;
      break;
    }
    if (round == 0 && hooks_.tap_written && datagrams_in_batch(n) <= kRepliesAfterFrames) {
      hooks_.hold_replies();
      holding_ = true;
    }
    auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      auto from_addr = Endpoint::from_sockaddr(batch_.source(i), batch_.source_length(i));
      if (!from_addr) continue;
      if (batch_.truncated(i)) {
        malformed_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      // A UDP_GRO message is several datagrams of one sender, cut at segment_size.
      const std::size_t length = batch_.length(i);
      const std::size_t piece = batch_.segment_size(i) ? batch_.segment_size(i) : length;
      for (std::size_t off = 0; off < length; off += piece) {
        attention |= handle(*table, batch_.data(i) + off, std::min(piece, length - off), *from_addr, now);
      }
    }
    flush_coalesced();  // nothing waits across batches (latency)
    if (n < batch_.capacity()) {
      empty = true;
      break;
    }
  }
  if (attention && hooks_.attention) hooks_.attention();
  if (holding_) {
    for (std::size_t i = 0; i < written_count_; ++i) hooks_.tap_written(*written_[i]);
    hooks_.release_replies();
    holding_ = false;
  }
  if (empty) {
    wait();
  } else {
    boost::asio::post(io_, [this] { drain(); });
  }
}

std::size_t RxPath::datagrams_in_batch(std::size_t messages) const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < messages; ++i) {
    const std::size_t piece = batch_.segment_size(i);
    total += piece ? (batch_.length(i) + piece - 1) / piece : 1;
  }
  return total;
}

bool RxPath::handle(const PortTable& table, std::uint8_t* data, std::size_t size, const Endpoint& from,
                    core::TimePoint now) {
  if (size > device_.max_datagram_size()) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  core::MutableBytes datagram(data, size);
  switch (core::Device::classify(datagram)) {
    case core::DatagramClass::data: {
      core::RxResult r = device_.on_data(context_, datagram, to_core(from), now);
      if (!r.frame.empty() && r.peer) deliver(table, r);
      return r.control_attention;
    }
    case core::DatagramClass::handshake:
      if (hooks_.handshake) hooks_.handshake(datagram.data, datagram.size, to_core(from));
      return false;
    case core::DatagramClass::invalid:
      // Not even a message: dropped silently (never answered), counted.
      malformed_.fetch_add(1, std::memory_order_relaxed);
      return false;
  }
  return false;
}

void RxPath::deliver(const PortTable& table, core::RxResult& r) {
  auto it = table.find(r.peer->id());
  if (it == table.end()) return;  // peer being removed
  const std::shared_ptr<PeerPort>& port = it->second;
  if (!port->filter.allow(r.frame.data, r.frame.size)) return;  // counted by the filter
  if (port->vnet_header) {
    // Userspace GRO: merge in-order segments of one TCP flow, or same-size
    // datagrams of one UDP flow (USO), of the same peer.
    const auto flows = port->rx_uso ? GroCoalescer::Flows::tcp_and_udp : GroCoalescer::Flows::tcp;
    if (pending_ == port && coalescer_.add(r.frame.data, r.frame.size, flows)) return;
    flush_coalesced();
    if (coalescer_.add(r.frame.data, r.frame.size, flows)) {
      pending_ = port;
      return;
    }
    // Not mergeable: an ordinary frame behind an all-zero virtio_net_hdr.
    static const std::uint8_t kPlainHeader[kVirtioNetHdrSize] = {};
    iovec iov[2] = {{const_cast<std::uint8_t*>(kPlainHeader), kVirtioNetHdrSize},
                    {const_cast<std::uint8_t*>(r.frame.data), r.frame.size}};
    write_tap(*port, iov, 2, 1);
    return;
  }
  flush_coalesced();
  iovec iov{const_cast<std::uint8_t*>(r.frame.data), r.frame.size};
  write_tap(*port, &iov, 1, 1);
}

void RxPath::flush_coalesced() {
  if (!pending_) return;
  if (!coalescer_.empty()) {
    PeerPort& port = *pending_;
    GroWriteResult r = write_coalesced(
        coalescer_, splitter_, [&](const iovec* iov, int count, std::size_t /*frames: counted by write_coalesced*/) {
          return writev_tap(port, iov, count);
        });
    if (r.lost) port.tap_write_failed.fetch_add(r.lost, std::memory_order_relaxed);
    if (r.uso_refused) {
      port.rx_uso = false;
      log::warning("tap " + port.tap.name() +
                   ": the kernel refused a UDP GSO (USO) write (needs Linux >= 6.2); UDP datagrams are written one "
                   "by one from now on");
    }
    coalescer_.clear();
  }
  pending_.reset();
}

void RxPath::write_tap(PeerPort& port, const iovec* iov, int count, std::size_t frames) {
  // EAGAIN: the tap's queue is full (the bridge cannot keep up); EIO: the
  // tap is down. Either way the frames are lost: count them, never block RX.
  if (writev_tap(port, iov, count) != 0) port.tap_write_failed.fetch_add(frames, std::memory_order_relaxed);
}

int RxPath::writev_tap(PeerPort& port, const iovec* iov, int count) {
  if (holding_ && written_count_ < written_.size() &&
      std::find(written_.begin(), written_.begin() + written_count_, &port) == written_.begin() + written_count_) {
    // Before the write: the reply lands in the tap during it.
    written_[written_count_++] = &port;
    hooks_.mute_tap(port);
  }
  for (;;) {
    ssize_t n = ::writev(port.tap.fd(), iov, count);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace segbridge::daemon
