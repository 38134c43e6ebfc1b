#pragma once
// Wire layout of the Noise IK handshake messages: WireGuard's sizes and field
// order, with segbridge's 4-byte header (type u8 | version u8 | reserved u16,
// reserved must be zero). Integers are little-endian.
//
//  Initiation (type 1), 148 B:
//    0 hdr 4 | 4 sender u32 | 8 ephemeral 32 | 40 enc_static 48 | 88 enc_timestamp 28 | 116 mac1 16 | 132 mac2 16
//  Response (type 2), 92 B:
//    0 hdr 4 | 4 sender u32 | 8 receiver u32 | 12 ephemeral 32 | 44 enc_empty 16 | 60 mac1 16 | 76 mac2 16
//  Cookie reply (type 3), 64 B:
//    0 hdr 4 | 4 receiver u32 | 8 nonce 24 | 32 enc_cookie 32
#include <cstddef>
#include <cstdint>
#include <optional>

namespace segbridge::crypto {

constexpr std::uint8_t kWireVersion = 1;

enum class HandshakeType : std::uint8_t {
  initiation = 1,
  response = 2,
  cookie_reply = 3,
};

constexpr std::size_t kInitiationSize = 148;
constexpr std::size_t kResponseSize = 92;
constexpr std::size_t kCookieReplySize = 64;
constexpr std::size_t kMacSize = 16;
constexpr std::size_t kCookieNonceSize = 24;

namespace initiation {
constexpr std::size_t sender = 4, ephemeral = 8, encrypted_static = 40, encrypted_timestamp = 88, mac1 = 116,
                      mac2 = 132;
constexpr std::size_t noise_begin = ephemeral, noise_size = 32 + 48 + 28;  // the Noise message 1
}  // namespace initiation
namespace response {
constexpr std::size_t sender = 4, receiver = 8, ephemeral = 12, encrypted_nothing = 44, mac1 = 60, mac2 = 76;
constexpr std::size_t noise_begin = ephemeral, noise_size = 32 + 16;  // the Noise message 2
}  // namespace response
namespace cookie_reply {
constexpr std::size_t receiver = 4, nonce = 8, encrypted_cookie = 32;
}  // namespace cookie_reply

static_assert(initiation::mac2 + kMacSize == kInitiationSize);
static_assert(response::mac2 + kMacSize == kResponseSize);
static_assert(cookie_reply::encrypted_cookie + 32 == kCookieReplySize);
// No amplification: nothing sent before authentication is larger than what provoked it.
static_assert(kCookieReplySize < kResponseSize && kResponseSize < kInitiationSize);

// The message type of a packet whose length and header are exactly right for
// it, or nothing (wrong length, unknown type, other version, reserved bits set).
std::optional<HandshakeType> classify_handshake(const std::uint8_t* packet, std::size_t len);

void write_header(std::uint8_t* out, HandshakeType type);
std::uint32_t read_le32(const std::uint8_t* p);
void write_le32(std::uint8_t* p, std::uint32_t v);

}  // namespace segbridge::crypto
