#pragma once
// PSK (legacy) handshake, docs/PROTOCOL.md §3. One round trip; both sides
// contribute a fresh 32-byte random nonce; every message is MACed with a key
// derived from the PSK (BLAKE2b), so without the PSK nothing gets past one MAC
// check and nothing is ever answered. The AEAD offer/choice is covered by the
// MACs and the transcript hash (no downgrade). Replays: the initiation carries
// the initiator's wall-clock timestamp, which must increase per peer.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "segbridge/core/aead.hpp"
#include "segbridge/core/handshake.hpp"

namespace segbridge::core {

// Byte offsets, see docs/PROTOCOL.md §3.
namespace psk_layout {
inline constexpr std::size_t kInitSender = 4, kInitTimestamp = 8, kInitNonce = 16, kInitAeadOffer = 48, kInitName = 52,
                             kInitMac = 68;
inline constexpr std::size_t kNameSize = 16;  // NUL-padded, 1..15 characters
inline constexpr std::size_t kRespSender = 4, kRespReceiver = 8, kRespNonce = 12, kRespAead = 44, kRespMac = 48;
inline constexpr std::size_t kMacSize = 16, kNonceSize = 32;
}  // namespace psk_layout

class PskHandshaker final : public Handshaker {
 public:
  using WallClock = std::function<std::uint64_t()>;  // nanoseconds since the Unix epoch

  // local_name: this daemon's name, sent in initiations ([a-z0-9-], 1..15 chars).
  // accepted_aeads: what we offer/accept (intersected with locally_available_aeads()).
  PskHandshaker(std::string local_name, AeadSet accepted_aeads, WallClock wall_clock);
  ~PskHandshaker() override;

  const char* name() const override { return "psk"; }
  MessageType initiation_type() const override { return MessageType::psk_initiation; }
  MessageType response_type() const override { return MessageType::psk_response; }
  std::size_t max_message_size() const override { return kPskInitiationSize; }

  std::string add_peer(PeerId peer, const PeerCredentials& credentials) override;
  void remove_peer(PeerId peer) override;
  HandshakeResult create_initiation(PeerId peer, std::uint32_t local_index, TimePoint now, MutableBytes out) override;
  HandshakeResult consume_initiation(ConstBytes message, const Endpoint& from, TimePoint now, std::uint32_t local_index,
                                     bool under_load, MutableBytes reply) override;
  HandshakeResult consume_response(PeerId peer, ConstBytes message, const Endpoint& from, TimePoint now) override;

  static bool valid_name(const std::string& name);

 private:
  struct PeerState;
  PeerState* find(PeerId peer);
  std::string local_name_;
  AeadSet accepted_;
  WallClock wall_clock_;
  std::uint64_t last_timestamp_sent_ = 0;
  std::unordered_map<PeerId, std::unique_ptr<PeerState>> peers_;
  std::unordered_map<std::string, PeerId> by_name_;
};

}  // namespace segbridge::core
