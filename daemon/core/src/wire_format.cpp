#include "segbridge/core/wire_format.hpp"

namespace segbridge::core {

const char* to_string(DecodeError e) {
  switch (e) {
    case DecodeError::none:
      return "none";
    case DecodeError::empty:
      return "empty";
    case DecodeError::unknown_type:
      return "unknown_type";
    case DecodeError::bad_version:
      return "bad_version";
    case DecodeError::bad_length:
      return "bad_length";
    case DecodeError::too_short:
      return "too_short";
    case DecodeError::reserved_nonzero:
      return "reserved_nonzero";
    case DecodeError::bad_kind:
      return "bad_kind";
    case DecodeError::bad_fragment_count:
      return "bad_fragment_count";
    case DecodeError::bad_fragment_index:
      return "bad_fragment_index";
    case DecodeError::bad_frame_length:
      return "bad_frame_length";
    case DecodeError::bad_fragment_length:
      return "bad_fragment_length";
    case DecodeError::nonempty_keepalive:
      return "nonempty_keepalive";
    case DecodeError::zero_index:
      return "zero_index";
  }
  return "unknown";
}

void DataHeader::encode(std::uint8_t* out) const {
  out[0] = static_cast<std::uint8_t>(MessageType::data);
  out[1] = kProtocolVersion;
  out[2] = static_cast<std::uint8_t>(kind);
  out[3] = 0;
  store_le32(out + 4, receiver_index);
  store_le64(out + 8, counter);
  store_le16(out + 16, frame_length);
  out[18] = fragment_index;
  out[19] = fragment_count;
}

FragmentGeometry fragment_geometry(std::size_t frame_length, std::size_t count, std::size_t index) {
  std::size_t base = frame_length / count;
  std::size_t extra = frame_length % count;
  std::size_t size = base + (index < extra ? 1 : 0);
  std::size_t offset = index * base + (index < extra ? index : extra);
  return {offset, size};
}

namespace {
std::size_t exact_size(MessageType t) {
  switch (t) {
    case MessageType::noise_initiation:
      return kNoiseInitiationSize;
    case MessageType::noise_response:
      return kNoiseResponseSize;
    case MessageType::cookie_reply:
      return kCookieReplySize;
    case MessageType::psk_initiation:
      return kPskInitiationSize;
    case MessageType::psk_response:
      return kPskResponseSize;
    case MessageType::data:
      return 0;
  }
  return 0;
}
}  // namespace

DecodeError check_envelope(ConstBytes d, MessageType* type_out) {
  if (d.size == 0) return DecodeError::empty;
  std::uint8_t t = d[0];
  if (t < 1 || t > 6) return DecodeError::unknown_type;
  auto type = static_cast<MessageType>(t);
  if (d.size < 2) return type == MessageType::data ? DecodeError::too_short : DecodeError::bad_length;
  if (d[1] != kProtocolVersion) return DecodeError::bad_version;
  if (type == MessageType::data) {
    if (d.size < kDataOverhead) return DecodeError::too_short;
  } else {
    if (d.size != exact_size(type)) return DecodeError::bad_length;
    // Handshake preamble: type | version | reserved u16 = 0.
    if (d[2] != 0 || d[3] != 0) return DecodeError::reserved_nonzero;
  }
  if (type_out) *type_out = type;
  return DecodeError::none;
}

DecodeError decode_data(ConstBytes d, DecodedData* out) {
  MessageType type{};
  if (auto e = check_envelope(d, &type); e != DecodeError::none) return e;
  if (type != MessageType::data) return DecodeError::unknown_type;
  DataHeader h;
  std::uint8_t kind = d[2];
  if (kind > static_cast<std::uint8_t>(DataKind::keepalive)) return DecodeError::bad_kind;
  if (d[3] != 0) return DecodeError::reserved_nonzero;
  h.kind = static_cast<DataKind>(kind);
  h.receiver_index = load_le32(d.data + 4);
  if (h.receiver_index == 0) return DecodeError::zero_index;
  h.counter = load_le64(d.data + 8);
  h.frame_length = load_le16(d.data + 16);
  h.fragment_index = d[18];
  h.fragment_count = d[19];
  std::size_t payload = d.size - kDataOverhead;
  switch (h.kind) {
    case DataKind::keepalive:
      if (h.fragment_count != 0) return DecodeError::bad_fragment_count;
      if (h.fragment_index != 0) return DecodeError::bad_fragment_index;
      if (h.frame_length != 0) return DecodeError::bad_frame_length;
      if (payload != 0) return DecodeError::nonempty_keepalive;
      break;
    case DataKind::frame:
      if (h.fragment_count != 0) return DecodeError::bad_fragment_count;
      if (h.fragment_index != 0) return DecodeError::bad_fragment_index;
      if (h.frame_length == 0 || h.frame_length > kMaxFrameSize || h.frame_length != payload)
        return DecodeError::bad_frame_length;
      break;
    case DataKind::fragment: {
      if (h.fragment_count < 2 || h.fragment_count > kMaxFragments) return DecodeError::bad_fragment_count;
      if (h.fragment_index >= h.fragment_count) return DecodeError::bad_fragment_index;
      if (h.frame_length < h.fragment_count || h.frame_length > kMaxFrameSize) return DecodeError::bad_frame_length;
      if (fragment_geometry(h.frame_length, h.fragment_count, h.fragment_index).size != payload)
        return DecodeError::bad_fragment_length;
      break;
    }
  }
  if (out) {
    out->header = h;
    out->ciphertext = ConstBytes(d.data + kDataHeaderSize, payload);
    out->tag = d.data + kDataHeaderSize + payload;
  }
  return DecodeError::none;
}

std::uint32_t handshake_sender_index(ConstBytes m) {
  return m.size >= 8 ? load_le32(m.data + 4) : 0;
}

std::uint32_t handshake_receiver_index(ConstBytes m) {
  if (m.size == 0) return 0;
  auto t = static_cast<MessageType>(m[0]);
  if (t == MessageType::cookie_reply) return m.size >= 8 ? load_le32(m.data + 4) : 0;
  return m.size >= 12 ? load_le32(m.data + 8) : 0;
}

}  // namespace segbridge::core
