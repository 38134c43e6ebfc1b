#include "segbridge/crypto/rng.hpp"

#include <sodium.h>

#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {

std::uint32_t RandomSource::next_u32() {
  std::uint8_t b[4];
  fill(b, sizeof b);
  return std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[3]} << 24;
}

void SodiumRandom::fill(std::uint8_t* out, std::size_t len) {
  ensure_sodium();
  randombytes_buf(out, len);
}

RandomSource& system_random() {
  static SodiumRandom instance;
  return instance;
}

}  // namespace segbridge::crypto
