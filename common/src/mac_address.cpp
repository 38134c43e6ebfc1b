#include "segbridge/mac_address.hpp"

#include <cstring>

namespace segbridge {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 12 hex digits, allowing `sep` only at the positions `is_sep_at` says.
template <typename SepAt>
std::optional<MacAddress> parse_with(std::string_view text, char sep, SepAt is_sep_at) {
  MacAddress::Bytes bytes{};
  int nibbles = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_sep_at(i)) {
      if (text[i] != sep) return std::nullopt;
      continue;
    }
    int v = hex_value(text[i]);
    if (v < 0 || nibbles >= 12) return std::nullopt;
    bytes[nibbles / 2] = static_cast<std::uint8_t>((bytes[nibbles / 2] << 4) | v);
    ++nibbles;
  }
  if (nibbles != 12) return std::nullopt;
  return MacAddress(bytes);
}

}  // namespace

MacAddress MacAddress::from_bytes(const std::uint8_t* six_bytes) {
  Bytes b;
  std::memcpy(b.data(), six_bytes, b.size());
  return MacAddress(b);
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  if (text.size() == 17 && (text[2] == ':' || text[2] == '-')) {
    const char sep = text[2];
    return parse_with(text, sep, [](std::size_t i) { return i % 3 == 2; });
  }
  if (text.size() == 14 && text[4] == '.') {
    return parse_with(text, '.', [](std::size_t i) { return i == 4 || i == 9; });
  }
  return std::nullopt;
}

std::string MacAddress::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(17, ':');
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    out[i * 3] = kHex[bytes_[i] >> 4];
    out[i * 3 + 1] = kHex[bytes_[i] & 0x0f];
  }
  return out;
}

bool MacAddress::is_zero() const {
  for (auto b : bytes_)
    if (b != 0) return false;
  return true;
}

bool MacAddress::is_broadcast() const {
  for (auto b : bytes_)
    if (b != 0xff) return false;
  return true;
}

std::uint32_t MacAddress::oui() const {
  return (std::uint32_t{bytes_[0]} << 16) | (std::uint32_t{bytes_[1]} << 8) | bytes_[2];
}

}  // namespace segbridge
