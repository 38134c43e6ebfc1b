#include "segbridge/crypto/handshake_messages.hpp"

namespace segbridge::crypto {

std::optional<HandshakeType> classify_handshake(const std::uint8_t* packet, std::size_t len) {
  if (len < 4 || packet[1] != kWireVersion || packet[2] != 0 || packet[3] != 0) return std::nullopt;
  switch (static_cast<HandshakeType>(packet[0])) {
    case HandshakeType::initiation:
      if (len == kInitiationSize) return HandshakeType::initiation;
      break;
    case HandshakeType::response:
      if (len == kResponseSize) return HandshakeType::response;
      break;
    case HandshakeType::cookie_reply:
      if (len == kCookieReplySize) return HandshakeType::cookie_reply;
      break;
  }
  return std::nullopt;
}

void write_header(std::uint8_t* out, HandshakeType type) {
  out[0] = static_cast<std::uint8_t>(type);
  out[1] = kWireVersion;
  out[2] = 0;
  out[3] = 0;
}

std::uint32_t read_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

void write_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace segbridge::crypto
