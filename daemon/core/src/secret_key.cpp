#include "segbridge/core/secret_key.hpp"

#include <sodium.h>

#include <cstring>

namespace segbridge::core {

SecretKey::SecretKey(const std::uint8_t* bytes) {
  std::memcpy(bytes_.data(), bytes, kSize);
}
SecretKey::SecretKey(const SecretKey& other) : bytes_(other.bytes_) {}
SecretKey& SecretKey::operator=(const SecretKey& other) {
  bytes_ = other.bytes_;
  return *this;
}
SecretKey::~SecretKey() {
  clear();
}
SecretKey SecretKey::random() {
  SecretKey k;
  randombytes_buf(k.bytes_.data(), kSize);
  return k;
}
void SecretKey::clear() {
  sodium_memzero(bytes_.data(), kSize);
}
bool SecretKey::operator==(const SecretKey& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

}  // namespace segbridge::core
