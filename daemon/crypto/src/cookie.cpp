#include "segbridge/crypto/cookie.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "segbridge/crypto/handshake_messages.hpp"
#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {
namespace {

void derive_key(const char label[8], const PublicKey& pub, WipedKey& out) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(label), 8);
  crypto_generichash_update(&state, pub.data(), pub.size());
  crypto_generichash_final(&state, out.data(), out.size());
}

}  // namespace

Mac keyed_mac(const std::uint8_t* key, std::size_t key_len, const std::uint8_t* data, std::size_t len) {
  Mac out{};
  crypto_generichash(out.data(), out.size(), data, len, key, key_len);
  return out;
}

MacKeys::MacKeys(const PublicKey& receiver_static) {
  ensure_sodium();
  derive_key("mac1----", receiver_static, mac1_key);
  derive_key("cookie--", receiver_static, cookie_key);
}

CookieChecker::CookieChecker(const PublicKey& our_static, RandomSource& random) : keys_(our_static), random_(random) {}

bool CookieChecker::check_mac1(const std::uint8_t* msg, std::size_t len) const {
  if (len < 2 * kMacSize) return false;
  const std::size_t mac1_at = len - 2 * kMacSize;
  const Mac expected = keyed_mac(keys_.mac1_key.data(), keys_.mac1_key.size(), msg, mac1_at);
  return sodium_memcmp(expected.data(), msg + mac1_at, kMacSize) == 0;
}

bool CookieChecker::cookie_for(const SourceAddress& source, Instant now, bool may_rotate, Mac& cookie) {
  if (!has_secret_ || now - secret_born_ >= kCookieSecretMaxAge) {
    if (!may_rotate) return false;  // checking against an expired secret always fails
    random_.fill(secret_.data(), secret_.size());
    secret_born_ = now;
    has_secret_ = true;
  }
  std::uint8_t addr[18];
  const std::size_t n = source.serialize(addr);
  cookie = keyed_mac(secret_.data(), secret_.size(), addr, n);
  return true;
}

bool CookieChecker::check_mac2(const std::uint8_t* msg, std::size_t len, const SourceAddress& source, Instant now) {
  if (len < 2 * kMacSize) return false;
  Mac cookie{};
  if (!cookie_for(source, now, false, cookie)) return false;
  const std::size_t mac2_at = len - kMacSize;
  const Mac expected = keyed_mac(cookie.data(), cookie.size(), msg, mac2_at);
  sodium_memzero(cookie.data(), cookie.size());
  return sodium_memcmp(expected.data(), msg + mac2_at, kMacSize) == 0;
}

void CookieChecker::make_reply(const std::uint8_t* msg, std::size_t len, std::uint32_t receiver,
                               const SourceAddress& source, Instant now, std::uint8_t out[64]) {
  Mac cookie{};
  cookie_for(source, now, true, cookie);
  write_header(out, HandshakeType::cookie_reply);
  write_le32(out + cookie_reply::receiver, receiver);
  std::uint8_t* nonce = out + cookie_reply::nonce;
  random_.fill(nonce, kCookieNonceSize);
  const std::uint8_t* mac1 = msg + len - 2 * kMacSize;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + cookie_reply::encrypted_cookie, nullptr, cookie.data(),
                                             cookie.size(), mac1, kMacSize, nullptr, nonce, keys_.cookie_key.data());
  sodium_memzero(cookie.data(), cookie.size());
}

CookieGenerator::CookieGenerator(const PublicKey& peer_static) : keys_(peer_static) {}

bool CookieGenerator::has_fresh_cookie(Instant now) const {
  return has_cookie_ && now - cookie_time_ < kCookieMaxAgeForSender;
}

void CookieGenerator::add_macs(std::uint8_t* msg, std::size_t len, Instant now) {
  const std::size_t mac1_at = len - 2 * kMacSize;
  const std::size_t mac2_at = len - kMacSize;
  last_mac1_ = keyed_mac(keys_.mac1_key.data(), keys_.mac1_key.size(), msg, mac1_at);
  has_last_mac1_ = true;
  std::copy(last_mac1_.begin(), last_mac1_.end(), msg + mac1_at);
  if (has_fresh_cookie(now)) {
    const Mac mac2 = keyed_mac(cookie_.data(), cookie_.size(), msg, mac2_at);
    std::copy(mac2.begin(), mac2.end(), msg + mac2_at);
  } else {
    std::fill(msg + mac2_at, msg + len, 0);
  }
}

bool CookieGenerator::consume_reply(const std::uint8_t reply[64], Instant now) {
  if (!has_last_mac1_) return false;
  Wiped<16> cookie;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie.data(), nullptr, nullptr,
                                                 reply + cookie_reply::encrypted_cookie, 32, last_mac1_.data(),
                                                 kMacSize, reply + cookie_reply::nonce, keys_.cookie_key.data()) != 0) {
    return false;
  }
  cookie_ = cookie;
  cookie_time_ = now;
  has_cookie_ = true;
  return true;
}

}  // namespace segbridge::crypto
