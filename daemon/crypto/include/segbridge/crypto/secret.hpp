#pragma once
// Memory for secrets.
//
//  * SecretKey: long-lived keys (site private key, PSK). Lives in
//    sodium_malloc memory: guard pages around it, mlock'ed so it is never
//    swapped out or written to a core dump, wiped by sodium_free.
//  * Wiped<N>: short-lived secrets on the stack or inside handshake state
//    (ephemeral keys, chaining key, derived keys). A fixed array that is
//    sodium_memzero'ed whenever it is destroyed or moved from.
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace segbridge::crypto {

constexpr std::size_t kKeySize = 32;

template <std::size_t N>
class Wiped {
 public:
  Wiped() { data_.fill(0); }
  explicit Wiped(const std::uint8_t* bytes) { std::memcpy(data_.data(), bytes, N); }
  Wiped(const Wiped& other) : data_(other.data_) {}
  Wiped& operator=(const Wiped& other) {
    data_ = other.data_;
    return *this;
  }
  Wiped(Wiped&& other) noexcept : data_(other.data_) { other.wipe(); }
  Wiped& operator=(Wiped&& other) noexcept {
    if (this != &other) {
      data_ = other.data_;
      other.wipe();
    }
    return *this;
  }
  ~Wiped() { wipe(); }

  void wipe() { sodium_memzero(data_.data(), N); }
  std::uint8_t* data() { return data_.data(); }
  const std::uint8_t* data() const { return data_.data(); }
  static constexpr std::size_t size() { return N; }
  std::uint8_t& operator[](std::size_t i) { return data_[i]; }
  std::uint8_t operator[](std::size_t i) const { return data_[i]; }
  // Constant-time comparison: never use == on secrets.
  bool equals(const Wiped& other) const { return sodium_memcmp(data_.data(), other.data_.data(), N) == 0; }
  bool is_zero() const { return sodium_is_zero(data_.data(), N) == 1; }

 private:
  std::array<std::uint8_t, N> data_;
};

using WipedKey = Wiped<kKeySize>;

// A 32-byte key in guarded, locked memory. Movable, not copyable (copy() is
// explicit so every copy of a long-lived secret is visible in the code).
class SecretKey {
 public:
  // Allocates zeroed secure memory; throws std::bad_alloc if sodium_malloc fails.
  SecretKey();
  explicit SecretKey(const std::uint8_t* bytes);
  SecretKey(SecretKey&& other) noexcept : mem_(std::exchange(other.mem_, nullptr)) {}
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  SecretKey copy() const { return SecretKey(data()); }
  std::uint8_t* data() { return mem_; }
  const std::uint8_t* data() const { return mem_; }
  static constexpr std::size_t size() { return kKeySize; }
  bool is_zero() const { return sodium_is_zero(mem_, kKeySize) == 1; }

 private:
  std::uint8_t* mem_ = nullptr;
};

}  // namespace segbridge::crypto
