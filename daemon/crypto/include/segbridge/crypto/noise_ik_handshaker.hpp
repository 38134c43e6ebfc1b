#pragma once
// Noise IK behind the protocol core's Handshaker interface: the default
// handshake of segbridged (the PSK handshake stays as the legacy mode).
// Maps core::PeerCredentials (public_key, optional psk mixed in as psk2) to
// NoiseHandshake peers, the core's indices and load verdict to
// ConsumeOptions, NoiseSession to core::SessionKeys, and HandshakeDrop to
// core::DropReason. Control thread only, like every Handshaker.
#include <functional>
#include <memory>

#include "segbridge/core/handshake.hpp"
#include "segbridge/crypto/noise_handshake.hpp"

namespace segbridge::crypto {

core::DropReason to_drop_reason(HandshakeDrop drop);
SourceAddress to_source_address(const core::Endpoint& endpoint);

class NoiseIkHandshaker final : public core::Handshaker {
 public:
  using WallClock = std::function<WallTime()>;

  // Throws std::invalid_argument if the configured AEAD is not available on
  // this machine (AES-256-GCM needs AES-NI).
  NoiseIkHandshaker(
      SecretKey static_private, NoiseHandshakeConfig config = {},
      WallClock wall_clock = [] { return std::chrono::system_clock::now(); }, RandomSource& random = system_random());
  ~NoiseIkHandshaker() override;

  const char* name() const override { return "noise-ik"; }
  core::MessageType initiation_type() const override { return core::MessageType::noise_initiation; }
  core::MessageType response_type() const override { return core::MessageType::noise_response; }
  std::size_t max_message_size() const override { return kInitiationSize; }

  std::string add_peer(core::PeerId peer, const core::PeerCredentials& credentials) override;
  void remove_peer(core::PeerId peer) override;
  core::HandshakeResult create_initiation(core::PeerId peer, std::uint32_t local_index, core::TimePoint now,
                                          core::MutableBytes out) override;
  core::HandshakeResult consume_initiation(core::ConstBytes message, const core::Endpoint& from, core::TimePoint now,
                                           std::uint32_t local_index, bool under_load,
                                           core::MutableBytes reply) override;
  core::HandshakeResult consume_response(core::PeerId peer, core::ConstBytes message, const core::Endpoint& from,
                                         core::TimePoint now) override;
  core::HandshakeResult consume_cookie_reply(core::PeerId peer, core::ConstBytes message, core::TimePoint now) override;

  const PublicKey& public_key() const { return engine_.public_key(); }
  NoiseHandshake& engine() { return engine_; }

 private:
  core::HandshakeResult convert(const HandshakeOutcome& outcome, core::MutableBytes reply);

  core::AeadAlgorithm aead_;
  WallClock wall_clock_;
  NoiseHandshake engine_;
};

}  // namespace segbridge::crypto
