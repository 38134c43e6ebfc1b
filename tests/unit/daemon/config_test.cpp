#include "service/config.hpp"

#include <gtest/gtest.h>

using segbridge::config::Errors;
using segbridge::daemon::load_config_string;
using segbridge::daemon::Role;

namespace {

const char* kHub = R"(# a hub
[daemon]
name = "frontend"
role = "hub"
listen = "0.0.0.0:7440"
bridge = "br0"
create_bridge = true
remove_bridge_on_exit = true
bridge_ports = ["eth1"]
control_socket = "/run/sb/control.sock"
path_mtu = 1500
psk_file = "/etc/segbridge/psk"
log_level = "debug"
syslog = false

[[peer]]
name = "site-a"
endpoint = "[2001:db8::2]:7440"
keepalive = 25

[[peer]]
name = "siteb"
psk_file = "/etc/segbridge/siteb.psk"
)";

// The "file:line:" prefix of message i.
std::string where(const Errors& e, std::size_t i) {
  const auto& m = e.messages().at(i);
  auto second = m.find(':', m.find(':') + 1);
  return m.substr(0, second + 1);
}

bool any_contains(const Errors& e, const std::string& needle) {
  for (const auto& m : e.messages())
    if (m.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(DaemonConfig, ReadsAFullHubConfig) {
  Errors errors;
  auto c = load_config_string(kHub, "hub.conf", errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->name, "frontend");
  EXPECT_EQ(c->role, Role::hub);
  ASSERT_TRUE(c->listen && c->listen->literal);
  EXPECT_EQ(c->listen->literal->port(), 7440);
  EXPECT_TRUE(c->remove_bridge_on_exit);
  EXPECT_EQ(c->bridge_ports, std::vector<std::string>{"eth1"});
  EXPECT_EQ(c->control_socket, "/run/sb/control.sock");
  ASSERT_EQ(c->peers.size(), 2u);
  EXPECT_EQ(c->peers[0].name, "site-a");
  EXPECT_EQ(c->peers[0].tap_name(), "sb-site-a");
  EXPECT_EQ(c->peers[0].keepalive_s, 25u);
  EXPECT_EQ(c->peers[0].psk_file, "/etc/segbridge/psk");  // inherited from [daemon]
  EXPECT_EQ(c->peers[1].psk_file, "/etc/segbridge/siteb.psk");
  EXPECT_FALSE(c->peers[1].endpoint);
}

TEST(DaemonConfig, SpokeDefaults) {
  Errors errors;
  auto c = load_config_string(
      "[daemon]\nname = \"sitea\"\nrole = \"spoke\"\npsk_file = \"/k\"\n[[peer]]\nname = \"hub\"\nendpoint = "
      "\"192.0.2.1:7440\"\n",
      "s.conf", errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->role, Role::spoke);
  EXPECT_FALSE(c->listen);
  EXPECT_EQ(c->bridge, "br0");
  EXPECT_TRUE(c->create_bridge);
  EXPECT_FALSE(c->remove_bridge_on_exit);
  EXPECT_EQ(c->path_mtu, 1500u);
  EXPECT_EQ(c->peers[0].keepalive_s, 10u);
}

TEST(DaemonConfig, ReportsEveryErrorWithItsLine) {
  const char* text =
      "[daemon]\n"                      // 1
      "name = \"frontend\"\n"           // 2
      "role = \"router\"\n"             // 3
      "listen = \"0.0.0.0\"\n"          // 4
      "path_mtu = 200\n"                // 5
      "psk_file = \"/k\"\n"             // 6
      "colour = \"blue\"\n"             // 7
      "[[peer]]\n"                      // 8
      "name = \"Site_A\"\n"             // 9
      "endpoint = \"192.0.2.300:1\"\n"  // 10
      "[[peer]]\n"                      // 11
      "name = \"siteb\"\n"              // 12
      "keepalive = \"often\"\n"         // 13
      "[[peer]]\n"                      // 14
      "name = \"siteb\"\n"              // 15
      "bogus = 1\n";                    // 16
  Errors errors;
  auto c = load_config_string(text, "bad.conf", errors);
  EXPECT_FALSE(c);
  const auto& m = errors.messages();
  std::string all = errors.joined();
  auto expect_line = [&](const std::string& needle, int line) {
    bool found = false;
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (m[i].find(needle) != std::string::npos) {
        EXPECT_EQ(where(errors, i), "bad.conf:" + std::to_string(line) + ":") << m[i];
        found = true;
      }
    }
    EXPECT_TRUE(found) << "no error mentioning '" << needle << "' in:\n" << all;
  };
  expect_line("'daemon.role'", 3);
  expect_line("expected address:port", 4);
  expect_line("'daemon.path_mtu' = 200 is out of range", 5);
  expect_line("unknown key 'daemon.colour'", 7);
  expect_line("'Site_A' must be 1-12 characters", 9);
  expect_line("neither an IP address nor a valid host name", 10);
  expect_line("'peer[1].keepalive' must be an integer", 13);
  expect_line("peer 'siteb' is defined twice", 15);
  expect_line("unknown key 'peer[2].bogus'", 16);
  EXPECT_EQ(m.size(), 9u) << all;
}

TEST(DaemonConfig, RoleRules) {
  Errors e1;
  EXPECT_FALSE(load_config_string(
      "[daemon]\nname = \"a\"\nrole = \"spoke\"\npsk_file = \"/k\"\n[[peer]]\nname = \"hub\"\n", "s.conf", e1));
  EXPECT_TRUE(any_contains(e1, "needs an endpoint")) << e1.joined();

  Errors e2;
  EXPECT_FALSE(load_config_string(
      "[daemon]\nname = \"a\"\nrole = \"spoke\"\npsk_file = \"/k\"\n[[peer]]\nname = \"h1\"\nendpoint = "
      "\"192.0.2.1:1\"\n[[peer]]\nname = \"h2\"\nendpoint = \"192.0.2.2:1\"\n",
      "s.conf", e2));
  EXPECT_TRUE(any_contains(e2, "exactly one [[peer]]")) << e2.joined();

  Errors e3;
  EXPECT_FALSE(load_config_string("[daemon]\nname = \"hub\"\npsk_file = \"/k\"\n", "h.conf", e3));
  EXPECT_TRUE(any_contains(e3, "a hub needs 'daemon.listen'")) << e3.joined();
  EXPECT_EQ(where(e3, 0), "h.conf:1:") << e3.joined();

  Errors e4;
  EXPECT_FALSE(
      load_config_string("[daemon]\nname = \"hub\"\nlisten = \"[::]:7440\"\n[[peer]]\nname = \"a\"\n", "h.conf", e4));
  EXPECT_TRUE(any_contains(e4, "no psk_file")) << e4.joined();

  Errors e5;
  EXPECT_FALSE(load_config_string("[daemon]\nrole = \"hub\"\nlisten = \"[::]:7440\"\n", "h.conf", e5));
  EXPECT_TRUE(any_contains(e5, "missing required key 'daemon.name'")) << e5.joined();

  Errors e6;
  EXPECT_FALSE(load_config_string("name = \"x\"\n", "h.conf", e6));
  EXPECT_TRUE(any_contains(e6, "missing [daemon] table")) << e6.joined();
  EXPECT_TRUE(any_contains(e6, "h.conf:1:8: unknown key 'name'")) << e6.joined();
}

TEST(DaemonConfig, BridgePortsAreChecked) {
  Errors errors;
  EXPECT_FALSE(load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\nbridge_ports = [\"eth0\", \"sb-x\", "
      "\"br0\", \"eth0\", \"this-name-is-too-long\"]\n",
      "h.conf", errors));
  EXPECT_TRUE(any_contains(errors, "'sb-x': names starting with 'sb-'")) << errors.joined();
  EXPECT_TRUE(any_contains(errors, "'br0' is the bridge itself")) << errors.joined();
  EXPECT_TRUE(any_contains(errors, "'eth0' is listed twice")) << errors.joined();
  EXPECT_TRUE(any_contains(errors, "'this-name-is-too-long' is not a valid interface name")) << errors.joined();
  for (std::size_t i = 0; i < errors.messages().size(); ++i) EXPECT_EQ(where(errors, i), "h.conf:5:");
}

TEST(DaemonConfig, SyntaxErrorHasLine) {
  Errors errors;
  EXPECT_FALSE(load_config_string("[daemon]\nname = \"h\"\nlisten = \n", "h.conf", errors));
  ASSERT_EQ(errors.messages().size(), 1u);
  EXPECT_EQ(where(errors, 0), "h.conf:3:") << errors.joined();
}

TEST(DaemonConfig, PeerNames) {
  using segbridge::daemon::valid_peer_name;
  EXPECT_TRUE(valid_peer_name("a"));
  EXPECT_TRUE(valid_peer_name("site-12"));
  EXPECT_TRUE(valid_peer_name("abcdefghijkl"));
  EXPECT_FALSE(valid_peer_name("abcdefghijklm"));
  EXPECT_FALSE(valid_peer_name(""));
  EXPECT_FALSE(valid_peer_name("-a"));
  EXPECT_FALSE(valid_peer_name("Site"));
  EXPECT_FALSE(valid_peer_name("a_b"));
  EXPECT_FALSE(valid_peer_name("a.b"));
}

// The daemon's own name travels in PSK initiations and must equal the other
// side's [[peer]] name, so it follows the same rule.
TEST(DaemonConfig, DaemonNameFollowsThePeerNameRule) {
  auto load_named = [](const std::string& name, Errors& errors) {
    return load_config_string(
        "[daemon]\nname = \"" + name + "\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\n[[peer]]\nname = \"sitea\"\n",
        "h.conf", errors);
  };
  for (const char* good : {"frontend", "hub", "site-1", "abcdefghijkl"}) {
    Errors errors;
    EXPECT_TRUE(load_named(good, errors)) << good << ": " << errors.joined();
  }
  for (const char* bad : {"Frontend", "front_end", "abcdefghijklm", "-hub", "my.site", ""}) {
    Errors errors;
    EXPECT_FALSE(load_named(bad, errors)) << bad;
    EXPECT_TRUE(any_contains(
        errors, "h.conf:2:8: 'daemon.name': '" + std::string(bad) + "' must be 1-12 characters of a-z, 0-9"))
        << errors.joined();
  }
}

TEST(DaemonConfig, SameAsDetectsChanges) {
  Errors errors;
  auto c = load_config_string(kHub, "hub.conf", errors);
  ASSERT_TRUE(c);
  auto p = c->peers[0];
  EXPECT_TRUE(p.same_as(c->peers[0]));
  p.keepalive_s = 5;
  EXPECT_FALSE(p.same_as(c->peers[0]));
}

TEST(DaemonConfig, FrameFilterKeys) {
  Errors errors;
  auto c = load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\nhandshake = \"psk\"\n"
      "[[peer]]\nname = \"a\"\nfilter_syslog = false\nallowed_source_macs = [\"52:54:00:12:34:56\"]\n"
      "allowed_ouis = [\"52:54:01\"]\nallowed_ethertypes = [\"0x0800\", \"arp\", \"ipv6\"]\n"
      "[[peer]]\nname = \"b\"\n",
      "h.conf", errors);
  ASSERT_TRUE(c) << errors.joined();
  const auto& a = c->peers[0].filter;
  EXPECT_FALSE(a.allow_dhcp_server);  // a hub trusts no site's DHCP server by default
  EXPECT_FALSE(a.drop_syslog);
  ASSERT_EQ(a.allowed_source_macs.size(), 1u);
  EXPECT_EQ(a.allowed_source_macs[0].to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(a.allowed_ouis, std::vector<std::uint32_t>{0x525401});
  EXPECT_EQ(a.allowed_ethertypes, (std::vector<std::uint16_t>{0x0800, 0x0806, 0x86dd}));
  EXPECT_TRUE(c->peers[1].filter.drop_syslog);
  EXPECT_FALSE(c->peers[0].same_as(c->peers[1]));

  Errors e2;
  auto spoke = load_config_string(
      "[daemon]\nname = \"s\"\nrole = \"spoke\"\npsk_file = \"/k\"\n[[peer]]\nname = \"hub\"\nendpoint = "
      "\"192.0.2.1:1\"\n",
      "s.conf", e2);
  ASSERT_TRUE(spoke) << e2.joined();
  EXPECT_TRUE(spoke->peers[0].filter.allow_dhcp_server);  // the hub is the DHCP authority

  Errors e3;
  EXPECT_FALSE(
      load_config_string("[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\n[[peer]]\nname = \"a\"\n"
                         "allowed_source_macs = [\"zz:zz\"]\nallowed_ethertypes = [\"0x70000\"]\n",
                         "h.conf", e3));
  EXPECT_TRUE(any_contains(e3, "h.conf:7:")) << e3.joined();
  EXPECT_TRUE(any_contains(e3, "'zz:zz' is not a MAC address")) << e3.joined();
  EXPECT_TRUE(any_contains(e3, "h.conf:8:")) << e3.joined();
}

TEST(DaemonConfig, UserAndGroupAndOffload) {
  Errors errors;
  auto c = load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\nuser = \"nobody\"\ngroup = "
      "\"nogroup\"\ntap_offload = false\n",
      "h.conf", errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->user, "nobody");
  EXPECT_EQ(c->group, "nogroup");
  EXPECT_FALSE(c->tap_offload);
  Errors e2;
  EXPECT_FALSE(load_config_string("[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\ngroup = \"x\"\n",
                                  "h.conf", e2));
  EXPECT_TRUE(any_contains(e2, "h.conf:5:")) << e2.joined();
  Errors e3;
  auto d = load_config_string("[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\n", "h.conf", e3);
  ASSERT_TRUE(d) << e3.joined();
  EXPECT_TRUE(d->tap_offload);
}

TEST(DaemonConfig, TapOffloadSwitch) {
  Errors errors;
  auto on = load_config_string("[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\n", "h.conf", errors);
  ASSERT_TRUE(on) << errors.joined();
  EXPECT_TRUE(on->tap_offload);
  auto off = load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\ntap_offload = false\n", "h.conf", errors);
  ASSERT_TRUE(off) << errors.joined();
  EXPECT_FALSE(off->tap_offload);
  Errors e2;
  EXPECT_FALSE(load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\ntap_offload = \"yes\"\n", "h.conf", e2));
  EXPECT_TRUE(any_contains(e2, "h.conf:5:")) << e2.joined();
}

TEST(DaemonConfig, TxCoalesceSwitch) {
  Errors errors;
  auto on = load_config_string("[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\n", "h.conf", errors);
  ASSERT_TRUE(on) << errors.joined();
  EXPECT_TRUE(on->tx_coalesce);
  auto off = load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\ntx_coalesce = false\n", "h.conf", errors);
  ASSERT_TRUE(off) << errors.joined();
  EXPECT_FALSE(off->tx_coalesce);
  EXPECT_TRUE(off->tap_offload);  // independent switches
  Errors e2;
  EXPECT_FALSE(load_config_string(
      "[daemon]\nname = \"h\"\nlisten = \"0.0.0.0:1\"\npsk_file = \"/k\"\ntx_coalesce = 1\n", "h.conf", e2));
  EXPECT_TRUE(any_contains(e2, "h.conf:5:")) << e2.joined();
}
