#pragma once
// Which PXE clients get announced: site attribution from the bridge port,
// the topology rule (announce local nodes or not) and the guards that keep a
// DHCP flood from turning into hundreds of registered hosts. Pure logic; the
// caller supplies time and the bridge facts.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dhcp_packet.hpp"
#include "shim_config.hpp"

namespace segbridge::shim {

struct Attribution {
  std::string port;  // bridge port the MAC is behind; "" when unknown
  std::string site;  // peer name for tunnel ports, "local" otherwise, "unknown" when no port
  bool tunnel = false;
};

// `sb-siteA` → site "siteA" (tunnel); any other port → "local".
Attribution attribute_port(const std::string& port, const std::string& tunnel_prefix);

// Topology: with the private interface outside the bridge, dhcpd logs local
// nodes `via <private-if>` itself, so only tunnel MACs need the shim; with it
// inside, dhcpd says `via br0` for everyone and all must be announced.
struct TopologyDecision {
  bool announce_local = false;
  std::string why;  // for the log
};
TopologyDecision decide_topology(AnnounceLocal mode, const std::string& private_interface, const std::string& bridge,
                                 const std::vector<std::string>& bridge_ports, bool bridge_exists);

// Token bucket: `per_minute` new MACs per minute, bursts up to `per_minute`.
class RateLimiter {
 public:
  explicit RateLimiter(std::int64_t per_minute);
  bool allow(std::int64_t now_ms);

 private:
  double capacity_;
  double tokens_;
  double per_ms_;
  std::int64_t last_ms_ = -1;
};

// Counter names used in logs, the ledger's counters table and `stats`.
namespace counter {
inline constexpr const char* not_pxe = "guard_not_pxe";
inline constexpr const char* denied = "guard_denied";
inline constexpr const char* not_allowed = "guard_not_allowed";
inline constexpr const char* rate_limited = "guard_rate_limited";
inline constexpr const char* pending_cap = "guard_pending_cap";
inline constexpr const char* local_not_announced = "local_not_announced";
}  // namespace counter

class Guards {
 public:
  explicit Guards(const ShimConfig& config);

  // PXE-only rule (option 60 starts with "PXEClient").
  bool accepts_client(const DhcpRequest& request);
  // Allow/deny by MAC or OUI, global then per site. nullopt: allowed; else the
  // reason ("denied" / "not_allowed") for the ledger.
  std::optional<std::string> filter(const MacAddress& mac, const std::string& site);
  // A MAC not yet in the ledger may be recorded (rate limit on new MACs).
  bool admit_new_mac(std::int64_t now_ms);
  // One more pending MAC fits under the cap.
  bool pending_room(std::int64_t pending_now);

  void count(const char* name) { ++counters_[name]; }
  const std::map<std::string, std::uint64_t>& counters() const { return counters_; }

 private:
  bool pxe_only_;
  std::int64_t max_pending_;
  MacFilter global_;
  std::map<std::string, MacFilter> sites_;
  RateLimiter limiter_;
  std::map<std::string, std::uint64_t> counters_;
};

}  // namespace segbridge::shim
