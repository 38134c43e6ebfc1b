#pragma once
// Route-netlink operations on links, bridges and the bridge FDB, through
// libnl-3 (no shelling out to ip/brctl). Used by segbridged (taps into br0)
// and the insert-ethers shim (bridge ports, which port a MAC is behind).
//
// Everything acts on the calling thread's network namespace.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "segbridge/mac_address.hpp"

struct nl_sock;

namespace segbridge::netlink {

class NetlinkError : public std::runtime_error {
 public:
  NetlinkError(const std::string& what, int nl_error);
  int nl_error() const { return nl_error_; }  // libnl's NLE_* code

 private:
  int nl_error_;
};

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  int master_ifindex = 0;  // 0: not enslaved
  unsigned flags = 0;      // IFF_*
  unsigned mtu = 0;
  MacAddress mac;
  std::string kind;  // "bridge", "veth", "tun", ... or "" for physical
  bool is_up() const;
  bool is_promiscuous() const;
};

// PXE-safe defaults: STP off and no forward delay, so a new or re-added port
// forwards at once (a 30 s listening/learning phase outlasts PXE retries).
struct BridgeSettings {
  bool stp = false;
  unsigned forward_delay_centisecs = 0;
  std::optional<bool> multicast_snooping;  // unset: leave the kernel default
};

struct BridgeState {
  bool stp = false;
  unsigned forward_delay_centisecs = 0;
  bool multicast_snooping = true;
};

struct FdbEntry {
  MacAddress mac;
  int port_ifindex = 0;
  std::string port_name;
  std::uint16_t vlan = 0;  // 0: untagged / no VLAN filtering
  bool permanent = false;  // the port's own address, not a learned one
};

class Netlink {
 public:
  Netlink();  // connects a NETLINK_ROUTE socket; throws NetlinkError
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  std::optional<LinkInfo> link(const std::string& name);
  std::optional<LinkInfo> link(int ifindex);
  std::vector<LinkInfo> links();
  std::vector<LinkInfo> bridge_ports(const std::string& bridge);

  void create_bridge(const std::string& name, const BridgeSettings& settings);
  void set_bridge_settings(const std::string& name, const BridgeSettings& settings);
  BridgeState bridge_state(const std::string& name);

  void enslave(const std::string& bridge, const std::string& port);
  void release(const std::string& port);
  void set_up(const std::string& name, bool up);
  void set_promiscuous(const std::string& name, bool on);
  void set_mtu(const std::string& name, unsigned mtu);
  void delete_link(const std::string& name);

  // Learned and permanent FDB entries of `bridge`'s ports.
  std::vector<FdbEntry> bridge_fdb(const std::string& bridge);
  // One FDB entry, asked of the kernel directly (RTM_GETNEIGH without
  // NLM_F_DUMP, `bridge fdb get`, Linux >= 4.20): constant cost however large
  // the FDB is. nullopt if the bridge has no entry for `mac` in `vlan`.
  // port_name is left empty (callers map port_ifindex). Throws NetlinkError
  // on kernels that cannot answer it; callers fall back to bridge_fdb().
  std::optional<FdbEntry> bridge_fdb_get(int bridge_ifindex, const MacAddress& mac, std::uint16_t vlan = 0);

 private:
  LinkInfo require_link(const std::string& name);
  void change_link(const std::string& name, const std::optional<unsigned>& set_flags,
                   const std::optional<unsigned>& clear_flags, const std::optional<unsigned>& mtu);
  void send_bridge_newlink(const std::string& name, const BridgeSettings& settings, bool create);

  nl_sock* sock_ = nullptr;
};

}  // namespace segbridge::netlink
