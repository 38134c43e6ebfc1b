#pragma once
// The UDP source of a received handshake packet, as plain bytes so the
// sans-IO handshake code needs no socket types. The service converts its
// endpoint into this.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace segbridge::crypto {

struct SourceAddress {
  std::array<std::uint8_t, 16> ip{};  // IPv4 uses the first 4 bytes
  std::uint8_t ip_len = 4;            // 4 or 16
  std::uint16_t port = 0;

  static SourceAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port);
  static SourceAddress v6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port);
  // For the cookie MAC: ip bytes || port big-endian.
  std::size_t serialize(std::uint8_t out[18]) const;
  std::string to_string() const;
};

}  // namespace segbridge::crypto
