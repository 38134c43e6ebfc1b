#include "segbridge/crypto/x25519.hpp"

#include <sodium.h>

#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {

PublicKey x25519_public_key(const std::uint8_t private_key[kKeySize]) {
  ensure_sodium();
  PublicKey pub{};
  crypto_scalarmult_base(pub.data(), private_key);
  return pub;
}

bool x25519(const std::uint8_t private_key[kKeySize], const PublicKey& peer_public, WipedKey& shared) {
  ensure_sodium();
  // crypto_scalarmult returns -1 when the output is all zeros; check the
  // bytes as well so the property does not depend on the libsodium build.
  if (crypto_scalarmult(shared.data(), private_key, peer_public.data()) != 0 || shared.is_zero()) {
    shared.wipe();
    return false;
  }
  return true;
}

void x25519_generate(std::uint8_t private_key[kKeySize]) {
  ensure_sodium();
  randombytes_buf(private_key, kKeySize);
  // Clamp at rest like WireGuard does, so the stored key is canonical.
  private_key[0] &= 248;
  private_key[31] = static_cast<std::uint8_t>((private_key[31] & 127) | 64);
}

}  // namespace segbridge::crypto
