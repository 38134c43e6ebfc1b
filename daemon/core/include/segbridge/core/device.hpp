#pragma once
// The protocol core's entry point: peers, the index table, the handshake
// and both halves of the data path, with no I/O. The runtime feeds it
// datagrams, frames and the time, and sends what it writes into batches.
//
// Threads (TUNNEL-NOTES §7.3; no locks on the data path):
//   control: add/remove peers, on_handshake(), on_timer(), next_deadline()
//   TX:      send_frame()           (per peer: one TX thread at a time)
//   RX:      on_data()              (per peer: one RX thread at a time)
//   any:     classify(), peer accessors, counters
// on_datagram() is the single-threaded convenience that dispatches both kinds.
// When a data-path call returns control_attention, the runtime should run
// on_timer() on the control thread soon (a handshake is wanted, or a new
// session was confirmed and can be promoted).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "segbridge/core/bytes.hpp"
#include "segbridge/core/counters.hpp"
#include "segbridge/core/datagram_batch.hpp"
#include "segbridge/core/drop_reason.hpp"
#include "segbridge/core/endpoint.hpp"
#include "segbridge/core/handshake.hpp"
#include "segbridge/core/peer.hpp"
#include "segbridge/core/wire_format.hpp"

namespace segbridge::core {

struct DeviceConfig {
  unsigned path_mtu = 1500;  // outer path MTU, clamped to kMinPathMtu..kMaxPathMtu
  // REKEY_AFTER_TIME; only tests shorten it (to see several rekeys under
  // traffic in seconds). Sessions still expire at kRejectAfterTime.
  Duration rekey_after_time = kRekeyAfterTime;
};

struct RxResult {
  DropReason drop = DropReason::none;
  DecodeError decode_error = DecodeError::none;  // detail when drop == malformed
  std::shared_ptr<Peer> peer;                    // the authenticated sender (when known)
  // A complete frame for peer's tap. Points into the datagram (decrypted in
  // place) or into the peer's reassembly memory; valid until the next on_data()
  // for that peer. Empty for keepalives, partial fragments and handshakes.
  ConstBytes frame;
  bool control_attention = false;
};

struct TxResult {
  DropReason drop = DropReason::none;
  std::size_t datagrams = 0;  // datagrams appended to the batch
  bool control_attention = false;
};

enum class DatagramClass : std::uint8_t { data, handshake, invalid };

class Device;
// Per-RX-thread cache of the published index table (reloaded only when the
// control thread publishes a change). One per RX thread; never shared.
class RxContext {
 private:
  friend class Device;
  std::shared_ptr<const void> index_;  // Device::IndexMap
  std::uint64_t generation_ = ~0ull;
};

class Device {
 public:
  Device(const DeviceConfig& config, std::unique_ptr<Handshaker> handshaker);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceConfig& config() const { return config_; }
  Handshaker& handshaker() { return *handshaker_; }
  // Slot size a DatagramBatch needs for this path MTU (and handshakes).
  std::size_t max_datagram_size() const;

  // ---- control thread ----
  // Adds a peer (registering its credentials with the handshaker). nullptr and
  // *error set if rejected (duplicate name, bad credentials).
  std::shared_ptr<Peer> add_peer(const PeerConfig& config, std::string* error);
  // Removes the peer: its sessions stop being accepted at once; keys are wiped
  // when the data path drops its last reference.
  void remove_peer(PeerId id);
  std::shared_ptr<Peer> find_peer(PeerId id) const;
  std::shared_ptr<Peer> find_peer(const std::string& name) const;
  std::vector<std::shared_ptr<Peer>> peers() const;
  void set_path_mtu(unsigned path_mtu);
  // True if `index` names a live session or an initiation in flight (for
  // handshakers that allocate their own indices).
  bool index_in_use(std::uint32_t index) const { return index == 0 || index_.count(index) || pending_.count(index); }

  // Handshake messages (initiation, response, cookie reply).
  RxResult on_handshake(ConstBytes datagram, const Endpoint& from, TimePoint now, DatagramBatch& out,
                        bool under_load = false);
  // Runs every peer's timers: handshake start/retry, keepalives, rekey,
  // session promotion/expiry, reassembly timeouts are done by on_data.
  void on_timer(TimePoint now, DatagramBatch& out);
  // When on_timer() next has something to do.
  TimePoint next_deadline(TimePoint now) const;
  // Starts a handshake with `peer` now (if it has an endpoint).
  void initiate_handshake(Peer& peer, TimePoint now, DatagramBatch& out);

  // ---- any thread ----
  static DatagramClass classify(ConstBytes datagram);
  const Counters& counters() const { return counters_; }  // drops not attributable to a peer

  // ---- RX thread ----
  // A data message: authenticate (decrypting in place), replay-check, roam,
  // reassemble. The datagram buffer is modified.
  RxResult on_data(RxContext& context, MutableBytes datagram, const Endpoint& from, TimePoint now);

  // ---- TX thread ----
  // Seals a frame read from peer's tap into one or more datagrams in `out`.
  // Needs up to kMaxFragments free slots; nothing is appended on failure.
  TxResult send_frame(Peer& peer, ConstBytes frame, TimePoint now, DatagramBatch& out);

  // ---- single-threaded convenience ----
  RxResult on_datagram(MutableBytes datagram, const Endpoint& from, TimePoint now, DatagramBatch& out);

 private:
  struct IndexEntry {
    std::shared_ptr<Peer> peer;
    std::shared_ptr<Session> session;
  };
  using IndexMap = std::unordered_map<std::uint32_t, IndexEntry>;

  std::uint32_t fresh_index() const;
  void publish_index();
  void publish_send(Peer& peer);
  void install_session(Peer& peer, const SessionKeys& keys, TimePoint now, const Endpoint& from);
  void peer_timers(Peer& peer, TimePoint now, DatagramBatch& out);
  TimePoint peer_deadline(const Peer& peer, TimePoint now) const;
  bool seal_keepalive(Peer& peer, TimePoint now, DatagramBatch& out);
  void drop_sessions(Peer& peer);
  void promote_next(Peer& peer);
  void retire(Peer& peer, std::shared_ptr<Session> session);
  static void sync_reassembly_counters(Peer& peer);
  static void update_state(Peer& peer);
  const IndexMap& rx_index(RxContext& context);

  DeviceConfig config_;
  std::unique_ptr<Handshaker> handshaker_;
  Counters counters_;
  PeerId next_peer_id_ = 1;
  std::unordered_map<PeerId, std::shared_ptr<Peer>> peers_;
  std::unordered_map<std::uint32_t, PeerId> pending_;  // in-flight initiation index -> peer
  IndexMap index_;                                     // control's copy
  std::shared_ptr<const IndexMap> published_index_;    // RX reads via std::atomic_load
  std::atomic<std::uint64_t> index_generation_{0};
  std::atomic<unsigned> path_mtu_;
  RxContext single_thread_rx_;  // used by on_datagram()
};

}  // namespace segbridge::core
