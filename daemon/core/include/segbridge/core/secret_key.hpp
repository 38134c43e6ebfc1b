#pragma once
// 32-byte symmetric key that is wiped (sodium_memzero) when destroyed or cleared.
#include <array>
#include <cstdint>

namespace segbridge::core {

class SecretKey {
 public:
  static constexpr std::size_t kSize = 32;
  SecretKey() = default;
  explicit SecretKey(const std::uint8_t* bytes);
  SecretKey(const SecretKey& other);
  SecretKey& operator=(const SecretKey& other);
  ~SecretKey();

  static SecretKey random();
  void clear();
  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  static constexpr std::size_t size() { return kSize; }
  bool operator==(const SecretKey& other) const;  // constant time
  bool operator!=(const SecretKey& other) const { return !(*this == other); }

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

}  // namespace segbridge::core
