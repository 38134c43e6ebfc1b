#pragma once
// The UDP wire format (docs/PROTOCOL.md §2). All integers little-endian.
// Decoding is strict: exact length per message type, known version, reserved
// bytes zero, consistent fragment fields. Every rejection names its reason.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "segbridge/core/bytes.hpp"
#include "segbridge/core/constants.hpp"

namespace segbridge::core {

enum class MessageType : std::uint8_t {
  noise_initiation = 1,  // 148 B, daemon/crypto (Noise IK)
  noise_response = 2,    // 92 B
  cookie_reply = 3,      // 64 B
  data = 4,              // 20 B header + ciphertext + 16 B tag
  psk_initiation = 5,    // 84 B, PSK (legacy) handshake
  psk_response = 6,      // 64 B
};

// Shim kind of a data message (byte 2 of the data header).
enum class DataKind : std::uint8_t {
  frame = 0,      // one whole Ethernet frame
  fragment = 1,   // one evenly-sized piece of a frame
  keepalive = 2,  // empty payload
};

enum class DecodeError : std::uint8_t {
  none = 0,
  empty,                // zero-length datagram
  unknown_type,         // byte 0 is not a MessageType
  bad_version,          // byte 1 is not kProtocolVersion
  bad_length,           // length is not the exact size of the message type
  too_short,            // data message shorter than header + tag
  reserved_nonzero,     // a reserved field is not zero
  bad_kind,             // data shim kind unknown
  bad_fragment_count,   // count < 2 or > kMaxFragments for a fragment; != 0 otherwise
  bad_fragment_index,   // index >= count
  bad_frame_length,     // frame length 0, > kMaxFrameSize, or inconsistent with the payload
  bad_fragment_length,  // fragment payload size differs from the even split of frame_length
  nonempty_keepalive,   // keepalive with payload
  zero_index,           // receiver/sender index 0 (never allocated)
};
const char* to_string(DecodeError e);

// Fixed header of a data message; it is the AEAD's associated data.
//   0 u8  type = 4          1 u8  version = 1
//   2 u8  kind              3 u8  reserved = 0
//   4 u32 receiver index    8 u64 counter (AEAD nonce)
//  16 u16 frame length (0 for keepalive)
//  18 u8  fragment index    19 u8  fragment count (both 0 unless kind = fragment)
struct DataHeader {
  DataKind kind = DataKind::frame;
  std::uint8_t fragment_index = 0;
  std::uint8_t fragment_count = 0;
  std::uint32_t receiver_index = 0;
  std::uint64_t counter = 0;
  std::uint16_t frame_length = 0;

  void encode(std::uint8_t* out) const;  // writes kDataHeaderSize bytes
};

struct DecodedData {
  DataHeader header;
  ConstBytes ciphertext;  // payload ciphertext (without the tag)
  const std::uint8_t* tag = nullptr;
};

// Even split of a frame into `count` pieces (docs/PROTOCOL.md §5): piece i has
// frame_length / count bytes, plus one for the first frame_length % count pieces.
struct FragmentGeometry {
  std::size_t offset;
  std::size_t size;
};
FragmentGeometry fragment_geometry(std::size_t frame_length, std::size_t count, std::size_t index);

// Validates only the outer envelope of any message: type, version, exact size
// (data: at least header + tag). Cheap; used to route datagrams between threads.
DecodeError check_envelope(ConstBytes datagram, MessageType* type_out);

// Full strict decode of a data message.
DecodeError decode_data(ConstBytes datagram, DecodedData* out);

// Index fields of handshake messages, for routing. Layouts (all types share the
// 4-byte preamble type|version|reserved u16 = 0):
//   initiation (1, 5): sender index at offset 4
//   response (2, 6):   sender index at 4, receiver index at 8
//   cookie reply (3):  receiver index at 4
std::uint32_t handshake_sender_index(ConstBytes message);    // initiation / response
std::uint32_t handshake_receiver_index(ConstBytes message);  // response / cookie reply

// Little-endian helpers shared by the codecs.
inline void store_le16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void store_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint16_t load_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline std::uint64_t load_le64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load_le32(p)) | (static_cast<std::uint64_t>(load_le32(p + 4)) << 32);
}

}  // namespace segbridge::core
