#pragma once
// The tunnel's UDP socket: IPv4 or dual-stack IPv6, DF set without trusting
// the kernel's PMTU cache (IP_PMTUDISC_PROBE: the outer UDP is never
// IP-fragmented; the tunnel fragments frames itself), big forced buffers, and
// many datagrams per syscall (recvmmsg/sendmmsg). Non-blocking: the callers
// wait for readiness on Asio and then drain.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../service/endpoint.hpp"
#include "segbridge/unique_fd.hpp"

namespace segbridge::daemon {

// Preallocated receive buffers + the mmsghdr array recvmmsg fills: no heap
// allocation per datagram.
class ReceiveBatch {
 public:
  ReceiveBatch(std::size_t count, std::size_t buffer_size);
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;

  std::size_t capacity() const { return msgs_.size(); }
  std::size_t size() const { return filled_; }
  std::uint8_t* data(std::size_t i) { return storage_.data() + i * buffer_size_; }
  std::size_t length(std::size_t i) const { return msgs_[i].msg_len; }
  bool truncated(std::size_t i) const { return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
  const sockaddr* source(std::size_t i) const { return reinterpret_cast<const sockaddr*>(&addrs_[i]); }
  socklen_t source_length(std::size_t i) const { return msgs_[i].msg_hdr.msg_namelen; }
  // With UDP_GRO: message i holds several datagrams of this size (the last
  // may be shorter); 0 = one datagram.
  std::size_t segment_size(std::size_t i) const;

 private:
  friend class UdpSocket;
  void reset();  // before each recvmmsg: lengths back to full size
  union Control {
    cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  };

  std::size_t buffer_size_;
  std::size_t filled_ = 0;
  std::vector<std::uint8_t> storage_;
  std::vector<iovec> iov_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<mmsghdr> msgs_;
  std::vector<Control> control_;
};

// Datagrams to send, pointing at caller-owned buffers (no copy). Capacity is
// fixed at construction; add() returns false when full (flush first).
class SendBatch {
 public:
  explicit SendBatch(std::size_t capacity);
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  bool add(const std::uint8_t* data, std::size_t length, const Endpoint& to);
  std::size_t size() const { return count_; }
  bool full() const { return count_ == msgs_.size(); }
  // After UdpSocket::send(): whether datagram i was refused.
  bool failed(std::size_t i) const { return failed_[i] != 0; }
  void clear() { count_ = 0; }

  // UDP GSO (UDP_SEGMENT, Linux >= 4.18): runs of equal-size datagrams to one
  // destination leave as one send of up to kMaxGsoSegments. Switched off for
  // good the first time the kernel or the egress device refuses it.
  static constexpr std::size_t kMaxGsoSegments = 64;
  static constexpr std::size_t kMaxGsoBytes = 65000;
  void enable_gso(bool on) { gso_ = on; }
  bool gso_enabled() const { return gso_; }
  std::uint64_t gso_sends() const { return gso_sends_; }

 private:
  friend class UdpSocket;
  union Control {
    cmsghdr align;
    char buf[CMSG_SPACE(sizeof(std::uint16_t))];
  };
  std::size_t count_ = 0;
  std::vector<iovec> iov_;
  std::vector<Endpoint> to_;
  std::vector<mmsghdr> msgs_;
  std::vector<std::uint8_t> failed_;
  std::vector<std::size_t> first_;  // per message: first datagram
  std::vector<std::size_t> span_;   // per message: datagrams in it
  std::vector<Control> control_;
  bool gso_ = false;
  std::uint64_t gso_sends_ = 0;
};

struct SendResult {
  std::size_t sent = 0;
  std::size_t failed = 0;  // refused by the kernel (full after waiting, EMSGSIZE, unreachable)
};

class UdpSocket {
 public:
  static constexpr int kBufferBytes = 8 << 20;

  // Binds `local` (port 0 = ephemeral). An IPv6 wildcard bind is dual-stack.
  // Throws std::system_error naming the failing call.
  static UdpSocket open(const Endpoint& local);
  // An ephemeral socket able to reach `remote` (spokes without `listen`).
  static UdpSocket open_for(const Endpoint& remote);

  int fd() const { return fd_.get(); }
  // UDP_GRO (Linux >= 5.0): the kernel may hand over several datagrams of one
  // sender as one message (ReceiveBatch::segment_size). False if unsupported.
  bool enable_gro();
  int family() const { return family_; }
  Endpoint local_endpoint() const;

  // Drains up to batch.capacity() datagrams without blocking; returns how
  // many arrived (0 when the socket is empty).
  std::size_t receive(ReceiveBatch& batch);
  // Sends every datagram in the batch (sendmmsg; waits up to a few ms for
  // buffer space if the kernel is momentarily full); the caller clears it. Returns
  // how many the kernel accepted and refused. Thread-safe with respect to
  // receive() and send_one() on other threads (the kernel serialises).
  SendResult send(SendBatch& batch);
  // One datagram (handshakes, keepalives). False if the kernel refused it.
  bool send_one(const std::uint8_t* data, std::size_t length, const Endpoint& to);

 private:
  UdpSocket(UniqueFd fd, int family) : fd_(std::move(fd)), family_(family) {}
  bool wait_writable(int timeout_ms);
  // Sends datagrams [first, first+count) one per message (GSO fallback).
  void send_plain(SendBatch& batch, std::size_t first, std::size_t count, SendResult& result);

  UniqueFd fd_;
  int family_ = AF_UNSPEC;
};

}  // namespace segbridge::daemon
