#include "segbridge/crypto/secret.hpp"

#include <new>

#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {

SecretKey::SecretKey() {
  ensure_sodium();
  // sodium_malloc places the block against a guard page and mlock()s it
  // (best effort: a low RLIMIT_MEMLOCK makes mlock fail silently, see
  // docs/SECURITY.md).
  mem_ = static_cast<std::uint8_t*>(sodium_malloc(kKeySize));
  if (mem_ == nullptr) throw std::bad_alloc();
  sodium_memzero(mem_, kKeySize);
}

SecretKey::SecretKey(const std::uint8_t* bytes) : SecretKey() {
  std::memcpy(mem_, bytes, kKeySize);
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    if (mem_ != nullptr) sodium_free(mem_);
    mem_ = std::exchange(other.mem_, nullptr);
  }
  return *this;
}

SecretKey::~SecretKey() {
  if (mem_ != nullptr) sodium_free(mem_);  // wipes before unmapping
}

}  // namespace segbridge::crypto
