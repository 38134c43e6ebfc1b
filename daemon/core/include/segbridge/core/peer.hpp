#pragma once
// One remote site. State is split by owning thread (TUNNEL-NOTES §7.3):
//   control thread: handshake progress, session slots, timers   (private; Device)
//   TX thread:      cached send session                         (private; Device::send_frame)
//   RX thread:      reassembler                                 (private; Device::on_data)
//   any thread:     endpoint (seqlock), state, counters, last-activity times (atomics)
// Peers are created and owned by Device; the runtime holds shared_ptr<Peer>
// for as long as its tap/worker references the peer.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "segbridge/core/constants.hpp"
#include "segbridge/core/counters.hpp"
#include "segbridge/core/endpoint.hpp"
#include "segbridge/core/handshake.hpp"
#include "segbridge/core/reassembler.hpp"
#include "segbridge/core/session.hpp"

namespace segbridge::core {

struct PeerConfig {
  std::string name;                  // the peer's site name (config [[peer]].name)
  std::optional<Endpoint> endpoint;  // known address; the peer initiates to it
  // Keep retrying the handshake forever (a spoke towards its hub). Otherwise
  // retries stop after REKEY_ATTEMPT_TIME until traffic wants a session.
  bool persistent = false;
  Duration keepalive = kKeepaliveTimeout;  // passive keepalive (reply-to-data) timeout
  Duration persistent_keepalive{0};        // >0: send something at least this often (NAT)
  PeerCredentials credentials;
};

enum class PeerState : std::uint8_t {
  idle,         // no session, no handshake in flight
  handshaking,  // initiation sent, waiting for the response
  established,  // a current session is usable for sending
};
const char* to_string(PeerState s);

// Endpoint readable from any thread without locks: writers (rare: roaming,
// handshake) serialize on a mutex and bump a sequence; readers retry on change.
class EndpointCell {
 public:
  Endpoint load() const;
  void store(const Endpoint& e);

 private:
  std::atomic<std::uint32_t> sequence_{0};
  std::array<std::atomic<std::uint64_t>, 4> words_{};
  std::mutex writer_;
};

class Peer {
 public:
  Peer(PeerId id, const PeerConfig& config);
  ~Peer();

  PeerId id() const { return id_; }
  const std::string& name() const { return config_.name; }
  const PeerConfig& config() const { return config_; }

  // Any thread.
  Endpoint endpoint() const { return endpoint_.load(); }
  PeerState state() const { return state_.load(std::memory_order_relaxed); }
  const Counters& counters() const { return counters_; }
  Counters& counters() { return counters_; }
  // Time of the last completed handshake (nullopt: never).
  std::optional<TimePoint> last_handshake() const;
  // Current sending session's algorithm (nullopt when not established).
  std::optional<AeadAlgorithm> current_aead() const;

 private:
  friend class Device;

  static std::int64_t ticks(TimePoint t) { return t.time_since_epoch().count(); }
  static TimePoint from_ticks(std::int64_t v) { return TimePoint(TimePoint::duration(v)); }

  PeerId id_;
  PeerConfig config_;
  EndpointCell endpoint_;
  std::atomic<PeerState> state_{PeerState::idle};
  Counters counters_;

  // ---- published by control, read by TX (reload only when generation changes) ----
  std::shared_ptr<Session> published_send_;  // accessed via std::atomic_load/store
  std::atomic<std::uint64_t> send_generation_{0};

  // ---- data path -> control signals (atomics) ----
  std::atomic<std::int64_t> last_data_sent_{INT64_MIN};    // frame (not keepalive) sealed
  std::atomic<std::int64_t> last_any_sent_{INT64_MIN};     // any datagram sealed
  std::atomic<std::int64_t> last_received_{INT64_MIN};     // any authenticated datagram
  std::atomic<std::int64_t> unreplied_since_{INT64_MIN};   // first data received since our last send
  std::atomic<std::int64_t> unanswered_since_{INT64_MIN};  // first data sent since our last receive
  std::atomic<bool> wants_handshake_{false};               // TX found no usable session / rekey due

  // ---- TX thread only ----
  std::shared_ptr<Session> tx_session_;
  std::uint64_t tx_generation_ = 0;
  TimePoint tx_last_rekey_request_{};

  // ---- RX thread only ----
  Reassembler reassembler_;
  ReassemblyStats rx_synced_stats_;    // reassembler stats already folded into counters_
  TimePoint next_reassembly_sweep_{};  // when on_data next drops stale partial frames

  // ---- control thread only ----
  std::shared_ptr<Session> current_, next_;
  // Sessions replaced by a newer one, oldest first, at most kMaxRetiredSessions:
  // still accepted for packets in flight until they expire.
  std::vector<std::shared_ptr<Session>> retired_;
  std::uint32_t pending_index_ = 0;  // local index of the initiation in flight
  TimePoint pending_since_{};        // when the first initiation of this attempt went out
  TimePoint next_retry_{};           // when to resend it
  Duration retry_interval_{kHandshakeRetryInitial};
  TimePoint last_initiation_sent_{};
  std::optional<TimePoint> last_handshake_;                    // completed handshake (control thread)
  std::atomic<std::int64_t> last_handshake_ticks_{INT64_MIN};  // mirrored for other threads
};

}  // namespace segbridge::core
