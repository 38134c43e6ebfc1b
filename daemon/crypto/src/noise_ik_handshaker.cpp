#include "segbridge/crypto/noise_ik_handshaker.hpp"

#include <algorithm>
#include <stdexcept>

namespace segbridge::crypto {
namespace {

core::AeadAlgorithm to_algorithm(AeadSuite suite) {
  return suite == AeadSuite::aes256_gcm ? core::AeadAlgorithm::aes256_gcm : core::AeadAlgorithm::chacha20_poly1305;
}

core::SecretKey to_core_key(const WipedKey& key) {
  return core::SecretKey(key.data());
}

}  // namespace

core::DropReason to_drop_reason(HandshakeDrop drop) {
  switch (drop) {
    case HandshakeDrop::malformed:
      return core::DropReason::malformed;
    case HandshakeDrop::bad_mac1:
    case HandshakeDrop::decrypt_failed:
    case HandshakeDrop::bad_cookie_reply:
      return core::DropReason::unauthenticated;
    case HandshakeDrop::cookie_required:
      return core::DropReason::handshake_cookie_required;
    case HandshakeDrop::rate_limited:
      return core::DropReason::handshake_rate_limited;
    case HandshakeDrop::unknown_peer:
      return core::DropReason::handshake_unknown_peer;
    case HandshakeDrop::replayed_timestamp:
      return core::DropReason::handshake_replay;
    case HandshakeDrop::flood:
      return core::DropReason::handshake_flood;
    case HandshakeDrop::unknown_index:
      return core::DropReason::handshake_unexpected;
    case HandshakeDrop::count_:
      break;
  }
  return core::DropReason::malformed;
}

SourceAddress to_source_address(const core::Endpoint& endpoint) {
  const core::Endpoint e = endpoint.unmapped();
  if (e.is_v6()) return SourceAddress::v6(e.address_bytes(), e.port());
  const auto v4 = e.v4_bytes();
  return SourceAddress::v4(v4[0], v4[1], v4[2], v4[3], e.port());
}

NoiseIkHandshaker::NoiseIkHandshaker(SecretKey static_private, NoiseHandshakeConfig config, WallClock wall_clock,
                                     RandomSource& random)
    : aead_(to_algorithm(config.aead)),
      wall_clock_(std::move(wall_clock)),
      engine_(std::move(static_private), config, random) {
  if ((core::locally_available_aeads() & core::aead_bit(aead_)) == 0) {
    throw std::invalid_argument(std::string("AEAD ") + core::to_string(aead_) + " is not available on this CPU");
  }
}

NoiseIkHandshaker::~NoiseIkHandshaker() = default;

std::string NoiseIkHandshaker::add_peer(core::PeerId peer, const core::PeerCredentials& credentials) {
  if (!credentials.public_key) return "Noise IK mode needs the public key of peer '" + credentials.name + "'";
  PublicKey key{};
  std::copy(credentials.public_key->data(), credentials.public_key->data() + key.size(), key.begin());
  std::optional<SecretKey> psk;
  if (credentials.psk) psk.emplace(credentials.psk->data());
  // Replace semantics: a SIGHUP that changes a peer re-adds it under its id.
  engine_.remove_peer(peer);
  try {
    engine_.add_peer(peer, key, std::move(psk));
  } catch (const std::invalid_argument& e) {
    return "peer '" + credentials.name + "': " + e.what();
  }
  return {};
}

void NoiseIkHandshaker::remove_peer(core::PeerId peer) {
  engine_.remove_peer(peer);
}

core::HandshakeResult NoiseIkHandshaker::create_initiation(core::PeerId peer, std::uint32_t local_index,
                                                           core::TimePoint now, core::MutableBytes out) {
  core::HandshakeResult r;
  if (out.size < kInitiationSize) {
    r.drop = core::DropReason::batch_full;
    return r;
  }
  if (!engine_.create_initiation(peer, now, wall_clock_(), out.data, local_index)) {
    // Unknown peer, or its configured public key gives an all-zero DH.
    r.drop = engine_.has_peer(peer) ? core::DropReason::unauthenticated : core::DropReason::handshake_unknown_peer;
    return r;
  }
  r.peer = peer;
  r.reply_size = kInitiationSize;
  return r;
}

core::HandshakeResult NoiseIkHandshaker::convert(const HandshakeOutcome& o, core::MutableBytes reply) {
  core::HandshakeResult r;
  r.peer = o.peer.value_or(core::kNoPeer);
  if (o.reply_len > 0) {
    if (reply.size < o.reply_len) {
      r.drop = core::DropReason::batch_full;
      return r;
    }
    std::copy(o.reply.begin(), o.reply.begin() + static_cast<long>(o.reply_len), reply.data);
    r.reply_size = o.reply_len;
  }
  switch (o.kind) {
    case HandshakeOutcome::Kind::dropped:
    case HandshakeOutcome::Kind::send_cookie_reply:
      r.drop = to_drop_reason(o.drop);
      break;
    case HandshakeOutcome::Kind::initiation_accepted:
    case HandshakeOutcome::Kind::response_accepted: {
      const NoiseSession& s = *o.session;
      core::SessionKeys& k = r.session.emplace();
      k.send_key = to_core_key(s.send_key);
      k.receive_key = to_core_key(s.receive_key);
      k.local_index = s.local_index;
      k.remote_index = s.remote_index;
      k.aead = aead_;
      k.initiator = s.initiator;
      break;
    }
    case HandshakeOutcome::Kind::cookie_accepted:
      break;
  }
  return r;
}

core::HandshakeResult NoiseIkHandshaker::consume_initiation(core::ConstBytes message, const core::Endpoint& from,
                                                            core::TimePoint now, std::uint32_t local_index,
                                                            bool under_load, core::MutableBytes reply) {
  ConsumeOptions options;
  options.local_index = local_index;
  options.under_load = under_load;
  return convert(engine_.consume(message.data, message.size, to_source_address(from), now, options), reply);
}

core::HandshakeResult NoiseIkHandshaker::consume_response(core::PeerId peer, core::ConstBytes message,
                                                          const core::Endpoint& from, core::TimePoint now) {
  ConsumeOptions options;
  options.expected_peer = peer;
  // The core has no reply buffer for a response, so it cannot be answered
  // with a cookie: it is consumed without the mac2 demand. Responses are only
  // looked at for an initiation in flight (a random 32-bit index), so an
  // off-path flood of them stops at mac1 or the index lookup.
  options.load_checks = false;
  HandshakeOutcome o = engine_.consume(message.data, message.size, to_source_address(from), now, options);
  if (o.kind != HandshakeOutcome::Kind::dropped && o.kind != HandshakeOutcome::Kind::response_accepted) {
    o.kind = HandshakeOutcome::Kind::dropped;  // e.g. an initiation handed in as a response
    o.drop = HandshakeDrop::malformed;
    o.session.reset();
    o.reply_len = 0;
  }
  return convert(o, {});
}

core::HandshakeResult NoiseIkHandshaker::consume_cookie_reply(core::PeerId peer, core::ConstBytes message,
                                                              core::TimePoint now) {
  ConsumeOptions options;
  options.expected_peer = peer;
  HandshakeOutcome o = engine_.consume(message.data, message.size, SourceAddress{}, now, options);
  if (o.kind != HandshakeOutcome::Kind::dropped && o.kind != HandshakeOutcome::Kind::cookie_accepted) {
    o.kind = HandshakeOutcome::Kind::dropped;
    o.drop = HandshakeDrop::malformed;
    o.session.reset();
    o.reply_len = 0;
  }
  return convert(o, {});
}

}  // namespace segbridge::crypto
