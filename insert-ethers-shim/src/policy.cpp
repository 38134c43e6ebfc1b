#include "policy.hpp"

#include <algorithm>

namespace segbridge::shim {

Attribution attribute_port(const std::string& port, const std::string& tunnel_prefix) {
  Attribution a;
  a.port = port;
  if (port.empty()) {
    a.site = "unknown";
  } else if (port.size() > tunnel_prefix.size() && port.compare(0, tunnel_prefix.size(), tunnel_prefix) == 0) {
    a.site = port.substr(tunnel_prefix.size());
    a.tunnel = true;
  } else {
    a.site = "local";
  }
  return a;
}

TopologyDecision decide_topology(AnnounceLocal mode, const std::string& private_interface, const std::string& bridge,
                                 const std::vector<std::string>& bridge_ports, bool bridge_exists) {
  TopologyDecision d;
  if (mode == AnnounceLocal::always) {
    d.announce_local = true;
    d.why = "announce_local = \"always\": announcing every PXE client";
    return d;
  }
  if (mode == AnnounceLocal::never) {
    d.why = "announce_local = \"never\": announcing only clients behind tunnel ports";
    return d;
  }
  const bool inside = std::find(bridge_ports.begin(), bridge_ports.end(), private_interface) != bridge_ports.end();
  if (private_interface == bridge) {
    d.announce_local = false;
    d.why = "private interface " + private_interface +
            " is the sniffed bridge itself: dhcpd logs every node via it, announcing only tunnel clients";
  } else if (inside) {
    d.announce_local = true;
    d.why = "private interface " + private_interface + " is a port of " + bridge + ": dhcpd logs local nodes via " +
            bridge + ", announcing every PXE client";
  } else {
    d.announce_local = false;
    d.why = "private interface " + private_interface + " is not a port of " + bridge +
            (bridge_exists ? "" : " (bridge absent)") + ": dhcpd logs local nodes via " + private_interface +
            " itself, announcing only tunnel clients";
  }
  return d;
}

RateLimiter::RateLimiter(std::int64_t per_minute)
    : capacity_(static_cast<double>(per_minute)),
      tokens_(static_cast<double>(per_minute)),
      per_ms_(static_cast<double>(per_minute) / 60000.0) {}

bool RateLimiter::allow(std::int64_t now_ms) {
  if (last_ms_ >= 0 && now_ms > last_ms_) {
    tokens_ = std::min(capacity_, tokens_ + static_cast<double>(now_ms - last_ms_) * per_ms_);
  }
  if (last_ms_ < 0 || now_ms > last_ms_) last_ms_ = now_ms;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

Guards::Guards(const ShimConfig& config)
    : pxe_only_(config.pxe_only),
      max_pending_(config.max_pending),
      global_(config.global_filter),
      sites_(config.site_filters),
      limiter_(config.new_macs_per_minute) {}

bool Guards::accepts_client(const DhcpRequest& request) {
  if (!pxe_only_ || request.is_pxe()) return true;
  count(counter::not_pxe);
  return false;
}

namespace {
bool any_match(const std::vector<MacPattern>& patterns, const MacAddress& mac) {
  for (const auto& p : patterns)
    if (p.matches(mac.bytes().data())) return true;
  return false;
}
}  // namespace

std::optional<std::string> Guards::filter(const MacAddress& mac, const std::string& site) {
  const MacFilter* site_filter = nullptr;
  if (auto it = sites_.find(site); it != sites_.end()) site_filter = &it->second;
  // Deny wins over allow, at either level.
  if (any_match(global_.deny, mac) || (site_filter && any_match(site_filter->deny, mac))) {
    count(counter::denied);
    return std::string("denied");
  }
  const bool global_ok = global_.allow.empty() || any_match(global_.allow, mac);
  const bool site_ok = !site_filter || site_filter->allow.empty() || any_match(site_filter->allow, mac);
  if (!global_ok || !site_ok) {
    count(counter::not_allowed);
    return std::string("not_allowed");
  }
  return std::nullopt;
}

bool Guards::admit_new_mac(std::int64_t now_ms) {
  if (limiter_.allow(now_ms)) return true;
  count(counter::rate_limited);
  return false;
}

bool Guards::pending_room(std::int64_t pending_now) {
  if (pending_now < max_pending_) return true;
  count(counter::pending_cap);
  return false;
}

}  // namespace segbridge::shim
