#pragma once
// The Noise specification's CipherState and SymmetricState (rev. 34, §5.1,
// §5.2) for the suite 25519_ChaChaPoly_SHA256: HASHLEN 32, ChaCha20-Poly1305
// IETF with nonce = 4 zero bytes || 64-bit little-endian counter.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "segbridge/crypto/secret.hpp"

namespace segbridge::crypto {

constexpr std::size_t kAeadTagSize = 16;

// ChaCha20-Poly1305 IETF with a Noise nonce. Return false on authentication failure.
void noise_aead_encrypt(const WipedKey& key, std::uint64_t nonce, const std::uint8_t* ad, std::size_t ad_len,
                        const std::uint8_t* plaintext, std::size_t len, std::uint8_t* ciphertext_and_tag);
[[nodiscard]] bool noise_aead_decrypt(const WipedKey& key, std::uint64_t nonce, const std::uint8_t* ad,
                                      std::size_t ad_len, const std::uint8_t* ciphertext_and_tag, std::size_t len,
                                      std::uint8_t* plaintext);

class SymmetricState {
 public:
  // InitializeSymmetric(protocol_name): h = name padded (or hashed if > 32 B), ck = h.
  explicit SymmetricState(std::string_view protocol_name);

  void mix_hash(const std::uint8_t* data, std::size_t len);
  void mix_key(const std::uint8_t* ikm, std::size_t len);
  void mix_key_and_hash(const std::uint8_t* ikm, std::size_t len);
  // Writes len + 16 bytes (or len bytes before any key is set, which does not
  // happen in IKpsk2 but is kept for fidelity to the spec).
  void encrypt_and_hash(const std::uint8_t* plaintext, std::size_t len, std::uint8_t* out);
  [[nodiscard]] bool decrypt_and_hash(const std::uint8_t* ciphertext, std::size_t len, std::uint8_t* out);
  // Split(): first key for the initiator's sending direction.
  void split(WipedKey& initiator_to_responder, WipedKey& responder_to_initiator) const;

  const Wiped<32>& handshake_hash() const { return h_; }
  void wipe();

 private:
  WipedKey ck_;
  Wiped<32> h_;
  WipedKey k_;
  bool has_key_ = false;
  std::uint64_t n_ = 0;
};

}  // namespace segbridge::crypto
