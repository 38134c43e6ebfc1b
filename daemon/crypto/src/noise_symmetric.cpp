#include "segbridge/crypto/noise_symmetric.hpp"

#include <sodium.h>

#include <algorithm>

#include "segbridge/crypto/hkdf.hpp"
#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {
namespace {

void make_nonce(std::uint64_t n, std::uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES]) {
  std::fill(nonce, nonce + 4, 0);
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
}

}  // namespace

void noise_aead_encrypt(const WipedKey& key, std::uint64_t nonce, const std::uint8_t* ad, std::size_t ad_len,
                        const std::uint8_t* plaintext, std::size_t len, std::uint8_t* ciphertext_and_tag) {
  std::uint8_t npub[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  make_nonce(nonce, npub);
  crypto_aead_chacha20poly1305_ietf_encrypt(ciphertext_and_tag, nullptr, plaintext, len, ad, ad_len, nullptr, npub,
                                            key.data());
}

bool noise_aead_decrypt(const WipedKey& key, std::uint64_t nonce, const std::uint8_t* ad, std::size_t ad_len,
                        const std::uint8_t* ciphertext_and_tag, std::size_t len, std::uint8_t* plaintext) {
  if (len < kAeadTagSize) return false;
  std::uint8_t npub[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  make_nonce(nonce, npub);
  return crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, nullptr, nullptr, ciphertext_and_tag, len, ad, ad_len,
                                                   npub, key.data()) == 0;
}

SymmetricState::SymmetricState(std::string_view protocol_name) {
  ensure_sodium();
  if (protocol_name.size() <= h_.size()) {
    std::copy(protocol_name.begin(), protocol_name.end(), h_.data());
  } else {
    crypto_hash_sha256(h_.data(), reinterpret_cast<const std::uint8_t*>(protocol_name.data()), protocol_name.size());
  }
  std::copy(h_.data(), h_.data() + h_.size(), ck_.data());
}

void SymmetricState::mix_hash(const std::uint8_t* data, std::size_t len) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, h_.data(), h_.size());
  crypto_hash_sha256_update(&state, data, len);
  crypto_hash_sha256_final(&state, h_.data());
}

void SymmetricState::mix_key(const std::uint8_t* ikm, std::size_t len) {
  WipedKey temp_k;
  noise_hkdf(ck_, ikm, len, ck_, temp_k);
  k_ = temp_k;
  has_key_ = true;
  n_ = 0;
}

void SymmetricState::mix_key_and_hash(const std::uint8_t* ikm, std::size_t len) {
  WipedKey temp_h, temp_k;
  noise_hkdf(ck_, ikm, len, ck_, temp_h, &temp_k);
  mix_hash(temp_h.data(), temp_h.size());
  k_ = temp_k;
  has_key_ = true;
  n_ = 0;
}

void SymmetricState::encrypt_and_hash(const std::uint8_t* plaintext, std::size_t len, std::uint8_t* out) {
  std::size_t out_len = len;
  if (has_key_) {
    noise_aead_encrypt(k_, n_++, h_.data(), h_.size(), plaintext, len, out);
    out_len += kAeadTagSize;
  } else {
    std::copy(plaintext, plaintext + len, out);
  }
  mix_hash(out, out_len);
}

bool SymmetricState::decrypt_and_hash(const std::uint8_t* ciphertext, std::size_t len, std::uint8_t* out) {
  if (has_key_) {
    if (!noise_aead_decrypt(k_, n_, h_.data(), h_.size(), ciphertext, len, out)) return false;
    ++n_;
  } else {
    std::copy(ciphertext, ciphertext + len, out);
  }
  mix_hash(ciphertext, len);
  return true;
}

void SymmetricState::split(WipedKey& initiator_to_responder, WipedKey& responder_to_initiator) const {
  noise_hkdf(ck_, nullptr, 0, initiator_to_responder, responder_to_initiator);
}

void SymmetricState::wipe() {
  ck_.wipe();
  h_.wipe();
  k_.wipe();
  has_key_ = false;
  n_ = 0;
}

}  // namespace segbridge::crypto
