#pragma once
// The runtime side of one peer: the core's Peer, its tap, and the drops only
// the runtime can see (tap queue full, kernel refused a datagram). Shared by
// the control, TX and RX threads through an immutable PortTable snapshot that
// the control thread republishes when peers come and go (SIGHUP), so the data
// path never takes a lock.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "segbridge/core/frame_filter.hpp"
#include "segbridge/core/peer.hpp"
#include "segbridge/tap_device.hpp"

namespace segbridge::daemon {

struct PeerPort {
  PeerPort(std::shared_ptr<core::Peer> p, TapDevice t, core::FrameFilterConfig filter_config)
      : peer(std::move(p)), tap(std::move(t)), filter(std::move(filter_config)) {}

  std::shared_ptr<core::Peer> peer;
  TapDevice tap;
  // RX thread: what a remote site may put on our LAN (rogue DHCP, forged syslog, ...).
  core::FrameFilter filter;
  // RX thread: frames the tap would not take (its queue was full, or it is down).
  std::atomic<std::uint64_t> tap_write_failed{0};
  // TX thread: datagrams the kernel refused (socket buffer full, no route, too big).
  std::atomic<std::uint64_t> udp_send_failed{0};
  // Control thread: last state logged (to log transitions once).
  core::PeerState logged_state = core::PeerState::idle;
};

using PortTable = std::unordered_map<core::PeerId, std::shared_ptr<PeerPort>>;

// Lock-free publication of the current PortTable (copy-on-write).
class PortDirectory {
 public:
  PortDirectory() : table_(std::make_shared<const PortTable>()) {}
  std::shared_ptr<const PortTable> snapshot() const { return std::atomic_load(&table_); }
  void publish(std::shared_ptr<const PortTable> table) { std::atomic_store(&table_, std::move(table)); }

 private:
  std::shared_ptr<const PortTable> table_;
};

}  // namespace segbridge::daemon
