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
  PeerPort(std::shared_ptr<core::Peer> p, TapDevice t, core::FrameFilterConfig f = {})
      : peer(std::move(p)), tap(std::move(t)), filter(std::move(f)) {}

  std::shared_ptr<core::Peer> peer;
  TapDevice tap;
  // RX thread: what this peer may put into the bridge (docs/SECURITY.md §2.2).
  core::FrameFilter filter;
  // The tap was opened with IFF_VNET_HDR: every read/write carries a virtio_net_hdr.
  bool vnet_header = false;
  // RX thread only: same-flow UDP datagrams may be written as one USO
  // super-frame; cleared for good when the kernel refuses one (< 6.2).
  bool rx_uso = true;
  // TX thread: merge in-order TCP segments of a drained batch and re-cut them
  // to fit one datagram (TxCoalescer; config `tx_coalesce`).
  bool tx_coalesce = false;
  // TX thread: super-frames/partial-checksum frames we could not make sense of.
  std::atomic<std::uint64_t> offload_malformed{0};
  // RX thread: frames the tap would not take (its queue was full, or it is down).
  std::atomic<std::uint64_t> tap_write_failed{0};
  // RX thread: frames it read from this tap and sent itself, right after a
  // write (TxPath::forward_replies); the rest are the TX thread's.
  std::atomic<std::uint64_t> replies_inline{0};
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
