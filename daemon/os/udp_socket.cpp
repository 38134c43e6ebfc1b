#include "udp_socket.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "segbridge/log.hpp"

namespace segbridge::daemon {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_int(int fd, int level, int name, int value, const char* what, bool required) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
    if (required) fail(std::string("setsockopt ") + what);
    log::debug(std::string("setsockopt ") + what + " failed: " + std::strerror(errno));
  }
}

void set_buffers(int fd) {
  // *FORCE ignores net.core.[rw]mem_max (root); fall back to the capped form.
  int size = UdpSocket::kBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    set_int(fd, SOL_SOCKET, SO_RCVBUF, size, "SO_RCVBUF", false);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    set_int(fd, SOL_SOCKET, SO_SNDBUF, size, "SO_SNDBUF", false);
}

UniqueFd make_socket(int family) {
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd) fail(family == AF_INET6 ? "socket(AF_INET6, SOCK_DGRAM)" : "socket(AF_INET, SOCK_DGRAM)");
  // DF on, kernel PMTU cache ignored: a too-big datagram is never IP-fragmented.
  if (family == AF_INET) {
    set_int(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, "IP_MTU_DISCOVER", true);
  } else {
    set_int(fd.get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, "IPV6_MTU_DISCOVER", true);
    // A dual-stack IPv6 socket also sends IPv4: set both.
    set_int(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, "IP_MTU_DISCOVER", false);
    set_int(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY", false);
  }
  set_buffers(fd.get());
  return fd;
}

}  // namespace

ReceiveBatch::ReceiveBatch(std::size_t count, std::size_t buffer_size)
    : buffer_size_(buffer_size),
      storage_(count * buffer_size),
      iov_(count),
      addrs_(count),
      msgs_(count),
      control_(count) {
  for (std::size_t i = 0; i < count; ++i) {
    iov_[i].iov_base = storage_.data() + i * buffer_size;
    iov_[i].iov_len = buffer_size;
  }
  reset();
}

void ReceiveBatch::reset() {
  for (std::size_t i = 0; i < msgs_.size(); ++i) {
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &addrs_[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_[i].buf;
    h.msg_controllen = sizeof control_[i].buf;
    msgs_[i].msg_len = 0;
  }
  filled_ = 0;
}

std::size_t ReceiveBatch::segment_size(std::size_t i) const {
  auto* h = const_cast<msghdr*>(&msgs_[i].msg_hdr);
  for (cmsghdr* cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
    if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO && cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(cm), sizeof size);
      return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  }
  return 0;
}

bool UdpSocket::enable_gro() {
  int on = 1;
  return ::setsockopt(fd_.get(), SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
}

SendBatch::SendBatch(std::size_t capacity)
    : iov_(capacity),
      to_(capacity),
      msgs_(capacity),
      failed_(capacity, 0),
      first_(capacity),
      span_(capacity),
      control_(capacity) {}

bool SendBatch::add(const std::uint8_t* data, std::size_t length, const Endpoint& to) {
  if (full()) return false;
  iov_[count_].iov_base = const_cast<std::uint8_t*>(data);
  iov_[count_].iov_len = length;
  to_[count_] = to;
  ++count_;
  return true;
}

UdpSocket UdpSocket::open(const Endpoint& local) {
  UniqueFd fd = make_socket(local.family());
  set_int(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", false);
  if (::bind(fd.get(), local.addr(), local.length()) != 0) fail("bind UDP " + local.to_string());
  return UdpSocket(std::move(fd), local.family());
}

UdpSocket UdpSocket::open_for(const Endpoint& remote) {
  Endpoint any;
  if (remote.family() == AF_INET) {
    any = *Endpoint::from_literal("0.0.0.0", 0);
  } else {
    any = *Endpoint::from_literal("::", 0);
  }
  return open(any);
}

Endpoint UdpSocket::local_endpoint() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return Endpoint();
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).value_or(Endpoint());
}

std::size_t UdpSocket::receive(ReceiveBatch& batch) {
  batch.reset();
  for (;;) {
    int n = ::recvmmsg(fd_.get(), batch.msgs_.data(), static_cast<unsigned>(batch.msgs_.size()), MSG_DONTWAIT, nullptr);
    if (n >= 0) {
      batch.filled_ = static_cast<std::size_t>(n);
      return batch.filled_;
    }
    if (errno == EINTR) continue;
    // EAGAIN: empty. ECONNREFUSED etc. (ICMP errors queued on the socket) are
    // not fatal for an unconnected UDP socket: report "nothing this round".
    return 0;
  }
}

bool UdpSocket::wait_writable(int timeout_ms) {
  pollfd p{fd_.get(), POLLOUT, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

SendResult UdpSocket::send(SendBatch& batch) {
  const std::size_t total = batch.count_;
  for (std::size_t i = 0; i < total; ++i) {
    // A dual-stack socket needs IPv4 destinations in mapped form.
    if (batch.to_[i].family() != family_) {
      if (auto mapped = batch.to_[i].for_socket(family_)) batch.to_[i] = *mapped;
    }
    batch.failed_[i] = 0;
  }
  // Group into messages: with GSO, a run of equal-size datagrams to one
  // destination (the last may be shorter) is one message.
  std::size_t messages = 0;
  for (std::size_t i = 0; i < total;) {
    std::size_t j = i + 1;
    if (batch.gso_) {
      const std::size_t size = batch.iov_[i].iov_len;
      std::size_t bytes = size;
      while (j < total && j - i < SendBatch::kMaxGsoSegments && batch.to_[j] == batch.to_[i] &&
             batch.iov_[j].iov_len <= size && bytes + batch.iov_[j].iov_len <= SendBatch::kMaxGsoBytes) {
        bytes += batch.iov_[j].iov_len;
        ++j;
        if (batch.iov_[j - 1].iov_len < size) break;  // a shorter one ends the run
      }
    }
    msghdr& h = batch.msgs_[messages].msg_hdr;
    h = msghdr{};
    h.msg_name = const_cast<sockaddr*>(batch.to_[i].addr());
    h.msg_namelen = batch.to_[i].length();
    h.msg_iov = &batch.iov_[i];
    h.msg_iovlen = j - i;
    if (j - i > 1) {
      h.msg_control = batch.control_[messages].buf;
      h.msg_controllen = sizeof batch.control_[messages].buf;
      cmsghdr* cm = CMSG_FIRSTHDR(&h);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const std::uint16_t segment = static_cast<std::uint16_t>(batch.iov_[i].iov_len);
      std::memcpy(CMSG_DATA(cm), &segment, sizeof segment);
    }
    batch.first_[messages] = i;
    batch.span_[messages] = j - i;
    ++messages;
    i = j;
  }
  SendResult result;
  std::size_t done = 0;  // messages
  int waits = 0;
  while (done < messages) {
    int n = ::sendmmsg(fd_.get(), batch.msgs_.data() + done, static_cast<unsigned>(messages - done), MSG_DONTWAIT);
    if (n > 0) {
      for (int k = 0; k < n; ++k) {
        if (batch.span_[done + static_cast<std::size_t>(k)] > 1) ++batch.gso_sends_;
      }
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) && waits < 3 && wait_writable(5)) {
      ++waits;
      continue;
    }
    const std::size_t first = batch.first_[done], span = batch.span_[done];
    if (span > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOPROTOOPT)) {
      // GSO refused (old kernel, or an egress device without checksum
      // offload, as wireguard-go found): never again; resend one by one.
      log::notice(std::string("UDP GSO not available (") + std::strerror(errno) + "); sending datagrams one by one");
      batch.gso_ = false;
      send_plain(batch, first, span, result);
    } else {
      // These datagrams cannot go (no route, EMSGSIZE, buffer stuck): skip them.
      for (std::size_t k = first; k < first + span; ++k) batch.failed_[k] = 1;
      result.failed += span;
    }
    ++done;
  }
  result.sent = total - result.failed;
  return result;
}

void UdpSocket::send_plain(SendBatch& batch, std::size_t first, std::size_t count, SendResult& result) {
  for (std::size_t k = first; k < first + count; ++k) {
    msghdr h{};
    h.msg_name = const_cast<sockaddr*>(batch.to_[k].addr());
    h.msg_namelen = batch.to_[k].length();
    h.msg_iov = &batch.iov_[k];
    h.msg_iovlen = 1;
    for (int attempt = 0;; ++attempt) {
      if (::sendmsg(fd_.get(), &h, MSG_DONTWAIT) >= 0) break;
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == ENOBUFS) && attempt < 3 && wait_writable(5)) continue;
      batch.failed_[k] = 1;
      ++result.failed;
      break;
    }
  }
}

bool UdpSocket::send_one(const std::uint8_t* data, std::size_t length, const Endpoint& to) {
  auto dest = to.for_socket(family_);
  if (!dest) return false;
  for (;;) {
    ssize_t n = ::sendto(fd_.get(), data, length, MSG_DONTWAIT, dest->addr(), dest->length());
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    return false;
  }
}

}  // namespace segbridge::daemon
