// Runs inside the private network namespace integration_main.cpp creates:
// frames written into taps (as segbridged does) are learned by a real
// bridge, and the shim finds the port each source MAC is behind — through
// the single-entry FDB query and through BridgeView, also among thousands of
// other learned MACs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

#include "bridge_view.hpp"
#include "segbridge/netlink.hpp"
#include "segbridge/tap_device.hpp"

using namespace segbridge;

namespace {

void inject(const TapDevice& tap, const MacAddress& src) {
  std::vector<std::uint8_t> frame(60, 0);
  for (int i = 0; i < 6; ++i) frame[static_cast<std::size_t>(i)] = 0xff;
  std::copy(src.bytes().begin(), src.bytes().end(), frame.begin() + 6);
  frame[12] = 0x88, frame[13] = 0xb5;  // local experimental ethertype
  ASSERT_EQ(::write(tap.fd(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
}

MacAddress mac(int i) {
  return MacAddress(
      MacAddress::Bytes{0x52, 0x54, 0x00, 0x77, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
}

}  // namespace

TEST(FdbLookup, SingleEntryQueryFindsThePort) {
  netlink::Netlink nl;
  nl.create_bridge("br0", netlink::BridgeSettings{});
  nl.set_up("br0", true);
  auto a = TapDevice::open({"sb-siteA", false, 1, false});
  auto lan = TapDevice::open({"lan0", false, 1, false});
  for (const char* p : {"sb-siteA", "lan0"}) {
    nl.set_up(p, true);
    nl.enslave("br0", p);
  }
  inject(a, mac(1));
  inject(lan, mac(2));
  const int br = nl.link("br0")->ifindex;
  auto e1 = nl.bridge_fdb_get(br, mac(1));
  ASSERT_TRUE(e1);
  EXPECT_EQ(e1->port_ifindex, nl.link("sb-siteA")->ifindex);
  EXPECT_FALSE(e1->permanent);
  auto e2 = nl.bridge_fdb_get(br, mac(2));
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->port_ifindex, nl.link("lan0")->ifindex);
  EXPECT_FALSE(nl.bridge_fdb_get(br, mac(3)));
  // The socket stays usable after a miss and a hit (ACKs consumed).
  EXPECT_TRUE(nl.bridge_fdb_get(br, mac(1)));
  EXPECT_EQ(nl.bridge_ports("br0").size(), 2u);

  shim::BridgeView view;
  EXPECT_TRUE(view.is_bridge("br0"));
  EXPECT_FALSE(view.is_bridge("lan0"));
  auto ports = view.ports("br0");
  ASSERT_TRUE(ports);
  EXPECT_EQ(ports->size(), 2u);
  EXPECT_EQ(view.port_of("br0", mac(1), 1000, 999), "sb-siteA");
  EXPECT_EQ(view.port_of("br0", mac(2), 1000, 999), "lan0");
  EXPECT_EQ(view.port_of("br0", mac(3), 1000, 999), "");
  EXPECT_EQ(view.fdb_dumps(), 1u);  // only the miss fell back to a dump

  // Among many learned MACs the lookup still answers without dumps.
  for (int i = 100; i < 2100; ++i) inject(lan, mac(i));
  inject(a, mac(5000));
  const auto dumps = view.fdb_dumps();
  EXPECT_EQ(view.port_of("br0", mac(5000), 5000, 4999), "sb-siteA");
  EXPECT_EQ(view.port_of("br0", mac(1500), 5000, 4999), "lan0");
  EXPECT_EQ(view.fdb_dumps(), dumps);
  EXPECT_GE(nl.bridge_fdb("br0").size(), 2000u);
  nl.delete_link("br0");
  EXPECT_FALSE(view.ports("br0"));
}
