// main() for GoogleTest integration tests: moves the whole test process into
// a fresh, private network namespace (so nothing it creates can touch the
// host's interfaces, and everything vanishes when it exits), or skips when
// that is impossible.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr int kSkipExitCode = 77;  // ctest SKIP_RETURN_CODE

int skip_or_fail(const std::string& why) {
  const char* require = std::getenv("SEGBRIDGE_REQUIRE_INTEGRATION");
  if (require && std::string(require) == "1") {
    std::fprintf(stderr, "FAILED: integration test cannot run (%s) and SEGBRIDGE_REQUIRE_INTEGRATION=1\n", why.c_str());
    return 1;
  }
  std::fprintf(stderr, "SKIPPED: integration test needs root and network namespaces: %s\n", why.c_str());
  return kSkipExitCode;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (geteuid() != 0) return skip_or_fail("not running as root");
  if (unshare(CLONE_NEWNET) != 0) return skip_or_fail(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
  return RUN_ALL_TESTS();
}
