#include "dhcp_packet.hpp"

#include <cstring>

namespace segbridge::shim {
namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kBootpFixed = 236;  // op .. file, before the magic cookie
constexpr std::size_t kChaddrOffset = 28;
constexpr std::size_t kSnameOffset = 44;
constexpr std::size_t kSnameLength = 64;
constexpr std::size_t kFileOffset = 108;
constexpr std::size_t kFileLength = 128;
constexpr std::uint8_t kMagicCookie[4] = {0x63, 0x82, 0x53, 0x63};

enum OptionCode : std::uint8_t {
  kPad = 0,
  kHostname = 12,
  kOverload = 52,
  kMessageType = 53,
  kVendorClass = 60,
  kClientId = 61,
  kUserClass = 77,
  kClientArch = 93,
  kClientUuid = 97,
  kEnd = 255,
};

inline std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// One piece of an option: RFC 3396 lets a client split a long option into
// several instances (also across options/file/sname) that are concatenated.
struct Piece {
  std::uint8_t code;
  std::uint8_t length;
  const std::uint8_t* data;
};

// Instances of the options we care about, in wire order. Real clients send
// each option once; a generous bound keeps hostile input from costing more.
constexpr std::size_t kMaxPieces = 48;

struct Pieces {
  std::array<Piece, kMaxPieces> items;
  std::size_t size = 0;
};

bool interesting(std::uint8_t code) {
  switch (code) {
    case kHostname:
    case kOverload:
    case kMessageType:
    case kVendorClass:
    case kClientId:
    case kUserClass:
    case kClientArch:
    case kClientUuid:
      return true;
    default:
      return false;
  }
}

// Walks one options field. `allow_overload` is true only for the real options
// field: option 52 inside file/sname is ignored (no recursion, RFC 2131 §4.1).
bool scan_options(const std::uint8_t* p, std::size_t n, bool allow_overload, Pieces& out, DropReason& reason) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t code = p[i];
    if (code == kPad) {
      ++i;
      continue;
    }
    if (code == kEnd) return true;
    if (i + 1 >= n) {
      reason = DropReason::truncated_option;
      return false;
    }
    const std::uint8_t len = p[i + 1];
    if (len > n - i - 2) {
      reason = DropReason::truncated_option;
      return false;
    }
    if (interesting(code) && (code != kOverload || allow_overload)) {
      if (out.size == kMaxPieces) {
        reason = DropReason::too_many_option_parts;
        return false;
      }
      out.items[out.size++] = Piece{code, len, p + i + 2};
    }
    i += 2 + std::size_t{len};
  }
  return true;  // a missing End is tolerated
}

// Concatenation of every piece of `code` (RFC 3396) into `dst`, keeping only
// printable ASCII so the value is safe in logs, the ledger and the CLI.
// Trailing NULs (NVT strings are often NUL-terminated on the wire) are cut.
void gather_printable(const Pieces& pieces, std::uint8_t code, std::string& dst) {
  dst.clear();
  std::size_t keep = 0;
  for (std::size_t k = 0; k < pieces.size; ++k) {
    const Piece& pc = pieces.items[k];
    if (pc.code != code) continue;
    for (std::size_t j = 0; j < pc.length; ++j) {
      const std::uint8_t c = pc.data[j];
      dst.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
      if (c != 0) keep = dst.size();
    }
  }
  dst.resize(keep);
}

void gather_raw(const Pieces& pieces, std::uint8_t code, std::string& dst) {
  dst.clear();
  for (std::size_t k = 0; k < pieces.size; ++k) {
    const Piece& pc = pieces.items[k];
    if (pc.code == code) dst.append(reinterpret_cast<const char*>(pc.data), pc.length);
  }
}

// Small fixed-size concatenation for the binary options; returns the total
// length (which may exceed `cap`: then only `cap` bytes were copied).
std::size_t gather_fixed(const Pieces& pieces, std::uint8_t code, std::uint8_t* dst, std::size_t cap, bool& present) {
  std::size_t total = 0;
  present = false;
  for (std::size_t k = 0; k < pieces.size; ++k) {
    const Piece& pc = pieces.items[k];
    if (pc.code != code) continue;
    present = true;
    for (std::size_t j = 0; j < pc.length; ++j, ++total) {
      if (total < cap) dst[total] = pc.data[j];
    }
  }
  return total;
}

bool ipv4_checksum_ok(const std::uint8_t* p, std::size_t header_len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < header_len; i += 2) sum += load16(p + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::not_ipv4:
      return "not_ipv4";
    case DropReason::not_udp:
      return "not_udp";
    case DropReason::not_to_server:
      return "not_to_server";
    case DropReason::not_bootrequest:
      return "not_bootrequest";
    case DropReason::other_message_type:
      return "other_message_type";
    case DropReason::truncated_ethernet:
      return "truncated_ethernet";
    case DropReason::too_many_vlan_tags:
      return "too_many_vlan_tags";
    case DropReason::truncated_ipv4:
      return "truncated_ipv4";
    case DropReason::bad_ip_version:
      return "bad_ip_version";
    case DropReason::bad_ip_header_length:
      return "bad_ip_header_length";
    case DropReason::bad_ip_total_length:
      return "bad_ip_total_length";
    case DropReason::bad_ip_checksum:
      return "bad_ip_checksum";
    case DropReason::ip_fragment:
      return "ip_fragment";
    case DropReason::truncated_udp:
      return "truncated_udp";
    case DropReason::bad_udp_length:
      return "bad_udp_length";
    case DropReason::truncated_bootp:
      return "truncated_bootp";
    case DropReason::bad_hardware_type:
      return "bad_hardware_type";
    case DropReason::bad_hardware_length:
      return "bad_hardware_length";
    case DropReason::chaddr_mismatch:
      return "chaddr_mismatch";
    case DropReason::bad_chaddr:
      return "bad_chaddr";
    case DropReason::truncated_option:
      return "truncated_option";
    case DropReason::bad_overload:
      return "bad_overload";
    case DropReason::bad_message_type:
      return "bad_message_type";
    case DropReason::too_many_option_parts:
      return "too_many_option_parts";
    case DropReason::count_:
      break;
  }
  return "unknown";
}

std::string_view message_kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::bootp:
      return "BOOTREQUEST";
    case MessageKind::discover:
      return "DHCPDISCOVER";
    case MessageKind::request:
      return "DHCPREQUEST";
  }
  return "?";
}

bool DhcpRequest::is_pxe() const {
  return vendor_class.compare(0, 9, "PXEClient") == 0;
}

std::string DhcpRequest::uuid_string() const {
  if (!has_uuid) return {};
  static const char* hex = "0123456789abcdef";
  // PXE ROMs send the SMBIOS system UUID bytes, whose first three fields are
  // little-endian; print it the way dmidecode and `qemu -uuid` show it.
  static constexpr std::size_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    const std::uint8_t b = uuid[order[i]];
    s.push_back(hex[b >> 4]);
    s.push_back(hex[b & 0xf]);
  }
  return s;
}

std::string DhcpRequest::arch_name() const {
  if (!has_arch) return {};
  // IANA "Processor Architecture Types"; 7 and 9 both mean x86-64 EFI in the
  // field (RFC 4578 had them swapped until an erratum).
  switch (arch) {
    case 0:
      return "x86-bios";
    case 6:
      return "ia32-efi";
    case 7:
    case 9:
      return "x64-efi";
    case 10:
      return "arm32-efi";
    case 11:
      return "arm64-efi";
    default:
      return std::to_string(arch);
  }
}

void DhcpRequest::clear() {
  client_mac = MacAddress();
  kind = MessageKind::bootp;
  xid = 0;
  vlan_count = 0;
  vlan_ids = {};
  vendor_class.clear();
  hostname.clear();
  user_class.clear();
  client_id.clear();
  has_arch = has_uuid = bad_arch = bad_uuid = false;
  arch = 0;
  uuid = {};
}

std::uint64_t ParseCounters::invalid_total() const {
  std::uint64_t n = 0;
  for (std::size_t i = static_cast<std::size_t>(DropReason::first_invalid); i < kDropReasonCount; ++i) n += dropped[i];
  return n;
}

bool parse_dhcp_frame(const std::uint8_t* frame, std::size_t length, DhcpRequest& out, DropReason& reason) {
  // --- Ethernet and VLAN tags ---
  if (length < kEthHeader) {
    reason = DropReason::truncated_ethernet;
    return false;
  }
  const std::uint8_t* eth_src = frame + 6;
  std::size_t off = 12;
  std::uint16_t ethertype = load16(frame + off);
  std::uint8_t tags = 0;
  std::array<std::uint16_t, 2> vlan_ids{};
  while (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100) {
    if (tags == 2) {
      reason = DropReason::too_many_vlan_tags;
      return false;
    }
    if (length < off + 2 + kVlanTag) {
      reason = DropReason::truncated_ethernet;
      return false;
    }
    vlan_ids[tags++] = load16(frame + off + 2) & 0x0fff;
    off += kVlanTag;
    ethertype = load16(frame + off);
  }
  off += 2;
  if (ethertype != 0x0800) {
    reason = DropReason::not_ipv4;
    return false;
  }

  // --- IPv4 ---
  const std::uint8_t* ip = frame + off;
  const std::size_t ip_avail = length - off;
  if (ip_avail < kIpv4MinHeader) {
    reason = DropReason::truncated_ipv4;
    return false;
  }
  if ((ip[0] >> 4) != 4) {
    reason = DropReason::bad_ip_version;
    return false;
  }
  const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
  if (ihl < kIpv4MinHeader) {
    reason = DropReason::bad_ip_header_length;
    return false;
  }
  if (ihl > ip_avail) {
    reason = DropReason::truncated_ipv4;
    return false;
  }
  const std::size_t total = load16(ip + 2);
  if (total < ihl) {
    reason = DropReason::bad_ip_total_length;
    return false;
  }
  if (total > ip_avail) {  // frames may carry padding after the packet, never less
    reason = DropReason::truncated_ipv4;
    return false;
  }
  if (!ipv4_checksum_ok(ip, ihl)) {
    reason = DropReason::bad_ip_checksum;
    return false;
  }
  const std::uint16_t frag = load16(ip + 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) {  // MF set or non-zero offset
    reason = DropReason::ip_fragment;
    return false;
  }
  if (ip[9] != 17) {
    reason = DropReason::not_udp;
    return false;
  }

  // --- UDP ---
  const std::uint8_t* udp = ip + ihl;
  const std::size_t udp_avail = total - ihl;
  if (udp_avail < kUdpHeader) {
    reason = DropReason::truncated_udp;
    return false;
  }
  if (load16(udp + 2) != 67) {
    reason = DropReason::not_to_server;
    return false;
  }
  const std::size_t udp_len = load16(udp + 4);
  if (udp_len < kUdpHeader || udp_len > udp_avail) {
    reason = DropReason::bad_udp_length;
    return false;
  }

  // --- BOOTP ---
  const std::uint8_t* bootp = udp + kUdpHeader;
  const std::size_t bootp_len = udp_len - kUdpHeader;
  if (bootp_len < kBootpFixed) {
    reason = DropReason::truncated_bootp;
    return false;
  }
  if (bootp[0] != 1) {
    reason = DropReason::not_bootrequest;
    return false;
  }
  if (bootp[1] != 1) {
    reason = DropReason::bad_hardware_type;
    return false;
  }
  if (bootp[2] != 6) {
    reason = DropReason::bad_hardware_length;
    return false;
  }
  const std::uint8_t* chaddr = bootp + kChaddrOffset;
  if (std::memcmp(chaddr, eth_src, 6) != 0) {
    reason = DropReason::chaddr_mismatch;
    return false;
  }
  const MacAddress mac = MacAddress::from_bytes(chaddr);
  if (mac.is_multicast() || mac.is_zero()) {
    reason = DropReason::bad_chaddr;
    return false;
  }

  out.clear();
  out.client_mac = mac;
  out.xid = load32(bootp + 4);
  out.vlan_count = tags;
  out.vlan_ids = vlan_ids;

  // --- DHCP options (absent magic cookie: plain BOOTP) ---
  const std::size_t after_fixed = bootp_len - kBootpFixed;
  if (after_fixed < 4 || std::memcmp(bootp + kBootpFixed, kMagicCookie, 4) != 0) {
    out.kind = MessageKind::bootp;
    return true;
  }
  Pieces pieces;
  if (!scan_options(bootp + kBootpFixed + 4, after_fixed - 4, true, pieces, reason)) return false;

  bool present = false;
  std::uint8_t overload = 0;
  const std::size_t overload_len = gather_fixed(pieces, kOverload, &overload, 1, present);
  if (present) {
    if (overload_len != 1 || overload < 1 || overload > 3) {
      reason = DropReason::bad_overload;
      return false;
    }
    // RFC 2131 §4.1: options, then file, then sname.
    if ((overload & 1) && !scan_options(bootp + kFileOffset, kFileLength, false, pieces, reason)) return false;
    if ((overload & 2) && !scan_options(bootp + kSnameOffset, kSnameLength, false, pieces, reason)) return false;
  }

  std::uint8_t msg_type = 0;
  const std::size_t type_len = gather_fixed(pieces, kMessageType, &msg_type, 1, present);
  if (!present) {
    out.kind = MessageKind::bootp;  // DHCP cookie but no type: BOOTP with vendor extensions
  } else if (type_len != 1 || msg_type == 0 || msg_type > 18) {
    reason = DropReason::bad_message_type;
    return false;
  } else if (msg_type == 1) {
    out.kind = MessageKind::discover;
  } else if (msg_type == 3) {
    out.kind = MessageKind::request;
  } else {
    reason = DropReason::other_message_type;
    return false;
  }

  gather_printable(pieces, kVendorClass, out.vendor_class);
  gather_printable(pieces, kHostname, out.hostname);
  gather_printable(pieces, kUserClass, out.user_class);
  gather_raw(pieces, kClientId, out.client_id);

  std::uint8_t arch_bytes[2];
  const std::size_t arch_len = gather_fixed(pieces, kClientArch, arch_bytes, sizeof arch_bytes, present);
  if (present) {
    if (arch_len >= 2 && arch_len % 2 == 0) {
      out.has_arch = true;
      out.arch = load16(arch_bytes);
    } else {
      out.bad_arch = true;
    }
  }
  std::uint8_t uuid_bytes[17];
  const std::size_t uuid_len = gather_fixed(pieces, kClientUuid, uuid_bytes, sizeof uuid_bytes, present);
  if (present) {
    // RFC 4578: type 0 + 16-byte GUID. Some old ROMs omit the type byte.
    if (uuid_len == 17 && uuid_bytes[0] == 0) {
      std::memcpy(out.uuid.data(), uuid_bytes + 1, 16);
      out.has_uuid = true;
    } else if (uuid_len == 16) {
      std::memcpy(out.uuid.data(), uuid_bytes, 16);
      out.has_uuid = true;
    } else {
      out.bad_uuid = true;
    }
  }
  return true;
}

}  // namespace segbridge::shim
