#pragma once
// Per-peer filters on Ethernet frames received from a remote site, applied
// before the frame is written to that peer's tap (and so into br0).
//
// A compromised or careless remote site can put any frame on the cluster
// LAN. The default rules stop the two that hurt a Rocks frontend most:
//  * dhcp_server: DHCP server traffic (IPv4 UDP source port 67, DHCPv6 UDP
//    source port 547), also inside 802.1Q / 802.1ad tags: a rogue DHCP
//    server at a remote site would otherwise answer the cluster's PXE clients.
//    Off for a peer with allow_dhcp_server.
//  * syslog: UDP to port 514. Rocks frontends accept remote syslog from the
//    private network and insert-ethers trusts the dhcpd lines in it, so a
//    remote host could forge node registrations.
// Optional allow-lists: source MACs / OUIs, and EtherTypes (each VLAN tag's
// TPID must be listed too; 0 stands for 802.3 length-field frames, e.g. STP).
// Frames too short for the headers they claim are dropped as malformed so a
// parser difference can never smuggle a frame past the rules.
//
// Pure: no syscalls, no allocation per frame. Counters are atomic so the RX
// thread counts while the control thread reads them for `segbridgectl status`.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "segbridge/mac_address.hpp"

namespace segbridge::core {

enum class FilterRule : std::uint8_t { dhcp_server = 0, syslog, source_mac, ethertype, malformed, count_ };
constexpr std::size_t kFilterRuleCount = static_cast<std::size_t>(FilterRule::count_);
// Stable names for status output and logs: "filter_dhcp_server", ...
std::string_view filter_rule_name(FilterRule rule);

struct FrameFilterConfig {
  bool allow_dhcp_server = false;
  bool drop_syslog = true;
  std::vector<MacAddress> allowed_source_macs;    // empty + no OUIs: any source
  std::vector<std::uint32_t> allowed_ouis;        // 24-bit, e.g. 0x525400
  std::vector<std::uint16_t> allowed_ethertypes;  // empty: any
};

// Which rule drops `frame`, or nothing if it passes. Stateless.
std::optional<FilterRule> evaluate_frame(const FrameFilterConfig& config, const std::uint8_t* frame, std::size_t len);

struct FilterCounters {
  std::uint64_t passed = 0;
  std::array<std::uint64_t, kFilterRuleCount> dropped{};
  std::uint64_t dropped_by(FilterRule r) const { return dropped[static_cast<std::size_t>(r)]; }
};

class FrameFilter {
 public:
  explicit FrameFilter(FrameFilterConfig config = {});
  FrameFilter(const FrameFilter&) = delete;
  FrameFilter& operator=(const FrameFilter&) = delete;

  // RX thread: true if the frame may be delivered; otherwise the matching rule is counted.
  bool allow(const std::uint8_t* frame, std::size_t len);
  FilterCounters counters() const;

  // Control thread (SIGHUP): new rules take effect for the next frame, without
  // a lock on the RX path and without resetting the counters. Earlier rule
  // sets are kept until the filter is destroyed (one per reload: tiny), so
  // the RX thread can never read a freed one.
  void update(FrameFilterConfig config);
  const FrameFilterConfig& config() const { return *current_.load(std::memory_order_acquire); }

 private:
  std::vector<std::unique_ptr<const FrameFilterConfig>> configs_;  // control thread
  std::atomic<const FrameFilterConfig*> current_{nullptr};
  std::atomic<std::uint64_t> passed_{0};
  std::array<std::atomic<std::uint64_t>, kFilterRuleCount> dropped_{};
};

}  // namespace segbridge::core
