#pragma once
// One direction's data key with its cipher: ChaCha20-Poly1305 (IETF) or
// AES-256-GCM with the key schedule precomputed once (_beforenm). Nonce =
// 4 zero bytes || le64(counter). Sealing is out of place (frame buffer ->
// datagram buffer) so neither direction needs an extra copy; opening is in place.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "segbridge/core/bytes.hpp"
#include "segbridge/core/secret_key.hpp"

namespace segbridge::core {

enum class AeadAlgorithm : std::uint8_t {
  chacha20_poly1305 = 1,
  aes256_gcm = 2,
};
const char* to_string(AeadAlgorithm a);

// Bit set of algorithms (bit = 1 << value), used in handshake offers.
using AeadSet = std::uint8_t;
inline constexpr AeadSet aead_bit(AeadAlgorithm a) {
  return static_cast<AeadSet>(1u << static_cast<unsigned>(a));
}
// What this machine can do: ChaCha always; AES-GCM only with AES-NI + PCLMUL.
AeadSet locally_available_aeads();
// Preference order when both sides offer several: AES-256-GCM (faster with AES-NI), then ChaCha.
bool choose_aead(AeadSet offered, AeadSet accepted, AeadAlgorithm* chosen);

class AeadKey {
 public:
  AeadKey(AeadAlgorithm algorithm, const SecretKey& key);
  ~AeadKey();
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;

  AeadAlgorithm algorithm() const { return algorithm_; }
  // Encrypts plaintext into ciphertext_out (same length, may equal plaintext.data)
  // and writes the 16-byte tag.
  void seal(std::uint64_t counter, ConstBytes associated_data, ConstBytes plaintext, std::uint8_t* ciphertext_out,
            std::uint8_t* tag_out) const;
  // Verifies, then decrypts in place. false (and the buffer unspecified) if the
  // tag does not verify.
  bool open(std::uint64_t counter, ConstBytes associated_data, MutableBytes ciphertext, const std::uint8_t* tag) const;

 private:
  struct AesState;
  AeadAlgorithm algorithm_;
  SecretKey key_;                  // ChaCha key
  std::unique_ptr<AesState> aes_;  // precomputed AES-GCM state (16-byte aligned)
};

}  // namespace segbridge::core
