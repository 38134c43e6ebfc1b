#include "bridge_view.hpp"

#include <netlink/errno.h>

#include "segbridge/log.hpp"

namespace segbridge::shim {
namespace {
constexpr std::int64_t kCacheTtlMs = 500;
constexpr std::size_t kMaxCached = 65536;  // a flood of random MACs must not grow it without bound
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
    if (!l || l->kind != "bridge") {
      bridges_.erase(bridge);
      return std::nullopt;
    }
    Bridge& br = bridges_[bridge];
    if (br.ifindex != l->ifindex) br = Bridge{l->ifindex, -1, {}};  // re-created: forget what we knew
    std::vector<std::string> out;
    for (const auto& p : nl().bridge_ports(bridge)) {
      out.push_back(p.name);
      names_[p.ifindex] = p.name;
    }
    return out;
  } catch (const netlink::NetlinkError&) {
    nl_.reset();
    return std::nullopt;
  }
}

std::string BridgeView::port_name(int ifindex) {
  if (auto it = names_.find(ifindex); it != names_.end()) return it->second;
  auto l = nl().link(ifindex);
  if (!l) return {};
  names_[ifindex] = l->name;
  return l->name;
}

std::optional<std::string> BridgeView::get_one(Bridge& br, const std::string& name, const MacAddress& mac,
                                               std::int64_t now_ms) {
  if (!fdb_get_supported_) return std::nullopt;
  try {
    if (br.ifindex == 0) {
      auto l = nl().link(name);
      if (!l) return std::nullopt;
      br.ifindex = l->ifindex;
    }
    ++fdb_gets_;
    auto e = nl().bridge_fdb_get(br.ifindex, mac);
    if (!e || e->permanent) return std::nullopt;
    std::string port = port_name(e->port_ifindex);
    if (port.empty()) return std::nullopt;
    if (br.by_mac.size() >= kMaxCached) br.by_mac.clear();
    br.by_mac[mac] = Cached{port, now_ms};
    return port;
  } catch (const netlink::NetlinkError& e) {
    if (e.nl_error() == -NLE_OPNOTSUPP || e.nl_error() == -NLE_INVAL) {
      log::notice(std::string("single-entry FDB queries unsupported (") + e.what() + "); using FDB dumps");
      fdb_get_supported_ = false;
    }
    nl_.reset();
    return std::nullopt;
  }
}

void BridgeView::dump(const std::string& name, Bridge& br, std::int64_t now_ms) {
  br.dumped_ms = now_ms;
  ++fdb_dumps_;
  try {
    std::unordered_map<MacAddress, Cached> fresh;
    for (const auto& e : nl().bridge_fdb(name)) {
      if (e.permanent) continue;  // the ports' own addresses
      fresh[e.mac] = Cached{e.port_name, now_ms};
      names_[e.port_ifindex] = e.port_name;
    }
    br.by_mac = std::move(fresh);
  } catch (const netlink::NetlinkError&) {
    nl_.reset();
  }
}

std::string BridgeView::port_of(const std::string& bridge, const MacAddress& mac, std::int64_t now_ms,
                                std::int64_t captured_ms) {
  Bridge& br = bridges_[bridge];
  if (auto it = br.by_mac.find(mac); it != br.by_mac.end() && now_ms - it->second.at_ms <= kCacheTtlMs) {
    return it->second.port;
  }
  if (auto port = get_one(br, bridge, mac, now_ms)) return *port;
  if (br.dumped_ms <= captured_ms) dump(bridge, br, now_ms);
  if (auto it = br.by_mac.find(mac); it != br.by_mac.end()) return it->second.port;
  ++fdb_misses_;
  return {};
}

}  // namespace segbridge::shim
