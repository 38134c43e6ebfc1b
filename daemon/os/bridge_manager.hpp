#pragma once
// The daemon's footprint on the host's bridge: creates the bridge when asked
// (PXE-safe: STP off, forward_delay 0, multicast snooping off so IPv6 ND and
// PXE multicast always cross the tunnels), enslaves exactly the configured
// ports, and adds one persistent tap per peer. It never removes addresses,
// never touches an interface it was not told about, and on teardown removes
// only what it created.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "segbridge/netlink.hpp"
#include "segbridge/tap_device.hpp"

namespace segbridge::daemon {

class BridgeManager {
 public:
  explicit BridgeManager(std::string bridge);

  const std::string& bridge() const { return bridge_; }
  bool created_bridge() const { return created_; }

  // Ensures the bridge exists and is up; enslaves `ports` (and brings them up).
  // Throws (netlink::NetlinkError / std::system_error) with the reason.
  void setup(bool create_if_missing, const std::vector<std::string>& ports);
  // Enslaves ports added to the config later (SIGHUP); never releases any.
  void add_ports(const std::vector<std::string>& ports);

  // A persistent tap, MTU = bridge MTU, enslaved and up. Reattaches to a tap
  // left behind by a crashed instance, so its bridge port never goes away.
  // With `offload`, the tap carries a virtio_net_hdr per frame and takes
  // checksum + TSO offload (TUNSETOFFLOAD): returns whether that took effect.
  TapDevice add_tap(const std::string& tap_name, bool offload, bool* offload_active);
  // Releases and deletes one of our taps (peer removed or daemon stopping).
  void remove_tap(const std::string& tap_name);

  // Removes the bridge if this instance created it and `remove_bridge`.
  void teardown(bool remove_bridge);

  // Learned (non-permanent) FDB entries behind each port, by port name.
  std::vector<netlink::FdbEntry> learned_fdb();

 private:
  std::string bridge_;
  bool created_ = false;
  std::set<std::string> taps_;
  std::unique_ptr<netlink::Netlink> nl_;
};

}  // namespace segbridge::daemon
