#include "udp_socket.hpp"

#include <netinet/in.h>
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
    : buffer_size_(buffer_size), storage_(count * buffer_size), iov_(count), addrs_(count), msgs_(count) {
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
    msgs_[i].msg_len = 0;
  }
  filled_ = 0;
}

SendBatch::SendBatch(std::size_t capacity) : iov_(capacity), to_(capacity), msgs_(capacity), failed_(capacity, 0) {}

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
    msghdr& h = batch.msgs_[i].msg_hdr;
    h = msghdr{};
    // A dual-stack socket needs IPv4 destinations in mapped form.
    if (batch.to_[i].family() != family_) {
      if (auto mapped = batch.to_[i].for_socket(family_)) batch.to_[i] = *mapped;
    }
    h.msg_name = const_cast<sockaddr*>(batch.to_[i].addr());
    h.msg_namelen = batch.to_[i].length();
    h.msg_iov = &batch.iov_[i];
    h.msg_iovlen = 1;
    batch.failed_[i] = 0;
  }
  SendResult result;
  std::size_t done = 0;
  int waits = 0;
  while (done < total) {
    int n = ::sendmmsg(fd_.get(), batch.msgs_.data() + done, static_cast<unsigned>(total - done), MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) && waits < 3 && wait_writable(5)) {
      ++waits;
      continue;
    }
    // This datagram cannot go (no route, EMSGSIZE, buffer stuck): skip it.
    ++result.failed;
    batch.failed_[done] = 1;
    ++done;
  }
  result.sent = total - result.failed;
  return result;
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
