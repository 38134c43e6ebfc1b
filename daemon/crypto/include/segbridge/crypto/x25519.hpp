#pragma once
// X25519 for Noise's DH(): raw crypto_scalarmult output, never crypto_kx
// (which hashes the shared point and is not Noise's DH).
#include <array>
#include <cstdint>

#include "segbridge/crypto/secret.hpp"

namespace segbridge::crypto {

using PublicKey = std::array<std::uint8_t, kKeySize>;

// Public key for a private scalar (clamping is done by libsodium).
PublicKey x25519_public_key(const std::uint8_t private_key[kKeySize]);

// DH(private, public) into `shared`. Returns false if the result is all
// zeros (a small-order or otherwise invalid peer point): every caller must
// treat that as an authentication failure. `shared` is zeroed on failure.
[[nodiscard]] bool x25519(const std::uint8_t private_key[kKeySize], const PublicKey& peer_public, WipedKey& shared);

// A fresh random private key (used for ephemerals and `segbridged genkey`).
void x25519_generate(std::uint8_t private_key[kKeySize]);

}  // namespace segbridge::crypto
