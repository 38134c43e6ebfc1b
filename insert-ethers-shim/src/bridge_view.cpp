#include "bridge_view.hpp"

namespace segbridge::shim {
namespace {
constexpr std::int64_t kCacheTtlMs = 500;
}  // namespace

BridgeView::BridgeView() = default;

netlink::Netlink& BridgeView::nl() {
  if (!nl_) nl_ = std::make_unique<netlink::Netlink>();
  return *nl_;
}

bool BridgeView::is_bridge(const std::string& interface) {
  try {
    auto l = nl().link(interface);
    return l && l->kind == "bridge";
  } catch (const netlink::NetlinkError&) {
    nl_.reset();  // reconnect next time
    return false;
  }
}

std::optional<std::vector<std::string>> BridgeView::ports(const std::string& bridge) {
  try {
    auto l = nl().link(bridge);
    if (!l || l->kind != "bridge") return std::nullopt;
    std::vector<std::string> out;
    for (const auto& p : nl().bridge_ports(bridge)) out.push_back(p.name);
    return out;
  } catch (const netlink::NetlinkError&) {
    nl_.reset();
    return std::nullopt;
  }
}

void BridgeView::refresh(const std::string& bridge, Cache& cache, std::int64_t now_ms) {
  cache.port_by_mac.clear();
  cache.loaded_ms = now_ms;
  ++fdb_dumps_;
  try {
    for (const auto& e : nl().bridge_fdb(bridge)) {
      if (e.permanent) continue;  // the ports' own addresses
      cache.port_by_mac[e.mac] = e.port_name;
    }
  } catch (const netlink::NetlinkError&) {
    nl_.reset();
  }
}

std::string BridgeView::port_of(const std::string& interface, const MacAddress& mac, std::int64_t now_ms,
                                std::int64_t captured_ms) {
  Cache& cache = caches_[interface];
  if (cache.loaded_ms < 0 || now_ms - cache.loaded_ms > kCacheTtlMs) refresh(interface, cache, now_ms);
  auto it = cache.port_by_mac.find(mac);
  // A miss is only trusted from a dump taken after the frame was captured
  // (so one dump per batch of frames, however many new MACs it holds).
  if (it == cache.port_by_mac.end() && cache.loaded_ms <= captured_ms) {
    refresh(interface, cache, now_ms);
    it = cache.port_by_mac.find(mac);
  }
  if (it == cache.port_by_mac.end()) {
    ++fdb_misses_;
    return {};
  }
  return it->second;
}

}  // namespace segbridge::shim
