#pragma once
// HMAC-SHA256 and HKDF (RFC 5869) built on libsodium 1.0.18, which has
// HMAC-SHA256 but no HKDF (crypto_kdf_hkdf_* arrived in 1.0.19).
//
// noise_hkdf() is the Noise specification's HKDF(chaining_key, ikm, n):
//   temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 || 0x02); ...
// which equals RFC 5869 HKDF with salt = ck, info = "" and L = n * 32.
#include <cstddef>
#include <cstdint>

#include "segbridge/crypto/secret.hpp"

namespace segbridge::crypto {

constexpr std::size_t kHashSize = 32;  // SHA-256

void hmac_sha256(const std::uint8_t* key, std::size_t key_len, const std::uint8_t* data, std::size_t data_len,
                 std::uint8_t out[kHashSize]);

// RFC 5869 §2.2: PRK = HMAC(salt, ikm). An empty salt means HashLen zero bytes.
void hkdf_extract(const std::uint8_t* salt, std::size_t salt_len, const std::uint8_t* ikm, std::size_t ikm_len,
                  std::uint8_t prk[kHashSize]);

// RFC 5869 §2.3. Returns false (writing nothing) if out_len > 255 * 32.
bool hkdf_expand(const std::uint8_t prk[kHashSize], const std::uint8_t* info, std::size_t info_len, std::uint8_t* out,
                 std::size_t out_len);

// Noise HKDF with two or three outputs; out3 may be null for two outputs.
void noise_hkdf(const WipedKey& chaining_key, const std::uint8_t* ikm, std::size_t ikm_len, WipedKey& out1,
                WipedKey& out2, WipedKey* out3 = nullptr);

}  // namespace segbridge::crypto
