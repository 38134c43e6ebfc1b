// Config parsing/validation and the feeders' exact output.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "feeders.hpp"
#include "rocks_private_interface.hpp"
#include "shim_config.hpp"

using namespace segbridge;
using namespace segbridge::shim;

namespace {

std::vector<std::string> tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> t;
  std::string w;
  while (in >> w) t.push_back(w);
  return t;
}

// insert-ethers' listenDhcp() rules (ROCKS.md §1.1), applied to a line.
bool insert_ethers_accepts(const std::string& line, const std::string& mac, const std::string& private_if) {
  auto t = tokens(line);
  if (t.size() <= 9) return false;
  if (t[4] != "dhcpd:") return false;
  if (t[5] != "DHCPDISCOVER" && t[5] != "BOOTREQUEST") return false;
  std::string iface = t[9];
  iface.erase(std::remove(iface.begin(), iface.end(), ':'), iface.end());
  return t[7] == mac && iface == private_if;
}

std::optional<ShimConfig> parse(const std::string& text, config::Errors& errors) {
  return parse_shim_config(text, "test.conf", errors);
}

}  // namespace

TEST(ShimConfig, DefaultsMatchTheContract) {
  config::Errors e;
  auto c = parse("", e);
  ASSERT_TRUE(c) << e.joined();
  EXPECT_EQ(c->interfaces, std::vector<std::string>{"br0"});
  EXPECT_EQ(c->private_interface, "eth0");
  EXPECT_EQ(c->ledger, "/var/lib/insert-ethers-shim/ledger.db");
  EXPECT_EQ(c->feeder, FeederKind::syslog);
  EXPECT_EQ(c->syslog_socket, "/dev/log");
  EXPECT_EQ(c->lock_file, "/var/lock/insert-ethers");
  EXPECT_EQ(c->registered_check, "rocks list host interface");
  EXPECT_EQ(c->tunnel_port_prefix, "sb-");
  EXPECT_EQ(c->announce_local, AnnounceLocal::automatic);
  EXPECT_TRUE(c->pxe_only);
}

TEST(ShimConfig, FullExample) {
  config::Errors e;
  auto c = parse(R"(
interfaces = ["br0", "br1"]
private_interface = "eth1"
ledger = "/tmp/x.db"
feeder = "exec"
exec_command = ["/usr/bin/provision", "--add"]
lock_file = ""
registered_check = "cat /tmp/reg"
announce_local = "always"
tunnel_port_prefix = "tun-"
[guards]
pxe_only = false
new_macs_per_minute = 5
max_pending = 7
deny = ["de:ad:be"]
[site.siteA]
allow = ["52:54:00"]
[site.local]
deny = ["52:54:00:00:00:01"]
)",
                 e);
  ASSERT_TRUE(c) << e.joined();
  EXPECT_EQ(c->interfaces.size(), 2u);
  EXPECT_EQ(c->feeder, FeederKind::exec);
  EXPECT_EQ(c->exec_command[1], "--add");
  EXPECT_EQ(c->announce_local, AnnounceLocal::always);
  EXPECT_FALSE(c->pxe_only);
  EXPECT_EQ(c->new_macs_per_minute, 5);
  EXPECT_EQ(c->global_filter.deny.size(), 1u);
  EXPECT_EQ(c->site_filters["siteA"].allow.size(), 1u);
  EXPECT_EQ(c->site_filters["local"].deny.size(), 1u);
}

TEST(ShimConfig, ErrorsCarryFileLineAndAreAllReported) {
  config::Errors e;
  auto c = parse(
      "feeder = \"carrier-pigeon\"\nannounce_local = \"maybe\"\ntypo_key = 1\n[guards]\nmax_pending = -3\n"
      "deny = [\"zz:zz\"]\n",
      e);
  EXPECT_FALSE(c);
  const std::string all = e.joined();
  EXPECT_NE(all.find("test.conf:1:"), std::string::npos) << all;
  EXPECT_NE(all.find("carrier-pigeon"), std::string::npos) << all;
  EXPECT_NE(all.find("test.conf:2:"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown key 'typo_key'"), std::string::npos) << all;
  EXPECT_NE(all.find("guards.max_pending"), std::string::npos) << all;
  EXPECT_NE(all.find("zz:zz"), std::string::npos) << all;
  EXPECT_GE(e.messages().size(), 5u);
}

TEST(ShimConfig, FeederNeedsItsTarget) {
  config::Errors e;
  EXPECT_FALSE(parse("feeder = \"file\"\n", e));
  EXPECT_NE(e.joined().find("feed_file"), std::string::npos);
  config::Errors e2;
  EXPECT_FALSE(parse("feeder = \"exec\"\n", e2));
  EXPECT_NE(e2.joined().find("exec_command"), std::string::npos);
  config::Errors e3;
  EXPECT_FALSE(parse("interfaces = []\n", e3));
  config::Errors e4;
  EXPECT_FALSE(parse("private_interface = \"a/b\"\n", e4));
}

TEST(SyslogLine, DatagramIsRfc3164WithBareDhcpdTag) {
  const std::string msg = discover_message(*MacAddress::parse("52:54:00:AB:cd:01"), "eth0");
  EXPECT_EQ(msg, "DHCPDISCOVER from 52:54:00:ab:cd:01 via eth0");
  const std::string d = syslog_datagram(msg, 0);
  EXPECT_EQ(d.rfind("<30>", 0), 0u) << d;  // facility daemon (3) * 8 + info (6)
  EXPECT_NE(d.find(" dhcpd: DHCPDISCOVER from 52:54:00:ab:cd:01 via eth0"), std::string::npos) << d;
  EXPECT_EQ(d.find('['), std::string::npos) << "no PID in the tag: " << d;
  // "Mmm dd hh:mm:ss" = 15 characters after the PRI.
  EXPECT_EQ(d[4 + 15], ' ');
}

TEST(SyslogLine, TraditionalLinePassesInsertEthersRules) {
  for (std::time_t t : {std::time_t{0}, std::time_t{1700000000}, std::time_t{1701388800}}) {  // day < 10 too
    const std::string line =
        traditional_log_line(discover_message(*MacAddress::parse("52:54:00:12:34:56"), "eth0"), t, "frontend");
    EXPECT_TRUE(insert_ethers_accepts(line, "52:54:00:12:34:56", "eth0")) << line;
    EXPECT_FALSE(insert_ethers_accepts(line, "52:54:00:12:34:56", "br0")) << line;
  }
}

TEST(Feeders, SyslogFeederSendsOneDatagram) {
  char tmpl[] = "/tmp/shim-feed-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/log.sock";
  int s = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  SyslogFeeder f(path, "eth0");
  LedgerEntry e;
  e.mac = *MacAddress::parse("52:54:00:12:34:56");
  std::string err;
  ASSERT_EQ(f.announce(e, err), FeedResult::done) << err;
  char buf[512];
  ssize_t n = ::recv(s, buf, sizeof buf, MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  std::string got(buf, static_cast<size_t>(n));
  EXPECT_EQ(got.rfind("<30>", 0), 0u);
  EXPECT_NE(got.find("dhcpd: DHCPDISCOVER from 52:54:00:12:34:56 via eth0"), std::string::npos);
  ::close(s);
  std::filesystem::remove_all(dir);
  // No listener: a clear failure, so the MAC stays pending.
  EXPECT_EQ(f.announce(e, err), FeedResult::failed);
  EXPECT_NE(err.find(path), std::string::npos);
}

TEST(Feeders, SyslogFeederFallsBackToAStreamSocket) {
  char tmpl[] = "/tmp/shim-feed-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/log.sock";
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 4), 0);
  SyslogFeeder f(path, "eth0");
  LedgerEntry e;
  e.mac = *MacAddress::parse("52:54:00:12:34:57");
  std::string err;
  ASSERT_EQ(f.announce(e, err), FeedResult::done) << err;
  int c = ::accept(s, nullptr, nullptr);
  ASSERT_GE(c, 0);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = ::recv(c, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), '\0');
  EXPECT_NE(got.find("<30>"), std::string::npos);
  EXPECT_NE(got.find("dhcpd: DHCPDISCOVER from 52:54:00:12:34:57 via eth0"), std::string::npos) << got;
  ::close(c);
  ::close(s);
  std::filesystem::remove_all(dir);
}

TEST(Feeders, FileFeederAppendsAcceptedLines) {
  char tmpl[] = "/tmp/shim-feed-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  FileFeeder f(dir + "/messages", "eth0");
  LedgerEntry e;
  std::string err;
  e.mac = *MacAddress::parse("52:54:00:00:00:01");
  ASSERT_EQ(f.announce(e, err), FeedResult::done) << err;
  e.mac = *MacAddress::parse("52:54:00:00:00:02");
  ASSERT_EQ(f.announce(e, err), FeedResult::done) << err;
  std::ifstream in(dir + "/messages");
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_TRUE(insert_ethers_accepts(l1, "52:54:00:00:00:01", "eth0")) << l1;
  EXPECT_TRUE(insert_ethers_accepts(l2, "52:54:00:00:00:02", "eth0")) << l2;
  std::filesystem::remove_all(dir);
}

TEST(Feeders, ExecFeederPassesArgsAndEnv) {
  char tmpl[] = "/tmp/shim-feed-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  const std::string out = dir + "/out";
  ChildProcess child;
  ExecFeeder f(
      {"/bin/sh", "-c", "echo \"$1 $2 $3 $4 $SHIM_MAC $SHIM_SITE $SHIM_HOSTNAME\" > " + out, "prov"}, "eth0", 5,
      [&](const MacAddress&, ChildProcess p) { child = p; }, [] { return std::int64_t{0}; });
  LedgerEntry e;
  e.mac = *MacAddress::parse("52:54:00:00:00:09");
  e.site = "siteA";
  e.arch = "x64-efi";
  e.uuid = "u-u-i-d";
  e.hostname = "n9";
  std::string err;
  ASSERT_EQ(f.announce(e, err), FeedResult::started) << err;
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "52:54:00:00:00:09 siteA x64-efi u-u-i-d 52:54:00:00:00:09 siteA n9");
  std::filesystem::remove_all(dir);
}

TEST(Feeders, SpawnCapturesStdout) {
  ChildProcess c = spawn_child({"/bin/sh", "-c", "echo hello; echo world"}, {}, true, 0);
  ASSERT_GE(c.stdout_fd, 0);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  char buf[64];
  ssize_t n = ::read(c.stdout_fd, buf, sizeof buf);
  ::close(c.stdout_fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "hello\nworld\n");
}

// Column layout of `rocks list host interface` (Rocks 6/7; dashes for NULLs).
TEST(RocksPrivateInterface, ParsesTheFrontendsPrivateRow) {
  const std::string out =
      "HOST      SUBNET  IFACE MAC               IP          NETMASK       MODULE NAME     VLAN OPTIONS CHANNEL\n"
      "frontend: public  eth1  00:0c:29:00:00:01 192.0.2.10  255.255.255.0 ------ fe-pub   ---- ------- -------\n"
      "frontend: private br0   00:0c:29:00:00:02 10.1.1.1    255.255.0.0   ------ frontend ---- ------- -------\n";
  auto r = parse_rocks_private_interface(out);
  ASSERT_TRUE(r.device);
  EXPECT_EQ(*r.device, "br0");
  EXPECT_TRUE(r.problem.empty());
}

TEST(RocksPrivateInterface, ProblemsAreExplained) {
  EXPECT_FALSE(parse_rocks_private_interface("").device);
  auto r = parse_rocks_private_interface("HOST SUBNET IFACE\nfe: public eth1\n");
  EXPECT_FALSE(r.device);
  EXPECT_NE(r.problem.find("private"), std::string::npos);
  r = parse_rocks_private_interface("warning: x\nHOST SUBNET IFACE\nfe: private eth0\nfe: private eth2\n");
  ASSERT_TRUE(r.device);
  EXPECT_EQ(*r.device, "eth0");
  EXPECT_NE(r.problem.find("2 interfaces"), std::string::npos);
}

TEST(RocksPrivateInterface, QueryRunsTheCommand) {
  ShimConfig c;
  c.private_interface_from_rocks = true;
  c.rocks_interface_command = "printf 'HOST SUBNET IFACE MAC\\nfe: private eth7 --\\n'";
  std::string err, warn;
  ASSERT_TRUE(resolve_private_interface(c, err, warn)) << err;
  EXPECT_EQ(c.private_interface, "eth7");
  c.rocks_interface_command = "exit 3";
  EXPECT_FALSE(resolve_private_interface(c, err, warn));
  EXPECT_NE(err.find("failed"), std::string::npos) << err;
}
