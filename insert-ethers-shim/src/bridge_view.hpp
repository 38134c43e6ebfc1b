#pragma once
// What the kernel knows about the sniffed interfaces: which bridge port a MAC
// is behind (the bridge FDB) and which ports a bridge has (for topology).
//
// A MAC is looked up with a single-entry FDB query (`bridge fdb get`), so the
// cost does not grow with the FDB — a flood of random source MACs can fill it
// with 100k entries. Answers are cached briefly for repeat sightings. On
// kernels without that query (< 4.20) or when it finds nothing (e.g. a
// VLAN-filtering bridge learning in another VLAN), a full dump is used; a
// miss in a dump is trusted only if the dump is newer than the frame (the
// bridge learns the source before passing the frame up to br0).
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

  // The port `mac` is behind on bridge `bridge`; "" when unknown.
  // `captured_ms` is when the frame was captured (same clock as now_ms).
  std::string port_of(const std::string& bridge, const MacAddress& mac, std::int64_t now_ms, std::int64_t captured_ms);

  bool is_bridge(const std::string& interface);
  // Names of the bridge's ports; nullopt if the bridge does not exist.
  std::optional<std::vector<std::string>> ports(const std::string& bridge);

  std::uint64_t fdb_dumps() const { return fdb_dumps_; }
  std::uint64_t fdb_gets() const { return fdb_gets_; }
  std::uint64_t fdb_misses() const { return fdb_misses_; }

 private:
  struct Cached {
    std::string port;
    std::int64_t at_ms = 0;
  };
  struct Bridge {
    int ifindex = 0;
    std::int64_t dumped_ms = -1;
    std::unordered_map<MacAddress, Cached> by_mac;
  };
  std::optional<std::string> get_one(Bridge& br, const std::string& name, const MacAddress& mac, std::int64_t now_ms);
  void dump(const std::string& name, Bridge& br, std::int64_t now_ms);
  std::string port_name(int ifindex);
  netlink::Netlink& nl();

  std::unique_ptr<netlink::Netlink> nl_;
  std::map<std::string, Bridge> bridges_;
  std::unordered_map<int, std::string> names_;
  bool fdb_get_supported_ = true;
  std::uint64_t fdb_dumps_ = 0;
  std::uint64_t fdb_gets_ = 0;
  std::uint64_t fdb_misses_ = 0;
};

}  // namespace segbridge::shim
