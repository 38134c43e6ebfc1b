#include "segbridge/core/wire_format.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace segbridge::core;

namespace {
std::vector<std::uint8_t> data_message(const DataHeader& h, std::size_t payload) {
  std::vector<std::uint8_t> d(kDataHeaderSize + payload + kAeadTagSize, 0xAB);
  h.encode(d.data());
  return d;
}
DataHeader frame_header(std::uint16_t len) {
  DataHeader h;
  h.kind = DataKind::frame;
  h.receiver_index = 0x11223344;
  h.counter = 0x0102030405060708ull;
  h.frame_length = len;
  return h;
}
DecodeError decode(const std::vector<std::uint8_t>& d) {
  return decode_data(ConstBytes(d.data(), d.size()), nullptr);
}
}  // namespace

TEST(WireFormat, DataHeaderIsLittleEndianAndRoundTrips) {
  auto d = data_message(frame_header(60), 60);
  EXPECT_EQ(d[0], 4);
  EXPECT_EQ(d[1], kProtocolVersion);
  EXPECT_EQ(d[2], 0);
  EXPECT_EQ(d[3], 0);
  EXPECT_EQ(d[4], 0x44);  // receiver index, LE
  EXPECT_EQ(d[7], 0x11);
  EXPECT_EQ(d[8], 0x08);  // counter, LE
  EXPECT_EQ(d[15], 0x01);
  EXPECT_EQ(d[16], 60);
  EXPECT_EQ(d[17], 0);
  DecodedData out;
  ASSERT_EQ(decode_data(ConstBytes(d.data(), d.size()), &out), DecodeError::none);
  EXPECT_EQ(out.header.receiver_index, 0x11223344u);
  EXPECT_EQ(out.header.counter, 0x0102030405060708ull);
  EXPECT_EQ(out.header.frame_length, 60);
  EXPECT_EQ(out.ciphertext.size, 60u);
  EXPECT_EQ(out.ciphertext.data, d.data() + kDataHeaderSize);
  EXPECT_EQ(out.tag, d.data() + kDataHeaderSize + 60);
}

TEST(WireFormat, FragmentAndKeepaliveRoundTrip) {
  DataHeader h = frame_header(1514);
  h.kind = DataKind::fragment;
  h.fragment_count = 2;
  h.fragment_index = 1;
  auto d = data_message(h, 757);
  DecodedData out;
  ASSERT_EQ(decode_data(ConstBytes(d.data(), d.size()), &out), DecodeError::none);
  EXPECT_EQ(out.header.kind, DataKind::fragment);
  EXPECT_EQ(out.header.fragment_index, 1);
  EXPECT_EQ(out.header.fragment_count, 2);
  DataHeader k;
  k.kind = DataKind::keepalive;
  k.receiver_index = 9;
  auto kd = data_message(k, 0);
  EXPECT_EQ(kd.size(), kKeepaliveSize);
  EXPECT_EQ(decode(kd), DecodeError::none);
}

TEST(WireFormat, EvenSplitGeometry) {
  // 1514 over two pieces: 757 + 757; 1515 over two: 758 + 757; pieces cover the frame exactly.
  EXPECT_EQ(fragment_geometry(1514, 2, 0).size, 757u);
  EXPECT_EQ(fragment_geometry(1514, 2, 1).offset, 757u);
  EXPECT_EQ(fragment_geometry(1515, 2, 0).size, 758u);
  EXPECT_EQ(fragment_geometry(1515, 2, 1).size, 757u);
  for (std::size_t len : {2u, 17u, 1514u, 9018u}) {
    for (std::size_t n = 2; n <= 16 && n <= len; ++n) {
      std::size_t next = 0;
      for (std::size_t i = 0; i < n; ++i) {
        auto g = fragment_geometry(len, n, i);
        EXPECT_EQ(g.offset, next);
        EXPECT_TRUE(g.size == len / n || g.size == len / n + 1);
        next += g.size;
      }
      EXPECT_EQ(next, len);
    }
  }
}

TEST(WireFormat, RejectsEveryMalformedEnvelopeField) {
  auto good = data_message(frame_header(60), 60);
  EXPECT_EQ(decode({}), DecodeError::empty);
  auto t = good;
  t[0] = 0;
  EXPECT_EQ(decode(t), DecodeError::unknown_type);
  t[0] = 7;
  EXPECT_EQ(decode(t), DecodeError::unknown_type);
  t[0] = 0xff;
  EXPECT_EQ(decode(t), DecodeError::unknown_type);
  auto v = good;
  v[1] = 2;
  EXPECT_EQ(decode(v), DecodeError::bad_version);
  v[1] = 0;
  EXPECT_EQ(decode(v), DecodeError::bad_version);
  EXPECT_EQ(decode(std::vector<std::uint8_t>(good.begin(), good.begin() + 1)), DecodeError::too_short);
  EXPECT_EQ(decode(std::vector<std::uint8_t>(good.begin(), good.begin() + 35)), DecodeError::too_short);
  auto r = good;
  r[3] = 1;
  EXPECT_EQ(decode(r), DecodeError::reserved_nonzero);
  auto k = good;
  k[2] = 3;
  EXPECT_EQ(decode(k), DecodeError::bad_kind);
  auto z = good;
  z[4] = z[5] = z[6] = z[7] = 0;
  EXPECT_EQ(decode(z), DecodeError::zero_index);
}

TEST(WireFormat, RejectsInconsistentFrameAndFragmentFields) {
  // whole frame: length must equal the payload, be >0 and <= max; no fragment fields
  EXPECT_EQ(decode(data_message(frame_header(61), 60)), DecodeError::bad_frame_length);
  EXPECT_EQ(decode(data_message(frame_header(0), 0)), DecodeError::bad_frame_length);
  auto fc = frame_header(60);
  fc.fragment_count = 2;
  EXPECT_EQ(decode(data_message(fc, 60)), DecodeError::bad_fragment_count);
  auto fi = frame_header(60);
  fi.fragment_index = 1;
  EXPECT_EQ(decode(data_message(fi, 60)), DecodeError::bad_fragment_index);
  EXPECT_EQ(decode(data_message(frame_header(9019), 9019)), DecodeError::bad_frame_length);

  DataHeader f = frame_header(1514);
  f.kind = DataKind::fragment;
  f.fragment_count = 1;
  EXPECT_EQ(decode(data_message(f, 1514)), DecodeError::bad_fragment_count);
  f.fragment_count = kMaxFragments + 1;
  EXPECT_EQ(decode(data_message(f, 1514 / 17)), DecodeError::bad_fragment_count);
  f.fragment_count = 2;
  f.fragment_index = 2;
  EXPECT_EQ(decode(data_message(f, 757)), DecodeError::bad_fragment_index);
  f.fragment_index = 0;
  EXPECT_EQ(decode(data_message(f, 756)), DecodeError::bad_fragment_length);
  EXPECT_EQ(decode(data_message(f, 758)), DecodeError::bad_fragment_length);
  f.frame_length = 9020;
  EXPECT_EQ(decode(data_message(f, 4510)), DecodeError::bad_frame_length);
  f.frame_length = 1;
  EXPECT_EQ(decode(data_message(f, 1)), DecodeError::bad_frame_length);

  DataHeader k;
  k.kind = DataKind::keepalive;
  k.receiver_index = 1;
  EXPECT_EQ(decode(data_message(k, 1)), DecodeError::nonempty_keepalive);
  k.frame_length = 5;
  EXPECT_EQ(decode(data_message(k, 0)), DecodeError::bad_frame_length);
  k.frame_length = 0;
  k.fragment_count = 2;
  EXPECT_EQ(decode(data_message(k, 0)), DecodeError::bad_fragment_count);
  k.fragment_count = 0;
  k.fragment_index = 1;
  EXPECT_EQ(decode(data_message(k, 0)), DecodeError::bad_fragment_index);
}

TEST(WireFormat, HandshakeEnvelopesNeedExactSizesAndZeroPreamble) {
  struct Case {
    MessageType type;
    std::size_t size;
  } cases[] = {{MessageType::noise_initiation, 148},
               {MessageType::noise_response, 92},
               {MessageType::cookie_reply, 64},
               {MessageType::psk_initiation, 84},
               {MessageType::psk_response, 64}};
  for (auto c : cases) {
    std::vector<std::uint8_t> m(c.size, 0);
    m[0] = static_cast<std::uint8_t>(c.type);
    m[1] = kProtocolVersion;
    MessageType got{};
    EXPECT_EQ(check_envelope(ConstBytes(m.data(), m.size()), &got), DecodeError::none);
    EXPECT_EQ(got, c.type);
    auto longer = m;
    longer.push_back(0);
    EXPECT_EQ(check_envelope(ConstBytes(longer.data(), longer.size()), nullptr), DecodeError::bad_length);
    EXPECT_EQ(check_envelope(ConstBytes(m.data(), m.size() - 1), nullptr), DecodeError::bad_length);
    auto reserved = m;
    reserved[2] = 1;
    EXPECT_EQ(check_envelope(ConstBytes(reserved.data(), reserved.size()), nullptr), DecodeError::reserved_nonzero);
    reserved[2] = 0;
    reserved[3] = 1;
    EXPECT_EQ(check_envelope(ConstBytes(reserved.data(), reserved.size()), nullptr), DecodeError::reserved_nonzero);
    // A handshake message is never a data message.
    EXPECT_EQ(decode_data(ConstBytes(m.data(), m.size()), nullptr), DecodeError::unknown_type);
  }
  std::vector<std::uint8_t> resp(64, 0);
  resp[0] = 6;
  store_le32(resp.data() + 4, 0xAABBCCDD);
  store_le32(resp.data() + 8, 0x01020304);
  EXPECT_EQ(handshake_sender_index(ConstBytes(resp.data(), resp.size())), 0xAABBCCDDu);
  EXPECT_EQ(handshake_receiver_index(ConstBytes(resp.data(), resp.size())), 0x01020304u);
  resp[0] = 3;
  EXPECT_EQ(handshake_receiver_index(ConstBytes(resp.data(), resp.size())), 0xAABBCCDDu);
}
