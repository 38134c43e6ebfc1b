#include "segbridge/core/frame_filter.hpp"

#include <algorithm>

namespace segbridge::core {
namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;  // 802.1ad
constexpr std::uint16_t kEtherTypeQinQOld = 0x9100;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint16_t kDhcpServerPort = 67;
constexpr std::uint16_t kDhcp6ServerPort = 547;
constexpr std::uint16_t kSyslogPort = 514;
constexpr int kMaxVlanTags = 2;
constexpr int kMaxIpv6ExtensionHeaders = 8;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

bool is_tag(std::uint16_t type) {
  return type == kEtherTypeVlan || type == kEtherTypeQinQ || type == kEtherTypeQinQOld;
}

bool ethertype_allowed(const FrameFilterConfig& c, std::uint16_t type) {
  if (c.allowed_ethertypes.empty()) return true;
  const std::uint16_t key = type < 0x0600 ? 0 : type;  // 802.3 length field
  return std::find(c.allowed_ethertypes.begin(), c.allowed_ethertypes.end(), key) != c.allowed_ethertypes.end();
}

bool source_allowed(const FrameFilterConfig& c, const std::uint8_t* frame) {
  if (c.allowed_source_macs.empty() && c.allowed_ouis.empty()) return true;
  const MacAddress src = MacAddress::from_bytes(frame + 6);
  if (std::find(c.allowed_source_macs.begin(), c.allowed_source_macs.end(), src) != c.allowed_source_macs.end()) {
    return true;
  }
  return std::find(c.allowed_ouis.begin(), c.allowed_ouis.end(), src.oui()) != c.allowed_ouis.end();
}

struct UdpPorts {
  std::uint16_t src, dst;
};

// Result of looking for a UDP header: none (not UDP or a non-first
// fragment), malformed, or the ports.
enum class L4 { none, malformed, udp };

L4 ipv4_udp(const std::uint8_t* p, std::size_t len, UdpPorts& ports) {
  if (len < 20 || (p[0] >> 4) != 4) return L4::malformed;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return L4::malformed;
  if (p[9] != kIpProtoUdp) return L4::none;
  if ((be16(p + 6) & 0x1fff) != 0) return L4::none;  // later fragment: no UDP header in it
  if (len < ihl + 8) return L4::malformed;
  ports = {be16(p + ihl), be16(p + ihl + 2)};
  return L4::udp;
}

L4 ipv6_udp(const std::uint8_t* p, std::size_t len, UdpPorts& ports) {
  if (len < 40 || (p[0] >> 4) != 6) return L4::malformed;
  std::uint8_t next = p[6];
  std::size_t off = 40;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i) {
    switch (next) {
      case 0:     // hop-by-hop options
      case 43:    // routing
      case 60: {  // destination options
        if (len < off + 8) return L4::malformed;
        const std::size_t ext = (static_cast<std::size_t>(p[off + 1]) + 1) * 8;
        next = p[off];
        off += ext;
        continue;
      }
      case 44:  // fragment
        if (len < off + 8) return L4::malformed;
        if ((be16(p + off + 2) & 0xfff8) != 0) return L4::none;  // not the first fragment
        next = p[off];
        off += 8;
        continue;
      case kIpProtoUdp:
        if (len < off + 8) return L4::malformed;
        ports = {be16(p + off), be16(p + off + 2)};
        return L4::udp;
      default:
        return L4::none;
    }
  }
  return L4::malformed;  // an absurd chain of extension headers
}

}  // namespace

std::string_view filter_rule_name(FilterRule rule) {
  switch (rule) {
    case FilterRule::dhcp_server:
      return "filter_dhcp_server";
    case FilterRule::syslog:
      return "filter_syslog";
    case FilterRule::source_mac:
      return "filter_source_mac";
    case FilterRule::ethertype:
      return "filter_ethertype";
    case FilterRule::malformed:
      return "filter_malformed";
    case FilterRule::count_:
      break;
  }
  return "filter_unknown";
}

std::optional<FilterRule> evaluate_frame(const FrameFilterConfig& config, const std::uint8_t* frame, std::size_t len) {
  if (len < 14) return FilterRule::malformed;
  if (!source_allowed(config, frame)) return FilterRule::source_mac;
  std::size_t off = 12;
  std::uint16_t type = be16(frame + off);
  for (int tags = 0; is_tag(type); ++tags) {
    if (tags == kMaxVlanTags) return FilterRule::malformed;
    if (!ethertype_allowed(config, type)) return FilterRule::ethertype;
    if (len < off + 6) return FilterRule::malformed;
    off += 4;
    type = be16(frame + off);
  }
  if (!ethertype_allowed(config, type)) return FilterRule::ethertype;
  off += 2;  // start of the payload

  UdpPorts ports{};
  L4 l4 = L4::none;
  bool v6 = false;
  if (type == kEtherTypeIpv4) {
    l4 = ipv4_udp(frame + off, len - off, ports);
  } else if (type == kEtherTypeIpv6) {
    l4 = ipv6_udp(frame + off, len - off, ports);
    v6 = true;
  }
  if (l4 == L4::malformed) return FilterRule::malformed;
  if (l4 == L4::udp) {
    const std::uint16_t server_port = v6 ? kDhcp6ServerPort : kDhcpServerPort;
    if (!config.allow_dhcp_server && ports.src == server_port) return FilterRule::dhcp_server;
    if (config.drop_syslog && ports.dst == kSyslogPort) return FilterRule::syslog;
  }
  return std::nullopt;
}

FrameFilter::FrameFilter(FrameFilterConfig config) {
  update(std::move(config));
}

void FrameFilter::update(FrameFilterConfig config) {
  configs_.push_back(std::make_unique<const FrameFilterConfig>(std::move(config)));
  current_.store(configs_.back().get(), std::memory_order_release);
}

bool FrameFilter::allow(const std::uint8_t* frame, std::size_t len) {
  const auto rule = evaluate_frame(*current_.load(std::memory_order_acquire), frame, len);
  if (!rule) {
    passed_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  dropped_[static_cast<std::size_t>(*rule)].fetch_add(1, std::memory_order_relaxed);
  return false;
}

FilterCounters FrameFilter::counters() const {
  FilterCounters c;
  c.passed = passed_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kFilterRuleCount; ++i) c.dropped[i] = dropped_[i].load(std::memory_order_relaxed);
  return c;
}

}  // namespace segbridge::core
