#pragma once
// Builds DHCP request frames field by field for the parser tests (and the
// fuzz corpus generator), so each malformed case changes exactly one thing
// relative to a valid frame.
#include <cstdint>
#include <string>
#include <vector>

namespace shimtest {

using Bytes = std::vector<std::uint8_t>;

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

inline Bytes option(std::uint8_t code, const std::string& data) {
  Bytes o{code, static_cast<std::uint8_t>(data.size())};
  o.insert(o.end(), data.begin(), data.end());
  return o;
}
inline Bytes option(std::uint8_t code, const Bytes& data) {
  Bytes o{code, static_cast<std::uint8_t>(data.size())};
  o.insert(o.end(), data.begin(), data.end());
  return o;
}

struct FrameSpec {
  std::uint8_t src[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::uint8_t chaddr[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::vector<std::uint16_t> vlans;  // outer first; 0x8100 (first of two: 0x88a8)
  Bytes ip_options;                  // multiple of 4
  std::uint16_t frag = 0;            // flags+offset field
  std::uint8_t protocol = 17;
  std::uint16_t src_port = 68, dst_port = 67;
  std::uint8_t op = 1, htype = 1, hlen = 6;
  bool cookie = true;
  Bytes options;           // after the cookie (End is not added automatically)
  Bytes sname;             // up to 64 bytes placed in sname
  Bytes file;              // up to 128 bytes placed in file
  std::size_t pad_to = 0;  // BOOTP minimum is 300 bytes: pad options to this size
  bool bad_checksum = false;
};

inline Bytes build_frame(const FrameSpec& s) {
  Bytes bootp(236, 0);
  bootp[0] = s.op;
  bootp[1] = s.htype;
  bootp[2] = s.hlen;
  bootp[4] = 0x12, bootp[5] = 0x34, bootp[6] = 0x56, bootp[7] = 0x78;
  for (int i = 0; i < 6; ++i) bootp[28 + i] = s.chaddr[i];
  for (std::size_t i = 0; i < s.sname.size() && i < 64; ++i) bootp[44 + i] = s.sname[i];
  for (std::size_t i = 0; i < s.file.size() && i < 128; ++i) bootp[108 + i] = s.file[i];
  if (s.cookie) bootp.insert(bootp.end(), {0x63, 0x82, 0x53, 0x63});
  bootp.insert(bootp.end(), s.options.begin(), s.options.end());
  if (bootp.size() < s.pad_to) bootp.resize(s.pad_to, 0);

  Bytes udp(8, 0);
  put16(udp, 0, s.src_port);
  put16(udp, 2, s.dst_port);
  put16(udp, 4, static_cast<std::uint16_t>(8 + bootp.size()));
  udp.insert(udp.end(), bootp.begin(), bootp.end());

  const std::size_t ihl = 20 + s.ip_options.size();
  Bytes ip(20, 0);
  ip[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
  put16(ip, 2, static_cast<std::uint16_t>(ihl + udp.size()));
  put16(ip, 6, s.frag);
  ip[8] = 64;
  ip[9] = s.protocol;
  ip[16] = ip[17] = ip[18] = ip[19] = 0xff;
  ip.insert(ip.end(), s.ip_options.begin(), s.ip_options.end());
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < ihl; i += 2) sum += static_cast<std::uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(ip, 10, static_cast<std::uint16_t>(~sum ^ (s.bad_checksum ? 1 : 0)));
  ip.insert(ip.end(), udp.begin(), udp.end());

  Bytes eth{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  eth.insert(eth.end(), s.src, s.src + 6);
  for (std::size_t i = 0; i < s.vlans.size(); ++i) {
    const std::uint16_t tpid = (s.vlans.size() > 1 && i == 0) ? 0x88a8 : 0x8100;
    eth.push_back(static_cast<std::uint8_t>(tpid >> 8));
    eth.push_back(static_cast<std::uint8_t>(tpid));
    eth.push_back(static_cast<std::uint8_t>(s.vlans[i] >> 8));
    eth.push_back(static_cast<std::uint8_t>(s.vlans[i]));
  }
  eth.push_back(0x08);
  eth.push_back(0x00);
  eth.insert(eth.end(), ip.begin(), ip.end());
  return eth;
}

// A typical PXE DISCOVER's options (message type, vendor class, arch, UUID).
inline Bytes pxe_options(bool end = true) {
  Bytes o;
  auto add = [&](const Bytes& x) { o.insert(o.end(), x.begin(), x.end()); };
  add(option(53, Bytes{1}));
  add(option(60, std::string("PXEClient:Arch:00007:UNDI:003016")));
  add(option(93, Bytes{0x00, 0x07}));
  Bytes uuid{0x00};
  for (int i = 0; i < 16; ++i) uuid.push_back(static_cast<std::uint8_t>(i));
  add(option(97, uuid));
  if (end) o.push_back(255);
  return o;
}

}  // namespace shimtest
