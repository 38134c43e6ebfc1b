// Key files: base64 round trips, and refusal of files anyone but root could
// read or replace.
#include "segbridge/crypto/key_file.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace segbridge::crypto {
namespace {

namespace fs = std::filesystem;

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/segbridge-keyfile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    policy_.expected_owner = ::geteuid();  // root in CI; the running user elsewhere
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string load_error(const std::string& path) {
    try {
      load_key_file(path, "private key", policy_);
    } catch (const KeyFileError& e) {
      return e.what();
    }
    return "";
  }

  std::string dir_;
  KeyFilePolicy policy_;
};

TEST_F(KeyFile, GenkeyPubkeyRoundTrip) {
  const std::string priv = generate_private_key_base64();
  ASSERT_EQ(priv.size(), 44u);
  auto key = secret_key_from_base64(priv);
  ASSERT_TRUE(key);
  // Stored clamped, like WireGuard keys.
  EXPECT_EQ(key->data()[0] & 7, 0);
  EXPECT_EQ(key->data()[31] & 0xc0, 0x40);

  std::istringstream in(priv + "\n");
  std::ostringstream out, err;
  ASSERT_EQ(run_pubkey(in, out, err), 0) << err.str();
  const PublicKey expected = x25519_public_key(key->data());
  EXPECT_EQ(out.str(), key_to_base64(expected.data()) + "\n");
  EXPECT_NE(generate_private_key_base64(), priv);
}

TEST_F(KeyFile, PubkeyRejectsGarbage) {
  const std::vector<std::string> bads = {"", "not base64 at all", "AAAA", std::string(45, 'A'),
                                         std::string(43, '!') + "="};
  for (const std::string& bad : bads) {
    std::istringstream in(bad);
    std::ostringstream out, err;
    EXPECT_EQ(run_pubkey(in, out, err), 1) << bad;
    EXPECT_TRUE(out.str().empty());
    EXPECT_NE(err.str().find("not a base64 32-byte private key"), std::string::npos);
  }
}

TEST_F(KeyFile, LoadsA0600KeyWithTrailingNewline) {
  const std::string b64 = generate_private_key_base64();
  const std::string path = write("key", b64 + "\n", 0600);
  SecretKey k = load_key_file(path, "private key", policy_);
  EXPECT_EQ(key_to_base64(k.data()), b64);
  ::chmod(path.c_str(), 0400);
  EXPECT_NO_THROW(load_key_file(path, "private key", policy_));
}

TEST_F(KeyFile, RefusesGroupOrWorldAccessibleFiles) {
  const std::string b64 = generate_private_key_base64();
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602, 0620, 0700}) {
    const std::string path = write("key", b64, mode);
    const std::string err = load_error(path);
    if (mode == 0700) {
      // Executable by its owner only: odd, but nobody else can read it.
      EXPECT_EQ(err, "");
      continue;
    }
    EXPECT_NE(err.find("mode 0" + std::to_string(mode / 64) + std::to_string(mode / 8 % 8) + std::to_string(mode % 8)),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("chmod 600 " + path), std::string::npos) << err;
  }
}

TEST_F(KeyFile, RefusesFilesNotOwnedByRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const std::string path = write("key", generate_private_key_base64(), 0600);
  ASSERT_EQ(::chown(path.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  KeyFilePolicy root_only;  // the daemon's policy: owner must be root
  try {
    load_key_file(path, "private key", root_only);
    FAIL() << "a key owned by nobody was accepted";
  } catch (const KeyFileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("owned by uid " + std::to_string(nobody->pw_uid)), std::string::npos) << msg;
    EXPECT_NE(msg.find("must be owned by root"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
  }
  ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  EXPECT_NO_THROW(load_key_file(path, "private key", root_only));
}

TEST_F(KeyFile, RefusesSymlinksDirectoriesMissingAndMalformedFiles) {
  const std::string real = write("real", generate_private_key_base64(), 0600);
  const std::string link = dir_ + "/link";
  fs::create_symlink(real, link);
  EXPECT_NE(load_error(link).find("symbolic link"), std::string::npos);
  fs::create_directory(dir_ + "/d");
  ::chmod((dir_ + "/d").c_str(), 0700);
  EXPECT_NE(load_error(dir_ + "/d").find("not a regular file"), std::string::npos);
  EXPECT_NE(load_error(dir_ + "/missing").find("cannot open"), std::string::npos);
  EXPECT_NE(load_error(write("short", "AAAA\n", 0600)).find("not a base64 32-byte key"), std::string::npos);
  EXPECT_NE(load_error(write("big", std::string(4096, 'A'), 0600)).find("too large"), std::string::npos);
  EXPECT_NE(load_error(write("two", generate_private_key_base64() + "\n" + generate_private_key_base64(), 0600))
                .find("not a base64 32-byte key"),
            std::string::npos);
}

TEST(SecretKeyMemory, MovesAndExplicitCopies) {
  SecretKey a;
  EXPECT_TRUE(a.is_zero());
  a.data()[0] = 5;
  SecretKey b = a.copy();
  EXPECT_EQ(b.data()[0], 5);
  SecretKey c = std::move(a);
  EXPECT_EQ(c.data()[0], 5);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  Wiped<8> w;
  w[0] = 1;
  Wiped<8> moved = std::move(w);
  EXPECT_EQ(moved[0], 1);
  EXPECT_TRUE(w.is_zero());  // NOLINT(bugprone-use-after-move): moving wipes the source
}

}  // namespace
}  // namespace segbridge::crypto
