#pragma once
// A 48-bit Ethernet address: the one place MACs are parsed and formatted.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace segbridge {

class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;

  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}
  static MacAddress from_bytes(const std::uint8_t* six_bytes);

  // Accepts "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff" and "aabb.ccdd.eeff",
  // either case. Anything else (wrong length, stray characters) is nullopt.
  static std::optional<MacAddress> parse(std::string_view text);

  // Lowercase colon form, exactly as ISC dhcpd prints hardware addresses
  // (insert-ethers compares these strings).
  std::string to_string() const;

  const Bytes& bytes() const { return bytes_; }
  bool is_zero() const;
  bool is_broadcast() const;
  bool is_multicast() const { return (bytes_[0] & 0x01) != 0; }
  bool is_locally_administered() const { return (bytes_[0] & 0x02) != 0; }
  // First three bytes, the IEEE OUI.
  std::uint32_t oui() const;

  friend bool operator==(const MacAddress& a, const MacAddress& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const MacAddress& a, const MacAddress& b) { return !(a == b); }
  friend bool operator<(const MacAddress& a, const MacAddress& b) { return a.bytes_ < b.bytes_; }

 private:
  Bytes bytes_{};
};

}  // namespace segbridge

template <>
struct std::hash<segbridge::MacAddress> {
  std::size_t operator()(const segbridge::MacAddress& m) const noexcept {
    std::uint64_t v = 0;
    for (auto b : m.bytes()) v = (v << 8) | b;
    return std::hash<std::uint64_t>{}(v);
  }
};
