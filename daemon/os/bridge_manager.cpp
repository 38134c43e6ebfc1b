#include "bridge_manager.hpp"

#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "segbridge/log.hpp"

namespace segbridge::daemon {

BridgeManager::BridgeManager(std::string bridge)
    : bridge_(std::move(bridge)), nl_(std::make_unique<netlink::Netlink>()) {}

void BridgeManager::setup(bool create_if_missing, const std::vector<std::string>& ports) {
  auto existing = nl_->link(bridge_);
  if (!existing) {
    if (!create_if_missing) {
      throw netlink::NetlinkError("bridge '" + bridge_ + "' does not exist and create_bridge = false", -1);
    }
    netlink::BridgeSettings settings;  // STP off, forward_delay 0
    settings.multicast_snooping = false;
    nl_->create_bridge(bridge_, settings);
    created_ = true;
    log::notice("created bridge " + bridge_ + " (STP off, forward_delay 0, multicast snooping off)");
  } else if (existing->kind != "bridge") {
    throw netlink::NetlinkError("'" + bridge_ + "' exists but is not a bridge (it is '" + existing->kind + "')", -1);
  } else {
    auto state = nl_->bridge_state(bridge_);
    if (state.stp && state.forward_delay_centisecs > 200) {
      log::warning("bridge " + bridge_ + " runs STP with forward_delay " +
                   std::to_string(state.forward_delay_centisecs / 100) +
                   " s: new ports stall that long, longer than iPXE waits for DHCP");
    }
  }
  nl_->set_up(bridge_, true);
  add_ports(ports);
}

void BridgeManager::add_ports(const std::vector<std::string>& ports) {
  auto br = nl_->link(bridge_);
  for (const auto& p : ports) {
    auto link = nl_->link(p);
    if (!link) {
      log::warning("bridge port '" + p + "' does not exist; not enslaved");
      continue;
    }
    if (br && link->master_ifindex == br->ifindex) continue;
    if (link->master_ifindex != 0) {
      log::warning("'" + p + "' is already a port of another master; left alone");
      continue;
    }
    nl_->enslave(bridge_, p);
    nl_->set_up(p, true);
    log::info("enslaved " + p + " into " + bridge_);
  }
}

TapDevice BridgeManager::add_tap(const std::string& tap_name, bool offload, bool* offload_active) {
  TapOptions options;
  options.name = tap_name;
  options.persistent = true;
  options.vnet_header = offload;
  TapDevice tap = TapDevice::open(options);
  *offload_active = false;
  if (offload) {
    // Only after TUNSETIFF (the offloads belong to the attached device).
    if (::ioctl(tap.fd(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0) {
      *offload_active = true;
    } else {
      log::warning("tap " + tap_name + ": TUNSETOFFLOAD failed (" + std::strerror(errno) +
                   "); frames are read one by one");
    }
  }
  taps_.insert(tap_name);
  auto br = nl_->link(bridge_);
  auto link = nl_->link(tap_name);
  // The tap carries whole LAN frames: same MTU as the bridge (lowering it
  // would lower the bridge's; the tunnel fragments internally instead).
  unsigned mtu = (br && br->mtu >= 1280) ? br->mtu : 1500;
  if (link && link->mtu != mtu) nl_->set_mtu(tap_name, mtu);
  if (!(link && br && link->master_ifindex == br->ifindex)) nl_->enslave(bridge_, tap_name);
  nl_->set_up(tap_name, true);
  return tap;
}

void BridgeManager::remove_tap(const std::string& tap_name) {
  try {
    if (nl_->link(tap_name)) nl_->delete_link(tap_name);
  } catch (const std::exception& e) {
    log::warning("removing tap " + tap_name + ": " + e.what());
  }
  taps_.erase(tap_name);
}

void BridgeManager::teardown(bool remove_bridge) {
  for (auto it = taps_.begin(); it != taps_.end();) {
    std::string name = *it++;
    remove_tap(name);
  }
  if (created_ && remove_bridge) {
    try {
      nl_->delete_link(bridge_);
      log::notice("removed bridge " + bridge_);
    } catch (const std::exception& e) {
      log::warning("removing bridge " + bridge_ + ": " + e.what());
    }
  }
}

std::vector<netlink::FdbEntry> BridgeManager::learned_fdb() {
  std::vector<netlink::FdbEntry> out;
  for (auto& e : nl_->bridge_fdb(bridge_)) {
    if (!e.permanent) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace segbridge::daemon
