// Privilege dropping, checked the way an operator would: in a forked child,
// read /proc/self/status after the drop.
#include "os/privileges.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>

namespace segbridge::os {
namespace {

std::map<std::string, std::string> proc_status() {
  std::map<std::string, std::string> fields;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

// Runs `body` in a child; returns what it wrote to the pipe ("" = success).
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string result;
    try {
      result = body();
    } catch (const std::exception& e) {
      result = std::string("exception: ") + e.what();
    }
    (void)!::write(fds[1], result.data(), result.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += " (child died)";
  return out;
}

std::string nobody_uid() {
  const passwd* pw = ::getpwnam("nobody");
  return pw ? std::to_string(pw->pw_uid) : "?";
}

class Privileges : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "dropping privileges needs root";
    if (::getpwnam("nobody") == nullptr) GTEST_SKIP() << "no user 'nobody'";
  }
};

TEST_F(Privileges, DropToNobodyWithNoCapabilities) {
  const std::string result = in_child([] {
    drop_privileges({"nobody", "", {}});
    auto st = proc_status();
    const std::string u = nobody_uid();
    if (st["Uid"] != u + "\t" + u + "\t" + u + "\t" + u) return "Uid: " + st["Uid"];
    if (st["CapEff"] != "0000000000000000") return "CapEff: " + st["CapEff"];
    if (st["CapPrm"] != "0000000000000000") return "CapPrm: " + st["CapPrm"];
    if (st["CapBnd"] != "0000000000000000") return "CapBnd: " + st["CapBnd"];
    if (st["NoNewPrivs"] != "1") return "NoNewPrivs: " + st["NoNewPrivs"];
    if (st["Groups"] != "") return "Groups: " + st["Groups"];
    if (::setuid(0) == 0) return std::string("regained root");
    return std::string();
  });
  EXPECT_EQ(result, "");
}

TEST_F(Privileges, KeepsOnlyTheListedCapabilities) {
  const std::string result = in_child([] {
    drop_privileges({"nobody", "nogroup", {"CAP_NET_ADMIN"}});
    auto st = proc_status();
    char want[17];
    std::snprintf(want, sizeof want, "%016llx", 1ULL << CAP_NET_ADMIN);
    if (st["CapEff"] != want) return "CapEff: " + st["CapEff"] + " want " + want;
    if (st["CapPrm"] != want) return "CapPrm: " + st["CapPrm"];
    const std::string u = nobody_uid();
    if (st["Uid"].rfind(u + "\t", 0) != 0) return "Uid: " + st["Uid"];
    return std::string();
  });
  EXPECT_EQ(result, "");
}

TEST_F(Privileges, RefusesUnknownUsersCapabilitiesAndRoot) {
  EXPECT_NE(in_child([] {
              drop_privileges({"no-such-user-segbridge", "", {}});
              return std::string();
            }).find("does not exist"),
            std::string::npos);
  EXPECT_NE(in_child([] {
              drop_privileges({"nobody", "", {"CAP_MAKE_COFFEE"}});
              return std::string();
            }).find("unknown capability"),
            std::string::npos);
  EXPECT_NE(in_child([] {
              drop_privileges({"root", "", {}});
              return std::string();
            }).find("is root"),
            std::string::npos);
  EXPECT_EQ(::geteuid(), 0u);  // the parent was never touched
}

TEST(CapabilityNames, AcceptBothSpellings) {
  EXPECT_EQ(capability_from_name("CAP_NET_ADMIN"), CAP_NET_ADMIN);
  EXPECT_EQ(capability_from_name("net_admin"), CAP_NET_ADMIN);
  EXPECT_EQ(capability_from_name("cap_net_bind_service"), CAP_NET_BIND_SERVICE);
  EXPECT_EQ(capability_from_name("bogus"), -1);
  EXPECT_EQ(capability_from_name(""), -1);
}

}  // namespace
}  // namespace segbridge::os
