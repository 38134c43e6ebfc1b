#pragma once
// What the kernel knows about the sniffed interfaces: which bridge port a MAC
// is behind (the bridge FDB) and which ports a bridge has (for topology).
// FDB dumps are cached briefly so a DHCP burst costs a few dumps per second,
// not one per packet; a miss forces one refresh (the bridge learns the source
// before it passes the frame up to br0, so a fresh dump has it).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "segbridge/mac_address.hpp"
#include "segbridge/netlink.hpp"

namespace segbridge::shim {

class BridgeView {
 public:
  BridgeView();

  // The port `mac` is behind on bridge `interface` (FDB lookup); "" when
  // unknown. (A plain interface sniffed directly is its own "port": the
  // caller handles that without asking.)
  // `captured_ms` is when the frame was captured (same clock as now_ms).
  std::string port_of(const std::string& interface, const MacAddress& mac, std::int64_t now_ms,
                      std::int64_t captured_ms);

  bool is_bridge(const std::string& interface);
  // Names of the bridge's ports; nullopt if the bridge does not exist.
  std::optional<std::vector<std::string>> ports(const std::string& bridge);

  std::uint64_t fdb_dumps() const { return fdb_dumps_; }
  std::uint64_t fdb_misses() const { return fdb_misses_; }

 private:
  struct Cache {
    std::int64_t loaded_ms = -1;
    std::unordered_map<MacAddress, std::string> port_by_mac;
  };
  void refresh(const std::string& bridge, Cache& cache, std::int64_t now_ms);
  netlink::Netlink& nl();

  std::unique_ptr<netlink::Netlink> nl_;
  std::map<std::string, Cache> caches_;
  std::uint64_t fdb_dumps_ = 0;
  std::uint64_t fdb_misses_ = 0;
};

}  // namespace segbridge::shim
