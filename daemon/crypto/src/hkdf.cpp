#include "segbridge/crypto/hkdf.hpp"

#include <sodium.h>

#include <algorithm>

#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {

void hmac_sha256(const std::uint8_t* key, std::size_t key_len, const std::uint8_t* data, std::size_t data_len,
                 std::uint8_t out[kHashSize]) {
  ensure_sodium();
  // The _init/_update/_final API takes keys of any length (hashed first when
  // longer than a block, as HMAC requires); crypto_auth_hmacsha256() alone
  // would fix the key at 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key, key_len);
  crypto_auth_hmacsha256_update(&state, data, data_len);
  crypto_auth_hmacsha256_final(&state, out);
  sodium_memzero(&state, sizeof state);
}

void hkdf_extract(const std::uint8_t* salt, std::size_t salt_len, const std::uint8_t* ikm, std::size_t ikm_len,
                  std::uint8_t prk[kHashSize]) {
  static const std::uint8_t zero_salt[kHashSize] = {};
  if (salt_len == 0) {
    salt = zero_salt;
    salt_len = kHashSize;
  }
  hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
}

bool hkdf_expand(const std::uint8_t prk[kHashSize], const std::uint8_t* info, std::size_t info_len, std::uint8_t* out,
                 std::size_t out_len) {
  if (out_len > 255 * kHashSize) return false;
  std::uint8_t block[kHashSize];
  std::size_t done = 0;
  for (std::uint8_t counter = 1; done < out_len; ++counter) {
    // T(i) = HMAC(PRK, T(i-1) || info || i)
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, prk, kHashSize);
    if (counter > 1) crypto_auth_hmacsha256_update(&state, block, kHashSize);
    if (info_len > 0) crypto_auth_hmacsha256_update(&state, info, info_len);
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, block);
    sodium_memzero(&state, sizeof state);
    const std::size_t n = std::min(kHashSize, out_len - done);
    std::copy(block, block + n, out + done);
    done += n;
  }
  sodium_memzero(block, sizeof block);
  return true;
}

void noise_hkdf(const WipedKey& chaining_key, const std::uint8_t* ikm, std::size_t ikm_len, WipedKey& out1,
                WipedKey& out2, WipedKey* out3) {
  Wiped<kHashSize> prk;
  hkdf_extract(chaining_key.data(), chaining_key.size(), ikm, ikm_len, prk.data());
  Wiped<3 * kHashSize> okm;
  hkdf_expand(prk.data(), nullptr, 0, okm.data(), out3 != nullptr ? 3 * kHashSize : 2 * kHashSize);
  std::copy(okm.data(), okm.data() + kHashSize, out1.data());
  std::copy(okm.data() + kHashSize, okm.data() + 2 * kHashSize, out2.data());
  if (out3 != nullptr) std::copy(okm.data() + 2 * kHashSize, okm.data() + 3 * kHashSize, out3->data());
}

}  // namespace segbridge::crypto
