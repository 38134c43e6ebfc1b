#pragma once
// mac1, mac2 and cookies: WireGuard's DoS defence, with keyed BLAKE2b-128
// (libsodium 1.0.18 has no BLAKE2s).
//
//  mac1 = MAC(BLAKE2b-256("mac1----" || receiver_static_pub), msg[0 : mac1 offset])
//    Proves the sender knows who it is talking to; checked before any DH.
//  cookie = MAC(secret, source ip || source port), secret random, rotated every 120 s.
//  mac2 = MAC(cookie, msg[0 : mac2 offset])
//    Proves the sender owns its source address; demanded only under load.
//  cookie reply: XChaCha20-Poly1305(key = BLAKE2b-256("cookie--" || responder_static_pub),
//    random 24-byte nonce, AD = mac1 of the message being answered).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "segbridge/crypto/rng.hpp"
#include "segbridge/crypto/secret.hpp"
#include "segbridge/crypto/source_address.hpp"
#include "segbridge/crypto/x25519.hpp"

namespace segbridge::crypto {

using Instant = std::chrono::steady_clock::time_point;
using Mac = std::array<std::uint8_t, 16>;

constexpr std::chrono::seconds kCookieSecretMaxAge{120};
// The initiator stops using a cookie a little before the responder rotates
// its secret (WireGuard: CookieRefreshTime - Jitter).
constexpr std::chrono::seconds kCookieMaxAgeForSender{115};

// Keyed BLAKE2b with a 16-byte output.
Mac keyed_mac(const std::uint8_t* key, std::size_t key_len, const std::uint8_t* data, std::size_t len);

struct MacKeys {
  explicit MacKeys(const PublicKey& receiver_static);
  WipedKey mac1_key;
  WipedKey cookie_key;
};

// On the receiving side of initiations and responses: checks the macs and
// issues cookie replies.
class CookieChecker {
 public:
  CookieChecker(const PublicKey& our_static, RandomSource& random);

  // `msg` is a whole initiation or response; mac1 / mac2 sit in its last 32 bytes.
  bool check_mac1(const std::uint8_t* msg, std::size_t len) const;
  bool check_mac2(const std::uint8_t* msg, std::size_t len, const SourceAddress& source, Instant now);
  // Writes a 64-byte cookie reply for `msg` (whose sender index is `receiver`).
  void make_reply(const std::uint8_t* msg, std::size_t len, std::uint32_t receiver, const SourceAddress& source,
                  Instant now, std::uint8_t out[64]);

 private:
  bool cookie_for(const SourceAddress& source, Instant now, bool may_rotate, Mac& cookie);

  MacKeys keys_;
  RandomSource& random_;
  WipedKey secret_;
  Instant secret_born_{};
  bool has_secret_ = false;
};

// On the sending side: stamps mac1 (and mac2 when a fresh cookie is held)
// into outgoing initiations and responses, and takes cookie replies.
class CookieGenerator {
 public:
  explicit CookieGenerator(const PublicKey& peer_static);

  void add_macs(std::uint8_t* msg, std::size_t len, Instant now);
  // True if the reply decrypted under the mac1 of the last message we sent.
  bool consume_reply(const std::uint8_t reply[64], Instant now);
  bool has_fresh_cookie(Instant now) const;

 private:
  MacKeys keys_;
  Mac last_mac1_{};
  bool has_last_mac1_ = false;
  Wiped<16> cookie_;
  Instant cookie_time_{};
  bool has_cookie_ = false;
};

}  // namespace segbridge::crypto
