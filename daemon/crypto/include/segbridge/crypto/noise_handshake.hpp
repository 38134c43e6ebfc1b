#pragma once
// segbridge's Noise IK handshake engine: Noise_IKpsk2_25519_ChaChaPoly_SHA256
// framed like WireGuard (148 / 92 / 64-byte messages, see
// handshake_messages.hpp), with mac1/mac2/cookies, per-source rate limiting,
// TAI64N replay protection and per-peer flood limits. Sans-IO and
// single-threaded: the caller (the daemon's control thread) passes packets,
// their source and the time in, and sends whatever comes out.
//
// Checks on receipt, in order; any failure is a silent, counted drop:
//   exact length/type/version -> mac1 -> (under load) mac2 else cookie reply,
//   then per-source rate limit -> DH + AEAD -> known peer -> timestamp newer
//   and not a flood -> only then state changes and a session is produced.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "segbridge/crypto/cookie.hpp"
#include "segbridge/crypto/handshake_messages.hpp"
#include "segbridge/crypto/noise_ikpsk2.hpp"
#include "segbridge/crypto/rate_limiter.hpp"
#include "segbridge/crypto/rng.hpp"
#include "segbridge/crypto/secret.hpp"
#include "segbridge/crypto/source_address.hpp"
#include "segbridge/crypto/tai64n.hpp"
#include "segbridge/crypto/x25519.hpp"

namespace segbridge::crypto {

using PeerId = std::uint32_t;
using WallTime = std::chrono::system_clock::time_point;

// Bound into the prologue, so two ends configured for different data AEADs
// (or protocol versions) cannot complete a handshake: no negotiation, no downgrade.
enum class AeadSuite : std::uint8_t { chacha20_poly1305 = 1, aes256_gcm = 2 };

// prologue = "segbridge noise-ik" || 0x00 || wire version || AEAD suite id
std::string make_prologue(AeadSuite suite);

// What a completed handshake hands to the session layer.
struct NoiseSession {
  PeerId peer = 0;
  // The responder must not send with these keys until the initiator has used
  // them once (its first data packet confirms the handshake), as WireGuard.
  bool initiator = false;
  std::uint32_t local_index = 0;   // peers address data packets to us with this
  std::uint32_t remote_index = 0;  // we address data packets to the peer with this
  WipedKey send_key;
  WipedKey receive_key;
  Wiped<32> handshake_hash;
};

enum class HandshakeDrop : std::uint8_t {
  malformed = 0,       // wrong length, type, version or reserved bits
  bad_mac1,            // not addressed to our key (or forged)
  cookie_required,     // under load without a valid mac2: answered with a cookie reply
  rate_limited,        // under load, the source exceeded its token bucket
  decrypt_failed,      // DH produced zero or an AEAD tag did not verify
  unknown_peer,        // authenticated, but the static key is not configured
  replayed_timestamp,  // initiation timestamp not newer than the last accepted
  flood,               // initiations from one peer faster than 50/s
  unknown_index,       // response / cookie reply for no handshake in flight (late, duplicate)
  bad_cookie_reply,    // cookie reply that does not decrypt
  count_
};
constexpr std::size_t kHandshakeDropKinds = static_cast<std::size_t>(HandshakeDrop::count_);
std::string_view drop_name(HandshakeDrop drop);

struct HandshakeCounters {
  std::uint64_t initiations_sent = 0;
  std::uint64_t initiations_accepted = 0;
  std::uint64_t responses_accepted = 0;
  std::uint64_t cookie_replies_sent = 0;
  std::uint64_t cookie_replies_accepted = 0;
  std::array<std::uint64_t, kHandshakeDropKinds> drops{};
  std::uint64_t dropped(HandshakeDrop d) const { return drops[static_cast<std::size_t>(d)]; }
};

struct HandshakeOutcome {
  enum class Kind {
    dropped,              // nothing to send; see `drop`
    send_cookie_reply,    // `reply` holds a 64-byte cookie reply (still counted as a drop)
    initiation_accepted,  // `reply` holds our 92-byte response; `session` is ready (responder side)
    response_accepted,    // `session` is ready (initiator side)
    cookie_accepted,      // the next initiation to that peer will carry mac2
  };
  Kind kind = Kind::dropped;
  HandshakeDrop drop = HandshakeDrop::malformed;
  std::optional<PeerId> peer;
  std::array<std::uint8_t, kResponseSize> reply{};
  std::size_t reply_len = 0;
  std::optional<NoiseSession> session;
};

// What the caller already knows when it hands a packet in (the protocol core
// owns the index table and its own load detector; standalone use leaves all unset).
struct ConsumeOptions {
  std::optional<std::uint32_t> local_index;  // index our response will carry (else one is allocated)
  std::optional<bool> under_load;            // the caller's verdict, OR'ed with the built-in LoadDetector's
  bool load_checks = true;                   // false: never demand mac2 (the caller cannot send a cookie reply)
  std::optional<PeerId> expected_peer;       // a response / cookie reply routed to this peer by its index
};

struct NoiseHandshakeConfig {
  AeadSuite aead = AeadSuite::chacha20_poly1305;
  LoadConfig load;
  RateLimitConfig rate;
  // WireGuard: at most 50 initiations per second accepted from one peer.
  std::chrono::milliseconds min_initiation_interval{20};
};

class NoiseHandshake {
 public:
  // `random` must outlive the engine (tests pass a deterministic source).
  NoiseHandshake(SecretKey static_private, NoiseHandshakeConfig config = {}, RandomSource& random = system_random());
  ~NoiseHandshake();
  NoiseHandshake(const NoiseHandshake&) = delete;
  NoiseHandshake& operator=(const NoiseHandshake&) = delete;

  const PublicKey& public_key() const { return public_; }

  // Throws std::invalid_argument on a duplicate id or key, or our own key.
  // Without a PSK, 32 zero bytes are mixed in (as WireGuard does).
  void add_peer(PeerId id, const PublicKey& key, std::optional<SecretKey> psk = std::nullopt);
  void remove_peer(PeerId id);
  bool has_peer(PeerId id) const { return peers_.count(id) != 0; }

  // Indices already used by the session layer (so a new one never collides).
  void set_index_in_use(std::function<bool(std::uint32_t)> in_use) { index_in_use_ = std::move(in_use); }

  // Starts (or restarts) a handshake with a peer: writes a 148-byte
  // initiation, replacing any initiation still in flight (whose response
  // will then be dropped as unknown_index). Returns the sender index, or
  // nothing for an unknown peer or a peer key that yields a zero DH.
  // `local_index`: the sender index to use (else one is allocated).
  std::optional<std::uint32_t> create_initiation(PeerId id, Instant now, WallTime wall,
                                                 std::uint8_t out[kInitiationSize],
                                                 std::optional<std::uint32_t> local_index = std::nullopt);
  void abandon_initiation(PeerId id);

  // Any received handshake packet (types 1-3).
  HandshakeOutcome consume(const std::uint8_t* packet, std::size_t len, const SourceAddress& from, Instant now,
                           const ConsumeOptions& options = {});

  LoadDetector& load() { return load_; }
  const HandshakeCounters& counters() const { return counters_; }

 private:
  struct Peer;
  HandshakeOutcome drop(HandshakeDrop why, std::optional<PeerId> peer = std::nullopt);
  std::uint32_t allocate_index();
  // Under load: true if the message may proceed; otherwise `out` says what to do.
  bool pass_load_checks(const std::uint8_t* packet, std::size_t len, std::uint32_t sender, const SourceAddress& from,
                        Instant now, const ConsumeOptions& options, HandshakeOutcome& out);
  HandshakeOutcome consume_initiation(const std::uint8_t* packet, const SourceAddress& from, Instant now,
                                      const ConsumeOptions& options);
  HandshakeOutcome consume_response(const std::uint8_t* packet, const SourceAddress& from, Instant now,
                                    const ConsumeOptions& options);
  HandshakeOutcome consume_cookie_reply(const std::uint8_t* packet, Instant now, const ConsumeOptions& options);

  SecretKey static_private_;
  PublicKey public_;
  NoiseHandshakeConfig config_;
  RandomSource& random_;
  std::string prologue_;
  CookieChecker checker_;
  RateLimiter limiter_;
  LoadDetector load_;
  std::unordered_map<PeerId, std::unique_ptr<Peer>> peers_;
  std::map<PublicKey, PeerId> by_key_;
  std::unordered_map<std::uint32_t, PeerId> pending_by_index_;   // our initiations in flight
  std::unordered_map<std::uint32_t, PeerId> response_by_index_;  // our last response per peer (for cookie replies)
  std::function<bool(std::uint32_t)> index_in_use_;
  HandshakeCounters counters_;
};

}  // namespace segbridge::crypto
