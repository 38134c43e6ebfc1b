#include "segbridge/crypto/sodium.hpp"

#include <sodium.h>

#include <stdexcept>

namespace segbridge::crypto {

void ensure_sodium() {
  // sodium_init() is thread-safe and idempotent (returns 1 when already done).
  static const int result = sodium_init();
  if (result < 0) throw std::runtime_error("libsodium initialisation failed (sodium_init)");
}

}  // namespace segbridge::crypto
