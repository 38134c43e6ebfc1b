#pragma once
// The Noise IKpsk2 handshake pattern over 25519/ChaChaPoly/SHA256, exactly as
// the Noise specification (rev. 34) defines it, with arbitrary prologue and
// payloads. It knows nothing of the wire: NoiseHandshake (noise_handshake.hpp)
// frames these messages WireGuard-style. Kept generic so it can be checked
// against the published Noise test vectors (cacophony).
//
//   IKpsk2:
//     <- s
//     ...
//     -> e, es, s, ss
//     <- e, ee, se, psk
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "segbridge/crypto/noise_symmetric.hpp"
#include "segbridge/crypto/secret.hpp"
#include "segbridge/crypto/x25519.hpp"

namespace segbridge::crypto {

constexpr std::string_view kNoiseProtocolName = "Noise_IKpsk2_25519_ChaChaPoly_SHA256";
constexpr std::size_t kIkMessage1Overhead = 32 + 32 + kAeadTagSize + kAeadTagSize;  // e, enc(s), payload tag
constexpr std::size_t kIkMessage2Overhead = 32 + kAeadTagSize;                      // e, payload tag

struct TransportKeys {
  WipedKey send;
  WipedKey receive;
  Wiped<32> handshake_hash;  // for channel binding and the known-answer vectors
};

class IkPsk2Initiator {
 public:
  // Secret inputs are copied; `ephemeral_private` is normally random (see
  // NoiseHandshake), fixed only in known-answer tests.
  IkPsk2Initiator(std::string_view protocol_name, const std::uint8_t* prologue, std::size_t prologue_len,
                  const std::uint8_t static_private[kKeySize], const PublicKey& responder_static,
                  const std::uint8_t psk[kKeySize], const std::uint8_t ephemeral_private[kKeySize]);

  // Writes kIkMessage1Overhead + payload_len bytes. False if a DH output is
  // zero (a bad responder key), in which case nothing may be sent.
  [[nodiscard]] bool write_message1(const std::uint8_t* payload, std::size_t payload_len, std::uint8_t* out);
  // Consumes message 2, writing its payload (len - kIkMessage2Overhead bytes).
  [[nodiscard]] bool read_message2(const std::uint8_t* message, std::size_t len, std::uint8_t* payload_out);
  // Valid only after read_message2 succeeded. Wipes all handshake secrets.
  TransportKeys split();
  void wipe();

 private:
  SymmetricState sym_;
  WipedKey s_;
  PublicKey s_pub_{};
  PublicKey rs_{};
  WipedKey e_;
  PublicKey e_pub_{};
  WipedKey psk_;
};

class IkPsk2Responder {
 public:
  IkPsk2Responder(std::string_view protocol_name, const std::uint8_t* prologue, std::size_t prologue_len,
                  const std::uint8_t static_private[kKeySize]);

  // Consumes message 1; on success remote_static() holds the initiator's
  // claimed (and, by the ss DH, proven) static key.
  [[nodiscard]] bool read_message1(const std::uint8_t* message, std::size_t len, std::uint8_t* payload_out);
  const PublicKey& remote_static() const { return rs_; }
  // The PSK is per peer, so it is only known once message 1 named the peer.
  [[nodiscard]] bool write_message2(const std::uint8_t psk[kKeySize], const std::uint8_t ephemeral_private[kKeySize],
                                    const std::uint8_t* payload, std::size_t payload_len, std::uint8_t* out);
  TransportKeys split();
  void wipe();

 private:
  SymmetricState sym_;
  WipedKey s_;
  PublicKey rs_{};
  PublicKey re_{};
};

}  // namespace segbridge::crypto
