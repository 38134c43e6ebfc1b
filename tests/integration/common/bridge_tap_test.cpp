// Runs inside the private network namespace integration_main.cpp creates:
// the project's own libnl-3 and /dev/net/tun code builds a PXE-safe bridge
// and a tap, and the kernel's view is checked through a separate netlink dump.
#include <gtest/gtest.h>

#include "segbridge/netlink.hpp"
#include "segbridge/tap_device.hpp"

using namespace segbridge;

TEST(BridgeAndTap, TapBecomesPortOfPxeSafeBridge) {
  netlink::Netlink nl;
  nl.create_bridge("br0", netlink::BridgeSettings{});
  nl.set_up("br0", true);

  auto tap = TapDevice::open({"sb-siteA", /*persistent=*/false, 1, false});
  nl.set_up(tap.name(), true);
  nl.enslave("br0", tap.name());

  auto state = nl.bridge_state("br0");
  EXPECT_FALSE(state.stp);
  EXPECT_EQ(state.forward_delay_centisecs, 0u);

  auto br = nl.link("br0");
  ASSERT_TRUE(br);
  EXPECT_EQ(br->kind, "bridge");
  auto ports = nl.bridge_ports("br0");
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].name, "sb-siteA");
  EXPECT_EQ(ports[0].master_ifindex, br->ifindex);
  EXPECT_TRUE(ports[0].is_up());
  // The tap's own MAC shows up in the bridge FDB as a permanent entry.
  bool own_mac_seen = false;
  for (const auto& e : nl.bridge_fdb("br0")) {
    if (e.mac == ports[0].mac && e.port_name == "sb-siteA" && e.permanent) own_mac_seen = true;
  }
  EXPECT_TRUE(own_mac_seen);

  nl.release("sb-siteA");
  EXPECT_TRUE(nl.bridge_ports("br0").empty());
  nl.delete_link("br0");
  EXPECT_FALSE(nl.link("br0"));
}

TEST(BridgeAndTap, ReconfiguresAnExistingStpBridgeAndRejectsNonBridges) {
  netlink::Netlink nl;
  netlink::BridgeSettings slow;
  slow.stp = false;
  slow.forward_delay_centisecs = 1500;
  nl.create_bridge("br1", slow);
  EXPECT_EQ(nl.bridge_state("br1").forward_delay_centisecs, 1500u);
  nl.set_bridge_settings("br1", netlink::BridgeSettings{});
  EXPECT_EQ(nl.bridge_state("br1").forward_delay_centisecs, 0u);

  auto tap = TapDevice::open({"sb-x", false, 1, false});
  EXPECT_THROW(nl.bridge_state("sb-x"), netlink::NetlinkError);
  EXPECT_THROW(nl.enslave("no-such-br", "sb-x"), netlink::NetlinkError);
  EXPECT_FALSE(nl.link("no-such-if"));
  nl.delete_link("br1");
}

TEST(BridgeAndTap, RejectsInvalidTapNames) {
  EXPECT_THROW(TapDevice::open({"", false, 1, false}), std::system_error);
  EXPECT_THROW(TapDevice::open({"this-name-is-far-too-long", false, 1, false}), std::system_error);
  EXPECT_THROW(TapDevice::open({"bad/name", false, 1, false}), std::system_error);
}
