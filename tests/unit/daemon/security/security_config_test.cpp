// segbridged.conf keys of the security work: handshake mode, private key,
// peer public keys, per-peer frame filters (role-dependent defaults) and
// privilege dropping — all with file:line errors.
#include <gtest/gtest.h>

#include "segbridge/crypto/key_file.hpp"
#include "service/config.hpp"

namespace segbridge::daemon {
namespace {

const std::string kPub = "s0A5Z5MWeK/B//iNl1uspBXysbTyIYrzw5Oz4qXupxs=";

std::string hub(const std::string& daemon_extra, const std::string& peer_extra) {
  return "[daemon]\nname = \"frontend\"\nrole = \"hub\"\nlisten = \"0.0.0.0:7440\"\n" + daemon_extra +
         "\n[[peer]]\nname = \"sitea\"\n" + peer_extra;
}

std::optional<DaemonConfig> load(const std::string& text, config::Errors& errors) {
  return load_config_string(text, "t.conf", errors);
}

TEST(SecurityConfig, NoiseIkIsTheModeWhenAPrivateKeyIsConfigured) {
  config::Errors errors;
  auto c = load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\n"), errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->handshake, Handshake::noise_ik);
  EXPECT_EQ(c->private_key_file, "/k");
  ASSERT_EQ(c->peers.size(), 1u);
  EXPECT_EQ(*c->peers[0].public_key, kPub);
  EXPECT_TRUE(c->peers[0].psk_file.empty());  // psk2 is optional
  EXPECT_TRUE(c->user.empty());
  EXPECT_EQ(c->keep_capabilities, std::vector<std::string>{"CAP_NET_ADMIN"});
}

TEST(SecurityConfig, LegacyPskModeWithoutAPrivateKey) {
  config::Errors errors;
  auto c = load(hub("psk_file = \"/p\"\n", ""), errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->handshake, Handshake::psk);
}

TEST(SecurityConfig, NoiseIkErrorsNameTheLine) {
  config::Errors errors;
  EXPECT_FALSE(load(hub("handshake = \"noise-ik\"\n", ""), errors));
  EXPECT_NE(errors.joined().find("t.conf:5:"), std::string::npos) << errors.joined();
  EXPECT_NE(errors.joined().find("needs 'private_key_file'"), std::string::npos) << errors.joined();
  EXPECT_NE(errors.joined().find("needs this peer's public key"), std::string::npos) << errors.joined();

  config::Errors bad;
  EXPECT_FALSE(load(hub("private_key_file = \"/k\"\n", "public_key = \"AAAA\"\n"), bad));
  EXPECT_NE(bad.joined().find("t.conf:9:"), std::string::npos) << bad.joined();
  EXPECT_NE(bad.joined().find("not a base64 32-byte public key"), std::string::npos);

  config::Errors mode;
  EXPECT_FALSE(load(hub("handshake = \"wireguard\"\n", ""), mode));
  EXPECT_NE(mode.joined().find("noise-ik"), std::string::npos) << mode.joined();
}

TEST(SecurityConfig, FilterDefaultsDependOnTheRole) {
  config::Errors errors;
  auto h = load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\n"), errors);
  ASSERT_TRUE(h) << errors.joined();
  EXPECT_FALSE(h->peers[0].filter.allow_dhcp_server);  // a hub filters its spokes
  EXPECT_TRUE(h->peers[0].filter.drop_syslog);

  auto s = load(
      "[daemon]\nname = \"sitea\"\nrole = \"spoke\"\nprivate_key_file = \"/k\"\n[[peer]]\nname = "
      "\"hub\"\nendpoint = \"192.0.2.1:7440\"\npublic_key = \"" +
          kPub + "\"\n",
      errors);
  ASSERT_TRUE(s) << errors.joined();
  EXPECT_TRUE(s->peers[0].filter.allow_dhcp_server);  // the frontend's dhcpd serves the remote nodes
  EXPECT_FALSE(s->peers[0].filter.drop_syslog);
}

TEST(SecurityConfig, FilterListsAreParsedAndCheckedPerEntry) {
  config::Errors errors;
  auto c =
      load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub +
                                                  "\"\nallow_dhcp_server = true\nfilter_syslog = false\n"
                                                  "allowed_source_macs = [\"52:54:00:12:34:56\"]\n"
                                                  "allowed_ouis = [\"00:25:90\"]\n"
                                                  "allowed_ethertypes = [\"ipv4\", \"arp\", \"0x86DD\", \"llc\"]\n"),
           errors);
  ASSERT_TRUE(c) << errors.joined();
  const auto& f = c->peers[0].filter;
  EXPECT_TRUE(f.allow_dhcp_server);
  EXPECT_FALSE(f.drop_syslog);
  ASSERT_EQ(f.allowed_source_macs.size(), 1u);
  EXPECT_EQ(f.allowed_source_macs[0].to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(f.allowed_ouis, std::vector<std::uint32_t>{0x002590});
  EXPECT_EQ(f.allowed_ethertypes, (std::vector<std::uint16_t>{0x0800, 0x0806, 0x86dd, 0}));

  config::Errors bad;
  EXPECT_FALSE(load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub +
                                                           "\"\nallowed_source_macs = [\"zz\"]\n"
                                                           "allowed_ouis = [\"52:54\"]\n"
                                                           "allowed_ethertypes = [\"0x0005\", \"0x10000\"]\n"),
                    bad));
  EXPECT_EQ(bad.messages().size(), 4u) << bad.joined();
}

TEST(SecurityConfig, PrivilegeDropSettings) {
  config::Errors errors;
  auto c = load(hub("psk_file = \"/p\"\nuser = \"nobody\"\ngroup = \"nogroup\"\nkeep_capabilities = []\n", ""), errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->user, "nobody");
  EXPECT_EQ(c->group, "nogroup");
  EXPECT_TRUE(c->keep_capabilities.empty());

  config::Errors bad;
  EXPECT_FALSE(load(hub("psk_file = \"/p\"\ngroup = \"x\"\nkeep_capabilities = [\"CAP_FLY\"]\n", ""), bad));
  EXPECT_NE(bad.joined().find("'CAP_FLY' is not a capability name"), std::string::npos) << bad.joined();
  EXPECT_NE(bad.joined().find("'group' needs 'user'"), std::string::npos) << bad.joined();
}

TEST(SecurityConfig, ChangedFiltersOrKeysRebuildThePeerOnReload) {
  config::Errors errors;
  auto a = load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\n"), errors);
  auto b =
      load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\nallow_dhcp_server = true\n"), errors);
  ASSERT_TRUE(a && b) << errors.joined();
  EXPECT_TRUE(a->peers[0].same_as(a->peers[0]));
  EXPECT_FALSE(a->peers[0].same_as(b->peers[0]));
}

TEST(SecurityConfig, RekeyAfterTimeIsBoundedAndDefaultsToWireGuards) {
  config::Errors errors;
  auto c = load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\n"), errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->rekey_after_time_s, 120u);
  auto fast = load(hub("private_key_file = \"/k\"\nrekey_after_time = 5\n", "public_key = \"" + kPub + "\"\n"), errors);
  ASSERT_TRUE(fast) << errors.joined();
  EXPECT_EQ(fast->rekey_after_time_s, 5u);
  config::Errors bad;
  EXPECT_FALSE(
      load(hub("private_key_file = \"/k\"\nrekey_after_time = 600\n", "public_key = \"" + kPub + "\"\n"), bad));
  EXPECT_NE(bad.joined().find("rekey_after_time"), std::string::npos) << bad.joined();
}

}  // namespace
}  // namespace segbridge::daemon
