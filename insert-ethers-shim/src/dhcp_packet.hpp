#pragma once
// Decoding of one captured Ethernet frame into the facts the shim needs about
// a DHCP/BOOTP client request: Ethernet (+ up to two 802.1Q/802.1ad tags) →
// IPv4 → UDP → BOOTP → DHCP options. Pure code, no syscalls, no allocation
// once the output's strings have grown to their working size: every byte is
// bounds-checked, and anything malformed yields a DropReason instead of a
// partial result. Hostile clients reach this code from remote sites.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "segbridge/mac_address.hpp"

namespace segbridge::shim {

// Why a frame was not accepted. Every value is counted (ParseCounters); the
// ones before `first_invalid` are not errors, just traffic we do not want.
enum class DropReason : std::uint8_t {
  not_ipv4,            // ethertype (after tags) is not IPv4
  not_udp,             // IPv4 protocol is not UDP
  not_to_server,       // UDP destination port is not 67 (offers, acks, other traffic)
  not_bootrequest,     // BOOTP op is BOOTREPLY
  other_message_type,  // DHCP DECLINE/RELEASE/INFORM/...: not a discovery
  first_invalid,
  truncated_ethernet = first_invalid,
  too_many_vlan_tags,  // more than two (802.1Q / QinQ) tags
  truncated_ipv4,
  bad_ip_version,
  bad_ip_header_length,
  bad_ip_total_length,
  bad_ip_checksum,
  ip_fragment,  // DHCP never needs fragments; reassembling them is an attack surface
  truncated_udp,
  bad_udp_length,
  truncated_bootp,
  bad_hardware_type,      // htype != 1 (Ethernet)
  bad_hardware_length,    // hlen != 6
  chaddr_mismatch,        // chaddr != Ethernet source: relayed, spoofed or broken
  bad_chaddr,             // multicast/zero client hardware address
  truncated_option,       // option length runs past its field
  bad_overload,           // option 52 with a value other than 1, 2, 3 or a bad length
  bad_message_type,       // option 53 not exactly one byte, or an unknown value
  too_many_option_parts,  // one option split into more pieces than any client uses
  count_
};

constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::count_);
std::string_view drop_reason_name(DropReason reason);
inline bool is_invalid(DropReason r) {
  return r >= DropReason::first_invalid;
}

enum class MessageKind : std::uint8_t { bootp, discover, request };
std::string_view message_kind_name(MessageKind kind);

// The facts extracted from one accepted request. Reused across calls so that
// its strings keep their capacity (no per-packet allocation in steady state).
struct DhcpRequest {
  MacAddress client_mac;  // chaddr, equal to the Ethernet source
  MessageKind kind = MessageKind::bootp;
  std::uint32_t xid = 0;
  std::uint8_t vlan_count = 0;              // 0, 1 or 2 tags seen in the frame
  std::array<std::uint16_t, 2> vlan_ids{};  // outer first
  std::string vendor_class;                 // option 60, printable ASCII only ('?' replaces the rest)
  std::string hostname;                     // option 12, same treatment
  std::string user_class;                   // option 77 raw bytes made printable (iPXE sends "iPXE")
  std::string client_id;                    // option 61, raw bytes
  bool has_arch = false;
  std::uint16_t arch = 0;  // option 93, first listed architecture
  bool has_uuid = false;
  std::array<std::uint8_t, 16> uuid{};  // option 97 GUID as sent (type byte 0 stripped)
  bool bad_arch = false;                // option 93 present but malformed (ignored)
  bool bad_uuid = false;                // option 97 present but malformed (ignored)

  // PXE ROMs (and iPXE) send a vendor class beginning "PXEClient".
  bool is_pxe() const;
  std::string uuid_string() const;  // 8-4-4-4-12 hex as dmidecode prints it, or ""
  std::string arch_name() const;    // "x86-bios", "x64-efi", ... or the number
  void clear();
};

// Decodes `frame` (starting at the Ethernet header). On success fills `out`
// and returns true; otherwise sets `reason` and returns false (out is then
// unspecified).
bool parse_dhcp_frame(const std::uint8_t* frame, std::size_t length, DhcpRequest& out, DropReason& reason);

// Per-reason drop counters plus accepted frames.
struct ParseCounters {
  std::uint64_t accepted = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped{};
  void count(DropReason r) { ++dropped[static_cast<std::size_t>(r)]; }
  std::uint64_t invalid_total() const;
};

}  // namespace segbridge::shim
