#include "service/key_file.hpp"

#include "segbridge/core/key_encoding.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

using namespace segbridge::daemon;

namespace {
std::string temp_file(const std::string& content, mode_t mode) {
  char path[] = "/tmp/segbridge-keytest-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  fchmod(fd, mode);
  close(fd);
  return path;
}
}  // namespace

using segbridge::core::generate_key_base64;

TEST(KeyFile, RefusesReadableByOthersAndGarbage) {
  ASSERT_GE(sodium_init(), 0);
  std::string error;
  std::string text = generate_key_base64();
  auto good = temp_file(text + "\n", 0600);
  auto key = read_key_file(good, error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(segbridge::core::encode_key_base64(*key), text);
  auto loose = temp_file(generate_key_base64() + "\n", 0644);
  EXPECT_FALSE(read_key_file(loose, error));
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
  auto junk = temp_file("hello\n", 0600);
  EXPECT_FALSE(read_key_file(junk, error));
  EXPECT_NE(error.find("genkey"), std::string::npos) << error;
  EXPECT_FALSE(read_key_file("/nonexistent/segbridge.psk", error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
  for (const auto& p : {good, loose, junk}) std::remove(p.c_str());
}
