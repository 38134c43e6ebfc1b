#include "segbridge/core/aead.hpp"

#include <sodium.h>

#include <cstring>
#include <new>

#include "segbridge/core/wire_format.hpp"

namespace segbridge::core {

static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "IETF ChaCha nonce");
static_assert(crypto_aead_aes256gcm_NPUBBYTES == 12, "AES-GCM nonce");
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == 16 && crypto_aead_aes256gcm_ABYTES == 16, "tag size");

const char* to_string(AeadAlgorithm a) {
  switch (a) {
    case AeadAlgorithm::chacha20_poly1305:
      return "chacha20-poly1305";
    case AeadAlgorithm::aes256_gcm:
      return "aes-256-gcm";
  }
  return "unknown";
}

AeadSet locally_available_aeads() {
  AeadSet s = aead_bit(AeadAlgorithm::chacha20_poly1305);
  if (crypto_aead_aes256gcm_is_available()) s |= aead_bit(AeadAlgorithm::aes256_gcm);
  return s;
}

bool choose_aead(AeadSet offered, AeadSet accepted, AeadAlgorithm* chosen) {
  AeadSet common = offered & accepted;
  for (auto a : {AeadAlgorithm::aes256_gcm, AeadAlgorithm::chacha20_poly1305}) {
    if (common & aead_bit(a)) {
      *chosen = a;
      return true;
    }
  }
  return false;
}

struct AeadKey::AesState {
  alignas(16) crypto_aead_aes256gcm_state state;
};

namespace {
inline void make_nonce(std::uint64_t counter, std::uint8_t nonce[12]) {
  std::memset(nonce, 0, 4);
  store_le64(nonce + 4, counter);
}
}  // namespace

AeadKey::AeadKey(AeadAlgorithm algorithm, const SecretKey& key) : algorithm_(algorithm) {
  if (algorithm_ == AeadAlgorithm::aes256_gcm && crypto_aead_aes256gcm_is_available()) {
    aes_.reset(new AesState);
    crypto_aead_aes256gcm_beforenm(&aes_->state, key.data());
  } else {
    // A session can only carry AES-GCM if both sides negotiated it, which
    // requires availability; fall back defensively rather than crash.
    algorithm_ = AeadAlgorithm::chacha20_poly1305;
    key_ = key;
  }
}

AeadKey::~AeadKey() {
  if (aes_) sodium_memzero(&aes_->state, sizeof aes_->state);
}

void AeadKey::seal(std::uint64_t counter, ConstBytes ad, ConstBytes plaintext, std::uint8_t* ciphertext_out,
                   std::uint8_t* tag_out) const {
  std::uint8_t nonce[12];
  make_nonce(counter, nonce);
  unsigned long long tag_len = 0;
  if (aes_) {
    crypto_aead_aes256gcm_encrypt_detached_afternm(ciphertext_out, tag_out, &tag_len, plaintext.data, plaintext.size,
                                                   ad.data, ad.size, nullptr, nonce, &aes_->state);
  } else {
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(ciphertext_out, tag_out, &tag_len, plaintext.data,
                                                       plaintext.size, ad.data, ad.size, nullptr, nonce, key_.data());
  }
}

bool AeadKey::open(std::uint64_t counter, ConstBytes ad, MutableBytes ciphertext, const std::uint8_t* tag) const {
  std::uint8_t nonce[12];
  make_nonce(counter, nonce);
  if (aes_) {
    return crypto_aead_aes256gcm_decrypt_detached_afternm(ciphertext.data, nullptr, ciphertext.data, ciphertext.size,
                                                          tag, ad.data, ad.size, nonce, &aes_->state) == 0;
  }
  return crypto_aead_chacha20poly1305_ietf_decrypt_detached(ciphertext.data, nullptr, ciphertext.data, ciphertext.size,
                                                            tag, ad.data, ad.size, nonce, key_.data()) == 0;
}

}  // namespace segbridge::core
