// libFuzzer target for the shim's DHCP decoder: any byte string must either
// parse or be dropped with a reason; never crash, never read out of bounds.
// Accepted results are cross-checked against invariants the daemon relies on.
#include <cstdint>
#include <cstdlib>

#include "dhcp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static segbridge::shim::DhcpRequest request;  // reused, like the daemon does
  segbridge::shim::DropReason reason{};
  if (segbridge::shim::parse_dhcp_frame(data, size, request, reason)) {
    // chaddr was checked against the Ethernet source at offset 6.
    if (size < 14 || segbridge::MacAddress::from_bytes(data + 6) != request.client_mac) std::abort();
    if (request.client_mac.is_multicast() || request.client_mac.is_zero()) std::abort();
    for (char c : request.vendor_class)
      if (c < 0x20 || c > 0x7e) std::abort();
    for (char c : request.hostname)
      if (c < 0x20 || c > 0x7e) std::abort();
    if (request.vlan_count > 2) std::abort();
    (void)request.uuid_string();
    (void)request.arch_name();
  } else if (segbridge::shim::drop_reason_name(reason) == "unknown") {
    std::abort();
  }
  return 0;
}
