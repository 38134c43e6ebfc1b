// segbridged.conf keys of the security work: handshake mode, private key,
// peer public keys, capabilities kept after the privilege drop, the rekey
// knob — all with file:line errors. (Frame filter keys: tests/unit/daemon/config_test.cpp.)
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

TEST(SecurityConfig, PrivilegeDropSettings) {
  config::Errors errors;
  auto c = load(hub("psk_file = \"/p\"\nuser = \"nobody\"\ngroup = \"nogroup\"\nkeep_capabilities = []\n", ""), errors);
  ASSERT_TRUE(c) << errors.joined();
  EXPECT_EQ(c->user, "nobody");
  EXPECT_EQ(c->group, "nogroup");
  EXPECT_TRUE(c->keep_capabilities.empty());
  auto d = load(hub("psk_file = \"/p\"\nuser = \"nobody\"\n", ""), errors);
  ASSERT_TRUE(d) << errors.joined();
  EXPECT_EQ(d->keep_capabilities, std::vector<std::string>{"CAP_NET_ADMIN"});  // and no CAP_DAC_READ_SEARCH

  config::Errors bad;
  EXPECT_FALSE(load(hub("psk_file = \"/p\"\ngroup = \"x\"\nkeep_capabilities = [\"CAP_FLY\"]\n", ""), bad));
  EXPECT_NE(bad.joined().find("'CAP_FLY' is not a capability name"), std::string::npos) << bad.joined();
  EXPECT_NE(bad.joined().find("only makes sense with 'user'"), std::string::npos) << bad.joined();
}

TEST(SecurityConfig, ChangedFiltersMakeADifferentPeerConfig) {
  config::Errors errors;
  auto a = load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\n"), errors);
  auto b =
      load(hub("private_key_file = \"/k\"\n", "public_key = \"" + kPub + "\"\nallow_dhcp_server = true\n"), errors);
  ASSERT_TRUE(a && b) << errors.joined();
  EXPECT_TRUE(a->peers[0].same_as(a->peers[0]));
  EXPECT_FALSE(a->peers[0].same_as(b->peers[0]));
}

}  // namespace
}  // namespace segbridge::daemon
