#pragma once
// Helpers shared by the crypto unit tests: hex conversion and a deterministic
// random source so handshakes are reproducible.
#include <sodium.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "segbridge/crypto/rng.hpp"
#include "segbridge/crypto/x25519.hpp"

namespace segbridge::crypto::test {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out(hex.size() / 2);
  std::size_t len = 0;
  if (hex.size() % 2 != 0 ||
      sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != out.size()) {
    throw std::invalid_argument("bad hex: " + std::string(hex));
  }
  return out;
}

inline std::string to_hex(const std::uint8_t* data, std::size_t len) {
  std::string out(len * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, len);
  out.pop_back();
  return out;
}

template <typename C>
std::string to_hex(const C& c) {
  return to_hex(c.data(), c.size());
}

inline PublicKey public_from_hex(std::string_view hex) {
  const auto v = from_hex(hex);
  PublicKey k{};
  if (v.size() != k.size()) throw std::invalid_argument("public key must be 32 bytes");
  std::copy(v.begin(), v.end(), k.begin());
  return k;
}

// Each fill() draws from randombytes_buf_deterministic seeded with
// (seed, call number): reproducible, yet every call yields fresh bytes.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(std::uint8_t seed) : seed_(seed) {}
  void fill(std::uint8_t* out, std::size_t len) override {
    unsigned char seed[randombytes_SEEDBYTES] = {};
    seed[0] = seed_;
    for (int i = 0; i < 8; ++i) seed[1 + i] = static_cast<unsigned char>(calls_ >> (8 * i));
    ++calls_;
    randombytes_buf_deterministic(out, len, seed);
  }

 private:
  std::uint8_t seed_;
  std::uint64_t calls_ = 0;
};

}  // namespace segbridge::crypto::test
