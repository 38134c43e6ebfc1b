#pragma once
// The handshake abstraction. The core drives it; implementations are the PSK
// handshake (psk_handshake.hpp, legacy mode) and Noise IK (daemon/crypto/).
// All calls happen on the control thread. The core validates the envelope
// (type, version, exact size, reserved preamble bytes) before calling in, owns
// the index table, and routes responses/cookies to the peer whose pending
// initiation carries the receiver index.
//
// Silence rule: a result with drop != none must not produce a reply
// (reply_size == 0), except a cookie reply which Noise may send under load.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "segbridge/core/bytes.hpp"
#include "segbridge/core/drop_reason.hpp"
#include "segbridge/core/endpoint.hpp"
#include "segbridge/core/secret_key.hpp"
#include "segbridge/core/session.hpp"
#include "segbridge/core/wire_format.hpp"

namespace segbridge::core {

using PeerId = std::uint32_t;
inline constexpr PeerId kNoPeer = 0;

// Per-peer identity material; which fields are required depends on the handshake.
struct PeerCredentials {
  std::string name;                     // PSK mode: identifies the initiator ([a-z0-9-], <= 15 chars)
  std::optional<SecretKey> psk;         // PSK mode: required; Noise: optional psk2 value
  std::optional<SecretKey> public_key;  // Noise: the peer's static X25519 public key
};

struct HandshakeResult {
  DropReason drop = DropReason::none;  // none = accepted
  PeerId peer = kNoPeer;               // the authenticated peer (set on success)
  std::optional<SessionKeys> session;  // a completed session (responder: at once; initiator: on response)
  std::size_t reply_size = 0;          // bytes written to the reply buffer (response or cookie reply)
  // create_initiation only: the sender index actually used, if the handshaker
  // allocates its own (0 = it used the proposed one). It must not be in use:
  // see Device::index_in_use().
  std::uint32_t local_index = 0;
};

class Handshaker {
 public:
  virtual ~Handshaker() = default;

  virtual const char* name() const = 0;  // "psk", "noise-ik"
  virtual MessageType initiation_type() const = 0;
  virtual MessageType response_type() const = 0;
  // Largest message this handshake writes (reply buffers must hold it).
  virtual std::size_t max_message_size() const = 0;

  // Registers or replaces a peer's credentials. Returns an error message
  // (empty = ok), e.g. a missing PSK or a duplicate name/public key.
  virtual std::string add_peer(PeerId peer, const PeerCredentials& credentials) = 0;
  // Forgets the peer and wipes its handshake state and keys.
  virtual void remove_peer(PeerId peer) = 0;

  // Initiator: writes a fresh initiation for `peer` using `local_index` into
  // `out` (>= max_message_size()). Any earlier pending initiation of that peer
  // is superseded. reply_size = message size; drop set on failure.
  virtual HandshakeResult create_initiation(PeerId peer, std::uint32_t local_index, TimePoint now,
                                            MutableBytes out) = 0;

  // Responder: authenticates an initiation, identifies its peer, and on success
  // writes the response into `reply` and returns the session (local index =
  // `local_index`, which the core allocated). `under_load` lets Noise demand
  // mac2 / answer with a cookie.
  virtual HandshakeResult consume_initiation(ConstBytes message, const Endpoint& from, TimePoint now,
                                             std::uint32_t local_index, bool under_load, MutableBytes reply) = 0;

  // Initiator: consumes the response to `peer`'s pending initiation (the core
  // found the peer by the receiver index). On success the pending state is
  // cleared, so a replayed response is rejected.
  virtual HandshakeResult consume_response(PeerId peer, ConstBytes message, const Endpoint& from, TimePoint now) = 0;

  // Cookie reply (Noise only); default: unsupported.
  virtual HandshakeResult consume_cookie_reply(PeerId peer, ConstBytes message, TimePoint now);
};

}  // namespace segbridge::core
