// The handshake run with fixed keys, ephemerals and clock must reproduce the
// checked-in bytes exactly: any change to the construction is caught here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "noise_vectors.hpp"
#include "segbridge/crypto/handshake_messages.hpp"

namespace segbridge::crypto::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(NoiseVectors, HandshakeReproducesCheckedInBytes) {
  const std::string path = std::string(SEGBRIDGE_VECTOR_DIR) + "/noise_ik_v1.txt";
  const VectorEntries expected = parse_vectors(read_file(path));
  ASSERT_FALSE(expected.empty()) << "cannot read " << path;
  const VectorEntries actual = generate_noise_vectors();
  std::map<std::string, std::string> got(actual.begin(), actual.end());
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [name, hex] : expected) {
    ASSERT_TRUE(got.count(name)) << name;
    EXPECT_EQ(got[name], hex) << name << " differs from " << path;
  }
  std::map<std::string, std::string> want(expected.begin(), expected.end());
  EXPECT_EQ(want["initiation"].size(), 2 * kInitiationSize);
  EXPECT_EQ(want["response"].size(), 2 * kResponseSize);
  EXPECT_EQ(want["cookie_reply"].size(), 2 * kCookieReplySize);
  EXPECT_EQ(want["spoke_send_key"], want["hub_receive_key"]);
  EXPECT_EQ(want["spoke_receive_key"], want["hub_send_key"]);
  // No cookie held yet: mac2 is zero; with the cookie it is not.
  EXPECT_EQ(want["initiation"].substr(2 * initiation::mac2), std::string(32, '0'));
  EXPECT_NE(want["initiation_with_mac2"].substr(2 * initiation::mac2), std::string(32, '0'));
}

}  // namespace
}  // namespace segbridge::crypto::test
