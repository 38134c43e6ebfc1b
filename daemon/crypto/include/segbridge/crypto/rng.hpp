#pragma once
// Where handshake randomness comes from. Production uses libsodium's CSPRNG;
// the known-answer tests inject a deterministic source so message bytes are
// reproducible.
#include <cstddef>
#include <cstdint>

namespace segbridge::crypto {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::uint8_t* out, std::size_t len) = 0;
  std::uint32_t next_u32();
};

class SodiumRandom final : public RandomSource {
 public:
  void fill(std::uint8_t* out, std::size_t len) override;
};

// The process-wide CSPRNG instance.
RandomSource& system_random();

}  // namespace segbridge::crypto
