#include "segbridge/crypto/source_address.hpp"

#include <cstdio>

namespace segbridge::crypto {

SourceAddress SourceAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  SourceAddress s;
  s.ip = {a, b, c, d};
  s.ip_len = 4;
  s.port = port;
  return s;
}

SourceAddress SourceAddress::v6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port) {
  SourceAddress s;
  s.ip = ip;
  s.ip_len = 16;
  s.port = port;
  return s;
}

std::size_t SourceAddress::serialize(std::uint8_t out[18]) const {
  const std::size_t n = ip_len == 16 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) out[i] = ip[i];
  out[n] = static_cast<std::uint8_t>(port >> 8);
  out[n + 1] = static_cast<std::uint8_t>(port);
  return n + 2;
}

std::string SourceAddress::to_string() const {
  char buf[64];
  if (ip_len == 16) {
    std::string s = "[";
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (ip[i] << 8) | ip[i + 1]);
      s += buf;
    }
    return s + "]:" + std::to_string(port);
  }
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3], port);
  return buf;
}

}  // namespace segbridge::crypto
